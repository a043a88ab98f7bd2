/* test_mpi.c — data-parallel training over MPI, for real: `mpirun -np 2 exprun` on this machine
 * with Debian's Open MPI (nothing mocked), against one process with the same global batch.
 *
 *   equal      2 ranks end with the parameters of 1 process within PARAM_TOLERANCE, for an
 *              autoencoder, a char LSTM (text, truncated BPTT: tracks sharded) and a seq2seq model
 *              (rows of different lengths: shares weighted by real target tokens)
 *   reruns     2 ranks twice: the same bits
 *   resume     stopped by SIGTERM to the job and resumed with 2 ranks: the same bits as never
 *              stopped; resumed with 1 process: refused, with the command that works
 *   kill       one rank SIGKILLed: the job ends non-zero within KILL_LIMIT seconds, LATEST names a
 *              complete checkpoint, and the resume ends with the same bits as never stopped
 * Why the tolerance: N ranks add the same per-row gradients in another order (each rank's mean
 * over its rows, weighted by its share, then the sum over ranks) — a relative rounding difference
 * of about 1e-7 per gradient entry per step, which Adam's normalised step (at most lr per entry)
 * keeps of the order of lr × 1e-4 per step. Measured: ≤ 1.1e-6 after 16 steps; the bound is 1e-5. */
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "h5read.h"
#include "rng.h"
#include "runcheck.h"
#include "testutil.h"

#define PARAM_TOLERANCE 1e-5
#define KILL_LIMIT 60.0
/* Epochs of the runs stopped from outside: the first checkpoint comes after one, so the job is
 * still running (about a second more in the fastest build) when the signal is sent. */
#define LONG_EPOCHS 60

static char *tmp;

/* The launcher for this machine: two ranks on two cores (no binding: a rank per core would
 * still fit, but CI machines may have fewer). In the ASan build the ranks check memory errors
 * but not leaks: Open MPI's plugins leave blocks behind in modules it has unloaded by exit,
 * which no suppression can name (the one-process runs here keep leak checking). */
static const char *MPIRUN = "mpirun --oversubscribe --bind-to none";
static const char *RANK_ENV = "ASAN_OPTIONS=detect_leaks=0:abort_on_error=1";

static int run_ranks(int ranks, const char *args, const char *env, const char *log) {
    char cmd[8192];
    if (ranks > 0)
        snprintf(cmd, sizeof cmd, "%s %s %s -np %d %s %s > %s 2>&1", env ? env : "", RANK_ENV, MPIRUN, ranks, exprun_bin(),
                 args, log);
    else
        snprintf(cmd, sizeof cmd, "%s %s %s > %s 2>&1", env ? env : "", exprun_bin(), args, log);
    return run_command(cmd);
}

/* max |a − b| over every /model dataset of the two runs' LATEST checkpoints (−1: unreadable). */
static double max_param_diff(const char *dir_a, const char *dir_b) {
    char *pa = rc_latest_checkpoint(dir_a), *pb = rc_latest_checkpoint(dir_b);
    H5Reader *a = NULL, *b = NULL;
    ExError err;
    double worst = -1;
    if (pa && pb && h5r_open(&a, pa, &err) == 0 && h5r_open(&b, pb, &err) == 0) {
        size_t n = 0;
        char **paths = NULL;
        if (h5r_list_datasets(a, "/model", &n, &paths, &err) == 0) {
            worst = n > 0 ? 0 : -1;
            for (size_t k = 0; k < n && worst >= 0; k++) {
                int rank = 0;
                int64_t dims[8];
                if (h5r_shape(a, paths[k], &rank, dims, &err) != 0) { worst = -1; break; }
                int shape[8];
                size_t count = 1;
                for (int d = 0; d < rank; d++) shape[d] = (int)dims[d], count *= (size_t)dims[d];
                float *x = malloc(count * sizeof *x), *y = malloc(count * sizeof *y);
                if (h5r_read_floats(a, paths[k], rank, shape, x, &err) != 0 ||
                    h5r_read_floats(b, paths[k], rank, shape, y, &err) != 0)
                    worst = -1;
                for (size_t i = 0; i < count && worst >= 0; i++) worst = fmax(worst, fabs((double)x[i] - y[i]));
                free(x), free(y);
            }
            h5r_free_strings(paths, n);
        }
    }
    if (a) h5r_close(a);
    if (b) h5r_close(b);
    free(pa), free(pb);
    return worst;
}

static void write_ae_spec(char *spec) {
    char data[1024], text[2048];
    rc_write_small_ae(tmp, "ae", spec, data);
    /* no input noise: each rank draws its own rows' noise, so only a noiseless run can equal one process */
    snprintf(text, sizeof text,
             "version: 1\nname: ae\nseed: 7\nthreads: 1\n"
             "data: {source: hdf5, path: %s, dataset: x}\n"
             "model:\n  type: autoencoder\n  code: 6\n  hidden: [{units: 16, activation: tanh}]\n"
             "loss: squared_error\noptimizer: {type: adam, lr: 0.01}\n"
             "train: {epochs: 3, batch_size: 15}\noutput: {root: %s/results}\n",
             data, tmp);
    rc_write_text(spec, text);
}

static void write_text_spec(char *spec, int epochs) {
    char data[1024], text[2048];
    snprintf(data, sizeof data, "%s/text.txt", tmp);
    FILE *f = fopen(data, "w");
    CU_ASSERT_FATAL(f != NULL);
    Rng rng;
    rng_seed(&rng, 3);
    static const char *words[] = {"the ", "cat ", "sat ", "on ", "a ", "mat. ", "dog ", "ran\n"};
    for (int i = 0; i < 6000; i++) fputs(words[rng_below(&rng, 8)], f);
    fclose(f);
    snprintf(spec, 1024, "%s/text.yaml", tmp);
    snprintf(text, sizeof text,
             "version: 1\nname: text\nseed: 5\nthreads: 1\n"
             "data: {source: text, path: %s, seq_len: 16, bptt: truncated, validation_fraction: 0.1}\n"
             "model: {type: lstm, units: [32, 32], input: embedding, embed_dim: 16, head: per_step}\n"
             "loss: softmax_cross_entropy\noptimizer: {type: adam, lr: 0.002}\n"
             "clip: {type: global_norm, threshold: 5.0}\n"
             "train: {epochs: %d, batch_size: 10, max_steps_per_epoch: 8}\noutput: {root: %s/results}\n",
             data, epochs, tmp);
    rc_write_text(spec, text);
}

/* Reversal of strings of 2..9 letters: rows of different lengths, so the shares are weighted by
 * their real target tokens, not their rows (padding counts for nothing). */
static void write_seq2seq_spec(char *spec) {
    char text[2048];
    snprintf(spec, 1024, "%s/seq2seq.yaml", tmp);
    snprintf(text, sizeof text,
             "version: 1\nname: s2s\nseed: 4\nthreads: 1\n"
             "data: {source: reverse, alphabet: 6, min_length: 2, max_length: 9, train_size: 300, test_size: 20}\n"
             "model: {type: seq2seq, cell: lstm, units: [16], embed_dim: 8}\nloss: softmax_cross_entropy\n"
             "optimizer: {type: adam, lr: 0.005}\ntrain: {epochs: 1, batch_size: 15, max_steps_per_epoch: 12}\n"
             "output: {root: %s/results}\n",
             tmp);
    rc_write_text(spec, text);
}

static void check_equal(const char *spec, const char *what) {
    char one[1200], two[1200], args[3000], log[1200];
    snprintf(one, sizeof one, "%s/%s-1", tmp, what);
    snprintf(two, sizeof two, "%s/%s-2", tmp, what);
    snprintf(log, sizeof log, "%s/%s.log", tmp, what);
    snprintf(args, sizeof args, "%s --quiet --out %s", spec, one);
    CU_ASSERT_FATAL(run_ranks(0, args, NULL, log) == 0);
    snprintf(args, sizeof args, "%s --out %s", spec, two);
    int rc = run_ranks(2, args, NULL, log);
    if (rc != 0) fprintf(stderr, "\n    mpirun: %s", rc_slurp(log));
    CU_ASSERT_FATAL(rc == 0);
    CU_ASSERT(rc_log_has(log, "data-parallel over 2 ranks", NULL));
    double diff = max_param_diff(one, two);
    fprintf(stderr, "\n    %s: 1 process vs 2 ranks, max |parameter difference| %.3g (bound %g) ", what, diff,
            PARAM_TOLERANCE);
    CU_ASSERT(diff >= 0 && diff <= PARAM_TOLERANCE);
    CU_ASSERT(diff > 0);   /* 2 ranks really ran: the additions' order differs */
    /* rank 0 alone wrote the run: one status, one results.h5 that says 2 ranks */
    H5Reader *r = NULL;
    ExError err;
    int64_t ranks = 0;
    CU_ASSERT_FATAL(h5r_open(&r, rc_in_dir(two, "results.h5"), &err) == 0);
    CU_ASSERT(h5r_attr_int(r, "/", "ranks", &ranks, &err) == 0 && ranks == 2);
    h5r_close(r);
    char *status = rc_slurp(rc_in_dir(two, "status"));
    CU_ASSERT(status && strcmp(status, "finished\n") == 0);
    free(status);
}

static void test_version(void) {
    char cmd[2048], log[1200];
    snprintf(log, sizeof log, "%s/version.log", tmp);
    snprintf(cmd, sizeof cmd, "%s --version > %s 2>&1", exprun_bin(), log);
    CU_ASSERT(run_command(cmd) == 0);
    CU_ASSERT(rc_log_has(log, "mpi: Open MPI", NULL));
}

static void test_autoencoder_equal(void) {
    char spec[1024];
    write_ae_spec(spec);
    check_equal(spec, "ae");
}

static void test_lstm_equal(void) {
    char spec[1024];
    write_text_spec(spec, 2);
    check_equal(spec, "lstm");
}

static void test_seq2seq_equal(void) {
    char spec[1024];
    write_seq2seq_spec(spec);
    check_equal(spec, "seq2seq");
}

static void test_reruns_same_bits(void) {
    char spec[1024], a[1200], b[1200], args[3000], log[1200];
    write_text_spec(spec, 2);
    snprintf(a, sizeof a, "%s/rerun-a", tmp);
    snprintf(b, sizeof b, "%s/rerun-b", tmp);
    snprintf(log, sizeof log, "%s/rerun.log", tmp);
    snprintf(args, sizeof args, "%s --quiet --out %s", spec, a);
    CU_ASSERT_FATAL(run_ranks(2, args, NULL, log) == 0);
    snprintf(args, sizeof args, "%s --quiet --out %s", spec, b);
    CU_ASSERT_FATAL(run_ranks(2, args, NULL, log) == 0);
    CU_ASSERT(rc_same_run(a, b, 1));
}

/* What a stopped run must end as: the spec with 2 ranks, never stopped, in tmp/name. */
static const char *reference_run(const char *spec, const char *name) {
    static char ref[1200];
    char args[3000], log[1200];
    snprintf(ref, sizeof ref, "%s/%s", tmp, name);
    snprintf(log, sizeof log, "%s/%s.log", tmp, name);
    if (rc_exists(rc_in_dir(ref, "status"))) return ref;   /* made by an earlier case */
    snprintf(args, sizeof args, "%s --quiet --out %s", spec, ref);
    CU_ASSERT(run_ranks(2, args, NULL, log) == 0);
    return ref;
}

static void test_resume(void) {
    char spec[1024], dir[1200], args[3000], log[1200];
    write_text_spec(spec, 2);
    const char *ref = reference_run(spec, "reference-2");
    snprintf(dir, sizeof dir, "%s/stopped", tmp);
    snprintf(log, sizeof log, "%s/stopped.log", tmp);
    snprintf(args, sizeof args, "%s --quiet --out %s", spec, dir);
    /* a SIGTERM after step 5 (mid-epoch 1), as a job's stop would send it */
    int rc = run_ranks(2, args, "EXPRUN_STOP_AFTER_STEPS=5", log);
    CU_ASSERT(rc != 0);
    CU_ASSERT(rc_log_has(log, "stopped by signal 15 after step 5", NULL));
    snprintf(args, sizeof args, "resume %s --quiet", dir);
    CU_ASSERT(run_ranks(0, args, NULL, log) == 3);
    CU_ASSERT(rc_log_has(log, "written by a run of 2 ranks", "mpirun -np 2 exprun resume"));
    CU_ASSERT(run_ranks(2, args, NULL, log) == 0);
    CU_ASSERT(rc_same_run(ref, dir, 1));
}

/* The pid of rank `rank` among the children of launcher (its environment names its rank). */
static pid_t find_rank(pid_t launcher, int rank) {
    char want[64];
    snprintf(want, sizeof want, "OMPI_COMM_WORLD_RANK=%d", rank);
    DIR *d = opendir("/proc");
    pid_t found = 0;
    struct dirent *e;
    while (d && !found && (e = readdir(d))) {
        char path[300], buf[8192];
        int pid = atoi(e->d_name), ppid = 0;
        if (pid <= 0) continue;
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        int ok = fscanf(f, "%*d (%*[^)]) %*c %d", &ppid) == 1;
        fclose(f);
        if (!ok || ppid != launcher) continue;
        snprintf(path, sizeof path, "/proc/%d/environ", pid);
        f = fopen(path, "r");
        if (!f) continue;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        for (size_t at = 0; at < n && !found; at += strlen(buf + at) + 1) {
            buf[n] = '\0';
            if (strcmp(buf + at, want) == 0) found = pid;
        }
    }
    if (d) closedir(d);
    return found;
}

/* mpirun -np 2 on spec into tmp/name, in the background: its pid, once epoch 1's checkpoint
 * exists (the job still running). */
static pid_t start_long_job(const char *name, const char *spec, char *dir, char *log) {
    char cmd[4000];
    snprintf(dir, 1200, "%s/%s", tmp, name);
    snprintf(log, 1200, "%s/%s.log", tmp, name);
    snprintf(cmd, sizeof cmd, "export %s; exec %s -np 2 %s %s --quiet --out %s > %s 2>&1", RANK_ENV, MPIRUN, exprun_bin(),
             spec, dir, log);
    fflush(stdout), fflush(stderr);
    pid_t launcher = fork();
    if (launcher == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    CU_ASSERT(rc_wait_for_file(launcher, dir, NULL, "-step-00000008.h5") == 1);
    return launcher;
}

/* SIGTERM to the job's processes, as Slurm's scancel or a time limit sends it to every task (mpirun
 * forwards its own SIGTERM too, but only after about 2 s here): the ranks stop after the same step,
 * rank 0 writes the checkpoint, and the resume ends with the same bits as never stopped. */
static void test_sigterm_to_job(void) {
    char spec[1024], dir[1200], log[1200], args[3000];
    write_text_spec(spec, LONG_EPOCHS);
    const char *ref = reference_run(spec, "reference-long");
    pid_t launcher = start_long_job("terminated", spec, dir, log);
    pid_t rank0 = find_rank(launcher, 0), rank1 = find_rank(launcher, 1);
    CU_ASSERT_FATAL(rank0 > 0 && rank1 > 0);
    CU_ASSERT(kill(rank1, SIGTERM) == 0 && kill(rank0, SIGTERM) == 0);
    int status = 0;
    waitpid(launcher, &status, 0);
    char *said = rc_slurp(rc_in_dir(dir, "status"));
    CU_ASSERT(said && strcmp(said, "interrupted\n") == 0);
    CU_ASSERT(rc_log_has(log, "stopped by signal 15", "continue with: mpirun -np 2 exprun resume"));
    free(said);
    snprintf(args, sizeof args, "resume %s --quiet", dir);
    CU_ASSERT(run_ranks(2, args, NULL, log) == 0);
    CU_ASSERT(rc_same_run(ref, dir, 1));
}

static void test_kill_one_rank(void) {
    char spec[1024], dir[1200], log[1200], args[3000];
    write_text_spec(spec, LONG_EPOCHS);
    const char *ref = reference_run(spec, "reference-long");
    /* once epoch 1's checkpoint exists, SIGKILL rank 1 while the job goes on */
    pid_t launcher = start_long_job("killed", spec, dir, log);
    pid_t victim = find_rank(launcher, 1);
    CU_ASSERT_FATAL(victim > 0);
    double t0 = rc_now();
    CU_ASSERT(kill(victim, SIGKILL) == 0);
    int status = 0;
    while (waitpid(launcher, &status, WNOHANG) == 0 && rc_now() - t0 < KILL_LIMIT) rc_sleep(0.05);
    double took = rc_now() - t0;
    int ended = took < KILL_LIMIT;
    if (!ended) kill(launcher, SIGKILL), waitpid(launcher, &status, 0);
    fprintf(stderr, "\n    rank 1 SIGKILLed: the job ended %s after %.2f s ", ended ? "(non-zero)" : "NOT", took);
    CU_ASSERT(ended);
    CU_ASSERT(!(WIFEXITED(status) && WEXITSTATUS(status) == 0));
    char *said = rc_slurp(rc_in_dir(dir, "status"));
    CU_ASSERT(said && strcmp(said, "running\n") == 0);   /* killed mid-run: nobody wrote an end */
    free(said);
    /* LATEST names a complete checkpoint: the resume finishes the run as if never stopped */
    snprintf(args, sizeof args, "resume %s --quiet", dir);
    CU_ASSERT(run_ranks(2, args, NULL, log) == 0);
    CU_ASSERT(rc_same_run(ref, dir, 1));
}

int main(void) {
    /* CI runs as root, which Open MPI refuses unless told */
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    tmp = make_temp_dir("mpi");
    static const TestCase cases[] = {
        {"exprun --version names the MPI library", test_version},
        {"autoencoder: 2 ranks = 1 process (within the bound)", test_autoencoder_equal},
        {"char LSTM, truncated BPTT: 2 ranks = 1 process (within the bound)", test_lstm_equal},
        {"seq2seq, rows of different lengths: 2 ranks = 1 process (within the bound)", test_seq2seq_equal},
        {"2 ranks twice: the same bits", test_reruns_same_bits},
        {"stopped and resumed with 2 ranks: the same bits; 1 process refused", test_resume},
        {"SIGTERM to the job: stops, resumes to the same bits", test_sigterm_to_job},
        {"one rank SIGKILLed: the job ends, the resume gives the same bits", test_kill_one_rank},
        {NULL, NULL},
    };
    return run_tests_in("mpi", cases, tmp);
}
