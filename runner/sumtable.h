/* sumtable.h — runs as a table of typed columns: what `exprun summarize` prints and writes as CSV,
 * and what a sweep's summary.csv holds.
 *
 * Columns: the run, its name and status, its epochs; one column per override key (numbers where
 * every value is one, so that pandas reads them as numbers; the keys every run shares are left out
 * of the printed table, kept in the CSV); the final and best losses; the test and task metrics a
 * run recorded (test_loss, val_accuracy, ae_over_pca_test, anomaly_auc, kmeans_nmi, ...: the
 * headline ones printed, every one in the CSV); the training time (Σ epoch_time, training steps
 * only) and, in the CSV, the wall time.
 *
 * Printed numbers line up on their decimal point: a column's numbers share one count of decimals.
 * The best run (lowest best_val; by the --sort column when that is a metric) is marked "*" and
 * named on a last line with its keys. Grouped, runs that differ only in the keys left out (by
 * default: the seed) become one row of mean ± sample standard deviation with their count. */
#ifndef EXPRUN_SUMTABLE_H
#define EXPRUN_SUMTABLE_H

#include <stdio.h>

#include "error.h"
#include "runsummary.h"

typedef struct SumOptions {
    const char *sort;          /* a column's name, "-name" for descending; NULL: the runs' order */
    int group;                 /* group the runs (mean ± std over each group) */
    const char *group_keys;    /* comma-separated keys to group by; NULL: every swept key but seed */
} SumOptions;

/* The aligned table (paths relative to the runs' common folder, named on a first line) or CSV with
 * a header row (full paths, raw numbers). -1 with err (nothing printed) for a --sort column or a
 * group key the runs do not have; the message lists the ones they have. */
int summary_print_table(const RunSummary *runs, int n, const SumOptions *opt, FILE *out, ExError *err);
int summary_print_csv(const RunSummary *runs, int n, const SumOptions *opt, FILE *out, ExError *err);

/* The table as JSON for the report (report.h): {"columns": [{"name", "format" (text, number, key,
 * integer, seconds), "key", "metric", "higher_is_better"}], "rows": [[cell, ...] per run, in the
 * runs' order; numbers raw, null when none], "best": row or -1, "criterion": its column}. The
 * printed table's columns only. */
int summary_print_json(const RunSummary *runs, int n, FILE *out);

/* The best run (lowest best_val, else lowest final train loss), or -1 when no run has a loss;
 * line gets "RUN: best_val 0.01234 (the lowest); key=value ..." with the keys that vary. */
int summary_best(const RunSummary *runs, int n, char *line, size_t cap);

#endif
