#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "rng.h"

int run_tests(const char *suite_name, const TestCase *cases) {
    if (CU_initialize_registry() != CUE_SUCCESS) return 1;
    CU_pSuite suite = CU_add_suite(suite_name, NULL, NULL);
    for (const TestCase *c = cases; c->name; c++) CU_add_test(suite, c->name, c->fn);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    unsigned run = CU_get_number_of_tests_run();
    CU_cleanup_registry();
    return (failed == 0 && run > 0) ? 0 : 1;
}

int run_tests_in(const char *suite_name, const TestCase *cases, char *dir) {
    int rc = run_tests(suite_name, cases);
    if (dir && rc == 0) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        run_command(cmd);
    } else if (dir) {
        fprintf(stderr, "test_%s: files kept in %s\n", suite_name, dir);
    }
    free(dir);
    return rc;
}

double gradcheck(LossFn loss, void *ctx, float *x, const float *analytic, size_t n,
                 size_t max_checks, double h, double floor) {
    double worst = 0.0;
    size_t stride = (max_checks > 0 && n > max_checks) ? n / max_checks : 1;
    for (size_t i = 0; i < n; i += stride) {
        float saved = x[i];
        x[i] = (float)(saved + h);
        double plus = loss(ctx);
        x[i] = (float)(saved - h);
        double minus = loss(ctx);
        x[i] = saved;
        double numeric = (plus - minus) / (2.0 * h);
        double a = analytic[i];
        double denom = fabs(a) + fabs(numeric);
        if (denom < floor) denom = floor;
        double err = fabs(a - numeric) / denom;
        if (err > worst) worst = err;
    }
    return worst;
}

void fill_uniform(float *x, size_t n, float lo, float hi, unsigned long long seed) {
    Rng rng;
    rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) x[i] = lo + (hi - lo) * rng_uniform(&rng);
}

char *make_temp_dir(const char *tag) {
    const char *base = getenv("TMPDIR");
    if (!base || !*base) base = "/tmp";
    size_t len = strlen(base) + strlen(tag) + 32;
    char *path = malloc(len);
    snprintf(path, len, "%s/exprun-%s-XXXXXX", base, tag);
    if (!mkdtemp(path)) {
        free(path);
        return NULL;
    }
    return path;
}

int run_command(const char *cmd) {
    int status = system(cmd);
    if (status == -1) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

const char *exprun_bin(void) {
    const char *b = getenv("EXPRUN_BIN");
    return b ? b : "./exprun";
}

const char *source_dir(void) {
    const char *s = getenv("EXPRUN_SOURCE_DIR");
    return s ? s : EXPRUN_SOURCE_DIR;
}
