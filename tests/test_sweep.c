/* test_sweep.c — the sweep: block and `exprun sweep`: the expansion order (grid in file order,
 * last key fastest, times zip), errors at their file:line:col, values that survive the trip
 * through override text, --list, validation of every trial before any runs, --index (plain and
 * as a Slurm array task), and --jobs with one failing trial: the exit status counts it, the
 * others finish, and sweep.tsv / summary.csv say so. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixtures.h"
#include "rng.h"
#include "spec/spec.h"
#include "runcheck.h"
#include "rundir.h"
#include "spec/sweep.h"
#include "sweep.h"
#include "runsummary.h"
#include "testutil.h"

static char *tmp;
static char data_path[1024], spec_path[1024];

/* 200 examples of 12 values in [0,1] (as test_e2e.c makes its data). */
static void make_data(void) {
    enum { N = 200, D = 12 };
    static float x[N * D];
    Rng r;
    rng_seed(&r, 11);
    for (int i = 0; i < N; i++) {
        float z = rng_uniform(&r);
        for (int j = 0; j < D; j++) x[i * D + j] = 0.6f * z + 0.4f * rng_uniform(&r);
    }
    snprintf(data_path, sizeof data_path, "%s/data.h5", tmp);
    fixture_write_h5(data_path, x, NULL, N, D);
    char junk[1100];
    snprintf(junk, sizeof junk, "%s/junk.h5", tmp);
    rc_write_text(junk, "this is not an HDF5 file\n");
}

/* 2 (lr) x 2 (code) x zip 1 = 4 trials; trial 1 and 3 read junk.h5 and fail at run time
 * (the file exists, so validation passes; it is not HDF5, so loading fails). */
static void make_spec(void) {
    char text[4096];
    snprintf(text, sizeof text,
             "version: 1\n"
             "name: sw\n"
             "seed: 3\n"
             "data: {source: hdf5, path: %s}\n"
             "model: {type: autoencoder, code: 3}\n"
             "loss: squared_error\n"
             "optimizer: {type: adam, lr: 0.01}\n"
             "train: {epochs: 2, batch_size: 50}\n"
             "output: {root: %s/results}\n"
             "sweep:\n"
             "  grid:\n"
             "    optimizer.lr: [1.0e-2, 3.0e-3]\n"
             "    data.path: [data.h5, junk.h5]\n",
             data_path, tmp);
    snprintf(spec_path, sizeof spec_path, "%s/sweep.yaml", tmp);
    rc_write_text(spec_path, text);
}

static char exe[4096];   /* exprun, as an absolute path (the commands run in tmp) */

static int run(const char *args, const char *out_name, const char *err_name) {
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "cd %s && %s %s > %s/%s 2> %s/%s", tmp, exe, args, tmp,
             out_name ? out_name : "stdout.txt", tmp, err_name ? err_name : "stderr.txt");
    return run_command(cmd);
}

static char *tmp_file(const char *name) {
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    return rc_slurp_text(path);
}

/* ---- expansion ----------------------------------------------------------------------------- */

static CfgNode *parse(const char *text, CfgDiags *d) { return cfg_parse_string(text, strlen(text), "s.yaml", d); }

static void test_order_grid_times_zip(void) {
    const char *text = "sweep:\n"
                       "  grid:\n"
                       "    optimizer.lr: [0.1, 0.2]\n"
                       "    model: {code: [4, 8, 16]}\n"
                       "  zip:\n"
                       "    seed: [1, 2]\n"
                       "    model.g: [sigmoid, tanh]\n";
    CfgDiags d = {0};
    CfgNode *root = parse(text, &d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    Sweep s;
    CU_ASSERT_EQUAL_FATAL(sweep_expand(root, &s, &d), 0);
    CU_ASSERT_EQUAL(s.n_trials, 12);
    CU_ASSERT_EQUAL(s.n_grid, 2);
    CU_ASSERT_EQUAL(s.n_zip, 2);
    CU_ASSERT_STRING_EQUAL(s.grid[1].key, "model.code");   /* nested map → dotted key */
    /* trial = (lr index · 3 + code index) · 2 + zip position */
    const char *lr[2] = {"0.1", "0.2"}, *code[3] = {"4", "8", "16"}, *seed[2] = {"1", "2"}, *g[2] = {"sigmoid", "tanh"};
    for (int t = 0; t < 12; t++) {
        int z = t % 2, c = (t / 2) % 3, l = t / 6;
        char want[4][64];
        snprintf(want[0], 64, "optimizer.lr=%s", lr[l]);
        snprintf(want[1], 64, "model.code=%s", code[c]);
        snprintf(want[2], 64, "seed=%s", seed[z]);
        snprintf(want[3], 64, "model.g=%s", g[z]);
        CU_ASSERT_EQUAL_FATAL(s.trials[t].n, 4);
        for (int k = 0; k < 4; k++) CU_ASSERT_STRING_EQUAL(s.trials[t].overrides[k], want[k]);
    }
    sweep_free(&s);
    /* grid only, and zip only */
    cfg_free(root);
    root = parse("sweep: {grid: {a: [1, 2], b: [x, y, z]}}\n", &d);
    CU_ASSERT_EQUAL_FATAL(sweep_expand(root, &s, &d), 0);
    CU_ASSERT_EQUAL(s.n_trials, 6);
    CU_ASSERT_STRING_EQUAL(s.trials[1].overrides[1], "b=y");    /* last key fastest */
    CU_ASSERT_STRING_EQUAL(s.trials[3].overrides[0], "a=2");
    sweep_free(&s);
    cfg_free(root);
    root = parse("sweep: {zip: {a: [1, 2, 3], b: [x, y, z]}}\n", &d);
    CU_ASSERT_EQUAL_FATAL(sweep_expand(root, &s, &d), 0);
    CU_ASSERT_EQUAL(s.n_trials, 3);
    CU_ASSERT_STRING_EQUAL(s.trials[2].overrides[0], "a=3");
    CU_ASSERT_STRING_EQUAL(s.trials[2].overrides[1], "b=z");
    sweep_free(&s);
    cfg_free(root);
    CU_ASSERT_EQUAL(d.count, 0);
    cfg_diags_free(&d);
}

static int has_diag(const CfgDiags *d, int line, int col, const char *needle) {
    for (int i = 0; i < d->count; i++)
        if (d->items[i].line == line && d->items[i].col == col && strstr(d->items[i].message, needle)) return 1;
    return 0;
}

static void test_errors_have_positions(void) {
    const char *text = "model: {code: 3}\n"              /* 1 */
                       "sweep:\n"                         /* 2 */
                       "  zip:\n"                         /* 3 */
                       "    a: [1, 2]\n"                  /* 4 */
                       "    b: [1, 2, 3]\n"               /* 5 */
                       "  grid:\n"                        /* 6 */
                       "    c: 5\n"                       /* 7 */
                       "    d: []\n"                      /* 8 */
                       "    a: [7]\n"                     /* 9 */
                       "  gird: {}\n";                    /* 10 */
    CfgDiags d = {0};
    CfgNode *root = parse(text, &d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    Sweep s;
    CU_ASSERT_EQUAL(sweep_expand(root, &s, &d), -1);
    CU_ASSERT_EQUAL(s.n_trials, 0);
    CU_ASSERT(has_diag(&d, 5, 5, "zip lists must have the same length: this one has 3 values, 'a' (line 4) has 2"));
    CU_ASSERT(has_diag(&d, 7, 8, "expected a list of values"));
    CU_ASSERT(has_diag(&d, 8, 8, "empty list"));
    CU_ASSERT(has_diag(&d, 9, 5, "swept twice"));
    CU_ASSERT(has_diag(&d, 10, 3, "did you mean 'grid'"));
    CU_ASSERT_EQUAL(d.count, 5);
    ExError err;
    cfg_diags_to_error(&d, &err);
    CU_ASSERT(strstr(err.msg, "s.yaml:5:5: sweep.zip.b: zip lists") != NULL);
    cfg_diags_free(&d);
    cfg_free(root);
    /* no sweep block at all */
    root = parse("model: {code: 3}\n", &d);
    CU_ASSERT_EQUAL(sweep_expand(root, &s, &d), -1);
    CU_ASSERT(d.count == 1 && strstr(d.items[0].message, "no sweep: block") != NULL);
    cfg_diags_free(&d);
    cfg_free(root);
    /* a key inside another */
    root = parse("sweep: {grid: {model: [{code: 2}], model.code: [3]}}\n", &d);
    CU_ASSERT_EQUAL(sweep_expand(root, &s, &d), -1);
    CU_ASSERT(d.count == 1 && strstr(d.items[0].message, "overlaps 'model'") != NULL);
    cfg_diags_free(&d);
    cfg_free(root);
}

/* Every kind of value comes back the same after cfg_emit_flow_string → cfg_apply_override. */
static void test_values_round_trip(void) {
    const char *text = "sweep:\n"
                       "  grid:\n"
                       "    v: [1.0e-3, -2, .5, relu, \"two words\", \"123\", 'it''s', [128, 64], {type: masking, rate: 0.3}, true, \"\"]\n";
    CfgDiags d = {0};
    CfgNode *root = parse(text, &d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(root);
    Sweep s;
    CU_ASSERT_EQUAL_FATAL(sweep_expand(root, &s, &d), 0);
    CU_ASSERT_EQUAL_FATAL(s.n_trials, 11);
    CU_ASSERT_STRING_EQUAL(s.trials[0].overrides[0], "v=1.0e-3");
    CU_ASSERT_STRING_EQUAL(s.trials[4].overrides[0], "v=two words");   /* plain in flow YAML */
    CU_ASSERT_STRING_EQUAL(s.trials[5].overrides[0], "v=\"123\"");   /* still a string */
    CU_ASSERT_STRING_EQUAL(s.trials[7].overrides[0], "v=[128, 64]");
    for (int t = 0; t < s.n_trials; t++) {
        CfgNode *tree = parse("v: 0\n", &d);
        CU_ASSERT_EQUAL(cfg_apply_override(tree, s.trials[t].overrides[0], &d), 0);
        CfgNode *want = cfg_new(CFG_MAP, NULL, NULL, "want", 0, 0);
        CfgNode *value = cfg_clone(s.trials[t].values[0]);
        free(value->key);
        value->key = strdup("v");
        cfg_append(want, value);
        CU_ASSERT(cfg_equal(tree, want));
        if (!cfg_equal(tree, want)) printf("\n  round trip failed: %s\n", s.trials[t].overrides[0]);
        cfg_free(want);
        cfg_free(tree);
    }
    CU_ASSERT_EQUAL(d.count, 0);
    sweep_free(&s);
    cfg_free(root);
    cfg_diags_free(&d);
}

/* A bad value in a trial is reported at its place in the sweep block, not at "override". */
static void test_trial_errors_point_into_the_sweep(void) {
    char text[2048];
    snprintf(text, sizeof text,
             "version: 1\n"
             "data: {source: hdf5, path: %s}\n"
             "model: {type: autoencoder, code: 3}\n"
             "loss: squared_error\n"
             "sweep:\n"
             "  grid:\n"
             "    optimizer.lr: [0.1, -1]\n"
             "    optimiser: {lr: [1]}\n",
             data_path);
    CfgDiags d = {0};
    CfgNode *root = parse(text, &d);
    Sweep s;
    CU_ASSERT_EQUAL_FATAL(sweep_expand(root, &s, &d), 0);
    CU_ASSERT_EQUAL_FATAL(s.n_trials, 2);
    CfgNode *tree = cfg_clone(root);
    CU_ASSERT_EQUAL(sweep_strip(tree), 1);
    CU_ASSERT_PTR_NULL(cfg_get(tree, "sweep"));
    CU_ASSERT_EQUAL(sweep_apply_trial(tree, &s, 1, &d), 0);
    Spec spec;
    CU_ASSERT_EQUAL(spec_from_tree(tree, "s.yaml", &spec, &d), -1);
    CU_ASSERT(has_diag(&d, 7, 25, "must be at least 0"));          /* the -1 in the list */
    CU_ASSERT(has_diag(&d, 8, 5, "unknown key 'optimiser'"));      /* the nested key */
    spec_free(&spec);
    cfg_diags_free(&d);
    sweep_free(&s);
    cfg_free(root);
}

/* ---- the command --------------------------------------------------------------------------- */

static void test_list(void) {
    char args[4096];
    snprintf(args, sizeof args, "sweep %s --list", spec_path);
    CU_ASSERT_EQUAL_FATAL(run(args, NULL, NULL), 0);
    char *out = tmp_file("stdout.txt");
    const char *want = "# trial  overrides\n"
                       "      0  optimizer.lr=1.0e-2 data.path=data.h5\n"
                       "      1  optimizer.lr=1.0e-2 data.path=junk.h5\n"
                       "      2  optimizer.lr=3.0e-3 data.path=data.h5\n"
                       "      3  optimizer.lr=3.0e-3 data.path=junk.h5\n"
                       "# 4 trials = grid: optimizer.lr (2) x data.path (2)\n";
    CU_ASSERT(strncmp(out, want, strlen(want)) == 0);
    if (strncmp(out, want, strlen(want)) != 0) printf("\n--- got:\n%s", out);
    free(out);
    /* a command-line override of the sweep itself changes the list */
    snprintf(args, sizeof args, "sweep %s --list 'sweep.grid.optimizer.lr=[0.5]'", spec_path);
    CU_ASSERT_EQUAL(run(args, NULL, NULL), 0);
    out = tmp_file("stdout.txt");
    CU_ASSERT(strstr(out, "      1  optimizer.lr=0.5 data.path=junk.h5\n") != NULL);
    CU_ASSERT(strstr(out, "# 2 trials") != NULL);
    free(out);
    /* nothing was run */
    char results[1100];
    snprintf(results, sizeof results, "%s/results", tmp);
    struct stat st;
    CU_ASSERT(stat(results, &st) != 0);
}

static void test_invalid_trials_stop_everything(void) {
    char args[4096];
    /* trial 2 and 3 get lr = -1: every problem reported, nothing run */
    snprintf(args, sizeof args, "sweep %s --jobs 2 'sweep.grid.optimizer.lr=[0.1, -1]' output.root=%s/bad", spec_path,
             tmp);
    CU_ASSERT_EQUAL(run(args, NULL, NULL), 2);
    char *err = tmp_file("stderr.txt");
    CU_ASSERT(strstr(err, "optimizer.lr: must be at least 0, got -1  [trials 2-3]") != NULL);
    CU_ASSERT(strstr(err, "2 of 4 trials") != NULL);
    free(err);
    char bad[1100];
    snprintf(bad, sizeof bad, "%s/bad", tmp);
    struct stat st;
    CU_ASSERT(stat(bad, &st) != 0);
    /* a swept key overridden on the command line is refused, at the sweep's line */
    snprintf(args, sizeof args, "sweep %s --list optimizer.lr=0.5", spec_path);
    CU_ASSERT_EQUAL(run(args, NULL, NULL), 2);
    err = tmp_file("stderr.txt");
    CU_ASSERT(strstr(err, "sweep.yaml:12:5: optimizer.lr: is swept") != NULL);
    free(err);
    /* index out of range, and a missing index */
    snprintf(args, sizeof args, "sweep %s --index 4", spec_path);
    CU_ASSERT_EQUAL(run(args, NULL, NULL), 2);
    err = tmp_file("stderr.txt");
    CU_ASSERT(strstr(err, "has 4 trials (0 to 3)") != NULL);
    free(err);
    snprintf(args, sizeof args, "sweep %s --index ''", spec_path);
    CU_ASSERT_EQUAL(run(args, NULL, NULL), 2);
}

/* The only sub-folder of dir whose name starts with prefix. */
static int find_child(const char *dir, const char *prefix, char *out, size_t cap) {
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "ls -d %s/%s* > %s/found.txt 2>/dev/null", dir, prefix, tmp);
    if (run_command(cmd) != 0) return -1;
    char *found = tmp_file("found.txt");
    int lines = 0;
    for (char *p = found; *p; p++) lines += *p == '\n';
    found[strcspn(found, "\n")] = '\0';
    snprintf(out, cap, "%s", found);
    free(found);
    return lines == 1 ? 0 : -1;
}

static void test_jobs_with_one_failing_trial(void) {
    char args[4096];
    /* 2 x 2 trials, 2 at a time; the junk.h5 ones (1 and 3) fail, the others finish */
    snprintf(args, sizeof args, "sweep %s --jobs 2 train.epochs=3", spec_path);
    CU_ASSERT_EQUAL(run(args, NULL, NULL), 2);
    char parent[1100], sweep_dir[2048];
    snprintf(parent, sizeof parent, "%s/results/sw", tmp);
    CU_ASSERT_EQUAL_FATAL(find_child(parent, "sweep-", sweep_dir, sizeof sweep_dir), 0);
    char path[4096];
    snprintf(path, sizeof path, "%s/sweep.tsv", sweep_dir);
    char *tsv = rc_slurp_text(path);
    CU_ASSERT(strncmp(tsv, "index\trun_dir\tstatus\texit_code\tseconds\toverrides\n", 49) == 0);
    char want[4096];
    snprintf(want, sizeof want, "0\t%s/trial-000\tfinished\t0\t", sweep_dir);
    CU_ASSERT(strstr(tsv, want) != NULL);
    snprintf(want, sizeof want, "1\t%s/trial-001\tfailed\t3\t", sweep_dir);
    CU_ASSERT(strstr(tsv, want) != NULL);
    snprintf(want, sizeof want, "2\t%s/trial-002\tfinished\t0\t", sweep_dir);
    CU_ASSERT(strstr(tsv, want) != NULL);
    CU_ASSERT(strstr(tsv, "\toptimizer.lr=3.0e-3 data.path=junk.h5\n") != NULL);
    free(tsv);
    /* a finished trial is a plain run: its overrides (threads=1 added for --jobs 2), no sweep
     * block in its resolved spec, all its epochs */
    snprintf(path, sizeof path, "%s/trial-002/overrides.txt", sweep_dir);
    char *ov = rc_slurp_text(path);
    CU_ASSERT_STRING_EQUAL(ov, "train.epochs=3\nthreads=1\noptimizer.lr=3.0e-3\ndata.path=data.h5\n");
    free(ov);
    snprintf(path, sizeof path, "%s/trial-002/resolved.yaml", sweep_dir);
    char *resolved = rc_slurp_text(path);
    CU_ASSERT(strstr(resolved, "\nsweep:") == NULL && strstr(resolved, "grid") == NULL);
    CU_ASSERT(strstr(resolved, "lr: 3.0e-3") != NULL);
    free(resolved);
    snprintf(path, sizeof path, "%s/trial-002/status", sweep_dir);
    char *status = rc_slurp_text(path);
    CU_ASSERT_STRING_EQUAL(status, "finished\n");
    free(status);
    /* the failure is in its log and was reported when it happened */
    snprintf(path, sizeof path, "%s/trial-001.log", sweep_dir);
    char *log = rc_slurp_text(path);
    CU_ASSERT(strstr(log, "junk.h5") != NULL);
    free(log);
    char *err = tmp_file("stderr.txt");
    CU_ASSERT(strstr(err, "trial-001 failed (exit 3)") != NULL);
    CU_ASSERT(strstr(err, "2 of 4 trials finished") != NULL);
    free(err);
    /* summary.csv: a row per trial, the failed ones included */
    snprintf(path, sizeof path, "%s/summary.csv", sweep_dir);
    char *csv = rc_slurp_text(path);
    int lines = 0;
    for (char *p = csv; *p; p++) lines += *p == '\n';
    CU_ASSERT_EQUAL(lines, 5);
    snprintf(want, sizeof want, "%s/trial-000,sw,finished,3,3,", sweep_dir);
    CU_ASSERT(strstr(csv, want) != NULL);
    snprintf(want, sizeof want, "%s/trial-003,sw,failed,0,,", sweep_dir);
    CU_ASSERT(strstr(csv, want) != NULL);
    free(csv);
    /* the printed table too, and the best trial named last with its swept keys (the lowest
     * best_val of the two that finished) */
    char *out = tmp_file("stdout.txt");
    CU_ASSERT(strstr(out, "trial-000  sw    finished") != NULL);
    double best_val[2];
    for (int t = 0; t < 2; t++) {
        RunSummary s;
        ExError e;
        snprintf(path, sizeof path, "%s/trial-00%d", sweep_dir, 2 * t);
        CU_ASSERT_FATAL(run_summary_read(path, &s, &e) == 0);
        best_val[t] = s.best_val;
        run_summary_free(&s);
    }
    int best = best_val[1] < best_val[0];
    snprintf(want, sizeof want, "\nbest trial: %s/trial-00%d (best_val %.5f, the lowest): optimizer.lr=%s data.path=data.h5\n",
             sweep_dir, 2 * best, best_val[best], best ? "3.0e-3" : "1.0e-2");
    CU_ASSERT(strstr(out, want) != NULL);
    if (!strstr(out, want)) printf("\n%s\nnot in\n%s\n", want, out);
    free(out);
}

static void test_fail_fast(void) {
    char args[4096];
    /* one at a time: trial 0 finishes, trial 1 fails, 2 and 3 are never started */
    snprintf(args, sizeof args, "sweep %s --jobs 1 --fail-fast --sweep-dir %s/ff", spec_path, tmp);
    CU_ASSERT_EQUAL(run(args, NULL, NULL), 3);
    char path[1100];
    snprintf(path, sizeof path, "%s/ff/sweep.tsv", tmp);
    char *tsv = rc_slurp_text(path);
    CU_ASSERT(strstr(tsv, "trial-001\tfailed\t3") != NULL);
    CU_ASSERT(strstr(tsv, "trial-002\tnot run\t") != NULL);
    CU_ASSERT(strstr(tsv, "trial-003\tnot run\t") != NULL);
    free(tsv);
    struct stat st;
    snprintf(path, sizeof path, "%s/ff/trial-002", tmp);
    CU_ASSERT(stat(path, &st) != 0);
}

/* TMP/NAME holding only FILE (TEXT): trial 2 run into it is refused (exit 2), and the folder is
 * left with FILE alone (no .lock made, nothing removed). */
static void refused_untouched(const char *name, const char *file, const char *text) {
    char dir[1100], args[4096];
    snprintf(dir, sizeof dir, "%s/%s", tmp, name);
    CU_ASSERT_EQUAL_FATAL(mkdir(dir, 0777), 0);
    rc_write_text(rc_in_dir(dir, file), text);
    snprintf(args, sizeof args, "sweep %s --index 2 --out %s", spec_path, dir);
    CU_ASSERT_EQUAL(run(args, NULL, NULL), 2);
    char *kept = rc_slurp(rc_in_dir(dir, file));
    CU_ASSERT(kept && strcmp(kept, text) == 0);
    free(kept);
    CU_ASSERT(!rc_exists(rc_in_dir(dir, ".lock")));
}

static void test_index(void) {
    char args[4096], path[1100];
    /* --index with --out: exactly that run */
    snprintf(args, sizeof args, "sweep %s --index 2 --out %s/one -q", spec_path, tmp);
    CU_ASSERT_EQUAL(run(args, NULL, NULL), 0);
    snprintf(path, sizeof path, "%s/one/overrides.txt", tmp);
    char *ov = rc_slurp_text(path);
    CU_ASSERT_STRING_EQUAL(ov, "optimizer.lr=3.0e-3\ndata.path=data.h5\n");   /* no threads=1 here */
    free(ov);
    /* a Slurm array task: ROOT/NAME/sweep-slurm-JOB/trial-III, and the trial list beside it */
    snprintf(args, sizeof args, "sweep %s --index 0 -q output.root=%s/slurm", spec_path, tmp);
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "cd %s && SLURM_ARRAY_JOB_ID=4242 %s %s > /dev/null 2>&1", tmp, exe, args);
    CU_ASSERT_EQUAL(run_command(cmd), 0);
    snprintf(path, sizeof path, "%s/slurm/sw/sweep-slurm-4242/trial-000/status", tmp);
    char *status = rc_slurp_text(path);
    CU_ASSERT_STRING_EQUAL(status, "finished\n");
    free(status);
    snprintf(path, sizeof path, "%s/slurm/sw/sweep-slurm-4242/sweep.tsv", tmp);
    char *tsv = rc_slurp_text(path);
    CU_ASSERT(strstr(tsv, "3\t") != NULL && strstr(tsv, "trial-003") != NULL);
    free(tsv);
    /* the failing trial's exit status is the run's */
    snprintf(args, sizeof args, "sweep %s --index 1 --out %s/two -q", spec_path, tmp);
    CU_ASSERT_EQUAL(run(args, NULL, NULL), 3);
    /* an empty folder made beforehand (a job script's mkdir) is a new trial, as --out takes it */
    snprintf(path, sizeof path, "%s/three", tmp);
    CU_ASSERT_EQUAL_FATAL(mkdir(path, 0777), 0);
    snprintf(args, sizeof args, "sweep %s --index 2 --out %s/three -q", spec_path, tmp);
    CU_ASSERT_EQUAL(run(args, NULL, NULL), 0);
    snprintf(path, sizeof path, "%s/three/status", tmp);
    status = rc_slurp_text(path);
    CU_ASSERT_STRING_EQUAL(status, "finished\n");
    free(status);
    /* a folder left half made (the trial killed before resolved.yaml, the file written last):
     * nothing was trained, so the trial starts anew there; with one file more it is refused */
    char four[1100];
    snprintf(four, sizeof four, "%s/four", tmp);
    CU_ASSERT_EQUAL_FATAL(mkdir(four, 0777), 0);
    char *spec_text = rc_slurp_text(spec_path);
    rc_write_text(rc_in_dir(four, "spec.yaml"), spec_text);
    free(spec_text);
    rc_write_text(rc_in_dir(four, "overrides.txt"), "optimizer.lr=3.0e-3\ndata.path=data.h5\n");
    rc_write_text(rc_in_dir(four, "status"), "running\n");
    rc_write_text(rc_in_dir(four, ".lock"), "12345\n");
    rc_write_text(rc_in_dir(four, "status.12345.tmp"), "runn");
    rc_write_text(rc_in_dir(four, "notes.txt"), "mine\n");
    snprintf(args, sizeof args, "sweep %s --index 2 --out %s", spec_path, four);
    CU_ASSERT_EQUAL(run(args, NULL, NULL), 2);
    char *err = tmp_file("stderr.txt");
    CU_ASSERT(strstr(err, "holds no complete run") != NULL);
    free(err);
    CU_ASSERT(rc_exists(rc_in_dir(four, "notes.txt")) && rc_exists(rc_in_dir(four, "spec.yaml")));
    unlink(rc_in_dir(four, "notes.txt"));
    CU_ASSERT_EQUAL(run(args, NULL, NULL), 0);
    char *out = tmp_file("stdout.txt");
    CU_ASSERT(strstr(out, "was stopped while its folder was being made") != NULL);
    free(out);
    status = rc_slurp_text(rc_in_dir(four, "status"));
    CU_ASSERT_STRING_EQUAL(status, "finished\n");
    free(status);
    CU_ASSERT(!rc_exists(rc_in_dir(four, "status.12345.tmp")));
    /* made from other overrides, half made or not: not this trial's, refused */
    refused_untouched("five", "overrides.txt", "optimizer.lr=1.0e-2\n");
    /* a folder with a file of its own is not even locked */
    refused_untouched("six", "notes.txt", "mine\n");
}

/* A plain run of a spec with a sweep block trains the base spec and leaves the block out. */
static void test_plain_run_drops_the_block(void) {
    char args[4096], path[1100];
    snprintf(args, sizeof args, "%s --out %s/plain", spec_path, tmp);
    CU_ASSERT_EQUAL(run(args, NULL, NULL), 0);
    char *err = tmp_file("stderr.txt");
    CU_ASSERT(strstr(err, "has a sweep: block") != NULL);
    free(err);
    snprintf(path, sizeof path, "%s/plain/resolved.yaml", tmp);
    char *resolved = rc_slurp_text(path);
    CU_ASSERT(strstr(resolved, "\nsweep:") == NULL && strstr(resolved, "grid") == NULL);
    free(resolved);
    /* and it resumes: the checkpoint's spec matches resolved.yaml */
    snprintf(args, sizeof args, "resume %s/plain", tmp);
    CU_ASSERT_EQUAL(run(args, NULL, NULL), 0);
}

/* scripts/sweep_loop.sh and scripts/sweep_slurm.sh, run as a user would (Slurm's variables set
 * by hand; the #SBATCH lines are comments to bash). */
static void test_scripts(void) {
    char cmd[16384], path[1100];
    snprintf(cmd, sizeof cmd,
             "cd %s && EXPRUN=%s OUT=%s/loop bash %s/scripts/sweep_loop.sh %s train.epochs=1 > loop.out 2> loop.err",
             tmp, exe, tmp, source_dir(), spec_path);
    CU_ASSERT_EQUAL(run_command(cmd), 0);
    const char *lrs[4] = {"1.0e-2", "3.0e-3", "1.0e-3", "3.0e-4"};
    for (int i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s/loop/lr-%s/status", tmp, lrs[i]);
        char *status = rc_slurp_text(path);
        CU_ASSERT_STRING_EQUAL(status, "finished\n");
        free(status);
    }
    char *out = tmp_file("loop.out");
    CU_ASSERT(strstr(out, "lr-3.0e-4  sw    finished") != NULL);     /* the summary at the end */
    free(out);
    snprintf(cmd, sizeof cmd,
             "cd %s && EXPRUN=%s SLURM_ARRAY_TASK_ID=2 SLURM_ARRAY_JOB_ID=77 SLURM_CPUS_PER_TASK=1 "
             "bash %s/scripts/sweep_slurm.sh %s > slurm.out 2>&1",
             tmp, exe, source_dir(), spec_path);
    CU_ASSERT_EQUAL(run_command(cmd), 0);
    snprintf(path, sizeof path, "%s/results/sw/sweep-slurm-77/trial-002/overrides.txt", tmp);
    char *ov = rc_slurp_text(path);
    CU_ASSERT_STRING_EQUAL(ov, "threads=1\noptimizer.lr=3.0e-3\ndata.path=data.h5\n");
    free(ov);
    /* without the array variables the script refuses to run */
    snprintf(cmd, sizeof cmd, "cd %s && EXPRUN=%s bash %s/scripts/sweep_slurm.sh %s > /dev/null 2>&1", tmp, exe,
             source_dir(), spec_path);
    CU_ASSERT_NOT_EQUAL(run_command(cmd), 0);
}

/* A sweep killed (SIGKILL to it and its trials, as a lost node) midway and run again with the
 * same command: the finished trials are kept with their logs byte for byte, the others resume
 * from their checkpoints (their logs go on), sweep.tsv ends with no `running` row, and a
 * resumed trial ends bit for bit as the same trial run whole. Run again with another override,
 * no trial is touched. */
static void test_killed_sweep_runs_again(void) {
    char spec[1024], sd[1024], log[1024];
    snprintf(spec, sizeof spec, "%s/again.yaml", tmp);
    snprintf(sd, sizeof sd, "%s/again", tmp);
    snprintf(log, sizeof log, "%s/again.log", tmp);
    rc_write_text(spec, "version: 1\nname: again\n"
                        "data: {source: adding, length: 30, train_size: 6000, test_size: 50}\n"
                        "model: {type: lstm, units: [24], input: features, head: last_step}\n"
                        "loss: squared_error\ntrain: {epochs: 6, batch_size: 32}\n"
                        "sweep:\n  grid: {optimizer.lr: [1.0e-2, 3.0e-3], model.units: [[16], [24]]}\n");
    const char *args[] = {"sweep", spec, "--jobs", "2", "--sweep-dir", sd, NULL};
    pid_t pid = rc_spawn_session(args, log);
    /* kill once trial 0 has finished and trial 2 has a checkpoint */
    char t0[1200], t2[1200];
    snprintf(t0, sizeof t0, "%s/trial-000", sd);
    snprintf(t2, sizeof t2, "%s/trial-002", sd);
    int ready = 0;
    /* bounded by time, not by polls: the sanitizer build trains many times slower */
    for (double end = rc_now() + 300; !ready && rc_now() < end; rc_sleep(0.005)) {
        char *status = rc_slurp(rc_in_dir(t0, "status"));
        ready = status && strcmp(status, "finished\n") == 0 && rc_count_files(rc_in_dir(t2, "checkpoints"), ".h5") > 0;
        free(status);
    }
    kill(-pid, SIGKILL);
    CU_ASSERT(rc_wait(pid) == 128 + SIGKILL);
    CU_ASSERT_FATAL(ready);
    /* The trials' own deaths: a trial killed inside an fsync dies only when the fsync returns,
     * which on a loaded disk takes a while; until then it holds its run's lock, and running
     * the sweep again would find the trial locked (exit 5), as a user would who reruns too soon. */
    for (double end = rc_now() + 120; rc_now() < end; rc_sleep(0.05)) {
        int held = 0;
        for (int t = 0; t < 4; t++) {
            char dir[1200];
            snprintf(dir, sizeof dir, "%s/trial-%03d", sd, t);
            held += rundir_lock_is_held(dir);
        }
        if (!held) break;
    }
    char *tsv = rc_slurp(rc_in_dir(sd, "sweep.tsv"));
    CU_ASSERT(tsv && strstr(tsv, "\trunning\t"));   /* killed midway, as the test wants */
    free(tsv);
    char *log0 = rc_slurp(rc_in_dir(sd, "trial-000.log")), *log2 = rc_slurp(rc_in_dir(sd, "trial-002.log"));
    CU_ASSERT_FATAL(log0 && log2);

    /* run again: everything ends finished */
    CU_ASSERT_EQUAL(rc_run_logged(args, log), 0);
    tsv = rc_slurp(rc_in_dir(sd, "sweep.tsv"));
    int all_ended = tsv && !strstr(tsv, "\trunning\t") && !strstr(tsv, "failed");
    CU_ASSERT(all_ended);
    if (!all_ended) {
        char *out = rc_slurp(log);
        fprintf(stderr, "\nsweep.tsv:\n%s\nthe sweep's output:\n%s\n", tsv ? tsv : "(none)", out ? out : "(none)");
        free(out);
    }
    int finished_rows = 0;
    for (const char *p = tsv; p && (p = strstr(p, "\tfinished\t0\t")); p++) finished_rows++;
    CU_ASSERT_EQUAL(finished_rows, 4);
    free(tsv);
    char *again0 = rc_slurp(rc_in_dir(sd, "trial-000.log")), *again2 = rc_slurp(rc_in_dir(sd, "trial-002.log"));
    CU_ASSERT(again0 && strcmp(again0, log0) == 0);                                /* kept byte for byte */
    CU_ASSERT(again2 && strncmp(again2, log2, strlen(log2)) == 0 && strstr(again2 + strlen(log2), "resuming "));
    CU_ASSERT(rc_log_has(log, "trial-000 already finished", "resumed (it was running)"));
    free(log0), free(log2), free(again0), free(again2);

    /* trial 2 resumed = trial 2 run whole (threads=1, as --jobs 2 gave it) */
    char ref[1200];
    snprintf(ref, sizeof ref, "%s/again-ref", tmp);
    const char *one[] = {"sweep", spec, "threads=1", "--index", "2", "--out", ref, "--quiet", NULL};
    CU_ASSERT_EQUAL(rc_run_logged(one, rc_in_dir(tmp, "again-ref.log")), 0);
    CU_ASSERT(rc_same_run(ref, t2, 1));

    /* the same folder with another override: no trial is run or touched */
    char *status0 = rc_slurp(rc_in_dir(t0, "status"));
    const char *other[] = {"sweep", spec, "train.epochs=7", "--jobs", "2", "--sweep-dir", sd, NULL};
    int rc = rc_run_logged(other, log);
    CU_ASSERT_EQUAL(rc, 4);   /* four trials not run */
    CU_ASSERT(rc_log_has(log, "trial-003 not run", "made from other overrides"));
    char *after0 = rc_slurp(rc_in_dir(t0, "status"));
    CU_ASSERT(status0 && after0 && strcmp(status0, after0) == 0);
    free(status0), free(after0);
}

int main(void) {
    tmp = make_temp_dir("sweep");
    if (!realpath(exprun_bin(), exe)) {
        perror(exprun_bin());
        return 1;
    }
    make_data();
    make_spec();
    TestCase cases[] = {{"expansion order: grid (last key fastest) x zip", test_order_grid_times_zip},
                        {"sweep errors at file:line:col (zip lengths, not a list, ...)", test_errors_have_positions},
                        {"values survive the override text", test_values_round_trip},
                        {"a trial's errors point into the sweep block", test_trial_errors_point_into_the_sweep},
                        {"--list", test_list},
                        {"invalid trials: all reported, nothing run", test_invalid_trials_stop_everything},
                        {"--jobs 2 with a failing trial", test_jobs_with_one_failing_trial},
                        {"--fail-fast", test_fail_fast},
                        {"--index (plain and Slurm array)", test_index},
                        {"a plain run drops the sweep block", test_plain_run_drops_the_block},
                        {"scripts/sweep_loop.sh and scripts/sweep_slurm.sh", test_scripts},
                        {"a killed sweep run again: finished trials kept, the others resumed", test_killed_sweep_runs_again},
                        {NULL, NULL}};
    int rc = run_tests_in("sweep", cases, tmp);
    return rc;
}
