/* test_defaults.c — the schema (lib/spec/schema.c) is the only place a default lives.
 *
 * For every model family, a spec that names no optional model key is typed (spec_from_tree)
 * and built (build_model). Then:
 *   1. every schema key with a default that applies to that spec reads, in the typed Spec, as
 *      the schema's default text says (a key the table below cannot read fails the test, so a
 *      new key needs its typed field named here);
 *   2. the built model's own config holds those values (build.c copies, never assigns);
 *   3. the same with every applicable key set to a value other than its default, so a value
 *      that some other file assigned would show as a difference;
 *   4. optim_defaults() (for code that builds an optimizer without a spec) agrees with the
 *      schema for every update rule. */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "autoencoder.h"
#include "build.h"
#include "fixtures.h"
#include "runcheck.h"
#include "rundata.h"
#include "spec/schema.h"
#include "spec/spec.h"
#include "testutil.h"

static char *tmp;

/* ---- reading a typed value back as text --------------------------------------------------- */

typedef enum { V_INT, V_I64, V_DOUBLE, V_BOOL, V_STR, V_CHOICE, V_NAMED, V_FN } ValueKind;

typedef struct Field {
    const char *key;
    ValueKind kind;
    size_t offset;                               /* into Spec */
    const char *(*name)(int v);                  /* V_NAMED: the enum's own names */
    void (*fn)(const Spec *s, char *out, size_t cap);   /* V_FN */
} Field;

#define NAMES(fn, T) \
    static const char *fn##_of(int v) { return fn((T)v); }
NAMES(act_name, Activation)
NAMES(noise_name, NoiseType)
NAMES(sparsity_name, SparsityType)
NAMES(rnn_form_name, RnnForm)
NAMES(gru_variant_name, GruVariant)
NAMES(seq_init_state_name, SeqInitState)
NAMES(seq_input_name, SeqInput)
NAMES(seq_head_name, SeqHead)
NAMES(loss_name, LossType)
NAMES(optim_name, OptimType)
NAMES(schedule_name, ScheduleType)
NAMES(scale_name, ScaleType)
NAMES(series_transform_name, SeriesTransform)

static void units_text(const Spec *s, char *out, size_t cap) {
    const RecurrentSpec *r = &s->model.rec;
    size_t len = (size_t)snprintf(out, cap, "[");
    for (int l = 0; l < r->n_layers && len < cap; l++)
        len += (size_t)snprintf(out + len, cap - len, "%s%d", l ? "," : "", r->units[l]);
    if (len < cap) snprintf(out + len, cap - len, "]");
}

static void eval_noise_text(const Spec *s, char *out, size_t cap) {
    snprintf(out, cap, "%s", s->evaluate.noise_from_model ? "model" : noise_name(s->evaluate.noise.type));
}

/* The model.type of a recurrent family that names its cell in model.cell. */
static void cell_text(const Spec *s, char *out, size_t cap) { snprintf(out, cap, "%s", cell_type_name(s->model.rec.cell)); }

#define AT(field) offsetof(Spec, field)
#define INT(k, f) {k, V_INT, AT(f), NULL, NULL}
#define I64(k, f) {k, V_I64, AT(f), NULL, NULL}
#define DBL(k, f) {k, V_DOUBLE, AT(f), NULL, NULL}
#define BOOL(k, f) {k, V_BOOL, AT(f), NULL, NULL}
#define STR(k, f) {k, V_STR, AT(f), NULL, NULL}
#define CHOICE(k, f) {k, V_CHOICE, AT(f), NULL, NULL}
#define NAMED(k, f, fn) {k, V_NAMED, AT(f), fn##_of, NULL}
#define FN(k, fn) {k, V_FN, 0, NULL, fn}

static const Field FIELDS[] = {
    I64("seed", seed), INT("threads", threads),
    I64("data.max_bytes", data.max_bytes), INT("data.seq_len", data.seq_len), CHOICE("data.bptt", data.bptt),
    BOOL("data.header", data.header), STR("data.dataset", data.dataset),
    INT("data.length", data.length), INT("data.train_size", data.train_size), INT("data.test_size", data.test_size),
    INT("data.copy_length", data.copy_length), INT("data.alphabet", data.alphabet),
    INT("data.min_length", data.min_length), INT("data.max_length", data.max_length), INT("data.digits", data.digits),
    BOOL("data.reversed_digits", data.reversed_digits), BOOL("data.as_sequence", data.as_sequence),
    STR("data.value_column", data.value_column), STR("data.date_column", data.date_column),
    INT("data.window", data.window), INT("data.horizon", data.horizon),
    NAMED("data.transform", data.transform, series_transform_name), DBL("data.test_fraction", data.test_fraction),
    NAMED("data.scale", data.scale, scale_name), BOOL("data.binarize", data.binarize),
    DBL("data.binarize_threshold", data.binarize_threshold), DBL("data.validation_fraction", data.validation_fraction),
    INT("data.limit", data.limit),
    NAMED("model.hidden.*.activation", model.ae.hidden_act[0], act_name),
    NAMED("model.g", model.ae.g, act_name), NAMED("model.f", model.ae.f, act_name), BOOL("model.tied", model.ae.tied),
    NAMED("model.noise.type", model.ae.noise.type, noise_name), DBL("model.noise.rate", model.ae.noise.rate),
    DBL("model.noise.sigma", model.ae.noise.sigma), NAMED("model.sparsity.type", model.ae.sparsity.type, sparsity_name),
    DBL("model.sparsity.target", model.ae.sparsity.target), DBL("model.sparsity.weight", model.ae.sparsity.weight),
    FN("model.cell", cell_text), FN("model.units", units_text),
    NAMED("model.form", model.rec.form, rnn_form_name), NAMED("model.activation", model.rec.activation, act_name),
    NAMED("model.variant", model.rec.variant, gru_variant_name), DBL("model.forget_bias", model.rec.forget_bias),
    CHOICE("model.recurrent_init", model.rec.recurrent_init), DBL("model.recurrent_gain", model.rec.recurrent_gain),
    DBL("model.dropout", model.rec.dropout), NAMED("model.initial_state", model.rec.initial_state, seq_init_state_name),
    NAMED("model.input", model.rec.input, seq_input_name), INT("model.embed_dim", model.rec.embed_dim),
    NAMED("model.head", model.rec.head, seq_head_name), INT("model.beam_width", model.rec.beam_width),
    NAMED("loss", loss, loss_name),
    NAMED("optimizer.type", optim.type, optim_name), DBL("optimizer.lr", optim.lr), DBL("optimizer.momentum", optim.momentum),
    BOOL("optimizer.nesterov", optim.nesterov), DBL("optimizer.beta1", optim.beta1), DBL("optimizer.beta2", optim.beta2),
    DBL("optimizer.alpha", optim.alpha), DBL("optimizer.eps", optim.eps), DBL("optimizer.weight_decay", optim.weight_decay),
    BOOL("optimizer.decoupled_weight_decay", optim.decoupled_weight_decay),
    NAMED("schedule.type", schedule.type, schedule_name), DBL("schedule.gamma", schedule.gamma),
    INT("schedule.step_size", schedule.step_size), DBL("schedule.min_lr", schedule.min_lr),
    I64("schedule.warmup_steps", schedule.warmup_steps),
    CHOICE("clip.type", clip), DBL("clip.threshold", clip_threshold),
    INT("train.epochs", train.epochs), INT("train.batch_size", train.batch_size),
    I64("train.max_steps_per_epoch", train.max_steps_per_epoch), BOOL("train.shuffle", train.shuffle),
    BOOL("train.drop_last", train.drop_last), INT("train.checkpoint_every", train.checkpoint_every),
    INT("train.keep_checkpoints", train.keep_checkpoints), CHOICE("train.on_nan", train.on_nan),
    I64("train.log_every", train.log_every), I64("train.eval_every", train.eval_every), STR("train.early_stopping.monitor", train.early_stopping.monitor),
    CHOICE("train.early_stopping.mode", train.early_stopping.mode),
    INT("train.early_stopping.patience", train.early_stopping.patience),
    DBL("train.early_stopping.min_delta", train.early_stopping.min_delta), BOOL("train.restore_best", train.restore_best),
    CHOICE("train.precision", train.precision), BOOL("train.recompute", train.recompute),
    INT("sample.every", sample.every), INT("sample.length", sample.length), DBL("sample.temperature", sample.temperature),
    STR("sample.prime", sample.prime),
    BOOL("evaluate.pca", evaluate.pca), INT("evaluate.kmeans", evaluate.kmeans),
    INT("evaluate.kmeans_restarts", evaluate.kmeans_restarts), BOOL("evaluate.corrupted_test", evaluate.corrupted_test),
    FN("evaluate.noise.type", eval_noise_text), DBL("evaluate.noise.rate", evaluate.noise.rate),
    DBL("evaluate.noise.sigma", evaluate.noise.sigma),
    STR("output.root", output_root),
};
/* Keys with a default that the typed Spec does not hold: the format version (checked, not kept). */
static const char *const NOT_TYPED[] = {"version"};

static const Field *field_of(const char *key) {
    for (size_t i = 0; i < sizeof FIELDS / sizeof FIELDS[0]; i++)
        if (strcmp(FIELDS[i].key, key) == 0) return &FIELDS[i];
    return NULL;
}

/* The typed value of f in s, as text in the schema's own spelling. */
static void typed_text(const Spec *s, const Field *f, char *out, size_t cap) {
    const char *at = (const char *)s + f->offset;
    switch (f->kind) {
    case V_INT: snprintf(out, cap, "%d", *(const int *)at); break;
    case V_I64: snprintf(out, cap, "%lld", (long long)*(const int64_t *)at); break;
    case V_DOUBLE: snprintf(out, cap, "%.17g", *(const double *)at); break;
    case V_BOOL: snprintf(out, cap, "%s", *(const int *)at ? "true" : "false"); break;
    case V_STR: snprintf(out, cap, "%s", at); break;
    case V_CHOICE: {
        char buf[64];
        const char *name = spec_choice(f->key, *(const int *)at, buf, sizeof buf);
        snprintf(out, cap, "%s", name ? name : "?");
        break;
    }
    case V_NAMED: snprintf(out, cap, "%s", f->name(*(const int *)at)); break;
    case V_FN: f->fn(s, out, cap); break;
    }
}

/* The schema's default text in the same spelling (numbers through strtod, quotes and spaces off). */
static void default_text(const SchemaKey *k, const Field *f, char *out, size_t cap) {
    const char *d = k->default_value;
    if (f->kind == V_DOUBLE) {
        snprintf(out, cap, "%.17g", strtod(d, NULL));
    } else if (f->kind == V_STR && d[0] == '"') {
        snprintf(out, cap, "%.*s", (int)strlen(d) - 2, d + 1);
    } else {
        size_t n = 0;
        for (const char *p = d; *p && n + 1 < cap; p++)
            if (*p != ' ') out[n++] = *p;
        out[n] = '\0';
    }
}

/* The key with "*" replaced by 0 (the first list item), as cfg_get reads it. */
static void first_item(const char *key, char *out, size_t cap) {
    size_t n = 0;
    for (const char *p = key; *p && n + 2 < cap; p++) {
        if (*p == '*') out[n++] = '0';
        else out[n++] = *p;
    }
    out[n] = '\0';
}

static int is_scalar_default(const SchemaKey *k) {
    if (!k->default_value || strcmp(k->default_value, "~") == 0) return 0;
    return k->kind != SK_MAP && k->kind != SK_LIST && k->kind != SK_ANY;
}

/* Part 1: every applicable key of the resolved spec reads as its schema default, unless the
 * spec text named it (the `named` keys). Returns how many keys were compared. */
static int check_typed_defaults(const Spec *s, const char *family, const char *const *named) {
    int compared = 0;
    for (int i = 0; i < SPEC_SCHEMA.count; i++) {
        const SchemaKey *k = &SPEC_SCHEMA.keys[i];
        if (!is_scalar_default(k)) continue;
        int skip = 0;
        for (const char *const *n = named; *n; n++) skip |= strcmp(*n, k->path) == 0;
        for (size_t j = 0; j < sizeof NOT_TYPED / sizeof NOT_TYPED[0]; j++) skip |= strcmp(NOT_TYPED[j], k->path) == 0;
        char path[256];
        first_item(k->path, path, sizeof path);
        if (skip || !cfg_get(s->tree, path)) continue;   /* named, or does not apply */
        const Field *f = field_of(k->path);
        if (strcmp(k->path, "model.input") == 0 || strcmp(k->path, "model.head") == 0 || strcmp(k->path, "loss") == 0) {
            /* auto, resolved from the data (autovalues.c): a value of its own, and auto as its
             * origin — unless the spec's text gave it (the specs here name their loss) */
            const CfgNode *n = cfg_get(s->tree, path);
            if (n->line > 0) continue;
            int settled = n->value && strcmp(n->value, "auto") != 0 && n->file && strncmp(n->file, "auto: ", 6) == 0;
            if (!settled) printf("\n  %s: %s was left as %s (from %s)\n", family, k->path, n->value, n->file);
            CU_ASSERT(settled);
            compared++;
            continue;
        }
        if (!f) {
            printf("\n  %s: schema key %s has a default but no typed field in test_defaults.c's table\n", family, k->path);
            CU_FAIL("a schema key without a typed field");
            continue;
        }
        char got[256], want[256];
        typed_text(s, f, got, sizeof got);
        default_text(k, f, want, sizeof want);
        if (strcmp(got, want) != 0) {
            printf("\n  %s: %s is %s in the typed spec, the schema's default is %s\n", family, k->path, got, want);
            CU_FAIL("a typed value differs from the schema's default");
        }
        compared++;
    }
    return compared;
}

/* Every typed field whose key the resolved tree holds reads as the tree's text: the values a
 * spec sets arrive in the typed Spec. Returns how many were compared. */
static int check_typed_matches_tree(const Spec *s, const char *family) {
    int compared = 0;
    for (size_t i = 0; i < sizeof FIELDS / sizeof FIELDS[0]; i++) {
        const Field *f = &FIELDS[i];
        char path[256], want[256], got[256];
        first_item(f->key, path, sizeof path);
        const CfgNode *n = cfg_get(s->tree, path);
        if (!n) continue;
        /* evaluate.noise.type model: the evaluation corrupts as the model does, whatever these say */
        if (s->evaluate.noise_from_model && strncmp(f->key, "evaluate.noise.", 15) == 0 && f->kind == V_DOUBLE) continue;
        if (n->kind == CFG_SEQ) {   /* model.units */
            size_t len = (size_t)snprintf(want, sizeof want, "[");
            for (int j = 0; j < cfg_len(s->tree, path); j++) {
                char item[300];
                snprintf(item, sizeof item, "%s.%d", path, j);
                len += (size_t)snprintf(want + len, sizeof want - len, "%s%s", j ? "," : "", cfg_str(s->tree, item));
            }
            snprintf(want + len, sizeof want - len, "]");
        } else if (f->kind == V_DOUBLE) {
            snprintf(want, sizeof want, "%.17g", strtod(n->value, NULL));
        } else {
            snprintf(want, sizeof want, "%s", n->value ? n->value : "");
        }
        typed_text(s, f, got, sizeof got);
        if (strcmp(got, want) != 0) {
            printf("\n  %s: %s is %s in the typed spec but %s in the spec\n", family, f->key, got, want);
            CU_FAIL("a typed value differs from the spec's");
        }
        compared++;
    }
    return compared;
}

/* ---- the families -------------------------------------------------------------------------- */

typedef struct Family {
    const char *name;
    const char *data;        /* the data block (what the data needs, nothing of the model) */
    const char *model;       /* model.type and the required keys */
    const char *loss;
    const char *named[4];    /* optional keys the spec names (data keys the family needs) */
} Family;

static void make_files(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/x.csv", tmp);
    FILE *f = fopen(path, "w");
    CU_ASSERT_FATAL(f != NULL);
    fprintf(f, "a,b,c,d\n");
    for (int i = 0; i < 40; i++) fprintf(f, "%g,%g,%g,%g\n", i * 0.02, 1 - i * 0.02, (i % 5) * 0.2, 0.5);
    fclose(f);
    snprintf(path, sizeof path, "%s/text.txt", tmp);
    f = fopen(path, "w");
    CU_ASSERT_FATAL(f != NULL);
    for (int i = 0; i < 200; i++) fprintf(f, "the quick brown fox %d jumps over the lazy dog\n", i);
    fclose(f);
    char images[1024], labels[1024];
    snprintf(images, sizeof images, "%s/img.idx", tmp);
    snprintf(labels, sizeof labels, "%s/lab.idx", tmp);
    CU_ASSERT_FATAL(fixture_write_idx(images, labels, 40, 6, 5, 3) == 0);
}

static const Family FAMILIES[] = {
    {"autoencoder", "{source: csv, path: x.csv}", "{type: autoencoder, code: 2}", "squared_error", {NULL}},
    {"rnn", "{source: text, path: text.txt}", "{type: rnn}", "softmax_cross_entropy", {NULL}},
    {"lstm", "{source: copy, train_size: 200, test_size: 20}", "{type: lstm}", "softmax_cross_entropy",
     {"data.train_size", "data.test_size", NULL}},
    {"gru", "{source: parity, train_size: 200, test_size: 20}", "{type: gru}", "softmax_cross_entropy",
     {"data.train_size", "data.test_size", NULL}},
    {"seq2seq", "{source: reverse, train_size: 200, test_size: 20}", "{type: seq2seq}", "softmax_cross_entropy",
     {"data.train_size", "data.test_size", NULL}},
    {"one_to_many", "{source: idx, path: img.idx, labels: lab.idx, as_sequence: true, scale: unit}",
     "{type: one_to_many}", "cross_entropy", {"data.as_sequence", "data.scale", NULL}},
};

static int load_spec(const char *text, Spec *s) {
    char path[1024];
    snprintf(path, sizeof path, "%s/spec.yaml", tmp);
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    fclose(f);
    CfgDiags d = {0};
    int rc = spec_load(path, NULL, 0, s, &d);
    for (int i = 0; i < d.count; i++) printf("\n  %s:%d:%d: %s: %s", d.items[i].file, d.items[i].line, d.items[i].col,
                                             d.items[i].path, d.items[i].message);
    cfg_diags_free(&d);
    return rc;
}

/* Part 2: the built model's config holds the typed spec's values. */
static void check_built(const Spec *s, const Model *m, const char *family) {
    const RecurrentSpec *r = &s->model.rec;
    int ok = 1;
    if (s->model.type == MODEL_AUTOENCODER) {
        const AutoencoderConfig *c = autoencoder_config(m);
        const AutoencoderSpec *a = &s->model.ae;
        ok = c->n_code == a->code && c->g == a->g && c->f == a->f && c->tied == a->tied && c->noise.type == a->noise.type &&
             c->noise.rate == a->noise.rate && c->noise.sigma == a->noise.sigma && c->sparsity.type == a->sparsity.type &&
             c->sparsity.target == a->sparsity.target && c->sparsity.weight == a->sparsity.weight && c->loss == s->loss &&
             c->n_hidden == a->n_hidden;
    } else if (s->model.type == MODEL_SEQUENCE) {
        const SeqModelConfig *c = seqmodel_config(m);
        ok = c->cell == r->cell && c->num_layers == r->n_layers && c->hidden[0] == r->units[0] &&
             c->forget_bias == (float)r->forget_bias && c->dropout == (float)r->dropout &&
             c->recurrent_orthogonal == (r->recurrent_init == RECURRENT_INIT_ORTHOGONAL) &&
             c->recurrent_gain == (float)r->recurrent_gain && c->init_state == r->initial_state && c->input == r->input &&
             c->embed_dim == r->embed_dim && c->head == r->head && c->loss == s->loss;
        if (c->cell == CELL_RNN) ok &= c->rnn_form == r->form && c->rnn_act == r->activation;
        if (c->cell == CELL_GRU) ok &= c->gru_variant == r->variant;
    } else if (s->model.type == MODEL_SEQ2SEQ) {
        const Seq2SeqConfig *c = seq2seq_config(m);
        ok = c->cell == r->cell && c->gru_variant == r->variant && c->num_layers == r->n_layers &&
             c->hidden[0] == r->units[0] && c->forget_bias == (float)r->forget_bias &&
             c->recurrent_orthogonal == (r->recurrent_init == RECURRENT_INIT_ORTHOGONAL) &&
             c->recurrent_gain == (float)r->recurrent_gain && c->embed_dim == r->embed_dim &&
             c->beam_width == r->beam_width;
    } else {
        const OneToManyConfig *c = onetomany_config(m);
        ok = c->cell == r->cell && c->gru_variant == r->variant && c->num_layers == r->n_layers &&
             c->hidden[0] == r->units[0] && c->forget_bias == (float)r->forget_bias &&
             c->recurrent_orthogonal == (r->recurrent_init == RECURRENT_INIT_ORTHOGONAL) &&
             c->recurrent_gain == (float)r->recurrent_gain && c->loss == s->loss;
    }
    if (!ok) printf("\n  %s: the built model's config differs from the typed spec\n", family);
    CU_ASSERT(ok);
}

static void build_and_check(const Spec *s, const char *family) {
    RunData rd;
    ExError err;
    Model *m = NULL;
    char warn[512];
    int rc = rundata_load(s, &rd, &err);
    if (rc == 0) rc = build_model(s, &rd, &m, warn, sizeof warn, &err);
    if (rc != 0) printf("\n  %s: %s\n", family, err.msg);
    CU_ASSERT_FATAL(rc == 0);
    check_built(s, m, family);
    model_free(m);
    rundata_free(&rd);
}

static void test_every_family_gets_the_schema_defaults(void) {
    make_files();
    for (size_t i = 0; i < sizeof FAMILIES / sizeof FAMILIES[0]; i++) {
        const Family *fam = &FAMILIES[i];
        char text[2048];
        snprintf(text, sizeof text, "version: 1\ndata: %s\nmodel: %s\nloss: %s\n", fam->data, fam->model, fam->loss);
        Spec s;
        CU_ASSERT_FATAL(load_spec(text, &s) == 0);
        int compared = check_typed_defaults(&s, fam->name, fam->named);
        CU_ASSERT(compared >= 30);   /* the loop, optimizer, schedule, clip, sample, output, model keys */
        build_and_check(&s, fam->name);
        spec_free(&s);
    }
}

/* Part 3: every model key set away from its default reaches the model: nothing between the
 * spec and the model puts a value of its own there. */
static void test_set_values_reach_the_model(void) {
    make_files();
    static const char *const specs[] = {
        "version: 1\ndata: {source: csv, path: x.csv}\nloss: cross_entropy\n"
        "model: {type: autoencoder, code: 3, g: tanh, f: sigmoid, tied: true, noise: {type: gaussian, sigma: 0.2},"
        " sparsity: {type: l1, weight: 0.3, target: 0.2}}\n",
        "version: 1\ndata: {source: text, path: text.txt}\nloss: softmax_cross_entropy\n"
        "model: {type: rnn, units: [7, 5], form: lecture, activation: relu, dropout: 0.25, recurrent_init: orthogonal,"
        " recurrent_gain: 0.5, initial_state: learned, input: onehot, embed_dim: 9}\n",
        "version: 1\ndata: {source: copy, train_size: 50, test_size: 5}\nloss: softmax_cross_entropy\n"
        "model: {type: lstm, units: [6], forget_bias: 2.5, input: embedding, embed_dim: 5}\n",
        "version: 1\ndata: {source: parity, train_size: 50, test_size: 5}\nloss: softmax_cross_entropy\n"
        "model: {type: gru, units: [6], variant: cho}\n",
        "version: 1\ndata: {source: reverse, train_size: 50, test_size: 5}\nloss: softmax_cross_entropy\n"
        "model: {type: seq2seq, cell: gru, variant: cho, units: [6], embed_dim: 5, beam_width: 2,"
        " recurrent_init: orthogonal, recurrent_gain: 0.7}\n",
        "version: 1\ndata: {source: idx, path: img.idx, labels: lab.idx, as_sequence: true, scale: standardize}\n"
        "loss: squared_error\n"
        "model: {type: one_to_many, cell: lstm, units: [4], forget_bias: 0.5}\n",
    };
    for (size_t i = 0; i < sizeof specs / sizeof specs[0]; i++) {
        Spec s;
        CU_ASSERT_FATAL(load_spec(specs[i], &s) == 0);
        CU_ASSERT(check_typed_matches_tree(&s, FAMILIES[i].name) >= 30);
        build_and_check(&s, FAMILIES[i].name);
        spec_free(&s);
    }
}

/* Part 4: optim_defaults() is the schema's optimizer block for every update rule. */
static void test_optim_defaults_agree_with_the_schema(void) {
    make_files();
    static const char *const rules[] = {"sgd", "adam", "rmsprop", "adagrad"};
    for (int i = 0; i < 4; i++) {
        char text[512];
        snprintf(text, sizeof text, "version: 1\ndata: {source: csv, path: x.csv}\nmodel: {type: autoencoder, code: 2}\n"
                                    "loss: squared_error\noptimizer: {type: %s}\n", rules[i]);
        Spec s;
        CU_ASSERT_FATAL(load_spec(text, &s) == 0);
        OptimConfig d = optim_defaults(s.optim.type);
        const CfgNode *t = s.tree;
        /* only the keys that apply to this rule are in the resolved tree */
        if (cfg_get(t, "optimizer.beta1")) CU_ASSERT(d.beta1 == s.optim.beta1 && d.beta2 == s.optim.beta2);
        if (cfg_get(t, "optimizer.alpha")) CU_ASSERT(d.alpha == s.optim.alpha);
        if (cfg_get(t, "optimizer.eps")) {
            if (d.eps != s.optim.eps) printf("\n  %s: optim_defaults eps %g, the schema's %g\n", rules[i], d.eps, s.optim.eps);
            CU_ASSERT(d.eps == s.optim.eps);
        }
        CU_ASSERT(d.momentum == s.optim.momentum && d.nesterov == s.optim.nesterov &&
                  d.weight_decay == s.optim.weight_decay && d.decoupled_weight_decay == s.optim.decoupled_weight_decay);
        spec_free(&s);
    }
}

/* A combination the schema cannot express is refused in the typed spec, at its key: an rnn, lstm or
 * gru on idx images with the binary cross_entropy (the README's Changes; the model builder refused
 * it before, after loading the data, with no place). */
static void test_recurrent_binary_cross_entropy_is_refused(void) {
    make_files();
    char path[1024];
    snprintf(path, sizeof path, "%s/spec.yaml", tmp);
    rc_write_text(path, "version: 1\ndata: {source: idx, path: img.idx, labels: lab.idx, as_sequence: true}\n"
                        "model: {type: lstm, input: features, head: last_step}\nloss: cross_entropy\n");
    CfgDiags d = {0};
    Spec s;
    CU_ASSERT_EQUAL(spec_load(path, NULL, 0, &s, &d), -1);
    CU_ASSERT(d.count == 1 && d.items[0].line == 4 && strcmp(d.items[0].path, "loss") == 0 &&
              strstr(d.items[0].message, "not the binary cross_entropy") != NULL);
    cfg_diags_free(&d);
    spec_free(&s);
}

int main(void) {
    tmp = make_temp_dir("defaults");
    TestCase cases[] = {
        {"every family from a spec naming no optional key gets the schema's defaults", test_every_family_gets_the_schema_defaults},
        {"values set in the spec reach every family's model", test_set_values_reach_the_model},
        {"optim_defaults agrees with the schema for every update rule", test_optim_defaults_agree_with_the_schema},
        {"a recurrent model with binary cross_entropy is refused at loss", test_recurrent_binary_cross_entropy_is_refused},
        {NULL, NULL},
    };
    return run_tests_in("defaults", cases, tmp);
}
