/* test_race.c — two exprun processes started at once on one --out directory.
 *
 * One of them gets the directory and trains; the other touches nothing in it and exits 5 (the
 * directory is in use) or, if it came after the first had finished, 2 (it already holds a run).
 * Before: both could pass the exists-check, the loser exited 3, wrote `failed` into the winner's
 * status, and once made the winner fail on a shared status.tmp, leaving no run at all. The race is
 * run EXPRUN_RACE_TRIALS times (default 20). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "runcheck.h"
#include "testutil.h"

static char *tmp;

static void test_two_starts_on_one_out(void) {
    char spec[1024];
    snprintf(spec, sizeof spec, "%s/race.yaml", tmp);
    /* about a second of training, so the second process mostly finds the first still running */
    rc_write_text(spec, "version: 1\nname: race\nthreads: 1\n"
                        "data: {source: adding, length: 30, train_size: 2000, test_size: 50}\n"
                        "model: {type: lstm, units: [24], input: features, head: last_step}\n"
                        "loss: squared_error\ntrain: {epochs: 3, batch_size: 32}\n");
    const char *env = getenv("EXPRUN_RACE_TRIALS");
    int trials = env ? atoi(env) : 20, locked = 0, existed = 0;
    for (int t = 0; t < trials; t++) {
        char dir[1024], log_a[1024], log_b[1024], cmd[2200];
        snprintf(dir, sizeof dir, "%s/D%d", tmp, t);
        snprintf(log_a, sizeof log_a, "%s/a%d.log", tmp, t);
        snprintf(log_b, sizeof log_b, "%s/b%d.log", tmp, t);
        const char *args[] = {spec, "--quiet", "--out", dir, NULL};
        pid_t a = rc_spawn(args, log_a), b = rc_spawn(args, log_b);
        int ra = rc_wait(a), rb = rc_wait(b);
        int winner_is_a = ra == 0;
        int loser = winner_is_a ? rb : ra;
        const char *loser_log = winner_is_a ? log_b : log_a;
        if (!((ra == 0) ^ (rb == 0)) || (loser != 5 && loser != 2)) {
            printf("\n  trial %d: exit statuses %d and %d (want one 0, the other 5 or 2)\n", t, ra, rb);
            CU_FAIL("not one winner and one clean loser");
            continue;
        }
        locked += loser == 5;
        existed += loser == 2;
        CU_ASSERT(rc_log_has(loser_log, loser == 5 ? "in use by another exprun process" : "already exists", NULL));
        /* the winner's run is whole and nobody wrote over it */
        char *status = rc_slurp(rc_in_dir(dir, "status"));
        CU_ASSERT(status && strcmp(status, "finished\n") == 0);
        if (status && strcmp(status, "finished\n") != 0) printf("\n  trial %d: status %s", t, status);
        free(status);
        CU_ASSERT(rc_exists(rc_in_dir(dir, "results.h5")) && rc_exists(rc_in_dir(dir, "resolved.yaml")));
        CU_ASSERT_EQUAL(rc_count_files(dir, ".tmp"), 0);
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        run_command(cmd);
    }
    printf("(%d trials: the loser found the run in use %d times, finished %d times) ", trials, locked, existed);
    CU_ASSERT(locked > 0);   /* the race was run, not only its aftermath */
}

int main(void) {
    tmp = make_temp_dir("race");
    TestCase cases[] = {
        {"two starts on one --out: one run, the other exits 5 (or 2) and touches nothing", test_two_starts_on_one_out},
        {NULL, NULL},
    };
    return run_tests_in("race", cases, tmp);
}
