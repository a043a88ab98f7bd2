/* runsummary.h — the runs under some folders, each read for a row of the table of runs (the
 * table itself, its typed columns, sorting and grouping, is sumtable.h's; `exprun summarize`,
 * summarize.h's).
 *
 * A run directory is any folder holding resolved.yaml; the folders given are searched for them
 * (a run directory itself may be given). Each run contributes one row read from its files:
 *   status       the status file; "running" whose lock nobody holds becomes "killed?" (the
 *                process died without writing a status — resume it)
 *   keys         overrides.txt as key = value (runkeys.h): a sweep's swept keys
 *   metrics      results.h5 /metrics/epochs: epochs done (rows), final train_loss and
 *                val_loss, the best (lowest) val_loss and its epoch, training time = Σ epoch_time;
 *                the last row's test_* and val_* statistics (test_loss, val_accuracy, ...) and
 *                /evaluation's numbers (ae_over_pca_test, anomaly_auc, kmeans_nmi, ...)
 *   wall time    results.h5's `updated` minus its `started` (the run's start or last resume)
 *   epochs_total train.epochs of resolved.yaml
 * results.h5 is published by rename (h5doc.h), so a run that is still training is read like
 * any other: the table shows its last completed epoch. Runs are found in path order. */
#ifndef EXPRUN_RUNSUMMARY_H
#define EXPRUN_RUNSUMMARY_H

#include <stdio.h>

#include "error.h"
#include "runkeys.h"

typedef struct RunSummary {
    char *dir;                  /* the run directory (as found from the folder given) */
    char name[256];             /* the spec's name */
    char status[32];
    char *overrides;            /* space-joined, "" when none */
    RunKeys keys;               /* the overrides as key = value */
    int epochs, epochs_total;   /* done; planned (0 when unknown) */
    double final_train, final_val, best_val; /* NaN when absent */
    int best_epoch;             /* epoch of best_val (1-based), 0 when none */
    double train_time;          /* seconds, Σ epoch_time: the training steps only */
    double wall_time;           /* seconds from `started` to `updated` in results.h5; NaN when absent */
    int n_metrics;              /* test_* and val_* statistics of the last epoch row, /evaluation's numbers */
    char **metric_names;
    double *metric_values;
    int stop_epoch;             /* early stopping ended the run after this epoch; 0 when it did not */
    char stop_reason[256];      /* and why (results.h5's stop_reason) */
    char note[512];             /* what could not be read, "" when all was fine */
} RunSummary;

/* Read one run directory into s (free with run_summary_free). A missing or unreadable
 * results.h5 is not an error: the row gets NaNs and a note. Returns -1 only when dir is not a
 * run directory. */
int run_summary_read(const char *dir, RunSummary *s, ExError *err);
void run_summary_free(RunSummary *s);

/* Every run directory under the given folders (a folder may itself be one), sorted by path,
 * without duplicates. *paths is malloc'd (free each and the array). Hidden folders and
 * checkpoints/ are not searched. -1 when a folder does not exist. */
int find_run_dirs(char *const *folders, int n_folders, char ***paths, int *n_paths, ExError *err);

/* Seconds as "12.3s" (under a minute) or "h:mm:ss". */
void format_seconds(char *buf, size_t cap, double seconds);

#endif
