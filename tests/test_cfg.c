/* test_cfg.c — the spec tree: parsing with positions, validation against a schema (every error
 * kind with its line, column and path), defaults, conditions, overrides, emitting, and replay of
 * the fuzzer's regression inputs. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spec/cfg.h"
#include "testutil.h"

/* A small schema with the features the real one uses: a discriminator (model.type) with
 * conditional keys, a list of maps whose item keys have their own condition, int ranges,
 * floats, enums, bools, number lists, an optional key without default and an SK_ANY block. */
static const SchemaKey TEST_KEYS[] = {
    {"name", SK_STRING, "experiment", 1, 0, NULL, NULL, "run name"},
    {"seed", SK_INT, "42", 0, 1e18, NULL, NULL, "RNG seed"},
    {"notes", SK_STRING, "~", 1, 0, NULL, NULL, "free text, optional"},
    {"model", SK_MAP, NULL, 1, 0, NULL, NULL, "the network"},
    {"model.type", SK_ENUM, NULL, 1, 0, "autoencoder|lstm", NULL, "model family"},
    {"model.hidden", SK_INT, "64", 1, 1e6, NULL, "model.type=lstm", "LSTM state size"},
    {"model.layers", SK_INT_LIST, "[128, 64]", 1, 1e6, NULL, "model.type=autoencoder", "widths"},
    {"model.tied", SK_BOOL, "false", 1, 0, NULL, "model.type=autoencoder", "tie weights"},
    {"model.encoder", SK_LIST, "[]", 1, 0, NULL, "model.type=autoencoder", "encoder stages"},
    {"model.encoder.*.kind", SK_ENUM, "dense", 1, 0, "dense|noise", NULL, "stage kind"},
    {"model.encoder.*.units", SK_INT, NULL, 1, 1e6, NULL, "model.encoder.*.kind=dense", "width"},
    {"model.encoder.*.stddev", SK_FLOAT, "0.1", 0, 1e308, NULL, "model.encoder.*.kind=noise",
     "noise level"},
    {"optimizer", SK_MAP, "{}", 1, 0, NULL, NULL, "optimizer"},
    {"optimizer.name", SK_ENUM, "adam", 1, 0, "sgd|adam|rmsprop|adagrad", NULL, "algorithm"},
    {"optimizer.lr", SK_FLOAT, "1e-3", 0, 10, NULL, NULL, "learning rate"},
    {"optimizer.betas", SK_FLOAT_LIST, "[0.9, 0.999]", 0, 1, NULL, "optimizer.name=adam", "Adam"},
    {"training", SK_MAP, "{}", 1, 0, NULL, NULL, "loop"},
    {"training.epochs", SK_INT, "10", 1, 1000000, NULL, NULL, "passes"},
    {"training.shuffle", SK_BOOL, "true", 1, 0, NULL, NULL, "shuffle each epoch"},
    {"training.lr_decay", SK_FLOAT, "1.0", 0, 1, NULL, NULL, "per-epoch factor"},
    {"training.stop", SK_MAP, "~", 1, 0, NULL, "training.shuffle=true", "early stopping"},
    {"training.stop.patience", SK_INT, NULL, 0, 100, NULL, NULL, "epochs without progress"},
    {"sweep", SK_ANY, "~", 1, 0, NULL, NULL, "grid, unchecked"},
};
static const Schema TEST_SCHEMA = {TEST_KEYS, (int)(sizeof TEST_KEYS / sizeof TEST_KEYS[0])};

static const char *VALID =
    "name: demo\n"            /* 1 */
    "model:\n"                /* 2 */
    "  type: autoencoder\n"   /* 3 */
    "  layers: [256, 64]\n"   /* 4 */
    "  encoder:\n"            /* 5 */
    "    - kind: dense\n"     /* 6 */
    "      units: 32\n"       /* 7 */
    "    - kind: noise\n"     /* 8 */
    "optimizer:\n"            /* 9 */
    "  lr: 0.01\n";           /* 10 */

/* ---- helpers ------------------------------------------------------------------------------ */

static CfgNode *parse(const char *text, CfgDiags *d) {
    return cfg_parse_string(text, strlen(text), "t.yaml", d);
}

static void dump(const CfgDiags *d) {
    fprintf(stderr, "\n  diagnostics (%d):\n", d->count);
    for (int i = 0; i < d->count; i++)
        fprintf(stderr, "    %s:%d:%d: %s: %s\n", d->items[i].file, d->items[i].line,
                d->items[i].col, d->items[i].path, d->items[i].message);
}

/* The diagnostic for `path` whose message contains `part`, at line:col. */
static int has_diag(const CfgDiags *d, const char *path, int line, int col, const char *part) {
    for (int i = 0; i < d->count; i++) {
        const CfgDiag *g = &d->items[i];
        if (strcmp(g->path, path) == 0 && strstr(g->message, part)) {
            if (g->line == line && g->col == col) return 1;
            fprintf(stderr, "\n  %s '%s' at %d:%d, expected %d:%d\n", path, part, g->line, g->col,
                    line, col);
            return 0;
        }
    }
    fprintf(stderr, "\n  no diagnostic %s: '%s'", path, part);
    dump(d);
    return 0;
}

/* Parse (must succeed), validate, return the tree; diagnostics in d. */
static CfgNode *parse_validate(const char *text, CfgDiags *d, int *rc) {
    CfgNode *root = parse(text, d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    *rc = cfg_validate(root, &TEST_SCHEMA, d);
    return root;
}

static char *print_diags(const CfgDiags *d) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cfg_diags_print(d, f);
    fclose(f);
    return text;
}

/* emit → parse must give back an equal tree. */
static void check_round_trip(const CfgNode *root) {
    char *yaml = cfg_emit_yaml_string(root);
    CfgDiags d = {0};
    CfgNode *again = cfg_parse_string(yaml, strlen(yaml), "emitted", &d);
    if (!again || !cfg_equal(root, again)) {
        fprintf(stderr, "\n  round trip failed for:\n%s", yaml);
        dump(&d);
    }
    CU_ASSERT_PTR_NOT_NULL(again);
    CU_ASSERT_TRUE(cfg_equal(root, again));
    cfg_free(again);
    cfg_diags_free(&d);
    free(yaml);
}

/* ---- parsing ------------------------------------------------------------------------------ */

static void test_parse_positions(void) {
    CfgDiags d = {0};
    CfgNode *root = parse(VALID, &d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_EQUAL(d.count, 0);
    CU_ASSERT_EQUAL(root->kind, CFG_MAP);
    CU_ASSERT_EQUAL(root->count, 3);
    const CfgNode *type = cfg_get(root, "model.type");
    CU_ASSERT_PTR_NOT_NULL_FATAL(type);
    CU_ASSERT_STRING_EQUAL(type->key, "type");
    CU_ASSERT_EQUAL(type->key_line, 3);
    CU_ASSERT_EQUAL(type->key_col, 3);
    CU_ASSERT_EQUAL(type->line, 3);
    CU_ASSERT_EQUAL(type->col, 9);
    CU_ASSERT_STRING_EQUAL(type->file, "t.yaml");
    const CfgNode *l1 = cfg_get(root, "model.layers.1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(l1);
    CU_ASSERT_PTR_NULL(l1->key);
    CU_ASSERT_EQUAL(l1->line, 4);
    CU_ASSERT_EQUAL(l1->col, 17);
    const CfgNode *item = cfg_get(root, "model.encoder.1");
    CU_ASSERT_PTR_NOT_NULL_FATAL(item);
    CU_ASSERT_EQUAL(item->kind, CFG_MAP);
    CU_ASSERT_EQUAL(item->line, 8);
    CU_ASSERT_EQUAL(item->col, 7);
    CU_ASSERT_EQUAL(cfg_len(root, "model.encoder"), 2);
    CU_ASSERT_PTR_NULL(cfg_get(root, "model.encoder.2"));
    CU_ASSERT_PTR_NULL(cfg_get(root, "model.encoder.x"));
    cfg_free(root);
}

static void test_parse_quoting(void) {
    CfgDiags d = {0};
    CfgNode *root = parse("a: \"0.1\"\nb: '5'\nc: 0.1\nd: |\n  text\ne:\n", &d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_TRUE(cfg_get(root, "a")->quoted);
    CU_ASSERT_TRUE(cfg_get(root, "b")->quoted);
    CU_ASSERT_FALSE(cfg_get(root, "c")->quoted);
    CU_ASSERT_TRUE(cfg_get(root, "d")->quoted);
    CU_ASSERT_STRING_EQUAL(cfg_str(root, "d"), "text\n");
    CU_ASSERT_STRING_EQUAL(cfg_str(root, "e"), "");
    cfg_free(root);
}

static void test_syntax_error_position(void) {
    CfgDiags d = {0};
    CU_ASSERT_PTR_NULL(parse("name: x\nmodel: a: b\n", &d));
    CU_ASSERT_EQUAL(d.count, 1);
    CU_ASSERT_TRUE(has_diag(&d, "", 2, 9, "mapping values are not allowed"));
    char *text = print_diags(&d);
    CU_ASSERT_STRING_EQUAL(text, "t.yaml:2:9: mapping values are not allowed in this context\n");
    free(text);
    cfg_diags_free(&d);

    CU_ASSERT_PTR_NULL(parse("model:\n  layers: [1, 2\nname: x\n", &d));
    CU_ASSERT_EQUAL(d.count, 1);
    CU_ASSERT_TRUE(d.count == 1 && d.items[0].line == 3 && strstr(d.items[0].message, "',' or ']'"));
    CU_ASSERT_TRUE(d.count == 1 && strstr(d.items[0].message, "flow sequence at line 2"));
    cfg_diags_free(&d);

    /* Bad UTF-8 is a reader error: libyaml gives an offset, we give line:col. */
    CU_ASSERT_PTR_NULL(parse("a: 1\nb: x\xff\n", &d));
    CU_ASSERT_TRUE(has_diag(&d, "", 2, 5, "UTF-8"));
    cfg_diags_free(&d);

    /* A tab in the indentation, at a key's start or after spaces: said in those words. */
    CU_ASSERT_PTR_NULL(parse("name: x\nmodel:\n\ttype: lstm\n", &d));
    CU_ASSERT_TRUE(has_diag(&d, "", 3, 1, "YAML forbids tabs there; indent with spaces"));
    cfg_diags_free(&d);
    CU_ASSERT_PTR_NULL(parse("model:\n  type: lstm\n  \thidden: 3\n", &d));
    CU_ASSERT_TRUE(d.count == 1 && strstr(d.items[0].message, "YAML forbids tabs"));
    cfg_diags_free(&d);
    /* a tab inside a value is no indentation: no such words */
    CU_ASSERT_PTR_NULL(parse("name: x\nmodel: a: \tb\n", &d));
    CU_ASSERT_TRUE(d.count == 1 && !strstr(d.items[0].message, "tabs"));
    cfg_diags_free(&d);
}

static void test_reject_anchors_and_aliases(void) {
    CfgDiags d = {0};
    CU_ASSERT_PTR_NULL(parse("a: &x 1\nb: *x\n", &d));
    CU_ASSERT_TRUE(has_diag(&d, "", 1, 4, "anchors and aliases are not supported in specs"));
    cfg_diags_free(&d);
    CU_ASSERT_PTR_NULL(parse("a: 1\nb: *x\n", &d)); /* an alias alone is a syntax error */
    CU_ASSERT_EQUAL(d.count, 1);
    cfg_diags_free(&d);
    /* The classic alias bomb never gets beyond its first anchor. */
    CU_ASSERT_PTR_NULL(parse("a: &a [1, 1]\nb: &b [*a, *a]\nc: &c [*b, *b]\n", &d));
    CU_ASSERT_TRUE(has_diag(&d, "", 1, 4, "anchors"));
    cfg_diags_free(&d);
    CU_ASSERT_PTR_NULL(parse("a: !!int 5\n", &d));
    CU_ASSERT_TRUE(has_diag(&d, "", 1, 4, "tags"));
    cfg_diags_free(&d);
}

/* n nested flow maps: {a: {a: ... 1 ...}} */
static char *nested(int n) {
    char *s = malloc((size_t)n * 5 + 8);
    char *p = s;
    for (int i = 0; i < n; i++) p += sprintf(p, "{a: ");
    p += sprintf(p, "1");
    for (int i = 0; i < n; i++) *p++ = '}';
    *p = '\0';
    return s;
}

static void test_nesting_bounded(void) {
    CfgDiags d = {0};
    char *ok = nested(32), *deep = nested(33), *very = nested(100);
    CfgNode *root = parse(ok, &d);
    CU_ASSERT_PTR_NOT_NULL(root);
    CU_ASSERT_EQUAL(d.count, 0);
    cfg_free(root);
    CU_ASSERT_PTR_NULL(parse(deep, &d));
    CU_ASSERT_TRUE(has_diag(&d, "", 1, 4 * 32 + 1, "nesting deeper than 32 levels"));
    cfg_diags_free(&d);
    CU_ASSERT_PTR_NULL(parse(very, &d));
    CU_ASSERT_EQUAL(d.count, 1);
    CU_ASSERT_TRUE(has_diag(&d, "", 1, 4 * 32 + 1, "nesting deeper"));
    cfg_diags_free(&d);
    free(ok);
    free(deep);
    free(very);
}

static void test_structure_errors(void) {
    CfgDiags d = {0};
    CU_ASSERT_PTR_NULL(parse("a: 1\nb: 2\na: 3\nm: {x: 1, x: 2}\n", &d));
    CU_ASSERT_EQUAL(d.count, 2);
    CU_ASSERT_TRUE(has_diag(&d, "a", 3, 1, "duplicate key 'a' (first at line 1)"));
    CU_ASSERT_TRUE(has_diag(&d, "m.x", 4, 11, "duplicate key 'x' (first at line 4)"));
    cfg_diags_free(&d);

    CU_ASSERT_PTR_NULL(parse("a: 1\n---\nb: 2\n", &d));
    CU_ASSERT_TRUE(has_diag(&d, "", 2, 1, "multiple documents"));
    cfg_diags_free(&d);

    CU_ASSERT_PTR_NULL(parse("? [a, b]\n: 1\n", &d));
    CU_ASSERT_TRUE(has_diag(&d, "", 1, 3, "map keys must be scalars"));
    cfg_diags_free(&d);

    CU_ASSERT_PTR_NULL(parse("", &d));
    CU_ASSERT_TRUE(has_diag(&d, "", 0, 0, "spec is empty"));
    cfg_diags_free(&d);
    CU_ASSERT_PTR_NULL(parse("# just a comment\n\n", &d));
    CU_ASSERT_TRUE(has_diag(&d, "", 0, 0, "spec is empty"));
    cfg_diags_free(&d);

    CU_ASSERT_PTR_NULL(parse("a: \"x\\0y\"\n", &d));
    CU_ASSERT_TRUE(has_diag(&d, "", 1, 4, "NUL"));
    cfg_diags_free(&d);

    size_t big = 1024 * 1024 + 1;
    char *text = malloc(big);
    memset(text, '#', big);
    CU_ASSERT_PTR_NULL(cfg_parse_string(text, big, "big.yaml", &d));
    CU_ASSERT_TRUE(has_diag(&d, "", 0, 0, "larger than 1 MiB"));
    cfg_diags_free(&d);
    free(text);
}

static void test_parse_file(void) {
    char *dir = make_temp_dir("cfg");
    CU_ASSERT_PTR_NOT_NULL_FATAL(dir);
    char path[1024];
    snprintf(path, sizeof path, "%s/spec.yaml", dir);
    FILE *f = fopen(path, "w");
    fputs(VALID, f);
    fclose(f);
    CfgDiags d = {0};
    CfgNode *root = cfg_parse_file(path, &d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    CU_ASSERT_STRING_EQUAL(cfg_get(root, "model.type")->file, path);
    cfg_free(root);
    remove(path);
    CU_ASSERT_PTR_NULL(cfg_parse_file(path, &d));
    CU_ASSERT_TRUE(d.count == 1 && strcmp(d.items[0].file, path) == 0 &&
                   strstr(d.items[0].message, "cannot open"));
    cfg_diags_free(&d);
    rmdir(dir);
    free(dir);
}

/* ---- validation --------------------------------------------------------------------------- */

static void test_valid_spec_defaults_and_getters(void) {
    CfgDiags d = {0};
    int rc;
    CfgNode *root = parse_validate(VALID, &d, &rc);
    if (rc) dump(&d);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(d.count, 0);
    CU_ASSERT_STRING_EQUAL(cfg_str(root, "name"), "demo");
    CU_ASSERT_EQUAL(cfg_int(root, "seed", -1), 42);                   /* default */
    CU_ASSERT_FALSE(cfg_has(root, "notes"));                         /* "~": no default */
    CU_ASSERT_EQUAL(cfg_bool(root, "model.tied", -1), 0);            /* default */
    CU_ASSERT_FALSE(cfg_has(root, "model.hidden"));                  /* lstm only */
    CU_ASSERT_EQUAL(cfg_int(root, "model.layers.0", -1), 256);
    CU_ASSERT_EQUAL(cfg_int(root, "model.encoder.0.units", -1), 32);
    CU_ASSERT_FALSE(cfg_has(root, "model.encoder.0.stddev"));        /* dense item */
    CU_ASSERT_DOUBLE_EQUAL(cfg_float(root, "model.encoder.1.stddev", -1), 0.1, 1e-12);
    CU_ASSERT_FALSE(cfg_has(root, "model.encoder.1.units"));         /* noise item */
    CU_ASSERT_STRING_EQUAL(cfg_str(root, "optimizer.name"), "adam");
    CU_ASSERT_DOUBLE_EQUAL(cfg_float(root, "optimizer.lr", -1), 0.01, 1e-15);
    CU_ASSERT_EQUAL(cfg_len(root, "optimizer.betas"), 2);
    CU_ASSERT_DOUBLE_EQUAL(cfg_float(root, "optimizer.betas.1", -1), 0.999, 1e-15);
    CU_ASSERT_EQUAL(cfg_int(root, "training.epochs", -1), 10);       /* default map + default */
    CU_ASSERT_EQUAL(cfg_bool(root, "training.shuffle", -1), 1);
    /* Default nodes have no position. */
    const CfgNode *epochs = cfg_get(root, "training.epochs");
    CU_ASSERT_EQUAL(epochs->line, 0);
    CU_ASSERT_EQUAL(epochs->key_line, 0);
    /* Getters' fallbacks. */
    CU_ASSERT_EQUAL(cfg_int(root, "nope", 7), 7);
    CU_ASSERT_EQUAL(cfg_int(root, "name", 7), 7);
    CU_ASSERT_DOUBLE_EQUAL(cfg_float(root, "model.layers.0", 0), 256.0, 0);
    CU_ASSERT_EQUAL(cfg_bool(root, "name", -1), -1);
    CU_ASSERT_PTR_NULL(cfg_str(root, "model"));
    CU_ASSERT_EQUAL(cfg_len(root, "nope"), 0);
    /* Validating again changes nothing and reports nothing. */
    CfgNode *copy = cfg_clone(root);
    CU_ASSERT_EQUAL(cfg_validate(root, &TEST_SCHEMA, &d), 0);
    CU_ASSERT_TRUE(cfg_equal(copy, root));
    cfg_free(copy);
    cfg_free(root);
    cfg_diags_free(&d);
}

static void test_unknown_key_did_you_mean(void) {
    CfgDiags d = {0};
    int rc;
    CfgNode *root = parse_validate("model:\n  type: lstm\noptimiser:\n  lr: 0.1\n", &d, &rc);
    CU_ASSERT_EQUAL(rc, -1);
    CU_ASSERT_EQUAL(d.count, 1);
    CU_ASSERT_TRUE(has_diag(&d, "optimiser", 3, 1, "unknown key 'optimiser' (did you mean 'optimizer'?)"));
    cfg_free(root);
    cfg_diags_free(&d);

    /* No near miss: list what is allowed at that level instead. */
    root = parse_validate("model:\n  type: lstm\n  depth: 3\n", &d, &rc);
    CU_ASSERT_TRUE(has_diag(&d, "model.depth", 3, 3,
                            "unknown key 'depth' (allowed here: type, hidden, layers, tied, encoder)"));
    cfg_free(root);
    cfg_diags_free(&d);

    /* Inside a list item: the path carries the index, the key is a transposition away. */
    root = parse_validate("model:\n  type: autoencoder\n  encoder:\n    - {kind: dense, untis: 3}\n",
                          &d, &rc);
    CU_ASSERT_TRUE(has_diag(&d, "model.encoder.0.untis", 4, 21, "(did you mean 'units'?)"));
    CU_ASSERT_TRUE(has_diag(&d, "model.encoder.0.units", 4, 7, "missing required key 'units'"));
    CU_ASSERT_EQUAL(d.count, 2);
    cfg_free(root);
    cfg_diags_free(&d);
}

static void test_type_errors(void) {
    CfgDiags d = {0};
    int rc;
    CfgNode *root = parse_validate("model:\n"
                                   "  type: lstm\n"
                                   "  hidden: abc\n"      /* 3:11 */
                                   "optimizer:\n"
                                   "  lr: \"0.1\"\n"      /* 5:7 */
                                   "  betas: 0.9\n"       /* 6:10 */
                                   "training:\n"
                                   "  shuffle: yes\n"     /* 8:12 */
                                   "  epochs: [1]\n"      /* 9:11 */
                                   "  lr_decay: 1e\n"     /* 10:13 */
                                   "name: {a: 1}\n",      /* 11:7 */
                                   &d, &rc);
    CU_ASSERT_EQUAL(rc, -1);
    CU_ASSERT_TRUE(has_diag(&d, "model.hidden", 3, 11, "expected an integer, got 'abc'"));
    CU_ASSERT_TRUE(has_diag(&d, "optimizer.lr", 5, 7,
                            "expected a number, got the quoted string \"0.1\" (remove the quotes)"));
    CU_ASSERT_TRUE(has_diag(&d, "optimizer.betas", 6, 10, "expected a list, got '0.9'"));
    CU_ASSERT_TRUE(has_diag(&d, "training.shuffle", 8, 12,
                            "expected true or false, got 'yes' (only true and false are accepted)"));
    CU_ASSERT_TRUE(has_diag(&d, "training.epochs", 9, 11, "expected an integer, got a list"));
    CU_ASSERT_TRUE(has_diag(&d, "training.lr_decay", 10, 13, "expected a number, got '1e'"));
    CU_ASSERT_TRUE(has_diag(&d, "name", 11, 7, "expected a string, got a map"));
    CU_ASSERT_EQUAL(d.count, 7);
    cfg_free(root);
    cfg_diags_free(&d);

    root = parse_validate("model: 5\n", &d, &rc);
    CU_ASSERT_TRUE(has_diag(&d, "model", 1, 8, "expected a map, got '5'"));
    CU_ASSERT_EQUAL(d.count, 1); /* no "missing model.type" on top of it */
    cfg_free(root);
    cfg_diags_free(&d);

    root = parse_validate("model:\n  type: autoencoder\n  encoder: [1, {kind: noise}]\n", &d, &rc);
    CU_ASSERT_TRUE(has_diag(&d, "model.encoder.0", 3, 13, "expected a map, got '1'"));
    CU_ASSERT_EQUAL(d.count, 1);
    cfg_free(root);
    cfg_diags_free(&d);

    root = parse_validate("- a\n", &d, &rc);
    CU_ASSERT_TRUE(has_diag(&d, "", 1, 1, "a spec must be a map"));
    cfg_free(root);
    cfg_diags_free(&d);
}

static void test_number_grammar(void) {
    static const char *const good[] = {"1e-3", "1.0e-3", ".5", "5.", "1", "2.5E+0", "+0.25", "-0.0"};
    static const char *const bad[] = {"inf", ".inf", "nan", "1e", "0x10", "1.2.3", ".", "-", "1e3.5"};
    char text[128];
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        CfgDiags d = {0};
        int rc;
        snprintf(text, sizeof text, "model: {type: lstm}\noptimizer: {lr: %s}\n", good[i]);
        CfgNode *root = parse_validate(text, &d, &rc);
        if (rc) dump(&d);
        CU_ASSERT_EQUAL(rc, 0);
        cfg_free(root);
        cfg_diags_free(&d);
    }
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CfgDiags d = {0};
        int rc;
        snprintf(text, sizeof text, "model: {type: lstm}\noptimizer: {lr: %s}\n", bad[i]);
        CfgNode *root = parse_validate(text, &d, &rc);
        CU_ASSERT_EQUAL(rc, -1);
        CU_ASSERT_TRUE(has_diag(&d, "optimizer.lr", 2, 17, "expected a number"));
        cfg_free(root);
        cfg_diags_free(&d);
    }
    /* Integers are decimal only: 1.0 and 1e3 are numbers, not integers. */
    CfgDiags d = {0};
    int rc;
    CfgNode *root = parse_validate("model: {type: lstm, hidden: 1e3}\ntraining: {epochs: 99999999999999999999}\n",
                                   &d, &rc);
    CU_ASSERT_TRUE(has_diag(&d, "model.hidden", 1, 29, "expected an integer, got '1e3'"));
    CU_ASSERT_TRUE(has_diag(&d, "training.epochs", 2, 20, "too large"));
    cfg_free(root);
    cfg_diags_free(&d);
}

static void test_range_errors(void) {
    CfgDiags d = {0};
    int rc;
    CfgNode *root = parse_validate("model:\n"
                                   "  type: autoencoder\n"
                                   "  layers: [64, 0]\n"               /* 3:16 */
                                   "  encoder: [{kind: noise, stddev: -1}]\n" /* 4:35 */
                                   "training: {epochs: 0}\n"           /* 5:20 */
                                   "optimizer: {lr: 11}\n",            /* 6:17 */
                                   &d, &rc);
    CU_ASSERT_TRUE(has_diag(&d, "model.layers.1", 3, 16, "must be between 1 and 1000000, got 0"));
    CU_ASSERT_TRUE(has_diag(&d, "model.encoder.0.stddev", 4, 35, "must be at least 0, got -1"));
    CU_ASSERT_TRUE(has_diag(&d, "training.epochs", 5, 20, "must be between 1 and 1000000, got 0"));
    CU_ASSERT_TRUE(has_diag(&d, "optimizer.lr", 6, 17, "must be between 0 and 10, got 11"));
    CU_ASSERT_EQUAL(d.count, 4);
    cfg_free(root);
    cfg_diags_free(&d);
}

static void test_enum_errors(void) {
    CfgDiags d = {0};
    int rc;
    CfgNode *root = parse_validate("model: {type: lstm}\noptimizer:\n  name: adamw\n", &d, &rc);
    CU_ASSERT_TRUE(has_diag(&d, "optimizer.name", 3, 9,
                            "unknown value 'adamw' (expected one of: sgd|adam|rmsprop|adagrad); "
                            "did you mean 'adam'?"));
    /* optimizer.betas applies only to adam: with the name invalid it is neither demanded nor
     * defaulted, so one typo gives one message. */
    CU_ASSERT_EQUAL(d.count, 1);
    CU_ASSERT_FALSE(cfg_has(root, "optimizer.betas"));
    cfg_free(root);
    cfg_diags_free(&d);

    root = parse_validate("model: {type: transformer}\n", &d, &rc);
    CU_ASSERT_TRUE(has_diag(&d, "model.type", 1, 15,
                            "unknown value 'transformer' (expected one of: autoencoder|lstm)"));
    CU_ASSERT_EQUAL(d.count, 1); /* no did-you-mean, and no cascade into conditional keys */
    CU_ASSERT_TRUE(d.count == 1 && !strstr(d.items[0].message, "did you mean"));
    cfg_free(root);
    cfg_diags_free(&d);
}

static void test_missing_required(void) {
    CfgDiags d = {0};
    int rc;
    CfgNode *root = parse_validate("name: x\n", &d, &rc);
    CU_ASSERT_TRUE(has_diag(&d, "model", 1, 1, "missing required key 'model'"));
    CU_ASSERT_EQUAL(d.count, 1);
    cfg_free(root);
    cfg_diags_free(&d);

    /* At the parent map's key; the conditional keys wait for the discriminator. */
    root = parse_validate("name: x\nmodel:\n  layers: [4]\n", &d, &rc);
    CU_ASSERT_TRUE(has_diag(&d, "model.type", 2, 1,
                            "missing required key 'type' (one of: autoencoder|lstm)"));
    CU_ASSERT_EQUAL(d.count, 1);
    cfg_free(root);
    cfg_diags_free(&d);
}

static void test_conditional_keys(void) {
    CfgDiags d = {0};
    int rc;
    CfgNode *root = parse_validate("model:\n  type: lstm\n  hidden: 128\n  layers: [1, 2]\n  tied: true\n",
                                   &d, &rc);
    CU_ASSERT_TRUE(has_diag(&d, "model.layers", 4, 3, "does not apply when model.type is lstm"));
    CU_ASSERT_TRUE(has_diag(&d, "model.tied", 5, 3, "does not apply when model.type is lstm"));
    CU_ASSERT_EQUAL(d.count, 2);
    cfg_free(root);
    cfg_diags_free(&d);

    root = parse_validate("model:\n  type: lstm\n", &d, &rc);
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT_EQUAL(cfg_int(root, "model.hidden", -1), 64);
    CU_ASSERT_FALSE(cfg_has(root, "model.layers"));
    CU_ASSERT_FALSE(cfg_has(root, "model.encoder"));
    cfg_free(root);
    cfg_diags_free(&d);

    /* A map that does not apply is reported once; its required keys are not demanded. */
    root = parse_validate("model: {type: lstm}\ntraining:\n  shuffle: false\n  stop: {}\n", &d, &rc);
    CU_ASSERT_TRUE(has_diag(&d, "training.stop", 4, 3, "does not apply when training.shuffle is false"));
    CU_ASSERT_EQUAL(d.count, 1);
    cfg_free(root);
    cfg_diags_free(&d);
    root = parse_validate("model: {type: lstm}\ntraining:\n  stop: {}\n", &d, &rc);
    CU_ASSERT_TRUE(has_diag(&d, "training.stop.patience", 3, 3, "missing required key 'patience'"));
    CU_ASSERT_EQUAL(d.count, 1);
    cfg_free(root);
    cfg_diags_free(&d);

    root = parse_validate("model:\n  type: autoencoder\n  hidden: 3\n", &d, &rc);
    CU_ASSERT_TRUE(has_diag(&d, "model.hidden", 3, 3, "does not apply when model.type is autoencoder"));
    CU_ASSERT_EQUAL(cfg_len(root, "model.layers"), 2); /* defaults of the branch that applies */
    CU_ASSERT_EQUAL(cfg_len(root, "model.encoder"), 0);
    CU_ASSERT_TRUE(cfg_has(root, "model.encoder"));
    cfg_free(root);
    cfg_diags_free(&d);
}

/* Conditions on list-item siblings ("model.encoder.*.kind=dense") use the item's own index. */
static void test_list_item_conditions(void) {
    CfgDiags d = {0};
    int rc;
    CfgNode *root = parse_validate("model:\n"
                                   "  type: autoencoder\n"
                                   "  encoder:\n"
                                   "    - kind: noise\n"
                                   "      units: 5\n"   /* 5:7 does not apply */
                                   "    - {}\n"         /* 6:7 kind defaults to dense: units? */
                                   "    - units: 8\n",  /* fine */
                                   &d, &rc);
    CU_ASSERT_TRUE(has_diag(&d, "model.encoder.0.units", 5, 7,
                            "does not apply when model.encoder.0.kind is noise"));
    CU_ASSERT_TRUE(has_diag(&d, "model.encoder.1.units", 6, 7, "missing required key 'units'"));
    CU_ASSERT_EQUAL(d.count, 2);
    CU_ASSERT_STRING_EQUAL(cfg_str(root, "model.encoder.1.kind"), "dense");
    CU_ASSERT_STRING_EQUAL(cfg_str(root, "model.encoder.2.kind"), "dense");
    CU_ASSERT_DOUBLE_EQUAL(cfg_float(root, "model.encoder.0.stddev", -1), 0.1, 1e-12);
    CU_ASSERT_FALSE(cfg_has(root, "model.encoder.2.stddev"));
    cfg_free(root);
    cfg_diags_free(&d);
}

/* Many different mistakes, all reported in one pass, sorted by position. */
static void test_many_errors_one_pass(void) {
    CfgDiags d = {0};
    int rc;
    CfgNode *root = parse_validate("model:\n"                 /* 1 */
                                   "  type: autoencoder\n"    /* 2 */
                                   "  layers: [64, abc, 0]\n" /* 3 */
                                   "  encoder:\n"             /* 4 */
                                   "    - kind: dense\n"      /* 5 */
                                   "      unitz: 4\n"         /* 6 */
                                   "    - kind: nois\n"       /* 7 */
                                   "optimiser:\n"             /* 8 */
                                   "  lr: 0.1\n"              /* 9 */
                                   "training:\n"              /* 10 */
                                   "  epochs: 0\n"            /* 11 */
                                   "  shuffle: yes\n"         /* 12 */
                                   "  lr_decay: \"0.5\"\n"    /* 13 */
                                   "sweep: {anything: [1, {goes: here}]}\n",
                                   &d, &rc);
    CU_ASSERT_EQUAL(rc, -1);
    struct { const char *path; int line, col; const char *part; } want[] = {
        {"model.layers.1", 3, 16, "expected an integer, got 'abc'"},
        {"model.layers.2", 3, 21, "must be between 1 and 1000000, got 0"},
        {"model.encoder.0.units", 5, 7, "missing required key 'units'"},
        {"model.encoder.0.unitz", 6, 7, "unknown key 'unitz' (did you mean 'units'?)"},
        {"model.encoder.1.kind", 7, 13, "unknown value 'nois'"},
        {"optimiser", 8, 1, "unknown key 'optimiser' (did you mean 'optimizer'?)"},
        {"training.epochs", 11, 11, "must be between 1 and 1000000, got 0"},
        {"training.shuffle", 12, 12, "expected true or false, got 'yes'"},
        {"training.lr_decay", 13, 13, "expected a number, got the quoted string \"0.5\""},
    };
    int n = (int)(sizeof want / sizeof *want);
    CU_ASSERT_EQUAL(d.count, n);
    if (d.count != n) dump(&d);
    for (int i = 0; i < n && i < d.count; i++) {
        CU_ASSERT_STRING_EQUAL(d.items[i].path, want[i].path);
        CU_ASSERT_EQUAL(d.items[i].line, want[i].line);
        CU_ASSERT_EQUAL(d.items[i].col, want[i].col);
        CU_ASSERT_PTR_NOT_NULL(strstr(d.items[i].message, want[i].part));
    }
    char *text = print_diags(&d);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "t.yaml:8:1: optimiser: unknown key 'optimiser' (did you "
                                        "mean 'optimizer'?)\n"));
    free(text);
    cfg_free(root);
    cfg_diags_free(&d);
}

static void test_edit_distance(void) {
    CU_ASSERT_EQUAL(cfg_edit_distance("kitten", "sitting"), 3);
    CU_ASSERT_EQUAL(cfg_edit_distance("optimiser", "optimizer"), 1);
    CU_ASSERT_EQUAL(cfg_edit_distance("units", "untis"), 1); /* swap counts once */
    CU_ASSERT_EQUAL(cfg_edit_distance("abcd", "acbd"), 1);
    CU_ASSERT_EQUAL(cfg_edit_distance("", "abc"), 3);
    CU_ASSERT_EQUAL(cfg_edit_distance("abc", ""), 3);
    CU_ASSERT_EQUAL(cfg_edit_distance("same", "same"), 0);
    CU_ASSERT_EQUAL(cfg_edit_distance("ca", "abc"), 3); /* optimal string alignment */
}

static void test_schema_check(void) {
    CfgDiags d = {0};
    CU_ASSERT_EQUAL(cfg_schema_check(&TEST_SCHEMA, &d), 0);
    if (d.count) dump(&d);
    static const SchemaKey bad_keys[] = {
        {"a.b", SK_INT, "1", 0, 10, NULL, NULL, ""},            /* parent after child */
        {"a", SK_MAP, "{}", 1, 0, NULL, NULL, ""},
        {"c", SK_INT, "5", 0, 0, NULL, NULL, ""},               /* range [0, 0] by mistake */
        {"e", SK_ENUM, "x", 1, 0, "a|b", NULL, ""},             /* default not a choice */
        {"f", SK_INT, "1", 1, 0, NULL, "g=1", ""},              /* condition on a later key */
        {"g", SK_ENUM, "a", 1, 0, "a|b", NULL, ""},
        {"h", SK_INT, "1", 1, 0, NULL, "g=z", ""},              /* condition value not a choice */
        {"i.*.j", SK_INT, "1", 1, 0, NULL, NULL, ""},           /* no list i */
        {"k", SK_LIST, "5", 1, 0, NULL, NULL, ""},              /* default not a list */
    };
    Schema bad = {bad_keys, (int)(sizeof bad_keys / sizeof *bad_keys)};
    CU_ASSERT_EQUAL(cfg_schema_check(&bad, &d), -1);
    CU_ASSERT_TRUE(has_diag(&d, "a.b", 0, 0, "parent 'a' must be listed before it"));
    CU_ASSERT_TRUE(has_diag(&d, "c", 0, 0, "must be between 0 and 0"));
    CU_ASSERT_TRUE(has_diag(&d, "e", 0, 0, "unknown value 'x'"));
    CU_ASSERT_TRUE(has_diag(&d, "f", 0, 0, "not listed before it"));
    CU_ASSERT_TRUE(has_diag(&d, "h", 0, 0, "condition value 'z'"));
    CU_ASSERT_TRUE(has_diag(&d, "i.*.j", 0, 0, "parent 'i' must be listed before it"));
    CU_ASSERT_TRUE(has_diag(&d, "k", 0, 0, "expected a list"));
    CU_ASSERT_EQUAL(d.count, 7);
    cfg_diags_free(&d);
}

/* ---- overrides ---------------------------------------------------------------------------- */

static CfgNode *valid_tree(void) {
    CfgDiags d = {0};
    CfgNode *root = parse(VALID, &d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    return root;
}

static void test_overrides(void) {
    CfgDiags d = {0};
    CfgNode *root = valid_tree();
    CU_ASSERT_EQUAL(cfg_apply_override(root, "optimizer.lr=0.5", &d), 0);
    CU_ASSERT_EQUAL(cfg_apply_override(root, "model.encoder.0.units=512", &d), 0);
    CU_ASSERT_EQUAL(cfg_apply_override(root, "model.layers=[128, 128, 32]", &d), 0);
    CU_ASSERT_EQUAL(cfg_apply_override(root, "model.encoder.1={kind: dense, units: 7}", &d), 0);
    CU_ASSERT_EQUAL(cfg_apply_override(root, "training.epochs=5", &d), 0); /* creates training */
    CU_ASSERT_EQUAL(cfg_apply_override(root, "name=", &d), 0);             /* empty string */
    CU_ASSERT_EQUAL(d.count, 0);
    CU_ASSERT_EQUAL(cfg_validate(root, &TEST_SCHEMA, &d), 0);
    if (d.count) dump(&d);
    CU_ASSERT_DOUBLE_EQUAL(cfg_float(root, "optimizer.lr", -1), 0.5, 0);
    CU_ASSERT_EQUAL(cfg_int(root, "model.encoder.0.units", -1), 512);
    CU_ASSERT_EQUAL(cfg_len(root, "model.layers"), 3);
    CU_ASSERT_EQUAL(cfg_int(root, "model.layers.2", -1), 32);
    CU_ASSERT_EQUAL(cfg_int(root, "model.encoder.1.units", -1), 7);
    CU_ASSERT_FALSE(cfg_has(root, "model.encoder.1.stddev"));
    CU_ASSERT_EQUAL(cfg_int(root, "training.epochs", -1), 5);
    CU_ASSERT_EQUAL(cfg_bool(root, "training.shuffle", -1), 1);
    CU_ASSERT_STRING_EQUAL(cfg_str(root, "name"), "");
    const CfgNode *lr = cfg_get(root, "optimizer.lr");
    CU_ASSERT_STRING_EQUAL(lr->file, "override 'optimizer.lr=0.5'");
    CU_ASSERT_EQUAL(lr->line, 0);
    CU_ASSERT_EQUAL(lr->col, 14);
    CU_ASSERT_EQUAL(lr->key_col, 11);
    const CfgNode *units = cfg_get(root, "model.encoder.1.units");
    CU_ASSERT_EQUAL(units->col, 38);
    /* Replaced keys stay where the file had them. */
    CU_ASSERT_STRING_EQUAL(root->items[0]->key, "name");
    cfg_free(root);
    cfg_diags_free(&d);
}

static void test_override_then_validate(void) {
    CfgDiags d = {0};
    CfgNode *root = valid_tree();
    CU_ASSERT_EQUAL(cfg_apply_override(root, "optimizer.momentum=0.9", &d), 0);
    CU_ASSERT_EQUAL(cfg_apply_override(root, "optimizer.lr=\"0.1\"", &d), 0);
    CU_ASSERT_EQUAL(cfg_apply_override(root, "model.type=lstm", &d), 0);
    CU_ASSERT_EQUAL(cfg_validate(root, &TEST_SCHEMA, &d), -1);
    CU_ASSERT_TRUE(has_diag(&d, "optimizer.momentum", 0, 11, "unknown key 'momentum'"));
    CU_ASSERT_TRUE(has_diag(&d, "optimizer.lr", 0, 14, "expected a number, got the quoted string"));
    CU_ASSERT_TRUE(has_diag(&d, "model.layers", 4, 3, "does not apply when model.type is lstm"));
    char *text = print_diags(&d);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "override 'optimizer.momentum=0.9': optimizer.momentum: "
                                        "unknown key 'momentum' (allowed here: name, lr, betas)\n"));
    free(text);
    cfg_free(root);
    cfg_diags_free(&d);
}

/* An override may not build a tree deeper than a file may be (it could not be read back). */
static void test_override_depth(void) {
    char assignment[512] = "";
    for (int i = 0; i < 31; i++) strcat(assignment, i ? ".k" : "k");
    char *end = assignment + strlen(assignment);
    CfgDiags d = {0};
    CfgNode *root = valid_tree();
    strcpy(end, "=[1]"); /* 31 maps + a list: 32 levels, the most a file may have */
    CU_ASSERT_EQUAL(cfg_apply_override(root, assignment, &d), 0);
    check_round_trip(root);
    strcpy(end, "=[[1]]");
    CU_ASSERT_EQUAL(cfg_apply_override(root, assignment, &d), -1);
    CU_ASSERT_TRUE(has_diag(&d, "k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k.k", 0, 63,
                            "nests deeper than 32 levels"));
    check_round_trip(root);
    cfg_free(root);
    cfg_diags_free(&d);
}

static void test_override_errors(void) {
    static const struct {
        const char *assignment, *path;
        int col;
        const char *part;
    } cases[] = {
        {"optimizer.lr", "", 0, "expected key=value"},
        {"=3", "", 1, "expected key=value (the key is empty)"},
        {"model..type=lstm", "", 7, "empty key in the path"},
        {"model.encoder.5.units=1", "model.encoder", 15, "index 5 is past the end of the list (2 items)"},
        {"model.encoder.2=1", "model.encoder", 15, "index 2 is past the end"},
        {"model.encoder.x.units=1", "model.encoder", 15, "is a list: use an item index from 0 to 1"},
        {"model.type.x=1", "model.type", 12, "is a value, not a map or a list: cannot set 'x'"},
        {"model.layers.0.a=1", "model.layers.0", 16, "is a value"},
        {"name=a: b", "name", 6, "block collection"},
        {"model.layers=[1, 2", "model.layers", 19, "did not find expected"},
        {"name=&a x", "name", 6, "anchors and aliases"},
        {"na me=1", "", 3, "invalid character"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        CfgDiags d = {0};
        CfgNode *root = valid_tree();
        CfgNode *before = cfg_clone(root);
        CU_ASSERT_EQUAL(cfg_apply_override(root, cases[i].assignment, &d), -1);
        CU_ASSERT_EQUAL(d.count, 1);
        if (!has_diag(&d, cases[i].path, 0, cases[i].col, cases[i].part)) {
            fprintf(stderr, "  for override '%s'\n", cases[i].assignment);
            CU_FAIL("override diagnostic");
        }
        if (d.count == 1) {
            char want[256];
            snprintf(want, sizeof want, "override '%s'", cases[i].assignment);
            CU_ASSERT_STRING_EQUAL(d.items[0].file, want);
        }
        CU_ASSERT_TRUE(cfg_equal(before, root)); /* a failed override changes nothing */
        cfg_free(before);
        cfg_free(root);
        cfg_diags_free(&d);
    }
}

/* ---- emitting ----------------------------------------------------------------------------- */

static void test_emit_round_trip(void) {
    CfgDiags d = {0};
    int rc;
    CfgNode *root = parse_validate(VALID, &d, &rc);
    CU_ASSERT_EQUAL(rc, 0);
    char *yaml = cfg_emit_yaml_string(root);
    CU_ASSERT_PTR_NOT_NULL(strstr(yaml, "name: demo\nseed: 42\nmodel:\n  type: autoencoder\n"
                                        "  layers: [256, 64]\n  tied: false\n  encoder:\n    - kind: dense\n"
                                        "      units: 32\n    - kind: noise\n      stddev: 0.1\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(yaml, "  lr: 0.01\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(yaml, "  betas: [0.9, 0.999]\n"));
    free(yaml);
    check_round_trip(root);
    cfg_free(root);

    /* Scalars that need quotes, and ones that must keep them. */
    const char *tricky =
        "quoted_num: \"0.1\"\n"
        "quoted_bool: 'true'\n"
        "plain_num: 1e-3\n"
        "plain_word: hello world\n"
        "needless: \"hello\"\n"
        "colon: \"a: b\"\n"
        "hash: \"x #y\"\n"
        "lead: \" spaced \"\n"
        "empty: \"\"\n"
        "nothing:\n"
        "tilde: ~\n"
        "quoted_tilde: \"~\"\n"
        "quoted_null: 'null'\n"
        "dash: \"- x\"\n"
        "unicode: \"caf\\u00e9 \\u2028 \\x01 \\t \\\" \\\\\"\n"
        "multi: |\n  line one\n  line two\n"
        "\"key with: colon\": 1\n"
        "\"\": empty key\n"
        "lists: [[1, 2], [], {}, [a, \"3\"]]\n"
        "maps: [{a: 1, b: [x, {c: d}]}, [{e: f}]]\n"
        "empty_map: {}\n"
        "flow_item: [\"[\", \"]\", \",\", \"{\"]\n";
    root = parse(tricky, &d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    check_round_trip(root);
    yaml = cfg_emit_yaml_string(root);
    CU_ASSERT_PTR_NOT_NULL(strstr(yaml, "quoted_num: \"0.1\"\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(yaml, "quoted_bool: \"true\"\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(yaml, "plain_num: 1e-3\n"));
    /* null stays null and a quoted ~ stays a string (resolved.yaml wrote `x: ~` as "~": a resumed
     * run then looked for a CSV column called ~) */
    CU_ASSERT_PTR_NOT_NULL(strstr(yaml, "tilde: ~\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(yaml, "nothing: ~\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(yaml, "quoted_tilde: \"~\"\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(yaml, "quoted_null: \"null\"\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(yaml, "plain_word: hello world\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(yaml, "needless: hello\n")); /* quoted only when needed */
    CU_ASSERT_PTR_NOT_NULL(strstr(yaml, "colon: \"a: b\"\n"));
    free(yaml);
    cfg_free(root);

    /* Emitting to a FILE gives the same text. */
    root = parse("a: [1, 2]\n", &d);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cfg_emit_yaml(root, f);
    fclose(f);
    CU_ASSERT_STRING_EQUAL(text, "a: [1, 2]\n");
    free(text);
    cfg_free(root);
    cfg_diags_free(&d);
}

static void test_equal_and_clone(void) {
    CfgDiags d = {0};
    CfgNode *a = parse("x: \"5\"\ny: \"word\"\n", &d);
    CfgNode *b = parse("x: 5\ny: word\n", &d);
    CfgNode *c = parse("x: \"5\"\ny: word\n", &d);
    CU_ASSERT_FALSE(cfg_equal(a, b)); /* "5" vs 5 differ in meaning */
    CU_ASSERT_TRUE(cfg_equal(a, c));  /* "word" vs word do not */
    CfgNode *a2 = cfg_clone(a);
    CU_ASSERT_TRUE(cfg_equal(a, a2));
    CU_ASSERT_EQUAL(a2->items[1]->col, a->items[1]->col);
    CU_ASSERT_STRING_EQUAL(a2->items[1]->file, "t.yaml");
    cfg_free(a);
    cfg_free(b);
    cfg_free(c);
    cfg_free(a2);
    cfg_diags_free(&d);
}

static void test_diags_print_format(void) {
    CfgDiags d = {0};
    cfg_diag_add(&d, "spec.yaml", 3, 7, "model.type", "bad %s", "thing");
    cfg_diag_add(&d, "override 'x=1'", 0, 3, "x", "unknown key 'x'");
    cfg_diag_add(&d, "spec.yaml", 0, 0, "", "spec is empty");
    char *text = print_diags(&d);
    CU_ASSERT_STRING_EQUAL(text, "spec.yaml:3:7: model.type: bad thing\n"
                                 "override 'x=1': x: unknown key 'x'\n"
                                 "spec.yaml: spec is empty\n");
    free(text);
    ExError err = {{0}};
    CU_ASSERT_EQUAL(cfg_diags_to_error(&d, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "spec.yaml:3:7: model.type: bad thing\noverride"));
    cfg_diags_free(&d);
    CU_ASSERT_EQUAL(cfg_diags_to_error(&d, &err), 0);
}

/* ---- fuzzer regressions ------------------------------------------------------------------- */

/* Apply an input's override lines as fuzz_spec.c does: "#=k=v" lines to the spec itself
 * (comments_only), or every line holding '=' to another tree. */
static void apply_lines(CfgNode *root, const char *text, size_t len, int comments_only) {
    const char *p = text, *end = text + len;
    for (int applied = 0; p < end && applied < 8; p++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *stop = nl ? nl : end;
        size_t n = (size_t)(stop - p) > 512 ? 512 : (size_t)(stop - p);
        char *line = malloc(n + 1);
        memcpy(line, p, n);
        line[n] = '\0';
        const char *assignment = NULL;
        if (comments_only && strncmp(line, "#=", 2) == 0) assignment = line + 2;
        if (!comments_only && strchr(line, '=')) assignment = line;
        if (assignment) {
            CfgDiags d = {0};
            CfgNode *before = cfg_clone(root);
            int rc = cfg_apply_override(root, assignment, &d);
            CU_ASSERT_EQUAL(rc == 0, d.count == 0);
            if (rc) CU_ASSERT_TRUE(cfg_equal(before, root));
            cfg_free(before);
            cfg_diags_free(&d);
            applied++;
        }
        free(line);
        p = stop;
    }
}

static void validate_and_round_trip(CfgNode *root) {
    CfgDiags d = {0};
    int rc = cfg_validate(root, &TEST_SCHEMA, &d);
    CU_ASSERT_EQUAL(rc == 0, d.count == 0);
    check_round_trip(root);
    cfg_diags_free(&d);
}

static char *read_all(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 2 * 1024 * 1024;
    char *text = malloc(cap);
    *len = fread(text, 1, cap, f);
    fclose(f);
    return text;
}

/* Every input the fuzzer ever failed on (and a few hostile hand-written ones) must now go
 * through everything the fuzz target does without a crash, a leak (ASan build) or a broken
 * round trip. */
static void test_fuzz_regressions(void) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/regressions", source_dir());
    DIR *dp = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(dp);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(dp))) {
        if (e->d_name[0] == '.') continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len = 0;
        char *text = read_all(path, &len);
        CU_ASSERT_PTR_NOT_NULL_FATAL(text);
        CfgDiags d = {0};
        CfgNode *root = cfg_parse_string(text, len, e->d_name, &d);
        if (root) {
            check_round_trip(root);
            apply_lines(root, text, len, 1);
            validate_and_round_trip(root);
            cfg_free(root);
        } else {
            CU_ASSERT_TRUE(d.count > 0); /* a rejected input always says why */
        }
        cfg_diags_free(&d);
        CfgNode *base = valid_tree();
        apply_lines(base, text, len, 0);
        validate_and_round_trip(base);
        cfg_free(base);
        free(text);
        files++;
    }
    closedir(dp);
    CU_ASSERT_TRUE(files > 0);
}

int main(void) {
    static const TestCase cases[] = {
        {"parse positions", test_parse_positions},
        {"parse quoting", test_parse_quoting},
        {"syntax error position", test_syntax_error_position},
        {"anchors, aliases and tags rejected", test_reject_anchors_and_aliases},
        {"nesting bounded", test_nesting_bounded},
        {"duplicates, documents, empty, NUL, size", test_structure_errors},
        {"parse file", test_parse_file},
        {"valid spec: defaults and getters", test_valid_spec_defaults_and_getters},
        {"unknown key and did-you-mean", test_unknown_key_did_you_mean},
        {"type errors", test_type_errors},
        {"number grammar", test_number_grammar},
        {"range errors", test_range_errors},
        {"enum errors", test_enum_errors},
        {"missing required keys", test_missing_required},
        {"conditional keys", test_conditional_keys},
        {"list item conditions", test_list_item_conditions},
        {"many errors in one pass", test_many_errors_one_pass},
        {"edit distance", test_edit_distance},
        {"schema check", test_schema_check},
        {"overrides", test_overrides},
        {"override then validate", test_override_then_validate},
        {"override errors", test_override_errors},
        {"override depth bounded", test_override_depth},
        {"emit round trip", test_emit_round_trip},
        {"equal and clone", test_equal_and_clone},
        {"diagnostics print format", test_diags_print_format},
        {"fuzz regressions replay", test_fuzz_regressions},
        {NULL, NULL},
    };
    return run_tests("cfg", cases);
}
