/* stepsplit.h — a recurrent layer's time loop shared out over threads.
 *
 * Two ways, both exact:
 *   by rows    the B sequences of a batch do not interact inside a layer: row r of h_t depends
 *              only on row r of h_{t−1} (and the shared, read-only weights). So thread k takes
 *              rows [r0, r1) and runs the WHOLE time loop on them, forward and backward, with
 *              no wake-up per step — one per loop. This is the default whenever each thread
 *              gets at least STEP_MIN_ROWS rows: on a virtual machine, waking a sleeping thread
 *              can cost 100 µs, as much as a step's work.
 *   by units   within a step the H units do not interact: unit j's gates need only column j of
 *              each gate block of z_t = h_{t−1} · W_hᵀ. Thread k takes units [u0, u1), computes
 *              those columns of every gate block (packed_gemm_cols) and then those units' gates,
 *              one wake-up per step; backward first carries ∂L/∂h_t's columns [u0, u1) back
 *              from step t+1 (reading ALL of step t+1's gate gradients: that is the step's one
 *              boundary), then the gate gradients of its units. Ranges are multiples of
 *              PACK_UNIT_GRAIN, a panel boundary in every gate block. Used when the batch is too
 *              small to split by rows and a step is big enough to pay for a wake-up.
 * Every number is computed by one thread with the same operations in the same order as with
 * one thread (a row of a product does not depend on the rows beside it in a tile), so results
 * are bit-identical for every thread count and either way. The one sum across units — the
 * per-step gradient norm diagnostic Σ_b ‖∂L/∂h_t[b]‖ — is taken in fixed chunks of
 * STEP_NORM_CHUNK units: the parts fill their chunks' squared sums (gm_sum_squares16, the same
 * in every cell) for every step, the caller adds the chunks in order after the loop
 * (step_norm_sums). */
#ifndef EXPRUN_STEPSPLIT_H
#define EXPRUN_STEPSPLIT_H

#include <math.h>

#include "gatemath.h"
#include "packgemm.h"
#include "parallel.h"

enum { STEP_NORM_CHUNK = 16, STEP_MIN_ROWS = 8 };

typedef enum { STEP_SERIAL, STEP_BY_ROWS, STEP_BY_UNITS } StepSplit;

typedef struct StepPlan {
    StepSplit how;
    int parts;
} StepPlan;

/* How to share out T steps of a layer whose step multiplies (B, H) by the packed (H, G·H)
 * [or (G·H, H)] matrix p. */
static inline StepPlan step_plan(const PackedMat *p, int B, int T, int H, int G) {
    StepPlan plan = {STEP_SERIAL, 1};
    int by_rows = par_parts_for(2.0 * B * (double)G * H * H * T, B / STEP_MIN_ROWS);
    if (by_rows > 1) {
        plan.how = STEP_BY_ROWS, plan.parts = by_rows;
        return plan;
    }
    int by_units = packed_unit_split(p, B, H, G);
    if (by_units > 1) plan.how = STEP_BY_UNITS, plan.parts = by_units;
    return plan;
}

/* Part `part`'s rows [*r0, *r1) and units [*u0, *u1) under the plan. */
static inline void step_part_range(StepPlan plan, int B, int H, int part, int *r0, int *r1, int *u0, int *u1) {
    *r0 = 0, *r1 = B, *u0 = 0, *u1 = H;
    if (plan.how == STEP_BY_ROWS) par_range(B, part, plan.parts, STEP_MIN_ROWS, r0, r1);
    else if (plan.how == STEP_BY_UNITS) par_range(H, part, plan.parts, PACK_UNIT_GRAIN, u0, u1);
}

/* One step's work on rows [r0, r1) and units [u0, u1): what a cell's forward or backward does
 * at step t. ctx is the cell's own step state. */
typedef void (*StepBlock)(const void *ctx, int t, int r0, int r1, int u0, int u1);

typedef struct StepLoop {
    StepBlock block;
    const void *ctx;
    StepPlan plan;
    int B, H, t_from, t_to, dir;
    int t;                        /* by units: the step being run */
} StepLoop;

/* By rows: this part's rows through every step from t_from to t_to; by units (or serial): this
 * part's units of step l->t. */
static inline void step_loop_part(void *arg, int part, int parts) {
    const StepLoop *l = arg;
    int r0, r1, u0, u1;
    (void)parts;
    step_part_range(l->plan, l->B, l->H, part, &r0, &r1, &u0, &u1);
    if (l->plan.how == STEP_BY_ROWS)
        for (int t = l->t_from; t != l->t_to + l->dir; t += l->dir) l->block(l->ctx, t, r0, r1, u0, u1);
    else
        l->block(l->ctx, l->t, r0, r1, u0, u1);
}

/* Steps t_from, …, t_to (forward, or backward when t_from > t_to) of a layer under plan: by
 * rows one wake-up for the whole loop, otherwise one per step. */
static inline void step_loop_run(StepBlock block, const void *ctx, StepPlan plan, int B, int H, int t_from,
                                 int t_to) {
    StepLoop l = {block, ctx, plan, B, H, t_from, t_to, t_from <= t_to ? 1 : -1, t_from};
    if (plan.how == STEP_BY_ROWS) par_run(step_loop_part, &l, plan.parts);
    else
        for (l.t = t_from; l.t != t_to + l.dir; l.t += l.dir) par_run(step_loop_part, &l, plan.parts);
}

static inline int step_norm_chunks(int H) { return (H + STEP_NORM_CHUNK - 1) / STEP_NORM_CHUNK; }

/* Where step t's (1-based) chunk sums of row r start in a (T, B, chunks) buffer. */
static inline double *step_chunk_row(double *sq, int t, int r, int B, int H) {
    return sq + ((size_t)(t - 1) * B + r) * step_norm_chunks(H);
}

/* Rows [r0, r1), units [u0, u1) of v (row stride ldv): each chunk's Σ v² into sq_t (B, chunks). */
static inline void step_chunk_squares(double *sq_t, const float *v, int ldv, int H, int r0, int r1, int u0, int u1) {
    int chunks = step_norm_chunks(H);
    for (int r = r0; r < r1; r++)
        for (int c0 = u0; c0 < u1; c0 += STEP_NORM_CHUNK) {
            int c1 = c0 + STEP_NORM_CHUNK < u1 ? c0 + STEP_NORM_CHUNK : u1;
            gm_v16 chunk = gm_load16_first(v + (size_t)r * ldv + c0, c1 - c0, 0.0f);
            sq_t[(size_t)r * chunks + c0 / STEP_NORM_CHUNK] = gm_sum_squares16(chunk);
        }
}

/* dh_norms[t−1] += Σ_r √(Σ_c sq[t, r, c]) for t = 1..T, the chunks added in order. */
static inline void step_norm_sums(double *dh_norms, const double *sq, int B, int T, int H) {
    int chunks = step_norm_chunks(H);
    for (int t = 1; t <= T; t++) {
        double sum = 0.0;
        for (int r = 0; r < B; r++) {
            const double *row = sq + ((size_t)(t - 1) * B + r) * chunks;
            double s = 0.0;
            for (int c = 0; c < chunks; c++) s += row[c];
            sum += sqrt(s);
        }
        dh_norms[t - 1] += sum;
    }
}

#endif
