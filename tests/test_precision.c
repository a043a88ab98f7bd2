/* test_precision.c — train.precision: bf16, run for real through `exprun` on a small LSTM (the
 * adding problem) and the small autoencoder of runcheck.h: it trains, says so in results.h5,
 * repeats to the bit, lands near the fp32 run without being it; where the CPU (or EXPRUN_KERNEL)
 * cannot run it, the spec is refused with exit 2 before anything is made. The products
 * themselves are checked against fp32 in test_packgemm.c.
 *
 * Whether bf16 can run is asked of the exprun processes themselves (`exprun validate`), not of
 * this program's CPU view: under valgrind, which hides AVX-512, the two may differ. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5read.h"
#include "runcheck.h"
#include "testutil.h"

static char *tmp;
static char ae_spec[1024], ae_data[1024], lstm_spec[1024];

/* A string attribute of / in RUN/results.h5 ("" when absent), static storage. */
static const char *root_str(const char *run, const char *name) {
    static char value[64];
    value[0] = '\0';
    H5Reader *r = NULL;
    ExError err;
    char *s = NULL;
    if (h5r_open(&r, rc_in_dir(run, "results.h5"), &err) != 0) return value;
    if (h5r_attr_str(r, "/", name, &s, &err) == 0) {
        snprintf(value, sizeof value, "%s", s);
        free(s);
    }
    h5r_close(r);
    return value;
}

static double last_of(const char *run, const char *column) {
    double v[64];
    int n = rc_metrics_column(run, column, v, 64);
    return n > 0 ? v[n - 1] : NAN;
}

/* Trains spec at `precision` into tmp/NAME; returns exprun's exit status. */
static int train(const char *spec, const char *name, const char *precision, char *out, size_t cap) {
    snprintf(out, cap, "%s", rc_in_dir(tmp, name));
    char setting[64], log[1100];
    snprintf(setting, sizeof setting, "train.precision=%s", precision);
    snprintf(log, sizeof log, "%s.log", out);
    const char *args[] = {spec, setting, "--out", out, NULL};
    return rc_run_logged(args, log);
}

/* 1 if the exprun this suite starts runs bf16 (its `validate` accepts it), 0 if it refuses it
 * as it should (exit 2, the message); asserts one of the two. */
static int exprun_runs_bf16(const char *spec) {
    static int answer = -1;
    if (answer >= 0) return answer;
    char log[1100];
    snprintf(log, sizeof log, "%s", rc_in_dir(tmp, "validate.log"));
    const char *args[] = {"validate", spec, "train.precision=bf16", NULL};
    int status = rc_run_logged(args, log);
    CU_ASSERT(status == 0 || (status == 2 && rc_log_has(log, "train.precision: bf16 needs a CPU with AVX512-BF16",
                                                        "train.precision=fp32")));
    answer = status == 0;
    if (!answer) fprintf(stderr, "\n    (exprun cannot run bf16 here: only its refusal is tested)");
    return answer;
}

/* fp32 and bf16 runs of one spec: bf16 is recorded, differs from fp32 (the products did run in
 * bf16) by less than `tolerance` relative in the final validation loss, and repeats bit for bit. */
static void check_family(const char *spec, const char *tag, double tolerance) {
    char fp32[1100], bf16[1100], again[1100], name[64];
    snprintf(name, sizeof name, "%s_fp32", tag);
    CU_ASSERT_EQUAL_FATAL(train(spec, name, "fp32", fp32, sizeof fp32), 0);
    snprintf(name, sizeof name, "%s_bf16", tag);
    CU_ASSERT_EQUAL_FATAL(train(spec, name, "bf16", bf16, sizeof bf16), 0);
    snprintf(name, sizeof name, "%s_bf16_again", tag);
    CU_ASSERT_EQUAL_FATAL(train(spec, name, "bf16", again, sizeof again), 0);
    CU_ASSERT_STRING_EQUAL(root_str(fp32, "precision"), "fp32");
    CU_ASSERT_STRING_EQUAL(root_str(bf16, "precision"), "bf16");
    CU_ASSERT_STRING_EQUAL(root_str(bf16, "kernel"), "avx512");
    double a = last_of(fp32, "val_loss"), b = last_of(bf16, "val_loss");
    fprintf(stderr, "\n    %s: final val_loss fp32 %.6f, bf16 %.6f (%+.3f %%)", tag, a, b, 100.0 * (b - a) / a);
    CU_ASSERT(isfinite(a) && isfinite(b));
    CU_ASSERT(a != b);
    CU_ASSERT(fabs(b - a) <= tolerance * fabs(a));
    CU_ASSERT(rc_same_run(bf16, again, 1));
}

static void test_bf16_lstm(void) {
    if (exprun_runs_bf16(lstm_spec)) check_family(lstm_spec, "lstm", 0.05);
}

static void test_bf16_autoencoder(void) {
    if (exprun_runs_bf16(lstm_spec)) check_family(ae_spec, "ae", 0.05);
}

/* Refused before anything is made: a CPU without AVX512-BF16, or the AVX-512 kernel capped
 * (EXPRUN_KERNEL=avx2, which is how this test reaches the refusal on a CPU that has it). */
static void test_refused(void) {
    char out[1100];
    setenv("EXPRUN_KERNEL", "avx2", 1);
    int status = train(lstm_spec, "refused", "bf16", out, sizeof out);
    unsetenv("EXPRUN_KERNEL");
    CU_ASSERT_EQUAL(status, 2);
    char log[1200];
    snprintf(log, sizeof log, "%s.log", out);
    CU_ASSERT(rc_log_has(log, "train.precision: bf16 needs a CPU with AVX512-BF16", "train.precision=fp32"));
    CU_ASSERT(!rc_exists(out));
    /* the same spec at fp32 under the same cap runs */
    setenv("EXPRUN_KERNEL", "avx2", 1);
    status = train(lstm_spec, "capped_fp32", "fp32", out, sizeof out);
    unsetenv("EXPRUN_KERNEL");
    CU_ASSERT_EQUAL(status, 0);
    CU_ASSERT(strcmp(root_str(out, "kernel"), "avx2") == 0 || strcmp(root_str(out, "kernel"), "blas") == 0);
}

int main(void) {
    const TestCase cases[] = {
        {"bf16 LSTM: recorded, near fp32 but not it, repeatable", test_bf16_lstm},
        {"bf16 autoencoder: the same", test_bf16_autoencoder},
        {"bf16 refused where the kernel cannot run it", test_refused},
        {NULL, NULL},
    };
    tmp = make_temp_dir("precision");
    rc_write_small_ae(tmp, "precision", ae_spec, ae_data);
    snprintf(lstm_spec, sizeof lstm_spec, "%s", rc_in_dir(tmp, "lstm.yaml"));
    char text[1024];
    snprintf(text, sizeof text,
             "version: 1\nname: precision_lstm\nseed: 5\n"
             "data: {source: adding, length: 30, train_size: 1200, test_size: 200, validation_fraction: 0.2}\n"
             "model: {type: lstm, units: [64, 64], input: features, head: last_step}\n"
             "loss: squared_error\noptimizer: {type: adam, lr: 3.0e-3}\n"
             "clip: {type: global_norm, threshold: 1.0}\ntrain: {epochs: 3, batch_size: 32}\n"
             "output: {root: %s/results}\n",
             tmp);
    rc_write_text(lstm_spec, text);
    return run_tests_in("precision", cases, tmp);
}
