/* export.c — `exprun export` (export.h). */
#include "export.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "h5read.h"
#include "latest.h"
#include "onnxexport.h"
#include "onnxgraph.h"
#include "params.h"
#include "rundir.h"
#include "runspec.h"
#include "safetensors.h"
#include "spec/spec.h"
#include "torchnames.h"
#include "train.h"
#include "version.h"

static const char EXPORT_USAGE[] =
    "usage: exprun export RUN_DIR -o FILE [--format safetensors|onnx] [--checkpoint best|latest|FILE]\n"
    "       safetensors: the parameters under PyTorch's state_dict names (docs/export.md)\n"
    "       onnx: the model as an ONNX graph (autoencoders; rnn, lstm, gru sequence models)\n"
    "       --format: default from FILE's extension; --checkpoint: default latest (best: checkpoints/BEST)\n";

typedef struct ExportArgs {
    const char *run_dir, *out, *format, *checkpoint;
} ExportArgs;

static int parse(int argc, char **argv, ExportArgs *a) {
    memset(a, 0, sizeof *a);
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        int has_value = i + 1 < argc;
        if ((strcmp(s, "-o") == 0 || strcmp(s, "--out") == 0) && has_value) a->out = argv[++i];
        else if (strcmp(s, "--format") == 0 && has_value) a->format = argv[++i];
        else if (strcmp(s, "--checkpoint") == 0 && has_value) a->checkpoint = argv[++i];
        else if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            fputs(EXPORT_USAGE, stdout);
            return 1;
        } else if (s[0] == '-') {
            fprintf(stderr, "exprun export: unknown option or missing value: %s\ntry 'exprun export --help'\n", s);
            return -1;
        } else if (!a->run_dir) a->run_dir = s;
        else {
            fprintf(stderr, "exprun export: unexpected argument '%s'\ntry 'exprun export --help'\n", s);
            return -1;
        }
    }
    if (!a->run_dir || !a->out) {
        fprintf(stderr, "exprun export: missing %s\ntry 'exprun export --help'\n", a->run_dir ? "-o FILE" : "RUN_DIR");
        return -1;
    }
    if (!a->format) {
        const char *dot = strrchr(a->out, '.');
        if (dot && strcmp(dot, ".safetensors") == 0) a->format = "safetensors";
        else if (dot && strcmp(dot, ".onnx") == 0) a->format = "onnx";
        else {
            fprintf(stderr, "exprun export: which format for %s? Name a .safetensors or .onnx file, or give "
                            "--format safetensors|onnx\n", a->out);
            return -1;
        }
    }
    if (strcmp(a->format, "safetensors") != 0 && strcmp(a->format, "onnx") != 0) {
        fprintf(stderr, "exprun export: unknown --format %s (known: safetensors, onnx)\n", a->format);
        return -1;
    }
    return 0;
}

/* The checkpoint's views (/model/...) as a Params of the same names, shapes and layouts, then
 * their values through the checked load; and its resolved spec, typed. */
static int read_checkpoint(const char *path, Params *p, Spec *spec, char **spec_text, ExError *err) {
    CheckpointInfo info;
    if (checkpoint_info(path, &info, err) != 0) return -1;   /* the seal, before HDF5 parses the rest */
    H5Reader *r = NULL;
    if (h5r_open(&r, path, err) != 0) return -1;
    size_t n = 0;
    char **dsets = NULL;
    int rc = h5r_list_datasets(r, "/model", &n, &dsets, err);
    for (size_t k = 0; rc == 0 && k < n; k++) {
        H5RInfo di;
        char *layout = NULL;
        rc = h5r_info(r, dsets[k], &di, err);
        if (rc == 0 && (di.rank < 1 || di.rank > 2)) rc = ex_fail(err, "%s: %s has rank %d", path, dsets[k], di.rank);
        if (rc == 0 && h5r_has_attr(r, dsets[k], "layout")) rc = h5r_attr_str(r, dsets[k], "layout", &layout, err);
        if (rc == 0) {
            int shape[2] = {(int)di.dims[0], di.rank > 1 ? (int)di.dims[1] : 0};
            params_add(p, dsets[k] + strlen("/model/"), di.rank, shape, layout);
        }
        free(layout);
    }
    h5r_free_strings(dsets, n);
    if (rc == 0) rc = h5r_read_string(r, "/spec", spec_text, err);
    h5r_close(r);
    if (rc != 0) return -1;
    params_alloc(p);
    if (checkpoint_load_params_only(path, p, 1, NULL, err) != 0) return -1;
    if (run_spec_parse(*spec_text, path, spec) != 0) return ex_fail(err, "%s: its spec no longer validates", path);
    return 0;
}

int command_export(int argc, char **argv) {
    ExportArgs a;
    int parsed = parse(argc, argv, &a);
    if (parsed != 0) return parsed > 0 ? EXIT_OK : EXIT_USAGE;
    char newest[4400];   /* results/NAME: its newest run */
    a.run_dir = rundir_resolve(a.run_dir, newest, sizeof newest);
    char why[8800];
    if (rundir_owns(a.out, why, sizeof why)) {
        fprintf(stderr, "exprun export: refusing to write -o %s: %s, which exprun never writes over\n", a.out, why);
        return EXIT_USAGE;
    }
    ExError err;
    LatestCheckpoint lc;
    if (latest_resolve(a.run_dir, a.checkpoint, "to export", &lc, &err) != 0) {
        fprintf(stderr, "exprun export: %s\n", err.msg);
        return EXIT_USAGE;
    }
    Params p = {0};
    Spec spec;
    char *spec_text = NULL;
    TorchState ts = {0};
    int status = EXIT_RUNTIME, have_spec = 0;
    if (read_checkpoint(lc.path, &p, &spec, &spec_text, &err) != 0) goto fail;
    have_spec = 1;
    char why_not[256];
    if (strcmp(a.format, "onnx") == 0 && !onnx_export_supports(&spec, why_not, sizeof why_not)) {
        fprintf(stderr, "exprun export: %s: %s; --format safetensors exports it under PyTorch's names "
                        "(docs/export.md)\n", a.run_dir, why_not);
        status = EXIT_USAGE;
        goto done;
    }
    if (strcmp(a.format, "onnx") == 0) {
        const char *keys[] = {"exprun_version", "checkpoint", "spec"};
        const char *vals[] = {exprun_version(), lc.path, spec_text};
        if (onnx_export(&p, &spec, a.out, keys, vals, 3, &err) != 0) goto fail;
        printf("%s: ONNX (opset %d) from %s\n", a.out, ONNX_OPSET, lc.path);
        status = EXIT_OK;
        goto done;
    }
    if (torch_state_from_params(&p, &spec, &ts, &err) != 0) goto fail;
    const StMeta meta[] = {
        {"format", "pt"},
        {"exprun_version", exprun_version()},
        {"checkpoint", lc.path},
        {"torch_modules", ts.modules},
        {"spec", spec_text},
    };
    if (safetensors_write(a.out, ts.tensors, ts.n, meta, (int)(sizeof meta / sizeof meta[0]), &err) != 0) goto fail;
    printf("%s: %d tensors from %s\n%s", a.out, ts.n, lc.path, ts.modules);
    status = EXIT_OK;
    goto done;
fail:
    fprintf(stderr, "exprun export: %s\n", err.msg);
done:
    torch_state_free(&ts);
    if (have_spec) spec_free(&spec);
    free(spec_text);
    params_free(&p);
    return status;
}
