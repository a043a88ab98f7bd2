/* test_gru.c — the GRU, both variants (the slide's "cho" and PyTorch's): finite differences
 * through time, fast kernels against the reference, the z conventions by hand, and the
 * per-step gradient norms. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "gru.h"
#include "testutil.h"

/* Probe loss L = Σ_t Σ dout_t ⊙ h_t + Σ dhT ⊙ h_T. */
typedef struct Ctx {
    GruVariant v;
    int B, T, n_in, H;
    float *x, *h0, *W, *b, *b_hn, *dout, *dhT;
    GruCache cache;
    GruWork work;
} Ctx;

static void ctx_init(Ctx *c, GruVariant v, int B, int T, int n_in, int H, unsigned long long seed) {
    memset(c, 0, sizeof *c);
    c->v = v, c->B = B, c->T = T, c->n_in = n_in, c->H = H;
    size_t bh = (size_t)B * H, nw = (size_t)3 * H * (H + n_in);
    c->x = malloc((size_t)T * B * n_in * sizeof(float));
    c->h0 = malloc(bh * sizeof(float));
    c->W = malloc(nw * sizeof(float));
    c->b = malloc((size_t)3 * H * sizeof(float));
    c->b_hn = malloc((size_t)H * sizeof(float));
    c->dout = malloc((size_t)T * bh * sizeof(float));
    c->dhT = malloc(bh * sizeof(float));
    fill_uniform(c->x, (size_t)T * B * n_in, -1.0f, 1.0f, seed + 1);
    fill_uniform(c->h0, bh, -0.8f, 0.8f, seed + 2);
    fill_uniform(c->W, nw, -0.6f, 0.6f, seed + 3);
    fill_uniform(c->b, (size_t)3 * H, -0.3f, 0.3f, seed + 4);
    fill_uniform(c->b_hn, (size_t)H, -0.3f, 0.3f, seed + 5);
    fill_uniform(c->dout, (size_t)T * bh, -1.0f, 1.0f, seed + 6);
    fill_uniform(c->dhT, bh, -1.0f, 1.0f, seed + 7);
    gru_cache_alloc(&c->cache, B + 2, T + 1, n_in, H);
    gru_work_alloc(&c->work, v, B + 2, T + 1, n_in, H);
}

static void ctx_free(Ctx *c) {
    free(c->x), free(c->h0), free(c->W), free(c->b), free(c->b_hn), free(c->dout), free(c->dhT);
    gru_cache_free(&c->cache);
    gru_work_free(&c->work);
}

static double dot(const float *a, const float *b, size_t n) {
    double s = 0.0;
    for (size_t k = 0; k < n; k++) s += (double)a[k] * b[k];
    return s;
}

static double probe_loss(void *ctx) {
    Ctx *c = ctx;
    gru_forward(&c->cache, c->x, c->h0, c->W, c->b, c->b_hn, c->v, c->B, c->T, c->n_in, c->H);
    size_t bh = (size_t)c->B * c->H;
    return dot(c->dout, gru_output(&c->cache, c->B, c->H), (size_t)c->T * bh) +
           dot(c->dhT, gru_final_h(&c->cache, c->B, c->T, c->H), bh);
}

static void check_gradients(GruVariant v, unsigned long long seed) {
    Ctx c;
    ctx_init(&c, v, 3, 6, 4, 5, seed);
    size_t nw = (size_t)3 * c.H * (c.H + c.n_in), bh = (size_t)c.B * c.H, nx = (size_t)c.T * c.B * c.n_in;
    float *dW = calloc(nw, sizeof(float)), *db = calloc((size_t)3 * c.H, sizeof(float));
    float *db_hn = calloc((size_t)c.H, sizeof(float));
    float *dx = calloc(nx, sizeof(float)), *dh0 = calloc(bh, sizeof(float));
    probe_loss(&c);
    gru_backward(dx, dh0, dW, db, db_hn, NULL, &c.work, c.dout, c.dhT, &c.cache, c.x, c.W, v, c.B, c.T, c.n_in,
                 c.H);
    CU_ASSERT(gradcheck(probe_loss, &c, c.W, dW, nw, 0, 1e-2, 1e-2) < 5e-3);
    CU_ASSERT(gradcheck(probe_loss, &c, c.b, db, (size_t)3 * c.H, 0, 1e-2, 1e-2) < 5e-3);
    CU_ASSERT(gradcheck(probe_loss, &c, c.x, dx, nx, 0, 1e-2, 1e-2) < 5e-3);
    CU_ASSERT(gradcheck(probe_loss, &c, c.h0, dh0, bh, 0, 1e-2, 1e-2) < 5e-3);
    if (v == GRU_PYTORCH) {
        CU_ASSERT(gradcheck(probe_loss, &c, c.b_hn, db_hn, (size_t)c.H, 0, 1e-2, 1e-2) < 5e-3);
    } else {
        for (int j = 0; j < c.H; j++) CU_ASSERT(db_hn[j] == 0.0f);
    }
    free(dW), free(db), free(db_hn), free(dx), free(dh0);
    ctx_free(&c);
}

static void test_grad_cho(void) { check_gradients(GRU_CHO, 10); }
static void test_grad_pytorch(void) { check_gradients(GRU_PYTORCH, 20); }

static double max_rel_diff(const float *a, const float *b, size_t n) {
    double worst = 0.0;
    for (size_t k = 0; k < n; k++) worst = fmax(worst, fabs((double)a[k] - b[k]) / (1.0 + fabs((double)b[k])));
    return worst;
}

static void check_fast_equals_reference(GruVariant v) {
    Ctx c;
    ctx_init(&c, v, 4, 7, 6, 8, 30);
    int B = c.B, T = c.T, n_in = c.n_in, H = c.H;
    size_t nw = (size_t)3 * H * (H + n_in), bh = (size_t)B * H, nx = (size_t)T * B * n_in;
    GruCache ref;
    GruWork ref_work;
    gru_cache_alloc(&ref, B, T, n_in, H);
    gru_work_alloc(&ref_work, v, B, T, n_in, H);
    gru_forward(&c.cache, c.x, c.h0, c.W, c.b, c.b_hn, v, B, T, n_in, H);
    gru_forward_reference(&ref, c.x, c.h0, c.W, c.b, c.b_hn, v, B, T, n_in, H);
    CU_ASSERT(max_rel_diff(c.cache.h, ref.h, (size_t)(T + 1) * bh) < 1e-5);
    CU_ASSERT(max_rel_diff(c.cache.gates, ref.gates, (size_t)3 * T * bh) < 1e-5);
    CU_ASSERT(max_rel_diff(c.cache.aux, ref.aux, (size_t)T * bh) < 1e-5);

    size_t sizes[5] = {nw, (size_t)3 * H, (size_t)H, nx, bh};
    float *g[2][5];
    double norms[2][8] = {{0}};
    for (int k = 0; k < 2; k++)
        for (int a = 0; a < 5; a++) g[k][a] = calloc(sizes[a], sizeof(float));
    gru_backward(g[0][3], g[0][4], g[0][0], g[0][1], g[0][2], norms[0], &c.work, c.dout, c.dhT, &c.cache, c.x,
                 c.W, v, B, T, n_in, H);
    gru_backward_reference(g[1][3], g[1][4], g[1][0], g[1][1], g[1][2], norms[1], &ref_work, c.dout, c.dhT, &ref,
                           c.x, c.W, v, B, T, n_in, H);
    for (int a = 0; a < 5; a++) CU_ASSERT(max_rel_diff(g[0][a], g[1][a], sizes[a]) < 1e-5);
    for (int t = 0; t < T; t++) CU_ASSERT(fabs(norms[0][t] - norms[1][t]) < 1e-5 * (1.0 + norms[1][t]));
    for (int k = 0; k < 2; k++)
        for (int a = 0; a < 5; a++) free(g[k][a]);
    gru_cache_free(&ref);
    gru_work_free(&ref_work);
    ctx_free(&c);
}

/* Run check() under every product kernel this CPU has (packgemm.h), then restore the best. */
static void for_each_kernel(void (*check)(void)) {
    for (int k = PACK_KERNEL_AVX512; k >= PACK_KERNEL_BLAS; k--)
        if (packed_force_kernel((PackKernel)k) == 0) check();
    for (int k = PACK_KERNEL_AVX512; k >= PACK_KERNEL_BLAS; k--)
        if (packed_force_kernel((PackKernel)k) == 0) break;
}

static void check_both_variants(void) {
    check_fast_equals_reference(GRU_CHO);
    check_fast_equals_reference(GRU_PYTORCH);
}

static void test_fast_equals_reference(void) { for_each_kernel(check_both_variants); }

/* One unit, one step, by hand: the slide's z is the share of the candidate, PyTorch's z the
 * share of the old state; r multiplies before (cho) or after (PyTorch) the product. */
static void test_conventions_by_hand(void) {
    const int H = 1, n_in = 1;
    float x = 0.7f, h0 = -0.4f;
    /* rows r, z, n; columns [h | x] */
    float W[6] = {0.5f, -0.3f, 0.9f, 0.2f, 1.1f, -0.8f};
    float b[3] = {0.1f, -0.2f, 0.05f}, b_hn = 0.3f;
    GruCache c;
    gru_cache_alloc(&c, 1, 1, n_in, H);
    double r = 1.0 / (1.0 + exp(-(0.5 * h0 - 0.3 * x + 0.1)));
    double z = 1.0 / (1.0 + exp(-(0.9 * h0 + 0.2 * x - 0.2)));

    gru_forward(&c, &x, &h0, W, b, NULL, GRU_CHO, 1, 1, n_in, H);
    double n_cho = tanh(1.1 * (r * h0) - 0.8 * x + 0.05);
    CU_ASSERT(fabs(c.h[1] - ((1 - z) * h0 + z * n_cho)) < 1e-6);

    gru_forward(&c, &x, &h0, W, b, &b_hn, GRU_PYTORCH, 1, 1, n_in, H);
    double n_pt = tanh(-0.8 * x + 0.05 + r * (1.1 * h0 + 0.3));
    CU_ASSERT(fabs(c.h[1] - ((1 - z) * n_pt + z * h0)) < 1e-6);
    gru_cache_free(&c);
}

/* ‖∂L/∂h_T‖ is the last step's gradient; with z ≈ 0 under the slide's convention (keep the old
 * state) the gradient passes back through time almost unchanged: no vanishing. */
static void test_dh_norms_diagnostic(void) {
    Ctx c;
    ctx_init(&c, GRU_CHO, 2, 8, 3, 4, 40);
    int B = c.B, T = c.T, H = c.H;
    size_t bh = (size_t)B * H;
    memset(c.dout, 0, (size_t)T * bh * sizeof(float));
    fill_uniform(c.dout + (size_t)(T - 1) * bh, bh, -1.0f, 1.0f, 9);
    for (int j = 0; j < H; j++) c.b[H + j] = -8.0f;   /* z ≈ 3e-4: h_t ≈ h_{t−1} */
    float *dW = calloc((size_t)3 * H * (H + c.n_in), sizeof(float)), *db = calloc((size_t)3 * H, sizeof(float));
    double norms[8] = {0};
    probe_loss(&c);
    gru_backward(NULL, NULL, dW, db, NULL, norms, &c.work, c.dout, NULL, &c.cache, c.x, c.W, GRU_CHO, B, T,
                 c.n_in, H);
    double expect_T = 0.0;
    for (int r = 0; r < B; r++) {
        double sq = 0.0;
        for (int j = 0; j < H; j++) sq += pow(c.dout[(size_t)(T - 1) * bh + (size_t)r * H + j], 2);
        expect_T += sqrt(sq);
    }
    CU_ASSERT(fabs(norms[T - 1] - expect_T) < 1e-5 * expect_T);
    for (int t = 0; t < T - 1; t++) CU_ASSERT(fabs(norms[t] - norms[T - 1]) < 0.05 * norms[T - 1]);
    free(dW), free(db);
    ctx_free(&c);
}

int main(void) {
    const TestCase cases[] = {
        {"gradcheck cho (slide) variant: W, b, x, h0", test_grad_cho},
        {"gradcheck pytorch variant: W, b, b_hn, x, h0", test_grad_pytorch},
        {"fast kernels equal the plain reference (every product kernel)", test_fast_equals_reference},
        {"z and r conventions by hand", test_conventions_by_hand},
        {"per-step gradient norm diagnostic", test_dh_norms_diagnostic},
        {NULL, NULL},
    };
    return run_tests("gru", cases);
}
