#include "spec.h"

#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cell.h"
#include "spec/schema.h"

/* A problem the schema cannot express, reported like the schema's own: at the key's position. */
static void diag(CfgDiags *diags, const CfgNode *tree, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void diag(CfgDiags *diags, const CfgNode *tree, const char *path, const char *fmt, ...) {
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (diags->count == diags->cap) {
        diags->cap = diags->cap ? 2 * diags->cap : 8;
        diags->items = realloc(diags->items, (size_t)diags->cap * sizeof *diags->items);
    }
    const CfgNode *node = cfg_get(tree, path);
    if (!node) node = tree;
    CfgDiag *d = &diags->items[diags->count++];
    d->file = strdup(node->file ? node->file : (tree->file ? tree->file : "spec"));
    d->line = node->line;
    d->col = node->col;
    d->path = strdup(path);
    d->message = strdup(msg);
}

static void copy_str(char *dst, size_t cap, const char *src) { snprintf(dst, cap, "%s", src ? src : ""); }

/* Relative data paths are taken from the spec file's folder, so a spec works from anywhere. */
static void resolve_path(char *dst, size_t cap, const char *spec_path, const char *p) {
    if (!p || !*p) { dst[0] = '\0'; return; }
    if (p[0] == '/' || !spec_path || !*spec_path) { copy_str(dst, cap, p); return; }
    char tmp[SPEC_PATH_MAX];
    copy_str(tmp, sizeof tmp, spec_path);
    snprintf(dst, cap, "%s/%s", dirname(tmp), p);
}

/* ---- reading validated values -------------------------------------------------------------
 * After cfg_validate every key whose `when` holds is present: the spec's value or the schema's
 * default, filled in. A key that does not apply to this spec is absent and reads as 0 (or ""):
 * these readers take no default of their own, since the schema is the only place one lives. */

static long int_of(const CfgNode *t, const char *key) { return cfg_int(t, key, 0); }
static double float_of(const CfgNode *t, const char *key) { return cfg_float(t, key, 0.0); }
static int bool_of(const CfgNode *t, const char *key) { return cfg_bool(t, key, 0); }
static const char *str_of(const CfgNode *t, const char *key) {
    const char *v = cfg_str(t, key);
    return v ? v : "";
}

/* An enum key through its type's own name table (from_name leaves *dst at 0 when absent). */
#define ENUM_OF(t, key, from_name, dst)         \
    do {                                        \
        const char *name_ = cfg_str(t, key);    \
        if (name_) from_name(name_, dst);       \
    } while (0)

static int index_of(const char *choices, const char *value);

/* The schema's key for a concrete path (list indices as "*"). */
const SchemaKey *spec_schema_key(const char *path) {
    char pattern[512];
    size_t n = 0;
    for (const char *p = path; *p && n + 2 < sizeof pattern;) {
        if ((p == path || p[-1] == '.') && *p >= '0' && *p <= '9') {
            pattern[n++] = '*';
            while (*p >= '0' && *p <= '9') p++;
        } else {
            pattern[n++] = *p++;
        }
    }
    pattern[n] = '\0';
    for (int i = 0; i < SPEC_SCHEMA.count; i++)
        if (strcmp(SPEC_SCHEMA.keys[i].path, pattern) == 0) return &SPEC_SCHEMA.keys[i];
    return NULL;
}

/* The spec's own enums number their values in the order of the schema's choices. */
static int choice_of(const CfgNode *t, const char *key) {
    const SchemaKey *k = spec_schema_key(key);
    const char *v = cfg_str(t, key);
    int i = k && v ? index_of(k->choices, v) : 0;
    return i < 0 ? 0 : i;
}

const char *spec_choice(const char *key, int index, char *buf, size_t cap) {
    const SchemaKey *k = spec_schema_key(key);
    if (!k || !k->choices || index < 0) return NULL;
    const char *p = k->choices;
    for (int i = 0; i < index; i++) {
        p = strchr(p, '|');
        if (!p) return NULL;
        p++;
    }
    size_t len = strcspn(p, "|");
    snprintf(buf, cap, "%.*s", (int)len, p);
    return buf;
}

static int index_of(const char *choices, const char *value) {
    /* position of value in "a|b|c" */
    int idx = 0;
    const char *p = choices;
    size_t n = strlen(value);
    while (*p) {
        const char *bar = strchr(p, '|');
        size_t len = bar ? (size_t)(bar - p) : strlen(p);
        if (len == n && strncmp(p, value, n) == 0) return idx;
        idx++;
        if (!bar) break;
        p = bar + 1;
    }
    return -1;
}

/* An optional string key's value, or NULL: YAML's null (unquoted `null`, `~` or nothing) means
 * "not given", as the key's default does (before, `labels: null` named a file called null). */
static const char *opt_str(const CfgNode *t, const char *key) {
    const CfgNode *n = cfg_get(t, key);
    if (!n || n->kind != CFG_SCALAR || !n->value) return NULL;
    if (!n->quoted && cfg_text_is_null(n->value)) return NULL;
    return n->value;
}

/* Resolve a data path and write the absolute result back into the tree, so the resolved spec a
 * run records (and `exprun resume` reads from the run directory) names the same file. A path
 * written in a base spec is taken from that spec's folder; one from the command line, from the
 * spec's. */
static void resolve_data_path(CfgNode *t, const char *key, const char *spec_path, char *dst, size_t cap) {
    CfgNode *node = (CfgNode *)cfg_get(t, key);
    const char *from = node && node->file && node->line > 0 && access(node->file, F_OK) == 0 ? node->file : spec_path;
    resolve_path(dst, cap, from, opt_str(t, key));
    if (!node || node->kind != CFG_SCALAR || !dst[0]) return;
    char *abs = realpath(dst, NULL);
    if (abs) snprintf(dst, cap, "%s", abs);
    free(abs);
    free(node->value);
    node->value = strdup(dst);
}

static void read_data(CfgNode *t, const char *spec_path, DataSpec *d) {
    d->source = (DataSource)choice_of(t, "data.source");
    resolve_data_path(t, "data.path", spec_path, d->path, sizeof d->path);
    resolve_data_path(t, "data.labels", spec_path, d->labels, sizeof d->labels);
    resolve_data_path(t, "data.test_path", spec_path, d->test_path, sizeof d->test_path);
    resolve_data_path(t, "data.test_labels", spec_path, d->test_labels, sizeof d->test_labels);
    d->header = bool_of(t, "data.header");
    copy_str(d->label_column, sizeof d->label_column, opt_str(t, "data.label_column"));
    copy_str(d->dataset, sizeof d->dataset, str_of(t, "data.dataset"));
    copy_str(d->labels_dataset, sizeof d->labels_dataset, opt_str(t, "data.labels_dataset"));
    d->max_bytes = int_of(t, "data.max_bytes");
    d->seq_len = (int)int_of(t, "data.seq_len");
    d->bptt = (BpttMode)choice_of(t, "data.bptt");
    d->length = (int)int_of(t, "data.length");
    d->train_size = (int)int_of(t, "data.train_size");
    d->test_size = (int)int_of(t, "data.test_size");
    d->copy_length = (int)int_of(t, "data.copy_length");
    d->alphabet = (int)int_of(t, "data.alphabet");
    d->min_length = (int)int_of(t, "data.min_length");
    d->max_length = (int)int_of(t, "data.max_length");
    d->digits = (int)int_of(t, "data.digits");
    d->reversed_digits = bool_of(t, "data.reversed_digits");
    ENUM_OF(t, "data.scale", scale_from_name, &d->scale);
    d->binarize = bool_of(t, "data.binarize");
    d->as_sequence = bool_of(t, "data.as_sequence");
    d->binarize_threshold = float_of(t, "data.binarize_threshold");
    d->validation_fraction = float_of(t, "data.validation_fraction");
    d->limit = (int)int_of(t, "data.limit");
    copy_str(d->value_column, sizeof d->value_column, str_of(t, "data.value_column"));
    copy_str(d->date_column, sizeof d->date_column, str_of(t, "data.date_column"));
    copy_str(d->filter_column, sizeof d->filter_column, opt_str(t, "data.filter_column"));
    copy_str(d->filter_value, sizeof d->filter_value, opt_str(t, "data.filter_value"));
    d->window = (int)int_of(t, "data.window");
    d->horizon = (int)int_of(t, "data.horizon");
    ENUM_OF(t, "data.transform", series_transform_from_name, &d->transform);
    d->test_fraction = float_of(t, "data.test_fraction");
    d->exclude_class = opt_str(t, "data.exclude_class") ? (int)int_of(t, "data.exclude_class") : -1;
}

static void read_evaluate(const CfgNode *t, const ModelSpec *m, EvaluateSpec *e) {
    e->pca = bool_of(t, "evaluate.pca");
    e->anomaly_class = opt_str(t, "evaluate.anomaly_class") ? (int)int_of(t, "evaluate.anomaly_class") : -1;
    e->kmeans = (int)int_of(t, "evaluate.kmeans");
    e->kmeans_restarts = (int)int_of(t, "evaluate.kmeans_restarts");
    e->corrupted_test = bool_of(t, "evaluate.corrupted_test");
    e->noise_from_model = strcmp(str_of(t, "evaluate.noise.type"), "model") == 0;
    if (e->noise_from_model) {
        e->noise = m->ae.noise;
    } else {
        ENUM_OF(t, "evaluate.noise.type", noise_from_name, &e->noise.type);
        e->noise.rate = float_of(t, "evaluate.noise.rate");
        e->noise.sigma = float_of(t, "evaluate.noise.sigma");
    }
}

static void read_autoencoder(const CfgNode *t, AutoencoderSpec *a, CfgDiags *diags) {
    a->code = (int)int_of(t, "model.code");
    a->n_hidden = cfg_len(t, "model.hidden");
    if (a->n_hidden > SPEC_MAX_LAYERS) {
        diag(diags, t, "model.hidden", "at most %d hidden layers, got %d", SPEC_MAX_LAYERS, a->n_hidden);
        a->n_hidden = SPEC_MAX_LAYERS;
    }
    char path[128];
    for (int l = 0; l < a->n_hidden; l++) {
        snprintf(path, sizeof path, "model.hidden.%d.units", l);
        a->hidden_units[l] = (int)int_of(t, path);
        snprintf(path, sizeof path, "model.hidden.%d.activation", l);
        ENUM_OF(t, path, act_from_name, &a->hidden_act[l]);
    }
    ENUM_OF(t, "model.g", act_from_name, &a->g);
    ENUM_OF(t, "model.f", act_from_name, &a->f);
    a->tied = bool_of(t, "model.tied");
    ENUM_OF(t, "model.noise.type", noise_from_name, &a->noise.type);
    a->noise.rate = float_of(t, "model.noise.rate");
    a->noise.sigma = float_of(t, "model.noise.sigma");
    ENUM_OF(t, "model.sparsity.type", sparsity_from_name, &a->sparsity.type);
    a->sparsity.target = float_of(t, "model.sparsity.target");
    a->sparsity.weight = float_of(t, "model.sparsity.weight");
}

static void read_recurrent(const CfgNode *t, RecurrentSpec *r, CfgDiags *diags) {
    r->n_layers = cfg_len(t, "model.units");
    if (r->n_layers > SPEC_MAX_LAYERS) {
        diag(diags, t, "model.units", "at most %d stacked layers, got %d", SPEC_MAX_LAYERS, r->n_layers);
        r->n_layers = SPEC_MAX_LAYERS;
    }
    if (r->n_layers == 0) diag(diags, t, "model.units", "needs at least one layer, e.g. [128]");
    char path[64];
    for (int l = 0; l < r->n_layers; l++) {
        snprintf(path, sizeof path, "model.units.%d", l);
        r->units[l] = (int)int_of(t, path);
    }
    ENUM_OF(t, "model.form", rnn_form_from_name, &r->form);
    ENUM_OF(t, "model.activation", act_from_name, &r->activation);
    ENUM_OF(t, "model.variant", gru_variant_from_name, &r->variant);
    r->forget_bias = float_of(t, "model.forget_bias");
    r->dropout = float_of(t, "model.dropout");
    r->recurrent_init = (RecurrentInit)choice_of(t, "model.recurrent_init");
    r->recurrent_gain = float_of(t, "model.recurrent_gain");
    ENUM_OF(t, "model.initial_state", seq_init_state_from_name, &r->initial_state);
    ENUM_OF(t, "model.input", seq_input_from_name, &r->input);
    r->embed_dim = (int)int_of(t, "model.embed_dim");
    ENUM_OF(t, "model.head", seq_head_from_name, &r->head);
    r->beam_width = (int)int_of(t, "model.beam_width");
}

static void read_model(const CfgNode *t, ModelSpec *m, CfgDiags *diags) {
    const char *type = str_of(t, "model.type");
    if (cell_type_from_name(type, &m->rec.cell) == 0) m->type = MODEL_SEQUENCE;   /* the type names the cell */
    else if (strcmp(type, "seq2seq") == 0) m->type = MODEL_SEQ2SEQ;
    else if (strcmp(type, "one_to_many") == 0) m->type = MODEL_ONE_TO_MANY;
    else m->type = MODEL_AUTOENCODER;
    if (m->type == MODEL_AUTOENCODER) {
        read_autoencoder(t, &m->ae, diags);
        return;
    }
    if (m->type != MODEL_SEQUENCE) ENUM_OF(t, "model.cell", cell_type_from_name, &m->rec.cell);
    read_recurrent(t, &m->rec, diags);
}

/* Evaluations that could not run: caught before training, not after it. */
static void check_evaluate(const CfgNode *t, const Spec *s, CfgDiags *diags) {
    const EvaluateSpec *e = &s->evaluate;
    if (e->anomaly_class >= 0) {
        if (!s->data.test_path[0])
            diag(diags, t, "evaluate.anomaly_class", "anomaly detection is scored on the test set: set data.test_path");
        if (s->data.exclude_class != e->anomaly_class)
            diag(diags, t, "evaluate.anomaly_class",
                 "the anomalous class must be left out of training, or it is not an anomaly: set "
                 "data.exclude_class: %d", e->anomaly_class);
    }
    if (e->corrupted_test) {
        int from_model = e->noise_from_model;
        if (from_model && e->noise.type == NOISE_NONE)
            diag(diags, t, "evaluate.noise.type",
                 "corrupted_test with the model's own noise, but model.noise.type is none: name the "
                 "corruption, e.g. evaluate.noise: {type: masking, rate: 0.3}");
        if (!from_model && e->noise.type == NOISE_GAUSSIAN && e->noise.sigma == 0.0)
            diag(diags, t, "evaluate.noise.sigma", "gaussian noise needs sigma > 0");
        if (!from_model && e->noise.type != NOISE_GAUSSIAN && e->noise.rate == 0.0)
            diag(diags, t, "evaluate.noise.rate", "%s noise needs rate > 0", noise_name(e->noise.type));
    }
}

/* Combinations a user would regret, each an error at the key that decides it. */
/* The monitor names a metrics column: val_loss, train_loss or val_<statistic>. Which statistics
 * a model reports is known once it is built (ModelOps.eval_stat_names): the runner checks the
 * rest before training starts (runner/monitor.c). */
static void check_monitor(const CfgNode *t, const Spec *s, CfgDiags *diags) {
    const char *m = cfg_str(t, "train.early_stopping.monitor");
    if (!m) return;
    size_t len = strlen(m);
    int word = len > 0 && strspn(m, "abcdefghijklmnopqrstuvwxyz0123456789_") == len;
    if (!word || len >= sizeof s->train.early_stopping.monitor ||
        !(strcmp(m, "train_loss") == 0 || (strncmp(m, "val_", 4) == 0 && len > 4)))
        diag(diags, t, "train.early_stopping.monitor",
             "'%s' is not a column the monitor can follow: use val_loss, train_loss or val_<statistic> such as "
             "val_accuracy", m);
}

static void check_combinations(const CfgNode *t, const Spec *s, CfgDiags *diags) {
    check_monitor(t, s, diags);
    const AutoencoderSpec *ae = &s->model.ae;
    const RecurrentSpec *rec = &s->model.rec;
    ModelType type = s->model.type;
    DataSource src = s->data.source;
    int tabular = src == DATA_IDX || src == DATA_CSV || src == DATA_HDF5;
    if (type == MODEL_AUTOENCODER) {
        if (s->data.as_sequence)
            diag(diags, t, "data.as_sequence", "an autoencoder reads whole examples: remove data.as_sequence");
        if (!tabular)
            diag(diags, t, "data.source", "an autoencoder needs idx, csv or hdf5 data, not %s",
                 cfg_str(t, "data.source"));
        if (s->loss == LOSS_SOFTMAX_CROSS_ENTROPY)
            diag(diags, t, "loss", "an autoencoder takes squared_error or cross_entropy");
        if (s->loss == LOSS_CROSS_ENTROPY && ae->f != ACT_SIGMOID && ae->f != ACT_SOFTMAX)
            diag(diags, t, "model.f",
                 "cross_entropy needs x̂ in (0,1), but f is %s (use f: sigmoid, or loss: squared_error)",
                 act_name(ae->f));
        if (ae->sparsity.type == SPARSITY_KL && ae->g != ACT_SIGMOID)
            diag(diags, t, "model.g",
                 "the kl sparsity penalty needs code activations in (0,1): use g: sigmoid (or sparsity type l1)");
        if (ae->sparsity.type != SPARSITY_NONE && ae->sparsity.weight == 0.0)
            diag(diags, t, "model.sparsity.weight", "a sparsity penalty needs a weight β > 0");
        if (ae->noise.type == NOISE_GAUSSIAN && ae->noise.sigma == 0.0)
            diag(diags, t, "model.noise.sigma", "gaussian noise needs sigma > 0");
        if ((ae->noise.type == NOISE_MASKING || ae->noise.type == NOISE_SALT_PEPPER) && ae->noise.rate == 0.0)
            diag(diags, t, "model.noise.rate", "%s noise needs rate > 0", noise_name(ae->noise.type));
        check_evaluate(t, s, diags);
        return;
    }
    int s2s_data = src == DATA_REVERSE || src == DATA_ADDITION;
    if (src == DATA_REVERSE && s->data.min_length > s->data.max_length)
        diag(diags, t, "data.min_length", "min_length %d is above max_length %d", s->data.min_length,
             s->data.max_length);
    if (type == MODEL_SEQ2SEQ) {
        if (!s2s_data)
            diag(diags, t, "data.source", "a seq2seq model reads pairs of token sequences: use data.source reverse "
                                          "or addition, not %s", cfg_str(t, "data.source"));
        if (s->loss != LOSS_SOFTMAX_CROSS_ENTROPY)
            diag(diags, t, "loss", "a seq2seq model predicts tokens: use loss: softmax_cross_entropy");
        if (rec->beam_width > s->train.batch_size)
            diag(diags, t, "model.beam_width", "beam_width %d is above train.batch_size %d (the beams share its "
                                                "workspaces)", rec->beam_width, s->train.batch_size);
        return;
    }
    if (type == MODEL_ONE_TO_MANY) {
        if (src != DATA_IDX || !s->data.as_sequence || !s->data.labels[0])
            diag(diags, t, "data.source", "a one_to_many model writes image rows from the class: use idx images with "
                                          "labels and data.as_sequence: true");
        if (s->loss == LOSS_SOFTMAX_CROSS_ENTROPY)
            diag(diags, t, "loss", "a one_to_many model writes real values: use cross_entropy (values in [0,1]) or "
                                   "squared_error");
        return;
    }
    if (s2s_data)
        diag(diags, t, "model.type", "%s data pairs an input sequence with an output of another length: use "
                                     "model.type: seq2seq", cfg_str(t, "data.source"));
    int tokens = src == DATA_TEXT || src == DATA_COPY || src == DATA_PARITY;
    if (s->loss == LOSS_CROSS_ENTROPY && (src == DATA_IDX || src == DATA_HDF5))   /* other data: below */
        diag(diags, t, "loss", "a recurrent %s model takes softmax_cross_entropy (classes, tokens) or squared_error "
                               "(real values), not the binary cross_entropy", cell_type_name(rec->cell));
    if (src == DATA_CSV)
        diag(diags, t, "data.source", "recurrent models read text, generated tasks, idx images as rows "
                                      "(data.as_sequence: true) or (n, T, d) hdf5 datasets, not csv");
    if (src == DATA_IDX && !s->data.as_sequence)
        diag(diags, t, "data.source", "a recurrent model reads images as sequences of rows: set data.as_sequence: true");
    if ((src == DATA_IDX || src == DATA_HDF5) && rec->input != SEQ_INPUT_FEATURES)
        diag(diags, t, "model.input", "%s data has real-valued inputs: use input: features", cfg_str(t, "data.source"));
    if ((src == DATA_IDX || src == DATA_HDF5) && rec->head != SEQ_HEAD_LAST_STEP)
        diag(diags, t, "model.head", "classifying a whole sequence (many-to-one): use head: last_step");
    if (tokens && rec->input == SEQ_INPUT_FEATURES)
        diag(diags, t, "model.input", "%s data is made of tokens: use input: embedding or onehot",
             cfg_str(t, "data.source"));
    if (src == DATA_ADDING && rec->input != SEQ_INPUT_FEATURES)
        diag(diags, t, "model.input", "the adding problem has real-valued inputs: use input: features");
    if (tokens && s->loss != LOSS_SOFTMAX_CROSS_ENTROPY)
        diag(diags, t, "loss", "predicting tokens needs loss: softmax_cross_entropy");
    if (src == DATA_ADDING && s->loss != LOSS_SQUARED_ERROR)
        diag(diags, t, "loss", "the adding problem is a regression: use loss: squared_error");
    if (src == DATA_SERIES) {
        /* Forecasting: a window of real values in, one real value out. */
        if (rec->input != SEQ_INPUT_FEATURES)
            diag(diags, t, "model.input", "series data has real-valued inputs: use input: features");
        if (rec->head != SEQ_HEAD_LAST_STEP)
            diag(diags, t, "model.head", "a forecast is one value after the window: use head: last_step");
        if (s->loss != LOSS_SQUARED_ERROR)
            diag(diags, t, "loss", "forecasting is a regression: use loss: squared_error");
        if (!s->data.filter_column[0] != !s->data.filter_value[0])
            diag(diags, t, s->data.filter_column[0] ? "data.filter_column" : "data.filter_value",
                 "data.filter_column and data.filter_value go together (e.g. symbol and MSFT)");
    }
    if (src == DATA_ADDING && rec->head != SEQ_HEAD_LAST_STEP)
        diag(diags, t, "model.head", "the adding problem has one target at the end: use head: last_step");
    if ((src == DATA_TEXT || src == DATA_COPY || src == DATA_PARITY) && rec->head == SEQ_HEAD_LAST_STEP)
        diag(diags, t, "model.head", "%s data has a target at every step: use head: per_step",
             cfg_str(t, "data.source"));
}

/* A run name is a folder under output.root (results/NAME/STAMP): one path component, not empty,
 * not "." or "..", no '/', ':' or control characters, valid UTF-8, at most RUN_NAME_MAX bytes
 * (a folder name may have 255; the rest is room to spare). */
#define RUN_NAME_MAX 200
static int check_run_name(const char *name, const CfgNode *t, CfgDiags *diags, int from_file) {
    const char *why = NULL;
    size_t len = strlen(name);
    if (len == 0 || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
        why = "is empty, '.' or '..', which names no folder of its own";
    else if (len > RUN_NAME_MAX)
        why = "is longer than 200 bytes";
    for (size_t i = 0; !why && i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '/' || c == ':') why = "contains '/' or ':'";
        else if (c < 0x20 || c == 0x7f) why = "contains a control character";
        else if (c >= 0x80) {
            /* one UTF-8 sequence: a lead byte and its continuation bytes */
            int more = c >= 0xf0 && c < 0xf5 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 && c < 0xe0 ? 1 : -1;
            for (int k = 1; more > 0 && k <= more; k++)
                if (i + k >= len || ((unsigned char)name[i + k] & 0xc0) != 0x80) more = -1;
            if (more < 0 || c >= 0xf5) why = "is not valid UTF-8";
            else i += (size_t)more;
        }
    }
    if (!why) return 0;
    diag(diags, t, "name", "the run name%s %s; it names a folder under output.root (results/NAME/STAMP): "
                           "use letters, digits, '-', '_' or '.', up to 200 bytes%s",
         from_file ? " (from the spec file's name)" : "", why, from_file ? ", or set name: in the spec" : "");
    return -1;
}

int spec_from_tree(CfgNode *tree, const char *path, Spec *s, CfgDiags *diags) {
    memset(s, 0, sizeof *s);
    s->tree = tree;
    copy_str(s->source_path, sizeof s->source_path, path);
    int before = diags->count;
    if (cfg_validate(tree, &SPEC_SCHEMA, diags) != 0 || diags->count > before) {
        spec_more_diags(tree, path, diags, before);   /* the combinations' problems too, at once */
        return -1;
    }
    spec_resolve_auto(tree, diags);
    if (diags->count > before) return -1;

    const CfgNode *t = tree;
    const char *name = opt_str(t, "name");
    char from_file[SPEC_PATH_MAX];
    if (!name) {
        char tmp[SPEC_PATH_MAX];
        copy_str(tmp, sizeof tmp, path ? path : "spec");
        char *base = basename(tmp), *dot = strrchr(base, '.');
        if (dot) *dot = '\0';
        copy_str(from_file, sizeof from_file, base);
        name = from_file;
    }
    if (check_run_name(name, t, diags, name == from_file) == 0) copy_str(s->name, sizeof s->name, name);
    s->seed = (uint64_t)int_of(t, "seed");
    s->threads = (int)int_of(t, "threads");
    read_data(tree, path, &s->data);
    read_model(t, &s->model, diags);
    if (s->model.type == MODEL_AUTOENCODER) read_evaluate(t, &s->model, &s->evaluate);
    else s->evaluate.anomaly_class = -1;
    ENUM_OF(t, "loss", loss_from_name, &s->loss);

    ENUM_OF(t, "optimizer.type", optim_from_name, &s->optim.type);
    s->optim.lr = float_of(t, "optimizer.lr");
    s->optim.momentum = float_of(t, "optimizer.momentum");
    s->optim.nesterov = bool_of(t, "optimizer.nesterov");
    s->optim.beta1 = float_of(t, "optimizer.beta1");
    s->optim.beta2 = float_of(t, "optimizer.beta2");
    s->optim.alpha = float_of(t, "optimizer.alpha");
    s->optim.eps = float_of(t, "optimizer.eps");
    s->optim.weight_decay = float_of(t, "optimizer.weight_decay");
    s->optim.decoupled_weight_decay = bool_of(t, "optimizer.decoupled_weight_decay");
    if (s->optim.nesterov && s->optim.momentum == 0.0)
        diag(diags, t, "optimizer.nesterov", "Nesterov momentum needs momentum > 0");

    ENUM_OF(t, "schedule.type", schedule_from_name, &s->schedule.type);
    s->schedule.lr = s->optim.lr;
    s->schedule.gamma = float_of(t, "schedule.gamma");
    s->schedule.step_size = (int)int_of(t, "schedule.step_size");
    s->schedule.min_lr = float_of(t, "schedule.min_lr");
    s->schedule.warmup_steps = int_of(t, "schedule.warmup_steps");

    s->clip = (ClipType)choice_of(t, "clip.type");
    s->clip_threshold = float_of(t, "clip.threshold");

    TrainSpec *tr = &s->train;
    tr->epochs = (int)int_of(t, "train.epochs");
    tr->batch_size = (int)int_of(t, "train.batch_size");
    tr->max_steps_per_epoch = int_of(t, "train.max_steps_per_epoch");
    tr->shuffle = bool_of(t, "train.shuffle");
    tr->drop_last = bool_of(t, "train.drop_last");
    tr->checkpoint_every = (int)int_of(t, "train.checkpoint_every");
    tr->keep_checkpoints = (int)int_of(t, "train.keep_checkpoints");
    tr->on_nan = (NanPolicy)choice_of(t, "train.on_nan");
    tr->log_every = int_of(t, "train.log_every");
    tr->eval_every = int_of(t, "train.eval_every");
    EarlyStoppingSpec *es = &tr->early_stopping;
    copy_str(es->monitor, sizeof es->monitor, str_of(t, "train.early_stopping.monitor"));
    es->mode = (MonitorMode)choice_of(t, "train.early_stopping.mode");
    es->patience = (int)int_of(t, "train.early_stopping.patience");
    es->min_delta = float_of(t, "train.early_stopping.min_delta");
    tr->restore_best = bool_of(t, "train.restore_best");
    tr->precision = (Precision)choice_of(t, "train.precision");
    tr->recompute = bool_of(t, "train.recompute");

    s->sample.every = (int)int_of(t, "sample.every");
    s->sample.length = (int)int_of(t, "sample.length");
    s->sample.temperature = float_of(t, "sample.temperature");
    copy_str(s->sample.prime, sizeof s->sample.prime, str_of(t, "sample.prime"));
    copy_str(s->output_root, sizeof s->output_root, str_of(t, "output.root"));

    check_combinations(t, s, diags);
    return diags->count > before ? -1 : 0;
}

/* "SECTION=FILE.yaml" for a section of the schema (a top-level map): FILE, with SECTION in
 * section; else NULL (an ordinary override). */
static const char *section_file(const char *assignment, char *section, size_t cap) {
    const char *eq = strchr(assignment, '=');
    if (!eq || (size_t)(eq - assignment) >= cap) return NULL;
    const char *file = eq + 1;
    size_t n = strlen(file);
    if (!((n > 5 && strcmp(file + n - 5, ".yaml") == 0) || (n > 4 && strcmp(file + n - 4, ".yml") == 0))) return NULL;
    snprintf(section, cap, "%.*s", (int)(eq - assignment), assignment);
    const SchemaKey *k = spec_schema_key(section);
    return k && k->kind == SK_MAP && !strchr(section, '.') ? file : NULL;
}

int spec_apply_override(CfgNode *tree, const char *assignment, CfgDiags *diags) {
    char section[64];
    const char *file = section_file(assignment, section, sizeof section);
    return file ? cfg_section_from_file(tree, section, file, diags) : cfg_apply_override(tree, assignment, diags);
}

int spec_load(const char *path, char *const *overrides, int n_overrides, Spec *spec, CfgDiags *diags) {
    memset(spec, 0, sizeof *spec);
    CfgNode *tree = cfg_parse_composed(path, diags);
    if (!tree) return -1;
    int failed = 0;
    for (int i = 0; i < n_overrides; i++)
        if (spec_apply_override(tree, overrides[i], diags) != 0) failed = 1;
    if (failed) {
        cfg_free(tree);
        return -1;
    }
    return spec_from_tree(tree, path, spec, diags);
}

void spec_free(Spec *spec) {
    cfg_free(spec->tree);
    spec->tree = NULL;
}
