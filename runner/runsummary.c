/* runsummary.c — a run directory read for the table of runs (see runsummary.h). */
#include "runsummary.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "h5read.h"
#include "rundir.h"
#include "spec/cfg.h"
#include "train.h"

void format_seconds(char *buf, size_t cap, double seconds) {
    if (!(seconds >= 0) || seconds > 1e9) {
        snprintf(buf, cap, "-");
        return;
    }
    if (seconds < 60) {
        snprintf(buf, cap, "%.1fs", seconds);
        return;
    }
    long s = (long)(seconds + 0.5);
    snprintf(buf, cap, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
}

/* ---- one run ------------------------------------------------------------------------------- */

static int is_run_dir(const char *dir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/resolved.yaml", dir);
    return access(path, F_OK) == 0;
}

static void trim(char *s) {
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
}

/* "running" in the status file, but nobody holds the run's lock: the process is gone (killed, or
 * its machine went down) without writing a final status. A shared lock is only taken for a
 * moment and never blocks: a live run holds the exclusive lock, so LOCK_SH fails. */
static int run_is_orphaned(const char *dir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/.lock", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    int free_lock = flock(fd, LOCK_SH | LOCK_NB) == 0;
    close(fd);                    /* closing releases the shared lock at once */
    return free_lock;
}

static int column_of(char **names, int ncols, const char *name) {
    for (int c = 0; c < ncols; c++)
        if (strcmp(names[c], name) == 0) return c;
    return -1;
}

static void add_metric(RunSummary *s, const char *name, double value) {
    s->metric_names = realloc(s->metric_names, (size_t)(s->n_metrics + 1) * sizeof *s->metric_names);
    s->metric_values = realloc(s->metric_values, (size_t)(s->n_metrics + 1) * sizeof *s->metric_values);
    s->metric_names[s->n_metrics] = strdup(name);
    s->metric_values[s->n_metrics++] = value;
}

/* "2026-12-06T12:34:56+0000" (runresults.c's iso_time) as seconds since the epoch; NaN if not one. */
static double iso_seconds(const char *text) {
    int y, mo, d, h, mi, sec, off_h, off_m;
    char sign;
    if (sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2d%c%2d%2d", &y, &mo, &d, &h, &mi, &sec, &sign, &off_h, &off_m) != 9 ||
        (sign != '+' && sign != '-'))
        return NAN;
    struct tm tm = {.tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi, .tm_sec = sec};
    double offset = (sign == '-' ? -1 : 1) * (off_h * 3600.0 + off_m * 60.0);
    return (double)timegm(&tm) - offset;
}

/* Seconds from results.h5's `started` (the run's start, or its last resume) to its `updated`. */
static double wall_seconds(const H5Reader *r) {
    char *started = NULL, *updated = NULL;
    ExError err;
    double seconds = NAN;
    if (h5r_has_attr(r, "/", "started") && h5r_has_attr(r, "/", "updated") &&
        h5r_attr_str(r, "/", "started", &started, &err) == 0 && h5r_attr_str(r, "/", "updated", &updated, &err) == 0)
        seconds = iso_seconds(updated) - iso_seconds(started);
    free(started);
    free(updated);
    return seconds;
}

static void read_metrics(const char *dir, RunSummary *s) {
    char path[4200];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    if (access(path, F_OK) != 0) {
        snprintf(s->note, sizeof s->note, "no results.h5 yet (no epoch has finished)");
        return;
    }
    ExError err;
    H5Reader *r = NULL;
    if (h5r_open_own(&r, path, &err) != 0) {
        snprintf(s->note, sizeof s->note, "%.500s", err.msg);
        return;
    }
    char *name = NULL;
    if (h5r_has_attr(r, "/", "run_name") && h5r_attr_str(r, "/", "run_name", &name, &err) == 0) {
        snprintf(s->name, sizeof s->name, "%s", name);
        free(name);
    }
    int ncols = 0;
    char **names = NULL;
    int64_t nrows = 0;
    double *rows = NULL;
    if (h5r_read_table(r, "/metrics/epochs", &ncols, &names, &nrows, &rows, &err) != 0) {
        snprintf(s->note, sizeof s->note, "%.500s", err.msg);
        h5r_close(r);
        return;
    }
    int64_t stopped = 0, stop_epoch = 0;
    char *why = NULL;
    if (h5r_has_attr(r, "/", "stopped_early") && h5r_attr_int(r, "/", "stopped_early", &stopped, &err) == 0 &&
        stopped == 1 && h5r_attr_int(r, "/", "stop_epoch", &stop_epoch, &err) == 0 &&
        h5r_attr_str(r, "/", "stop_reason", &why, &err) == 0) {
        s->stop_epoch = (int)stop_epoch;
        snprintf(s->stop_reason, sizeof s->stop_reason, "%s", why);
    }
    free(why);
    int c_train = column_of(names, ncols, "train_loss"), c_val = column_of(names, ncols, "val_loss");
    int c_time = column_of(names, ncols, "epoch_time"), c_epoch = column_of(names, ncols, "epoch");
    s->epochs = (int)nrows;
    s->train_time = 0;
    for (int64_t i = 0; i < nrows; i++) {
        const double *row = rows + i * ncols;
        if (c_time >= 0 && isfinite(row[c_time])) s->train_time += row[c_time];
        if (c_val >= 0 && isfinite(row[c_val]) && (isnan(s->best_val) || row[c_val] < s->best_val)) {
            s->best_val = row[c_val];
            s->best_epoch = c_epoch >= 0 ? (int)row[c_epoch] : (int)i + 1;
        }
    }
    if (nrows > 0) {
        const double *last = rows + (nrows - 1) * ncols;
        if (c_train >= 0) s->final_train = last[c_train];
        if (c_val >= 0) s->final_val = last[c_val];
        /* the last row's test_* and val_* statistics (val_loss has its own column) */
        for (int c = 0; c < ncols; c++)
            if (((strncmp(names[c], "test_", 5) == 0) || (strncmp(names[c], "val_", 4) == 0 && c != c_val)) &&
                isfinite(last[c]))
                add_metric(s, names[c], last[c]);
    } else {
        s->train_time = NAN;
    }
    h5r_free_strings(names, (size_t)ncols);
    free(rows);
    /* the evaluation block's numbers (PCA ratio, AUC, NMI, ...) */
    if (h5r_exists(r, "/evaluation")) {
        size_t n_eval = 0;
        char **eval_names = NULL;
        double *eval_values = NULL;
        if (h5r_attr_numbers(r, "/evaluation", &n_eval, &eval_names, &eval_values, &err) == 0)
            for (size_t i = 0; i < n_eval; i++) add_metric(s, eval_names[i], eval_values[i]);
        h5r_free_strings(eval_names, n_eval);
        free(eval_values);
    }
    s->wall_time = wall_seconds(r);
    h5r_close(r);
}

int run_summary_read(const char *dir, RunSummary *s, ExError *err) {
    memset(s, 0, sizeof *s);
    s->final_train = s->final_val = s->best_val = s->train_time = s->wall_time = NAN;
    if (!is_run_dir(dir)) return ex_fail(err, "%s is not a run directory (it has no resolved.yaml)", dir);
    s->dir = strdup(dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/resolved.yaml", dir);
    CfgDiags diags = {0};
    CfgNode *tree = cfg_parse_file(path, &diags);
    cfg_diags_free(&diags);
    if (tree) {
        const char *name = cfg_str(tree, "name");
        if (name) snprintf(s->name, sizeof s->name, "%s", name);
        s->epochs_total = (int)cfg_int(tree, "train.epochs", 0);
        cfg_free(tree);
    }
    snprintf(path, sizeof path, "%s/status", dir);
    char *status = read_file(path, NULL, NULL);
    snprintf(s->status, sizeof s->status, "%s", status ? status : "unknown");
    free(status);
    trim(s->status);
    if (strcmp(s->status, "running") == 0 && run_is_orphaned(dir)) snprintf(s->status, sizeof s->status, "killed?");
    snprintf(path, sizeof path, "%s/overrides.txt", dir);
    char *ov = read_file(path, NULL, NULL);
    if (!ov) ov = strdup("");
    trim(ov);
    run_keys_parse(&s->keys, ov);
    for (char *p = ov; *p; p++)
        if (*p == '\n') *p = ' ';
    s->overrides = ov;
    read_metrics(dir, s);
    if (!s->name[0]) {
        /* ROOT/NAME/TIMESTAMP: the folder above the run is the spec's name. */
        char tmp[4200];
        snprintf(tmp, sizeof tmp, "%s", dir);
        char *slash = strrchr(tmp, '/');
        if (slash) {
            *slash = '\0';
            slash = strrchr(tmp, '/');
            snprintf(s->name, sizeof s->name, "%.255s", slash ? slash + 1 : tmp);
        }
    }
    return 0;
}

void run_summary_free(RunSummary *s) {
    free(s->dir);
    free(s->overrides);
    s->dir = s->overrides = NULL;
    run_keys_free(&s->keys);
    h5r_free_strings(s->metric_names, (size_t)s->n_metrics);
    free(s->metric_values);
    s->metric_names = NULL;
    s->metric_values = NULL;
    s->n_metrics = 0;
}

/* ---- finding runs -------------------------------------------------------------------------- */

typedef struct PathList {
    char **items;
    int n, cap;
} PathList;

static void path_add(PathList *l, const char *p) {
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->items = realloc(l->items, (size_t)l->cap * sizeof *l->items);
    }
    l->items[l->n++] = strdup(p);
}

static void walk(const char *dir, int depth, PathList *out) {
    if (is_run_dir(dir)) {
        path_add(out, dir);
        return;                     /* a run holds no runs */
    }
    if (depth > 12) return;         /* also stops symlink loops */
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || strcmp(e->d_name, "checkpoints") == 0) continue;
        char child[4200];
        if (strcmp(dir, "/") == 0) snprintf(child, sizeof child, "/%s", e->d_name);
        else snprintf(child, sizeof child, "%s/%s", dir, e->d_name);
        struct stat st;
        if (strcmp(e->d_name, "latest") == 0 && lstat(child, &st) == 0 && S_ISLNK(st.st_mode))
            continue;               /* results/NAME/latest: a run found under its own name */
        if (stat(child, &st) == 0 && S_ISDIR(st.st_mode)) walk(child, depth + 1, out);
    }
    closedir(d);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int find_run_dirs(char *const *folders, int n_folders, char ***paths, int *n_paths, ExError *err) {
    PathList l = {0};
    for (int i = 0; i < n_folders; i++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s", folders[i]);
        size_t len = strlen(dir);
        while (len > 1 && dir[len - 1] == '/') dir[--len] = '\0';
        struct stat st;
        if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
            for (int k = 0; k < l.n; k++) free(l.items[k]);
            free(l.items);
            return ex_fail(err, "%s is not a directory", folders[i]);
        }
        walk(dir, 0, &l);
    }
    if (l.n > 1) qsort(l.items, (size_t)l.n, sizeof *l.items, cmp_str);
    int kept = 0;
    for (int i = 0; i < l.n; i++) {
        if (kept > 0 && strcmp(l.items[kept - 1], l.items[i]) == 0) {
            free(l.items[i]);
            continue;
        }
        l.items[kept++] = l.items[i];
    }
    *paths = l.items;
    *n_paths = kept;
    return 0;
}
