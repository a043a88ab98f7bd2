/* tasks.c — the adding problem, the copy task, running parity, and the sequence-to-sequence
 * tasks (string reversal, addition as text); definitions and formulas in tasks.h. */
#include "tasks.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int task_adding(Dataset *out, int n, int T, Rng *rng, ExError *err) {
    memset(out, 0, sizeof *out);
    if (n < 1) return ex_fail(err, "adding problem: need at least 1 sample, got %d", n);
    if (T < 2) return ex_fail(err, "adding problem: sequence length T = %d, need at least 2 (one marker per half)", T);
    snprintf(out->source, sizeof out->source, "adding problem (n=%d, T=%d)", n, T);
    out->n = n;
    out->T = T;
    out->d = 2;
    out->Ty = 1;
    out->dy = 1;
    out->x = ex_calloc((size_t)n * (size_t)T * 2, sizeof(float));   // (n, T, 2)
    out->y = ex_malloc((size_t)n * sizeof(float));                   // (n, 1, 1)
    int half = T / 2;
    for (int i = 0; i < n; i++) {
        float *x = out->x + (size_t)i * (size_t)T * 2;
        for (int t = 0; t < T; t++) x[2 * t] = rng_uniform(rng);
        int p = (int)rng_below(rng, (uint64_t)half);
        int q = half + (int)rng_below(rng, (uint64_t)(T - half));
        x[2 * p + 1] = 1.0f;
        x[2 * q + 1] = 1.0f;
        out->y[i] = x[2 * p] + x[2 * q];
    }
    return 0;
}

int task_copy(Dataset *out, int n, int S, int delay, int K, Rng *rng, ExError *err) {
    memset(out, 0, sizeof *out);
    if (n < 1) return ex_fail(err, "copy task: need at least 1 sample, got %d", n);
    if (S < 1) return ex_fail(err, "copy task: copy length S = %d, need at least 1", S);
    if (delay < 0) return ex_fail(err, "copy task: delay = %d must not be negative", delay);
    if (K < 1) return ex_fail(err, "copy task: alphabet size K = %d, need at least 1", K);
    if ((long long)2 * S + delay + 1 > 1000000)
        return ex_fail(err, "copy task: sequence length 2S + delay + 1 = %lld is too long",
                       (long long)2 * S + delay + 1);
    int T = 2 * S + delay + 1, blank = copy_blank(K), delim = copy_delimiter(K);
    snprintf(out->source, sizeof out->source, "copy task (n=%d, S=%d, delay=%d, K=%d)", n, S, delay, K);
    out->n = n;
    out->T = T;
    out->Ty = T;
    out->vocab = K + 2;
    out->x_tokens = ex_malloc((size_t)n * (size_t)T * sizeof(int32_t));   // (n, T)
    out->y_tokens = ex_malloc((size_t)n * (size_t)T * sizeof(int32_t));   // (n, T)
    for (int i = 0; i < n; i++) {
        int32_t *x = out->x_tokens + (size_t)i * (size_t)T, *y = out->y_tokens + (size_t)i * (size_t)T;
        for (int t = 0; t < T; t++) {
            x[t] = blank;
            y[t] = -1;
        }
        for (int t = 0; t < S; t++) x[t] = (int32_t)rng_below(rng, (uint64_t)K);
        x[S + delay] = delim;
        for (int t = 0; t < S; t++) y[S + delay + 1 + t] = x[t];
    }
    return 0;
}

int task_parity(Dataset *out, int n, int T, Rng *rng, ExError *err) {
    memset(out, 0, sizeof *out);
    if (n < 1 || T < 1) return ex_fail(err, "parity task: need n ≥ 1 and T ≥ 1, got n = %d, T = %d", n, T);
    snprintf(out->source, sizeof out->source, "running parity (n=%d, T=%d)", n, T);
    out->n = n;
    out->T = T;
    out->Ty = T;
    out->vocab = 2;
    out->x_tokens = ex_malloc((size_t)n * (size_t)T * sizeof(int32_t));   // (n, T)
    out->y_tokens = ex_malloc((size_t)n * (size_t)T * sizeof(int32_t));   // (n, T)
    for (int i = 0; i < n; i++) {
        int32_t *x = out->x_tokens + (size_t)i * T, *y = out->y_tokens + (size_t)i * T;
        int parity = 0;
        for (int t = 0; t < T; t++) {
            x[t] = (int32_t)rng_below(rng, 2);
            parity ^= x[t];
            y[t] = parity;
        }
    }
    return 0;
}

/* ---- sequence to sequence (token set and formats in tasks.h) ----------------------------------- */

/* Rows seen so far, by their input tokens: open addressing over row indices (−1 = empty). */
typedef struct RowSet {
    int32_t *slot;
    size_t mask;
    const int32_t *rows;    /* (n, T) the rows the indices point at */
    int T;
} RowSet;

static uint64_t row_hash(const int32_t *row, int T) {
    uint64_t h = 1469598103934665603ull;          /* FNV-1a, 64 bits */
    for (int t = 0; t < T; t++) {
        h ^= (uint32_t)row[t];
        h *= 1099511628211ull;
    }
    return h;
}

/* Insert row i (already written into rows) unless an equal row is there; returns 1 if new. */
static int rowset_insert(RowSet *s, int i) {
    const int32_t *row = s->rows + (size_t)i * s->T;
    size_t k = (size_t)row_hash(row, s->T) & s->mask;
    while (s->slot[k] >= 0) {
        if (memcmp(s->rows + (size_t)s->slot[k] * s->T, row, (size_t)s->T * sizeof(int32_t)) == 0) return 0;
        k = (k + 1) & s->mask;
    }
    s->slot[k] = i;
    return 1;
}

static void rowset_init(RowSet *s, int n, const int32_t *rows, int T) {
    size_t cap = 16;
    while (cap < 2 * (size_t)n) cap *= 2;
    s->slot = ex_malloc(cap * sizeof(int32_t));
    for (size_t k = 0; k < cap; k++) s->slot[k] = -1;
    s->mask = cap - 1;
    s->rows = rows;
    s->T = T;
}

static void s2s_alloc(Dataset *out, int n, int Tx, int Ty, int vocab) {
    out->n = n;
    out->T = Tx;
    out->Ty = Ty;
    out->vocab = vocab;
    out->x_tokens = ex_malloc((size_t)n * Tx * sizeof(int32_t));   // (n, Tx)
    out->y_tokens = ex_malloc((size_t)n * Ty * sizeof(int32_t));   // (n, Ty)
}

/* Draw n distinct samples with draw(row i); the attempts are capped so a too-small pool fails
 * with a message instead of spinning. */
typedef void (*DrawFn)(Dataset *ds, int i, const void *args, Rng *rng);
static int draw_distinct(Dataset *out, int n, DrawFn draw, const void *args, Rng *rng, const char *what,
                         ExError *err) {
    RowSet set;
    rowset_init(&set, n, out->x_tokens, out->T);
    long long attempts = 0, limit = 100ll * n + 1000;
    int i = 0;
    while (i < n && attempts < limit) {
        draw(out, i, args, rng);
        attempts++;
        i += rowset_insert(&set, i);
    }
    free(set.slot);
    if (i < n) {
        dataset_free(out);
        return ex_fail(err, "%s: found only %d distinct samples of the %d asked for in %lld draws", what, i, n,
                       attempts);
    }
    return 0;
}

typedef struct ReverseArgs {
    int K, min_len, max_len;
} ReverseArgs;

static void draw_reverse(Dataset *ds, int i, const void *args, Rng *rng) {
    const ReverseArgs *a = args;
    int32_t *x = ds->x_tokens + (size_t)i * ds->T, *y = ds->y_tokens + (size_t)i * ds->Ty;
    int L = a->min_len + (int)rng_below(rng, (uint64_t)(a->max_len - a->min_len + 1));
    for (int t = 0; t < ds->T; t++) x[t] = t < L ? S2S_FIRST_CHAR + (int32_t)rng_below(rng, (uint64_t)a->K) : S2S_PAD;
    for (int t = 0; t < ds->Ty; t++) y[t] = t < L ? x[L - 1 - t] : t == L ? S2S_END : -1;
}

int task_reverse(Dataset *out, int n, int K, int min_len, int max_len, Rng *rng, ExError *err) {
    memset(out, 0, sizeof *out);
    const char *w = "reversal task";
    int n_chars = (int)strlen(REVERSE_CHARS);
    if (n < 1) return ex_fail(err, "%s: need at least 1 sample, got %d", w, n);
    if (K < 2 || K > n_chars) return ex_fail(err, "%s: alphabet = %d, must be 2..%d", w, K, n_chars);
    if (min_len < 1 || max_len < min_len || max_len > 1000)
        return ex_fail(err, "%s: lengths [%d, %d] must satisfy 1 ≤ min_length ≤ max_length ≤ 1000", w, min_len,
                       max_len);
    double pool = 0.0;
    for (int L = min_len; L <= max_len && pool < 1e18; L++) pool += pow((double)K, L);
    if ((double)n > pool / 2)
        return ex_fail(err, "%s: %d samples asked for, but only %.0f distinct strings exist (%d letters, length %d..%d); "
                            "at most half of them can be drawn", w, n, pool, K, min_len, max_len);
    snprintf(out->source, sizeof out->source, "string reversal (n=%d, alphabet=%d, length %d..%d)", n, K, min_len,
             max_len);
    s2s_alloc(out, n, max_len, max_len + 1, S2S_FIRST_CHAR + K);
    ReverseArgs a = {K, min_len, max_len};
    return draw_distinct(out, n, draw_reverse, &a, rng, w, err);
}

typedef struct AdditionArgs {
    int digits, reversed;
} AdditionArgs;

/* An operand of d ~ U{1..digits} digits, the leading one non-zero unless d = 1. */
static long long draw_operand(int digits, Rng *rng) {
    int d = 1 + (int)rng_below(rng, (uint64_t)digits);
    long long lo = 1;
    for (int k = 1; k < d; k++) lo *= 10;
    if (d == 1) return (long long)rng_below(rng, 10);
    return lo + (long long)rng_below(rng, (uint64_t)(9 * lo));
}

/* Decimal digits of v as tokens into out, most significant first unless reversed; returns count. */
static int write_number(int32_t *out, long long v, int reversed) {
    int32_t tmp[24];
    int n = 0;
    do {
        tmp[n++] = S2S_FIRST_CHAR + (int32_t)(v % 10);   /* least significant first */
        v /= 10;
    } while (v > 0);
    for (int k = 0; k < n; k++) out[k] = reversed ? tmp[k] : tmp[n - 1 - k];
    return n;
}

static void draw_addition(Dataset *ds, int i, const void *args, Rng *rng) {
    const AdditionArgs *a = args;
    int32_t *x = ds->x_tokens + (size_t)i * ds->T, *y = ds->y_tokens + (size_t)i * ds->Ty;
    long long p = draw_operand(a->digits, rng), q = draw_operand(a->digits, rng);
    int n = write_number(x, p, a->reversed);
    x[n++] = S2S_FIRST_CHAR + 10;                            /* '+' */
    n += write_number(x + n, q, a->reversed);
    for (int t = n; t < ds->T; t++) x[t] = S2S_PAD;
    int m = write_number(y, p + q, a->reversed);
    y[m] = S2S_END;
    for (int t = m + 1; t < ds->Ty; t++) y[t] = -1;
}

int task_addition(Dataset *out, int n, int digits, int reversed_digits, Rng *rng, ExError *err) {
    memset(out, 0, sizeof *out);
    const char *w = "addition task";
    if (n < 1) return ex_fail(err, "%s: need at least 1 sample, got %d", w, n);
    if (digits < 1 || digits > 9) return ex_fail(err, "%s: digits = %d, must be 1..9", w, digits);
    double pool = pow(10.0, 2 * digits);
    if ((double)n > pool / 2)
        return ex_fail(err, "%s: %d samples asked for, but only %.0f distinct sums of numbers below 10^%d exist; "
                            "at most half of them can be drawn (raise data.digits)", w, n, pool, digits);
    snprintf(out->source, sizeof out->source, "addition as text (n=%d, up to %d digits%s)", n, digits,
             reversed_digits ? ", least significant digit first" : "");
    s2s_alloc(out, n, 2 * digits + 1, digits + 2, S2S_FIRST_CHAR + (int)strlen(ADDITION_CHARS));
    AdditionArgs a = {digits, reversed_digits};
    return draw_distinct(out, n, draw_addition, &a, rng, w, err);
}

char *s2s_tokens_text(char *out, size_t cap, const int32_t *tokens, int n, const char *chars) {
    size_t len = 0, n_chars = strlen(chars);
    if (cap == 0) return out;
    for (int t = 0; t < n && tokens[t] >= 0 && len + 1 < cap; t++) {
        int32_t v = tokens[t];
        char ch = v == S2S_PAD ? '_' : v == S2S_GO ? '^' : v == S2S_END ? '$'
                  : (size_t)(v - S2S_FIRST_CHAR) < n_chars ? chars[v - S2S_FIRST_CHAR] : '?';
        out[len++] = ch;
    }
    out[len] = '\0';
    return out;
}
