/* test_faults.c — the exprun program under signals, divergence, unwritable and full disks, bad
 * data and bad checkpoints, and the determinism a resume relies on. Each case does to a small
 * run what a user's cluster or data does, and checks the promise of docs/reliability.md: the
 * documented exit status, a message naming the file or step, the last checkpoint intact, and a
 * resume that ends bit for bit where a run never disturbed ends. */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build.h"
#include "checkpoint.h"
#include "fixtures.h"
#include "h5doc.h"
#include "h5read.h"
#include "optim.h"
#include "packgemm.h"
#include "runcheck.h"
#include "rundata.h"
#include "spec/spec.h"
#include "testutil.h"

static char *tmp;
static char data_path[1024], spec_path[1024], ref_dir[1024];

/* tmp/name in one of a few rotating buffers, so that a call can take several. */
static const char *in_tmp(const char *name) { return rc_in_dir(tmp, name); }

static char *file_text(const char *dir, const char *name) {
    char path[1300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return rc_slurp(path);
}

static int status_is(const char *dir, const char *want) {
    char *s = file_text(dir, "status");
    char line[64];
    snprintf(line, sizeof line, "%s\n", want);
    int ok = s && strcmp(s, line) == 0;
    if (!ok) fprintf(stderr, "\n  %s/status is '%s', expected '%s'\n", dir, s ? s : "(none)", want);
    free(s);
    return ok;
}

static int resume(const char *dir) {
    const char *args[] = {"resume", dir, "--quiet", NULL};
    return rc_run_logged(args, in_tmp("resume.log"));
}

/* The LATEST checkpoint of dir reads as a checkpoint; its step (or -1). */
static int64_t latest_step(const char *dir) {
    char *path = rc_latest_checkpoint(dir);
    CheckpointInfo info;
    ExError err;
    int64_t step = path && checkpoint_info(path, &info, &err) == 0 ? info.step : -1;
    free(path);
    return step;
}

/* 30 epochs of a small denoising autoencoder: about a second, checkpoints every epoch. */
static void make_spec(void) {
    rc_write_small_ae(tmp, "faults", spec_path, data_path);
    snprintf(ref_dir, sizeof ref_dir, "%s/ref", tmp);
    const char *args[] = {spec_path, "--out", ref_dir, "--quiet", NULL};
    if (rc_run_logged(args, in_tmp("ref.log")) != 0) {
        fprintf(stderr, "test_faults: the reference run failed\n");
        exit(1);
    }
}

/* ---- signals ----------------------------------------------------------------------------- */

typedef enum When { MID_TRAINING, IN_RESULTS_WRITE, IN_CHECKPOINT_WRITE } When;

/* sig after the first checkpoint, at `when`: exit 128 + sig, status interrupted, a checkpoint
 * of the step it stopped after, every file readable, and a resume equal to the reference. */
static void stop_by_signal(int sig, When when) {
    char dir[1100], log[1100];
    snprintf(dir, sizeof dir, "%s/signal-%d", tmp, sig);
    snprintf(log, sizeof log, "%s/signal-%d.log", tmp, sig);
    const char *args[] = {spec_path, "--out", dir, "--quiet", NULL};
    /* A pause of 50 ms in every HDF5 publish lets the signal land inside one. */
    if (when != MID_TRAINING) setenv("EXPRUN_TEST_PUBLISH_PAUSE_US", "50000", 1);
    pid_t pid = rc_spawn(args, log);
    unsetenv("EXPRUN_TEST_PUBLISH_PAUSE_US");
    CU_ASSERT_FATAL(rc_wait_for_file(pid, dir, NULL, "LATEST"));
    int aimed = 1;
    if (when == MID_TRAINING) rc_sleep(0.05);
    else if (when == IN_RESULTS_WRITE) aimed = rc_wait_for_file(pid, dir, NULL, "results.h5.tmp");
    else aimed = rc_wait_for_file(pid, dir, "LATEST", ".h5.tmp");
    CU_ASSERT(aimed);
    kill(pid, sig);
    CU_ASSERT_EQUAL(rc_wait(pid), 128 + sig);
    CU_ASSERT(status_is(dir, "interrupted"));
    char said[64];
    snprintf(said, sizeof said, "stopped by signal %d after step", sig);
    CU_ASSERT(rc_log_has(log, said, "checkpoint written"));
    /* The checkpoint is of the step the message names. */
    char *text = rc_slurp(log), *at = text ? strstr(text, said) : NULL;
    long long step = at ? atoll(at + strlen(said)) : -2;
    free(text);
    CU_ASSERT_EQUAL(latest_step(dir), step);
    CU_ASSERT(rc_h5_files_open(dir) >= 2);
    CU_ASSERT_EQUAL(resume(dir), 0);
    CU_ASSERT(status_is(dir, "finished"));
    CU_ASSERT(rc_same_run(ref_dir, dir, 1));
    printf("[signal %d stopped after step %lld] ", sig, step);
}

static void test_sigterm(void) { stop_by_signal(SIGTERM, MID_TRAINING); }
static void test_sigusr1(void) { stop_by_signal(SIGUSR1, IN_RESULTS_WRITE); }
static void test_sigint(void) { stop_by_signal(SIGINT, IN_CHECKPOINT_WRITE); }

/* A second SIGINT while the stop's checkpoint is being written ends the process at once; the
 * checkpoint before it stays LATEST, every file opens, and the run resumes bit for bit. */
static void test_double_sigint(void) {
    char dir[1100], log[1100];
    snprintf(dir, sizeof dir, "%s/double-sigint", tmp);
    snprintf(log, sizeof log, "%s/double-sigint.log", tmp);
    const char *args[] = {spec_path, "--out", dir, "--quiet", NULL};
    setenv("EXPRUN_TEST_PUBLISH_PAUSE_US", "400000", 1);   /* 0.4 s inside every HDF5 write */
    pid_t pid = rc_spawn(args, log);
    unsetenv("EXPRUN_TEST_PUBLISH_PAUSE_US");
    CU_ASSERT_FATAL(rc_wait_for_file(pid, dir, NULL, "LATEST"));
    int64_t before = latest_step(dir);
    kill(pid, SIGINT);
    CU_ASSERT(rc_wait_for_file(pid, dir, "LATEST", ".h5.tmp"));
    double t0 = rc_now();
    kill(pid, SIGINT);
    CU_ASSERT_EQUAL(rc_wait(pid), 128 + SIGINT);
    double took = rc_now() - t0;
    /* Not after the 0.4 s the checkpoint write still had to go (under valgrind, whose leak
     * check at exit takes a while, EXPRUN_TEST_SLOW=1 allows more). */
    CU_ASSERT(took < (getenv("EXPRUN_TEST_SLOW") ? 5.0 : 0.2));
    CU_ASSERT_EQUAL(latest_step(dir), before);
    CU_ASSERT(rc_h5_files_open(dir) >= 2);
    CU_ASSERT(status_is(dir, "running"));   /* stopped at once: nothing more is written */
    CU_ASSERT_EQUAL(resume(dir), 0);
    CU_ASSERT(rc_same_run(ref_dir, dir, 1));
    printf("[second SIGINT: exit after %.3f s; LATEST still step %lld] ", took, (long long)before);
}

/* ---- divergence ------------------------------------------------------------------------- */

/* Plain SGD on a linear decoder with a learning rate ×10 per epoch: finite for two or three
 * epochs, then the loss overflows. */
static const char *const DIVERGE[] = {"model.g=relu",       "model.f=identity",          "model.hidden=[]",
                                      "optimizer.type=sgd", "optimizer.lr=0.01",         "schedule.type=exponential",
                                      "schedule.gamma=10",  "train.epochs=8",            NULL};

static int diverge_args(const char **args, const char *dir, const char *extra) {
    int n = 0;
    args[n++] = spec_path;
    args[n++] = "--out";
    args[n++] = dir;
    args[n++] = "--quiet";
    for (int i = 0; DIVERGE[i]; i++) args[n++] = DIVERGE[i];
    if (extra) args[n++] = extra;
    args[n] = NULL;
    return n;
}

/* The model the diverging spec builds, with a checkpoint loaded into it; 1 if every parameter
 * is finite. */
static int load_and_check_finite(const char *ckpt, const char *extra) {
    char *overrides[16];
    int n = 0;
    for (int i = 0; DIVERGE[i]; i++) overrides[n++] = (char *)DIVERGE[i];
    if (extra) overrides[n++] = (char *)extra;
    Spec spec;
    CfgDiags diags = {0};
    ExError err;
    int ok = spec_load(spec_path, overrides, n, &spec, &diags) == 0;
    cfg_diags_free(&diags);
    RunData rd;
    Model *model = NULL;
    char warn[256];
    ok = ok && rundata_load(&spec, &rd, &err) == 0;
    ok = ok && build_model(&spec, &rd, &model, warn, sizeof warn, &err) == 0;
    if (ok) {
        Optimizer opt;
        optim_init(&opt, &spec.optim, model->params.total);
        ok = checkpoint_load(ckpt, &model->params, &opt, NULL, NULL, &err) == 0;
        if (!ok) fprintf(stderr, "\n  %s does not load: %s\n", ckpt, err.msg);
        for (size_t i = 0; ok && i < model->params.total; i++) ok = isfinite(model->params.value[i]);
        optim_free(&opt);
        model_free(model);
        rundata_free(&rd);
    }
    spec_free(&spec);
    return ok;
}

static void test_divergence_stops(void) {
    char dir[1100], log[1100];
    snprintf(dir, sizeof dir, "%s/diverge", tmp);
    snprintf(log, sizeof log, "%s/diverge.log", tmp);
    const char *args[32];
    diverge_args(args, dir, NULL);
    CU_ASSERT_EQUAL(rc_run_logged(args, log), 4);
    CU_ASSERT(status_is(dir, "diverged"));
    /* stderr: "diverged at step S (epoch E): … in VIEW", VIEW a parameter of the model */
    char *text = rc_slurp(log), *at = text ? strstr(text, "diverged at step ") : NULL;
    CU_ASSERT_FATAL(at != NULL);
    long long step = atoll(at + strlen("diverged at step "));
    char *eol = strchr(at, '\n');
    CU_ASSERT_FATAL(eol != NULL);
    *eol = '\0';
    char *ckpt = rc_latest_checkpoint(dir);
    CU_ASSERT_FATAL(ckpt != NULL);
    H5Reader *r = NULL;
    ExError err;
    CU_ASSERT_FATAL(h5r_open(&r, ckpt, &err) == 0);
    size_t n = 0;
    char **views = NULL, view[128] = "";
    CU_ASSERT_FATAL(h5r_list_datasets(r, "/model", &n, &views, &err) == 0);
    for (size_t v = 0; v < n; v++)   /* "/model/dec0/b" named as "dec0/b" */
        if (strstr(at, views[v] + 7)) snprintf(view, sizeof view, "%s", views[v] + 7);
    h5r_free_strings(views, n);
    h5r_close(r);
    CU_ASSERT(view[0] != '\0');
    *eol = '\n';
    CU_ASSERT(strstr(text, "last good checkpoint") != NULL);
    /* the last good checkpoint: before the step, loads into the model, all finite */
    CU_ASSERT(latest_step(dir) < step && latest_step(dir) > 0);
    CU_ASSERT(load_and_check_finite(ckpt, NULL));
    char results[1200];
    snprintf(results, sizeof results, "%s/results.h5", dir);
    CU_ASSERT_FATAL(h5r_open(&r, results, &err) == 0);
    char *status = NULL;
    CU_ASSERT(h5r_attr_str(r, "/", "status", &status, &err) == 0 && status && strcmp(status, "diverged") == 0);
    free(status);
    h5r_close(r);
    /* a resume diverges again, at the same step */
    char again[64];
    snprintf(again, sizeof again, "diverged at step %lld ", step);
    CU_ASSERT_EQUAL(resume(dir), 4);
    CU_ASSERT(rc_log_has(in_tmp("resume.log"), again, view));
    printf("[diverged at step %lld in %s; LATEST step %lld] ", step, view, (long long)latest_step(dir));
    free(ckpt);
    free(text);
}

/* on_nan: skip is for bad batches: four examples of 3e38 everywhere overflow the linear
 * encoder's W x (float) in every batch they are in. Those steps are skipped and counted; the
 * rest train; the parameters stay finite. With on_nan: stop the same data stops the run in
 * its first epoch. */
static void test_divergence_skip(void) {
    enum { N = 400, D = 24 };
    float *x = malloc((size_t)N * D * sizeof *x);
    fill_uniform(x, (size_t)N * D, 0.0f, 1.0f, 4);
    const int spikes[4] = {5, 77, 200, 333};
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < D; j++) x[spikes[i] * D + j] = 3e38f;
    fixture_write_h5(in_tmp("spiky.h5"), x, NULL, N, D);
    ExError err;
    free(x);
    char data[1200];
    snprintf(data, sizeof data, "data.path=%s", in_tmp("spiky.h5"));

    const char *dir = in_tmp("skip");
    const char *args[] = {spec_path, data, "model.g=identity", "model.hidden=[]", "train.epochs=4", "train.on_nan=skip",
                          "--out", dir, "--quiet", NULL};
    CU_ASSERT_EQUAL(rc_run_logged(args, in_tmp("skip.log")), 0);
    CU_ASSERT(status_is(dir, "finished"));
    char results[1200];
    snprintf(results, sizeof results, "%s/results.h5", dir);
    H5Reader *r = NULL;
    CU_ASSERT_FATAL(h5r_open(&r, results, &err) == 0);
    int ncols = 0;
    char **names = NULL;
    int64_t nrows = 0;
    double *rows = NULL;
    CU_ASSERT_FATAL(h5r_read_table(r, "/metrics/epochs", &ncols, &names, &nrows, &rows, &err) == 0);
    h5r_close(r);
    int cs = -1, cl = -1;
    for (int i = 0; i < ncols; i++) {
        if (strcmp(names[i], "skipped_steps") == 0) cs = i;
        if (strcmp(names[i], "train_loss") == 0) cl = i;
    }
    CU_ASSERT_FATAL(cs >= 0 && cl >= 0);
    CU_ASSERT_EQUAL(nrows, 4);
    double skipped = 0;
    for (int64_t i = 0; i < nrows; i++) {
        double k = rows[i * ncols + cs];
        CU_ASSERT(k >= 1 && k <= 4);        /* a batch with a spike in it, at most one per spike */
        CU_ASSERT(isfinite(rows[i * ncols + cl]));
        skipped += k;
    }
    h5r_free_strings(names, (size_t)ncols);
    free(rows);
    char *ckpt = rc_latest_checkpoint(dir);
    CU_ASSERT_FATAL(ckpt != NULL);
    CU_ASSERT_FATAL(h5r_open(&r, ckpt, &err) == 0);
    size_t n = 0;
    char **views = NULL;
    CU_ASSERT(h5r_list_datasets(r, "/model", &n, &views, &err) == 0 && n > 0);
    int finite = 1;
    for (size_t v = 0; v < n; v++) {
        H5RInfo info;
        CU_ASSERT_FATAL(h5r_info(r, views[v], &info, &err) == 0);
        int dims[H5R_MAX_RANK];
        size_t count = 1;
        for (int k = 0; k < info.rank; k++) count *= (size_t)(dims[k] = (int)info.dims[k]);
        float *w = malloc(count * sizeof *w);
        CU_ASSERT(h5r_read_floats(r, views[v], info.rank, dims, w, &err) == 0);
        for (size_t i = 0; i < count; i++) finite &= isfinite(w[i]) != 0;
        free(w);
    }
    CU_ASSERT(finite);
    h5r_free_strings(views, n);
    h5r_close(r);
    free(ckpt);

    const char *stop_dir = in_tmp("skip-stop");
    const char *stop[] = {spec_path, data, "model.g=identity", "model.hidden=[]", "train.epochs=4", "--out", stop_dir,
                          "--quiet", NULL};
    CU_ASSERT_EQUAL(rc_run_logged(stop, in_tmp("skip-stop.log")), 4);
    CU_ASSERT(rc_log_has(in_tmp("skip-stop.log"), "(epoch 1)", "train.on_nan: skip"));
    printf("[on_nan: skip: %.0f steps skipped in 4 epochs, parameters finite] ", skipped);
}

/* ---- disks -------------------------------------------------------------------------------- */

static void expect_unwritable(const char *root, const char *why) {
    char override[1200];
    snprintf(override, sizeof override, "output.root=%s", root);
    const char *args[] = {spec_path, override, NULL};
    const char *log = in_tmp("unwritable.log");
    CU_ASSERT_EQUAL(rc_run_logged(args, log), 3);
    CU_ASSERT(rc_log_has(log, root, why));
    char *text = rc_slurp(log);
    CU_ASSERT(text && strncmp(text, "run: ", 5) != 0 && !strstr(text, "\nrun: ") && !strstr(text, "epoch"));
    free(text);
    CU_ASSERT(!rc_exists(root));                                           /* nothing made */
}

/* An output.root where no directory can be made is found before training. */
static void test_unwritable_output_root(void) {
    const char *file = in_tmp("a-file");
    rc_write_text(file, "not a directory\n");
    char root[1200];
    snprintf(root, sizeof root, "%s/results", file);
    expect_unwritable(root, "Not a directory");
    if (geteuid() == 0) {
        /* Permissions do not stop root; a file system that refuses does. */
        expect_unwritable("/sys/exprun-unwritable", "not permitted");
    } else {
        const char *ro = in_tmp("read-only");
        mkdir(ro, 0555);
        snprintf(root, sizeof root, "%s/results", ro);
        expect_unwritable(root, "Permission denied");
        chmod(ro, 0755);
    }
}

/* A file that stops growing (RLIMIT_FSIZE, as on a full disk) while a checkpoint and then
 * results.h5 are written: reported with the file's name, exit 3, status failed, no *.tmp
 * left, and the checkpoint before it untouched — the run resumes bit for bit once there is
 * room again. */
static void test_full_disk(void) {
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/full", tmp);
    const char *args[] = {spec_path, "--out", dir, "--quiet", NULL};
    setenv("EXPRUN_STOP_AFTER_STEPS", "50", 1);
    CU_ASSERT_EQUAL_FATAL(rc_run_logged(args, in_tmp("full.log")), 128 + SIGTERM);
    unsetenv("EXPRUN_STOP_AFTER_STEPS");
    char *ckpt = rc_latest_checkpoint(dir);
    CU_ASSERT_FATAL(ckpt != NULL);
    size_t len = 0;
    char *before = NULL;
    FILE *f = fopen(ckpt, "rb");
    if (f) {
        before = malloc(1 << 20);
        len = fread(before, 1, 1 << 20, f);
        fclose(f);
    }
    const char *resume_args[] = {"resume", dir, "--quiet", NULL};
    /* results.h5 is about 13 KB and a checkpoint 44 KB: 24 KB stops the checkpoint, 8 KB the
     * results. */
    const long limits[2] = {24 * 1024, 8 * 1024};
    const char *names[2] = {"checkpoints/epoch-", "results.h5"};
    for (int k = 0; k < 2; k++) {
        const char *log = in_tmp("full-resume.log");
        unlink(log);
        CU_ASSERT_EQUAL(rc_wait(rc_spawn_limited(resume_args, log, limits[k])), 3);
        CU_ASSERT(rc_log_has(log, names[k], "File too large"));
        CU_ASSERT(status_is(dir, "failed"));
        char *now = rc_latest_checkpoint(dir);
        CU_ASSERT(now && strcmp(now, ckpt) == 0);
        free(now);
        char *after = NULL;
        size_t len2 = 0;
        if ((f = fopen(ckpt, "rb"))) {
            after = malloc(1 << 20);
            len2 = fread(after, 1, 1 << 20, f);
            fclose(f);
        }
        CU_ASSERT(before && after && len == len2 && memcmp(before, after, len) == 0);
        free(after);
        char sub[1200];
        snprintf(sub, sizeof sub, "%s/checkpoints", dir);
        CU_ASSERT_EQUAL(rc_count_files(dir, ".tmp") + rc_count_files(sub, ".tmp"), 0);
        CU_ASSERT(rc_h5_files_open(dir) >= 2);
    }
    free(before);
    free(ckpt);
    CU_ASSERT_EQUAL(resume(dir), 0);
    CU_ASSERT(rc_same_run(ref_dir, dir, 1));
}

/* ---- bad data and checkpoints --------------------------------------------------------------- */

/* A spec reading `path` as `source` fails with exit 3 and a message naming the file and what is
 * wrong; nothing crashes and no run directory is made. */
static void expect_bad_data(const char *data_yaml, const char *model_yaml, const char *want1, const char *want2) {
    char text[2048], bad_spec[1100];
    snprintf(text, sizeof text,
             "version: 1\nname: bad\nseed: 1\n%s%s"
             "optimizer: {type: adam}\ntrain: {epochs: 1, batch_size: 8}\noutput: {root: %s/bad-results}\n",
             data_yaml, model_yaml, tmp);
    snprintf(bad_spec, sizeof bad_spec, "%s/bad.yaml", tmp);
    rc_write_text(bad_spec, text);
    const char *args[] = {bad_spec, NULL};
    const char *log = in_tmp("bad.log");
    CU_ASSERT_EQUAL(rc_run_logged(args, log), 3);
    CU_ASSERT(rc_log_has(log, want1, want2));
    CU_ASSERT(!rc_exists(in_tmp("bad-results")));
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void test_bad_data(void) {
    const char *ae = "model: {type: autoencoder, code: 4}\nloss: squared_error\n";
    char data[1300];
    /* IDX: the header promises 50 images of 4x4, 10 bytes of pixels follow */
    unsigned char idx[26];
    put_be32(idx, 0x00000803);
    put_be32(idx + 4, 50);
    put_be32(idx + 8, 4);
    put_be32(idx + 12, 4);
    memset(idx + 16, 7, 10);
    rc_write_bytes(in_tmp("trunc-idx3-ubyte"), idx, sizeof idx);
    snprintf(data, sizeof data, "data: {source: idx, path: %s}\n", in_tmp("trunc-idx3-ubyte"));
    expect_bad_data(data, ae, "trunc-idx3-ubyte", "truncated");
    /* IDX: not an IDX file at all */
    rc_write_text(in_tmp("notidx-ubyte"), "hello, this is text and no IDX header");
    snprintf(data, sizeof data, "data: {source: idx, path: %s}\n", in_tmp("notidx-ubyte"));
    expect_bad_data(data, ae, "notidx-ubyte", NULL);
    /* CSV: a ragged row, a word, a header and no rows */
    rc_write_text(in_tmp("ragged.csv"), "a,b,c\n1,2,3\n4,5\n");
    snprintf(data, sizeof data, "data: {source: csv, path: %s}\n", in_tmp("ragged.csv"));
    expect_bad_data(data, ae, "ragged.csv:3:", "2 fields, expected 3");
    rc_write_text(in_tmp("word.csv"), "a,b\n1,2\n3,oops\n");
    snprintf(data, sizeof data, "data: {source: csv, path: %s}\n", in_tmp("word.csv"));
    expect_bad_data(data, ae, "word.csv:3:", "oops");
    rc_write_text(in_tmp("header-only.csv"), "a,b\n");
    snprintf(data, sizeof data, "data: {source: csv, path: %s}\n", in_tmp("header-only.csv"));
    expect_bad_data(data, ae, "header-only.csv", "no data rows");
    /* HDF5: an empty dataset, and a file that is not HDF5 */
    H5Doc *doc = h5doc_new();
    int shape[2] = {0, 24};
    float none[1] = {0};
    h5doc_floats(doc, "/x", 2, shape, none);
    ExError err;
    CU_ASSERT_FATAL(h5doc_publish(doc, in_tmp("empty.h5"), &err) == 0);
    h5doc_free(doc);
    snprintf(data, sizeof data, "data: {source: hdf5, path: %s}\n", in_tmp("empty.h5"));
    expect_bad_data(data, ae, "empty.h5", "empty");
    snprintf(data, sizeof data, "data: {source: hdf5, path: %s}\n", in_tmp("word.csv"));
    expect_bad_data(data, ae, "word.csv", "not an HDF5 file");
    /* text shorter than one window of the batch */
    rc_write_text(in_tmp("short.txt"), "abc");
    snprintf(data, sizeof data, "data: {source: text, path: %s, seq_len: 16}\n", in_tmp("short.txt"));
    expect_bad_data(data, "model: {type: lstm, units: [8]}\nloss: softmax_cross_entropy\n", "short.txt", "too few");
}

/* --init-from with shapes that do not fit, or a file that is no checkpoint; resume from a
 * truncated, empty, missing or foreign checkpoint: exit 3, the file named, nothing crashes. */
static void test_bad_checkpoints(void) {
    char *good = rc_latest_checkpoint(ref_dir);
    CU_ASSERT_FATAL(good != NULL);
    const char *out = in_tmp("init-bad");
    const char *log = in_tmp("init.log");
    const char *shapes[] = {spec_path, "model.code=5", "--init-from", good, "--out", out, NULL};
    CU_ASSERT_EQUAL(rc_run_logged(shapes, log), 3);
    CU_ASSERT(rc_log_has(log, good, "6x16 in the checkpoint but 5x16 in the model"));
    CU_ASSERT(!rc_exists(out));   /* refused before the run directory is made */
    const char *not_ckpt[] = {spec_path, "--init-from", data_path, "--out", out, NULL};
    CU_ASSERT_EQUAL(rc_run_logged(not_ckpt, log), 3);
    CU_ASSERT(rc_log_has(log, data_path, NULL));
    CU_ASSERT(!rc_exists(out));
    const char *text_file[] = {spec_path, "--init-from", spec_path, "--out", out, NULL};
    CU_ASSERT_EQUAL(rc_run_logged(text_file, log), 3);
    CU_ASSERT(rc_log_has(log, spec_path, "not an HDF5 file"));

    /* a run stopped with a checkpoint, then its checkpoint damaged four ways */
    char dir[1100];
    snprintf(dir, sizeof dir, "%s/damaged", tmp);
    const char *args[] = {spec_path, "--out", dir, "--quiet", NULL};
    setenv("EXPRUN_STOP_AFTER_STEPS", "30", 1);
    CU_ASSERT_EQUAL_FATAL(rc_run_logged(args, in_tmp("damaged.log")), 128 + SIGTERM);
    unsetenv("EXPRUN_STOP_AFTER_STEPS");
    char *ckpt = rc_latest_checkpoint(dir);
    CU_ASSERT_FATAL(ckpt != NULL);
    /* LATEST of the name alone (as exprun 0.1 wrote it), so that the damage reaches the
     * checkpoint reader: with its digest, LATEST refuses all four first (tests/test_trust.c). */
    char latest[1300], line[300];
    snprintf(latest, sizeof latest, "%s/checkpoints/LATEST", dir);
    snprintf(line, sizeof line, "%s\n", strrchr(ckpt, '/') + 1);
    rc_write_text(latest, line);
    struct stat st;
    CU_ASSERT_FATAL(stat(ckpt, &st) == 0);
    const char *rlog = in_tmp("resume.log");
    CU_ASSERT_FATAL(truncate(ckpt, st.st_size / 2) == 0);
    CU_ASSERT_EQUAL(resume(dir), 3);
    CU_ASSERT(rc_log_has(rlog, ckpt, "truncated"));
    CU_ASSERT_FATAL(truncate(ckpt, 0) == 0);
    CU_ASSERT_EQUAL(resume(dir), 3);
    CU_ASSERT(rc_log_has(rlog, ckpt, "not an HDF5 file"));
    /* a checkpoint of another spec (code 5) in its place */
    const char *other_dir = in_tmp("other");
    const char *other[] = {spec_path, "model.code=5", "train.epochs=1", "--out", other_dir, "--quiet", NULL};
    CU_ASSERT_EQUAL_FATAL(rc_run_logged(other, log), 0);
    char *foreign = rc_latest_checkpoint(other_dir);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cp %s %s", foreign, ckpt);
    CU_ASSERT_FATAL(run_command(cmd) == 0);
    CU_ASSERT_EQUAL(resume(dir), 3);
    CU_ASSERT(rc_log_has(rlog, ckpt, "shape"));
    free(foreign);
    /* LATEST naming a file that is not there */
    unlink(ckpt);
    CU_ASSERT_EQUAL(resume(dir), 3);
    CU_ASSERT(rc_log_has(rlog, ckpt, NULL));
    CU_ASSERT(status_is(dir, "interrupted"));   /* a refused resume changes nothing */
    free(ckpt);
    free(good);
}

/* ---- the first checkpoint ----------------------------------------------------------------- */

/* Killed before its first checkpoint, a run started with --init-from starts over from those
 * weights (RUN_DIR/init_from.txt) and ends as the run never killed. */
static void test_resume_before_first_checkpoint(void) {
    char *init = rc_latest_checkpoint(ref_dir);
    const char *ref2 = in_tmp("init-ref"), *dir = in_tmp("init-killed");
    const char *ref_args[] = {spec_path, "train.epochs=6", "--init-from", init, "--out", ref2, "--quiet", NULL};
    CU_ASSERT_EQUAL_FATAL(rc_run_logged(ref_args, in_tmp("init-ref.log")), 0);
    const char *args[] = {spec_path, "train.epochs=6", "--init-from", init, "--out", dir, "--quiet", NULL};
    setenv("EXPRUN_TEST_PUBLISH_PAUSE_US", "300000", 1);
    pid_t pid = rc_spawn(args, in_tmp("init-killed.log"));
    unsetenv("EXPRUN_TEST_PUBLISH_PAUSE_US");
    CU_ASSERT(rc_wait_for_file(pid, dir, NULL, "results.h5.tmp"));   /* epoch 1's results */
    kill(pid, SIGKILL);
    CU_ASSERT_EQUAL(rc_wait(pid), 128 + SIGKILL);
    char latest[1300];
    snprintf(latest, sizeof latest, "%s/checkpoints/LATEST", dir);
    CU_ASSERT(!rc_exists(latest));
    const char *resume_args[] = {"resume", dir, NULL};
    const char *log = in_tmp("init-resume.log");
    CU_ASSERT_EQUAL(rc_run_logged(resume_args, log), 0);
    CU_ASSERT(rc_log_has(log, "no checkpoint yet", "from the beginning"));
    CU_ASSERT(rc_same_run(ref2, dir, 1));
    free(init);
}

/* ---- determinism ----------------------------------------------------------------------------- */

/* Same spec, seed and thread count → the same bits, with matrices large enough that OpenBLAS
 * splits them between 2 threads (m·n·k well above its threshold of 4·65536). */
static void test_determinism(void) {
    enum { N = 512, D = 128 };
    float *x = malloc((size_t)N * D * sizeof *x);
    fill_uniform(x, (size_t)N * D, 0.0f, 1.0f, 3);
    const char *big = in_tmp("big.h5");
    fixture_write_h5(big, x, NULL, N, D);
    ExError err;
    free(x);
    char text[2048];
    const char *det = in_tmp("det.yaml");
    snprintf(text, sizeof text,
             "version: 1\nname: det\nseed: 9\n"
             "data: {source: hdf5, path: %s, dataset: x}\n"
             "model:\n  type: autoencoder\n  code: 64\n  hidden: [{units: 256, activation: tanh}]\n"
             "  noise: {type: masking, rate: 0.1}\n"
             "loss: squared_error\noptimizer: {type: adam, lr: 0.001}\ntrain: {epochs: 4, batch_size: 128}\n",
             big);
    rc_write_text(det, text);
    char dirs[2][2][1100];
    for (int t = 0; t < 2; t++) {
        for (int k = 0; k < 2; k++) {
            snprintf(dirs[t][k], sizeof dirs[t][k], "%s/det-threads%d-%c", tmp, t + 1, 'a' + k);
            char threads[32];
            snprintf(threads, sizeof threads, "threads=%d", t + 1);
            const char *args[] = {det, threads, "--out", dirs[t][k], "--quiet", NULL};
            CU_ASSERT_EQUAL_FATAL(rc_run_logged(args, in_tmp("det.log")), 0);
            char results[4500];
            snprintf(results, sizeof results, "%s/results.h5", dirs[t][k]);
            H5Reader *r = NULL;
            int64_t used = 0;
            CU_ASSERT_FATAL(h5r_open(&r, results, &err) == 0);
            CU_ASSERT(h5r_attr_int(r, "/", "threads", &used, &err) == 0 && used == t + 1);
            h5r_close(r);
        }
        CU_ASSERT(rc_same_run(dirs[t][0], dirs[t][1], 1));
    }
    /* Between thread counts only the parameters can be compared (the spec differs). With the
     * packed kernels (AVX2 or AVX-512) every sum is split the same way for any thread count
     * (lib/core/parallel.h), so they must be identical; without them the products go to OpenBLAS,
     * whose sums may depend on its thread count: then reported, not asserted. */
    char *a = rc_latest_checkpoint(dirs[0][0]), *b = rc_latest_checkpoint(dirs[1][0]);
    H5Reader *ra = NULL, *rb = NULL;
    int same = 0;
    if (a && b && h5r_open(&ra, a, &err) == 0 && h5r_open(&rb, b, &err) == 0) {
        float *wa = malloc(256 * 128 * sizeof *wa), *wb = malloc(256 * 128 * sizeof *wb);
        int s2[2] = {256, 128};
        same = h5r_read_floats(ra, "/model/enc0/W", 2, s2, wa, &err) == 0 &&
               h5r_read_floats(rb, "/model/enc0/W", 2, s2, wb, &err) == 0 && memcmp(wa, wb, 256 * 128 * 4) == 0;
        free(wa);
        free(wb);
    }
    h5r_close(ra);
    h5r_close(rb);
    free(a);
    free(b);
    if (packed_kernel() != PACK_KERNEL_BLAS) CU_ASSERT(same);
    printf("[threads 1 and threads 2: parameters %s] ", same ? "identical" : "differ");
}

int main(void) {
    tmp = make_temp_dir("faults");
    if (!tmp) return 1;
    unsetenv("EXPRUN_STOP_AFTER_STEPS");
    unsetenv("EXPRUN_TEST_PUBLISH_PAUSE_US");
    make_spec();
    TestCase cases[] = {
        {"SIGTERM mid-training: exit 143, interrupted, checkpoint, bit-exact resume", test_sigterm},
        {"SIGUSR1 in a results write: exit 138, interrupted, checkpoint, bit-exact resume", test_sigusr1},
        {"SIGINT in a checkpoint write: exit 130, interrupted, checkpoint, bit-exact resume", test_sigint},
        {"a second SIGINT exits at once, files intact, bit-exact resume", test_double_sigint},
        {"NaN/Inf: exit 4, diverged, step and view named, last good checkpoint loads", test_divergence_stops},
        {"train.on_nan: skip continues and counts skipped steps", test_divergence_skip},
        {"unwritable output.root: exit 3 before training, nothing made", test_unwritable_output_root},
        {"full disk in a checkpoint and a results write: reported, last checkpoint kept", test_full_disk},
        {"truncated IDX, ragged CSV, empty data, short text: exit 3 naming the file", test_bad_data},
        {"checkpoints of other shapes, truncated, empty, missing: exit 3 naming the file", test_bad_checkpoints},
        {"killed before the first checkpoint (--init-from): resume starts over, bit-exact", test_resume_before_first_checkpoint},
        {"same spec, seed and threads (1 and 2): the same bits", test_determinism},
        {NULL, NULL}};
    int rc = run_tests_in("faults", cases, tmp);
    return rc;
}
