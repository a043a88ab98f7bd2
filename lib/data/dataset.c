/* dataset.c — datasets in memory: copies of rows, splits, and the scalers fitted on train.
 *
 * Shapes (see dataset.h): x (n, T, d), x_tokens (n, T), labels (n), y (n, Ty, dy),
 * y_tokens (n, Ty). A row of each array is contiguous, so copying a sample is one memcpy per
 * array. */
#include "dataset.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "parallel.h"

void dataset_free(Dataset *ds) {
    if (!ds) return;
    free(ds->x);
    free(ds->x_tokens);
    free(ds->labels);
    free(ds->y);
    free(ds->y_tokens);
    memset(ds, 0, sizeof *ds);
}

/* Copy row `from` of an array of rows of `width` elements of `size` bytes. */
static void copy_row(void *dst, const void *src, size_t size, size_t width, int to, int from) {
    memcpy((char *)dst + (size_t)to * width * size, (const char *)src + (size_t)from * width * size,
           width * size);
}

Dataset dataset_slice(const Dataset *src, const int32_t *rows, int count) {
    Dataset out = *src;
    out.n = count;
    out.x = NULL;
    out.x_tokens = NULL;
    out.labels = NULL;
    out.y = NULL;
    out.y_tokens = NULL;
    size_t xw = (size_t)src->T * (size_t)src->d, yw = (size_t)src->Ty * (size_t)src->dy;
    if (src->x) out.x = ex_malloc((size_t)count * xw * sizeof(float));
    if (src->x_tokens) out.x_tokens = ex_malloc((size_t)count * (size_t)src->T * sizeof(int32_t));
    if (src->labels) out.labels = ex_malloc((size_t)count * sizeof(int32_t));
    if (src->y) out.y = ex_malloc((size_t)count * yw * sizeof(float));
    if (src->y_tokens) out.y_tokens = ex_malloc((size_t)count * (size_t)src->Ty * sizeof(int32_t));
    for (int i = 0; i < count; i++) {
        int r = rows ? rows[i] : i;
        assert(r >= 0 && r < src->n);
        if (out.x) copy_row(out.x, src->x, sizeof(float), xw, i, r);
        if (out.x_tokens) copy_row(out.x_tokens, src->x_tokens, sizeof(int32_t), (size_t)src->T, i, r);
        if (out.labels) out.labels[i] = src->labels[r];
        if (out.y) copy_row(out.y, src->y, sizeof(float), yw, i, r);
        if (out.y_tokens) copy_row(out.y_tokens, src->y_tokens, sizeof(int32_t), (size_t)src->Ty, i, r);
    }
    return out;
}

typedef struct GatherJob {
    const Dataset *ds;
    const int32_t *rows;
    int count;
    float *x, *y;
    int32_t *x_tokens, *labels, *y_tokens;
} GatherJob;

/* Rows [i0, i1) of the batch. */
static void gather_rows(const GatherJob *job, int i0, int i1) {
    const Dataset *ds = job->ds;
    const int32_t *rows = job->rows;
    float *x = job->x, *y = job->y;
    int32_t *x_tokens = job->x_tokens, *labels = job->labels, *y_tokens = job->y_tokens;
    size_t xw = (size_t)ds->T * (size_t)ds->d, yw = (size_t)ds->Ty * (size_t)ds->dy;
    for (int i = i0; i < i1; i++) {
        int r = rows[i];
        assert(r >= 0 && r < ds->n);
        if (x && ds->x) copy_row(x, ds->x, sizeof(float), xw, i, r);
        if (x_tokens && ds->x_tokens) copy_row(x_tokens, ds->x_tokens, sizeof(int32_t), (size_t)ds->T, i, r);
        if (labels && ds->labels) labels[i] = ds->labels[r];
        if (y && ds->y) copy_row(y, ds->y, sizeof(float), yw, i, r);
        if (y_tokens && ds->y_tokens) copy_row(y_tokens, ds->y_tokens, sizeof(int32_t), (size_t)ds->Ty, i, r);
    }
}

static void gather_part(void *ctx, int part, int parts) {
    const GatherJob *job = ctx;
    int i0, i1;
    par_range(job->count, part, parts, 1, &i0, &i1);
    gather_rows(job, i0, i1);
}

/* The rows are scattered over the whole set (a shuffled epoch), so each copy waits on memory:
 * a batch of 128 Fashion-MNIST images (400 KB) is shared between the threads. A copy is a copy
 * however it is split. */
void dataset_gather(const Dataset *ds, const int32_t *rows, int count, float *x, int32_t *x_tokens,
                    int32_t *labels, float *y, int32_t *y_tokens) {
    GatherJob job = {ds, rows, count, x, y, x_tokens, labels, y_tokens};
    size_t per_row = (x && ds->x ? (size_t)ds->T * ds->d : 0) + (x_tokens && ds->x_tokens ? (size_t)ds->T : 0) +
                     (y && ds->y ? (size_t)ds->Ty * ds->dy : 0) + (y_tokens && ds->y_tokens ? (size_t)ds->Ty : 0) + 1;
    par_run(gather_part, &job, par_parts_for(PAR_FLOPS_PER_FLOAT_PASS * (double)per_row * count, count));
}

/* ---- splits --------------------------------------------------------------------------------- */

static int cmp_i32(const void *a, const void *b) {
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

static int val_count(int n, double fraction) {
    if (fraction <= 0.0) return 0;
    if (fraction >= 1.0) return n;
    return (int)llround(fraction * n);
}

/* The rows of each part, training's first (*n_train of them), then validation's. Which rows go
 * where is random; within each part the original order is kept, so a split of ordered data
 * stays readable and the copies walk memory forwards. */
static int32_t *split_rows(int n, double val_fraction, Rng *rng, int *n_train) {
    int n_val = val_count(n, val_fraction);
    *n_train = n - n_val;
    int32_t *perm = ex_malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    for (int i = 0; i < n; i++) perm[i] = i;
    rng_shuffle(rng, perm, (size_t)n);
    qsort(perm, (size_t)*n_train, sizeof(int32_t), cmp_i32);
    qsort(perm + *n_train, (size_t)n_val, sizeof(int32_t), cmp_i32);
    return perm;
}

void dataset_split(const Dataset *all, double val_fraction, Rng *rng, Dataset *train, Dataset *val) {
    int n_train;
    int32_t *perm = split_rows(all->n, val_fraction, rng, &n_train);
    *train = dataset_slice(all, perm, n_train);
    *val = dataset_slice(all, perm + n_train, all->n - n_train);
    free(perm);
}

/* Rows rows[0..count) (ascending, rows[i] ≥ i) moved down to 0..count in place: row i is
 * written only after every row it could overwrite has been read. The buffer is then cut to
 * those rows (the rows after them, validation's share, are not needed any more). */
static void *compact_rows(void *base, size_t row_bytes, const int32_t *rows, int count) {
    if (!base) return NULL;
    char *b = base;
    for (int i = 0; i < count; i++)
        if (rows[i] != i) memmove(b + (size_t)i * row_bytes, b + (size_t)rows[i] * row_bytes, row_bytes);
    void *cut = count > 0 && row_bytes > 0 ? realloc(b, (size_t)count * row_bytes) : NULL;
    return cut ? cut : b;   /* a refused shrink leaves the buffer as it was */
}

void dataset_split_moving(Dataset *all, double val_fraction, Rng *rng, Dataset *train, Dataset *val) {
    int n_train;
    int32_t *perm = split_rows(all->n, val_fraction, rng, &n_train);
    *val = dataset_slice(all, perm + n_train, all->n - n_train);
    size_t xw = (size_t)all->T * (size_t)all->d, yw = (size_t)all->Ty * (size_t)all->dy;
    all->x = compact_rows(all->x, xw * sizeof(float), perm, n_train);
    all->x_tokens = compact_rows(all->x_tokens, (size_t)all->T * sizeof(int32_t), perm, n_train);
    all->labels = compact_rows(all->labels, sizeof(int32_t), perm, n_train);
    all->y = compact_rows(all->y, yw * sizeof(float), perm, n_train);
    all->y_tokens = compact_rows(all->y_tokens, (size_t)all->Ty * sizeof(int32_t), perm, n_train);
    free(perm);
    *train = *all;
    train->n = n_train;
    memset(all, 0, sizeof *all);
}

void dataset_split_tail(const Dataset *all, double val_fraction, Dataset *train, Dataset *val) {
    int n = all->n, n_val = val_count(n, val_fraction), n_train = n - n_val;
    int32_t *rows = ex_malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    for (int i = 0; i < n; i++) rows[i] = i;
    *train = dataset_slice(all, rows, n_train);
    *val = dataset_slice(all, rows + n_train, n_val);
    free(rows);
}

/* ---- scaling ---------------------------------------------------------------------------------- */

const char *scale_name(ScaleType t) {
    static const char *const names[] = {"none", "unit", "standardize", "center", "unit_center"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

int scale_from_name(const char *name, ScaleType *t) {
    static const struct {
        const char *name;
        ScaleType type;
    } table[] = {{"none", SCALE_NONE}, {"unit", SCALE_UNIT}, {"standardize", SCALE_STANDARDIZE},
                 {"center", SCALE_CENTER}, {"unit_center", SCALE_UNIT_CENTER}};
    if (!name) return -1;
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(name, table[i].name) == 0) {
            *t = table[i].type;
            return 0;
        }
    }
    return -1;
}

void scaler_fit(Scaler *s, ScaleType type, const Dataset *train) {
    int d = train->d;
    s->type = type;
    s->d = d;
    s->shift = ex_calloc((size_t)(d > 0 ? d : 1), sizeof(float));
    s->scale = ex_malloc((size_t)(d > 0 ? d : 1) * sizeof(float));
    for (int j = 0; j < d; j++) s->scale[j] = 1.0f;
    if (type == SCALE_NONE || !train->x || d == 0) return;
    size_t steps = (size_t)train->n * (size_t)train->T; /* every step of every sample is a draw */
    if (steps == 0) return;
    const float *x = train->x;
    float unit_scale = 1.0f;
    if (type == SCALE_UNIT || type == SCALE_UNIT_CENTER) {
        /* One min and max over all features: (x − min)/(max − min) maps the set into [0, 1]. */
        float lo = x[0], hi = x[0];
        for (size_t i = 0; i < steps * (size_t)d; i++) {
            if (x[i] < lo) lo = x[i];
            if (x[i] > hi) hi = x[i];
        }
        float range = hi - lo;
        unit_scale = range > 0.0f ? 1.0f / range : 1.0f;
        for (int j = 0; j < d; j++) {
            s->shift[j] = lo;
            s->scale[j] = unit_scale;
        }
        if (type == SCALE_UNIT) return;
    }
    /* Per-feature mean μ_j = (1/N) Σ x_ij and, for standardize, σ_j = sqrt((1/N) Σ (x_ij − μ_j)²)
     * (two passes in double: no cancellation on data with a large mean, e.g. prices). */
    double *mean = ex_calloc((size_t)d, sizeof(double));
    for (size_t i = 0; i < steps; i++)
        for (int j = 0; j < d; j++) mean[j] += x[i * (size_t)d + (size_t)j];
    /* unit_center: ((x − lo)/range) − (μ − lo)/range = (x − μ)/range, one affine map. */
    for (int j = 0; j < d; j++) {
        mean[j] /= (double)steps;
        s->shift[j] = (float)mean[j];
        s->scale[j] = unit_scale;
    }
    if (type == SCALE_STANDARDIZE) {
        double *var = ex_calloc((size_t)d, sizeof(double));
        for (size_t i = 0; i < steps; i++)
            for (int j = 0; j < d; j++) {
                double c = x[i * (size_t)d + (size_t)j] - mean[j];
                var[j] += c * c;
            }
        for (int j = 0; j < d; j++) {
            double sd = sqrt(var[j] / (double)steps);
            /* A constant feature carries no information; leave it centred at 0, not divided by 0. */
            s->scale[j] = sd > 0.0 ? (float)(1.0 / sd) : 1.0f;
        }
        free(var);
    }
    free(mean);
}

static void scale_rows(const Scaler *s, float *v, size_t rows) {
    int d = s->d;
    for (size_t i = 0; i < rows; i++)
        for (int j = 0; j < d; j++) {
            float *p = v + i * (size_t)d + (size_t)j;
            *p = (*p - s->shift[j]) * s->scale[j];
        }
}

void scaler_apply(const Scaler *s, Dataset *ds) {
    if (s->type == SCALE_NONE || !ds->x) return;
    assert(ds->d == s->d);
    scale_rows(s, ds->x, (size_t)ds->n * (size_t)ds->T);
}

void scaler_apply_targets(const Scaler *s, Dataset *ds) {
    if (s->type == SCALE_NONE || !ds->y) return;
    assert(ds->dy == s->d);
    scale_rows(s, ds->y, (size_t)ds->n * (size_t)ds->Ty);
}

void scaler_invert(const Scaler *s, float *v, size_t rows) {
    if (s->type == SCALE_NONE) return;
    int d = s->d;
    for (size_t i = 0; i < rows; i++)
        for (int j = 0; j < d; j++) {
            float *p = v + i * (size_t)d + (size_t)j;
            *p = *p / s->scale[j] + s->shift[j];
        }
}

void scaler_free(Scaler *s) {
    if (!s) return;
    free(s->shift);
    free(s->scale);
    memset(s, 0, sizeof *s);
}

void dataset_binarize(Dataset *ds, float threshold) {
    if (!ds->x) return;
    size_t count = (size_t)ds->n * (size_t)ds->T * (size_t)ds->d;
    for (size_t i = 0; i < count; i++) ds->x[i] = ds->x[i] > threshold ? 1.0f : 0.0f;
}
