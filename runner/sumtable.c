/* sumtable.c — runs as a table of typed columns (sumtable.h). */
#include "sumtable.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jsonw.h"
#include "runkeys.h"

enum { IN_TABLE = 1, IN_CSV = 2, IN_BOTH = 3 };

typedef enum {
    FMT_TEXT,         /* text, left-aligned */
    FMT_NUMBER,       /* a measured number: decimals for 5 significant digits of the column's largest */
    FMT_KEY_NUMBER,   /* a number a user wrote: the fewest decimals that give every value back */
    FMT_INTEGER,
    FMT_SECONDS       /* "12.3s" or "h:mm:ss" in the table, seconds in the CSV */
} Format;

typedef struct Column {
    char name[128];        /* the table's header ("" when CSV only) */
    char csv_name[128];    /* the CSV's header ("" when table only) */
    int shown;             /* IN_TABLE | IN_CSV */
    Format format;
    int right;             /* right-aligned in the table: numbers, and epochs' "done/planned" */
    int is_key;            /* an override key: what runs are grouped by */
    int is_metric;         /* a loss, metric or time: averaged over a group; --sort on it picks the best */
    double *num;           /* per row, NaN when none (every format but FMT_TEXT) */
    char **text;           /* per row, NULL when none (FMT_TEXT, and keys as written) */
    double *spread;        /* grouped tables: the standard deviation beside each mean (NaN: one run) */
} Column;

typedef struct Table {
    int rows, ncols;
    Column *col;
} Table;

static Column *add_column(Table *t, const char *name, const char *csv_name, int shown, Format format) {
    t->col = realloc(t->col, (size_t)(t->ncols + 1) * sizeof *t->col);
    Column *c = &t->col[t->ncols++];
    memset(c, 0, sizeof *c);
    snprintf(c->name, sizeof c->name, "%s", name);
    snprintf(c->csv_name, sizeof c->csv_name, "%s", csv_name);
    c->shown = shown;
    c->format = format;
    c->right = format != FMT_TEXT;
    size_t rows = (size_t)(t->rows > 0 ? t->rows : 1);
    c->num = malloc(rows * sizeof *c->num);
    for (size_t r = 0; r < rows; r++) c->num[r] = NAN;
    c->text = calloc(rows, sizeof *c->text);
    return c;
}

static void set_text(Column *c, int row, const char *text) {
    free(c->text[row]);
    c->text[row] = text ? strdup(text) : NULL;
}

static void table_free(Table *t) {
    for (int j = 0; j < t->ncols; j++) {
        for (int r = 0; r < t->rows; r++) free(t->col[j].text[r]);
        free(t->col[j].text);
        free(t->col[j].num);
        free(t->col[j].spread);
    }
    free(t->col);
    memset(t, 0, sizeof *t);
}

/* The column a user names: by its table header or its CSV header. */
static const Column *find_column(const Table *t, const char *name) {
    for (int j = 0; j < t->ncols; j++)
        if ((t->col[j].name[0] && strcmp(t->col[j].name, name) == 0) ||
            (t->col[j].csv_name[0] && strcmp(t->col[j].csv_name, name) == 0))
            return &t->col[j];
    return NULL;
}

/* ---- the runs' columns --------------------------------------------------------------------------- */

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

/* The metrics worth a column in the printed table (the CSV has all): test loss, accuracies and
 * exact matches, forecasting skill, and the evaluation block's PCA ratio, AUC and NMI. */
static int headline_metric(const char *name) {
    static const char *const EVALUATION[] = {"ae_over_pca_test", "anomaly_auc", "kmeans_nmi"};
    if (strcmp(name, "test_loss") == 0 || strstr(name, "accuracy") || strstr(name, "exact_match") ||
        strstr(name, "skill"))
        return 1;
    for (size_t i = 0; i < sizeof EVALUATION / sizeof EVALUATION[0]; i++)
        if (strcmp(name, EVALUATION[i]) == 0) return 1;
    return 0;
}

static void build(Table *t, const RunSummary *runs, int n) {
    memset(t, 0, sizeof *t);
    t->rows = n;
    size_t prefix = common_folder(runs, n);
    Column *c = add_column(t, "run", "", IN_TABLE, FMT_TEXT);
    for (int i = 0; i < n; i++) set_text(c, i, runs[i].dir + prefix);
    c = add_column(t, "", "run_dir", IN_CSV, FMT_TEXT);
    for (int i = 0; i < n; i++) set_text(c, i, runs[i].dir);
    c = add_column(t, "name", "name", IN_BOTH, FMT_TEXT);
    for (int i = 0; i < n; i++) set_text(c, i, runs[i].name);
    c = add_column(t, "status", "", IN_TABLE, FMT_TEXT);
    for (int i = 0; i < n; i++)
        set_text(c, i, runs[i].stop_epoch > 0 && strcmp(runs[i].status, "finished") == 0 ? "stopped early"
                                                                                           : runs[i].status);
    c = add_column(t, "", "status", IN_CSV, FMT_TEXT);
    for (int i = 0; i < n; i++) set_text(c, i, runs[i].status);
    c = add_column(t, "epochs", "", IN_TABLE, FMT_TEXT);
    c->right = 1;
    for (int i = 0; i < n; i++) {
        char cell[32];
        if (runs[i].epochs_total > 0) snprintf(cell, sizeof cell, "%d/%d", runs[i].epochs, runs[i].epochs_total);
        else snprintf(cell, sizeof cell, "%d", runs[i].epochs);
        set_text(c, i, cell);
    }
    c = add_column(t, "", "epochs", IN_CSV, FMT_INTEGER);
    for (int i = 0; i < n; i++) c->num[i] = runs[i].epochs;
    c = add_column(t, "", "epochs_total", IN_CSV, FMT_INTEGER);
    for (int i = 0; i < n; i++) c->num[i] = runs[i].epochs_total > 0 ? runs[i].epochs_total : NAN;

    /* one column per override key; the keys every run shares are the CSV's only */
    RunKeys *keys = calloc((size_t)n + 1, sizeof *keys);
    char **dirs = calloc((size_t)n + 1, sizeof *dirs);
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < runs[i].keys.n; k++) {
            char override[4096];
            snprintf(override, sizeof override, "%s=%s", runs[i].keys.keys[k], runs[i].keys.values[k]);
            run_keys_add(&keys[i], override);
        }
        dirs[i] = runs[i].dir;
    }
    /* a run that does not set a key: the value its resolved spec used */
    run_keys_complete(keys, n, dirs);
    KeyColumn *kc = NULL;
    int nk = key_columns(keys, n, &kc);
    for (int k = 0; k < nk; k++) {
        c = add_column(t, kc[k].key, kc[k].key, kc[k].varies || n == 1 ? IN_BOTH : IN_CSV,
                       kc[k].numeric ? FMT_KEY_NUMBER : FMT_TEXT);
        c->is_key = 1;
        for (int i = 0; i < n; i++) {
            const char *v = run_keys_get(&keys[i], kc[k].key);
            set_text(c, i, v);
            if (v) text_is_number(v, &c->num[i]);
        }
    }
    key_columns_free(kc, nk);
    for (int i = 0; i < n; i++) run_keys_free(&keys[i]);
    free(keys);
    free(dirs);

    static const char *const LOSSES[][2] = {{"train_loss", "final_train_loss"}, {"val_loss", "final_val_loss"},
                                            {"best_val", "best_val_loss"}};
    for (int l = 0; l < 3; l++) {
        c = add_column(t, LOSSES[l][0], LOSSES[l][1], IN_BOTH, FMT_NUMBER);
        c->is_metric = 1;
        for (int i = 0; i < n; i++)
            c->num[i] = l == 0 ? runs[i].final_train : l == 1 ? runs[i].final_val : runs[i].best_val;
    }
    c = add_column(t, "best_epoch", "best_epoch", IN_BOTH, FMT_INTEGER);
    for (int i = 0; i < n; i++) c->num[i] = runs[i].best_epoch > 0 ? runs[i].best_epoch : NAN;

    /* the metrics any run recorded, in order of first appearance */
    for (int i = 0; i < n; i++)
        for (int m = 0; m < runs[i].n_metrics; m++) {
            const char *name = runs[i].metric_names[m];
            if (find_column(t, name)) continue;
            c = add_column(t, name, name, headline_metric(name) ? IN_BOTH : IN_CSV, FMT_NUMBER);
            c->is_metric = 1;
            for (int r = 0; r < n; r++)
                for (int q = 0; q < runs[r].n_metrics; q++)
                    if (strcmp(runs[r].metric_names[q], name) == 0) c->num[r] = runs[r].metric_values[q];
        }

    c = add_column(t, "train_time", "train_time_s", IN_BOTH, FMT_SECONDS);
    c->is_metric = 1;
    for (int i = 0; i < n; i++) c->num[i] = runs[i].train_time;
    c = add_column(t, "", "wall_time_s", IN_CSV, FMT_SECONDS);
    c->is_metric = 1;
    for (int i = 0; i < n; i++) c->num[i] = runs[i].wall_time;
    c = add_column(t, "", "overrides", IN_CSV, FMT_TEXT);
    for (int i = 0; i < n; i++) set_text(c, i, runs[i].overrides ? runs[i].overrides : "");
    c = add_column(t, "", "stop_epoch", IN_CSV, FMT_INTEGER);
    for (int i = 0; i < n; i++) c->num[i] = runs[i].stop_epoch > 0 ? runs[i].stop_epoch : NAN;
    c = add_column(t, "", "stop_reason", IN_CSV, FMT_TEXT);
    for (int i = 0; i < n; i++) set_text(c, i, runs[i].stop_reason);
}

/* ---- groups ---------------------------------------------------------------------------------------- */

static int same_text(const char *a, const char *b) { return (!a && !b) || (a && b && strcmp(a, b) == 0); }

/* The key columns to group by: those named (comma-separated), or every key that varies but seed. */
static int group_columns(const Table *t, const char *names, int *which, ExError *err) {
    int count = 0;
    if (!names) {
        for (int j = 0; j < t->ncols; j++)
            if (t->col[j].is_key && (t->col[j].shown & IN_TABLE) && strcmp(t->col[j].name, "seed") != 0)
                which[count++] = j;
        return count;
    }
    char *copy = strdup(names), *save = NULL;
    for (char *name = strtok_r(copy, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
        int found = -1;
        for (int j = 0; j < t->ncols; j++)
            if (t->col[j].is_key && strcmp(t->col[j].name, name) == 0) found = j;
        if (found < 0) {
            char have[1024] = "";
            for (int j = 0; j < t->ncols; j++)
                if (t->col[j].is_key && strlen(have) + strlen(t->col[j].name) + 3 < sizeof have)
                    snprintf(have + strlen(have), sizeof have - strlen(have), "%s%s", have[0] ? ", " : "",
                             t->col[j].name);
            ex_fail(err, "--group-by: no run sets the key '%s' (the runs' keys: %s)", name,
                    have[0] ? have : "none: they have no overrides");
            free(copy);
            return -1;
        }
        which[count++] = found;
    }
    free(copy);
    return count;
}

/* t's rows grouped by the name and the given key columns: one row per group (in order of first
 * appearance) with the keys, the count of runs and of finished ones, and every metric's mean and
 * sample standard deviation over the group's runs that have it. */
static int build_groups(const Table *t, const char *names, Table *g, ExError *err) {
    int *which = malloc((size_t)(t->ncols + 1) * sizeof *which);
    int nkeys = group_columns(t, names, which, err);
    if (nkeys < 0) {
        free(which);
        return -1;
    }
    const Column *name_col = find_column(t, "name");
    const Column *status_col = NULL;      /* the status as its file says (the CSV's) */
    for (int j = 0; j < t->ncols; j++)
        if (strcmp(t->col[j].csv_name, "status") == 0) status_col = &t->col[j];
    int *group_of = malloc((size_t)(t->rows + 1) * sizeof *group_of), groups = 0;
    int *first = malloc((size_t)(t->rows + 1) * sizeof *first);
    for (int r = 0; r < t->rows; r++) {
        group_of[r] = -1;
        for (int q = 0; q < groups && group_of[r] < 0; q++) {
            int same = same_text(name_col->text[r], name_col->text[first[q]]);
            for (int k = 0; k < nkeys && same; k++)
                same = same_text(t->col[which[k]].text[r], t->col[which[k]].text[first[q]]);
            if (same) group_of[r] = q;
        }
        if (group_of[r] < 0) {
            first[groups] = r;
            group_of[r] = groups++;
        }
    }
    memset(g, 0, sizeof *g);
    g->rows = groups;
    Column *c = add_column(g, "name", "name", IN_BOTH, FMT_TEXT);
    for (int q = 0; q < groups; q++) set_text(c, q, name_col->text[first[q]]);
    for (int k = 0; k < nkeys; k++) {
        const Column *src = &t->col[which[k]];
        c = add_column(g, src->name, src->csv_name, IN_BOTH, src->format);
        c->is_key = 1;
        for (int q = 0; q < groups; q++) {
            set_text(c, q, src->text[first[q]]);
            c->num[q] = src->num[first[q]];
        }
    }
    /* by index: add_column moves the columns (realloc) */
    int count = g->ncols;
    add_column(g, "runs", "runs", IN_BOTH, FMT_INTEGER);
    add_column(g, "finished", "finished", IN_BOTH, FMT_INTEGER);
    for (int q = 0; q < groups; q++) g->col[count].num[q] = g->col[count + 1].num[q] = 0;
    for (int r = 0; r < t->rows; r++) {
        g->col[count].num[group_of[r]] += 1;
        if (status_col->text[r] && strcmp(status_col->text[r], "finished") == 0) g->col[count + 1].num[group_of[r]] += 1;
    }
    for (int j = 0; j < t->ncols; j++) {
        const Column *src = &t->col[j];
        if (!src->is_metric) continue;
        c = add_column(g, src->name, src->csv_name, src->shown, src->format);
        c->is_metric = 1;
        c->spread = malloc((size_t)(groups > 0 ? groups : 1) * sizeof *c->spread);
        for (int q = 0; q < groups; q++) {
            double sum = 0, sq = 0;
            int have = 0;
            for (int r = 0; r < t->rows; r++)
                if (group_of[r] == q && isfinite(src->num[r])) {
                    sum += src->num[r];
                    have++;
                }
            double mean = have ? sum / have : NAN;
            for (int r = 0; r < t->rows; r++)
                if (group_of[r] == q && isfinite(src->num[r])) sq += (src->num[r] - mean) * (src->num[r] - mean);
            c->num[q] = mean;
            c->spread[q] = have > 1 ? sqrt(sq / (have - 1)) : NAN;
        }
    }
    free(which);
    free(group_of);
    free(first);
    return 0;
}

/* ---- order and the best row ------------------------------------------------------------------------ */

typedef struct SortBy {
    const Column *col;
    int descending;        /* sorting: largest first; picking the best: the largest is the best */
} SortBy;

static SortBy sort_key;    /* compare_rows' column: qsort passes no context */

/* Numbers (NaN last) or texts (none last), then the runs' own order: a stable sort. */
static int compare_rows(const void *pa, const void *pb) {
    int a = *(const int *)pa, b = *(const int *)pb;
    const Column *c = sort_key.col;
    int cmp = 0;
    if (c->format == FMT_TEXT) {
        const char *x = c->text[a], *y = c->text[b];
        if (!x || !y) cmp = !x - !y;
        else cmp = sort_key.descending ? strcmp(y, x) : strcmp(x, y);
    } else {
        double x = c->num[a], y = c->num[b];
        if (isnan(x) || isnan(y)) cmp = isnan(x) - isnan(y);
        else cmp = sort_key.descending ? (x < y) - (x > y) : (x > y) - (x < y);
    }
    return cmp ? cmp : (a > b) - (a < b);
}

/* The columns' names, each once (the table's and the CSV's may share one). */
static void list_columns(const Table *t, char *buf, size_t cap) {
    buf[0] = '\0';
    for (int j = 0; j < t->ncols; j++) {
        const char *name = t->col[j].name[0] ? t->col[j].name : t->col[j].csv_name;
        int seen = 0;
        for (int k = 0; k < j && !seen; k++)
            seen = strcmp(name, t->col[k].name[0] ? t->col[k].name : t->col[k].csv_name) == 0;
        if (!seen && strlen(buf) + strlen(name) + 3 < cap)
            snprintf(buf + strlen(buf), cap - strlen(buf), "%s%s", buf[0] ? ", " : "", name);
    }
}

/* Whether a larger value of the metric is the better one: accuracies, AUC, NMI, purity, exact
 * matches, forecasting skill, explained variance, throughput. Losses and errors: the smaller. */
static int higher_is_better(const char *name) {
    static const char *const HIGHER[] = {"accuracy", "auc", "nmi", "purity", "exact_match", "skill",
                                         "explained_variance", "_per_sec"};
    for (size_t i = 0; i < sizeof HIGHER / sizeof HIGHER[0]; i++)
        if (strstr(name, HIGHER[i])) return 1;
    return 0;
}

/* The rows' order (opt->sort, else as given) and the best row (-1: none), or -1 with err. The
 * best is by the sort column when that is a metric, else by the lowest best_val (or train loss);
 * the metric's name says whether higher or lower is better, whichever way the rows are sorted. */
static int order_rows(const Table *t, const SumOptions *opt, int *order, int *best, SortBy *crit,
                      ExError *err) {
    for (int r = 0; r < t->rows; r++) order[r] = r;
    SortBy by = {0};
    if (opt && opt->sort) {
        const char *name = opt->sort[0] == '-' ? opt->sort + 1 : opt->sort;
        by.col = find_column(t, name);
        by.descending = opt->sort[0] == '-';
        if (!by.col) {
            char have[2048];
            list_columns(t, have, sizeof have);
            return ex_fail(err, "--sort: no column '%s' (columns: %s)", name, have);
        }
        sort_key = by;
        qsort(order, (size_t)t->rows, sizeof *order, compare_rows);
    }
    /* the best: by the sort column when it is a metric, else the lowest best_val (or train loss) */
    SortBy pick = {by.col, by.col ? higher_is_better(by.col->name[0] ? by.col->name : by.col->csv_name) : 0};
    if (!pick.col || !pick.col->is_metric || pick.col->format == FMT_SECONDS) {
        pick.col = find_column(t, "best_val");
        pick.descending = 0;
        int any = 0;
        for (int r = 0; r < t->rows && pick.col; r++) any |= isfinite(pick.col->num[r]);
        if (!any) pick.col = find_column(t, "train_loss");
    }
    *best = -1;
    *crit = pick;
    for (int r = 0; pick.col && r < t->rows; r++) {
        double v = pick.col->num[r];
        if (!isfinite(v)) continue;
        if (*best < 0 || (pick.descending ? v > pick.col->num[*best] : v < pick.col->num[*best])) *best = r;
    }
    return 0;
}

/* ---- formatting ------------------------------------------------------------------------------------- */

/* Decimals for a column's numbers: FMT_NUMBER, 5 significant digits of the largest (-1: use %.4e,
 * for numbers too small or large for fixed decimals); FMT_KEY_NUMBER, the fewest that give every
 * value back exactly (-1: use %g). */
static int column_decimals(const Column *c, int rows) {
    if (c->format == FMT_KEY_NUMBER) {
        int need = 0;
        for (int r = 0; r < rows; r++) {
            double v = c->num[r];
            if (!isfinite(v)) continue;
            int d = 0;
            char buf[64];
            for (; d <= 8; d++) {
                snprintf(buf, sizeof buf, "%.*f", d, v);
                if (strtod(buf, NULL) == v) break;
            }
            if (d > 8) return -1;
            if (d > need) need = d;
        }
        return need;
    }
    double largest = 0;
    for (int r = 0; r < rows; r++)
        if (isfinite(c->num[r]) && fabs(c->num[r]) > largest) largest = fabs(c->num[r]);
    if (largest == 0) return 0;
    if (largest < 1e-4 || largest >= 1e9) return -1;
    int digits = (int)floor(log10(largest));
    int d = 4 - digits;
    return d < 0 ? 0 : d > 8 ? 8 : d;
}

static void format_value(char *buf, size_t cap, const Column *c, double v, int decimals) {
    if (isnan(v)) snprintf(buf, cap, "-");
    else if (c->format == FMT_INTEGER) snprintf(buf, cap, "%.0f", v);
    else if (c->format == FMT_SECONDS) format_seconds(buf, cap, v);
    else if (decimals < 0) snprintf(buf, cap, c->format == FMT_KEY_NUMBER ? "%g" : "%.4e", v);
    else snprintf(buf, cap, "%.*f", decimals, v);
}

/* Characters as a terminal shows them (UTF-8: "±" is one). */
static int display_width(const char *s) {
    int w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

typedef struct Line {
    char text[2048];
} Line;

/* "RUN (best_val 0.01234, the lowest): key=value ..." with the keys the table shows. */
static Line best_line(const Table *t, int best, SortBy crit, const char *label) {
    Line l;
    char what[96];
    format_value(what, sizeof what, crit.col, crit.col->num[best], column_decimals(crit.col, t->rows));
    snprintf(l.text, sizeof l.text, "%s (%s%s %s, the %s)", label, crit.col->name[0] ? crit.col->name : crit.col->csv_name,
             crit.col->spread ? " mean" : "", what, crit.descending ? "highest" : "lowest");
    const char *sep = ": ";
    for (int j = 0; j < t->ncols; j++) {
        const Column *c = &t->col[j];
        if (!c->is_key || !(c->shown & IN_TABLE)) continue;
        char value[512];
        const char *v = c->text[best] ? c->text[best] : "-";
        ex_printable(value, sizeof value, v, strlen(v));
        char key[512];
        ex_printable(key, sizeof key, c->name, strlen(c->name));
        size_t used = strlen(l.text);
        if (used + strlen(key) + strlen(value) + 4 < sizeof l.text)
            snprintf(l.text + used, sizeof l.text - used, "%s%s=%s", sep, key, value);
        sep = " ";
    }
    return l;
}

/* ---- printing ---------------------------------------------------------------------------------------- */

enum { CELL_CAP = 256 };

static void print_table(const Table *t, const int *order, int best, SortBy crit, const char *folder,
                        FILE *out) {
    int shown[256], ns = 0;
    for (int j = 0; j < t->ncols && ns < 256; j++)
        if (t->col[j].shown & IN_TABLE) shown[ns++] = j;
    char *cells = calloc((size_t)(t->rows + 1) * (size_t)ns, CELL_CAP);
#define CELL(r, s) (cells + ((size_t)(r) * (size_t)ns + (size_t)(s)) * CELL_CAP)
    int right[256] = {0}, width[256] = {0};
    for (int s = 0; s < ns; s++) {
        const Column *c = &t->col[shown[s]];
        ex_printable(CELL(0, s), CELL_CAP, c->name, strlen(c->name));   /* a key is a run's text too */
        right[s] = c->right;
        int decimals = column_decimals(c, t->rows);
        int spread_width = 0;
        char mean[96], spread[96];
        if (c->spread)
            for (int r = 0; r < t->rows; r++) {
                format_value(spread, sizeof spread, c, c->spread[r], decimals);
                if ((int)strlen(spread) > spread_width) spread_width = (int)strlen(spread);
            }
        for (int i = 0; i < t->rows; i++) {
            int r = order[i];
            char *cell = CELL(i + 1, s);
            if (c->format == FMT_TEXT) {
                /* what a run's files say, made printable: they may hold any bytes */
                const char *text = c->text[r] && *c->text[r] ? c->text[r] : "-";
                ex_printable(cell, CELL_CAP, text, strlen(text));
            } else if (c->spread) {
                format_value(mean, sizeof mean, c, c->num[r], decimals);
                format_value(spread, sizeof spread, c, c->spread[r], decimals);
                snprintf(cell, CELL_CAP, "%s ± %*s", mean, spread_width, spread);
            } else {
                format_value(cell, CELL_CAP, c, c->num[r], decimals);
            }
        }
    }
    for (int r = 0; r <= t->rows; r++)
        for (int s = 0; s < ns; s++) {
            int w = display_width(CELL(r, s));
            if (w > width[s]) width[s] = w;
        }
    if (folder) fprintf(out, "# runs in %s\n", folder);
    for (int r = 0; r <= t->rows; r++) {
        /* a gutter marks the best row, as git branch marks the current one */
        fputs(r > 0 && order[r - 1] == best ? "* " : "  ", out);
        for (int s = 0; s < ns; s++) {
            const char *cell = CELL(r, s);
            int pad = width[s] - display_width(cell);
            if (right[s]) fprintf(out, "%*s%s", pad, "", cell);
            else if (s == ns - 1) fputs(cell, out);     /* last column: no trailing blanks */
            else fprintf(out, "%s%*s", cell, pad, "");
            if (s < ns - 1) fputs("  ", out);
        }
        fputc('\n', out);
    }
    if (best >= 0) {
        int at = 0;
        while (order[at] != best) at++;
        fprintf(out, "# best: %s\n", best_line(t, best, crit, CELL(at + 1, 0)).text);
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

static void csv_number(const Column *c, double v, FILE *out) {
    if (isnan(v)) return;
    if (c->format == FMT_INTEGER) fprintf(out, "%.0f", v);
    else if (c->format == FMT_SECONDS) fprintf(out, "%.3f", v);
    else fprintf(out, "%.9g", v);
}

static void print_csv(const Table *t, const int *order, FILE *out) {
    int first = 1;
    for (int j = 0; j < t->ncols; j++) {
        const Column *c = &t->col[j];
        if (!(c->shown & IN_CSV)) continue;
        if (!first) fputc(',', out);
        first = 0;
        if (c->spread) {
            csv_field(c->csv_name, out);
            fputs("_mean,", out);
            csv_field(c->csv_name, out);
            fputs("_std", out);
        } else {
            csv_field(c->csv_name, out);
        }
    }
    fputc('\n', out);
    for (int i = 0; i < t->rows; i++) {
        int r = order[i];
        first = 1;
        for (int j = 0; j < t->ncols; j++) {
            const Column *c = &t->col[j];
            if (!(c->shown & IN_CSV)) continue;
            if (!first) fputc(',', out);
            first = 0;
            if (c->format == FMT_TEXT || (c->is_key && c->text[r])) {
                /* a key as its run wrote it ("1.0e-3" stays so; pandas reads it as a number) */
                csv_field(c->text[r] ? c->text[r] : "", out);
            } else {
                csv_number(c, c->num[r], out);
                if (c->spread) {
                    fputc(',', out);
                    csv_number(c, c->spread[r], out);
                }
            }
        }
        fputc('\n', out);
    }
}

/* ---- the entry points --------------------------------------------------------------------------------- */

/* The table of the runs as opt asks (grouped, sorted): 0, or -1 with err. */
static int prepare(const RunSummary *runs, int n, const SumOptions *opt, Table *t, int **order, int *best,
                   SortBy *crit, ExError *err) {
    build(t, runs, n);
    if (opt && opt->group) {
        Table g;
        if (build_groups(t, opt->group_keys, &g, err) != 0) {
            table_free(t);
            return -1;
        }
        table_free(t);
        *t = g;
    }
    *order = malloc((size_t)(t->rows + 1) * sizeof **order);
    if (order_rows(t, opt, *order, best, crit, err) != 0) {
        free(*order);
        table_free(t);
        return -1;
    }
    return 0;
}

int summary_print_table(const RunSummary *runs, int n, const SumOptions *opt, FILE *out, ExError *err) {
    Table t;
    int *order, best;
    SortBy crit;
    if (prepare(runs, n, opt, &t, &order, &best, &crit, err) != 0) return -1;
    size_t prefix = common_folder(runs, n);
    char folder[4200];
    snprintf(folder, sizeof folder, "%.*s", (int)prefix, n > 0 ? runs[0].dir : "");
    print_table(&t, order, best, crit, prefix > 0 && !(opt && opt->group) ? folder : NULL, out);
    if (!(opt && opt->group))
        /* why each run that stopped early stopped */
        for (int i = 0; i < n; i++)
            if (runs[i].stop_epoch > 0) {
                char why[512];
                ex_printable(why, sizeof why, runs[i].stop_reason, strlen(runs[i].stop_reason));
                fprintf(out, "# %s stopped early after epoch %d: %s\n", runs[i].dir + prefix, runs[i].stop_epoch, why);
            }
    free(order);
    table_free(&t);
    return 0;
}

int summary_print_csv(const RunSummary *runs, int n, const SumOptions *opt, FILE *out, ExError *err) {
    Table t;
    int *order, best;
    SortBy crit;
    if (prepare(runs, n, opt, &t, &order, &best, &crit, err) != 0) return -1;
    print_csv(&t, order, out);
    free(order);
    table_free(&t);
    return 0;
}

int summary_print_json(const RunSummary *runs, int n, FILE *out) {
    Table t;
    int *order, best;
    SortBy crit;
    ExError err;
    if (prepare(runs, n, NULL, &t, &order, &best, &crit, &err) != 0) return -1;
    static const char *const FORMATS[] = {"text", "number", "key", "integer", "seconds"};
    fputs("{\"columns\": [", out);
    int first = 1;
    for (int j = 0; j < t.ncols; j++) {
        const Column *c = &t.col[j];
        if (!(c->shown & IN_TABLE)) continue;
        char name[256];
        ex_printable(name, sizeof name, c->name, strlen(c->name));
        fputs(first ? "{\"name\": " : ", {\"name\": ", out);
        first = 0;
        json_string(out, name);
        fprintf(out, ", \"format\": \"%s\", \"key\": %s, \"metric\": %s, \"higher_is_better\": %s}",
                FORMATS[c->format], c->is_key ? "true" : "false", c->is_metric ? "true" : "false",
                higher_is_better(c->name) ? "true" : "false");
    }
    fputs("], \"rows\": [", out);
    for (int r = 0; r < t.rows; r++) {
        fputs(r ? ", [" : "[", out);
        first = 1;
        for (int j = 0; j < t.ncols; j++) {
            const Column *c = &t.col[j];
            if (!(c->shown & IN_TABLE)) continue;
            if (!first) fputs(", ", out);
            first = 0;
            if (c->format == FMT_TEXT) {
                char cell[1024];
                const char *text = c->text[r] ? c->text[r] : "";
                ex_printable(cell, sizeof cell, text, strlen(text));
                json_string(out, cell);
            } else {
                json_number(out, c->num[r], 9);
            }
        }
        fputc(']', out);
    }
    fprintf(out, "], \"best\": %d, \"criterion\": ", best);
    json_string(out, best >= 0 ? crit.col->name : "");
    fputs("}", out);
    free(order);
    table_free(&t);
    return 0;
}

int summary_best(const RunSummary *runs, int n, char *line, size_t cap) {
    Table t;
    int *order, best;
    SortBy crit;
    ExError err;
    line[0] = '\0';
    if (prepare(runs, n, NULL, &t, &order, &best, &crit, &err) != 0) return -1;
    if (best >= 0) snprintf(line, cap, "%s", best_line(&t, best, crit, runs[best].dir).text);
    free(order);
    table_free(&t);
    return best;
}
