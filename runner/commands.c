#include "commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "batches.h"
#include "build.h"
#include "sampling.h"
#include "memory.h"
#include "data/text.h"
#include "checkpoint.h"
#include "evaluate.h"
#include "h5read.h"
#include "latest.h"
#include "monitor.h"
#include "rundata.h"
#include "rundir.h"
#include "runspec.h"
#include "spec/schema.h"
#include "train.h"

static int load_spec_or_report(const char *path, char *const *overrides, int n, Spec *spec) {
    CfgDiags diags = {0};
    if (spec_load(path, overrides, n, spec, &diags) != 0) {
        cfg_diags_print(&diags, stderr);
        fprintf(stderr, "exprun: %d problem%s in %s\n", diags.count, diags.count == 1 ? "" : "s", path);
        cfg_diags_free(&diags);
        spec_free(spec);
        return -1;
    }
    cfg_diags_free(&diags);
    return 0;
}

int check_data_files_or_report(const Spec *spec, const char *spec_path) {
    CfgDiags diags = {0};
    int rc = spec_check_data_files(spec, &diags);
    if (rc != 0) {
        cfg_diags_print(&diags, stderr);
        fprintf(stderr, "exprun: %d problem%s in %s; nothing was run\n", diags.count, diags.count == 1 ? "" : "s",
                spec_path);
    }
    cfg_diags_free(&diags);
    return rc;
}

static void emit_line(void *ctx, const char *line) {
    (void)ctx;
    puts(line);
}

/* The output root must be writable, or creatable: check the nearest existing ancestor. */
static int check_output_root(const char *root, ExError *err) {
    char path[4096];
    snprintf(path, sizeof path, "%s", root);
    while (access(path, F_OK) != 0) {
        char *slash = strrchr(path, '/');
        if (!slash) { snprintf(path, sizeof path, "."); break; }
        if (slash == path) { path[1] = '\0'; break; }
        *slash = '\0';
    }
    if (access(path, W_OK) != 0)
        return ex_fail(err, "output.root %s cannot be written (%s: %s)", root, path, strerror(errno));
    return 0;
}

int command_validate(const char *spec_path, char *const *overrides, int n_overrides) {
    Spec spec;
    if (load_spec_or_report(spec_path, overrides, n_overrides, &spec) != 0) return EXIT_USAGE;
    if (check_data_files_or_report(&spec, spec_path) != 0) {
        spec_free(&spec);
        return EXIT_USAGE;
    }
    ExError err;
    RunData rd;
    if (rundata_load(&spec, &rd, &err) != 0) {
        fprintf(stderr, "exprun: %s\n", err.msg);
        spec_free(&spec);
        return EXIT_RUNTIME;
    }
    int status = EXIT_OK;
    Model *model = NULL;
    char warn[1024];
    /* the monitor is checked against the columns this model records, on this data */
    BatchSource val;
    batches_for_evaluation(&val, rd.is_stream ? NULL : &rd.val, &rd.val_stream, spec.train.batch_size, spec.data.seq_len);
    Monitor monitor;
    monitor_init(&monitor, &spec.train.early_stopping);
    if (build_model(&spec, &rd, &model, warn, sizeof warn, &err) != 0 || evaluate_check(&spec, &rd, model, &err) != 0 ||
        monitor_check(&monitor, model, batches_per_epoch(&val) > 0, spec.train.restore_best, &err) != 0) {
        fprintf(stderr, "exprun: %s\n", err.msg);
        status = EXIT_USAGE;
    } else {
        if (warn[0]) fputs(warn, stderr);
        printf("spec %s: valid\n", spec_path);
        if (rd.is_stream)
            printf("data: %s, %zu training characters, %zu validation, vocabulary %d\n", spec.data.path,
                   rd.train_stream.len, rd.val_stream.len, rd.vocab.size);
        else
            printf("data: %s: %d training, %d validation, %d test examples of %d x %d\n", rd.train.source,
                   rd.train.n, rd.val.n, rd.test.n, rd.train.T, rd.train.d ? rd.train.d : 1);
        printf("model (%s):\n", model->ops->family);
        model->ops->describe(model, emit_line, NULL);
        char need[32], have[32];
        const char *source;
        double limit = memory_limit(&source);
        memory_format(build_memory_estimate(), need, sizeof need);
        memory_format(limit, have, sizeof have);
        printf("memory: the model about %s in training (an estimate; the data and libraries come on top); %s: %s\n",
               need, source, have);
        if (check_output_root(spec.output_root, &err) != 0) {
            fprintf(stderr, "exprun: %s\n", err.msg);
            status = EXIT_RUNTIME;
        } else {
            printf("output: %s/%s/ is writable\n", spec.output_root, spec.name);
        }
    }
    batches_free(&val);
    model_free(model);
    rundata_free(&rd);
    spec_free(&spec);
    return status;
}

int command_show(const char *spec_path, char *const *overrides, int n_overrides, int origins) {
    Spec spec;
    if (load_spec_or_report(spec_path, overrides, n_overrides, &spec) != 0) return EXIT_USAGE;
    if (origins) {
        char *text = cfg_emit_yaml_origins(spec.tree);
        fputs(text, stdout);
        free(text);
    } else {
        cfg_emit_yaml(spec.tree, stdout);
    }
    spec_free(&spec);
    return EXIT_OK;
}

static const char *kind_name(SchemaKind k) {
    static const char *const names[] = {"map", "list", "int", "number", "bool", "string", "enum",
                                        "int list", "number list", "any"};
    return names[k];
}

/* Whether key is prefix or below it: "data" holds data.path, "data.limit" itself. */
static int under_prefix(const char *key, const char *prefix) {
    size_t n = strlen(prefix);
    while (n > 0 && prefix[n - 1] == '.') n--;
    return strncmp(key, prefix, n) == 0 && (key[n] == '\0' || key[n] == '.');
}

int command_keys(const char *prefix) {
    int shown = 0;
    for (int i = 0; i < SPEC_SCHEMA.count; i++) {
        const SchemaKey *k = &SPEC_SCHEMA.keys[i];
        if (prefix && !under_prefix(k->path, prefix)) continue;
        shown++;
        printf("%-32s %-8s default %-12s %s%s%s%s%s\n", k->path, kind_name(k->kind),
               k->default_value ? (strcmp(k->default_value, "~") == 0 ? "(none)" : k->default_value) : "(required)",
               k->doc, k->choices ? " [" : "", k->choices ? k->choices : "", k->choices ? "]" : "",
               k->when ? "" : "");
        if (k->when) printf("%-32s only when %s\n", "", k->when);
    }
    if (shown == 0) {
        /* the nearest key, for a typo (optimiser) */
        const char *paths[SPEC_SCHEMA.count];
        for (int i = 0; i < SPEC_SCHEMA.count; i++) paths[i] = SPEC_SCHEMA.keys[i].path;
        const char *best = cfg_closest(prefix, paths, SPEC_SCHEMA.count);
        fprintf(stderr, "exprun keys: no key is %s or below it%s%s%s\n", prefix, best ? " (did you mean " : "",
                best ? best : "", best ? "?)" : "");
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

/* Text generation from a finished (or stopped) run: the vocabulary comes from results.h5, the
 * weights from the latest checkpoint, the architecture from the run's resolved spec. */
int command_sample(const char *run_dir, const char *checkpoint, const char *prime, int length, double temperature,
                   unsigned long long seed) {
    ExError err;
    char path[4200];
    if (length <= 0) {
        fprintf(stderr, "exprun: --length must be positive\n");
        return EXIT_USAGE;
    }
    Spec spec;
    if (run_spec_load(run_dir, &spec) != 0) return EXIT_USAGE;
    int status = EXIT_RUNTIME;
    RunData rd;
    memset(&rd, 0, sizeof rd);
    Model *model = NULL;
    H5Reader *r = NULL;
    if (spec.data.source != DATA_TEXT) {
        fprintf(stderr, "exprun: %s is not a text run (data.source is not text); nothing to sample\n", run_dir);
        status = EXIT_USAGE;
        goto done;
    }
    snprintf(path, sizeof path, "%s/results.h5", run_dir);
    if (h5r_open_own(&r, path, &err) != 0) goto fail;
    int rank = 0;
    int64_t dims[8];
    if (h5r_shape(r, "/vocab/bytes", &rank, dims, &err) != 0) goto fail;
    int32_t bytes32[256];
    uint8_t bytes[256];
    int shape[1] = {(int)dims[0]};
    if (rank != 1 || dims[0] < 1 || dims[0] > 256) { ex_fail(&err, "%s: bad /vocab/bytes", path); goto fail; }
    if (h5r_read_int32s(r, "/vocab/bytes", 1, shape, bytes32, &err) != 0) goto fail;
    for (int i = 0; i < shape[0]; i++) bytes[i] = (uint8_t)bytes32[i];
    if (vocab_from_bytes(&rd.vocab, bytes, shape[0], &err) != 0) goto fail;
    rd.has_vocab = 1;
    rd.is_stream = spec.data.bptt == BPTT_TRUNCATED;
    rd.n_classes = rd.vocab.size;
    rd.train.vocab = rd.vocab.size;
    rd.train.T = spec.data.seq_len;
    char warn[256];
    if (build_model(&spec, &rd, &model, warn, sizeof warn, &err) != 0) goto fail;
    if (latest_load_params(run_dir, checkpoint, &model->params, "to sample from", NULL, &err) != 0) goto fail;
    char *text = calloc((size_t)length + 1, 1);
    Rng rng;
    rng_seed(&rng, seed);
    if (model_sample_text(model, &rd.vocab, prime, length, temperature, &rng, text, &err) != 0) {
        free(text);
        goto fail;
    }
    printf("%s%s\n", prime, text);
    free(text);
    status = EXIT_OK;
    goto done;
fail:
    fprintf(stderr, "exprun: %s\n", err.msg);
done:
    if (r) h5r_close(r);
    model_free(model);
    spec_free(&spec);
    return status;
}
