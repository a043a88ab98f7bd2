/* testutil.h — CUnit boilerplate and the finite-difference gradient checker every layer uses. */
#ifndef EXPRUN_TESTUTIL_H
#define EXPRUN_TESTUTIL_H

#include <CUnit/Basic.h>
#include <stddef.h>

typedef struct TestCase {
    const char *name;
    CU_TestFunc fn;
} TestCase;

/* Run one suite of cases (terminated by {NULL, NULL}); returns the process exit status. */
int run_tests(const char *suite, const TestCase *cases);
/* The same for a suite that works in dir (make_temp_dir's): dir is removed when every case
 * passed, kept (and named on stderr) when one failed, and freed either way. */
int run_tests_in(const char *suite, const TestCase *cases, char *dir);

/* Finite-difference gradient check.
 * loss(ctx) computes the scalar loss for the current contents of x (it must not change x).
 * analytic[i] is ∂loss/∂x[i] as computed by backward. The check perturbs up to max_checks
 * entries of x (all if n ≤ max_checks, else an evenly spread subset), with central differences
 * of step h, and returns the worst error |a − n| / max(|a| + |n|, floor). */
typedef double (*LossFn)(void *ctx);
double gradcheck(LossFn loss, void *ctx, float *x, const float *analytic, size_t n,
                 size_t max_checks, double h, double floor);

/* Fill x (n) with uniform values in [lo, hi) from a fixed seed. */
void fill_uniform(float *x, size_t n, float lo, float hi, unsigned long long seed);

/* A fresh temporary directory (mkdtemp under $TMPDIR or /tmp); caller frees the string. */
char *make_temp_dir(const char *tag);
/* Run a shell command, return its exit status (-1 if it could not run). */
int run_command(const char *cmd);
/* Path of the exprun binary (from $EXPRUN_BIN) and the source tree ($EXPRUN_SOURCE_DIR). */
const char *exprun_bin(void);
const char *source_dir(void);

#endif
