/* sweep.c — expansion of the sweep: block (see sweep.h) and the `exprun sweep` command.
 *
 * Modes:
 *   --list        print every trial (index and overrides) after validating all of them
 *   --index I     run trial I in this process (one task of a Slurm array)
 *   --jobs N      (default N = 1) run every trial as a child process, N at a time:
 *                 /proc/self/exe SPEC [key=value ...] [threads=1] TRIAL-OVERRIDES --out DIR
 *                 with stdout and stderr in SWEEP_DIR/trial-III.log. A failed trial does not stop
 *                 the others (unless --fail-fast); the exit status is the number of trials that
 *                 did not finish (at most 100), 0 when all did.
 * Every trial is validated (spec, types, combinations, data files present) before any runs, so
 * a typo in the 17th value fails at once rather than hours later. */
#include "sweep.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rundir.h"
#include "signals.h"
#include "slurm.h"
#include "spec/spec.h"
#include "spec/sweep.h"
#include "strbuf.h"
#include "summarize.h"
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

/* ---- validating every trial -------------------------------------------------------------------- */

typedef struct Problem {
    char *text;       /* one diagnostic line */
    int *trials;
    int n;
} Problem;

typedef struct Problems {
    Problem *items;
    int n;
} Problems;

static void problem_add(Problems *ps, const char *text, int trial) {
    for (int i = 0; i < ps->n; i++)
        if (strcmp(ps->items[i].text, text) == 0) {
            Problem *p = &ps->items[i];
            if (p->n == 0 || p->trials[p->n - 1] != trial) {
                p->trials = realloc(p->trials, (size_t)(p->n + 1) * sizeof *p->trials);
                p->trials[p->n++] = trial;
            }
            return;
        }
    ps->items = realloc(ps->items, (size_t)(ps->n + 1) * sizeof *ps->items);
    Problem *p = &ps->items[ps->n++];
    p->text = strdup(text);
    p->trials = malloc(sizeof *p->trials);
    p->trials[0] = trial;
    p->n = 1;
}

static void problems_add_diags(Problems *ps, const CfgDiags *d, int trial) {
    for (int i = 0; i < d->count; i++) {
        CfgDiags one = {&d->items[i], 1, 1};
        ExError err;
        cfg_diags_to_error(&one, &err);
        problem_add(ps, err.msg, trial);
    }
}

/* "trials 0-3, 7" */
static void print_trial_list(const Problem *p, int n_trials, FILE *out) {
    if (n_trials == 1) return;
    if (p->n == n_trials) {
        fprintf(out, "  [every trial]");
        return;
    }
    fprintf(out, "  [trial%s ", p->n == 1 ? "" : "s");
    for (int i = 0; i < p->n;) {
        int j = i;
        while (j + 1 < p->n && p->trials[j + 1] == p->trials[j] + 1) j++;
        if (i) fprintf(out, ", ");
        if (j == i) fprintf(out, "%d", p->trials[i]);
        else fprintf(out, "%d-%d", p->trials[i], p->trials[j]);
        i = j + 1;
    }
    fprintf(out, "]");
}

static void problems_print(const Problems *ps, int n_trials, FILE *out) {
    for (int i = 0; i < ps->n; i++) {
        fputs(ps->items[i].text, out);
        print_trial_list(&ps->items[i], n_trials, out);
        fputc('\n', out);
    }
}

static void problems_free(Problems *ps) {
    for (int i = 0; i < ps->n; i++) {
        free(ps->items[i].text);
        free(ps->items[i].trials);
    }
    free(ps->items);
}

/* Data files must exist before hours of other trials are spent. */
static void check_data_files(const Spec *spec, CfgDiags *d) {
    const DataSpec *ds = &spec->data;
    if (ds->source == DATA_ADDING || ds->source == DATA_COPY) return;
    const char *keys[4] = {"data.path", "data.labels", "data.test_path", "data.test_labels"};
    const char *paths[4] = {ds->path, ds->labels, ds->test_path, ds->test_labels};
    for (int i = 0; i < 4; i++)
        if (paths[i][0] && access(paths[i], R_OK) != 0) {
            const CfgNode *n = cfg_get(spec->tree, keys[i]);
            if (n) cfg_diag_at(d, n, keys[i], "cannot read %s: %s", paths[i], strerror(errno));
            else cfg_diag_add(d, spec->source_path, 0, 0, keys[i], "cannot read %s: %s", paths[i], strerror(errno));
        }
}

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

static int is_sweep_override(const char *o) {
    return strncmp(o, "sweep=", 6) == 0 || strncmp(o, "sweep.", 6) == 0;
}

static size_t key_len(const char *o) {
    const char *eq = strchr(o, '=');
    return eq ? (size_t)(eq - o) : strlen(o);
}

static void plan_free(Plan *p) {
    cfg_free(p->base);
    sweep_free(&p->sweep);
    free(p->cli);
}

/* Parse, override, expand, then validate every trial; print all problems at once. */
static int plan_load(Plan *p, const char *spec_path, char *const *overrides, int n_overrides) {
    memset(p, 0, sizeof *p);
    p->spec_path = spec_path;
    CfgDiags diags = {0};
    p->base = cfg_parse_file(spec_path, &diags);
    int failed = !p->base;
    for (int i = 0; p->base && i < n_overrides; i++)
        if (cfg_apply_override(p->base, overrides[i], &diags) != 0) failed = 1;
    if (!failed && sweep_expand(p->base, &p->sweep, &diags) != 0) failed = 1;
    p->cli = calloc((size_t)n_overrides + 1, sizeof *p->cli);
    for (int i = 0; i < n_overrides; i++)
        if (!is_sweep_override(overrides[i])) p->cli[p->n_cli++] = overrides[i];
    /* A command-line override of a swept key would be overwritten by every trial. */
    for (int i = 0; !failed && i < p->n_cli; i++) {
        size_t len = key_len(p->cli[i]);
        for (int a = 0; a < p->sweep.n_grid + p->sweep.n_zip; a++) {
            const SweepAxis *ax = a < p->sweep.n_grid ? &p->sweep.grid[a] : &p->sweep.zip[a - p->sweep.n_grid];
            if (strlen(ax->key) == len && strncmp(ax->key, p->cli[i], len) == 0) {
                cfg_diag_at_key(&diags, ax->list, ax->key,
                                "is swept, so the command-line override '%s' would be overwritten by every "
                                "trial: drop one of them (or override the list: sweep.grid.%s=[...])",
                                p->cli[i], ax->key);
                failed = 1;
            }
        }
    }
    if (failed) {
        cfg_diags_print(&diags, stderr);
        fprintf(stderr, "exprun: %d problem%s in %s; nothing was run\n", diags.count, diags.count == 1 ? "" : "s",
                spec_path);
        cfg_diags_free(&diags);
        return -1;
    }
    cfg_diags_free(&diags);
    p->user_set_threads = cfg_get(p->base, "threads") != NULL;
    for (int a = 0; a < p->sweep.n_grid + p->sweep.n_zip; a++) {
        const SweepAxis *ax = a < p->sweep.n_grid ? &p->sweep.grid[a] : &p->sweep.zip[a - p->sweep.n_grid];
        if (strcmp(ax->key, "threads") == 0) p->user_set_threads = 1;
    }
    Problems problems = {0};
    int n_bad = 0;
    for (int t = 0; t < p->sweep.n_trials; t++) {
        CfgDiags d = {0};
        CfgNode *tree = cfg_clone(p->base);
        sweep_strip(tree);
        Spec spec;
        memset(&spec, 0, sizeof spec);
        if (sweep_apply_trial(tree, &p->sweep, t, &d) != 0) cfg_free(tree);
        else if (spec_from_tree(tree, spec_path, &spec, &d) == 0) {
            check_data_files(&spec, &d);
            if (t == 0) {
                snprintf(p->root, sizeof p->root, "%s", spec.output_root);
                snprintf(p->name, sizeof p->name, "%s", spec.name);
            }
        }
        if (spec.tree) spec_free(&spec);
        if (d.count) n_bad++;
        problems_add_diags(&problems, &d, t);
        cfg_diags_free(&d);
    }
    if (n_bad) {
        problems_print(&problems, p->sweep.n_trials, stderr);
        fprintf(stderr, "exprun: %d of %d trial%s of %s %s invalid; nothing was run\n", n_bad, p->sweep.n_trials,
                p->sweep.n_trials == 1 ? "" : "s", spec_path, n_bad == 1 ? "is" : "are");
    }
    problems_free(&problems);
    return n_bad ? -1 : 0;
}

/* ---- shell-friendly display ------------------------------------------------------------------ */

/* An override as a shell word: single-quoted when it holds anything a shell would touch. */
static void print_shell_word(const char *s, FILE *out) {
    int safe = 1;
    for (const char *p = s; *p; p++)
        if (!(isalnum((unsigned char)*p) || strchr("._+-/=,:@%", *p))) safe = 0;
    if (safe) {
        fputs(s, out);
        return;
    }
    fputc('\'', out);
    for (const char *p = s; *p; p++) {
        if (*p == '\'') fputs("'\\''", out);
        else fputc(*p, out);
    }
    fputc('\'', out);
}

static void print_overrides(const SweepTrial *tr, FILE *out) {
    for (int k = 0; k < tr->n; k++) {
        if (k) fputc(' ', out);
        print_shell_word(tr->overrides[k], out);
    }
}

static char *join_overrides(const SweepTrial *tr) {
    StrBuf b = {0};
    strbuf_puts(&b, "");
    for (int k = 0; k < tr->n; k++) {
        if (k) strbuf_putc(&b, ' ');
        strbuf_puts(&b, tr->overrides[k]);
    }
    return b.s;
}

static void list_trials(const Plan *p) {
    const Sweep *s = &p->sweep;
    int width = 1;
    for (int n = s->n_trials - 1; n >= 10; n /= 10) width++;
    width = width + 2 > 7 ? width + 2 : 7;      /* at least as wide as "# trial" */
    printf("%-*s  overrides\n", width, "# trial");
    for (int t = 0; t < s->n_trials; t++) {
        printf("%*d  ", width, t);
        print_overrides(&s->trials[t], stdout);
        putchar('\n');
    }
    printf("# %d trial%s =", s->n_trials, s->n_trials == 1 ? "" : "s");
    for (int a = 0; a < s->n_grid; a++)
        printf("%s %s (%d)", a ? " x" : " grid:", s->grid[a].key, s->grid[a].list->count);
    if (s->n_zip) {
        printf("%s zip (%d):", s->n_grid ? " x" : "", s->zip_len);
        for (int a = 0; a < s->n_zip; a++) printf("%s %s", a ? "," : "", s->zip[a].key);
    }
    printf("\n# run one with --index I (Slurm: sbatch --array=0-%d ...), or all with --jobs N\n", s->n_trials - 1);
}

/* ---- folders ---------------------------------------------------------------------------------- */

static int trial_digits(int n_trials) {
    int d = 3;
    for (int n = n_trials - 1, k = 1000; n >= k && d < 9; k *= 10) d++;
    return d;
}

static void trial_name(char *buf, size_t cap, int t, int n_trials) {
    snprintf(buf, cap, "trial-%0*d", trial_digits(n_trials), t);
}

/* ROOT/NAME/sweep-YYYYmmdd-HHMMSS[-k], created atomically (mkdir) so sweeps never share one. */
static int create_sweep_dir(const char *root, const char *name, char *out, size_t cap, ExError *err) {
    char parent[4096];
    if (snprintf(parent, sizeof parent, "%s/%s", root, name) >= (int)sizeof parent)
        return ex_fail(err, "output folder name too long: %s/%s", root, name);
    if (make_dirs(parent, err) != 0) return -1;
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    for (int k = 0; k < 10000; k++) {
        int len = k == 0 ? snprintf(out, cap, "%s/sweep-%s", parent, stamp)
                         : snprintf(out, cap, "%s/sweep-%s-%d", parent, stamp, k);
        if (len >= (int)cap) return ex_fail(err, "output folder name too long: %s", parent);
        if (mkdir(out, 0777) == 0) return 0;
        if (errno != EEXIST) return ex_fail(err, "cannot create sweep directory %s: %s", out, strerror(errno));
    }
    return ex_fail(err, "cannot find a free sweep directory under %s", parent);
}

/* ---- running trials ----------------------------------------------------------------------------- */

typedef enum TrialState { T_PENDING, T_RUNNING, T_DONE, T_NOT_RUN } TrialState;

typedef struct TrialRun {
    TrialState state;
    pid_t pid;
    int exit_code;            /* exit status, or 128 + signal */
    double started, seconds;
    char status[32];          /* the run's status file when it ended, else a reason */
} TrialRun;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* sweep.tsv: index, run directory, status, exit code, seconds, overrides — rewritten (by
 * rename) whenever a trial starts or ends, so `column -t sweep.tsv` shows the sweep live. */
static void write_sweep_tsv(const char *sweep_dir, const Plan *p, const TrialRun *runs) {
    StrBuf b = {0};
    strbuf_puts(&b, "index\trun_dir\tstatus\texit_code\tseconds\toverrides\n");
    for (int t = 0; t < p->sweep.n_trials; t++) {
        char line[512], name[64];
        trial_name(name, sizeof name, t, p->sweep.n_trials);
        const TrialRun *r = runs ? &runs[t] : NULL;
        const char *status = !r ? "" : r->state == T_PENDING ? "pending" : r->state == T_RUNNING ? "running"
                               : r->state == T_NOT_RUN     ? "not run" : r->status;
        char code[16] = "", secs[32] = "";
        if (r && r->state == T_DONE) {
            snprintf(code, sizeof code, "%d", r->exit_code);
            if (r->seconds == r->seconds) snprintf(secs, sizeof secs, "%.1f", r->seconds);   /* NaN: not known */
        }
        snprintf(line, sizeof line, "%d\t%s/%s\t%s\t%s\t%s\t", t, sweep_dir, name, status, code, secs);
        strbuf_puts(&b, line);
        char *ov = join_overrides(&p->sweep.trials[t]);
        strbuf_puts(&b, ov);
        free(ov);
        strbuf_putc(&b, '\n');
    }
    ExError err;
    if (write_file_atomic(sweep_dir, "sweep.tsv", b.s, &err) != 0) fprintf(stderr, "exprun: %s\n", err.msg);
    free(b.s);
}

/* The last non-empty line of a trial's log: usually the error that ended it. */
static void last_log_line(const char *path, char *buf, size_t cap) {
    buf[0] = '\0';
    char *text = read_file(path, NULL, NULL);
    if (!text) return;
    size_t n = strlen(text);
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ')) text[--n] = '\0';
    char *start = strrchr(text, '\n');
    snprintf(buf, cap, "%s", start ? start + 1 : text);
    free(text);
}

/* ---- a trial's run directory when the sweep starts it ------------------------------------------ */

/* A sweep run again (same --sweep-dir, or a requeued array task) finds some trials' run
 * directories present: it goes on from them rather than refusing, and never over another
 * sweep's. */
typedef enum TrialStart {
    START_NEW,        /* no run directory yet: train */
    START_DONE,       /* finished (or diverged: the same bits would diverge again): skip */
    START_RESUME,     /* interrupted, killed or failed: `exprun resume` from its checkpoint */
    START_FOREIGN     /* made from another spec or other overrides, or incomplete: refuse */
} TrialStart;

/* The overrides a trial's command line gives (one per line, as overrides.txt holds them).
 * with_threads: the sweep adds threads=1 (several trials at a time, threads not set). */
static char *trial_overrides_text(const Plan *p, int t, int with_threads) {
    const SweepTrial *tr = &p->sweep.trials[t];
    StrBuf b = {0};
    strbuf_puts(&b, "");
    for (int i = 0; i < p->n_cli; i++) {
        strbuf_puts(&b, p->cli[i]);
        strbuf_putc(&b, '\n');
    }
    if (with_threads) strbuf_puts(&b, "threads=1\n");
    for (int i = 0; i < tr->n; i++) {
        strbuf_puts(&b, tr->overrides[i]);
        strbuf_putc(&b, '\n');
    }
    return b.s;
}

static int same_file_text(const char *path, const char *text) {
    char *got = read_file(path, NULL, NULL);
    int same = got && text && strcmp(got, text) == 0;
    free(got);
    return same;
}

/* What to do with trial t's run directory dir; why says it for START_DONE and START_FOREIGN. */
static TrialStart trial_start(const Plan *p, int t, const char *dir, char *status, size_t cap, char *why,
                              size_t why_cap) {
    status[0] = why[0] = '\0';
    struct stat st;
    if (stat(dir, &st) != 0) return START_NEW;
    char path[4400];
    snprintf(path, sizeof path, "%s/resolved.yaml", dir);
    if (access(path, F_OK) != 0) {
        snprintf(why, why_cap, "%s exists but holds no complete run (no resolved.yaml): remove it to run the trial "
                               "again", dir);
        return START_FOREIGN;
    }
    /* the same spec text and the same overrides (threads=1 of a --jobs sweep either way) */
    char *spec_text = read_file(p->spec_path, NULL, NULL);
    snprintf(path, sizeof path, "%s/spec.yaml", dir);
    int same_spec = same_file_text(path, spec_text);
    free(spec_text);
    snprintf(path, sizeof path, "%s/overrides.txt", dir);
    char *plain = trial_overrides_text(p, t, 0), *threaded = trial_overrides_text(p, t, !p->user_set_threads);
    int same_overrides = same_file_text(path, plain) || same_file_text(path, threaded);
    free(plain);
    free(threaded);
    if (!same_spec || !same_overrides) {
        snprintf(why, why_cap, "%s was made from %s than this sweep's trial %d: use another --sweep-dir (exprun "
                               "never writes over another run)", dir, same_spec ? "other overrides" : "another spec", t);
        return START_FOREIGN;
    }
    snprintf(path, sizeof path, "%s/status", dir);
    char *text = read_file(path, NULL, NULL);
    snprintf(status, cap, "%s", text ? text : "");
    free(text);
    status[strcspn(status, "\n")] = '\0';
    if (strcmp(status, "finished") == 0 || strcmp(status, "diverged") == 0) {
        snprintf(why, why_cap, "already %s", status);
        return START_DONE;
    }
    return START_RESUME;
}

typedef struct Runner {
    const Plan *plan;
    char exe[4096];
    char sweep_dir[4096];
    int jobs, quiet, fail_fast;
    TrialRun *runs;
} Runner;

/* Start trial t: `exprun SPEC … --out DIR`, or `exprun resume DIR` (resume_status: the status it
 * is resumed from). Its output goes to DIR.log, appended to what earlier runs of the sweep
 * wrote there. */
static int launch(Runner *rn, int t, const char *resume_status, ExError *err) {
    const Plan *p = rn->plan;
    const SweepTrial *tr = &p->sweep.trials[t];
    char name[64], dir[4200], log[4300];
    trial_name(name, sizeof name, t, p->sweep.n_trials);
    snprintf(dir, sizeof dir, "%s/%s", rn->sweep_dir, name);
    snprintf(log, sizeof log, "%s/%s.log", rn->sweep_dir, name);
    int add_threads = rn->jobs > 1 && !p->user_set_threads;
    /* exe SPEC cli... [threads=1] trial... --out DIR NULL, or exe resume DIR NULL */
    int argc = 0;
    char **argv = calloc((size_t)(p->n_cli + tr->n + 6), sizeof *argv);
    argv[argc++] = rn->exe;
    if (resume_status) {
        argv[argc++] = "resume";
        argv[argc++] = dir;
    } else {
        argv[argc++] = (char *)p->spec_path;
        for (int i = 0; i < p->n_cli; i++) argv[argc++] = p->cli[i];
        if (add_threads) argv[argc++] = "threads=1";
        for (int i = 0; i < tr->n; i++) argv[argc++] = tr->overrides[i];
        argv[argc++] = "--out";
        argv[argc++] = dir;
    }
    argv[argc] = NULL;
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    if (fd < 0) {
        free(argv);
        return ex_fail(err, "cannot create %s: %s", log, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size > 0)
        dprintf(fd, "\n== exprun sweep, run again: %s %s ==\n", resume_status ? "resuming from status" : "starting",
                resume_status ? resume_status : "anew");
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) {
        close(fd);
        free(argv);
        return ex_fail(err, "cannot start trial %d: fork: %s", t, strerror(errno));
    }
    if (pid == 0) {
        /* child: stdin from /dev/null, stdout and stderr to the log (a log, not a terminal,
         * so the trial prints plain lines without the progress display) */
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        char idx[32];
        snprintf(idx, sizeof idx, "%d", t);
        setenv("EXPRUN_SWEEP_TRIAL", idx, 1);
        execv(rn->exe, argv);
        dprintf(STDERR_FILENO, "exprun sweep: cannot run %s: %s\n", rn->exe, strerror(errno));
        _exit(127);
    }
    close(fd);
    free(argv);
    TrialRun *r = &rn->runs[t];
    r->state = T_RUNNING;
    r->pid = pid;
    r->started = now_seconds();
    if (!rn->quiet) {
        if (resume_status) printf("%s resumed (it was %s): ", name, resume_status);
        else printf("%s started: ", name);
        print_overrides(tr, stdout);
        putchar('\n');
    }
    return 0;
}

/* Trial t as the sweep finds it: START_DONE and START_FOREIGN are recorded without running
 * anything; otherwise it is launched (trained or resumed). 0 when launched, 1 when recorded,
 * -1 when the launch failed (err). */
static int start_trial(Runner *rn, int t, ExError *err) {
    const Plan *p = rn->plan;
    char name[64], dir[4200], status[32], why[4600];
    trial_name(name, sizeof name, t, p->sweep.n_trials);
    snprintf(dir, sizeof dir, "%s/%s", rn->sweep_dir, name);
    TrialStart how = trial_start(p, t, dir, status, sizeof status, why, sizeof why);
    TrialRun *r = &rn->runs[t];
    if (how == START_DONE || how == START_FOREIGN) {
        r->state = T_DONE;
        r->exit_code = how == START_FOREIGN ? EXIT_USAGE : strcmp(status, "finished") == 0 ? 0 : EXIT_DIVERGED;
        snprintf(r->status, sizeof r->status, "%s", how == START_FOREIGN ? "failed" : status);
        RunSummary s;
        ExError ignored;
        r->seconds = NAN;
        if (how == START_DONE && run_summary_read(dir, &s, &ignored) == 0) {
            r->seconds = s.wall_time;
            run_summary_free(&s);
        }
        if (how == START_FOREIGN) fprintf(stderr, "%s not run: %s\n", name, why);
        else if (!rn->quiet) printf("%s %s (kept as it is)\n", name, why);
        return 1;
    }
    return launch(rn, t, how == START_RESUME ? status : NULL, err) == 0 ? 0 : -1;
}

static void finished(Runner *rn, int t, int wstatus) {
    const Plan *p = rn->plan;
    TrialRun *r = &rn->runs[t];
    r->state = T_DONE;
    r->seconds = now_seconds() - r->started;
    r->exit_code = WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : 128 + WTERMSIG(wstatus);
    char name[64], dir[4200];
    trial_name(name, sizeof name, t, p->sweep.n_trials);
    snprintf(dir, sizeof dir, "%s/%s", rn->sweep_dir, name);
    RunSummary s;
    ExError err;
    int have = run_summary_read(dir, &s, &err) == 0;
    if (have) snprintf(r->status, sizeof r->status, "%s", s.status);
    else snprintf(r->status, sizeof r->status, r->exit_code == 0 ? "finished" : "failed");
    if (r->exit_code != 0 && strcmp(r->status, "finished") == 0) snprintf(r->status, sizeof r->status, "failed");
    if (r->exit_code != 0 && strcmp(r->status, "running") == 0) snprintf(r->status, sizeof r->status, "failed");
    char secs[32];
    format_seconds(secs, sizeof secs, r->seconds);
    int done = 0;
    for (int k = 0; k < p->sweep.n_trials; k++) done += rn->runs[k].state == T_DONE;
    if (r->exit_code == 0) {
        if (!rn->quiet) {
            printf("%s finished in %s (%d of %d done)", name, secs, done, p->sweep.n_trials);
            if (have && s.best_val == s.best_val) printf(": best val_loss %.5g (epoch %d)", s.best_val, s.best_epoch);
            putchar('\n');
        }
    } else {
        char log[4300], last[512];
        snprintf(log, sizeof log, "%s/%s.log", rn->sweep_dir, name);
        last_log_line(log, last, sizeof last);
        /* failures are reported as they happen, not only at the end (hydra#2284) */
        fprintf(stderr, "%s %s (exit %d) after %s (%d of %d done): %s\n    log: %s\n", name, r->status,
                r->exit_code, secs, done, p->sweep.n_trials, last[0] ? last : "(no output)", log);
    }
    if (have) run_summary_free(&s);
}

static int find_trial(const Runner *rn, pid_t pid) {
    for (int t = 0; t < rn->plan->sweep.n_trials; t++)
        if (rn->runs[t].state == T_RUNNING && rn->runs[t].pid == pid) return t;
    return -1;
}

static void stop_running(Runner *rn) {
    for (int t = 0; t < rn->plan->sweep.n_trials; t++)
        if (rn->runs[t].state == T_RUNNING) kill(rn->runs[t].pid, SIGTERM);
}

/* What launch() gives a trial on its command line, space-joined (as overrides.txt lists it). */
static char *child_overrides(const Runner *rn, int t) {
    const Plan *p = rn->plan;
    StrBuf b = {0};
    strbuf_puts(&b, "");
    for (int i = 0; i < p->n_cli; i++) {
        strbuf_puts(&b, p->cli[i]);
        strbuf_putc(&b, ' ');
    }
    if (rn->jobs > 1 && !p->user_set_threads) strbuf_puts(&b, "threads=1 ");
    char *trial = join_overrides(&p->sweep.trials[t]);
    strbuf_puts(&b, trial);
    free(trial);
    return b.s;
}

/* The summary table of the trials (in index order), printed and written as summary.csv. */
static void write_summary(Runner *rn) {
    const Plan *p = rn->plan;
    int n = p->sweep.n_trials, kept = 0;
    RunSummary *rows = calloc((size_t)n + 1, sizeof *rows);
    for (int t = 0; t < n; t++) {
        char name[64], dir[4200];
        trial_name(name, sizeof name, t, n);
        snprintf(dir, sizeof dir, "%s/%s", rn->sweep_dir, name);
        ExError err;
        if (run_summary_read(dir, &rows[kept], &err) == 0) {
            kept++;
            continue;
        }
        /* a trial that failed before its run directory existed (e.g. unreadable data) still
         * gets its row */
        RunSummary *r = &rows[kept++];
        memset(r, 0, sizeof *r);
        r->dir = strdup(dir);
        snprintf(r->name, sizeof r->name, "%s", p->name);
        const TrialRun *tr = &rn->runs[t];
        snprintf(r->status, sizeof r->status, "%s", tr->state == T_NOT_RUN ? "not run" : tr->status);
        r->overrides = child_overrides(rn, t);
        r->final_train = r->final_val = r->best_val = r->wall_time = NAN;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    summary_print_csv(rows, kept, mem);
    fclose(mem);
    ExError err;
    if (write_file_atomic(rn->sweep_dir, "summary.csv", text, &err) != 0) fprintf(stderr, "exprun: %s\n", err.msg);
    free(text);
    if (!rn->quiet && kept > 0) {
        putchar('\n');
        summary_print_table(rows, kept, stdout);
    }
    for (int i = 0; i < kept; i++) run_summary_free(&rows[i]);
    free(rows);
}

static int run_all(const Plan *p, int jobs, int fail_fast, int quiet, const char *sweep_dir_opt) {
    Runner rn = {0};
    rn.plan = p;
    rn.jobs = jobs < 1 ? 1 : jobs;
    if (rn.jobs > p->sweep.n_trials) rn.jobs = p->sweep.n_trials;
    rn.quiet = quiet;
    rn.fail_fast = fail_fast;
    ExError err;
    ssize_t len = readlink("/proc/self/exe", rn.exe, sizeof rn.exe - 1);
    if (len <= 0) {
        fprintf(stderr, "exprun sweep: cannot find the exprun program (/proc/self/exe): %s\n", strerror(errno));
        return EXIT_RUNTIME;
    }
    rn.exe[len] = '\0';
    if (sweep_dir_opt) {
        snprintf(rn.sweep_dir, sizeof rn.sweep_dir, "%s", sweep_dir_opt);
        if (make_dirs(rn.sweep_dir, &err) != 0) {
            fprintf(stderr, "exprun: %s\n", err.msg);
            return EXIT_RUNTIME;
        }
    } else if (create_sweep_dir(p->root, p->name, rn.sweep_dir, sizeof rn.sweep_dir, &err) != 0) {
        fprintf(stderr, "exprun: %s\n", err.msg);
        return EXIT_RUNTIME;
    }
    int n = p->sweep.n_trials;
    rn.runs = calloc((size_t)n, sizeof *rn.runs);
    if (!quiet)
        printf("sweep: %s (%d trial%s, %d at a time%s)\n", rn.sweep_dir, n, n == 1 ? "" : "s", rn.jobs,
               rn.jobs > 1 && !p->user_set_threads ? ", threads=1 each" : "");
    write_sweep_tsv(rn.sweep_dir, p, rn.runs);
    signals_install();
    int next = 0, running = 0, failures = 0, stopping = 0, forwarded = 0;
    while (running > 0 || (next < n && !stopping)) {
        while (!stopping && running < rn.jobs && next < n) {
            int started = start_trial(&rn, next, &err);
            if (started < 0) {
                fprintf(stderr, "exprun: %s\n", err.msg);
                rn.runs[next].state = T_DONE;
                rn.runs[next].exit_code = EXIT_RUNTIME;
                snprintf(rn.runs[next].status, sizeof rn.runs[next].status, "failed");
            }
            if (started == 0) running++;
            else if (rn.runs[next].exit_code != 0) {
                failures++;
                if (fail_fast) stopping = 1;
            }
            next++;
            write_sweep_tsv(rn.sweep_dir, p, rn.runs);
        }
        if (running == 0) break;
        /* Poll (10 Hz) rather than block, so a stop signal is seen at once. */
        int wstatus;
        pid_t pid = waitpid(-1, &wstatus, WNOHANG);
        if (pid == 0 || (pid < 0 && errno == EINTR)) {
            if (signals_stop_requested() && !forwarded) {
                /* Ctrl-C reaches the trials directly (same process group); a kill of this
                 * process does not. SIGTERM either way: each trial checkpoints and stops, and a
                 * trial that already got SIGINT ignores it (a second SIGINT would abort). */
                stopping = forwarded = 1;
                stop_running(&rn);
                fprintf(stderr, "exprun sweep: stopping: waiting for %d running trial%s to checkpoint\n", running,
                        running == 1 ? "" : "s");
            }
            struct timespec ts = {0, 100 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        if (pid < 0) break;
        int t = find_trial(&rn, pid);
        if (t < 0) continue;
        running--;
        finished(&rn, t, wstatus);
        if (rn.runs[t].exit_code != 0) {
            failures++;
            if (fail_fast && !stopping) {
                stopping = 1;
                stop_running(&rn);
                fprintf(stderr, "exprun sweep: --fail-fast: stopping the other trials\n");
            }
        }
        write_sweep_tsv(rn.sweep_dir, p, rn.runs);
    }
    int not_run = 0;
    for (int t = 0; t < n; t++)
        if (rn.runs[t].state == T_PENDING) {
            rn.runs[t].state = T_NOT_RUN;
            not_run++;
        }
    write_sweep_tsv(rn.sweep_dir, p, rn.runs);
    write_summary(&rn);
    int bad = failures + not_run;
    if (!quiet || bad) {
        FILE *out = bad ? stderr : stdout;
        fprintf(out, "sweep: %d of %d trials finished", n - bad, n);
        if (failures) fprintf(out, ", %d failed or stopped", failures);
        if (not_run) fprintf(out, ", %d not run", not_run);
        fprintf(out, "; table in %s/sweep.tsv and summary.csv\n", rn.sweep_dir);
    }
    free(rn.runs);
    int sig = signals_stop_requested();
    if (sig) return 128 + sig;
    return bad > 100 ? 100 : bad;
}

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
            return how == START_FOREIGN ? EXIT_USAGE : strcmp(status, "finished") == 0 ? EXIT_OK : EXIT_DIVERGED;
        }
        if (how == START_RESUME) {
            free(overrides);
            if (!quiet) printf("sweep trial %d: resuming %s (it was %s)\n", index, out_dir, status);
            return command_resume(out_dir, quiet, isatty(STDERR_FILENO) && !quiet);
        }
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
    fprintf(stderr, "exprun sweep: %s%s\n\n%s", msg, arg ? arg : "", SWEEP_USAGE);
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
        rc = run_all(&plan, jobs > 0 ? (int)jobs : 1, fail_fast, quiet, sweep_dir);
    }
    plan_free(&plan);
done:
    free(overrides);
    return rc;
}
