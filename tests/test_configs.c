/* test_configs.c — every spec shipped in configs/ is a valid spec: it parses, every key is known
 * and typed, and the combinations are allowed (`exprun show` checks all of that without data). */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "spec/cfg.h"
#include "testutil.h"

static void test_every_config_is_valid(void) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/configs", source_dir());
    DIR *d = opendir(dir);
    CU_ASSERT_FATAL(d != NULL);
    struct dirent *e;
    int checked = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0) continue;
        char cmd[4096];
        snprintf(cmd, sizeof cmd, "%s show %s/%s > /dev/null", exprun_bin(), dir, e->d_name);
        int rc = run_command(cmd);
        if (rc != 0) printf("\n  %s: exprun show exited %d\n", e->d_name, rc);
        CU_ASSERT_EQUAL(rc, 0);
        checked++;
    }
    closedir(d);
    CU_ASSERT(checked >= 20);
}

/* The configs that moved their data block onto a shared base (configs/data/) resolve to the
 * very trees they resolved to before (tests/golden/resolved/, written by `exprun show` before
 * the move): the same keys, values and order; and none repeats the Fashion-MNIST base's paths. */
static void test_bases_keep_resolved_specs(void) {
    char golden[1024];
    snprintf(golden, sizeof golden, "%s/tests/golden/resolved", source_dir());
    DIR *d = opendir(golden);
    CU_ASSERT_FATAL(d != NULL);
    struct dirent *e;
    int checked = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".yaml") != 0) continue;
        char cmd[4096], shown[1200], want_path[2200], config[2200];
        snprintf(shown, sizeof shown, "/tmp/exprun_shown_%d.yaml", (int)getpid());
        snprintf(config, sizeof config, "%s/configs/%s", source_dir(), e->d_name);
        snprintf(cmd, sizeof cmd, "%s show %s > %s", exprun_bin(), config, shown);
        CU_ASSERT_EQUAL_FATAL(run_command(cmd), 0);
        snprintf(want_path, sizeof want_path, "%s/%s", golden, e->d_name);
        CfgDiags diags = {0};
        CfgNode *got = cfg_parse_file(shown, &diags), *want = cfg_parse_file(want_path, &diags);
        int same = got && want && cfg_equal(got, want);
        if (!same) printf("\n  %s: resolves differently from %s\n", e->d_name, want_path);
        CU_ASSERT(same);
        cfg_free(got), cfg_free(want), cfg_diags_free(&diags);
        remove(shown);
        snprintf(cmd, sizeof cmd, "grep -q 'fashion-mnist/train-images' %s", config);
        CU_ASSERT_NOT_EQUAL(run_command(cmd), 0);   /* the paths live in the base only */
        checked++;
    }
    closedir(d);
    CU_ASSERT(checked >= 12);   /* nine Fashion-MNIST configs, three adding-task ones */
}

int main(void) {
    TestCase cases[] = {{"every config in configs/ is a valid spec", test_every_config_is_valid},
                        {"configs on shared bases resolve as before they moved", test_bases_keep_resolved_specs},
                        {NULL, NULL}};
    return run_tests("configs", cases);
}
