/* sweep_plan.h — a sweep's plan: the spec and command-line overrides, its trials (every one
 * validated before any runs), their names, folders and table, and what a trial's folder holds
 * when the sweep comes to it. Used by the three ways to run a sweep (runner/sweep.c). */
#ifndef EXPRUN_SWEEP_PLAN_H
#define EXPRUN_SWEEP_PLAN_H

#include <stdio.h>
#include <sys/types.h>

#include "error.h"
#include "spec/spec.h"
#include "spec/sweep.h"

/* The base tree (spec file + command-line overrides), the sweep, and the trials checked. */
typedef struct Plan {
    const char *spec_path;
    CfgNode *base;            /* with the sweep block */
    Sweep sweep;
    char **cli;               /* command-line overrides that apply to trials (not sweep.*) */
    int n_cli;
    int user_set_threads;     /* threads given in the spec, an override or the sweep */
    char root[SPEC_PATH_MAX]; /* output.root and name of trial 0 */
    char name[256];
} Plan;

/* Parse SPEC, apply the overrides, expand the sweep, then validate every trial; print all
 * problems at once. 0, or -1 (printed). plan_free in either case. */
int plan_load(Plan *p, const char *spec_path, char *const *overrides, int n_overrides);
void plan_free(Plan *p);
/* --list: every trial's index and overrides, and how the count comes about. */
void list_trials(const Plan *p);

/* s as a shell word: single-quoted when it holds anything a shell would touch. */
void print_shell_word(const char *s, FILE *out);
void print_overrides(const SweepTrial *tr, FILE *out);   /* shell words, space-separated */
char *join_overrides(const SweepTrial *tr);              /* space-joined, malloc'd */

/* trial-III: III has trial_digits(n) digits (at least 3). */
int trial_digits(int n_trials);
void trial_name(char *buf, size_t cap, int t, int n_trials);
/* ROOT/NAME/sweep-YYYYmmdd-HHMMSS[-k], made atomically (mkdir), so sweeps never share one. */
int create_sweep_dir(const char *root, const char *name, char *out, size_t cap, ExError *err);

/* What becomes of a trial when the sweep comes to it. */
typedef enum TrialState { T_PENDING, T_RUNNING, T_DONE, T_NOT_RUN } TrialState;

typedef struct TrialRun {
    TrialState state;
    pid_t pid;
    int exit_code;            /* exit status, or 128 + signal */
    double started, seconds;
    char status[32];          /* the run's status file when it ended, else a reason */
} TrialRun;

/* sweep.tsv in sweep_dir: index, run directory, status, exit code, seconds, overrides; runs may
 * be NULL (the trial list only). Rewritten by rename, so `column -t sweep.tsv` shows it live. */
void write_sweep_tsv(const char *sweep_dir, const Plan *p, const TrialRun *runs);

/* A sweep run again (same --sweep-dir, or a requeued array task) finds some trials' run
 * directories present: it goes on from them rather than refusing, and never over another
 * sweep's. */
typedef enum TrialStart {
    START_NEW,        /* no run directory yet: train */
    START_DONE,       /* finished (or diverged: the same bits would diverge again): skip */
    START_RESUME,     /* interrupted, killed or failed: `exprun resume` from its checkpoint */
    START_FOREIGN     /* made from another spec or other overrides, or incomplete: refuse */
} TrialStart;
/* The overrides trial t's command line gives, one per line (as overrides.txt holds them);
 * with_threads: with the threads=1 a --jobs sweep adds. malloc'd. */
char *trial_overrides_text(const Plan *p, int t, int with_threads);
/* What to do with trial t's run directory dir; status gets its status file, why says it for
 * START_DONE and START_FOREIGN, and for START_NEW when a folder left half made was emptied. */
TrialStart trial_start(const Plan *p, int t, const char *dir, char *status, size_t cap, char *why, size_t why_cap);
/* The exit status of a trial not run (START_DONE, START_FOREIGN) as if it had been: 0 for a
 * finished one, 4 for a diverged one, 2 for another sweep's folder. */
int trial_kept_exit(TrialStart how, const char *status);

#endif
