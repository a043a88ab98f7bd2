/* sweep_jobs.c — `exprun sweep --jobs N`: every trial as a child process of this one, N at a
 * time: /proc/self/exe SPEC [key=value ...] [threads=1] TRIAL-OVERRIDES --out DIR (or
 * `exprun resume DIR` for a trial a killed sweep left), stdout and stderr appended to
 * SWEEP_DIR/trial-III.log. A failed trial does not stop the others (unless --fail-fast); a stop
 * signal is passed on to the running trials, which checkpoint. */
#include "sweep_jobs.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "rundir.h"
#include "signals.h"
#include "strbuf.h"
#include "runsummary.h"
#include "sumtable.h"
#include "train.h"

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

typedef struct Runner {
    const Plan *plan;
    char exe[4096];
    char sweep_dir[4096];
    int jobs, quiet, fail_fast;
    TrialRun *runs;
    char best[2048];     /* the best trial and its keys (sumtable.h's summary_best), "" when none */
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
        r->exit_code = trial_kept_exit(how, status);
        snprintf(r->status, sizeof r->status, "%s", how == START_FOREIGN ? "failed" : status);
        RunSummary s;
        ExError ignored;
        r->seconds = NAN;
        if (how == START_DONE && run_summary_read(dir, &s, &ignored) == 0) {
            r->seconds = s.train_time;
            run_summary_free(&s);
        }
        if (how == START_FOREIGN) fprintf(stderr, "%s not run: %s\n", name, why);
        else if (!rn->quiet) printf("%s %s (kept as it is)\n", name, why);
        return 1;
    }
    if (how == START_NEW && why[0] && !rn->quiet) printf("%s %s\n", name, why);
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
        for (int i = 0; i < p->n_cli; i++) run_keys_add(&r->keys, p->cli[i]);
        if (rn->jobs > 1 && !p->user_set_threads) run_keys_add(&r->keys, "threads=1");
        for (int i = 0; i < p->sweep.trials[t].n; i++) run_keys_add(&r->keys, p->sweep.trials[t].overrides[i]);
        r->final_train = r->final_val = r->best_val = r->train_time = r->wall_time = NAN;
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    ExError err;
    summary_print_csv(rows, kept, NULL, mem, &err);
    fclose(mem);
    if (write_file_atomic(rn->sweep_dir, "summary.csv", text, &err) != 0) fprintf(stderr, "exprun: %s\n", err.msg);
    free(text);
    if (!rn->quiet && kept > 0) {
        putchar('\n');
        summary_print_table(rows, kept, NULL, stdout, &err);
    }
    /* the best trial, named last (as Ray Tune and Optuna do) */
    if (!rn->quiet && summary_best(rows, kept, rn->best, sizeof rn->best) < 0) rn->best[0] = '\0';
    for (int i = 0; i < kept; i++) run_summary_free(&rows[i]);
    free(rows);
}

int sweep_run_jobs(const Plan *p, int jobs, int fail_fast, int quiet, const char *sweep_dir_opt) {
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
    if (!quiet && rn.best[0]) printf("best trial: %s\n", rn.best);
    free(rn.runs);
    int sig = signals_stop_requested();
    if (sig) return 128 + sig;
    return bad > 100 ? 100 : bad;
}
