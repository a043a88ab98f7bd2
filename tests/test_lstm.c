/* test_lstm.c — the LSTM layer: finite differences through time for every input of backward,
 * the fast kernels against the plain reference, and the vanishing-gradient diagnostic. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gatemath.h"
#include "lstm.h"
#include "testutil.h"

/* A layer with random parameters and a linear probe loss
 *   L = Σ_t Σ dout_t ⊙ h_t + Σ dhT ⊙ h_T + Σ dcT ⊙ c_T
 * so that ∂L/∂h_t = dout_t etc. exactly and backward is checked for every path. */
typedef struct Ctx {
    int B, T, n_in, H;
    float *x, *h0, *c0, *W, *b;        /* (T,B,n_in) (B,H) (B,H) (4H,H+n_in) (4H) */
    float *dout, *dhT, *dcT;           /* (T,B,H) (B,H) (B,H) */
    LstmCache cache;
    LstmWork work;
} Ctx;

static void ctx_init(Ctx *c, int B, int T, int n_in, int H, unsigned long long seed) {
    memset(c, 0, sizeof *c);
    c->B = B, c->T = T, c->n_in = n_in, c->H = H;
    size_t nw = (size_t)4 * H * (H + n_in), bh = (size_t)B * H;
    c->x = malloc((size_t)T * B * n_in * sizeof(float));
    c->h0 = malloc(bh * sizeof(float));
    c->c0 = malloc(bh * sizeof(float));
    c->W = malloc(nw * sizeof(float));
    c->b = malloc((size_t)4 * H * sizeof(float));
    c->dout = malloc((size_t)T * bh * sizeof(float));
    c->dhT = malloc(bh * sizeof(float));
    c->dcT = malloc(bh * sizeof(float));
    fill_uniform(c->x, (size_t)T * B * n_in, -1.0f, 1.0f, seed + 1);
    fill_uniform(c->h0, bh, -0.5f, 0.5f, seed + 2);
    fill_uniform(c->c0, bh, -0.5f, 0.5f, seed + 3);
    fill_uniform(c->W, nw, -0.6f, 0.6f, seed + 4);
    fill_uniform(c->b, (size_t)4 * H, -0.3f, 0.3f, seed + 5);
    fill_uniform(c->dout, (size_t)T * bh, -1.0f, 1.0f, seed + 6);
    fill_uniform(c->dhT, bh, -1.0f, 1.0f, seed + 7);
    fill_uniform(c->dcT, bh, -1.0f, 1.0f, seed + 8);
    /* caches bigger than needed, so a wrong stride (max_B instead of B) would show */
    lstm_cache_alloc(&c->cache, B + 2, T + 3, n_in, H);
    lstm_work_alloc(&c->work, B + 2, T + 3, n_in, H);
}

static void ctx_free(Ctx *c) {
    free(c->x), free(c->h0), free(c->c0), free(c->W), free(c->b);
    free(c->dout), free(c->dhT), free(c->dcT);
    lstm_cache_free(&c->cache);
    lstm_work_free(&c->work);
}

static double dot(const float *a, const float *b, size_t n) {
    double s = 0.0;
    for (size_t k = 0; k < n; k++) s += (double)a[k] * b[k];
    return s;
}

static double probe_loss(void *ctx) {
    Ctx *c = ctx;
    lstm_forward(&c->cache, c->x, c->h0, c->c0, c->W, c->b, c->B, c->T, c->n_in, c->H);
    size_t bh = (size_t)c->B * c->H;
    return dot(c->dout, lstm_output(&c->cache, c->B, c->H), (size_t)c->T * bh) +
           dot(c->dhT, lstm_final_h(&c->cache, c->B, c->T, c->H), bh) +
           dot(c->dcT, lstm_final_c(&c->cache, c->B, c->T, c->H), bh);
}

static void test_gradcheck_through_time(void) {
    Ctx c;
    ctx_init(&c, 3, 6, 4, 5, 100);
    size_t nw = (size_t)4 * c.H * (c.H + c.n_in), bh = (size_t)c.B * c.H, nx = (size_t)c.T * c.B * c.n_in;
    float *dW = calloc(nw, sizeof(float)), *db = calloc(4 * (size_t)c.H, sizeof(float));
    float *dx = calloc(nx, sizeof(float)), *dh0 = calloc(bh, sizeof(float)), *dc0 = calloc(bh, sizeof(float));
    probe_loss(&c);
    lstm_backward(dx, dh0, dc0, dW, db, NULL, &c.work, c.dout, c.dhT, c.dcT, &c.cache, c.x, c.W, c.B, c.T,
                  c.n_in, c.H);
    double eW = gradcheck(probe_loss, &c, c.W, dW, nw, 0, 1e-2, 1e-2);
    double eb = gradcheck(probe_loss, &c, c.b, db, 4 * (size_t)c.H, 0, 1e-2, 1e-2);
    double ex = gradcheck(probe_loss, &c, c.x, dx, nx, 0, 1e-2, 1e-2);
    double eh = gradcheck(probe_loss, &c, c.h0, dh0, bh, 0, 1e-2, 1e-2);
    double ec = gradcheck(probe_loss, &c, c.c0, dc0, bh, 0, 1e-2, 1e-2);
    CU_ASSERT(eW < 5e-3);
    CU_ASSERT(eb < 5e-3);
    CU_ASSERT(ex < 5e-3);
    CU_ASSERT(eh < 5e-3);
    CU_ASSERT(ec < 5e-3);
    free(dW), free(db), free(dx), free(dh0), free(dc0);
    ctx_free(&c);
}

/* Backward accumulates into dW/db: calling it twice doubles them. */
static void test_backward_accumulates(void) {
    Ctx c;
    ctx_init(&c, 2, 5, 3, 4, 200);
    size_t nw = (size_t)4 * c.H * (c.H + c.n_in);
    float *dW = calloc(nw, sizeof(float)), *db = calloc(4 * (size_t)c.H, sizeof(float));
    float *dW2 = calloc(nw, sizeof(float)), *db2 = calloc(4 * (size_t)c.H, sizeof(float));
    probe_loss(&c);
    lstm_backward(NULL, NULL, NULL, dW, db, NULL, &c.work, c.dout, NULL, NULL, &c.cache, c.x, c.W, c.B, c.T,
                  c.n_in, c.H);
    for (int k = 0; k < 2; k++)
        lstm_backward(NULL, NULL, NULL, dW2, db2, NULL, &c.work, c.dout, NULL, NULL, &c.cache, c.x, c.W, c.B,
                      c.T, c.n_in, c.H);
    double worst = 0.0;
    for (size_t k = 0; k < nw; k++) worst = fmax(worst, fabs(dW2[k] - 2.0f * dW[k]));
    for (int k = 0; k < 4 * c.H; k++) worst = fmax(worst, fabs(db2[k] - 2.0f * db[k]));
    CU_ASSERT(worst < 1e-5);
    free(dW), free(db), free(dW2), free(db2);
    ctx_free(&c);
}

static double max_rel_diff(const float *a, const float *b, size_t n) {
    double worst = 0.0;
    for (size_t k = 0; k < n; k++) worst = fmax(worst, fabs((double)a[k] - b[k]) / (1.0 + fabs((double)b[k])));
    return worst;
}

/* Run check() under every product kernel this CPU has (packgemm.h), then restore the best. */
static void for_each_kernel(void (*check)(void)) {
    for (int k = PACK_KERNEL_AVX512; k >= PACK_KERNEL_BLAS; k--)
        if (packed_force_kernel((PackKernel)k) == 0) check();
    for (int k = PACK_KERNEL_AVX512; k >= PACK_KERNEL_BLAS; k--)
        if (packed_force_kernel((PackKernel)k) == 0) break;
}

/* The fast kernels (one input GEMM, per-step recurrent GEMM, weight GEMMs over all steps) give
 * what the per-unit reference of the slide's equations gives — with every product kernel. */
static void check_fast_equals_reference(void) {
    Ctx c;
    ctx_init(&c, 5, 7, 6, 9, 300);   /* odd sizes: partial MR row tiles and NR panels */
    int B = c.B, T = c.T, n_in = c.n_in, H = c.H;
    size_t nw = (size_t)4 * H * (H + n_in), bh = (size_t)B * H, nx = (size_t)T * B * n_in;
    LstmCache ref;
    LstmWork ref_work;
    lstm_cache_alloc(&ref, B, T, n_in, H);
    lstm_work_alloc(&ref_work, B, T, n_in, H);
    lstm_forward(&c.cache, c.x, c.h0, c.c0, c.W, c.b, B, T, n_in, H);
    lstm_forward_reference(&ref, c.x, c.h0, c.c0, c.W, c.b, B, T, n_in, H);
    CU_ASSERT(max_rel_diff(c.cache.h, ref.h, (size_t)(T + 1) * bh) < 1e-5);
    CU_ASSERT(max_rel_diff(c.cache.c, ref.c, (size_t)(T + 1) * bh) < 1e-5);
    CU_ASSERT(max_rel_diff(c.cache.gates, ref.gates, (size_t)4 * T * bh) < 1e-5);
    CU_ASSERT(max_rel_diff(c.cache.tc, ref.tc, (size_t)T * bh) < 1e-5);

    float *g[2][5];
    double norms[2][16] = {{0}};
    size_t sizes[5] = {nw, 4 * (size_t)H, nx, bh, bh};
    for (int v = 0; v < 2; v++)
        for (int k = 0; k < 5; k++) g[v][k] = calloc(sizes[k], sizeof(float));
    lstm_backward(g[0][2], g[0][3], g[0][4], g[0][0], g[0][1], norms[0], &c.work, c.dout, c.dhT, c.dcT, &c.cache,
                  c.x, c.W, B, T, n_in, H);
    lstm_backward_reference(g[1][2], g[1][3], g[1][4], g[1][0], g[1][1], norms[1], &ref_work, c.dout, c.dhT,
                            c.dcT, &ref, c.x, c.W, B, T, n_in, H);
    for (int k = 0; k < 5; k++) CU_ASSERT(max_rel_diff(g[0][k], g[1][k], sizes[k]) < 1e-5);
    for (int t = 0; t < T; t++) CU_ASSERT(fabs(norms[0][t] - norms[1][t]) < 1e-5 * (1.0 + norms[1][t]));
    for (int v = 0; v < 2; v++)
        for (int k = 0; k < 5; k++) free(g[v][k]);
    lstm_cache_free(&ref);
    lstm_work_free(&ref_work);
    ctx_free(&c);
}

/* The diagnostic: with a gradient only at the last step, ‖∂L/∂h_T‖ is exactly that gradient's
 * norm, and earlier steps see what BPTT carried back — non-zero, and with the forget gate nearly
 * closed (b_f ≪ 0) and small weights, shrinking as t goes back. */
static void test_dh_norms_diagnostic(void) {
    Ctx c;
    ctx_init(&c, 2, 8, 3, 4, 400);
    int B = c.B, T = c.T, H = c.H;
    size_t bh = (size_t)B * H;
    memset(c.dout, 0, (size_t)T * bh * sizeof(float));
    fill_uniform(c.dout + (size_t)(T - 1) * bh, bh, -1.0f, 1.0f, 9);
    for (size_t k = 0; k < (size_t)4 * H * (H + c.n_in); k++) c.W[k] *= 0.3f;
    for (int j = 0; j < H; j++) c.b[H + j] = -4.0f;   /* forget gate ≈ σ(−4) ≈ 0.018 */
    float *dW = calloc((size_t)4 * H * (H + c.n_in), sizeof(float)), *db = calloc(4 * (size_t)H, sizeof(float));
    double norms[8] = {0};
    probe_loss(&c);
    lstm_backward(NULL, NULL, NULL, dW, db, norms, &c.work, c.dout, NULL, NULL, &c.cache, c.x, c.W, B, T,
                  c.n_in, H);
    double expect_T = 0.0;
    for (int r = 0; r < B; r++) {
        double sq = 0.0;
        for (int j = 0; j < H; j++) sq += pow(c.dout[(size_t)(T - 1) * bh + (size_t)r * H + j], 2);
        expect_T += sqrt(sq);
    }
    CU_ASSERT(fabs(norms[T - 1] - expect_T) < 1e-5 * expect_T);
    for (int t = T - 1; t >= 1; t--) {
        CU_ASSERT(norms[t - 1] > 0.0);
        CU_ASSERT(norms[t - 1] < norms[t]);
    }
    CU_ASSERT(norms[0] < 1e-3 * norms[T - 1]);   /* vanished */
    free(dW), free(db);
    ctx_free(&c);
}

/* The vectorised σ and tanh of the gate loops: within 3e-7 relative of double precision over
 * [−30, 30], the same value from the vector body and the scalar tail, saturation, NaN. */
static void test_gatemath(void) {
    enum { N = 60001 };
    float *x = malloc(N * sizeof(float)), *s = malloc(N * sizeof(float)), *t = malloc(N * sizeof(float));
    for (int k = 0; k < N; k++) x[k] = -30.0f + 60.0f * (float)k / (N - 1);
    gm_sigmoid(s, x, N);
    gm_tanh(t, x, N);
    double es = 0.0, et = 0.0;
    int mismatch = 0;
    for (int k = 0; k < N; k++) {
        double ws = 1.0 / (1.0 + exp(-(double)x[k])), wt = tanh((double)x[k]);
        es = fmax(es, fabs(s[k] - ws) / ws);
        if (wt != 0.0) et = fmax(et, fabs(t[k] - wt) / fabs(wt));
        mismatch += gm_sigmoid1(x[k]) != s[k] || gm_tanh1(x[k]) != t[k];
    }
    CU_ASSERT(es < 3e-7);
    CU_ASSERT(et < 3e-7);
    CU_ASSERT(mismatch == 0);
    float edge[5] = {1e4f, -1e4f, INFINITY, -INFINITY, NAN}, out[5];
    gm_tanh(out, edge, 5);
    CU_ASSERT(out[0] == 1.0f && out[1] == -1.0f && out[2] == 1.0f && out[3] == -1.0f && isnan(out[4]));
    gm_sigmoid(out, edge, 5);
    CU_ASSERT(out[0] == 1.0f && out[1] < 1e-37f && out[1] >= 0.0f && out[2] == 1.0f && isnan(out[4]));
    free(x), free(s), free(t);
}

static void test_fast_equals_reference(void) { for_each_kernel(check_fast_equals_reference); }

int main(void) {
    const TestCase cases[] = {
        {"gradcheck through time: W, b, x, h0, c0", test_gradcheck_through_time},
        {"backward accumulates into dW, db", test_backward_accumulates},
        {"fast kernels equal the plain reference (every product kernel)", test_fast_equals_reference},
        {"per-step gradient norm diagnostic", test_dh_norms_diagnostic},
        {"vectorised sigmoid and tanh (gatemath.h)", test_gatemath},
        {NULL, NULL},
    };
    return run_tests("lstm", cases);
}
