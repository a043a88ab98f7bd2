/* test_kill.c — SIGKILL at random moments, then resume: nothing is lost, nothing is torn.
 *
 * The promise (docs/reliability.md): a run killed at any moment leaves every *.h5 readable, the
 * checkpoint LATEST names loads into the model the spec builds, and `exprun resume` — killed
 * and resumed again, several times — finishes with final parameters, optimizer state, loop state
 * and metrics (all but the wall-time columns) identical, bit for bit, to a run never killed.
 *
 * How: two small runs of about a second each (a denoising autoencoder on HDF5 data with a test
 * split, and an LSTM on generated text with samples), checkpointing every epoch or every other
 * one, so results.h5, checkpoints, LATEST and KEPT are rewritten tens of times a second. Each
 * trial starts a run and kills it after a random delay (seeded), checks the directory, resumes,
 * kills again, …, and finally lets a resume finish and compares it with the reference run.
 * The first kill of a trial is aimed (see Aim): into the first write of results.h5, before any
 * checkpoint exists; into a checkpoint write; within the first 0.1 s; or anywhere.
 * EXPRUN_TEST_PUBLISH_PAUSE_US (a hook in lib/io/h5doc.c) pauses every HDF5 publish halfway through
 * writing PATH.tmp — 2 ms always, 0.3 s for the aimed kills — so that kills also land while a
 * file is torn where fsync costs nothing (tmpfs). Every 8 kills, the results.h5 files seen right
 * after the kills are opened with h5py in one python call (/usr/bin/python3; skipped if h5py is
 * missing).
 *
 * Environment: EXPRUN_KILL_TRIALS (default 10; each trial is 1 start + EXPRUN_KILL_RESUMES
 * killed resumes, default 3, so up to 40 kills by default), EXPRUN_KILL_SEED (default 1). A longer
 * pass: EXPRUN_KILL_TRIALS=200 ctest -R test_kill (about 5 minutes). */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "build.h"
#include "checkpoint.h"
#include "h5doc.h"
#include "h5read.h"
#include "optim.h"
#include "rng.h"
#include "runcheck.h"
#include "rundata.h"
#include "spec/spec.h"
#include "testutil.h"

static char *tmp;

/* One kind of run: its spec, the never-killed reference, and a model to load checkpoints into. */
typedef struct Flavor {
    const char *name;
    char spec_path[1024];
    char ref_dir[1024];
    double ref_seconds;
    int epochs, keep;
    Spec spec;
    RunData rd;
    Model *model;
    Optimizer opt;
} Flavor;

/* What the kills hit and what was checked: the numbers docs/reliability.md reports. */
typedef struct Counts {
    int kills, kills_of_start, kills_of_resume, exited_before_kill;
    int before_dir, before_run_dir, before_first_checkpoint;
    int torn_results, torn_checkpoint, torn_text;
    int h5_opened, checkpoints_loaded, h5py_checked, h5py_batches;
    int resumes_to_finish, trials_bit_exact, from_scratch_resumes;
    int aimed, aimed_hit;
} Counts;
static Counts counts;

static int env_int(const char *name, int fallback) {
    const char *v = getenv(name);
    return v && *v ? atoi(v) : fallback;
}

/* ---- data and specs ----------------------------------------------------------------------- */

/* About 6 KB of text from a small vocabulary, so a character model has something to learn. */
static void make_text(const char *path) {
    static const char *words[] = {"the", "cat", "sat", "on", "a", "mat", "and", "dog", "ran", "far",
                                  "away", "from", "home", "in", "rain", "sun"};
    Rng r;
    rng_seed(&r, 11);
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 1400; i++)
        fprintf(f, "%s%s", words[rng_below(&r, 16)], rng_below(&r, 9) == 0 ? ".\n" : " ");
    fclose(f);
}

static void load_model(Flavor *fl) {
    CfgDiags diags = {0};
    ExError err;
    int rc = spec_load(fl->spec_path, NULL, 0, &fl->spec, &diags);
    if (rc != 0) cfg_diags_print(&diags, stderr);
    cfg_diags_free(&diags);
    CU_ASSERT_FATAL(rc == 0);
    CU_ASSERT_FATAL(rundata_load(&fl->spec, &fl->rd, &err) == 0);
    char warn[512];
    CU_ASSERT_FATAL(build_model(&fl->spec, &fl->rd, &fl->model, warn, sizeof warn, &err) == 0);
    optim_init(&fl->opt, &fl->spec.optim, fl->model->params.total);
    fl->epochs = fl->spec.train.epochs;
    fl->keep = fl->spec.train.keep_checkpoints;
}

static void free_model(Flavor *fl) {
    optim_free(&fl->opt);
    model_free(fl->model);
    rundata_free(&fl->rd);
    spec_free(&fl->spec);
}

static void make_flavors(Flavor fl[2]) {
    char data[1100], test[1100], text[1100], spec[4096];
    snprintf(data, sizeof data, "%s/train.h5", tmp);
    snprintf(test, sizeof test, "%s/test.h5", tmp);
    snprintf(text, sizeof text, "%s/text.txt", tmp);
    rc_make_table(data, 400, 5);
    rc_make_table(test, 100, 6);
    make_text(text);

    fl[0].name = "autoencoder";
    snprintf(spec, sizeof spec,
             "version: 1\nname: kill_ae\nseed: 7\nthreads: 1\n"
             "data: {source: hdf5, path: %s, dataset: x, test_path: %s}\n"
             "model:\n  type: autoencoder\n  code: 6\n  hidden: [{units: 16, activation: tanh}]\n"
             "  g: sigmoid\n  f: sigmoid\n  noise: {type: masking, rate: 0.2}\n"
             "loss: squared_error\noptimizer: {type: adam, lr: 0.01}\nschedule: {type: cosine}\n"
             "train: {epochs: 30, batch_size: 16, checkpoint_every: 1, keep_checkpoints: 2}\n",
             data, test);
    snprintf(fl[0].spec_path, sizeof fl[0].spec_path, "%s/ae.yaml", tmp);
    rc_write_text(fl[0].spec_path, spec);

    /* Checkpoints every other epoch: a resume recomputes an epoch whose row results.h5 already
     * holds, and must drop and redo it identically. Early stopping ends it before epoch 24 (the
     * reference is checked to), so a killed and resumed run must stop after the same epoch. */
    fl[1].name = "lstm";
    snprintf(spec, sizeof spec,
             "version: 1\nname: kill_lstm\nseed: 3\nthreads: 1\n"
             "data: {source: text, path: %s, seq_len: 16}\n"
             "model: {type: lstm, units: [24], embed_dim: 8}\n"
             "loss: softmax_cross_entropy\noptimizer: {type: adam, lr: 0.01}\n"
             "clip: {type: global_norm, threshold: 1.0}\n"
             "train: {epochs: 24, batch_size: 8, max_steps_per_epoch: 12, checkpoint_every: 2, "
             "keep_checkpoints: 2, early_stopping: {patience: 2, min_delta: 0.02}}\n"
             "sample: {every: 4, length: 16, prime: \"the \"}\n",
             text);
    snprintf(fl[1].spec_path, sizeof fl[1].spec_path, "%s/lstm.yaml", tmp);
    rc_write_text(fl[1].spec_path, spec);
}

/* ---- checks after a kill ------------------------------------------------------------------- */

enum { KILLED_BEFORE_DIR = 0, KILLED_BEFORE_RUN_DIR = 1, KILLED_BEFORE_CHECKPOINT = 2, KILLED_WITH_CHECKPOINT = 3 };

/* Every *.h5 in dir opens; results.h5's table and every checkpoint's header read. Also counts
 * torn *.tmp files, which show where the kill landed. */
static void check_h5_files(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        char path[2400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        char plain[512];
        const char *name = rc_plain_name(e->d_name, plain, sizeof plain);
        if (rc_ends_with(name, ".h5.tmp")) {
            if (strcmp(name, "results.h5.tmp") == 0) counts.torn_results++;
            else counts.torn_checkpoint++;
        } else if (rc_ends_with(name, ".tmp")) {
            counts.torn_text++;
        }
        if (!rc_ends_with(e->d_name, ".h5")) continue;
        H5Reader *r = NULL;
        ExError err = {{0}};
        int rc = h5r_open(&r, path, &err);
        CU_ASSERT(rc == 0);
        if (rc != 0) {
            fprintf(stderr, "\n  after a kill, %s does not open: %s\n", path, err.msg);
            continue;
        }
        counts.h5_opened++;
        if (strcmp(e->d_name, "results.h5") == 0) {
            int ncols = 0;
            char **names = NULL;
            int64_t nrows = 0;
            double *rows = NULL;
            /* no table only if stopped before the first epoch ended */
            if (h5r_exists(r, "/metrics/epochs"))
                CU_ASSERT(h5r_read_table(r, "/metrics/epochs", &ncols, &names, &nrows, &rows, &err) == 0);
            h5r_free_strings(names, (size_t)ncols);
            free(rows);
        }
        h5r_close(r);
        if (strncmp(e->d_name, "epoch-", 6) == 0) {
            CheckpointInfo info;
            CU_ASSERT(checkpoint_info(path, &info, &err) == 0);
        }
    }
    closedir(d);
}

/* After a kill: which stage the run was in, with everything that exists checked. */
static int check_after_kill(Flavor *fl, const char *dir, int n_kill) {
    char path[1300];
    snprintf(path, sizeof path, "%s/resolved.yaml", dir);
    char *resolved = rc_slurp(path);
    if (!rc_exists(dir)) {   /* killed while reading its data, before making the directory */
        counts.before_dir++;
        return KILLED_BEFORE_DIR;
    }
    if (!resolved) {
        /* Killed while the run directory was being made: no results and no checkpoint yet. */
        snprintf(path, sizeof path, "%s/results.h5", dir);
        CU_ASSERT(!rc_exists(path));
        snprintf(path, sizeof path, "%s/checkpoints", dir);
        CU_ASSERT(!rc_exists(path));
        counts.before_run_dir++;
        return KILLED_BEFORE_RUN_DIR;
    }
    check_h5_files(dir);
    snprintf(path, sizeof path, "%s/checkpoints", dir);
    check_h5_files(path);
    snprintf(path, sizeof path, "%s/status", dir);
    char *status = rc_slurp(path);
    CU_ASSERT(status && (strcmp(status, "running\n") == 0 || strcmp(status, "finished\n") == 0));
    free(status);

    /* Keep this moment's results.h5 for the h5py pass. */
    snprintf(path, sizeof path, "%s/results.h5", dir);
    FILE *f = fopen(path, "rb");
    if (f) {
        char copy[1300];
        snprintf(copy, sizeof copy, "%s/h5py/%04d-%s.h5", tmp, n_kill, fl->name);
        FILE *out = fopen(copy, "wb");
        char buf[65536];
        size_t k;
        while ((k = fread(buf, 1, sizeof buf, f)) > 0) fwrite(buf, 1, k, out);
        fclose(out);
        fclose(f);
    }

    snprintf(path, sizeof path, "%s/checkpoints/LATEST", dir);
    char *latest = rc_slurp(path);
    int stage = KILLED_BEFORE_CHECKPOINT;
    if (latest) {
        latest[strcspn(latest, "\n")] = '\0';
        snprintf(path, sizeof path, "%s/checkpoints/%s", dir, latest);
        char *ckpt_spec = NULL;
        ExError err = {{0}};
        int rc = checkpoint_load(path, &fl->model->params, &fl->opt, NULL, &ckpt_spec, &err);
        CU_ASSERT(rc == 0);
        if (rc != 0) fprintf(stderr, "\n  LATEST checkpoint %s does not load: %s\n", path, err.msg);
        else counts.checkpoints_loaded++;
        CU_ASSERT(ckpt_spec && strcmp(ckpt_spec, resolved) == 0);
        free(ckpt_spec);
        stage = KILLED_WITH_CHECKPOINT;
    } else {
        counts.before_first_checkpoint++;
    }
    free(latest);
    free(resolved);
    return stage;
}

/* Open every results.h5 copied after the kills with h5py, in one python call. */
static void h5py_pass(void) {
    char dir[1100], cmd[4096];
    snprintf(dir, sizeof dir, "%s/h5py", tmp);
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) n += rc_ends_with(e->d_name, ".h5");
    if (d) closedir(d);
    if (n == 0) return;
    snprintf(cmd, sizeof cmd,
             "/usr/bin/python3 -c '\n"
             "import glob, sys\n"
             "try:\n    import h5py\nexcept ImportError:\n    sys.exit(3)\n"
             "for p in sorted(glob.glob(sys.argv[1] + \"/*.h5\")):\n"
             "    with h5py.File(p, \"r\") as f:\n"
             "        n = len(f[\"metrics/epochs\"][()]) if \"metrics/epochs\" in f else 0\n"
             "        assert f.attrs[\"status\"] in (\"running\", \"finished\"), p\n"
             "        assert n == f.attrs[\"epochs_done\"], p\n"
             "        f[\"spec\"].asstr()[()]\n"
             "' %s > %s/h5py.log 2>&1",
             dir, tmp);
    int rc = run_command(cmd);
    CU_ASSERT(rc == 0 || rc == 3);
    if (rc == 0) {
        counts.h5py_checked += n;
        counts.h5py_batches++;
    } else if (rc != 3) {
        snprintf(cmd, sizeof cmd, "cat %s/h5py.log >&2", tmp);
        run_command(cmd);
    }
    snprintf(cmd, sizeof cmd, "rm -f %s/*.h5", dir);
    run_command(cmd);
}

/* ---- comparing a finished run with the reference ------------------------------------------- */

/* The finished run against the reference (rc_same_run), finished, with keep_checkpoints
 * checkpoints and no temporary file left. */
static void compare_with_reference(const Flavor *fl, const char *dir) {
    int ok = rc_same_run(fl->ref_dir, dir, 1);
    char path[1300];
    snprintf(path, sizeof path, "%s/status", dir);
    char *status = rc_slurp(path);
    ok = ok && status && strcmp(status, "finished\n") == 0;
    free(status);
    CU_ASSERT(ok);
    /* keep_checkpoints holds after any kills (the newest ones, and the best, which BEST names as
     * the reference's does), and every torn temporary file was replaced. */
    snprintf(path, sizeof path, "%s/checkpoints", dir);
    char *best = rc_slurp_text(rc_in_dir(path, "BEST")), *kept = rc_slurp_text(rc_in_dir(path, "KEPT"));
    char ref_path[1300];
    snprintf(ref_path, sizeof ref_path, "%s/checkpoints", fl->ref_dir);
    char *ref_best = rc_slurp_text(rc_in_dir(ref_path, "BEST"));
    best[strcspn(best, "\n")] = '\0';
    ref_best[strcspn(ref_best, "\n")] = '\0';
    CU_ASSERT(best[0] && strcmp(best, ref_best) == 0);
    int want = fl->keep + (best[0] && !strstr(kept, best));
    int n_ckpt = rc_count_files(path, ".h5"), n_tmp = rc_count_files(path, ".tmp") + rc_count_files(dir, ".tmp");
    CU_ASSERT(n_ckpt == want);
    CU_ASSERT(n_tmp == 0);
    if (n_ckpt != want || n_tmp != 0)
        fprintf(stderr, "\n  %s: %d checkpoints (keep %d, and the best %s), %d temporary files left\n", dir, n_ckpt,
                fl->keep, best, n_tmp);
    free(best);
    free(kept);
    free(ref_best);
    if (ok) counts.trials_bit_exact++;
}

/* ---- the trials -------------------------------------------------------------------------- */

/* Epochs done according to LATEST (0 without one): to aim the next kill inside what is left. */
static int epochs_done(const char *dir) {
    char *path = rc_latest_checkpoint(dir);
    CheckpointInfo info;
    ExError err;
    int done = path && checkpoint_info(path, &info, &err) == 0 ? (int)info.epoch : 0;
    free(path);
    return done;
}

static void run_reference(Flavor *fl) {
    snprintf(fl->ref_dir, sizeof fl->ref_dir, "%s/ref-%s", tmp, fl->name);
    char log[1100];
    snprintf(log, sizeof log, "%s/ref-%s.log", tmp, fl->name);
    const char *args[] = {fl->spec_path, "--out", fl->ref_dir, "--quiet", NULL};
    double t0 = rc_now();
    CU_ASSERT_EQUAL_FATAL(rc_run(args, log), 0);
    fl->ref_seconds = rc_now() - t0;
    if (strcmp(fl->name, "lstm") == 0) {   /* its early stop must happen, or it tests nothing */
        int done = epochs_done(fl->ref_dir);
        CU_ASSERT(done > 2 && done < fl->epochs);
        if (!(done > 2 && done < fl->epochs))
            fprintf(stderr, "\n  the reference %s ran %d of %d epochs: early stopping did not end it\n", fl->ref_dir,
                    done, fl->epochs);
    }
}

/* Where the first kill of a trial goes: in the first write of results.h5 (before any
 * checkpoint exists, so the resume starts over), in a checkpoint write after the first one,
 * within the first 0.1 s (reading data, making the run directory, the first epochs), or
 * anywhere. The aimed ones pause each HDF5 publish for 0.3 s halfway through its .tmp file. */
typedef enum Aim { AIM_FIRST_RESULTS = 0, AIM_CHECKPOINT = 1, AIM_EARLY = 2, AIM_RANDOM = 3 } Aim;

/* One trial: start, kill; resume, kill; … ; resume to the end; compare. */
static void trial(Flavor *fl, int index, int resumes, Rng *rng) {
    char dir[1100], log[1100];
    snprintf(dir, sizeof dir, "%s/trial-%03d-%s", tmp, index, fl->name);
    snprintf(log, sizeof log, "%s/trial-%03d.log", tmp, index);
    for (int k = 0; k <= resumes; k++) {
        int starting = !rc_exists(dir);
        const char *start_args[] = {fl->spec_path, "--out", dir, "--quiet", NULL};
        const char *resume_args[] = {"resume", dir, "--quiet", NULL};
        /* The first kill of a trial is aimed (see Aim); the others fall anywhere in what is
         * left of the run. */
        Aim aim = k == 0 ? (Aim)(index % 4) : AIM_RANDOM;
        double left = fl->ref_seconds * (1.0 - (double)epochs_done(dir) / fl->epochs);
        double delay = aim == AIM_EARLY ? 0.1 * rng_uniform_double(rng) : (0.9 * left + 0.01) * rng_uniform_double(rng);
        if (aim == AIM_FIRST_RESULTS || aim == AIM_CHECKPOINT) setenv("EXPRUN_TEST_PUBLISH_PAUSE_US", "300000", 1);
        pid_t pid = rc_spawn(starting ? start_args : resume_args, log);
        setenv("EXPRUN_TEST_PUBLISH_PAUSE_US", "2000", 1);
        if (aim == AIM_FIRST_RESULTS) counts.aimed_hit += rc_wait_for_file(pid, dir, NULL, "results.h5.tmp");
        else if (aim == AIM_CHECKPOINT) counts.aimed_hit += rc_wait_for_file(pid, dir, "LATEST", ".h5.tmp");
        else rc_sleep(delay);
        if (aim == AIM_FIRST_RESULTS || aim == AIM_CHECKPOINT) counts.aimed++;
        kill(pid, SIGKILL);
        int st = rc_wait(pid);
        if (st != 128 + SIGKILL) {
            /* It finished (or stopped) before the kill: it must have succeeded. */
            CU_ASSERT_EQUAL(st, 0);
            counts.exited_before_kill++;
            continue;
        }
        counts.kills++;
        if (starting) counts.kills_of_start++;
        else counts.kills_of_resume++;
        int stage = check_after_kill(fl, dir, counts.kills);
        if (counts.kills % 8 == 0) h5py_pass();
        if (stage == KILLED_BEFORE_DIR) {
            continue;
        } else if (stage == KILLED_BEFORE_RUN_DIR) {
            /* Nothing to resume: exprun says so, and the run is started again. */
            const char *args[] = {"resume", dir, NULL};
            char err_log[1100];
            snprintf(err_log, sizeof err_log, "%s/nothing.log", tmp);
            unlink(err_log);
            CU_ASSERT_EQUAL(rc_run(args, err_log), 2);
            char *msg = rc_slurp(err_log);
            CU_ASSERT(msg && strstr(msg, "nothing to resume") && strstr(msg, dir));
            free(msg);
            char cmd[1200];
            snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
            run_command(cmd);
        } else if (stage == KILLED_BEFORE_CHECKPOINT) {
            counts.from_scratch_resumes++;
        }
    }
    /* The last resume runs to the end. */
    const char *start_args[] = {fl->spec_path, "--out", dir, "--quiet", NULL};
    const char *resume_args[] = {"resume", dir, "--quiet", NULL};
    int st = rc_run(rc_exists(dir) ? resume_args : start_args, log);
    CU_ASSERT_EQUAL(st, 0);
    if (st != 0) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "tail -5 %s >&2", log);
        run_command(cmd);
        return;
    }
    counts.resumes_to_finish++;
    compare_with_reference(fl, dir);
}

static void test_kill_and_resume(void) {
    int trials = env_int("EXPRUN_KILL_TRIALS", 10);
    int resumes = env_int("EXPRUN_KILL_RESUMES", 3);
    Rng rng;
    rng_seed(&rng, (uint64_t)env_int("EXPRUN_KILL_SEED", 1));
    setenv("EXPRUN_TEST_PUBLISH_PAUSE_US", "2000", 1);
    unsetenv("EXPRUN_STOP_AFTER_STEPS");
    char h5py_dir[1100];
    snprintf(h5py_dir, sizeof h5py_dir, "%s/h5py", tmp);
    mkdir(h5py_dir, 0777);

    Flavor fl[2];
    memset(fl, 0, sizeof fl);
    make_flavors(fl);
    for (int f = 0; f < 2; f++) {
        load_model(&fl[f]);
        run_reference(&fl[f]);
    }
    double t0 = rc_now();
    for (int i = 0; i < trials; i++) {
        trial(&fl[i % 2], i, resumes, &rng);
        if (i % 2 == 1) {   /* trial directories are large in number, not in size: keep few */
            char cmd[1200];
            snprintf(cmd, sizeof cmd, "rm -rf %s/trial-%03d-* %s/trial-%03d-*", tmp, i - 1, tmp, i);
            if (CU_get_number_of_failures() == 0) run_command(cmd);
        }
    }
    h5py_pass();
    printf("\n  %d trials in %.1f s (reference runs %.2f s, %.2f s): %d SIGKILLs (%d of a start, %d of a "
           "resume; %d more runs finished before their kill)\n"
           "  kills landed: %d before the run directory existed, %d before it was complete, %d before the first checkpoint, "
           "%d with results.h5.tmp, %d with a checkpoint .h5.tmp, %d with a text .tmp left\n"
           "  checked: %d *.h5 opened, %d LATEST checkpoints loaded, %d results.h5 opened in h5py "
           "(%d python calls), %d runs resumed from scratch\n"
           "  aimed kills: %d of %d landed in the .tmp file they aimed at\n"
           "  %d/%d trials finished bit-identical to the run never killed\n",
           trials, rc_now() - t0, fl[0].ref_seconds, fl[1].ref_seconds, counts.kills, counts.kills_of_start,
           counts.kills_of_resume, counts.exited_before_kill, counts.before_dir, counts.before_run_dir, counts.before_first_checkpoint,
           counts.torn_results, counts.torn_checkpoint, counts.torn_text, counts.h5_opened, counts.checkpoints_loaded,
           counts.h5py_checked, counts.h5py_batches, counts.from_scratch_resumes, counts.aimed_hit, counts.aimed, counts.trials_bit_exact, trials);
    CU_ASSERT_EQUAL(counts.trials_bit_exact, trials);
    CU_ASSERT_EQUAL(counts.aimed_hit, counts.aimed);
    for (int f = 0; f < 2; f++) free_model(&fl[f]);
}

int main(void) {
    tmp = make_temp_dir("kill");
    if (!tmp) return 1;
    TestCase cases[] = {{"SIGKILL at random moments, resume: nothing lost, bit for bit", test_kill_and_resume},
                        {NULL, NULL}};
    int rc = run_tests_in("kill", cases, tmp);
    return rc;
}
