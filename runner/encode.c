#include "encode.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build.h"
#include "checkpoint.h"
#include "h5doc.h"
#include "latest.h"
#include "rundata.h"
#include "rundir.h"
#include "runspec.h"
#include "spec/spec.h"
#include "train.h"
#include "version.h"

static const char ENCODE_USAGE[] =
    "usage: exprun encode RUN_DIR DATA [--labels FILE] [--out FILE] [--checkpoint best|latest|FILE] [--quiet]\n"
    "       DATA: a file in the run's data format, or train | val | test\n"
    "       --checkpoint: the weights to encode with (default latest; best: checkpoints/BEST)\n";

typedef struct EncodeArgs {
    const char *run_dir, *data, *labels, *out, *checkpoint;
    int quiet;
} EncodeArgs;

static int parse(int argc, char **argv, EncodeArgs *a) {
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        int has_value = i + 1 < argc;
        if (strcmp(s, "--out") == 0 && has_value) a->out = argv[++i];
        else if (strcmp(s, "--labels") == 0 && has_value) a->labels = argv[++i];
        else if (strcmp(s, "--checkpoint") == 0 && has_value) a->checkpoint = argv[++i];
        else if (strcmp(s, "--quiet") == 0 || strcmp(s, "-q") == 0) a->quiet = 1;
        else if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            fputs(ENCODE_USAGE, stdout);
            return 1;
        } else if (s[0] == '-' && s[1] == '-') {
            fprintf(stderr, "exprun encode: unknown option or missing value: %s\ntry 'exprun encode --help'\n", s);
            return -1;
        } else if (!a->run_dir) a->run_dir = s;
        else if (!a->data) a->data = s;
        else {
            fprintf(stderr, "exprun encode: unexpected argument '%s'\ntry 'exprun encode --help'\n", s);
            return -1;
        }
    }
    if (!a->run_dir || !a->data) {
        fprintf(stderr, "exprun encode: missing %s\ntry 'exprun encode --help'\n", a->run_dir ? "DATA" : "RUN_DIR");
        return -1;
    }
    return 0;
}

/* IDX labels for DATA: --labels, the spec's own, or the MNIST-named neighbour file. */
static const char *labels_for(const Spec *spec, const char *data, const char *given, char *buf, size_t cap) {
    if (given) return given;
    if (spec->data.source != DATA_IDX) return NULL;
    if (strcmp(data, spec->data.path) == 0 && spec->data.labels[0]) return spec->data.labels;
    if (strcmp(data, spec->data.test_path) == 0 && spec->data.test_labels[0]) return spec->data.test_labels;
    const char *at = strstr(data, "images-idx3");
    if (!at || strlen(data) + 1 > cap) return NULL;
    snprintf(buf, cap, "%.*slabels-idx1%s", (int)(at - data), data, at + strlen("images-idx3"));
    return access(buf, R_OK) == 0 ? buf : NULL;
}

static int write_codes(const char *out, const EncodeArgs *a, const Spec *spec, const char *ckpt, const Dataset *ds,
                       const float *codes, int K, const double *row_loss, const double *row_sq, ExError *err) {
    H5Doc *doc = h5doc_new();
    h5doc_attr_str(doc, "/", "kind", "codes");
    h5doc_attr_str(doc, "/", "exprun_version", exprun_version());
    h5doc_attr_str(doc, "/", "run_dir", a->run_dir);
    h5doc_attr_str(doc, "/", "checkpoint", ckpt);
    h5doc_attr_str(doc, "/", "data", a->data);
    h5doc_attr_str(doc, "/", "loss", loss_name(spec->loss));
    h5doc_attr_str(doc, "/", "scale", scale_name(spec->data.scale));
    h5doc_attr_int(doc, "/", "binarize", spec->data.binarize);
    h5doc_attr_int(doc, "/", "code_size", K);
    h5doc_attr_int(doc, "/", "examples", ds->n);
    int shape2[2] = {ds->n, K}, shape1[1] = {ds->n};
    h5doc_floats(doc, "/codes", 2, shape2, codes);
    h5doc_attr_str(doc, "/codes", "description", "h = g(W x + b) (deep: the innermost layer), one row per example");
    h5doc_doubles(doc, "/reconstruction_error", 1, shape1, row_loss);
    h5doc_attr_str(doc, "/reconstruction_error", "description",
                   "the run's loss of each example alone, summed over its values");
    h5doc_doubles(doc, "/squared_error", 1, shape1, row_sq);
    h5doc_attr_str(doc, "/squared_error", "description", "sum over the example's values of (x̂_j − x_j)²");
    if (ds->labels) {
        h5doc_int32s(doc, "/labels", 1, shape1, ds->labels);
        h5doc_attr_int(doc, "/labels", "num_classes", ds->num_classes);
    }
    int rc = h5doc_publish(doc, out, err);
    h5doc_free(doc);
    return rc;
}

int command_encode(int argc, char **argv) {
    EncodeArgs a;
    int parsed = parse(argc, argv, &a);
    if (parsed != 0) return parsed > 0 ? EXIT_OK : EXIT_USAGE;
    char newest[4400];   /* results/NAME: its newest run */
    a.run_dir = rundir_resolve(a.run_dir, newest, sizeof newest);
    char why[8800];
    if (a.out && rundir_owns(a.out, why, sizeof why)) {
        fprintf(stderr, "exprun encode: refusing to write --out %s: %s, which exprun never writes over. Choose "
                        "another file (by default the codes go to RUN_DIR/codes-NAME.h5)\n", a.out, why);
        return EXIT_USAGE;
    }
    Spec spec;
    if (run_spec_load(a.run_dir, &spec) != 0) return EXIT_USAGE;
    int status = EXIT_RUNTIME;
    ExError err;
    RunData rd;
    memset(&rd, 0, sizeof rd);
    Dataset own = {0};
    Model *model = NULL;
    float *codes = NULL;
    double *row_loss = NULL, *row_sq = NULL;
    float *recon = NULL;
    /* The run's data again: the scaler is fitted on the same training split, so it is the same. */
    if (rundata_load(&spec, &rd, &err) != 0) goto fail;
    char warn[1024];
    if (build_model(&spec, &rd, &model, warn, sizeof warn, &err) != 0) goto fail;
    const CodeOps *co = model->ops->codes;
    if (!co) {
        fprintf(stderr, "exprun: %s is not an autoencoder run (its %s model has no code layer h); nothing to encode\n",
                a.run_dir, model->ops->family);
        model_free(model);
        rundata_free(&rd);
        spec_free(&spec);
        return EXIT_USAGE;
    }
    LatestCheckpoint lc;
    if (latest_load_params(a.run_dir, a.checkpoint, &model->params, "to encode with", &lc, &err) != 0) goto fail;

    const Dataset *ds = NULL;
    int is_split = access(a.data, F_OK) != 0 &&
                   (strcmp(a.data, "train") == 0 || strcmp(a.data, "val") == 0 || strcmp(a.data, "test") == 0);
    if (is_split) {
        ds = strcmp(a.data, "train") == 0 ? &rd.train : strcmp(a.data, "val") == 0 ? &rd.val : &rd.test;
        if (ds->n == 0) {
            ex_fail(&err, "the run has no %s split", a.data);
            goto fail;
        }
    } else {
        char guess[4400];
        const char *labels = labels_for(&spec, a.data, a.labels, guess, sizeof guess);
        if (rundata_load_file(&spec, &rd, a.data, labels, &own, &err) != 0) goto fail;
        ds = &own;
    }
    int K = co->code_size(model), n_in = co->input_size(model), B = model->max_batch;
    codes = malloc(((size_t)ds->n * K + 1) * sizeof *codes);
    row_loss = malloc(((size_t)ds->n + 1) * sizeof *row_loss);
    row_sq = malloc(((size_t)ds->n + 1) * sizeof *row_sq);
    recon = malloc((size_t)B * n_in * sizeof *recon);
    double mean_loss = 0.0;
    for (int start = 0; start < ds->n; start += B) {
        int count = ds->n - start < B ? ds->n - start : B;
        const float *x = ds->x + (size_t)start * n_in;
        co->encode(model, x, count, codes + (size_t)start * K, recon, row_loss + start);
        for (int i = 0; i < count; i++) {
            double sq = 0.0;
            for (int j = 0; j < n_in; j++) {
                double t = (double)recon[(size_t)i * n_in + j] - (double)x[(size_t)i * n_in + j];
                sq += t * t;
            }
            row_sq[start + i] = sq;
            mean_loss += row_loss[start + i];
        }
    }
    char out[4400];
    if (a.out) snprintf(out, sizeof out, "%s", a.out);
    else run_output_path(out, sizeof out, a.run_dir, "codes", a.data);   /* checked at the start */
    if (write_codes(out, &a, &spec, lc.path, ds, codes, K, row_loss, row_sq, &err) != 0) goto fail;
    if (!a.quiet)
        printf("%s: %d codes of size %d%s, mean reconstruction error %.6g (%s), from %s\n", out, ds->n, K,
               ds->labels ? " with labels" : "", ds->n ? mean_loss / ds->n : 0.0, loss_name(spec.loss), lc.path);
    status = EXIT_OK;
    goto done;
fail:
    fprintf(stderr, "exprun: %s\n", err.msg);
done:
    free(codes);
    free(row_loss);
    free(row_sq);
    free(recon);
    dataset_free(&own);
    model_free(model);
    rundata_free(&rd);
    spec_free(&spec);
    return status;
}
