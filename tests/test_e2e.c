/* test_e2e.c — the exprun program end to end on small data the test makes: training lowers the
 * loss, results open in h5py as the README says, a stopped run resumes bit for bit, and bad
 * specs, overrides, data and locked run directories fail with clear messages and nothing left. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "fixtures.h"
#include "h5read.h"
#include "rng.h"
#include "runcheck.h"
#include "testutil.h"

static char *tmp;                 /* this test's scratch folder */
static char data_path[1024], spec_path[1024];

/* 400 examples of 24 values in [0,1] with a 3-dimensional structure an autoencoder can find. */
static void make_data(void) {
    snprintf(data_path, sizeof data_path, "%s/data.h5", tmp);
    rc_make_table(data_path, 400, 5);
}

static void make_spec(void) {
    char text[2048];
    snprintf(text, sizeof text,
             "version: 1\n"
             "name: e2e\n"
             "seed: 7\n"
             "threads: 1\n"
             "data:\n"
             "  source: hdf5\n"
             "  path: %s\n"
             "  dataset: x\n"
             "model:\n"
             "  type: autoencoder\n"
             "  code: 4\n"
             "  g: sigmoid\n"
             "  f: sigmoid\n"
             "  noise: {type: masking, rate: 0.1}\n"
             "loss: squared_error\n"
             "optimizer: {type: adam, lr: 0.01}\n"
             "schedule: {type: cosine}\n"
             "train: {epochs: 6, batch_size: 32}\n"
             "output: {root: %s/results}\n",
             data_path, tmp);
    snprintf(spec_path, sizeof spec_path, "%s/spec.yaml", tmp);
    rc_write_text(spec_path, text);
}

static int run(const char *args, const char *stderr_file) {
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "%s %s > %s/stdout.txt 2> %s", exprun_bin(), args, tmp,
             stderr_file ? stderr_file : "/dev/null");
    return run_command(cmd);
}

static void test_trains_and_results_open_in_h5py(void) {
    char args[4096], dir[1024];
    snprintf(dir, sizeof dir, "%s/run_a", tmp);
    snprintf(args, sizeof args, "%s --out %s", spec_path, dir);
    CU_ASSERT_EQUAL_FATAL(run(args, NULL), 0);
    double loss[16];
    CU_ASSERT_EQUAL_FATAL(rc_metrics_column(dir, "train_loss", loss, 16), 6);
    CU_ASSERT(loss[5] < 0.9 * loss[0]);
    char status[1100];
    snprintf(status, sizeof status, "%s/status", dir);
    char *s = rc_slurp_text(status);
    CU_ASSERT_STRING_EQUAL(s, "finished\n");
    free(s);
    char cmd[16384];
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 %s/tests/check_results.py %s/results.h5 --table /metrics/epochs "
             "--rows 6 --attr status=finished --attr run_name=e2e --attr-int seed=7 "
             "--value epoch:5=6 --int-columns epoch,step,skipped_steps "
             "--obj-attr '/metrics/epochs:epoch=epochs completed' > %s/py.txt 2>&1",
             source_dir(), dir, tmp);
    int rc = run_command(cmd);
    CU_ASSERT(rc == 0 || rc == 3);
    if (rc == 3) printf("(h5py missing: python check skipped) ");
    /* the line-flushed CSV has a header and one line per epoch */
    char csv[1100];
    snprintf(csv, sizeof csv, "%s/metrics.csv", dir);
    char *text = rc_slurp_text(csv);
    int lines = 0;
    for (char *p = text; *p; p++) lines += *p == '\n';
    CU_ASSERT_EQUAL(lines, 7);
    CU_ASSERT(strncmp(text, "epoch,step,train_loss,val_loss", 30) == 0);
    free(text);
}

/* Stop at step 23 (mid-epoch: 12 steps per epoch), resume, compare with the uninterrupted run. */
static void test_resume_is_bit_exact(void) {
    char args[4096], dir[1024], a[1024];
    snprintf(a, sizeof a, "%s/run_a", tmp);
    snprintf(dir, sizeof dir, "%s/run_b", tmp);
    snprintf(args, sizeof args, "%s --out %s", spec_path, dir);
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "EXPRUN_STOP_AFTER_STEPS=23 %s %s > /dev/null 2>&1", exprun_bin(), args);
    CU_ASSERT_EQUAL(run_command(cmd), 128 + 15);
    char status[1100];
    snprintf(status, sizeof status, "%s/status", dir);
    char *s = rc_slurp_text(status);
    CU_ASSERT_STRING_EQUAL(s, "interrupted\n");
    free(s);
    snprintf(args, sizeof args, "resume %s", dir);
    CU_ASSERT_EQUAL_FATAL(run(args, NULL), 0);
    const char *cols[] = {"train_loss", "val_loss", "lr", "grad_norm", "step"};
    for (int c = 0; c < 5; c++) {
        double x[16], y[16];
        CU_ASSERT_EQUAL(rc_metrics_column(a, cols[c], x, 16), 6);
        CU_ASSERT_EQUAL(rc_metrics_column(dir, cols[c], y, 16), 6);
        CU_ASSERT(memcmp(x, y, 6 * sizeof(double)) == 0);
    }
    /* the epoch the stop cut in two keeps its clock (checkpoint clock_epoch_seconds): its time is
     * its two parts', a fraction of a second here, not the time since boot it was before */
    double seconds[16], rate[16];
    CU_ASSERT_EQUAL(rc_metrics_column(dir, "epoch_time", seconds, 16), 6);
    CU_ASSERT_EQUAL(rc_metrics_column(dir, "samples_per_sec", rate, 16), 6);
    CU_ASSERT(seconds[1] > 0 && seconds[1] < 5 && isfinite(rate[1]) && rate[1] > 0);
    /* final parameters and optimizer state, bit for bit */
    char pa[1200], pb[1200];
    snprintf(pa, sizeof pa, "%s/checkpoints/epoch-0006-step-00000072.h5", a);
    snprintf(pb, sizeof pb, "%s/checkpoints/epoch-0006-step-00000072.h5", dir);
    H5Reader *ra, *rb;
    ExError err;
    CU_ASSERT_FATAL(h5r_open(&ra, pa, &err) == 0);
    CU_ASSERT_FATAL(h5r_open(&rb, pb, &err) == 0);
    const char *views[] = {"/model/enc0/W", "/model/dec0/W", "/optimizer/v/enc0/W"};
    int shapes[3][2] = {{4, 24}, {24, 4}, {4, 24}};
    for (int v = 0; v < 3; v++) {
        float x[96], y[96];
        CU_ASSERT(h5r_read_floats(ra, views[v], 2, shapes[v], x, &err) == 0);
        CU_ASSERT(h5r_read_floats(rb, views[v], 2, shapes[v], y, &err) == 0);
        CU_ASSERT(memcmp(x, y, sizeof x) == 0);
    }
    h5r_close(ra);
    h5r_close(rb);
}

static void test_spec_errors_leave_nothing(void) {
    char bad[1024], err_file[1024], args[8192];
    snprintf(bad, sizeof bad, "%s/bad.yaml", tmp);
    char text[2048];
    snprintf(text, sizeof text,
             "version: 1\nname: bad\ndata: {source: hdf5, path: %s}\nmodel:\n  type: autoencoder\n  code: 0\n"
             "loss: cross_entropy\noptimiser: {type: adam}\n",
             data_path);
    rc_write_text(bad, text);
    snprintf(err_file, sizeof err_file, "%s/err.txt", tmp);
    snprintf(args, sizeof args, "%s output.root=%s/bad_results", bad, tmp);
    CU_ASSERT_EQUAL(run(args, err_file), 2);
    char *msg = rc_slurp_text(err_file);
    CU_ASSERT(strstr(msg, "bad.yaml:6:9: model.code:") != NULL);       /* out of range, at the value */
    CU_ASSERT(strstr(msg, "bad.yaml:8:1: optimiser:") != NULL);        /* unknown key, at the key */
    CU_ASSERT(strstr(msg, "did you mean 'optimizer'") != NULL);
    free(msg);
    char results[1100];
    snprintf(results, sizeof results, "%s/bad_results", tmp);
    struct stat st;
    CU_ASSERT(stat(results, &st) != 0);                                  /* nothing left behind */
    /* a bad override names the override */
    snprintf(args, sizeof args, "%s optimizer.lr=fast", spec_path);
    CU_ASSERT_EQUAL(run(args, err_file), 2);
    msg = rc_slurp_text(err_file);
    CU_ASSERT(strstr(msg, "optimizer.lr=fast") != NULL);
    free(msg);
    /* a missing data file: a spec error (exit 2) at the key that names it, and no run directory */
    snprintf(args, sizeof args, "%s data.path=%s/nope.h5 output.root=%s/missing_results", spec_path, tmp, tmp);
    CU_ASSERT_EQUAL(run(args, err_file), 2);
    msg = rc_slurp_text(err_file);
    CU_ASSERT(strstr(msg, "data.path: no file ") != NULL && strstr(msg, "nope.h5") != NULL);
    free(msg);
    snprintf(results, sizeof results, "%s/missing_results", tmp);
    CU_ASSERT(stat(results, &st) != 0);
}

static void test_locked_run_dir_is_refused(void) {
    char lock[1100], args[8192], err_file[1024];
    snprintf(lock, sizeof lock, "%s/run_a/.lock", tmp);
    int fd = open(lock, O_RDWR);
    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_FATAL(flock(fd, LOCK_EX | LOCK_NB) == 0);
    snprintf(err_file, sizeof err_file, "%s/err.txt", tmp);
    snprintf(args, sizeof args, "resume %s/run_a", tmp);
    CU_ASSERT_EQUAL(run(args, err_file), 5);
    char *msg = rc_slurp_text(err_file);
    CU_ASSERT(strstr(msg, "in use") != NULL);
    free(msg);
    close(fd);
    /* --out onto an existing run is refused too (a usage error: nothing runs): runs never
     * overwrite each other */
    snprintf(args, sizeof args, "%s --out %s/run_a", spec_path, tmp);
    CU_ASSERT_EQUAL(run(args, err_file), 2);
    msg = rc_slurp_text(err_file);
    CU_ASSERT(strstr(msg, "already exists") != NULL);
    free(msg);
}

static void test_validate_and_show(void) {
    char args[4096], out[1100];
    snprintf(args, sizeof args, "validate %s", spec_path);
    CU_ASSERT_EQUAL(run(args, NULL), 0);
    snprintf(out, sizeof out, "%s/stdout.txt", tmp);
    char *text = rc_slurp_text(out);
    CU_ASSERT(strstr(text, "24 -> 4") != NULL);
    CU_ASSERT(strstr(text, "trainable parameters") != NULL);
    free(text);
    snprintf(args, sizeof args, "show %s optimizer.lr=0.5", spec_path);
    CU_ASSERT_EQUAL(run(args, NULL), 0);
    text = rc_slurp_text(out);
    CU_ASSERT(strstr(text, "lr: 0.5") != NULL);
    CU_ASSERT(strstr(text, "beta2: 0.999") != NULL);        /* a default filled in */
    free(text);
}

int main(void) {
    tmp = make_temp_dir("e2e");
    make_data();
    make_spec();
    TestCase cases[] = {{"trains, loss falls, results open in h5py", test_trains_and_results_open_in_h5py},
                        {"stopped mid-epoch and resumed: bit for bit", test_resume_is_bit_exact},
                        {"spec, override and data errors leave nothing", test_spec_errors_leave_nothing},
                        {"a run directory in use is refused", test_locked_run_dir_is_refused},
                        {"validate and show", test_validate_and_show},
                        {NULL, NULL}};
    int rc = run_tests_in("e2e", cases, tmp);
    return rc;
}
