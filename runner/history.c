#include "history.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int column(History *h, const char *name) {
    for (int c = 0; c < h->ncols; c++)
        if (strcmp(h->names[c], name) == 0) return c;
    if (h->ncols == HISTORY_MAX_COLS) return -1;
    /* A new column: earlier rows get NaN in it. */
    int c = h->ncols++;
    h->names[c] = strdup(name);
    double *grown = malloc((size_t)(h->cap ? h->cap : 1) * h->ncols * sizeof *grown);
    for (int64_t r = 0; r < h->nrows; r++) {
        for (int k = 0; k < c; k++) grown[r * h->ncols + k] = h->rows[r * (h->ncols - 1) + k];
        grown[r * h->ncols + c] = NAN;
    }
    free(h->rows);
    h->rows = grown;
    return c;
}

void history_set(History *h, const char *name, double value) {
    int c = column(h, name);
    if (c < 0) return;
    h->pending[c] = value;
    h->pending_set[c] = 1;
}

void history_commit(History *h) {
    if (h->nrows == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 64;
        h->rows = realloc(h->rows, (size_t)h->cap * h->ncols * sizeof *h->rows);
    }
    for (int c = 0; c < h->ncols; c++) {
        h->rows[h->nrows * h->ncols + c] = h->pending_set[c] ? h->pending[c] : NAN;
        h->pending_set[c] = 0;
    }
    h->nrows++;
}

void history_commit_onto_last(History *h) {
    if (h->nrows == 0) return;
    double *last = h->rows + (h->nrows - 1) * h->ncols;
    for (int c = 0; c < h->ncols; c++)
        if (h->pending_set[c]) {
            last[c] = h->pending[c];
            h->pending_set[c] = 0;
        }
}

void history_truncate(History *h, int64_t n) {
    if (n < h->nrows) h->nrows = n < 0 ? 0 : n;
}

double history_get(const History *h, int64_t row, const char *name) {
    for (int c = 0; c < h->ncols; c++)
        if (strcmp(h->names[c], name) == 0) return h->rows[row * h->ncols + c];
    return NAN;
}

void history_free(History *h) {
    for (int c = 0; c < h->ncols; c++) free(h->names[c]);
    free(h->rows);
    memset(h, 0, sizeof *h);
}

void history_csv_line(const History *h, int64_t r, int ncols, FILE *out) {
    for (int c = 0; c < ncols && c < h->ncols; c++) {
        if (c) fputc(',', out);
        if (r < 0) fputs(h->names[c], out);
        else {
            double v = h->rows[r * h->ncols + c];
            if (isnan(v)) continue;
            if (strcmp(h->names[c], "epoch") == 0 || strcmp(h->names[c], "step") == 0)
                fprintf(out, "%lld", (long long)v);
            else fprintf(out, "%.9g", v);
        }
    }
    fputc('\n', out);
}
