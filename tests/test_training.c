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
#include "rng.h"
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

/* RUN/results.h5's table `table` (e.g. "/metrics/steps"): rows and columns, malloc'd; 0 rows when
 * absent. */
typedef struct Table {
    int ncols;
    char **names;
    int64_t nrows;
    double *rows;
} Table;

static Table read_table(const char *run, const char *table) {
    Table t = {0};
    H5Reader *r = NULL;
    ExError err;
    if (h5r_open(&r, rc_in_dir(run, "results.h5"), &err) != 0) return t;
    if (h5r_exists(r, table) && h5r_read_table(r, table, &t.ncols, &t.names, &t.nrows, &t.rows, &err) != 0) t.nrows = 0;
    h5r_close(r);
    return t;
}

static void table_free(Table *t) {
    if (t->names) h5r_free_strings(t->names, (size_t)t->ncols);
    free(t->rows);
    memset(t, 0, sizeof *t);
}

static int table_column(const Table *t, const char *name) {
    for (int c = 0; c < t->ncols; c++)
        if (strcmp(t->names[c], name) == 0) return c;
    return -1;
}

/* Every row and column of two runs' /metrics/steps the same bits, but the throughput. */
static int same_steps(const char *a, const char *b) {
    Table x = read_table(a, "/metrics/steps"), y = read_table(b, "/metrics/steps");
    int same = x.nrows > 0 && x.nrows == y.nrows && x.ncols == y.ncols;
    for (int c = 0; same && c < x.ncols; c++) {
        same = strcmp(x.names[c], y.names[c]) == 0;
        if (strstr(x.names[c], "_per_sec")) continue;
        for (int64_t i = 0; same && i < x.nrows; i++)
            same = memcmp(&x.rows[i * x.ncols + c], &y.rows[i * y.ncols + c], sizeof(double)) == 0;
    }
    if (!same) fprintf(stderr, "\n  %s and %s: metrics/steps differ (%lld and %lld rows)\n", a, b, (long long)x.nrows,
                       (long long)y.nrows);
    table_free(&x);
    table_free(&y);
    return same;
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
    int n = rc_metrics_column(out, "val_loss", val, 64), best_epoch = 0;
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
    /* --checkpoint best: encode (and sample, plot) with BEST's weights; latest is the default */
    char codes[1200];
    snprintf(codes, sizeof codes, "%s/codes.h5", tmp);
    const char *enc[] = {"encode", out, "val", "--checkpoint", "best", "--out", codes, NULL};
    CU_ASSERT_EQUAL(rc_run_logged(enc, rc_in_dir(tmp, "enc.log")), 0);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "enc.log"), "from ", best.name));
    const char *enc_latest[] = {"encode", out, "val", "--out", codes, NULL};
    CU_ASSERT_EQUAL(rc_run_logged(enc_latest, rc_in_dir(tmp, "enc.log")), 0);
    char latest_name[64];
    snprintf(latest_name, sizeof latest_name, "epoch-%04d-", stop);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "enc.log"), "from ", latest_name));
    const char *train_opt[] = {spec_path, "--checkpoint", "best", NULL};
    CU_ASSERT_EQUAL(rc_run_logged(train_opt, rc_in_dir(tmp, "enc.log")), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "enc.log"), "--checkpoint is for sample, encode and plot", NULL));
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
    CU_ASSERT(same_steps(ref, split));
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
    int nx = rc_metrics_column(best_run, "test_loss", x, 64), ny = rc_metrics_column(short_run, "test_loss", y, 64);
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

/* Every column of RUN/results.h5's `table` has an attribute of its own name that describes it
 * (metricdoc.h), none left to "see docs". */
static int columns_described(const char *run, const char *table) {
    Table t = read_table(run, table);
    H5Reader *r = NULL;
    ExError err;
    int ok = t.ncols > 0 && h5r_open(&r, rc_in_dir(run, "results.h5"), &err) == 0;
    for (int c = 0; ok && c < t.ncols; c++) {
        char *text = NULL;
        ok = h5r_attr_str(r, table, t.names[c], &text, &err) == 0 && strlen(text) > 10 && !strstr(text, "see docs");
        if (!ok) fprintf(stderr, "\n  %s %s: column %s is not described (%s)\n", run, table, t.names[c], text ? text : "-");
        free(text);
    }
    if (r) h5r_close(r);
    table_free(&t);
    return ok;
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
        const char *rest[] = {"train.epochs=1", "train.max_steps_per_epoch=2", "train.log_every=1", "sample.every=0",
                              "--out", out, "--quiet"};
        for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++) args[n++] = rest[i];
        args[n] = NULL;
        CU_ASSERT_EQUAL(rc_run_logged(args, rc_in_dir(tmp, "columns-run.log")), 0);
        val_columns(out, cols, sizeof cols);
        CU_ASSERT(columns_described(out, "/metrics/epochs") && columns_described(out, "/metrics/steps"));
        if (strcmp(want, cols) != 0)
            fprintf(stderr, "\n  %s: validate lists '%s', the run records '%s'\n", runs[k].config, want, cols);
        CU_ASSERT_STRING_EQUAL(want, cols);
        CU_ASSERT(strstr(said, "val_loss") != NULL);
    }
}

/* train.log_every 1: a row per step, whose losses weighted by the batches' rows make each epoch's
 * train_loss; steps.csv holds the same rows as results.h5. With 7, a row every 7 steps. */
static void test_steps_table(void) {
    char out[1100];
    snprintf(out, sizeof out, "%s/steps1", tmp);
    const char *a[] = {spec_path, "train.epochs=3", "train.log_every=1", "--out", out, "--quiet", NULL};
    CU_ASSERT_EQUAL_FATAL(rc_run_logged(a, rc_in_dir(tmp, "steps1.log")), 0);
    Table st = read_table(out, "/metrics/steps"), ep = read_table(out, "/metrics/epochs");
    CU_ASSERT_FATAL(st.nrows == 3 * 23 && ep.nrows == 3);   /* 360 rows / 16: 22 batches of 16 and one of 8 */
    int s_step = table_column(&st, "step"), s_loss = table_column(&st, "train_loss"), s_epoch = table_column(&st, "epoch");
    int e_loss = table_column(&ep, "train_loss");
    CU_ASSERT_FATAL(s_step >= 0 && s_loss >= 0 && s_epoch >= 0 && e_loss >= 0 && table_column(&st, "lr") >= 0 &&
                    table_column(&st, "grad_norm") >= 0 && table_column(&st, "samples_per_sec") >= 0);
    for (int e = 0; e < 3; e++) {
        double sum = 0, rows = 0;
        for (int k = 0; k < 23; k++) {
            const double *row = st.rows + (e * 23 + k) * st.ncols;
            CU_ASSERT_EQUAL(row[s_step], e * 23 + k + 1);
            CU_ASSERT_EQUAL(row[s_epoch], e + 1);
            int B = k < 22 ? 16 : 8;
            sum += row[s_loss] * B;
            rows += B;
        }
        double want = ep.rows[e * ep.ncols + e_loss];
        CU_ASSERT(fabs(sum / rows - want) <= 1e-12 * fabs(want));
    }
    char *csv = rc_slurp_text(rc_in_dir(out, "steps.csv"));
    int lines = 0;
    for (const char *p = csv; *p; p++) lines += *p == '\n';
    CU_ASSERT_EQUAL(lines, 1 + 3 * 23);
    /* the loss says what it is: the small autoencoder's is summed over its 24 inputs */
    H5Reader *r = NULL;
    ExError err;
    char *about = NULL;
    CU_ASSERT(h5r_open(&r, rc_in_dir(out, "results.h5"), &err) == 0 &&
              h5r_attr_str(r, "/metrics/epochs", "val_loss", &about, &err) == 0 &&
              strstr(about, "squared error summed over the 24 values of an example") != NULL);
    free(about);
    if (r) h5r_close(r);
    CU_ASSERT(strncmp(csv, "step,epoch,train_loss,grad_norm,lr,samples_per_sec", 50) == 0);
    free(csv);
    table_free(&st);
    table_free(&ep);
    /* not a terminal (the test's log file): a progress line with the rows, here every one */
    snprintf(out, sizeof out, "%s/steps-progress", tmp);
    setenv("EXPRUN_PROGRESS_SECONDS", "0", 1);
    const char *p[] = {spec_path, "train.epochs=1", "train.log_every=10", "--out", out, NULL};
    CU_ASSERT_EQUAL(rc_run_logged(p, rc_in_dir(tmp, "progress.log")), 0);
    unsetenv("EXPRUN_PROGRESS_SECONDS");
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "progress.log"), "  step 10/23 (epoch 1, batch 10/23)  loss ",
                         "  step 20/23 (epoch 1, batch 20/23)  loss "));
    snprintf(out, sizeof out, "%s/steps7", tmp);
    const char *b[] = {spec_path, "train.epochs=3", "train.log_every=7", "--out", out, "--quiet", NULL};
    CU_ASSERT_EQUAL_FATAL(rc_run_logged(b, rc_in_dir(tmp, "steps7.log")), 0);
    st = read_table(out, "/metrics/steps");
    CU_ASSERT_EQUAL(st.nrows, 69 / 7);
    for (int64_t i = 0; i < st.nrows; i++) CU_ASSERT_EQUAL(st.rows[i * st.ncols + table_column(&st, "step")], 7 * (i + 1));
    table_free(&st);
}

/* A run that diverges keeps its curve up to the divergence (exploding_rnn: every step). */
static void test_divergence_keeps_the_curve(void) {
    const char *root = getenv("EXPRUN_SOURCE_DIR") ? getenv("EXPRUN_SOURCE_DIR") : "..";
    char spec[1100], out[1100];
    snprintf(spec, sizeof spec, "%s/configs/exploding_rnn.yaml", root);
    snprintf(out, sizeof out, "%s/exploding", tmp);
    const char *a[] = {spec, "data.train_size=2000", "data.test_size=50", "--out", out, NULL};
    CU_ASSERT_EQUAL_FATAL(rc_run_logged(a, rc_in_dir(tmp, "exploding.log")), 4);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "exploding.log"), "diverged at step", NULL));
    Table st = read_table(out, "/metrics/steps");
    int c_loss = table_column(&st, "train_loss"), c_step = table_column(&st, "step");
    CU_ASSERT_FATAL(st.nrows >= 5 && c_loss >= 0 && c_step >= 0);
    CU_ASSERT_EQUAL(st.rows[(st.nrows - 1) * st.ncols + c_step], st.nrows);   /* every step up to it */
    CU_ASSERT(st.rows[(st.nrows - 1) * st.ncols + c_loss] > 1e6 * st.rows[c_loss]);   /* it exploded */
    char *csv = rc_slurp_text(rc_in_dir(out, "steps.csv"));
    int lines = 0;
    for (const char *p = csv; *p; p++) lines += *p == '\n';
    CU_ASSERT_EQUAL(lines, 1 + st.nrows);
    free(csv);
    char *status = rc_slurp_text(rc_in_dir(out, "status"));
    CU_ASSERT_STRING_EQUAL(status, "diverged\n");
    free(status);
    table_free(&st);
}

/* exprun resume RUN --epochs N: a finished run of 4 epochs extended to 7 is, bit for bit, the run
 * that asked for 7 (a constant rate); with the cosine schedule, which spans all epochs, and
 * after an early stop it is refused and nothing changes. */
static void test_extend(void) {
    char ref[1100], ext[1100], cos[1100];
    snprintf(ref, sizeof ref, "%s/ext-ref", tmp);
    snprintf(ext, sizeof ext, "%s/ext", tmp);
    snprintf(cos, sizeof cos, "%s/ext-cos", tmp);
    const char *a[] = {spec_path, "schedule.type=constant", "train.epochs=7", "--out", ref, "--quiet", NULL};
    CU_ASSERT_EQUAL_FATAL(rc_run_logged(a, rc_in_dir(tmp, "ext.log")), 0);
    const char *b[] = {spec_path, "schedule.type=constant", "train.epochs=4", "--out", ext, "--quiet", NULL};
    CU_ASSERT_EQUAL_FATAL(rc_run_logged(b, rc_in_dir(tmp, "ext.log")), 0);
    const char *more[] = {"resume", ext, "--epochs", "7", NULL};
    CU_ASSERT_EQUAL_FATAL(rc_run_logged(more, rc_in_dir(tmp, "ext.log")), 0);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "ext.log"), "train.epochs 4 -> 7", NULL));
    CU_ASSERT(rc_same_run(ref, ext, 1));
    CU_ASSERT(same_steps(ref, ext));
    char *x = rc_slurp_text(rc_in_dir(ref, "resolved.yaml")), *y = rc_slurp_text(rc_in_dir(ext, "resolved.yaml"));
    CU_ASSERT_STRING_EQUAL(x, y);
    free(x);
    free(y);
    /* fewer than it has trained: refused */
    const char *fewer[] = {"resume", ext, "--epochs", "5", NULL};
    CU_ASSERT_EQUAL(rc_run_logged(fewer, rc_in_dir(tmp, "ext.log")), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "ext.log"), "--epochs 5: it extends a run", "nothing was changed"));
    /* cosine: refused, resolved.yaml as it was */
    const char *c[] = {spec_path, "train.epochs=3", "--out", cos, "--quiet", NULL};
    CU_ASSERT_EQUAL_FATAL(rc_run_logged(c, rc_in_dir(tmp, "ext.log")), 0);
    char *before = rc_slurp_text(rc_in_dir(cos, "resolved.yaml"));
    const char *cmore[] = {"resume", cos, "--epochs", "6", NULL};
    CU_ASSERT_EQUAL(rc_run_logged(cmore, rc_in_dir(tmp, "ext.log")), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "ext.log"), "schedule.type cosine anneals", "nothing was changed"));
    char *after = rc_slurp_text(rc_in_dir(cos, "resolved.yaml"));
    CU_ASSERT_STRING_EQUAL(before, after);
    free(before);
    free(after);
    /* an early-stopped run (the first test's) */
    const char *stopped[] = {"resume", rc_in_dir(tmp, "stop"), "--epochs", "40", NULL};
    CU_ASSERT_EQUAL(rc_run_logged(stopped, rc_in_dir(tmp, "ext.log")), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "ext.log"), "early stopping ended this run", "--init-from"));
    const char *wrong[] = {spec_path, "--epochs", "3", NULL};
    CU_ASSERT_EQUAL(rc_run_logged(wrong, rc_in_dir(tmp, "ext.log")), 2);
}

/* train.eval_every on a text model with truncated BPTT (a state carried from batch to batch):
 * val_loss in metrics/steps every 5 steps, and training as if the evaluations were not there —
 * the epochs' losses are the same bits as a run without them. */
static void test_eval_every(void) {
    char text_path[1100];
    snprintf(text_path, sizeof text_path, "%s/text.txt", tmp);
    Rng r;
    rng_seed(&r, 3);
    static char text[60001];
    static const char words[][8] = {"the ", "cat ", "sat ", "on ", "a ", "mat. ", "dog ", "ran\n"};
    size_t len = 0;
    while (len < 60000 - 8) {
        const char *w = words[rng_below(&r, 8)];
        memcpy(text + len, w, strlen(w));
        len += strlen(w);
    }
    text[len] = '\0';
    rc_write_text(text_path, text);
    const char *root = getenv("EXPRUN_SOURCE_DIR") ? getenv("EXPRUN_SOURCE_DIR") : "..";
    char spec[1100], data[1200], a_out[1100], b_out[1100];
    snprintf(spec, sizeof spec, "%s/configs/lstm_text.yaml", root);
    snprintf(data, sizeof data, "data.path=%s", text_path);
    snprintf(a_out, sizeof a_out, "%s/text-plain", tmp);
    snprintf(b_out, sizeof b_out, "%s/text-eval", tmp);
    const char *a[] = {spec, data, "model.units=[32]", "train.epochs=2", "train.batch_size=8", "data.seq_len=16",
                       "sample.every=0", "train.log_every=5", "--out", a_out, "--quiet", NULL};
    CU_ASSERT_EQUAL_FATAL(rc_run_logged(a, rc_in_dir(tmp, "text.log")), 0);
    const char *b[] = {spec, data, "model.units=[32]", "train.epochs=2", "train.batch_size=8", "data.seq_len=16",
                       "sample.every=0", "train.log_every=5", "train.eval_every=5", "--out", b_out, "--quiet", NULL};
    CU_ASSERT_EQUAL_FATAL(rc_run_logged(b, rc_in_dir(tmp, "text.log")), 0);
    const char *cols[] = {"train_loss", "val_loss", "val_accuracy"};
    for (int k = 0; k < 3; k++) {
        double x[8], y[8];
        int nx = rc_metrics_column(a_out, cols[k], x, 8), ny = rc_metrics_column(b_out, cols[k], y, 8);
        CU_ASSERT(nx == 2 && ny == 2 && memcmp(x, y, sizeof(double) * 2) == 0);
    }
    Table st = read_table(b_out, "/metrics/steps");
    int c_step = table_column(&st, "step"), c_val = table_column(&st, "val_loss"), evaluated = 0;
    CU_ASSERT_FATAL(c_step >= 0 && c_val >= 0 && table_column(&st, "val_accuracy") >= 0);
    for (int64_t i = 0; i < st.nrows; i++) {
        double v = st.rows[i * st.ncols + c_val];
        CU_ASSERT(isfinite(v) || isnan(v));
        evaluated += isfinite(v);
    }
    CU_ASSERT(evaluated >= 10);   /* (56000/8/16 ≈ 437 steps an epoch) / 5, less the epochs' last steps */
    table_free(&st);
    char *csv = rc_slurp_text(rc_in_dir(b_out, "steps.csv"));
    CU_ASSERT(strstr(csv, ",val_loss") != NULL);
    free(csv);
}

/* A monitor that is not finite ends an early-stopping run as diverged (exit 4), with its metrics
 * kept: exploding_rnn with train.on_nan: skip skips every step of its second epoch, whose
 * train_loss (the monitor here) is then NaN. */
static void test_monitor_not_finite(void) {
    const char *root = getenv("EXPRUN_SOURCE_DIR") ? getenv("EXPRUN_SOURCE_DIR") : "..";
    char spec[1100], out[1100];
    snprintf(spec, sizeof spec, "%s/configs/exploding_rnn.yaml", root);
    snprintf(out, sizeof out, "%s/nan-monitor", tmp);
    const char *a[] = {spec, "data.train_size=2000", "data.test_size=20", "train.on_nan=skip",
                       "train.early_stopping.monitor=train_loss", "train.early_stopping.patience=3", "--out", out, NULL};
    CU_ASSERT_EQUAL(rc_run_logged(a, rc_in_dir(tmp, "nan.log")), 4);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "nan.log"), "diverged: the monitor train_loss is nan after epoch 2",
                         "early stopping cannot compare it"));
    char *status = rc_slurp_text(rc_in_dir(out, "status"));
    CU_ASSERT_STRING_EQUAL(status, "diverged\n");
    free(status);
    double v[4];
    CU_ASSERT_EQUAL(rc_metrics_column(out, "skipped_steps", v, 4), 2);   /* both epochs' rows are kept */
    CU_ASSERT(rc_exists(rc_in_dir(out, "metrics.csv")) && rc_exists(rc_in_dir(out, "steps.csv")));
}

int main(void) {
    const TestCase cases[] = {
        {"early stopping stops where the rule says; BEST survives pruning", test_stops_where_the_rule_says},
        {"a resumed run stops at the same step, same bits", test_resume_keeps_the_count},
        {"restore_best evaluates the best epoch's weights", test_restore_best},
        {"monitors that cannot be: exit 2 before anything runs", test_monitor_errors},
        {"the columns a monitor may name are the ones each family records", test_monitor_columns_are_the_recorded_ones},
        {"metrics/steps and steps.csv: a row every log_every steps", test_steps_table},
        {"a diverged run keeps its curve up to the divergence", test_divergence_keeps_the_curve},
        {"resume --epochs N extends a run to the run that asked for N", test_extend},
        {"eval_every: validation within the epoch, training unchanged", test_eval_every},
        {"a monitor that is not finite: diverged, metrics kept", test_monitor_not_finite},
        {NULL, NULL},
    };
    tmp = make_temp_dir("training");
    rc_write_small_ae(tmp, "training", spec_path, data_path);
    return run_tests_in("training", cases, tmp);
}
