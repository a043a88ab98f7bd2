/* history.h — the per-epoch metrics table kept in memory: named columns, one row per epoch.
 * It is the source of both metrics.csv and the /metrics/epochs table of results.h5. */
#ifndef EXPRUN_HISTORY_H
#define EXPRUN_HISTORY_H

#include <stdint.h>
#include <stdio.h>

#define HISTORY_MAX_COLS 32

typedef struct History {
    int ncols;
    char *names[HISTORY_MAX_COLS];
    int64_t nrows, cap;
    double *rows;                /* (nrows, ncols) */
    double pending[HISTORY_MAX_COLS];
    int pending_set[HISTORY_MAX_COLS];
} History;

/* Set a value of the row being built; a new column is added the first time a name is seen. */
void history_set(History *h, const char *name, double value);
/* Append the row being built (unset columns are NaN). */
void history_commit(History *h);
/* Write the values set since the last commit onto the last row instead of a new one (figures of
 * the finished run, such as the test metrics, kept beside its last epoch); columns not set keep
 * their values. Nothing happens while the table has no row. */
void history_commit_onto_last(History *h);
/* Drop rows after the first `n` (resume). */
void history_truncate(History *h, int64_t n);
double history_get(const History *h, int64_t row, const char *name);
void history_free(History *h);
/* One CSV line of row r (header if r < 0), of the first ncols columns (columns are only ever
 * added at the end, so a file's header stays a prefix of the table's). */
void history_csv_line(const History *h, int64_t r, int ncols, FILE *out);

#endif
