#include "dense.h"

#include <assert.h>
#include <string.h>

#include "gatemath.h"
#include "parallel.h"

/* ---- workspace ---------------------------------------------------------------------------- */

/* A packed (K, N) operand takes K · ⌈N/32⌉·32 floats (panels padded to the widest kernel). */
static size_t packed_floats(int K, int N) { return (size_t)K * (size_t)((N + 31) / 32) * 32; }

void dense_work_reserve(size_t *floats, int max_B, int n_in, int n_out) {
    /* the right operands: W or Wᵀ (forward, ∂L/∂in), in or dpre (∂L/∂W) */
    size_t need[4] = {pk_gemm_nt_room(max_B, n_out, n_in), packed_floats(n_out, n_in), packed_floats(max_B, n_in),
                      packed_floats(max_B, n_out)};
    for (int k = 0; k < 4; k++)
        if (need[k] > *floats) *floats = need[k];
}

void dense_work_alloc(DenseWork *w, size_t floats) {
    /* packed_alloc(K = floats / 32, N = 32) has room for `floats` (rounded up to a panel row) */
    packed_alloc(&w->pack, (int)((floats + 31) / 32), 32);
}

void dense_work_free(DenseWork *w) { packed_free(&w->pack); }

/* ---- fast path ---------------------------------------------------------------------------- */

/* y = act(y) in place: σ and tanh vectorised, the rest through act.h. */
static void activate(float *y, int rows, int cols, Activation act) {
    size_t n = (size_t)rows * cols;
    if (act == ACT_SIGMOID) gm_sigmoid(y, y, (int)n);
    else if (act == ACT_TANH) gm_tanh(y, y, (int)n);
    else if (act != ACT_IDENTITY) act_forward(y, y, rows, cols, act);
}

/* Work of one element in the element-wise passes, in the FLOP units of parallel.h. */
static double elementwise_flops(Activation act) {
    return act == ACT_SIGMOID || act == ACT_TANH || act == ACT_SOFTPLUS || act == ACT_SOFTMAX ? 20.0 : 2.0;
}

/* What the element-wise passes share: rows are independent (so are softmax's), and each bias
 * sum runs over all rows of its own columns in order — any split gives the same bits. */
typedef struct DenseRows {
    float *out, *dout;
    const float *b;
    float *db;
    int B, n_out;
    Activation act;
    const PkEpilogue *after;   /* forward: the caller's own epilogue, after bias and activation */
} DenseRows;

/* Forward, rows of this part: out = act(out + b). */
static void bias_act_part(void *ctx, int part, int parts) {
    const DenseRows *job = ctx;
    int r0, r1;
    par_range(job->B, part, parts, 1, &r0, &r1);
    if (job->b)
        for (int r = r0; r < r1; r++) {
            float *row = job->out + (size_t)r * job->n_out;
            for (int j = 0; j < job->n_out; j++) row[j] += job->b[j];
        }
    activate(job->out + (size_t)r0 * job->n_out, r1 - r0, job->n_out, job->act);
}

/* Backward, rows of this part: dout = ∂L/∂pre = dout ⊙ act'(out). */
static void act_grad_part(void *ctx, int part, int parts) {
    const DenseRows *job = ctx;
    int r0, r1;
    par_range(job->B, part, parts, 1, &r0, &r1);
    size_t at = (size_t)r0 * job->n_out;
    act_backward(job->dout + at, job->dout + at, job->out + at, r1 - r0, job->n_out, job->act);
}

/* One row's add, on the widest vectors the CPU has (the project's baseline is SSE). */
GM_CLONES static void add_row(float *restrict db, const float *restrict row, int n) {
    for (int j = 0; j < n; j++) db[j] += row[j];
}

void dense_bias_grad_cols(float *db, const float *dpre, int ld, int rows, int j0, int j1) {
    for (int r = 0; r < rows; r++) add_row(db + j0, dpre + (size_t)r * ld + j0, j1 - j0);
}

/* Backward, columns of this part: db[j] += Σ_r dpre[r, j], the rows in order. */
static void bias_grad_part(void *ctx, int part, int parts) {
    const DenseRows *job = ctx;
    int j0, j1;
    par_range(job->n_out, part, parts, 16, &j0, &j1);
    dense_bias_grad_cols(job->db, job->dout, job->n_out, job->B, j0, j1);
}

/* The forward's epilogue (packgemm.h), on a block of the product: out = act(out + b). Every
 * activation but softmax acts on each element alone, so any block will do. */
static void bias_act_block(void *ctx, float *C, int ldc, int m0, int m1, int n0, int n1) {
    const DenseRows *job = ctx;
    for (int r = m0; r < m1; r++) {
        float *row = C + (size_t)r * ldc + n0;
        if (job->b)
            for (int j = 0; j < n1 - n0; j++) row[j] += job->b[n0 + j];
        activate(row, 1, n1 - n0, job->act);
    }
    if (job->after) job->after->fn(job->after->ctx, C, ldc, m0, m1, n0, n1);
}

void dense_forward_then(float *out, const float *in, const float *W, const float *b, int B, int n_in,
                        int n_out, int transposed, Activation act, DenseWork *ws, const PkEpilogue *after) {
    /* pre = in · Wᵀ (or in · W when tied), then out = act(pre + b): each thread on its own part
     * of the product as soon as it is computed; softmax, which needs whole rows, in a pass of
     * its own over the rows */
    assert(!(after && act == ACT_SOFTMAX));   /* softmax needs whole rows: no block epilogue */
    DenseRows job = {out, NULL, b, NULL, B, n_out, act, after};
    PkEpilogue then = {bias_act_block, &job};
    const PkEpilogue *epilogue = (b || act != ACT_IDENTITY || after) && act != ACT_SOFTMAX ? &then : NULL;
    if (!transposed) pk_gemm_nt_then(out, n_out, in, n_in, W, n_in, B, n_out, n_in, 0.0f, &ws->pack, epilogue);
    else pk_gemm_nn_then(out, n_out, in, n_in, W, n_out, B, n_out, n_in, 0.0f, &ws->pack, epilogue);
    if (epilogue || (!b && act == ACT_IDENTITY)) return;
    double per_row = (double)n_out * elementwise_flops(act);
    par_run(bias_act_part, &job, par_parts_for(per_row * B, B));
}

void dense_forward(float *out, const float *in, const float *W, const float *b, int B, int n_in,
                   int n_out, int transposed, Activation act, DenseWork *ws) {
    dense_forward_then(out, in, W, b, B, n_in, n_out, transposed, act, ws, NULL);
}

/* Backward, columns of this part, row by row: dpre = dout ⊙ act'(out), then db[j] += dpre[r, j]
 * (the rows in order) — the two passes of act_grad_part and bias_grad_part in one, for every
 * activation that acts on each element alone. */
static void act_bias_grad_part(void *ctx, int part, int parts) {
    const DenseRows *job = ctx;
    int j0, j1;
    par_range(job->n_out, part, parts, 16, &j0, &j1);
    for (int r = 0; r < job->B; r++) {
        size_t at = (size_t)r * job->n_out + j0;
        float *d = job->dout + at;
        if (job->act != ACT_IDENTITY) act_backward(d, d, job->out + at, 1, j1 - j0, job->act);
        if (job->db) add_row(job->db + j0, d, j1 - j0);
    }
}

void dense_backward(float *din, float *dW, float *db, float *dout, const float *out,
                    const float *in, const float *W, int B, int n_in, int n_out, int transposed,
                    Activation act, DenseWork *ws) {
    float *dpre = dout;
    DenseRows job = {(float *)out, dout, NULL, db, B, n_out, act, NULL};
    if (act == ACT_SOFTMAX) {
        par_run(act_grad_part, &job, par_parts_for((double)n_out * elementwise_flops(act) * B, B));
        if (db) par_run(bias_grad_part, &job, par_parts_for(2.0 * n_out * B, (n_out + 15) / 16));
    } else if (act != ACT_IDENTITY || db) {
        double flops = (double)n_out * B * ((act != ACT_IDENTITY ? elementwise_flops(act) : 0.0) + (db ? 2.0 : 0.0));
        par_run(act_bias_grad_part, &job, par_parts_for(flops, (n_out + 15) / 16));
    }
    if (!transposed) {
        /* dW (n_out,n_in) += dpreᵀ (n_out,B) · in (B,n_in);  din (B,n_in) = dpre (B,n_out) · W (n_out,n_in) */
        pk_gemm_tn(dW, n_in, dpre, n_out, in, n_in, n_out, n_in, B, 1.0f, &ws->pack);
        if (din) pk_gemm_nn(din, n_in, dpre, n_out, W, n_in, B, n_in, n_out, 0.0f, &ws->pack);
    } else {
        /* W is (n_in,n_out): dW (n_in,n_out) += inᵀ (n_in,B) · dpre (B,n_out); din (B,n_in) = dpre · Wᵀ */
        pk_gemm_tn(dW, n_out, in, n_in, dpre, n_out, n_in, n_out, B, 1.0f, &ws->pack);
        if (din) pk_gemm_nt(din, n_in, dpre, n_out, W, n_out, B, n_in, n_out, 0.0f, &ws->pack);
    }
}

/* ---- plain reference ---------------------------------------------------------------------- */

/* W[j, k] of the layer's (n_out, n_in) matrix, wherever it is stored. */
static float weight(const float *W, int j, int k, int n_in, int n_out, int transposed) {
    return transposed ? W[(size_t)k * n_out + j] : W[(size_t)j * n_in + k];
}

void dense_forward_reference(float *out, const float *in, const float *W, const float *b, int B,
                             int n_in, int n_out, int transposed, Activation act) {
    for (int r = 0; r < B; r++)
        for (int j = 0; j < n_out; j++) {
            float sum = b ? b[j] : 0.0f;
            for (int k = 0; k < n_in; k++) sum += weight(W, j, k, n_in, n_out, transposed) * in[(size_t)r * n_in + k];
            out[(size_t)r * n_out + j] = sum;
        }
    act_forward(out, out, B, n_out, act);
}

void dense_backward_reference(float *din, float *dW, float *db, float *dout, const float *out,
                              const float *in, const float *W, int B, int n_in, int n_out,
                              int transposed, Activation act) {
    act_backward(dout, dout, out, B, n_out, act);
    for (int r = 0; r < B; r++) {
        const float *g = dout + (size_t)r * n_out, *x = in + (size_t)r * n_in;
        for (int j = 0; j < n_out; j++) {
            if (db) db[j] += g[j];
            for (int k = 0; k < n_in; k++) {
                size_t at = transposed ? (size_t)k * n_out + j : (size_t)j * n_in + k;
                dW[at] += g[j] * x[k];
            }
        }
        if (din)
            for (int k = 0; k < n_in; k++) {
                float sum = 0.0f;
                for (int j = 0; j < n_out; j++) sum += g[j] * weight(W, j, k, n_in, n_out, transposed);
                din[(size_t)r * n_in + k] = sum;
            }
    }
}
