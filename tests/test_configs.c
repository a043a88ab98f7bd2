/* test_configs.c — every spec shipped in configs/ is a valid spec: it parses, every key is known
 * and typed, and the combinations are allowed (`exprun show` checks all of that without data). */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

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

int main(void) {
    TestCase cases[] = {{"every config in configs/ is a valid spec", test_every_config_is_valid},
                        {NULL, NULL}};
    return run_tests("configs", cases);
}
