/* test_compose.c — specs that compose: `base: PATH` merged under a spec (maps key by key, lists
 * and scalars replaced), chains of bases with relative paths, a cycle and a missing base refused
 * at the `base` key, errors and `show --origin` pointing into the file that holds each value, a
 * data path taken from the folder of the spec that writes it, and `SECTION=FILE.yaml` overrides
 * that replace a section whole. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "runcheck.h"
#include "spec/cfg.h"
#include "spec/spec.h"
#include "testutil.h"

static char *tmp;

static const char *at(const char *name) {
    static char path[4][PATH_MAX];
    static int next = 0;
    char *p = path[next++ % 4];
    snprintf(p, PATH_MAX, "%s/%s", tmp, name);
    return p;
}

/* A base of the adding task: lines 1–6 as numbered. */
static const char *BASE =
    "version: 1\n"                                                    /* 1 */
    "seed: 4\n"                                                       /* 2 */
    "data: {source: adding, length: 12, train_size: 300, test_size: 40}\n"   /* 3 */
    "model: {type: lstm, units: [32, 16], input: features, head: last_step}\n" /* 4 */
    "loss: squared_error\n"                                           /* 5 */
    "optimizer: {type: adam, lr: 0.01}\n";                            /* 6 */

static int load(const char *name, char *const *overrides, int n, Spec *spec, CfgDiags *diags) {
    memset(diags, 0, sizeof *diags);
    return spec_load(at(name), overrides, n, spec, diags);
}

static int diags_have(const CfgDiags *d, const char *file_end, int line, const char *needle) {
    for (int i = 0; i < d->count; i++) {
        const CfgDiag *g = &d->items[i];
        size_t n = strlen(g->file ? g->file : ""), k = strlen(file_end);
        if (n >= k && strcmp(g->file + n - k, file_end) == 0 && (line < 0 || g->line == line) &&
            strstr(g->message, needle))
            return 1;
    }
    return 0;
}

/* A child over its base: maps merged key by key, the list replaced whole; `base` gone. */
static void test_merge(void) {
    rc_write_text(at("base.yaml"), BASE);
    rc_write_text(at("base_es.yaml"), "base: base.yaml\ntrain: {early_stopping: {patience: 3, min_delta: 0.5}}\n");
    rc_write_text(at("child.yaml"), "base: base_es.yaml\n"
                                    "model: {units: [8]}\n"
                                    "optimizer: {lr: 0.002}\n"
                                    "train: {epochs: 3, early_stopping: {patience: 5}}\n");
    Spec spec;
    CfgDiags d;
    CU_ASSERT_EQUAL_FATAL(load("child.yaml", NULL, 0, &spec, &d), 0);
    CU_ASSERT_EQUAL(spec.model.rec.n_layers, 1);   /* [8] replaced [32, 16]: not a mix */
    CU_ASSERT_EQUAL(spec.model.rec.units[0], 8);
    CU_ASSERT_EQUAL(spec.model.rec.cell, CELL_LSTM);   /* the base's model keys stay */
    CU_ASSERT_EQUAL(spec.model.rec.head, SEQ_HEAD_LAST_STEP);
    CU_ASSERT_DOUBLE_EQUAL(spec.optim.lr, 0.002, 1e-12);
    CU_ASSERT_EQUAL(spec.seed, 4);
    CU_ASSERT_EQUAL(spec.train.epochs, 3);
    CU_ASSERT_EQUAL(spec.train.early_stopping.patience, 5);   /* maps merged two levels down */
    CU_ASSERT_DOUBLE_EQUAL(spec.train.early_stopping.min_delta, 0.5, 1e-12);
    CU_ASSERT_PTR_NULL(cfg_get(spec.tree, "base"));
    /* origins: the child's value, the base's, a default */
    char *text = cfg_emit_yaml_origins(spec.tree);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "lr: 0.002  # "));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "child.yaml:3\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "source: adding  # "));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "base.yaml:3\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "# schema default"));
    free(text);
    spec_free(&spec);
    cfg_diags_free(&d);
}

/* a → b → c with paths relative to each spec's own folder; a relative data path is taken from
 * the folder of the spec that writes it. */
static void test_chain_and_paths(void) {
    mkdir(at("common"), 0755);
    mkdir(at("exp"), 0755);
    rc_write_text(at("common/words.txt"), "the quick brown fox jumps over the lazy dog. the dog sleeps.\n");
    rc_write_text(at("common/text.yaml"), "version: 1\ndata: {source: text, path: words.txt, seq_len: 8}\n"
                                          "loss: softmax_cross_entropy\n");
    rc_write_text(at("common/lstm.yaml"), "base: text.yaml\nmodel: {type: lstm, units: [16], input: onehot, "
                                          "head: per_step}\n");
    rc_write_text(at("exp/run.yaml"), "base: ../common/lstm.yaml\ntrain: {epochs: 2}\n");
    Spec spec;
    CfgDiags d;
    CU_ASSERT_EQUAL_FATAL(load("exp/run.yaml", NULL, 0, &spec, &d), 0);
    char want[PATH_MAX];
    CU_ASSERT_PTR_NOT_NULL_FATAL(realpath(at("common/words.txt"), want));
    CU_ASSERT_STRING_EQUAL(spec.data.path, want);
    CU_ASSERT_STRING_EQUAL(cfg_str(spec.tree, "data.path"), want);
    CU_ASSERT_EQUAL(spec.train.epochs, 2);
    spec_free(&spec);
    cfg_diags_free(&d);
}

/* A cycle, a missing base and a base that is not a map: refused at the `base` key. */
static void test_bad_bases(void) {
    rc_write_text(at("a.yaml"), "base: b.yaml\nseed: 1\n");
    rc_write_text(at("b.yaml"), "version: 1\nbase: a.yaml\n");
    Spec spec;
    CfgDiags d;
    CU_ASSERT_NOT_EQUAL(load("a.yaml", NULL, 0, &spec, &d), 0);
    spec_free(&spec);   /* a spec that failed validation still holds its tree */
    CU_ASSERT(diags_have(&d, "b.yaml", 2, "come back"));
    CU_ASSERT(diags_have(&d, "b.yaml", 2, "a.yaml → "));
    cfg_diags_free(&d);

    rc_write_text(at("lost.yaml"), "seed: 1\nbase: nowhere.yaml\n");
    CU_ASSERT_NOT_EQUAL(load("lost.yaml", NULL, 0, &spec, &d), 0);
    spec_free(&spec);   /* a spec that failed validation still holds its tree */
    CU_ASSERT(diags_have(&d, "lost.yaml", 2, "no spec file"));
    CU_ASSERT(diags_have(&d, "lost.yaml", 2, "nowhere.yaml"));
    cfg_diags_free(&d);

    rc_write_text(at("list.yaml"), "- 1\n- 2\n");
    rc_write_text(at("on_list.yaml"), "base: list.yaml\n");
    CU_ASSERT_NOT_EQUAL(load("on_list.yaml", NULL, 0, &spec, &d), 0);
    spec_free(&spec);   /* a spec that failed validation still holds its tree */
    CU_ASSERT(diags_have(&d, "list.yaml", -1, "must be a map"));
    cfg_diags_free(&d);
}

/* An error in a value the base holds is reported in the base, at its line. */
static void test_error_in_base(void) {
    rc_write_text(at("bad_base.yaml"), "version: 1\ndata: {source: adding, length: 12}\n"
                                       "model: {type: lstm, units: [8], input: features, head: last_step}\n"
                                       "loss: squared_error\noptimizer: {type: adam, lr: -1}\n");
    rc_write_text(at("uses_bad.yaml"), "base: bad_base.yaml\nseed: 2\n");
    Spec spec;
    CfgDiags d;
    CU_ASSERT_NOT_EQUAL(load("uses_bad.yaml", NULL, 0, &spec, &d), 0);
    spec_free(&spec);   /* a spec that failed validation still holds its tree */
    CU_ASSERT(diags_have(&d, "bad_base.yaml", 5, ""));
    CU_ASSERT_EQUAL(d.count, 1);
    cfg_diags_free(&d);
}

/* data=FILE.yaml replaces the section whole (the file holding its keys, or `data:` itself);
 * a missing file is an error naming the override. */
static void test_section_file(void) {
    rc_write_text(at("base.yaml"), BASE);
    rc_write_text(at("adding_long.yaml"), "source: adding\nlength: 20\ntrain_size: 100\n");
    rc_write_text(at("adding_wrapped.yaml"), "data:\n  source: adding\n  length: 25\n");
    char o1[PATH_MAX + 8], o2[PATH_MAX + 8], o3[PATH_MAX + 8];
    snprintf(o1, sizeof o1, "data=%s", at("adding_long.yaml"));
    snprintf(o2, sizeof o2, "data=%s", at("adding_wrapped.yaml"));
    snprintf(o3, sizeof o3, "data=%s", at("nowhere.yaml"));
    Spec spec;
    CfgDiags d;
    char *const over1[] = {o1};
    CU_ASSERT_EQUAL_FATAL(load("base.yaml", over1, 1, &spec, &d), 0);
    CU_ASSERT_EQUAL(spec.data.length, 20);
    CU_ASSERT_EQUAL(spec.data.train_size, 100);
    CU_ASSERT_EQUAL(spec.data.test_size, 1000);   /* the base's 40 went with its section: the default */
    char *text = cfg_emit_yaml_origins(spec.tree);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "adding_long.yaml:2\n"));
    free(text);
    spec_free(&spec);
    cfg_diags_free(&d);
    char *const over2[] = {o2};
    CU_ASSERT_EQUAL_FATAL(load("base.yaml", over2, 1, &spec, &d), 0);
    CU_ASSERT_EQUAL(spec.data.length, 25);
    spec_free(&spec);
    cfg_diags_free(&d);
    char *const over3[] = {o3};
    CU_ASSERT_NOT_EQUAL(load("base.yaml", over3, 1, &spec, &d), 0);
    spec_free(&spec);   /* a spec that failed validation still holds its tree */
    CU_ASSERT(diags_have(&d, "nowhere.yaml'", 0, "no spec file"));
    cfg_diags_free(&d);
}

int main(void) {
    tmp = make_temp_dir("compose");
    TestCase cases[] = {{"a spec over its base: maps merged, lists replaced, origins", test_merge},
                        {"a chain of bases; data paths from the folder of their spec", test_chain_and_paths},
                        {"a cycle, a missing base, a base not a map: refused at base", test_bad_bases},
                        {"an error in the base is reported in the base", test_error_in_base},
                        {"data=FILE.yaml replaces the section", test_section_file},
                        {NULL, NULL}};
    return run_tests_in("compose", cases, tmp);
}
