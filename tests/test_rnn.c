/* test_rnn.c — the vanilla RNN, both forms (lecture h_t = θ φ(h_{t−1}) + θ_x x_t, Elman
 * h_t = φ(W h_{t−1} + U x_t + b)) and several φ: finite differences through time, fast kernels
 * against the reference, the per-step gradient norms, and the lecture form's output φ(h_t). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rnn.h"
#include "testutil.h"

/* Probe loss L = Σ_t Σ dout_t ⊙ out_t + Σ dhT ⊙ h_T (out_t = h_t or φ(h_t)). */
typedef struct Ctx {
    RnnForm form;
    Activation act;
    int B, T, n_in, H;
    float *x, *h0, *W, *b, *dout, *dhT;
    RnnCache cache;
    RnnWork work;
} Ctx;

static void ctx_init(Ctx *c, RnnForm form, Activation act, int B, int T, int n_in, int H,
                     unsigned long long seed) {
    memset(c, 0, sizeof *c);
    c->form = form, c->act = act, c->B = B, c->T = T, c->n_in = n_in, c->H = H;
    size_t bh = (size_t)B * H, nw = (size_t)H * (H + n_in);
    c->x = malloc((size_t)T * B * n_in * sizeof(float));
    c->h0 = malloc(bh * sizeof(float));
    c->W = malloc(nw * sizeof(float));
    c->b = malloc((size_t)H * sizeof(float));
    c->dout = malloc((size_t)T * bh * sizeof(float));
    c->dhT = malloc(bh * sizeof(float));
    fill_uniform(c->x, (size_t)T * B * n_in, -1.0f, 1.0f, seed + 1);
    fill_uniform(c->h0, bh, -0.5f, 0.5f, seed + 2);
    fill_uniform(c->W, nw, -0.6f, 0.6f, seed + 3);
    fill_uniform(c->b, (size_t)H, -0.3f, 0.3f, seed + 4);
    fill_uniform(c->dout, (size_t)T * bh, -1.0f, 1.0f, seed + 5);
    fill_uniform(c->dhT, bh, -1.0f, 1.0f, seed + 6);
    rnn_cache_alloc(&c->cache, form, B + 1, T + 2, n_in, H);
    rnn_work_alloc(&c->work, B + 1, T + 2, n_in, H);
}

static void ctx_free(Ctx *c) {
    free(c->x), free(c->h0), free(c->W), free(c->b), free(c->dout), free(c->dhT);
    rnn_cache_free(&c->cache);
    rnn_work_free(&c->work);
}

static double dot(const float *a, const float *b, size_t n) {
    double s = 0.0;
    for (size_t k = 0; k < n; k++) s += (double)a[k] * b[k];
    return s;
}

static double probe_loss(void *ctx) {
    Ctx *c = ctx;
    rnn_forward(&c->cache, c->x, c->h0, c->W, c->b, c->form, c->act, c->B, c->T, c->n_in, c->H);
    size_t bh = (size_t)c->B * c->H;
    return dot(c->dout, rnn_output(&c->cache, c->form, c->B, c->H), (size_t)c->T * bh) +
           dot(c->dhT, rnn_final_state(&c->cache, c->B, c->T, c->H), bh);
}

/* Central differences per element at three steps, keeping the best: relu's kinks spoil a
 * large step when one is crossed (one pre-activation here sits 7e-4 from 0), float32 rounding
 * spoils a small one; a wrong gradient fails at all three. Returns the worst element's error. */
static double check(Ctx *c, float *x, const float *analytic, size_t n) {
    double worst = 0.0;
    for (size_t k = 0; k < n; k++) {
        double e1 = gradcheck(probe_loss, c, x + k, analytic + k, 1, 0, 1e-2, 1e-2);
        double e2 = gradcheck(probe_loss, c, x + k, analytic + k, 1, 0, 1e-3, 1e-2);
        double e3 = gradcheck(probe_loss, c, x + k, analytic + k, 1, 0, 1e-4, 1e-2);
        worst = fmax(worst, fmin(e1, fmin(e2, e3)));
    }
    return worst;
}

static void check_gradients(RnnForm form, Activation act, unsigned long long seed) {
    Ctx c;
    ctx_init(&c, form, act, 3, 6, 4, 5, seed);
    size_t nw = (size_t)c.H * (c.H + c.n_in), bh = (size_t)c.B * c.H, nx = (size_t)c.T * c.B * c.n_in;
    float *dW = calloc(nw, sizeof(float)), *db = calloc((size_t)c.H, sizeof(float));
    float *dx = calloc(nx, sizeof(float)), *dh0 = calloc(bh, sizeof(float));
    probe_loss(&c);
    rnn_backward(dx, dh0, dW, db, NULL, &c.work, c.dout, c.dhT, &c.cache, c.x, c.W, form, act, c.B, c.T, c.n_in,
                 c.H);
    double eW = check(&c, c.W, dW, nw), ex = check(&c, c.x, dx, nx), eh = check(&c, c.h0, dh0, bh);
    CU_ASSERT(eW < 5e-3);
    CU_ASSERT(ex < 5e-3);
    CU_ASSERT(eh < 5e-3);
    if (form == RNN_ELMAN) {
        double eb = check(&c, c.b, db, (size_t)c.H);
        CU_ASSERT(eb < 5e-3);
    } else {
        for (int j = 0; j < c.H; j++) CU_ASSERT(db[j] == 0.0f);   /* the slide has no bias */
    }
    free(dW), free(db), free(dx), free(dh0);
    ctx_free(&c);
}

static void test_grad_lecture_tanh(void) { check_gradients(RNN_LECTURE, ACT_TANH, 10); }
static void test_grad_lecture_relu(void) { check_gradients(RNN_LECTURE, ACT_RELU, 20); }
static void test_grad_lecture_sigmoid(void) { check_gradients(RNN_LECTURE, ACT_SIGMOID, 30); }
static void test_grad_elman_tanh(void) { check_gradients(RNN_ELMAN, ACT_TANH, 40); }
static void test_grad_elman_relu(void) { check_gradients(RNN_ELMAN, ACT_RELU, 50); }
static void test_grad_elman_sigmoid(void) { check_gradients(RNN_ELMAN, ACT_SIGMOID, 60); }

static double max_rel_diff(const float *a, const float *b, size_t n) {
    double worst = 0.0;
    for (size_t k = 0; k < n; k++) worst = fmax(worst, fabs((double)a[k] - b[k]) / (1.0 + fabs((double)b[k])));
    return worst;
}

static void check_fast_equals_reference(RnnForm form, Activation act) {
    Ctx c;
    ctx_init(&c, form, act, 4, 7, 6, 8, 70);
    int B = c.B, T = c.T, n_in = c.n_in, H = c.H;
    size_t nw = (size_t)H * (H + n_in), bh = (size_t)B * H, nx = (size_t)T * B * n_in;
    RnnCache ref;
    RnnWork ref_work;
    rnn_cache_alloc(&ref, form, B, T, n_in, H);
    rnn_work_alloc(&ref_work, B, T, n_in, H);
    rnn_forward(&c.cache, c.x, c.h0, c.W, c.b, form, act, B, T, n_in, H);
    rnn_forward_reference(&ref, c.x, c.h0, c.W, c.b, form, act, B, T, n_in, H);
    CU_ASSERT(max_rel_diff(c.cache.h, ref.h, (size_t)(T + 1) * bh) < 1e-5);
    if (form == RNN_LECTURE) CU_ASSERT(max_rel_diff(c.cache.a, ref.a, (size_t)(T + 1) * bh) < 1e-5);

    size_t sizes[4] = {nw, (size_t)H, nx, bh};
    float *g[2][4];
    double norms[2][8] = {{0}};
    for (int v = 0; v < 2; v++)
        for (int k = 0; k < 4; k++) g[v][k] = calloc(sizes[k], sizeof(float));
    rnn_backward(g[0][2], g[0][3], g[0][0], g[0][1], norms[0], &c.work, c.dout, c.dhT, &c.cache, c.x, c.W, form,
                 act, B, T, n_in, H);
    rnn_backward_reference(g[1][2], g[1][3], g[1][0], g[1][1], norms[1], &ref_work, c.dout, c.dhT, &ref, c.x,
                           c.W, form, act, B, T, n_in, H);
    for (int k = 0; k < 4; k++) CU_ASSERT(max_rel_diff(g[0][k], g[1][k], sizes[k]) < 1e-5);
    for (int t = 0; t < T; t++) CU_ASSERT(fabs(norms[0][t] - norms[1][t]) < 1e-5 * (1.0 + norms[1][t]));
    for (int v = 0; v < 2; v++)
        for (int k = 0; k < 4; k++) free(g[v][k]);
    rnn_cache_free(&ref);
    rnn_work_free(&ref_work);
    ctx_free(&c);
}

/* Run check() under every product kernel this CPU has (packgemm.h), then restore the best. */
static void for_each_kernel(void (*check)(void)) {
    for (int k = PACK_KERNEL_AVX512; k >= PACK_KERNEL_BLAS; k--)
        if (packed_force_kernel((PackKernel)k) == 0) check();
    for (int k = PACK_KERNEL_AVX512; k >= PACK_KERNEL_BLAS; k--)
        if (packed_force_kernel((PackKernel)k) == 0) break;
}

static void check_forms(void) {
    check_fast_equals_reference(RNN_LECTURE, ACT_TANH);
    check_fast_equals_reference(RNN_LECTURE, ACT_RELU);
    check_fast_equals_reference(RNN_ELMAN, ACT_TANH);
    check_fast_equals_reference(RNN_ELMAN, ACT_SIGMOID);
}

static void test_fast_equals_reference(void) { for_each_kernel(check_forms); }

/* The lecture form, by hand for one unit: h_1 = θ φ(h_0) + θ_x x_1, output φ(h_1). */
static void test_lecture_form_by_hand(void) {
    float x[2] = {0.5f, -1.0f};            /* T = 2, B = 1, n_in = 1 */
    float h0 = 0.3f, W[2] = {0.8f, 2.0f};  /* θ = 0.8, θ_x = 2 */
    RnnCache c;
    rnn_cache_alloc(&c, RNN_LECTURE, 1, 2, 1, 1);
    rnn_forward(&c, x, &h0, W, NULL, RNN_LECTURE, ACT_TANH, 1, 2, 1, 1);
    double h1 = 0.8 * tanh(0.3) + 2.0 * 0.5, h2 = 0.8 * tanh(h1) + 2.0 * -1.0;
    const float *out = rnn_output(&c, RNN_LECTURE, 1, 1);
    CU_ASSERT(fabs(out[0] - tanh(h1)) < 1e-6);
    CU_ASSERT(fabs(out[1] - tanh(h2)) < 1e-6);
    CU_ASSERT(fabs(*rnn_final_state(&c, 1, 2, 1) - h2) < 1e-6);   /* the carried state is h, not φ(h) */
    rnn_forward(&c, x, &h0, W, (float[]){5.0f}, RNN_ELMAN, ACT_TANH, 1, 2, 1, 1);
    double e1 = tanh(0.8 * 0.3 + 2.0 * 0.5 + 5.0);
    CU_ASSERT(fabs(rnn_output(&c, RNN_ELMAN, 1, 1)[0] - e1) < 1e-6);
    rnn_cache_free(&c);
}

/* A tanh RNN with small recurrent weights: the gradient from the last step shrinks
 * geometrically going back in time — the lecture's vanishing gradient, seen in dh_norms. */
static void test_vanishing_gradient_diagnostic(void) {
    Ctx c;
    ctx_init(&c, RNN_ELMAN, ACT_TANH, 2, 10, 3, 6, 80);
    int B = c.B, T = c.T, H = c.H;
    size_t bh = (size_t)B * H;
    for (int j = 0; j < H; j++)
        for (int k = 0; k < H; k++) c.W[(size_t)j * (H + c.n_in) + k] *= 0.5f;
    memset(c.dout, 0, (size_t)T * bh * sizeof(float));
    for (size_t k = 0; k < bh; k++) c.dout[(size_t)(T - 1) * bh + k] = 1.0f;
    float *dW = calloc((size_t)H * (H + c.n_in), sizeof(float)), *db = calloc((size_t)H, sizeof(float));
    double norms[10] = {0};
    probe_loss(&c);
    rnn_backward(NULL, NULL, dW, db, norms, &c.work, c.dout, NULL, &c.cache, c.x, c.W, RNN_ELMAN, ACT_TANH, B, T,
                 c.n_in, H);
    CU_ASSERT(fabs(norms[T - 1] - B * sqrt((double)H)) < 1e-5);
    for (int t = 1; t < T; t++) CU_ASSERT(norms[t - 1] < norms[t]);
    CU_ASSERT(norms[0] < 1e-2 * norms[T - 1]);
    free(dW), free(db);
    ctx_free(&c);
}

int main(void) {
    const TestCase cases[] = {
        {"gradcheck lecture form, tanh", test_grad_lecture_tanh},
        {"gradcheck lecture form, relu", test_grad_lecture_relu},
        {"gradcheck lecture form, sigmoid", test_grad_lecture_sigmoid},
        {"gradcheck Elman, tanh", test_grad_elman_tanh},
        {"gradcheck Elman, relu", test_grad_elman_relu},
        {"gradcheck Elman, sigmoid", test_grad_elman_sigmoid},
        {"fast kernels equal the plain reference (every product kernel)", test_fast_equals_reference},
        {"lecture and Elman forms by hand", test_lecture_form_by_hand},
        {"vanishing gradient shows in dh_norms", test_vanishing_gradient_diagnostic},
        {NULL, NULL},
    };
    return run_tests("rnn", cases);
}
