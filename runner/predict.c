/* predict.c — `exprun predict` (predict.h). */
#include "predict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build.h"
#include "h5doc.h"
#include "h5read.h"
#include "latest.h"
#include "predictgen.h"
#include "rundata.h"
#include "rundir.h"
#include "runspec.h"
#include "seqmodel.h"
#include "train.h"
#include "version.h"

static const char PREDICT_USAGE[] =
    "usage: exprun predict RUN_DIR INPUT.h5 [-o OUT.h5] [--checkpoint best|latest|FILE]\n"
    "       INPUT.h5: /tokens (N, T) integers, or /x (N, T, d) floats (as the model takes them);\n"
    "                 seq2seq: /tokens (N, Tx) or /text (N strings); one_to_many: /classes (N)\n"
    "       OUT.h5 (default RUN_DIR/predictions-NAME.h5): /y, the head's outputs per step or per sequence;\n"
    "                 seq2seq: greedy /y tokens, /logits, /text; one_to_many: generated /y (N, T, d)\n";

typedef struct PredictArgs {
    const char *run_dir, *input, *out, *checkpoint;
} PredictArgs;

static int parse(int argc, char **argv, PredictArgs *a) {
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        int has_value = i + 1 < argc;
        if ((strcmp(s, "-o") == 0 || strcmp(s, "--out") == 0) && has_value) a->out = argv[++i];
        else if (strcmp(s, "--checkpoint") == 0 && has_value) a->checkpoint = argv[++i];
        else if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            fputs(PREDICT_USAGE, stdout);
            return 1;
        } else if (s[0] == '-') {
            fprintf(stderr, "exprun predict: unknown option or missing value: %s\ntry 'exprun predict --help'\n", s);
            return -1;
        } else if (!a->run_dir) a->run_dir = s;
        else if (!a->input) a->input = s;
        else {
            fprintf(stderr, "exprun predict: unexpected argument '%s'\ntry 'exprun predict --help'\n", s);
            return -1;
        }
    }
    if (!a->run_dir || !a->input) {
        fprintf(stderr, "exprun predict: missing %s\ntry 'exprun predict --help'\n", a->run_dir ? "INPUT" : "RUN_DIR");
        return -1;
    }
    return 0;
}

/* The input sequences: tokens (N, T) or features (N, T, d), checked against the model. */
typedef struct Sequences {
    int N, T, d;
    int32_t *tokens;
    float *x;
} Sequences;

static int read_sequences(const char *path, const SeqModelConfig *c, Sequences *s, ExError *err) {
    memset(s, 0, sizeof *s);
    H5Reader *r = NULL;
    if (h5r_open(&r, path, err) != 0) return -1;
    int features = c->input == SEQ_INPUT_FEATURES, rc = 0;
    const char *dset = features ? "/x" : "/tokens";
    int rank = 0;
    int64_t dims[H5R_MAX_RANK] = {0};
    if (!h5r_exists(r, dset))
        rc = ex_fail(err, "%s: no %s: the model takes %s", path, dset,
                     features ? "features x (N, T, d) floats" : "tokens (N, T) integers");
    if (rc == 0) rc = h5r_shape(r, dset, &rank, dims, err);
    if (rc == 0 && rank != (features ? 3 : 2))
        rc = ex_fail(err, "%s: %s has rank %d, expected %s", path, dset, rank, features ? "3 (N, T, d)" : "2 (N, T)");
    if (rc == 0 && (dims[1] < 1 || dims[1] > c->max_T))
        rc = ex_fail(err, "%s: %s has T = %lld steps; this run's model takes 1..%d", path, dset, (long long)dims[1],
                     c->max_T);
    if (rc == 0 && features && dims[2] != c->n_features)
        rc = ex_fail(err, "%s: /x has d = %lld features per step; the model takes %d", path, (long long)dims[2],
                     c->n_features);
    if (rc == 0) {
        s->N = (int)dims[0], s->T = (int)dims[1], s->d = features ? (int)dims[2] : 0;
        size_t n = (size_t)s->N * s->T * (features ? s->d : 1);
        if (features) {
            s->x = malloc((n ? n : 1) * sizeof *s->x);
            rc = h5r_read_floats(r, dset, 3, (int[]){s->N, s->T, s->d}, s->x, err);
        } else {
            s->tokens = malloc((n ? n : 1) * sizeof *s->tokens);
            rc = h5r_read_int32s(r, dset, 2, (int[]){s->N, s->T}, s->tokens, err);
            for (size_t k = 0; rc == 0 && k < n; k++)
                if (s->tokens[k] < 0 || s->tokens[k] >= c->vocab)
                    rc = ex_fail(err, "%s: token %d at position %zu is outside the vocabulary [0, %d)", path,
                                 s->tokens[k], k, c->vocab);
        }
    }
    h5r_close(r);
    return rc;
}

/* The head's outputs for every sequence, batch by batch through eval_batch (the training-mode
 * noise and dropout off; each batch from the model's initial state), with placeholder targets
 * (the loss is not wanted). y: (N, T, n_out) per step or (N, n_out). */
static int predict_all(Model *m, const Sequences *s, float *y, ExError *err) {
    const SeqModelConfig *c = seqmodel_config(m);
    int B = m->max_batch, per_step = c->head == SEQ_HEAD_PER_STEP, V = c->n_out, Ty = per_step ? s->T : 1;
    int32_t *zeros_tok = calloc((size_t)B * s->T, sizeof *zeros_tok);
    float *zeros_y = calloc((size_t)B * Ty * V, sizeof *zeros_y);
    int rc = 0;
    for (int start = 0; rc == 0 && start < s->N; start += B) {
        int count = s->N - start < B ? s->N - start : B;
        Batch b = {0};
        b.B = count, b.T = s->T, b.d = s->d;
        if (s->x) b.x = s->x + (size_t)start * s->T * s->d;
        else b.x_tokens = s->tokens + (size_t)start * s->T;
        if (c->loss == LOSS_SOFTMAX_CROSS_ENTROPY) {
            if (per_step) b.y_tokens = zeros_tok, b.Ty = s->T;
            else b.labels = zeros_tok;
        } else {
            b.y = zeros_y, b.Ty = Ty, b.dy = V;
        }
        StepStats stats = {0};
        m->ops->eval_batch(m, &b, &stats);
        const char *why = m->ops->last_error(m);
        if (why && why[0]) {
            rc = ex_fail(err, "%s", why);
            break;
        }
        int rows, n_out;
        const float *out = m->ops->outputs(m, &rows, &n_out);
        /* per step: row t·count + b (time-major) → y[start + b][t] */
        for (int r = 0; r < count; r++)
            for (int t = 0; t < Ty; t++) {
                const float *src = out + (size_t)(per_step ? t * count + r : r) * V;
                memcpy(y + ((size_t)(start + r) * Ty + t) * V, src, (size_t)V * sizeof *y);
            }
    }
    free(zeros_tok);
    free(zeros_y);
    return rc;
}

/* The file's own attributes, whatever the family. */
static H5Doc *predictions_doc(const PredictArgs *a, const LatestCheckpoint *lc) {
    H5Doc *doc = h5doc_new();
    h5doc_attr_str(doc, "/", "kind", "predictions");
    h5doc_attr_str(doc, "/", "exprun_version", exprun_version());
    h5doc_attr_str(doc, "/", "run_dir", a->run_dir);
    h5doc_attr_str(doc, "/", "checkpoint", lc->path);
    h5doc_attr_str(doc, "/", "input", a->input);
    return doc;
}

/* seq2seq and one_to_many (predictgen.h): their outputs into a new file at out. */
static int predict_generating(Model *m, const Spec *spec, const RunData *rd, const PredictArgs *a,
                              const LatestCheckpoint *lc, const char *out, ExError *err) {
    H5Doc *doc = predictions_doc(a, lc);
    h5doc_attr_str(doc, "/", "model", m->ops->family);
    char summary[512] = "";
    int rc = spec->model.type == MODEL_SEQ2SEQ
                 ? predict_seq2seq(m, rd->token_chars, a->input, doc, summary, sizeof summary, err)
                 : predict_onetomany(m, a->input, doc, summary, sizeof summary, err);
    if (rc == PREDICT_OK && h5doc_publish(doc, out, err) != 0) rc = PREDICT_FAILED;
    h5doc_free(doc);
    if (rc != PREDICT_OK) {
        fprintf(stderr, "exprun predict: %s\n", err->msg);
        return rc == PREDICT_BAD_INPUT ? EXIT_USAGE : EXIT_RUNTIME;
    }
    printf("%s: %s from %s\n", out, summary, lc->path);
    return EXIT_OK;
}

int command_predict(int argc, char **argv) {
    PredictArgs a;
    int parsed = parse(argc, argv, &a);
    if (parsed != 0) return parsed > 0 ? EXIT_OK : EXIT_USAGE;
    char newest[4400];   /* results/NAME: its newest run */
    a.run_dir = rundir_resolve(a.run_dir, newest, sizeof newest);
    char out[4400], why[8800];
    if (a.out) snprintf(out, sizeof out, "%s", a.out);
    else run_output_path(out, sizeof out, a.run_dir, "predictions", a.input);
    if (a.out && rundir_owns(a.out, why, sizeof why)) {
        fprintf(stderr, "exprun predict: refusing to write -o %s: %s, which exprun never writes over\n", a.out, why);
        return EXIT_USAGE;
    }
    Spec spec;
    if (run_spec_load(a.run_dir, &spec) != 0) return EXIT_USAGE;
    if (spec.model.type == MODEL_AUTOENCODER) {
        fprintf(stderr, "exprun predict: %s is an autoencoder run; its codes and reconstructions come from exprun encode\n",
                a.run_dir);
        spec_free(&spec);
        return EXIT_USAGE;
    }
    int status = EXIT_RUNTIME;
    ExError err;
    RunData rd;
    memset(&rd, 0, sizeof rd);
    Model *model = NULL;
    Sequences s = {0};
    float *y = NULL;
    LatestCheckpoint lc;
    char warn[1024];
    if (rundata_load(&spec, &rd, &err) != 0) goto fail;   /* the vocabulary and sizes, as in training */
    if (build_model(&spec, &rd, &model, warn, sizeof warn, &err) != 0) goto fail;
    if (latest_load_params(a.run_dir, a.checkpoint, &model->params, "to predict with", &lc, &err) != 0) goto fail;
    if (spec.model.type != MODEL_SEQUENCE) {
        status = predict_generating(model, &spec, &rd, &a, &lc, out, &err);
        goto done;
    }
    const SeqModelConfig *c = seqmodel_config(model);
    if (read_sequences(a.input, c, &s, &err) != 0) {
        status = EXIT_USAGE;
        goto fail;
    }
    int per_step = c->head == SEQ_HEAD_PER_STEP, Ty = per_step ? s.T : 1;
    y = malloc(((size_t)s.N * Ty * c->n_out + 1) * sizeof *y);
    if (predict_all(model, &s, y, &err) != 0) goto fail;
    H5Doc *doc = predictions_doc(&a, &lc);
    h5doc_attr_str(doc, "/", "head", per_step ? "per_step" : "last_step");
    h5doc_attr_str(doc, "/", "loss", loss_name(spec.loss));
    if (per_step) h5doc_floats(doc, "/y", 3, (int[]){s.N, s.T, c->n_out}, y);
    else h5doc_floats(doc, "/y", 2, (int[]){s.N, c->n_out}, y);
    h5doc_attr_str(doc, "/y", "description",
                   c->loss == LOSS_SOFTMAX_CROSS_ENTROPY
                       ? "the head's logits (before the softmax), per step (N, T, classes) or per sequence (N, classes)"
                       : "the head's outputs, per step (N, T, n_out) or per sequence (N, n_out)");
    int rc = h5doc_publish(doc, out, &err);
    h5doc_free(doc);
    if (rc != 0) goto fail;
    printf("%s: %d sequence%s of %d steps, /y (%d%s%s, %d) from %s\n", out, s.N, s.N == 1 ? "" : "s", s.T, s.N,
           per_step ? ", " : "", per_step ? "T" : "", c->n_out, lc.path);
    status = EXIT_OK;
    goto done;
fail:
    fprintf(stderr, "exprun predict: %s\n", err.msg);
done:
    free(y);
    free(s.tokens);
    free(s.x);
    model_free(model);
    rundata_free(&rd);
    spec_free(&spec);
    return status;
}
