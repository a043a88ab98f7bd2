/* sweep_plan.c — a sweep's plan (sweep_plan.h). */
#include "sweep_plan.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rundir.h"
#include "strbuf.h"
#include "train.h"   /* the exit statuses */

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

static int is_sweep_override(const char *o) {
    return strncmp(o, "sweep=", 6) == 0 || strncmp(o, "sweep.", 6) == 0;
}

static size_t key_len(const char *o) {
    const char *eq = strchr(o, '=');
    return eq ? (size_t)(eq - o) : strlen(o);
}

void plan_free(Plan *p) {
    cfg_free(p->base);
    sweep_free(&p->sweep);
    free(p->cli);
}

/* Parse, override, expand, then validate every trial; print all problems at once. */
int plan_load(Plan *p, const char *spec_path, char *const *overrides, int n_overrides) {
    memset(p, 0, sizeof *p);
    p->spec_path = spec_path;
    CfgDiags diags = {0};
    p->base = cfg_parse_composed(spec_path, &diags);
    int failed = !p->base;
    for (int i = 0; p->base && i < n_overrides; i++)
        if (spec_apply_override(p->base, overrides[i], &diags) != 0) failed = 1;
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
void print_shell_word(const char *s, FILE *out) {
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

void print_overrides(const SweepTrial *tr, FILE *out) {
    for (int k = 0; k < tr->n; k++) {
        if (k) fputc(' ', out);
        print_shell_word(tr->overrides[k], out);
    }
}

char *join_overrides(const SweepTrial *tr) {
    StrBuf b = {0};
    strbuf_puts(&b, "");
    for (int k = 0; k < tr->n; k++) {
        if (k) strbuf_putc(&b, ' ');
        strbuf_puts(&b, tr->overrides[k]);
    }
    return b.s;
}

void list_trials(const Plan *p) {
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

int trial_digits(int n_trials) {
    int d = 3;
    for (int n = n_trials - 1, k = 1000; n >= k && d < 9; k *= 10) d++;
    return d;
}

void trial_name(char *buf, size_t cap, int t, int n_trials) {
    snprintf(buf, cap, "trial-%0*d", trial_digits(n_trials), t);
}

int create_sweep_dir(const char *root, const char *name, char *out, size_t cap, ExError *err) {
    char parent[4096];
    if (snprintf(parent, sizeof parent, "%s/%s", root, name) >= (int)sizeof parent)
        return ex_fail(err, "output folder name too long: %s/%s", root, name);
    if (make_dirs(parent, err) != 0) return -1;
    return make_stamped_dir(parent, "sweep-", out, cap, err);
}

/* sweep.tsv: index, run directory, status, exit code, seconds, overrides — rewritten (by
 * rename) whenever a trial starts or ends, so `column -t sweep.tsv` shows the sweep live. */
void write_sweep_tsv(const char *sweep_dir, const Plan *p, const TrialRun *runs) {
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

/* ---- a trial's run directory when the sweep starts it ------------------------------------------ */

/* A sweep run again (same --sweep-dir, or a requeued array task) finds some trials' run
 * directories present: it goes on from them rather than refusing, and never over another
 * sweep's. */

char *trial_overrides_text(const Plan *p, int t, int with_threads) {
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

TrialStart trial_start(const Plan *p, int t, const char *dir, char *status, size_t cap, char *why, size_t why_cap) {
    status[0] = why[0] = '\0';
    struct stat st;
    if (stat(dir, &st) != 0 || (S_ISDIR(st.st_mode) && dir_is_empty(dir))) return START_NEW;   /* --out takes it */
    char path[4400];
    snprintf(path, sizeof path, "%s/resolved.yaml", dir);
    int complete = access(path, F_OK) == 0;
    /* the same spec text and the same overrides (threads=1 of a --jobs sweep either way); a
     * directory stopped while being made may lack them */
    char *spec_text = read_file(p->spec_path, NULL, NULL);
    snprintf(path, sizeof path, "%s/spec.yaml", dir);
    int same_spec = same_file_text(path, spec_text) || (!complete && access(path, F_OK) != 0);
    free(spec_text);
    snprintf(path, sizeof path, "%s/overrides.txt", dir);
    char *plain = trial_overrides_text(p, t, 0), *threaded = trial_overrides_text(p, t, !p->user_set_threads);
    int same_overrides = same_file_text(path, plain) || same_file_text(path, threaded) ||
                         (!complete && access(path, F_OK) != 0);
    free(plain);
    free(threaded);
    if (!complete && same_spec && same_overrides && rundir_clear_unbegun(dir)) {
        /* killed while its folder was being made (a lost node, a sweep killed midway): nothing
         * was trained, so the trial starts anew there */
        snprintf(why, why_cap, "was stopped while its folder was being made, before training began: started anew");
        return START_NEW;
    }
    if (!complete) {
        snprintf(why, why_cap, "%s exists but holds no complete run (no resolved.yaml): remove it to run the trial "
                               "again", dir);
        return START_FOREIGN;
    }
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

int trial_kept_exit(TrialStart how, const char *status) {
    if (how == START_FOREIGN) return EXIT_USAGE;
    return strcmp(status, "finished") == 0 ? EXIT_OK : EXIT_DIVERGED;
}
