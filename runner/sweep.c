/* sweep.c — the `exprun sweep` command: its options, and the modes that run one trial here
 * (--index), all of them here (--jobs: sweep_jobs.c) or as a Slurm job array (--slurm: slurm.c).
 * The plan — the trials, every one validated before any runs, so that a typo in the 17th value
 * fails at once rather than hours later — is sweep_plan.c's; the expansion lib/spec/sweep.c's. */
#include "sweep.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rundir.h"
#include "slurm.h"
#include "sweep_jobs.h"
#include "sweep_plan.h"
#include "train.h"

static const char SWEEP_USAGE[] =
    "usage: exprun sweep SPEC [key=value ...] [--list | --index I | --jobs N | --slurm] [--fail-fast]\n"
    "                    [--out DIR] [--sweep-dir DIR] [--quiet]\n"
    "                    [--partition P] [--time T] [--cpus C] [--submit]   (with --slurm)\n"
    "\n"
    "Runs the trials of SPEC's sweep: block. Order: grid keys in file order (last key fastest),\n"
    "times the zip lists (position by position, fastest of all). Every trial is validated first.\n"
    "  --list        print the trials (index and overrides) and their count; runs nothing\n"
    "  --index I     run trial I only (Slurm: --index $SLURM_ARRAY_TASK_ID); the run goes to\n"
    "                --out DIR, else SWEEP_DIR/trial-III with SWEEP_DIR from --sweep-dir or\n"
    "                ROOT/NAME/sweep-slurm-$SLURM_ARRAY_JOB_ID, else ROOT/NAME/TIMESTAMP\n"
    "  --jobs N      run all trials here, N child processes at a time (default 1), in\n"
    "                ROOT/NAME/sweep-TIMESTAMP/trial-III (or --sweep-dir DIR); logs in\n"
    "                trial-III.log, a table in sweep.tsv and summary.csv. With N > 1 every\n"
    "                trial gets threads=1 unless the spec, an override or the sweep sets threads.\n"
    "  --fail-fast   stop at the first failed trial (running ones are stopped with SIGTERM and\n"
    "                can be resumed with exprun resume)\n"
    "Run again with the same --sweep-dir (or as a requeued array task, with --index), a sweep keeps\n"
    "its finished trials, resumes the interrupted or killed ones from their checkpoints and appends\n"
    "to their logs; a trial folder made from another spec or other overrides is never touched.\n"
    "  --slurm       write SWEEP_DIR/sweep.sbatch: the trials as a Slurm job array (task i = trial i,\n"
    "                into SWEEP_DIR/trial-III, its output appended to trial-III.log; USR1 two minutes\n"
    "                before the time limit makes a trial checkpoint and its task requeue itself, and\n"
    "                the task, started again, resumes the trial). With --partition P, --time T\n"
    "                (e.g. 2:00:00) and --cpus C per task (threads=C unless threads is set);\n"
    "                --submit also submits it (sbatch)\n"
    "exit status: --jobs: the number of trials that did not finish (at most 100), 0 if all did;\n"
    "             --index: that run's status; 2 for a bad command line or any invalid trial.\n"
    "Example:\n"
    "  sweep:\n"
    "    grid: {optimizer.lr: [1.0e-3, 3.0e-4], model.code: [32, 64]}\n"
    "    zip: {model.noise.type: [none, masking], model.noise.rate: [0.0, 0.3]}\n";

/* ---- one trial in this process (--index) ------------------------------------------------------- */

static int run_index(const Plan *p, int index, const char *out_dir, const char *sweep_dir_opt, int quiet) {
    const SweepTrial *tr = &p->sweep.trials[index];
    char sweep_dir[4096] = "", run_dir[4300] = "";
    const char *array_job = getenv("SLURM_ARRAY_JOB_ID");
    ExError err;
    if (!out_dir) {
        if (sweep_dir_opt) snprintf(sweep_dir, sizeof sweep_dir, "%s", sweep_dir_opt);
        else if (array_job && *array_job &&
                 snprintf(sweep_dir, sizeof sweep_dir, "%s/%s/sweep-slurm-%s", p->root, p->name, array_job) >=
                     (int)sizeof sweep_dir) {
            fprintf(stderr, "exprun sweep: output folder name too long: %s\n", p->root);
            return EXIT_USAGE;
        }
        if (sweep_dir[0]) {
            if (make_dirs(sweep_dir, &err) != 0) {
                fprintf(stderr, "exprun: %s\n", err.msg);
                return EXIT_RUNTIME;
            }
            /* the trial list, for the other array tasks and for summarize; a sweep.tsv that
             * exists (e.g. with the statuses of a --jobs run) is kept */
            char tsv[4200];
            snprintf(tsv, sizeof tsv, "%s/sweep.tsv", sweep_dir);
            if (access(tsv, F_OK) != 0) write_sweep_tsv(sweep_dir, p, NULL);
            char name[64];
            trial_name(name, sizeof name, index, p->sweep.n_trials);
            snprintf(run_dir, sizeof run_dir, "%s/%s", sweep_dir, name);
            out_dir = run_dir;
        }
    }
    int n = p->n_cli + tr->n;
    char **overrides = calloc((size_t)n + 1, sizeof *overrides);
    for (int i = 0; i < p->n_cli; i++) overrides[i] = p->cli[i];
    for (int i = 0; i < tr->n; i++) overrides[p->n_cli + i] = tr->overrides[i];
    if (!quiet) {
        printf("sweep trial %d of %d: ", index, p->sweep.n_trials);
        print_overrides(tr, stdout);
        putchar('\n');
    }
    char idx[32];
    snprintf(idx, sizeof idx, "%d", index);
    setenv("EXPRUN_SWEEP_TRIAL", idx, 1);
    if (out_dir) {
        /* a task started again (a requeued array task, a re-run) finds its run directory */
        char status[64], why[4600];
        TrialStart how = trial_start(p, index, out_dir, status, sizeof status, why, sizeof why);
        if (how == START_FOREIGN || how == START_DONE) {
            free(overrides);
            if (how == START_FOREIGN) fprintf(stderr, "exprun sweep: trial %d not run: %s\n", index, why);
            else if (!quiet) printf("sweep trial %d: %s %s (kept as it is)\n", index, out_dir, why);
            return trial_kept_exit(how, status);
        }
        if (how == START_RESUME) {
            free(overrides);
            if (!quiet) printf("sweep trial %d: resuming %s (it was %s)\n", index, out_dir, status);
            return command_resume(out_dir, 0, quiet, isatty(STDERR_FILENO) && !quiet);
        }
        if (why[0] && !quiet) printf("sweep trial %d: %s %s\n", index, out_dir, why);
    }
    TrainOptions opt = {0};
    opt.spec_path = p->spec_path;
    opt.overrides = overrides;
    opt.n_overrides = n;
    opt.out_dir = out_dir;
    opt.quiet = quiet;
    opt.progress = isatty(STDERR_FILENO) && !quiet;
    int rc = command_train(&opt);
    free(overrides);
    return rc;
}

/* ---- a Slurm job array (--slurm) ---------------------------------------------------------------- */

typedef struct SlurmOptions {
    int on, submit;
    const char *partition, *time_limit;
    long cpus;                 /* 0: not given */
} SlurmOptions;

/* Write SWEEP_DIR/sweep.sbatch (slurm.h) and, with --submit, submit it. */
static int write_slurm(const Plan *p, const char *sweep_dir_opt, const SlurmOptions *so, int quiet) {
    ExError err;
    char sweep_dir[4096], dir_abs[PATH_MAX], spec_abs[PATH_MAX], exe[4096], script[PATH_MAX + 32];
    if (sweep_dir_opt) {
        snprintf(sweep_dir, sizeof sweep_dir, "%s", sweep_dir_opt);
        if (make_dirs(sweep_dir, &err) != 0) goto fail;
    } else if (create_sweep_dir(p->root, p->name, sweep_dir, sizeof sweep_dir, &err) != 0) {
        goto fail;
    }
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len <= 0 || !realpath(sweep_dir, dir_abs) || !realpath(p->spec_path, spec_abs)) {
        ex_fail(&err, "cannot find the absolute paths of exprun, %s and %s: %s", sweep_dir, p->spec_path, strerror(errno));
        goto fail;
    }
    exe[len] = '\0';
    char tsv[PATH_MAX + 16];
    snprintf(tsv, sizeof tsv, "%s/sweep.tsv", dir_abs);
    if (access(tsv, F_OK) != 0) write_sweep_tsv(dir_abs, p, NULL);   /* the trial list */
    char job_name[300];
    snprintf(job_name, sizeof job_name, "exprun-%s", p->name);
    SlurmScript sc = {.exprun = exe, .spec_path = spec_abs, .cli = p->cli, .n_cli = p->n_cli, .sweep_dir = dir_abs,
                      .job_name = job_name, .n_trials = p->sweep.n_trials, .digits = trial_digits(p->sweep.n_trials),
                      .partition = so->partition, .time_limit = so->time_limit, .cpus = (int)so->cpus,
                      .add_threads = !p->user_set_threads};
    snprintf(script, sizeof script, "%s/sweep.sbatch", dir_abs);
    if (slurm_write_script(&sc, script, &err) != 0) goto fail;
    if (!quiet)
        printf("slurm: %s: %d array tasks, one trial each, into %s/trial-III\n", script, p->sweep.n_trials, dir_abs);
    if (!so->submit) {
        if (!quiet) printf("submit it with: sbatch %s\n", script);
        return EXIT_OK;
    }
    char job[128];
    if (slurm_submit(script, job, sizeof job, &err) != 0) goto fail;
    printf("submitted job %s; follow it with: squeue -j %s; exprun summarize %s\n", job, job, dir_abs);
    return EXIT_OK;
fail:
    fprintf(stderr, "exprun sweep: %s\n", err.msg);
    return EXIT_RUNTIME;
}

/* ---- the command -------------------------------------------------------------------------------- */

static int usage_error(const char *msg, const char *arg) {
    fprintf(stderr, "exprun sweep: %s%s\ntry 'exprun sweep --help'\n", msg, arg ? arg : "");
    return EXIT_USAGE;
}

/* A whole non-negative decimal number, or -1. */
static long parse_count(const char *s) {
    if (!s || !*s) return -1;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9' || v > 100000000) return -1;
        v = v * 10 + (*p - '0');
    }
    return v;
}

int command_sweep(int argc, char **argv) {
    const char *spec = NULL, *out_dir = NULL, *sweep_dir = NULL;
    int list = 0, fail_fast = 0, quiet = 0, n_overrides = 0;
    long index = -1, jobs = -1;
    SlurmOptions slurm = {0};
    char **overrides = calloc((size_t)argc + 1, sizeof *overrides);
    int rc = EXIT_USAGE;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            fputs(SWEEP_USAGE, stdout);
            free(overrides);
            return EXIT_OK;
        } else if (strcmp(s, "--list") == 0) list = 1;
        else if (strcmp(s, "--fail-fast") == 0) fail_fast = 1;
        else if (strcmp(s, "--quiet") == 0 || strcmp(s, "-q") == 0) quiet = 1;
        else if (strcmp(s, "--index") == 0) {
            if ((index = parse_count(value)) < 0) {
                rc = usage_error("--index needs a trial number (is $SLURM_ARRAY_TASK_ID set?), got ",
                                 value ? value : "nothing");
                goto done;
            }
            i++;
        } else if (strcmp(s, "--jobs") == 0 || strcmp(s, "-j") == 0) {
            if ((jobs = parse_count(value)) < 1) {
                rc = usage_error("--jobs needs a number of parallel trials >= 1, got ", value ? value : "nothing");
                goto done;
            }
            i++;
        } else if (strcmp(s, "--slurm") == 0) slurm.on = 1;
        else if (strcmp(s, "--submit") == 0) slurm.on = slurm.submit = 1;
        else if (strcmp(s, "--partition") == 0 && value) slurm.partition = argv[++i];
        else if (strcmp(s, "--time") == 0 && value) slurm.time_limit = argv[++i];
        else if (strcmp(s, "--cpus") == 0) {
            if ((slurm.cpus = parse_count(value)) < 1 || slurm.cpus > 1024) {
                rc = usage_error("--cpus needs a number of CPUs per task (1 to 1024), got ", value ? value : "nothing");
                goto done;
            }
            i++;
        } else if (strcmp(s, "--out") == 0 && value) out_dir = argv[++i];
        else if (strcmp(s, "--sweep-dir") == 0 && value) sweep_dir = argv[++i];
        else if (s[0] == '-' && s[1] == '-') {
            rc = usage_error("unknown option or missing value: ", s);
            goto done;
        } else if (strchr(s, '=')) overrides[n_overrides++] = argv[i];
        else if (!spec) spec = s;
        else {
            rc = usage_error("unexpected argument (overrides look like key=value): ", s);
            goto done;
        }
    }
    if (!spec) {
        rc = usage_error("missing SPEC", NULL);
        goto done;
    }
    if (list + (index >= 0) + (jobs > 0) + slurm.on > 1) {
        rc = usage_error("--list, --index, --jobs and --slurm exclude each other", NULL);
        goto done;
    }
    if (!slurm.on && (slurm.partition || slurm.time_limit || slurm.cpus)) {
        rc = usage_error("--partition, --time and --cpus go with --slurm", NULL);
        goto done;
    }
    if (out_dir && index < 0) {
        rc = usage_error("--out names one run: use it with --index (for all trials use --sweep-dir)", NULL);
        goto done;
    }
    Plan plan;
    if (plan_load(&plan, spec, overrides, n_overrides) != 0) {
        plan_free(&plan);
        goto done;
    }
    if (list) {
        list_trials(&plan);
        rc = EXIT_OK;
    } else if (slurm.on) {
        rc = write_slurm(&plan, sweep_dir, &slurm, quiet);
    } else if (index >= 0) {
        if (index >= plan.sweep.n_trials) {
            fprintf(stderr, "exprun sweep: trial %ld does not exist: %s has %d trial%s (0 to %d)\n", index, spec,
                    plan.sweep.n_trials, plan.sweep.n_trials == 1 ? "" : "s", plan.sweep.n_trials - 1);
            rc = EXIT_USAGE;
        } else {
            rc = run_index(&plan, (int)index, out_dir, sweep_dir, quiet);
        }
    } else {
        rc = sweep_run_jobs(&plan, jobs > 0 ? (int)jobs : 1, fail_fast, quiet, sweep_dir);
    }
    plan_free(&plan);
done:
    free(overrides);
    return rc;
}
