/* test_training.c — training control (issue 27): the monitor, early stopping, checkpoints/BEST
 * and train.restore_best, run for real on a small autoencoder (runcheck.h's, about a second a
 * run): where a run stops, that an interrupted one stops at the same step, that the best
 * checkpoint survives pruning and is the best, and the spec errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "h5read.h"
#include "latest.h"
#include "runcheck.h"
#include "testutil.h"

static char *tmp;
static char spec_path[1024], data_path[1024];

/* The small autoencoder with a constant rate (the cosine schedule depends on train.epochs, and
 * the restore_best test compares runs of different lengths), early stopping that ends it
 * around epoch 10 of 30. */
#define EARLY "schedule.type=constant", "train.early_stopping.patience=3", "train.early_stopping.min_delta=0.02"

/* An integer attribute of / in RUN/results.h5 (−999 when absent). */
static int64_t root_int(const char *run, const char *name) {
    H5Reader *r = NULL;
    ExError err;
    int64_t v = -999;
    if (h5r_open(&r, rc_in_dir(run, "results.h5"), &err) != 0) return v;
    if (h5r_attr_int(r, "/", name, &v, &err) != 0) v = -999;
    h5r_close(r);
    return v;
}

/* Column `name` of RUN/results.h5's /metrics/epochs into out (at most cap rows): the rows. */
static int column(const char *run, const char *name, double *out, int cap) {
    H5Reader *r = NULL;
    ExError err;
    if (h5r_open(&r, rc_in_dir(run, "results.h5"), &err) != 0) return 0;
    int ncols = 0, n = 0;
    char **names = NULL;
    int64_t nrows = 0;
    double *rows = NULL;
    if (h5r_read_table(r, "/metrics/epochs", &ncols, &names, &nrows, &rows, &err) == 0) {
        for (int c = 0; c < ncols; c++)
            if (strcmp(names[c], name) == 0)
                for (n = 0; n < nrows && n < cap; n++) out[n] = rows[n * ncols + c];
        h5r_free_strings(names, (size_t)ncols);
        free(rows);
    }
    h5r_close(r);
    return n;
}

/* The rule, applied to the finished run's own val_loss column: the epoch early stopping should
 * have stopped after, and the best epoch (1-based) before it. */
static int expected_stop(const double *val, int n, int patience, double min_delta, int *best_epoch) {
    double best = NAN;
    int waited = 0;
    for (int e = 0; e < n; e++) {
        if (isnan(best) || val[e] < best - min_delta) {
            best = val[e];
            *best_epoch = e + 1;
            waited = 0;
        } else if (++waited >= patience) {
            return e + 1;
        }
    }
    return 0;
}

/* It stops where the rule says, says so in results.h5 (status finished), and BEST names the
 * checkpoint of the best epoch, which pruning (keep_checkpoints 1) left in place. */
static void test_stops_where_the_rule_says(void) {
    const char *run = rc_in_dir(tmp, "stop");
    char out[1100];
    snprintf(out, sizeof out, "%s", run);
    const char *args[] = {spec_path, EARLY, "train.keep_checkpoints=1", "--out", out, NULL};
    CU_ASSERT_EQUAL_FATAL(rc_run_logged(args, rc_in_dir(tmp, "stop.log")), 0);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "stop.log"), "early stopping: val_loss has not improved", "stopped after"));
    double val[64];
    int n = column(out, "val_loss", val, 64), best_epoch = 0;
    int stop = expected_stop(val, n, 3, 0.02, &best_epoch);
    CU_ASSERT_FATAL(stop > 3 && stop < 30);   /* the settings must stop it mid-run, or the test tests nothing */
    CU_ASSERT_EQUAL(n, stop);
    CU_ASSERT_EQUAL(root_int(out, "stopped_early"), 1);
    CU_ASSERT_EQUAL(root_int(out, "stop_epoch"), stop);
    CU_ASSERT_EQUAL(root_int(out, "best_epoch"), best_epoch);
    CU_ASSERT_EQUAL(root_int(out, "epochs_done"), stop);
    char *status = rc_slurp_text(rc_in_dir(out, "status"));
    CU_ASSERT_STRING_EQUAL(status, "finished\n");
    free(status);
    LatestCheckpoint best;
    ExError err;
    CU_ASSERT_EQUAL_FATAL(latest_find_as(out, "BEST", &best, &err), 0);
    CU_ASSERT(best.verified);
    char want[64];
    snprintf(want, sizeof want, "epoch-%04d-", best_epoch);
    CU_ASSERT(strncmp(best.name, want, strlen(want)) == 0);
    if (best_epoch != stop) CU_ASSERT_EQUAL(rc_count_files(rc_in_dir(out, "checkpoints"), ".h5"), 2);
    /* summarize says so: the status column, the reason under the table, the CSV's columns */
    const char *sum[] = {"summarize", out, NULL};
    CU_ASSERT_EQUAL(rc_run_logged(sum, rc_in_dir(tmp, "sum.log")), 0);
    char line[128];
    snprintf(line, sizeof line, "stopped early after epoch %d: val_loss did not improve", stop);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "sum.log"), "stopped early ", line));
    const char *csv[] = {"summarize", out, "--csv", NULL};
    CU_ASSERT_EQUAL(rc_run_logged(csv, rc_in_dir(tmp, "sum.csv")), 0);
    snprintf(line, sizeof line, ",%d,val_loss did not improve", stop);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "sum.csv"), "stop_epoch,stop_reason", line));
    /* a resume of the stopped run trains no further */
    const char *resume[] = {"resume", out, NULL};
    CU_ASSERT_EQUAL(rc_run_logged(resume, rc_in_dir(tmp, "stop-resume.log")), 0);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "stop-resume.log"), "early stopping ended it", NULL));
    CU_ASSERT_EQUAL(root_int(out, "epochs_done"), stop);
}

/* Stopped by a signal one step into the epoch after the best (the evaluations waited are 1 then)
 * and resumed: it stops after the same epoch, with the same bits, as the run never stopped
 * (Keras restarts patience on resume and stops later: keras-team/keras#17012). */
static void test_resume_keeps_the_count(void) {
    char ref[1100], split[1100];
    snprintf(ref, sizeof ref, "%s", rc_in_dir(tmp, "ref"));
    snprintf(split, sizeof split, "%s", rc_in_dir(tmp, "split"));
    const char *a[] = {spec_path, EARLY, "--out", ref, "--quiet", NULL};
    CU_ASSERT_EQUAL_FATAL(rc_run_logged(a, rc_in_dir(tmp, "ref.log")), 0);
    int64_t best_epoch = root_int(ref, "best_epoch"), stop = root_int(ref, "stop_epoch");
    CU_ASSERT_FATAL(best_epoch > 0 && stop > best_epoch + 1);
    /* 360 training rows / 16 = 23 steps an epoch */
    char at[64];
    snprintf(at, sizeof at, "EXPRUN_STOP_AFTER_STEPS=%lld", (long long)((best_epoch + 1) * 23 + 1));
    putenv(at);
    const char *b[] = {spec_path, EARLY, "--out", split, "--quiet", NULL};
    int rc = rc_run_logged(b, rc_in_dir(tmp, "split.log"));
    unsetenv("EXPRUN_STOP_AFTER_STEPS");
    CU_ASSERT_EQUAL_FATAL(rc, 128 + 15);
    const char *resume[] = {"resume", split, "--quiet", NULL};
    CU_ASSERT_EQUAL_FATAL(rc_run_logged(resume, rc_in_dir(tmp, "split-resume.log")), 0);
    CU_ASSERT_EQUAL(root_int(split, "stop_epoch"), stop);
    CU_ASSERT_EQUAL(root_int(split, "best_epoch"), best_epoch);
    CU_ASSERT(rc_same_run(ref, split, 1));
    LatestCheckpoint x, y;
    ExError err;
    CU_ASSERT(latest_find_as(ref, "BEST", &x, &err) == 0 && latest_find_as(split, "BEST", &y, &err) == 0 &&
              strcmp(x.name, y.name) == 0);
}

/* train.restore_best: the test split is evaluated with the best epoch's weights, which are the
 * weights of a run that trained exactly that many epochs (same seed, constant rate): the same
 * test_loss, to the bit. */
static void test_restore_best(void) {
    char best_run[1100], short_run[1100];
    snprintf(best_run, sizeof best_run, "%s", rc_in_dir(tmp, "restore"));
    snprintf(short_run, sizeof short_run, "%s", rc_in_dir(tmp, "short"));
    /* a test split: the same file as test data */
    char test_key[1200];
    snprintf(test_key, sizeof test_key, "data.test_path=%s", data_path);
    const char *a[] = {spec_path, EARLY, test_key, "train.restore_best=true", "--out", best_run, "--quiet", NULL};
    CU_ASSERT_EQUAL_FATAL(rc_run_logged(a, rc_in_dir(tmp, "restore.log")), 0);
    int64_t best_epoch = root_int(best_run, "best_epoch"), stop = root_int(best_run, "stop_epoch");
    CU_ASSERT_FATAL(best_epoch > 0 && stop > best_epoch);
    char epochs[64];
    snprintf(epochs, sizeof epochs, "train.epochs=%lld", (long long)best_epoch);
    const char *b[] = {spec_path, "schedule.type=constant", test_key, epochs, "--out", short_run, "--quiet", NULL};
    CU_ASSERT_EQUAL_FATAL(rc_run_logged(b, rc_in_dir(tmp, "short.log")), 0);
    double x[64], y[64];
    int nx = column(best_run, "test_loss", x, 64), ny = column(short_run, "test_loss", y, 64);
    CU_ASSERT_FATAL(nx == stop && ny == best_epoch);
    CU_ASSERT(isfinite(x[nx - 1]));
    CU_ASSERT_EQUAL(memcmp(&x[nx - 1], &y[ny - 1], sizeof(double)), 0);
}

/* What cannot be monitored is refused before anything runs (exit 2, no run directory). */
static void test_monitor_errors(void) {
    struct {
        const char *arg, *arg2, *said, *also;
    } cases[] = {
        {"train.early_stopping.monitor=val_acuracy", "train.early_stopping.patience=2", "records no column val_acuracy",
         "val_loss, train_loss"},
        {"train.early_stopping.monitor=loss", "train.early_stopping.patience=2", "train.early_stopping.monitor",
         "val_<statistic>"},
        {"data.validation_fraction=0", "train.early_stopping.patience=2", "needs a validation split", "train_loss"},
        {"data.validation_fraction=0", "train.restore_best=true", "train.restore_best", "no validation split"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char out[1100];
        snprintf(out, sizeof out, "%s/bad%zu", tmp, k);
        const char *args[] = {spec_path, cases[k].arg, cases[k].arg2, "--out", out, NULL};
        const char *log = rc_in_dir(tmp, "bad.log");
        CU_ASSERT_EQUAL(rc_run_logged(args, log), 2);
        CU_ASSERT(rc_log_has(log, cases[k].said, cases[k].also));
        CU_ASSERT(!rc_exists(out));
    }
    /* monitor train_loss needs no validation */
    char out[1100];
    snprintf(out, sizeof out, "%s/train-monitor", tmp);
    const char *ok[] = {spec_path,   "data.validation_fraction=0", "train.early_stopping.monitor=train_loss",
                        "train.epochs=3", "--out", out, "--quiet", NULL};
    CU_ASSERT_EQUAL(rc_run_logged(ok, rc_in_dir(tmp, "ok.log")), 0);
    CU_ASSERT(rc_exists(rc_in_dir(out, "checkpoints/BEST")));
}

/* The names of the metrics' columns of RUN/results.h5, comma-joined, val_* ones only. */
static void val_columns(const char *run, char *out, size_t cap) {
    out[0] = '\0';
    H5Reader *r = NULL;
    ExError err;
    if (h5r_open(&r, rc_in_dir(run, "results.h5"), &err) != 0) return;
    int ncols = 0;
    char **names = NULL;
    int64_t nrows = 0;
    double *rows = NULL;
    if (h5r_read_table(r, "/metrics/epochs", &ncols, &names, &nrows, &rows, &err) == 0) {
        size_t len = 0;
        for (int c = 0; c < ncols; c++)
            if (strncmp(names[c], "val_", 4) == 0 && len < cap)
                len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? ", " : "", names[c]);
        h5r_free_strings(names, (size_t)ncols);
        free(rows);
    }
    h5r_close(r);
}

/* What a family says its evaluation reports (ModelOps.eval_stat_names, which the monitor is
 * checked against) is what a run records: for each family, `exprun validate` with a monitor no
 * model has lists the columns, and one short run writes them. */
static void test_monitor_columns_are_the_recorded_ones(void) {
    char images[1100], labels[1100], src[1100];
    snprintf(images, sizeof images, "%s/img.idx", tmp);
    snprintf(labels, sizeof labels, "%s/lab.idx", tmp);
    CU_ASSERT_EQUAL_FATAL(fixture_write_idx(images, labels, 120, 8, 8, 4), 0);
    const char *root = getenv("EXPRUN_SOURCE_DIR") ? getenv("EXPRUN_SOURCE_DIR") : "..";
    char idx[4][1200];
    snprintf(idx[0], sizeof idx[0], "data.path=%s", images);
    snprintf(idx[1], sizeof idx[1], "data.labels=%s", labels);
    snprintf(idx[2], sizeof idx[2], "data.test_path=%s", images);
    snprintf(idx[3], sizeof idx[3], "data.test_labels=%s", labels);
    struct {
        const char *config;
        int idx_data;
        const char *extra[3];
    } runs[] = {
        {"adding_lstm", 0, {"data.train_size=200", "data.test_size=20", NULL}},
        {"parity_gru", 0, {"data.train_size=200", "data.test_size=20", NULL}},
        {"seq2seq_reverse", 0, {"data.train_size=300", "data.test_size=20", "model.beam_width=2"}},
        {"sparse_ae", 1, {NULL}},
        {"fashion_generate", 1, {NULL}},
    };
    for (size_t k = 0; k < sizeof runs / sizeof runs[0]; k++) {
        snprintf(src, sizeof src, "%s/configs/%s.yaml", root, runs[k].config);
        const char *args[16];
        int n = 0;
        args[n++] = "validate";
        args[n++] = src;
        for (int i = 0; i < 3 && runs[k].extra[i]; i++) args[n++] = runs[k].extra[i];
        for (int i = 0; runs[k].idx_data && i < 4; i++) args[n++] = idx[i];
        args[n++] = "train.early_stopping.monitor=val_no_such_column";
        args[n] = NULL;
        const char *log = rc_in_dir(tmp, "columns.log");
        CU_ASSERT_EQUAL(rc_run_logged(args + 0, log), 2);
        char *text = rc_slurp_text(log), said[512] = "";
        const char *list = strstr(text, "it records ");
        if (list) snprintf(said, sizeof said, "%.*s", (int)strcspn(list + 11, "\n"), list + 11);
        free(text);
        /* the validate list: val_loss, train_loss, then val_<stat>...; the run's val_* columns */
        char want[512] = "val_loss";
        const char *stats = strstr(said, "train_loss");
        if (stats && stats[10] == ',') snprintf(want + 8, sizeof want - 8, "%s", stats + 10);
        char out[1100], cols[512];
        snprintf(out, sizeof out, "%s/columns-%s", tmp, runs[k].config);
        args[0] = src;
        n = 1;
        for (int i = 0; i < 3 && runs[k].extra[i]; i++) args[n++] = runs[k].extra[i];
        for (int i = 0; runs[k].idx_data && i < 4; i++) args[n++] = idx[i];
        const char *rest[] = {"train.epochs=1", "train.max_steps_per_epoch=2", "sample.every=0", "--out", out, "--quiet"};
        for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++) args[n++] = rest[i];
        args[n] = NULL;
        CU_ASSERT_EQUAL(rc_run_logged(args, rc_in_dir(tmp, "columns-run.log")), 0);
        val_columns(out, cols, sizeof cols);
        if (strcmp(want, cols) != 0)
            fprintf(stderr, "\n  %s: validate lists '%s', the run records '%s'\n", runs[k].config, want, cols);
        CU_ASSERT_STRING_EQUAL(want, cols);
        CU_ASSERT(strstr(said, "val_loss") != NULL);
    }
}

int main(void) {
    const TestCase cases[] = {
        {"early stopping stops where the rule says; BEST survives pruning", test_stops_where_the_rule_says},
        {"a resumed run stops at the same step, same bits", test_resume_keeps_the_count},
        {"restore_best evaluates the best epoch's weights", test_restore_best},
        {"monitors that cannot be: exit 2 before anything runs", test_monitor_errors},
        {"the columns a monitor may name are the ones each family records", test_monitor_columns_are_the_recorded_ones},
        {NULL, NULL},
    };
    tmp = make_temp_dir("training");
    rc_write_small_ae(tmp, "training", spec_path, data_path);
    return run_tests_in("training", cases, tmp);
}
