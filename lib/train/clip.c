#include "clip.h"

#include <math.h>

#include "gatemath.h"
#include "parallel.h"

/* Σ g_i² of one block in double with eight interleaved partial sums (element i goes to sum
 * i mod 8), added pairwise at the end. One running sum is a chain of dependent additions, four
 * cycles each; eight independent ones let the compiler keep them in vector registers. */
GM_CLONES static double block_squares(const float *g, size_t n) {
    double s[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) s[k] += (double)g[i + k] * g[i + k];
    for (int k = 0; i < n; i++, k++) s[k] += (double)g[i] * g[i];
    return ((s[0] + s[4]) + (s[2] + s[6])) + ((s[1] + s[5]) + (s[3] + s[7]));
}

/* The sum is taken over fixed blocks of NORM_BLOCK values, added in order: the same number
 * whether one thread or several computed the blocks. It differs from the one-sum order only by
 * rounding (grad_global_norm_reference, test_fastpaths.c). */
enum { NORM_BLOCK = 16384, NORM_ROUND = 256 };

typedef struct NormJob {
    const float *g;
    size_t n, first;
    int blocks;
    double *sums;
} NormJob;

static void norm_part(void *ctx, int part, int parts) {
    NormJob *job = ctx;
    int b0, b1;
    par_range(job->blocks, part, parts, 1, &b0, &b1);
    for (int k = b0; k < b1; k++) {
        size_t i0 = (job->first + (size_t)k) * NORM_BLOCK, i1 = i0 + NORM_BLOCK < job->n ? i0 + NORM_BLOCK : job->n;
        job->sums[k] = block_squares(job->g + i0, i1 - i0);
    }
}

double grad_global_norm(const float *g, size_t n) {
    double total = 0.0, sums[NORM_ROUND];
    size_t blocks = (n + NORM_BLOCK - 1) / NORM_BLOCK;
    for (size_t first = 0; first < blocks; first += NORM_ROUND) {
        int count = blocks - first < NORM_ROUND ? (int)(blocks - first) : NORM_ROUND;
        NormJob job = {g, n, first, count, sums};
        par_run(norm_part, &job, par_parts_for(PAR_FLOPS_PER_FLOAT_PASS * NORM_BLOCK * count, count));
        for (int k = 0; k < count; k++) total += sums[k];
    }
    return sqrt(total);
}

double grad_global_norm_reference(const float *g, size_t n) {
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += (double)g[i] * g[i];
    return sqrt(sum);
}

/* The element-wise passes over all of g (a whole model's gradient), shared out over the
 * threads in ranges of whole cache lines: each element alone, so any split gives the same bits. */
typedef struct ClipJob {
    float *g;
    size_t n;
    float c;   /* by value: the bound; by norm: the scale */
    int by_value;
} ClipJob;

GM_CLONES static void clamp_range(float *restrict g, size_t n, float c) {
    for (size_t i = 0; i < n; i++) g[i] = g[i] > c ? c : (g[i] < -c ? -c : g[i]);   /* NaN stays NaN */
}

GM_CLONES static void scale_range(float *restrict g, size_t n, float scale) {
    for (size_t i = 0; i < n; i++) g[i] *= scale;
}

static void clip_part(void *ctx, int part, int parts) {
    const ClipJob *job = ctx;
    size_t i0, i1;
    par_range_size(job->n, part, parts, 16, &i0, &i1);
    if (job->by_value) clamp_range(job->g + i0, i1 - i0, job->c);
    else scale_range(job->g + i0, i1 - i0, job->c);
}

static void clip_pass(float *g, size_t n, float c, int by_value) {
    ClipJob job = {g, n, c, by_value};
    int max_parts = n / 16 > 64 ? 64 : (int)(n / 16);
    par_run(clip_part, &job, par_parts_for(PAR_FLOPS_PER_FLOAT_PASS * (double)n, max_parts));
}

void clip_by_value(float *g, size_t n, float c) { clip_pass(g, n, c, 1); }

void clip_to_global_norm(float *g, size_t n, double c, double norm) {
    if (norm > c) clip_pass(g, n, (float)(c / (norm + 1e-6)), 0);
}

double clip_by_global_norm(float *g, size_t n, double c) {
    double norm = grad_global_norm(g, n);
    clip_to_global_norm(g, n, c, norm);
    return norm;
}
