/* tasks.c — the adding problem and the copy task (definitions and formulas in tasks.h). */
#include "tasks.h"

#include <stdio.h>
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
