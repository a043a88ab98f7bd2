/* fuzz_spec.c — libFuzzer target for the spec tree (built and run by tests/fuzz/build.sh; not
 * part of the CMake test glob).
 *
 * Each input is used three ways:
 *   1. as a YAML spec: parse, check emit → parse gives an equal tree, validate against a
 *      schema shaped like the real one, then check the round trip again (defaults included)
 *      and that validating a valid tree a second time changes nothing;
 *   2. every line of it that contains '=' (up to 8) as a command-line override, applied to a
 *      fixed valid spec, which is then validated and round-tripped;
 *   3. lines starting with "#=" as overrides on the tree from 1 (a YAML comment, so they do not
 *      disturb the parse).
 * When built with the project's schema table (FUZZ_WITH_SPEC_SCHEMA, see build.sh), each
 * parsed spec is also validated against it.
 * Crashes, sanitizer reports, leaks and the abort()s below are findings. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/cfg.h"
#ifdef FUZZ_WITH_SPEC_SCHEMA
#include "spec/schema.h"
#endif

static const SchemaKey KEYS[] = {
    {"name", SK_STRING, "experiment", 1, 0, NULL, NULL, ""},
    {"seed", SK_INT, "42", 0, 1e18, NULL, NULL, ""},
    {"notes", SK_STRING, "~", 1, 0, NULL, NULL, ""},
    {"model", SK_MAP, NULL, 1, 0, NULL, NULL, ""},
    {"model.type", SK_ENUM, NULL, 1, 0, "autoencoder|lstm", NULL, ""},
    {"model.hidden", SK_INT, "64", 1, 1e6, NULL, "model.type=lstm", ""},
    {"model.layers", SK_INT_LIST, "[128, 64]", 1, 1e6, NULL, "model.type=autoencoder", ""},
    {"model.tied", SK_BOOL, "false", 1, 0, NULL, "model.type=autoencoder", ""},
    {"model.encoder", SK_LIST, "[]", 1, 0, NULL, "model.type=autoencoder", ""},
    {"model.encoder.*.kind", SK_ENUM, "dense", 1, 0, "dense|noise", NULL, ""},
    {"model.encoder.*.units", SK_INT, NULL, 1, 1e6, NULL, "model.encoder.*.kind=dense", ""},
    {"model.encoder.*.stddev", SK_FLOAT, "0.1", 0, 1e308, NULL, "model.encoder.*.kind=noise", ""},
    {"model.encoder.*.tags", SK_LIST, "~", 1, 0, NULL, NULL, ""},
    {"model.encoder.*.tags.*", SK_STRING, NULL, 1, 0, NULL, NULL, ""},
    {"optimizer", SK_MAP, "{}", 1, 0, NULL, NULL, ""},
    {"optimizer.name", SK_ENUM, "adam", 1, 0, "sgd|adam|rmsprop|adagrad", NULL, ""},
    {"optimizer.lr", SK_FLOAT, "1e-3", 0, 10, NULL, NULL, ""},
    {"optimizer.betas", SK_FLOAT_LIST, "[0.9, 0.999]", 0, 1, NULL, "optimizer.name=adam", ""},
    {"training", SK_MAP, "{}", 1, 0, NULL, NULL, ""},
    {"training.epochs", SK_INT, "10", 1, 1000000, NULL, NULL, ""},
    {"training.shuffle", SK_BOOL, "true", 1, 0, NULL, NULL, ""},
    {"training.stop", SK_MAP, "~", 1, 0, NULL, "training.shuffle=true", ""},
    {"training.stop.patience", SK_INT, "5", 0, 100, NULL, NULL, ""},
    {"sweep", SK_ANY, "~", 1, 0, NULL, NULL, ""},
};
static const Schema SCHEMA = {KEYS, (int)(sizeof KEYS / sizeof KEYS[0])};

static const char BASE[] = "name: base\n"
                           "model:\n"
                           "  type: autoencoder\n"
                           "  layers: [8, 4]\n"
                           "  encoder:\n"
                           "    - {kind: dense, units: 4}\n"
                           "    - kind: noise\n"
                           "      tags: [a, b]\n"
                           "training: {epochs: 3, stop: {patience: 2}}\n";

static FILE *devnull;
static CfgNode *base_tree; /* BASE, parsed once; each input works on a clone */

static void die(const char *what, const CfgNode *tree) {
    fprintf(stderr, "fuzz_spec: %s\n", what);
    if (tree) cfg_emit_yaml(tree, stderr);
    abort();
}

/* emit → parse must give an equal tree. */
static void check_round_trip(const CfgNode *root) {
    char *yaml = cfg_emit_yaml_string(root);
    CfgDiags d = {0};
    CfgNode *again = cfg_parse_string(yaml, strlen(yaml), "emitted", &d);
    if (!again) {
        cfg_diags_print(&d, stderr);
        fprintf(stderr, "%s", yaml);
        die("emitted YAML does not parse", NULL);
    }
    if (!cfg_equal(root, again)) {
        fprintf(stderr, "emitted:\n%s", yaml);
        die("round trip changed the tree", root);
    }
    cfg_free(again);
    cfg_diags_free(&d);
    free(yaml);
}

/* Validate; a tree that validates must validate again without change. */
static void validate(CfgNode *root, const Schema *schema, CfgDiags *d) {
    int rc = cfg_validate(root, schema, d);
    if ((rc == 0) != (d->count == 0)) die("cfg_validate's result disagrees with its diagnostics", root);
    cfg_diags_print(d, devnull);
    ExError err;
    cfg_diags_to_error(d, &err);
    check_round_trip(root);
    if (rc != 0) return;
    if (schema == &SCHEMA && (!cfg_has(root, "model.type") || !cfg_has(root, "training.epochs")))
        die("a valid tree lacks a required or defaulted key", root);
    CfgNode *copy = cfg_clone(root);
    CfgDiags again = {0};
    if (cfg_validate(root, schema, &again) != 0 || !cfg_equal(copy, root))
        die("validation is not idempotent", root);
    cfg_free(copy);
    cfg_diags_free(&again);
    /* The getters must cope with whatever is there. */
    (void)cfg_int(root, "model.encoder.0.units", 0);
    (void)cfg_float(root, "optimizer.betas.1", 0);
    (void)cfg_bool(root, "model.tied", 0);
    (void)cfg_len(root, "model.layers");
    (void)cfg_str(root, "name");
}

/* Copy of line [p, end) as a C string (at most 512 bytes). */
static char *line_copy(const char *p, const char *end) {
    size_t n = (size_t)(end - p);
    if (n > 512) n = 512;
    char *s = malloc(n + 1);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Apply the input's override lines: all lines with '=' (to base), or "#=" lines (to spec). */
static void apply_lines(CfgNode *root, const char *text, size_t len, int comments_only) {
    const char *p = text, *end = text + len;
    int applied = 0;
    while (p < end && applied < 8) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        char *line = line_copy(p, stop);
        const char *assignment = NULL;
        if (comments_only && strncmp(line, "#=", 2) == 0) assignment = line + 2;
        if (!comments_only && strchr(line, '=')) assignment = line;
        if (assignment && strlen(assignment) == (size_t)(stop - p) - (size_t)(assignment - line)) {
            CfgNode *before = cfg_clone(root);
            CfgDiags d = {0};
            int rc = cfg_apply_override(root, assignment, &d);
            if ((rc == 0) != (d.count == 0)) die("override result disagrees with diagnostics", root);
            if (rc != 0 && !cfg_equal(before, root)) die("a failed override changed the tree", root);
            cfg_diags_free(&d);
            cfg_free(before);
            applied++;
        }
        free(line);
        p = stop + 1;
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    devnull = fopen("/dev/null", "w");
    CfgDiags d = {0};
    if (cfg_schema_check(&SCHEMA, &d) != 0) {
        cfg_diags_print(&d, stderr);
        die("the fuzz schema is unsound", NULL);
    }
#ifdef FUZZ_WITH_SPEC_SCHEMA
    if (cfg_schema_check(&SPEC_SCHEMA, &d) != 0) {
        cfg_diags_print(&d, stderr);
        die("the project's schema is unsound", NULL);
    }
#endif
    base_tree = cfg_parse_string(BASE, sizeof BASE - 1, "base.yaml", &d);
    if (!base_tree) die("the base spec does not parse", NULL);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *text = (const char *)data;
    CfgDiags d = {0};
    CfgNode *root = cfg_parse_string(text, size, "fuzz.yaml", &d);
    if (!root && d.count == 0) die("parse failed without a diagnostic", NULL);
    if (root) {
        check_round_trip(root);
        apply_lines(root, text, size, 1);
#ifdef FUZZ_WITH_SPEC_SCHEMA
        CfgNode *real = cfg_clone(root);
        CfgDiags rd = {0};
        validate(real, &SPEC_SCHEMA, &rd);
        cfg_free(real);
        cfg_diags_free(&rd);
#endif
        validate(root, &SCHEMA, &d);
        cfg_free(root);
    }
    cfg_diags_free(&d);

    CfgNode *base = cfg_clone(base_tree);
    apply_lines(base, text, size, 0);
    validate(base, &SCHEMA, &d);
    cfg_free(base);
    cfg_diags_free(&d);
    return 0;
}
