/* summarize.c — the table of runs (see summarize.h). */
#include "summarize.h"

#include <dirent.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5read.h"
#include "rundir.h"
#include "spec/cfg.h"
#include "train.h"

static const char SUMMARIZE_USAGE[] =
    "usage: exprun summarize DIR... [--csv]\n"
    "\n"
    "One row per run directory found under the DIRs (a DIR may itself be a run): name, status,\n"
    "epochs done/planned, final train and validation loss, best validation loss and its epoch,\n"
    "wall time (sum of epoch times) and overrides. Runs still training are read as they are.\n"
    "Aligned columns by default; --csv writes CSV with a header row (full paths, raw numbers).\n"
    "  exprun summarize results/ae_fashion\n"
    "  exprun summarize results/ae_fashion/sweep-20250101-120000 --csv > sweep.csv\n";

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
    s->wall_time = 0;
    for (int64_t i = 0; i < nrows; i++) {
        const double *row = rows + i * ncols;
        if (c_time >= 0 && isfinite(row[c_time])) s->wall_time += row[c_time];
        if (c_val >= 0 && isfinite(row[c_val]) && (isnan(s->best_val) || row[c_val] < s->best_val)) {
            s->best_val = row[c_val];
            s->best_epoch = c_epoch >= 0 ? (int)row[c_epoch] : (int)i + 1;
        }
    }
    if (nrows > 0) {
        const double *last = rows + (nrows - 1) * ncols;
        if (c_train >= 0) s->final_train = last[c_train];
        if (c_val >= 0) s->final_val = last[c_val];
    } else {
        s->wall_time = NAN;
    }
    h5r_free_strings(names, (size_t)ncols);
    free(rows);
    h5r_close(r);
}

int run_summary_read(const char *dir, RunSummary *s, ExError *err) {
    memset(s, 0, sizeof *s);
    s->final_train = s->final_val = s->best_val = s->wall_time = NAN;
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

/* ---- printing ------------------------------------------------------------------------------ */

enum { COL_RUN, COL_NAME, COL_STATUS, COL_EPOCHS, COL_TRAIN, COL_VAL, COL_BEST, COL_BEST_EPOCH, COL_TIME,
       COL_OVERRIDES, N_COLS };
static const char *const HEADERS[N_COLS] = {"run", "name", "status", "epochs", "train_loss", "val_loss",
                                            "best_val", "best_epoch", "time", "overrides"};
static const int RIGHT_ALIGNED[N_COLS] = {0, 0, 0, 1, 1, 1, 1, 1, 1, 0};

static void format_number(char *buf, size_t cap, double v) {
    if (isnan(v)) snprintf(buf, cap, "-");
    else snprintf(buf, cap, "%.5g", v);
}

/* Length of the longest folder prefix ("a/b/") shared by every run's path. */
static size_t common_folder(const RunSummary *runs, int n) {
    if (n == 0) return 0;
    size_t len = strlen(runs[0].dir);
    for (int i = 1; i < n; i++) {
        size_t k = 0;
        while (k < len && runs[i].dir[k] && runs[i].dir[k] == runs[0].dir[k]) k++;
        len = k;
    }
    while (len > 0 && runs[0].dir[len - 1] != '/') len--;
    /* keep at least the last path component of every run */
    for (int i = 0; i < n; i++)
        if (strlen(runs[i].dir) <= len) return 0;
    return len;
}

void summary_print_table(const RunSummary *runs, int n, FILE *out) {
    size_t prefix = common_folder(runs, n);
    char *cells = calloc((size_t)(n + 1) * N_COLS, 256);
#define CELL(r, c) (cells + ((size_t)(r) * N_COLS + (c)) * 256)
    for (int c = 0; c < N_COLS; c++) snprintf(CELL(0, c), 256, "%s", HEADERS[c]);
    for (int i = 0; i < n; i++) {
        const RunSummary *s = &runs[i];
        /* what a run's files say, made printable: they may hold any bytes */
        ex_printable(CELL(i + 1, COL_RUN), 256, s->dir + prefix, strlen(s->dir + prefix));
        ex_printable(CELL(i + 1, COL_NAME), 256, s->name, strlen(s->name));
        const char *status = s->stop_epoch > 0 && strcmp(s->status, "finished") == 0 ? "stopped early" : s->status;
        ex_printable(CELL(i + 1, COL_STATUS), 256, status, strlen(status));
        if (s->epochs_total > 0) snprintf(CELL(i + 1, COL_EPOCHS), 256, "%d/%d", s->epochs, s->epochs_total);
        else snprintf(CELL(i + 1, COL_EPOCHS), 256, "%d", s->epochs);
        format_number(CELL(i + 1, COL_TRAIN), 256, s->final_train);
        format_number(CELL(i + 1, COL_VAL), 256, s->final_val);
        format_number(CELL(i + 1, COL_BEST), 256, s->best_val);
        if (s->best_epoch > 0) snprintf(CELL(i + 1, COL_BEST_EPOCH), 256, "%d", s->best_epoch);
        else snprintf(CELL(i + 1, COL_BEST_EPOCH), 256, "-");
        format_seconds(CELL(i + 1, COL_TIME), 256, s->wall_time);
        const char *overrides = s->overrides && *s->overrides ? s->overrides : "-";
        ex_printable(CELL(i + 1, COL_OVERRIDES), 256, overrides, strlen(overrides));
    }
    int width[N_COLS] = {0};
    for (int r = 0; r <= n; r++)
        for (int c = 0; c < N_COLS; c++) {
            int w = (int)strlen(CELL(r, c));
            if (w > width[c]) width[c] = w;
        }
    if (prefix > 0) fprintf(out, "# runs in %.*s\n", (int)prefix, runs[0].dir);
    for (int r = 0; r <= n; r++) {
        for (int c = 0; c < N_COLS; c++) {
            const char *cell = CELL(r, c);
            if (c == N_COLS - 1) fprintf(out, "%s", cell);   /* last column: no trailing blanks */
            else if (RIGHT_ALIGNED[c]) fprintf(out, "%*s  ", width[c], cell);
            else fprintf(out, "%-*s  ", width[c], cell);
        }
        fputc('\n', out);
    }
    /* why each run that stopped early stopped */
    for (int i = 0; i < n; i++)
        if (runs[i].stop_epoch > 0) {
            char why[512];
            ex_printable(why, sizeof why, runs[i].stop_reason, strlen(runs[i].stop_reason));
            fprintf(out, "# %s stopped early after epoch %d: %s\n", runs[i].dir + prefix, runs[i].stop_epoch, why);
        }
#undef CELL
    free(cells);
}

/* RFC 4180: quote a field holding a comma, quote or line break; double the quotes inside. */
static void csv_field(const char *text, FILE *out) {
    char printable[2048];
    const char *s = ex_printable(printable, sizeof printable, text, strlen(text));
    if (!strpbrk(s, ",\"\n\r")) {
        fputs(s, out);
        return;
    }
    fputc('"', out);
    for (const char *p = s; *p; p++) {
        if (*p == '"') fputc('"', out);
        fputc(*p, out);
    }
    fputc('"', out);
}

static void csv_number(double v, FILE *out) {
    if (!isnan(v)) fprintf(out, "%.9g", v);
}

void summary_print_csv(const RunSummary *runs, int n, FILE *out) {
    fputs("run_dir,name,status,epochs,epochs_total,final_train_loss,final_val_loss,best_val_loss,best_epoch,"
          "wall_time_s,overrides,stop_epoch,stop_reason\n", out);
    for (int i = 0; i < n; i++) {
        const RunSummary *s = &runs[i];
        csv_field(s->dir, out);
        fputc(',', out);
        csv_field(s->name, out);
        fputc(',', out);
        csv_field(s->status, out);
        fprintf(out, ",%d,", s->epochs);
        if (s->epochs_total > 0) fprintf(out, "%d", s->epochs_total);
        fputc(',', out);
        csv_number(s->final_train, out);
        fputc(',', out);
        csv_number(s->final_val, out);
        fputc(',', out);
        csv_number(s->best_val, out);
        fputc(',', out);
        if (s->best_epoch > 0) fprintf(out, "%d", s->best_epoch);
        fputc(',', out);
        if (!isnan(s->wall_time)) fprintf(out, "%.3f", s->wall_time);
        fputc(',', out);
        csv_field(s->overrides ? s->overrides : "", out);
        fputc(',', out);
        if (s->stop_epoch > 0) fprintf(out, "%d", s->stop_epoch);
        fputc(',', out);
        csv_field(s->stop_reason, out);
        fputc('\n', out);
    }
}

/* ---- the command --------------------------------------------------------------------------- */

int command_summarize(int argc, char **argv) {
    int csv = 0, n_folders = 0;
    char **folders = calloc((size_t)argc + 1, sizeof *folders);
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(SUMMARIZE_USAGE, stdout);
            free(folders);
            return EXIT_OK;
        }
        if (strcmp(argv[i], "--csv") == 0) csv = 1;
        else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "exprun summarize: unknown option %s\n\n%s", argv[i], SUMMARIZE_USAGE);
            free(folders);
            return EXIT_USAGE;
        } else folders[n_folders++] = argv[i];
    }
    if (n_folders == 0) {
        fprintf(stderr, "exprun summarize: missing DIR\n\n%s", SUMMARIZE_USAGE);
        free(folders);
        return EXIT_USAGE;
    }
    ExError err;
    char **paths = NULL;
    int n = 0;
    if (find_run_dirs(folders, n_folders, &paths, &n, &err) != 0) {
        fprintf(stderr, "exprun summarize: %s\n", err.msg);
        free(folders);
        return EXIT_USAGE;
    }
    free(folders);
    RunSummary *runs = calloc((size_t)n + 1, sizeof *runs);
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (run_summary_read(paths[i], &runs[kept], &err) == 0) kept++;
        free(paths[i]);
    }
    free(paths);
    if (kept == 0) fprintf(stderr, "exprun summarize: no run directories found (folders holding resolved.yaml)\n");
    else if (csv) summary_print_csv(runs, kept, stdout);
    else summary_print_table(runs, kept, stdout);
    for (int i = 0; i < kept; i++) {
        if (runs[i].note[0]) fprintf(stderr, "note: %s: %s\n", runs[i].dir, runs[i].note);
        run_summary_free(&runs[i]);
    }
    free(runs);
    return EXIT_OK;
}
