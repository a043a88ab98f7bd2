#include "spec.h"

#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static Activation act_of(const CfgNode *t, const char *path) {
    Activation a = ACT_IDENTITY;
    const char *s = cfg_str(t, path);
    if (s) act_from_name(s, &a);
    return a;
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
    if (!n->quoted && (!n->value[0] || strcmp(n->value, "~") == 0 || strcmp(n->value, "null") == 0 ||
                       strcmp(n->value, "Null") == 0 || strcmp(n->value, "NULL") == 0))
        return NULL;
    return n->value;
}

/* Resolve a data path and write the absolute result back into the tree, so the resolved spec a
 * run records (and `exprun resume` reads from the run directory) names the same file. */
static void resolve_data_path(CfgNode *t, const char *key, const char *spec_path, char *dst, size_t cap) {
    resolve_path(dst, cap, spec_path, opt_str(t, key));
    CfgNode *node = (CfgNode *)cfg_get(t, key);
    if (!node || node->kind != CFG_SCALAR || !dst[0]) return;
    char *abs = realpath(dst, NULL);
    if (abs) snprintf(dst, cap, "%s", abs);
    free(abs);
    free(node->value);
    node->value = strdup(dst);
}

static void read_data(CfgNode *t, const char *spec_path, DataSpec *d) {
    d->source = (DataSource)index_of("idx|csv|hdf5|text|adding|copy|parity|series|reverse|addition",
                                     cfg_str(t, "data.source"));
    resolve_data_path(t, "data.path", spec_path, d->path, sizeof d->path);
    resolve_data_path(t, "data.labels", spec_path, d->labels, sizeof d->labels);
    resolve_data_path(t, "data.test_path", spec_path, d->test_path, sizeof d->test_path);
    resolve_data_path(t, "data.test_labels", spec_path, d->test_labels, sizeof d->test_labels);
    d->header = cfg_bool(t, "data.header", 1);
    copy_str(d->label_column, sizeof d->label_column, opt_str(t, "data.label_column"));
    copy_str(d->dataset, sizeof d->dataset, cfg_str(t, "data.dataset"));
    copy_str(d->labels_dataset, sizeof d->labels_dataset, opt_str(t, "data.labels_dataset"));
    d->max_bytes = cfg_int(t, "data.max_bytes", 0);
    d->seq_len = (int)cfg_int(t, "data.seq_len", 64);
    d->truncated_bptt = !cfg_str(t, "data.bptt") || strcmp(cfg_str(t, "data.bptt"), "truncated") == 0;
    d->length = (int)cfg_int(t, "data.length", 100);
    d->train_size = (int)cfg_int(t, "data.train_size", 10000);
    d->test_size = (int)cfg_int(t, "data.test_size", 1000);
    d->copy_length = (int)cfg_int(t, "data.copy_length", 10);
    d->alphabet = (int)cfg_int(t, "data.alphabet", 8);
    d->min_length = (int)cfg_int(t, "data.min_length", 1);
    d->max_length = (int)cfg_int(t, "data.max_length", 10);
    d->digits = (int)cfg_int(t, "data.digits", 3);
    d->reversed_digits = cfg_bool(t, "data.reversed_digits", 0);
    copy_str(d->scale, sizeof d->scale, cfg_str(t, "data.scale") ? cfg_str(t, "data.scale") : "none");
    d->binarize = cfg_bool(t, "data.binarize", 0);
    d->as_sequence = cfg_bool(t, "data.as_sequence", 0);
    d->binarize_threshold = cfg_float(t, "data.binarize_threshold", 0.5);
    d->validation_fraction = cfg_float(t, "data.validation_fraction", 0.1);
    d->limit = (int)cfg_int(t, "data.limit", 0);
    copy_str(d->value_column, sizeof d->value_column, cfg_str(t, "data.value_column"));
    copy_str(d->date_column, sizeof d->date_column, cfg_str(t, "data.date_column"));
    copy_str(d->filter_column, sizeof d->filter_column, opt_str(t, "data.filter_column"));
    copy_str(d->filter_value, sizeof d->filter_value, opt_str(t, "data.filter_value"));
    d->window = (int)cfg_int(t, "data.window", 12);
    d->horizon = (int)cfg_int(t, "data.horizon", 1);
    copy_str(d->transform, sizeof d->transform, cfg_str(t, "data.transform"));
    d->test_fraction = cfg_float(t, "data.test_fraction", 0.2);
    d->exclude_class = (int)cfg_int(t, "data.exclude_class", -1);
}

static void read_evaluate(const CfgNode *t, const ModelSpec *m, EvaluateSpec *e) {
    e->pca = cfg_bool(t, "evaluate.pca", 0);
    e->anomaly_class = (int)cfg_int(t, "evaluate.anomaly_class", -1);
    e->kmeans = (int)cfg_int(t, "evaluate.kmeans", 0);
    e->kmeans_restarts = (int)cfg_int(t, "evaluate.kmeans_restarts", 3);
    e->corrupted_test = cfg_bool(t, "evaluate.corrupted_test", 0);
    const char *type = cfg_str(t, "evaluate.noise.type");
    if (!type || strcmp(type, "model") == 0) {
        e->noise = m->noise;
    } else {
        noise_from_name(type, &e->noise.type);
        e->noise.rate = cfg_float(t, "evaluate.noise.rate", 0);
        e->noise.sigma = cfg_float(t, "evaluate.noise.sigma", 0);
    }
}

static void read_model(const CfgNode *t, ModelSpec *m, CfgDiags *diags) {
    const char *type = cfg_str(t, "model.type");
    CellType cell;
    if (!type) type = "";
    if (cell_type_from_name(type, &cell) == 0) {
        m->type = MODEL_SEQUENCE;   /* the type names the cell */
        copy_str(m->cell, sizeof m->cell, type);
    } else {
        m->type = strcmp(type, "seq2seq") == 0 ? MODEL_SEQ2SEQ
                  : strcmp(type, "one_to_many") == 0 ? MODEL_ONE_TO_MANY : MODEL_AUTOENCODER;
    }
    if (m->type == MODEL_AUTOENCODER) {
        m->code = (int)cfg_int(t, "model.code", 1);
        m->n_hidden = cfg_len(t, "model.hidden");
        if (m->n_hidden > SPEC_MAX_LAYERS) {
            diag(diags, t, "model.hidden", "at most %d hidden layers, got %d", SPEC_MAX_LAYERS, m->n_hidden);
            m->n_hidden = SPEC_MAX_LAYERS;
        }
        char path[128];
        for (int l = 0; l < m->n_hidden; l++) {
            snprintf(path, sizeof path, "model.hidden.%d.units", l);
            m->hidden_units[l] = (int)cfg_int(t, path, 1);
            snprintf(path, sizeof path, "model.hidden.%d.activation", l);
            m->hidden_act[l] = act_of(t, path);
        }
        m->g = act_of(t, "model.g");
        m->f = act_of(t, "model.f");
        m->tied = cfg_bool(t, "model.tied", 0);
        noise_from_name(cfg_str(t, "model.noise.type"), &m->noise.type);
        m->noise.rate = cfg_float(t, "model.noise.rate", 0);
        m->noise.sigma = cfg_float(t, "model.noise.sigma", 0);
        sparsity_from_name(cfg_str(t, "model.sparsity.type"), &m->sparsity.type);
        m->sparsity.target = cfg_float(t, "model.sparsity.target", 0.05);
        m->sparsity.weight = cfg_float(t, "model.sparsity.weight", 0);
        return;
    }
    m->n_layers = cfg_len(t, "model.units");
    if (m->n_layers > SPEC_MAX_LAYERS) {
        diag(diags, t, "model.units", "at most %d stacked layers, got %d", SPEC_MAX_LAYERS, m->n_layers);
        m->n_layers = SPEC_MAX_LAYERS;
    }
    if (m->n_layers == 0) diag(diags, t, "model.units", "needs at least one layer, e.g. [128]");
    char path[64];
    for (int l = 0; l < m->n_layers; l++) {
        snprintf(path, sizeof path, "model.units.%d", l);
        m->units[l] = (int)cfg_int(t, path, 1);
    }
    const char *form = cfg_str(t, "model.form");
    m->lecture_form = form && strcmp(form, "lecture") == 0;
    m->rnn_activation = cfg_str(t, "model.activation") ? act_of(t, "model.activation") : ACT_TANH;
    const char *variant = cfg_str(t, "model.variant");
    m->gru_cho = variant && strcmp(variant, "cho") == 0;
    m->forget_bias = cfg_float(t, "model.forget_bias", 1.0);
    m->dropout = cfg_float(t, "model.dropout", 0.0);
    const char *rinit = cfg_str(t, "model.recurrent_init");
    m->recurrent_orthogonal = rinit && strcmp(rinit, "orthogonal") == 0;
    m->recurrent_gain = cfg_float(t, "model.recurrent_gain", 1.0);
    if (m->type == MODEL_SEQ2SEQ || m->type == MODEL_ONE_TO_MANY) {
        copy_str(m->cell, sizeof m->cell, cfg_str(t, "model.cell"));
        m->embed_dim = (int)cfg_int(t, "model.embed_dim", 64);
        m->beam_width = (int)cfg_int(t, "model.beam_width", 1);
        return;
    }
    m->learned_initial_state = strcmp(cfg_str(t, "model.initial_state"), "learned") == 0;
    copy_str(m->input, sizeof m->input, cfg_str(t, "model.input"));
    m->embed_dim = (int)cfg_int(t, "model.embed_dim", 64);
    m->head_last_step = strcmp(cfg_str(t, "model.head"), "last_step") == 0;
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
        const char *type = cfg_str(t, "evaluate.noise.type");
        int from_model = !type || strcmp(type, "model") == 0;
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
static void check_combinations(const CfgNode *t, const Spec *s, CfgDiags *diags) {
    const ModelSpec *m = &s->model;
    DataSource src = s->data.source;
    int tabular = src == DATA_IDX || src == DATA_CSV || src == DATA_HDF5;
    if (m->type == MODEL_AUTOENCODER) {
        if (s->data.as_sequence)
            diag(diags, t, "data.as_sequence", "an autoencoder reads whole examples: remove data.as_sequence");
        if (!tabular)
            diag(diags, t, "data.source", "an autoencoder needs idx, csv or hdf5 data, not %s",
                 cfg_str(t, "data.source"));
        if (s->loss == LOSS_SOFTMAX_CROSS_ENTROPY)
            diag(diags, t, "loss", "an autoencoder takes squared_error or cross_entropy");
        if (s->loss == LOSS_CROSS_ENTROPY && m->f != ACT_SIGMOID && m->f != ACT_SOFTMAX)
            diag(diags, t, "model.f",
                 "cross_entropy needs x̂ in (0,1), but f is %s (use f: sigmoid, or loss: squared_error)",
                 act_name(m->f));
        if (m->sparsity.type == SPARSITY_KL && m->g != ACT_SIGMOID)
            diag(diags, t, "model.g",
                 "the kl sparsity penalty needs code activations in (0,1): use g: sigmoid (or sparsity type l1)");
        if (m->sparsity.type != SPARSITY_NONE && m->sparsity.weight == 0.0)
            diag(diags, t, "model.sparsity.weight", "a sparsity penalty needs a weight β > 0");
        if (m->noise.type == NOISE_GAUSSIAN && m->noise.sigma == 0.0)
            diag(diags, t, "model.noise.sigma", "gaussian noise needs sigma > 0");
        if ((m->noise.type == NOISE_MASKING || m->noise.type == NOISE_SALT_PEPPER) && m->noise.rate == 0.0)
            diag(diags, t, "model.noise.rate", "%s noise needs rate > 0", noise_name(m->noise.type));
        check_evaluate(t, s, diags);
        return;
    }
    int s2s_data = src == DATA_REVERSE || src == DATA_ADDITION;
    if (src == DATA_REVERSE && s->data.min_length > s->data.max_length)
        diag(diags, t, "data.min_length", "min_length %d is above max_length %d", s->data.min_length,
             s->data.max_length);
    if (m->type == MODEL_SEQ2SEQ) {
        if (!s2s_data)
            diag(diags, t, "data.source", "a seq2seq model reads pairs of token sequences: use data.source reverse "
                                          "or addition, not %s", cfg_str(t, "data.source"));
        if (s->loss != LOSS_SOFTMAX_CROSS_ENTROPY)
            diag(diags, t, "loss", "a seq2seq model predicts tokens: use loss: softmax_cross_entropy");
        if (s->model.beam_width > s->train.batch_size)
            diag(diags, t, "model.beam_width", "beam_width %d is above train.batch_size %d (the beams share its "
                                                "workspaces)", s->model.beam_width, s->train.batch_size);
        return;
    }
    if (m->type == MODEL_ONE_TO_MANY) {
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
    if (src == DATA_CSV)
        diag(diags, t, "data.source", "recurrent models read text, generated tasks, idx images as rows "
                                      "(data.as_sequence: true) or (n, T, d) hdf5 datasets, not csv");
    if (src == DATA_IDX && !s->data.as_sequence)
        diag(diags, t, "data.source", "a recurrent model reads images as sequences of rows: set data.as_sequence: true");
    if ((src == DATA_IDX || src == DATA_HDF5) && strcmp(m->input, "features") != 0)
        diag(diags, t, "model.input", "%s data has real-valued inputs: use input: features", cfg_str(t, "data.source"));
    if ((src == DATA_IDX || src == DATA_HDF5) && !m->head_last_step)
        diag(diags, t, "model.head", "classifying a whole sequence (many-to-one): use head: last_step");
    if (tokens && strcmp(m->input, "features") == 0)
        diag(diags, t, "model.input", "%s data is made of tokens: use input: embedding or onehot",
             cfg_str(t, "data.source"));
    if (src == DATA_ADDING && strcmp(m->input, "features") != 0)
        diag(diags, t, "model.input", "the adding problem has real-valued inputs: use input: features");
    if (tokens && s->loss != LOSS_SOFTMAX_CROSS_ENTROPY)
        diag(diags, t, "loss", "predicting tokens needs loss: softmax_cross_entropy");
    if (src == DATA_ADDING && s->loss != LOSS_SQUARED_ERROR)
        diag(diags, t, "loss", "the adding problem is a regression: use loss: squared_error");
    if (src == DATA_SERIES) {
        /* Forecasting: a window of real values in, one real value out. */
        if (strcmp(m->input, "features") != 0)
            diag(diags, t, "model.input", "series data has real-valued inputs: use input: features");
        if (!m->head_last_step)
            diag(diags, t, "model.head", "a forecast is one value after the window: use head: last_step");
        if (s->loss != LOSS_SQUARED_ERROR)
            diag(diags, t, "loss", "forecasting is a regression: use loss: squared_error");
        if (!s->data.filter_column[0] != !s->data.filter_value[0])
            diag(diags, t, s->data.filter_column[0] ? "data.filter_column" : "data.filter_value",
                 "data.filter_column and data.filter_value go together (e.g. symbol and MSFT)");
    }
    if (src == DATA_ADDING && !m->head_last_step)
        diag(diags, t, "model.head", "the adding problem has one target at the end: use head: last_step");
    if ((src == DATA_TEXT || src == DATA_COPY || src == DATA_PARITY) && m->head_last_step)
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
    if (cfg_validate(tree, &SPEC_SCHEMA, diags) != 0 || diags->count > before) return -1;

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
    s->seed = (uint64_t)cfg_int(t, "seed", 1);
    s->threads = (int)cfg_int(t, "threads", 0);
    read_data(tree, path, &s->data);
    read_model(t, &s->model, diags);
    if (s->model.type == MODEL_AUTOENCODER) read_evaluate(t, &s->model, &s->evaluate);
    else s->evaluate.anomaly_class = -1;
    loss_from_name(cfg_str(t, "loss"), &s->loss);

    OptimType ot = OPT_ADAM;
    optim_from_name(cfg_str(t, "optimizer.type"), &ot);
    s->optim = optim_defaults(ot);
    s->optim.lr = cfg_float(t, "optimizer.lr", 1e-3);
    s->optim.momentum = cfg_float(t, "optimizer.momentum", 0);
    s->optim.nesterov = cfg_bool(t, "optimizer.nesterov", 0);
    s->optim.beta1 = cfg_float(t, "optimizer.beta1", 0.9);
    s->optim.beta2 = cfg_float(t, "optimizer.beta2", 0.999);
    s->optim.alpha = cfg_float(t, "optimizer.alpha", 0.99);
    s->optim.eps = cfg_float(t, "optimizer.eps", s->optim.eps);
    s->optim.weight_decay = cfg_float(t, "optimizer.weight_decay", 0);
    s->optim.decoupled_weight_decay = cfg_bool(t, "optimizer.decoupled_weight_decay", 0);
    if (s->optim.nesterov && s->optim.momentum == 0.0)
        diag(diags, t, "optimizer.nesterov", "Nesterov momentum needs momentum > 0");

    schedule_from_name(cfg_str(t, "schedule.type"), &s->schedule.type);
    s->schedule.lr = s->optim.lr;
    s->schedule.gamma = cfg_float(t, "schedule.gamma", 0.1);
    s->schedule.step_size = (int)cfg_int(t, "schedule.step_size", 10);
    s->schedule.min_lr = cfg_float(t, "schedule.min_lr", 0);
    s->schedule.warmup_steps = cfg_int(t, "schedule.warmup_steps", 0);

    s->clip = (ClipType)index_of("none|value|global_norm", cfg_str(t, "clip.type"));
    s->clip_threshold = cfg_float(t, "clip.threshold", 5.0);

    TrainSpec *tr = &s->train;
    tr->epochs = (int)cfg_int(t, "train.epochs", 10);
    tr->batch_size = (int)cfg_int(t, "train.batch_size", 64);
    tr->max_steps_per_epoch = cfg_int(t, "train.max_steps_per_epoch", 0);
    tr->shuffle = cfg_bool(t, "train.shuffle", 1);
    tr->drop_last = cfg_bool(t, "train.drop_last", 0);
    tr->checkpoint_every = (int)cfg_int(t, "train.checkpoint_every", 1);
    tr->keep_checkpoints = (int)cfg_int(t, "train.keep_checkpoints", 2);
    tr->skip_nan = strcmp(cfg_str(t, "train.on_nan"), "skip") == 0;

    s->sample.every = (int)cfg_int(t, "sample.every", 0);
    s->sample.length = (int)cfg_int(t, "sample.length", 200);
    s->sample.temperature = cfg_float(t, "sample.temperature", 0.8);
    copy_str(s->sample.prime, sizeof s->sample.prime, cfg_str(t, "sample.prime"));
    copy_str(s->output_root, sizeof s->output_root, cfg_str(t, "output.root"));

    check_combinations(t, s, diags);
    return diags->count > before ? -1 : 0;
}

int spec_load(const char *path, char *const *overrides, int n_overrides, Spec *spec, CfgDiags *diags) {
    memset(spec, 0, sizeof *spec);
    CfgNode *tree = cfg_parse_file(path, diags);
    if (!tree) return -1;
    int failed = 0;
    for (int i = 0; i < n_overrides; i++)
        if (cfg_apply_override(tree, overrides[i], diags) != 0) failed = 1;
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
