/* test_slurm.c — a sweep as a real Slurm job array, on a real single-node Slurm.
 *
 * tests/slurm/cluster.sh starts munged, slurmctld and slurmd on localhost from files in this
 * test's folder (a munge key, a generated slurm.conf, ports of its own); nothing is mocked. Then:
 * `exprun sweep SPEC --slurm --submit` submits a 4-trial sweep; when trial 3 has written its
 * first checkpoint, its task gets SIGUSR1 as Slurm sends it before a time limit
 * (`scancel --signal=USR1 --batch`); the script passes it to exprun, which checkpoints and exits
 * 138, and the task requeues itself. The test lifts Slurm's two-minute hold on requeued jobs
 * (`scontrol update StartTime=now`), waits (bounded) for the array to end, and checks every
 * trial finished, `exprun summarize` shows the four, and trial 3 resumed from its checkpoint to
 * the same bits as the same trial run whole. Every daemon is stopped at the end. If the cluster
 * cannot start, the test says why and fails. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runcheck.h"
#include "testutil.h"

static char *tmp;
static char cluster[1024];
static int cluster_up;
static char up_log[1100];

/* Run a shell command; its output (stdout and stderr, at most cap − 1 bytes) into out. Returns
 * its exit status. */
static int capture(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int capture(char *out, size_t cap, const char *fmt, ...) {
    char cmd[8192];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    strncat(cmd, " 2>&1", sizeof cmd - strlen(cmd) - 1);
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = 0, got;
    while (n + 1 < cap && (got = fread(out + n, 1, cap - n - 1, p)) > 0) n += got;
    out[n] = '\0';
    char sink[4096];
    while (fread(sink, 1, sizeof sink, p) > 0) {}
    int status = pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* Poll (every 50 ms, up to `seconds`) until `cmd`'s output holds `want` (or, want NULL, is
 * empty). 1 if it did. */
static int wait_for_output(double seconds, const char *want, const char *cmd) {
    char out[8192];
    double end = rc_now() + seconds;
    while (rc_now() < end) {
        capture(out, sizeof out, "%s", cmd);
        if (want ? strstr(out, want) != NULL : out[strspn(out, " \n")] == '\0') return 1;
        rc_sleep(0.05);
    }
    printf("\n  waited %.0f s for %s: %s\n", seconds, cmd, out);
    return 0;
}

static void test_sweep_as_a_job_array(void) {
    if (!cluster_up) {
        char *why = rc_slurp(up_log);
        printf("\n  the Slurm cluster did not start (tests/slurm/cluster.sh up):\n%s\n", why ? why : "(no output)");
        free(why);
        CU_FAIL_FATAL("no Slurm cluster");
    }
    char spec[1100], sd[1100], out[8192];
    snprintf(spec, sizeof spec, "%s/array.yaml", tmp);
    snprintf(sd, sizeof sd, "%s/sweep", tmp);
    rc_write_text(spec, "version: 1\nname: array\n"
                        "data: {source: adding, length: 30, train_size: 12000, test_size: 50}\n"
                        "model: {type: lstm, units: [24], input: features, head: last_step}\n"
                        "loss: squared_error\ntrain: {epochs: 10, batch_size: 32}\n"
                        "sweep:\n  grid: {optimizer.lr: [1.0e-2, 3.0e-3], model.units: [[16], [24]]}\n");
    char exe[4096];
    CU_ASSERT_FATAL(realpath(exprun_bin(), exe) != NULL);
    int rc = capture(out, sizeof out, "%s sweep %s --slurm --submit --cpus 1 --time 30 --sweep-dir %s", exe, spec, sd);
    CU_ASSERT_EQUAL_FATAL(rc, 0);
    const char *at = strstr(out, "submitted job ");
    CU_ASSERT_FATAL(at != NULL);
    long job = atol(at + strlen("submitted job "));
    CU_ASSERT_FATAL(job > 0);
    char *script = rc_slurp(rc_in_dir(sd, "sweep.sbatch"));
    CU_ASSERT(script && strstr(script, "#SBATCH --array=0-3\n") && strstr(script, "#SBATCH --signal=B:USR1@120\n") &&
              strstr(script, "#SBATCH --requeue\n") && strstr(script, "--index \"$SLURM_ARRAY_TASK_ID\""));
    free(script);

    /* trial 3's task: USR1 once it has a checkpoint, as before a time limit */
    char t3[1200], cmd[2048];
    snprintf(t3, sizeof t3, "%s/trial-003", sd);
    double end = rc_now() + 300;   /* the sanitizer build trains many times slower */
    while (rc_now() < end && rc_count_files(rc_in_dir(t3, "checkpoints"), ".h5") == 0) rc_sleep(0.01);
    CU_ASSERT_FATAL(rc_count_files(rc_in_dir(t3, "checkpoints"), ".h5") > 0);
    CU_ASSERT_EQUAL(capture(out, sizeof out, "scancel --signal=USR1 --batch %ld_3", job), 0);
    /* it checkpoints, exits 138 and requeues itself. Slurm holds a requeued job about two
     * minutes (EligibleTime), and slurmd refuses to launch a job it has just killed ("already
     * killed, do not launch batch job"): lift the hold a few seconds on, and should the launch
     * still be refused (the task ends, the trial unfinished), requeue it as an operator would */
    snprintf(cmd, sizeof cmd, "scontrol show job %ld_3", job);
    CU_ASSERT(wait_for_output(120, "Reason=BeginTime", cmd));
    rc_sleep(5);
    end = rc_now() + 300;
    double next_update = 0;
    int requeued_again = 0;
    char *status = NULL;
    for (; rc_now() < end; rc_sleep(0.05)) {
        free(status);
        status = rc_slurp(rc_in_dir(t3, "status"));
        if (status && strcmp(status, "finished\n") == 0) break;
        if (rc_now() < next_update) continue;
        next_update = rc_now() + 2;
        capture(out, sizeof out, "scontrol show job %ld_3", job);
        if (strstr(out, "JobState=PENDING")) {
            capture(out, sizeof out, "scontrol update JobId=%ld_3 StartTime=now", job);
        } else if (!strstr(out, "JobState=RUNNING") && requeued_again < 3) {
            requeued_again++;
            capture(out, sizeof out, "scontrol requeue %ld_3", job);
            next_update = rc_now() + 5;
        }
    }
    CU_ASSERT(status && strcmp(status, "finished\n") == 0);
    free(status);
    snprintf(cmd, sizeof cmd, "squeue -h -j %ld", job);
    CU_ASSERT(wait_for_output(60, NULL, cmd));

    int finished = 0;
    for (int t = 0; t < 4; t++) {
        char dir[1200];
        snprintf(dir, sizeof dir, "%s/trial-%03d", sd, t);
        char *status = rc_slurp(rc_in_dir(dir, "status"));
        finished += status && strcmp(status, "finished\n") == 0;
        free(status);
    }
    CU_ASSERT_EQUAL(finished, 4);
    rc = capture(out, sizeof out, "%s summarize %s", exe, sd);
    int rows = 0;
    for (const char *p = out; (p = strstr(p, " finished ")); p++) rows++;
    CU_ASSERT(rc == 0 && rows == 4);
    if (rows != 4) printf("\n  summarize:\n%s\n", out);
    char log[1200];
    snprintf(log, sizeof log, "%s/trial-003.log", sd);
    CU_ASSERT(rc_log_has(log, "checkpointed on SIGUSR1: requeueing task", "resuming "));
    /* the requeued trial = the same trial run whole here (threads=1, as --cpus 1 gave it) */
    char ref[1200];
    snprintf(ref, sizeof ref, "%s/ref", tmp);
    const char *args[] = {"sweep", spec, "threads=1", "--index", "3", "--out", ref, "--quiet", NULL};
    CU_ASSERT_EQUAL(rc_run_logged(args, rc_in_dir(tmp, "ref.log")), 0);
    CU_ASSERT(rc_same_run(ref, t3, 1));
    printf("(job %ld: %d of 4 trials finished, trial 3 requeued after USR1 and resumed, same bits; the launch "
           "refused and requeued again %d time%s) ", job, finished, requeued_again, requeued_again == 1 ? "" : "s");
}

int main(void) {
    tmp = make_temp_dir("slurm");
    /* the cluster's files outside tmp: run_tests_in removes tmp before the daemons are stopped */
    char *cluster_dir = make_temp_dir("slurm-cluster");
    snprintf(cluster, sizeof cluster, "%s", cluster_dir);
    free(cluster_dir);
    snprintf(up_log, sizeof up_log, "%s/up.log", cluster);
    char cmd[4096], conf[1100];
    snprintf(cmd, sizeof cmd, "bash %s/tests/slurm/cluster.sh up %s > %s 2>&1", source_dir(), cluster, up_log);
    cluster_up = run_command(cmd) == 0;
    snprintf(conf, sizeof conf, "%s/slurm.conf", cluster);
    setenv("SLURM_CONF", conf, 1);
    TestCase cases[] = {
        {"a sweep as a Slurm job array: USR1, requeue, resume, the same bits", test_sweep_as_a_job_array},
        {NULL, NULL},
    };
    int rc = run_tests_in("slurm", cases, tmp);   /* frees tmp (and removes it when all passed) */
    snprintf(cmd, sizeof cmd, "bash %s/tests/slurm/cluster.sh down %s > /dev/null 2>&1 && rm -rf %s", source_dir(),
             cluster, cluster);
    if (run_command(cmd) != 0) fprintf(stderr, "test_slurm: could not stop the cluster of %s\n", cluster);
    return rc;
}
