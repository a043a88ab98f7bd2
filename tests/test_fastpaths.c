/* test_fastpaths.c — every speed-up held to its plain counterpart.
 *
 *   threads     par_run runs every part once; nested calls run inline. The packed products,
 *               the recurrent layers (LSTM, both GRU variants, both RNN forms; forward and
 *               backward, every output) and whole training steps (sequence model, autoencoder)
 *               give BIT-IDENTICAL results with 1, 2 and 3 threads, with the size threshold
 *               set to 0 so that every split happens even on these small shapes.
 *   adam        the vectorised loop equals the plain loop bit for bit (tails, weight decay, AdamW).
 *   norm        the interleaved global norm equals the one-sum definition to rounding.
 *   dense       the packed layer equals the plain reference (every activation, plain and tied).
 *   loss        the vectorised binary cross-entropy value equals the libm one; gm_log4's error.
 *   squares     gm_sum_squares16 (the per-step gradient norms' chunks) is its fixed tree. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "autoencoder.h"
#include "clip.h"
#include "dense.h"
#include "gatemath.h"
#include "gru.h"
#include "loss.h"
#include "lstm.h"
#include "optim.h"
#include "packgemm.h"
#include "parallel.h"
#include "rnn.h"
#include "seqmodel.h"
#include "fixtures.h"
#include "testutil.h"

static int same_bits(const void *a, const void *b, size_t bytes) { return memcmp(a, b, bytes) == 0; }

static void restore_threads(void) {
    par_set_threads(2);
    par_set_min_flops(PAR_MIN_FLOPS);
}

/* ---- par_run --------------------------------------------------------------------------- */

typedef struct Count {
    int hits[16];
    int inner[16];
} Count;

static void inner_part(void *ctx, int part, int parts) {
    (void)parts;
    /* outer parts on several threads count into the same array: atomically (a plain ++ lost
     * counts under load, and the test failed for the test's own race) */
    __atomic_fetch_add(&((int *)ctx)[part], 1, __ATOMIC_RELAXED);
}

static void count_part(void *ctx, int part, int parts) {
    Count *c = ctx;
    c->hits[part]++;
    (void)parts;
    par_run(inner_part, c->inner, 3);   /* nested: runs inline on this thread */
}

static void test_par_run_every_part_once(void) {
    for (int threads = 1; threads <= 4; threads++) {
        par_set_threads(threads);
        for (int parts = 1; parts <= 7; parts++) {
            Count c;
            memset(&c, 0, sizeof c);
            par_run(count_part, &c, parts);
            for (int k = 0; k < 16; k++) CU_ASSERT_EQUAL(c.hits[k], k < parts ? 1 : 0);
            for (int k = 0; k < 3; k++) CU_ASSERT_EQUAL(c.inner[k], parts);
        }
    }
    int b, e, covered = 0;
    for (int part = 0; part < 3; part++) {
        par_range(100, part, 3, 32, &b, &e);
        CU_ASSERT(b % 32 == 0);
        CU_ASSERT_EQUAL(b, covered);
        covered = e;
    }
    CU_ASSERT_EQUAL(covered, 100);
    restore_threads();
}

/* A child of fork() (after the parent's workers started) gets workers of its own. */
static void test_par_run_after_fork(void) {
    par_set_threads(2);
    Count c;
    memset(&c, 0, sizeof c);
    par_run(count_part, &c, 2);   /* the parent's worker is running now */
    fflush(NULL);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        alarm(10);   /* a deadlock fails the test instead of hanging it */
        memset(&c, 0, sizeof c);
        par_run(count_part, &c, 4);
        _exit(c.hits[0] == 1 && c.hits[3] == 1 ? 0 : 1);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    restore_threads();
}

/* ---- packed products over threads -------------------------------------------------------- */

/* Shapes split by column panels (37 × 200) and by rows (300 × 40: two panels, many rows). */
static void check_products_any_thread_count(int M, int N, int K) {
    size_t big = (size_t)K * N + (size_t)M * K;   /* room for any operand shape below */
    float *A = malloc(big * sizeof(float)), *Bm = malloc(big * sizeof(float));
    float *C[3];
    fill_uniform(A, big, -1, 1, 1);
    fill_uniform(Bm, big, -1, 1, 2);
    PackedMat ws;
    packed_alloc(&ws, K, N);
    par_set_min_flops(0.0);
    for (int form = 0; form < 3; form++) {
        for (int threads = 1; threads <= 3; threads++) {
            par_set_threads(threads);
            C[threads - 1] = malloc((size_t)M * N * sizeof(float));
            fill_uniform(C[threads - 1], (size_t)M * N, -1, 1, 3);
            if (form == 0) pk_gemm_nt(C[threads - 1], N, A, K, Bm, K, M, N, K, 1.0f, &ws);
            else if (form == 1) pk_gemm_nn(C[threads - 1], N, A, K, Bm, N, M, N, K, 1.0f, &ws);
            else pk_gemm_tn(C[threads - 1], N, A, M, Bm, N, M, N, K, 0.0f, &ws);   /* A as At (K, M) */
        }
        CU_ASSERT(same_bits(C[0], C[1], (size_t)M * N * sizeof(float)));
        CU_ASSERT(same_bits(C[0], C[2], (size_t)M * N * sizeof(float)));
        for (int k = 0; k < 3; k++) free(C[k]);
    }
    packed_free(&ws);
    free(A), free(Bm);
    restore_threads();
}

static void test_packed_products_any_thread_count(void) {
    check_products_any_thread_count(37, 200, 150);
    check_products_any_thread_count(300, 40, 50);
}

/* One row at a time (M = 1, the row kernel) gives the same bits as the same rows inside a tile
 * of a bigger product: the same chain of fused multiply-adds per element. */
static void test_row_kernel_equals_tile_kernel(void) {
    const int M = 9, N = 200, K = 300;   /* K crosses a k slice (256); N: 7 panels, the last partial */
    float *A = malloc((size_t)M * K * sizeof(float)), *W = malloc((size_t)N * K * sizeof(float));
    float *tile = malloc((size_t)M * N * sizeof(float)), *rows = malloc((size_t)M * N * sizeof(float));
    fill_uniform(A, (size_t)M * K, -1, 1, 71);
    fill_uniform(W, (size_t)N * K, -1, 1, 72);
    PackedMat p;
    packed_alloc(&p, K, N);
    for (int kernel = PACK_KERNEL_AVX2; kernel <= PACK_KERNEL_AVX512; kernel++) {
        if (packed_force_kernel((PackKernel)kernel) != 0) continue;
        for (int beta = 0; beta < 2; beta++) {
            fill_uniform(tile, (size_t)M * N, -1, 1, 73);
            memcpy(rows, tile, (size_t)M * N * sizeof(float));
            packed_set_transposed(&p, W, K, N, K);
            packed_gemm(tile, N, A, K, &p, M, (float)beta);
            for (int r = 0; r < M; r++) packed_gemm(rows + (size_t)r * N, N, A + (size_t)r * K, K, &p, 1, (float)beta);
            CU_ASSERT(same_bits(tile, rows, (size_t)M * N * sizeof(float)));
        }
    }
    for (int k = PACK_KERNEL_AVX512; k >= PACK_KERNEL_BLAS; k--)
        if (packed_force_kernel((PackKernel)k) == 0) break;
    packed_free(&p);
    free(A), free(W), free(tile), free(rows);
}

/* ---- recurrent layers over threads ------------------------------------------------------- */

/* B = 5: too few rows to split, the steps split by units (H = 3 unit grains: up to 3 parts);
 * B = 24: the time loop splits by rows (3 blocks of 8). */
enum { RT = 6, RIN = 7, RH = 96 };
static int RB = 5;

typedef struct LayerRun {
    float *h;           /* forward output and states, as laid out by the layer */
    size_t h_n;
    float *dx, *dh0, *dc0, *dW, *db, *db2;
    double norms[RT];
} LayerRun;

typedef enum { L_LSTM, L_GRU_PT, L_GRU_CHO, L_RNN_ELMAN, L_RNN_LECTURE } LayerKind;

static void layer_run(LayerRun *out, LayerKind kind, int threads) {
    par_set_threads(threads);
    par_set_min_flops(0.0);
    int G = kind == L_LSTM ? 4 : kind <= L_GRU_CHO ? 3 : 1, ld = RH + RIN;
    size_t nw = (size_t)G * RH * ld, bh = (size_t)RB * RH;
    float *x = malloc((size_t)RT * RB * RIN * sizeof(float)), *h0 = malloc(bh * sizeof(float));
    float *c0 = malloc(bh * sizeof(float)), *W = malloc(nw * sizeof(float)), *b = malloc((size_t)G * RH * sizeof(float));
    float *bhn = malloc(RH * sizeof(float)), *dout = malloc((size_t)RT * bh * sizeof(float));
    float *dhT = malloc(bh * sizeof(float)), *dcT = malloc(bh * sizeof(float));
    fill_uniform(x, (size_t)RT * RB * RIN, -1, 1, 11);
    fill_uniform(h0, bh, -0.5f, 0.5f, 12);
    fill_uniform(c0, bh, -0.5f, 0.5f, 13);
    fill_uniform(W, nw, -0.2f, 0.2f, 14);
    fill_uniform(b, (size_t)G * RH, -0.3f, 0.3f, 15);
    fill_uniform(bhn, RH, -0.3f, 0.3f, 16);
    fill_uniform(dout, (size_t)RT * bh, -1, 1, 17);
    fill_uniform(dhT, bh, -1, 1, 18);
    fill_uniform(dcT, bh, -1, 1, 19);
    memset(out, 0, sizeof *out);
    out->dx = calloc((size_t)RT * RB * RIN, sizeof(float));
    out->dh0 = calloc(bh, sizeof(float));
    out->dc0 = calloc(bh, sizeof(float));
    out->dW = calloc(nw, sizeof(float));
    out->db = calloc((size_t)G * RH, sizeof(float));
    out->db2 = calloc(RH, sizeof(float));
    if (kind == L_LSTM) {
        LstmCache c;
        LstmWork w;
        lstm_cache_alloc(&c, RB, RT, RIN, RH);
        lstm_work_alloc(&w, RB, RT, RIN, RH);
        lstm_forward(&c, x, h0, c0, W, b, RB, RT, RIN, RH);
        lstm_backward(out->dx, out->dh0, out->dc0, out->dW, out->db, out->norms, &w, dout, dhT, dcT, &c, x, W, RB, RT,
                      RIN, RH);
        out->h_n = (size_t)(RT + 1) * bh * 2 + (size_t)RT * bh * 5;   /* h, c, gates, tanh c */
        out->h = malloc(out->h_n * sizeof(float));
        memcpy(out->h, c.block, out->h_n * sizeof(float));
        lstm_cache_free(&c);
        lstm_work_free(&w);
    } else if (kind == L_GRU_PT || kind == L_GRU_CHO) {
        GruVariant v = kind == L_GRU_PT ? GRU_PYTORCH : GRU_CHO;
        GruCache c;
        GruWork w;
        gru_cache_alloc(&c, RB, RT, RIN, RH);
        gru_work_alloc(&w, v, RB, RT, RIN, RH);
        gru_forward(&c, x, h0, W, b, bhn, v, RB, RT, RIN, RH);
        gru_backward(out->dx, out->dh0, out->dW, out->db, out->db2, out->norms, &w, dout, dhT, &c, x, W, v, RB, RT,
                     RIN, RH);
        out->h_n = (size_t)RT * bh * 3 + (size_t)(RT + 1) * bh + (size_t)RT * bh;   /* gates, h, aux */
        out->h = malloc(out->h_n * sizeof(float));
        memcpy(out->h, c.block, out->h_n * sizeof(float));
        gru_cache_free(&c);
        gru_work_free(&w);
    } else {
        RnnForm form = kind == L_RNN_ELMAN ? RNN_ELMAN : RNN_LECTURE;
        RnnCache c;
        RnnWork w;
        rnn_cache_alloc(&c, form, RB, RT, RIN, RH);
        rnn_work_alloc(&w, RB, RT, RIN, RH);
        rnn_forward(&c, x, h0, W, b, form, ACT_TANH, RB, RT, RIN, RH);
        rnn_backward(out->dx, out->dh0, out->dW, out->db, out->norms, &w, dout, dhT, &c, x, W, form, ACT_TANH, RB, RT,
                     RIN, RH);
        out->h_n = (size_t)(RT + 1) * bh * (form == RNN_LECTURE ? 2 : 1);
        out->h = malloc(out->h_n * sizeof(float));
        memcpy(out->h, c.block, out->h_n * sizeof(float));
        rnn_cache_free(&c);
        rnn_work_free(&w);
    }
    free(x), free(h0), free(c0), free(W), free(b), free(bhn), free(dout), free(dhT), free(dcT);
}

static void layer_run_free(LayerRun *r) {
    free(r->h), free(r->dx), free(r->dh0), free(r->dc0), free(r->dW), free(r->db), free(r->db2);
}

static void check_layer_threads(LayerKind kind) {
    int G = kind == L_LSTM ? 4 : kind <= L_GRU_CHO ? 3 : 1;
    size_t nw = (size_t)G * RH * (RH + RIN), bh = (size_t)RB * RH;
    LayerRun one, many;
    layer_run(&one, kind, 1);
    for (int threads = 2; threads <= 3; threads++) {
        layer_run(&many, kind, threads);
        int ok = same_bits(one.h, many.h, one.h_n * sizeof(float)) &&
                 same_bits(one.dx, many.dx, (size_t)RT * RB * RIN * sizeof(float)) &&
                 same_bits(one.dh0, many.dh0, bh * sizeof(float)) && same_bits(one.dc0, many.dc0, bh * sizeof(float)) &&
                 same_bits(one.dW, many.dW, nw * sizeof(float)) &&
                 same_bits(one.db, many.db, (size_t)G * RH * sizeof(float)) &&
                 same_bits(one.db2, many.db2, RH * sizeof(float)) && same_bits(one.norms, many.norms, sizeof one.norms);
        if (!ok) fprintf(stderr, "\n    layer kind %d, batch %d differs at %d threads\n", (int)kind, RB, threads);
        CU_ASSERT(ok);
        layer_run_free(&many);
    }
    CU_ASSERT(one.norms[0] > 0.0);
    layer_run_free(&one);
    restore_threads();
}

static void test_recurrent_layers_any_thread_count(void) {
    int batches[2] = {5, 24};
    for (int k = 0; k < 2; k++) {
        RB = batches[k];
        for (int kind = L_LSTM; kind <= L_RNN_LECTURE; kind++) check_layer_threads((LayerKind)kind);
    }
    RB = 5;
}

/* ---- whole training steps over threads -------------------------------------------------- */

/* One training step of a fresh model; returns the loss, fills grad (params.total floats). */
static double seq_step(CellType cell, int threads, int B, float **grad, size_t *n) {
    par_set_threads(threads);
    par_set_min_flops(0.0);
    SeqModelConfig c = fixture_seqmodel();
    c.cell = cell;
    c.rnn_form = RNN_ELMAN;
    c.gru_variant = GRU_PYTORCH;
    c.num_layers = 2;
    c.hidden[0] = 64, c.hidden[1] = 96;
    c.init_state = SEQ_INIT_LEARNED;
    c.vocab = 11, c.embed_dim = 6, c.n_out = 11;
    c.max_batch = B, c.max_T = 5;
    Rng rng;
    rng_seed(&rng, 7);
    Model *m = NULL;
    ExError err = {0};
    CU_ASSERT_FATAL(seqmodel_create(&m, &c, &rng, &err) == 0);
    int32_t x[16 * 5], y[16 * 5];
    for (int k = 0; k < B * 5; k++) x[k] = (k * 7 + 3) % 11, y[k] = (k * 5 + 1) % 11;
    Batch b = {0};
    b.B = B, b.T = 5, b.x_tokens = x, b.Ty = 5, b.y_tokens = y;
    params_zero_grad(&m->params);
    double loss = m->ops->train_batch(m, &b, NULL, NULL);
    *n = m->params.total;
    *grad = malloc(*n * sizeof(float));
    memcpy(*grad, m->params.grad, *n * sizeof(float));
    model_free(m);
    return loss;
}

static double ae_step(int threads, float **grad, size_t *n) {
    par_set_threads(threads);
    par_set_min_flops(0.0);
    AutoencoderConfig c;
    memset(&c, 0, sizeof c);
    c.n_input = 70, c.n_code = 9, c.n_hidden = 1, c.hidden_units[0] = 40, c.hidden_act[0] = ACT_SIGMOID;
    c.g = ACT_SIGMOID, c.f = ACT_SIGMOID, c.loss = LOSS_CROSS_ENTROPY, c.max_batch = 13;
    Rng rng;
    rng_seed(&rng, 8);
    Model *m = NULL;
    ExError err = {0};
    CU_ASSERT_FATAL(autoencoder_create(&m, &c, &rng, &err) == 0);
    float x[13 * 70];
    fill_uniform(x, 13 * 70, 0, 1, 21);
    Batch b = {0};
    b.B = 13, b.T = 1, b.d = 70, b.x = x;
    params_zero_grad(&m->params);
    double loss = m->ops->train_batch(m, &b, NULL, NULL);
    *n = m->params.total;
    *grad = malloc(*n * sizeof(float));
    memcpy(*grad, m->params.grad, *n * sizeof(float));
    model_free(m);
    return loss;
}

static void test_training_steps_any_thread_count(void) {
    CellType cells[3] = {CELL_LSTM, CELL_GRU, CELL_RNN};
    for (int k = 0; k < 3; k++)
        for (int B = 4; B <= 16; B += 12) {   /* steps split by units, loops by rows */
            float *g1, *g2;
            size_t n1, n2;
            double l1 = seq_step(cells[k], 1, B, &g1, &n1), l2 = seq_step(cells[k], 3, B, &g2, &n2);
            CU_ASSERT(isfinite(l1));
            CU_ASSERT(l1 == l2);
            CU_ASSERT(n1 == n2 && same_bits(g1, g2, n1 * sizeof(float)));
            free(g1), free(g2);
        }
    float *g1, *g2;
    size_t n1, n2;
    double l1 = ae_step(1, &g1, &n1), l2 = ae_step(2, &g2, &n2);
    CU_ASSERT(isfinite(l1));
    CU_ASSERT(l1 == l2);
    CU_ASSERT(n1 == n2 && same_bits(g1, g2, n1 * sizeof(float)));
    free(g1), free(g2);
    restore_threads();
}

/* ---- optimizer, norm, dense, loss ------------------------------------------------------- */

/* The vectorised Adam (in slices over 1 and 3 threads, each slice in chunks of 512 whose new
 * parameters go through a buffer) against the plain loop. */
static void test_adam_fast_equals_plain(void) {
    const size_t n = 2063;   /* 4 chunks and a tail; not a multiple of 4, so the scalar tail too */
    float *g = malloc(n * sizeof(float)), *p[2], *g_step = malloc(n * sizeof(float));
    par_set_min_flops(0.0);
    /* each width the CPU has: 4 (SSE), 8 (AVX), 16 (AVX-512F), × 1 and 3 threads, × weight decay none, L2, AdamW */
    for (int variant = 0; variant < 18; variant++) {
        par_set_threads(variant % 6 < 3 ? 1 : 3);
        OptimConfig c = optim_defaults(OPT_ADAM);
        c.lr = 1e-2;
        c.weight_decay = variant % 3 == 0 ? 0.0 : 0.05;
        c.decoupled_weight_decay = variant % 3 == 2;
        Optimizer opt[2];
        for (int k = 0; k < 2; k++) {
            optim_init(&opt[k], &c, n);
            opt[k].use_fast = k == 0;
            opt[k].fast_lanes = 4 << (variant / 6);
            p[k] = malloc(n * sizeof(float));
            fill_uniform(p[k], n, -1, 1, 30);
        }
        for (int s = 0; s < 5; s++) {
            fill_uniform(g, n, -2, 2, 40 + s);
            for (int k = 0; k < 2; k++) {
                memcpy(g_step, g, n * sizeof(float));
                optim_step(&opt[k], p[k], g_step, c.lr);
            }
        }
        CU_ASSERT(same_bits(p[0], p[1], n * sizeof(float)));
        CU_ASSERT(same_bits(opt[0].m, opt[1].m, n * sizeof(float)));
        CU_ASSERT(same_bits(opt[0].v, opt[1].v, n * sizeof(float)));
        for (int k = 0; k < 2; k++) {
            optim_free(&opt[k]);
            free(p[k]);
        }
    }
    free(g), free(g_step);
    restore_threads();
}

static void test_global_norm_fast_equals_plain(void) {
    for (size_t n = 1; n < 2000; n = n * 3 + 1) {
        float *g = malloc(n * sizeof(float));
        fill_uniform(g, n, -3, 3, n);
        double fast = grad_global_norm(g, n), plain = grad_global_norm_reference(g, n);
        CU_ASSERT(fabs(fast - plain) <= 1e-13 * plain);
        free(g);
    }
}

/* One dense layer forward and backward, fast (threads ≥ 1) or plain reference (threads 0):
 * out, dout (∂L/∂pre after the backward), din, dW, db into r[0..4]. */
static void dense_run(float *r[5], int threads, const float *in, const float *W, const float *bias, int B, int n_in,
                      int n_out, int transposed, Activation act, DenseWork *work) {
    r[0] = malloc((size_t)B * n_out * sizeof(float));
    r[1] = malloc((size_t)B * n_out * sizeof(float));
    r[2] = malloc((size_t)B * n_in * sizeof(float));
    r[3] = calloc((size_t)n_in * n_out, sizeof(float));
    r[4] = calloc(n_out, sizeof(float));
    fill_uniform(r[1], (size_t)B * n_out, -1, 1, 53);
    if (threads == 0) {
        dense_forward_reference(r[0], in, W, bias, B, n_in, n_out, transposed, act);
        dense_backward_reference(r[2], r[3], r[4], r[1], r[0], in, W, B, n_in, n_out, transposed, act);
        return;
    }
    par_set_threads(threads);
    dense_forward(r[0], in, W, bias, B, n_in, n_out, transposed, act, work);
    dense_backward(r[2], r[3], r[4], r[1], r[0], in, W, B, n_in, n_out, transposed, act, work);
}

/* Every activation, plain and tied, on a shape split by column panels (37 rows, 100 columns:
 * panels of 32, 32, 32 and 4; the bias and activation run on each thread's part of the
 * product, the activation's and the bias's gradients on column ranges) and one split by rows
 * (200 × 45): 1, 2 and 3 threads give the same bits, and those equal the reference. */
static void test_dense_fast_equals_reference(void) {
    const int shapes[2][3] = {{37, 70, 100}, {200, 70, 45}};   /* B, n_in, n_out */
    double worst = 0.0;
    int identical = 1;
    par_set_min_flops(0.0);
    for (int s = 0; s < 2; s++) {
        const int B = shapes[s][0], n_in = shapes[s][1], n_out = shapes[s][2];
        size_t floats = 0;
        dense_work_reserve(&floats, B, n_in, n_out);
        dense_work_reserve(&floats, B, n_out, n_in);
        DenseWork work;
        dense_work_alloc(&work, floats);
        float *in = malloc((size_t)B * n_in * sizeof(float)), *W = malloc((size_t)n_in * n_out * sizeof(float));
        float *bias = malloc(n_out * sizeof(float));
        fill_uniform(in, (size_t)B * n_in, -1, 1, 50);
        fill_uniform(W, (size_t)n_in * n_out, -0.3f, 0.3f, 51);
        fill_uniform(bias, n_out, -0.3f, 0.3f, 52);
        size_t sizes[5] = {(size_t)B * n_out, (size_t)B * n_out, (size_t)B * n_in, (size_t)n_in * n_out,
                           (size_t)n_out};
        for (int a = 0; a < ACT_COUNT; a++)
            for (int transposed = 0; transposed < 2; transposed++) {
                float *r[4][5];   /* reference, then 1, 2 and 3 threads */
                for (int t = 0; t < 4; t++) dense_run(r[t], t, in, W, bias, B, n_in, n_out, transposed, (Activation)a, &work);
                for (int q = 0; q < 5; q++) {
                    for (size_t i = 0; i < sizes[q]; i++) {
                        double d = fabs((double)r[1][q][i] - r[0][q][i]) / (1.0 + fabs(r[0][q][i]));
                        worst = d > worst ? d : worst;
                    }
                    for (int t = 2; t < 4; t++) identical &= same_bits(r[1][q], r[t][q], sizes[q] * sizeof(float));
                }
                for (int t = 0; t < 4; t++)
                    for (int q = 0; q < 5; q++) free(r[t][q]);
            }
        free(in), free(W), free(bias);
        dense_work_free(&work);
    }
    CU_ASSERT(worst < 1e-5);
    CU_ASSERT(identical);
    restore_threads();
}

/* The fused sigmoid + cross-entropy as the epilogue of the layer that makes the logits
 * (dense_forward_then, as the autoencoder runs it) gives the bits of the loss on its own
 * (loss_sigmoid_cross_entropy_logits over the finished logits) — the loss, x̂ and ∂L/∂a — with
 * 1, 2 and 3 threads and every kernel the CPU runs, on a product split by column panels
 * (37 × 300: panels of 32 or 16, and a last unit of 12 columns), one split by rows (200 × 45) and one whose row split ends inside a unit
 * of 8 rows (204 × 45), every part of every split forced (no minimum size). */
static void test_sigmoid_ce_epilogue_equals_loss(void) {
    const int shapes[3][3] = {{37, 50, 300}, {200, 50, 45}, {204, 50, 45}};   /* B, n_in, n_out */
    int identical = 1, compared = 0;
    par_set_min_flops(0.0);
    for (int s = 0; s < 3; s++) {
        const int B = shapes[s][0], n_in = shapes[s][1], n = shapes[s][2];
        size_t floats = 0, bn = (size_t)B * n;
        dense_work_reserve(&floats, B, n_in, n);
        DenseWork work;
        dense_work_alloc(&work, floats);
        float *in = malloc((size_t)B * n_in * sizeof(float)), *W = malloc((size_t)n_in * n * sizeof(float));
        float *bias = malloc(n * sizeof(float)), *x = malloc(bn * sizeof(float));
        float *logits = malloc(bn * sizeof(float)), *p_ref = malloc(bn * sizeof(float)), *g_ref = malloc(bn * sizeof(float));
        float *out = malloc(bn * sizeof(float)), *grad = malloc(bn * sizeof(float));
        double *sums = malloc(loss_sigmoid_ce_units(B, n) * sizeof(double));
        fill_uniform(in, (size_t)B * n_in, -1, 1, 54);
        fill_uniform(W, (size_t)n_in * n, -1.5f, 1.5f, 55);   /* logits out to about ±20: both clamps */
        fill_uniform(bias, n, -0.5f, 0.5f, 56);
        fill_uniform(x, bn, 0, 1, 57);
        for (int kernel = PACK_KERNEL_BLAS; kernel <= PACK_KERNEL_AVX512; kernel++) {
            if (packed_force_kernel((PackKernel)kernel) != 0) continue;   /* panels of 32 or 16, or BLAS */
            par_set_threads(1);
            dense_forward(logits, in, W, bias, B, n_in, n, 0, ACT_IDENTITY, &work);
            double loss_ref = loss_sigmoid_cross_entropy_logits(g_ref, p_ref, logits, x, B, n);
            for (int threads = 1; threads <= 3; threads++) {
                par_set_threads(threads);
                SigmoidCeJob job = {grad, out, x, B, n, sums};
                PkEpilogue then = {loss_sigmoid_ce_block, &job};
                dense_forward_then(out, in, W, bias, B, n_in, n, 0, ACT_IDENTITY, &work, &then);
                double loss = loss_sigmoid_ce_total(&job);
                identical &= same_bits(&loss, &loss_ref, sizeof loss) && same_bits(out, p_ref, bn * sizeof(float)) &&
                             same_bits(grad, g_ref, bn * sizeof(float));
                compared++;
            }
        }
        free(in), free(W), free(bias), free(x), free(logits), free(p_ref), free(g_ref), free(out), free(grad), free(sums);
        dense_work_free(&work);
    }
    CU_ASSERT(compared >= 9);
    CU_ASSERT(identical);
    for (int k = PACK_KERNEL_AVX512; k >= PACK_KERNEL_BLAS; k--)
        if (packed_force_kernel((PackKernel)k) == 0) break;
    restore_threads();
}

static void test_bce_value_fast_equals_libm(void) {
    const int m = 9, n = 103;
    float *p = malloc((size_t)m * n * sizeof(float)), *x = malloc((size_t)m * n * sizeof(float));
    fill_uniform(p, (size_t)m * n, 0.0f, 1.0f, 60);
    fill_uniform(x, (size_t)m * n, 0.0f, 1.0f, 61);
    p[0] = 0.0f, p[1] = 1.0f, p[2] = 1e-9f, p[3] = 1.0f - 1e-8f;   /* the clamps */
    double fast = loss_sigmoid_cross_entropy(NULL, p, x, m, n), plain = loss_binary_cross_entropy(NULL, p, x, m, n);
    CU_ASSERT(fabs(fast - plain) < 1e-6 * fabs(plain));
    /* gm_log4 against double-precision log over [1e-7, 1] and beyond */
    double worst = 0.0;
    for (float v = 1e-7f; v < 1e4f; v *= 1.01f) {
        double e = fabs((double)gm_log1(v) - log((double)v));
        worst = fmax(worst, e / fmax(1.0, fabs(log((double)v))));
    }
    CU_ASSERT(worst < 3e-7);
    free(p), free(x);
}

/* gm_log16 gives gm_log1's bits lane by lane (a value's log does not depend on where it falls
 * in a row): both sides of √½, powers of two, tiny, huge, zero, negative, infinite and NaN. */
static void test_log16_equals_log1(void) {
    float vals[64];
    int n = 0;
    float near = 0.707106781186547524f;
    for (int k = -3; k <= 3; k++) {   /* mantissas around √½'s, at two exponents */
        float v = near;
        for (int step = 0; step < (k < 0 ? -k : k); step++) v = k < 0 ? nextafterf(v, 0.0f) : nextafterf(v, 2.0f);
        vals[n++] = v;
        vals[n++] = 8.0f * v;
    }
    const float more[] = {1.0f, 0.5f, 2.0f, 1e-7f, 1e-30f, 1e-40f, 3.4e38f, 1.5f, 1.41421356f, 0.75f, 0.0f, -0.0f,
                          -1.0f, -0.7f, INFINITY, NAN};
    for (size_t k = 0; k < sizeof more / sizeof more[0]; k++) vals[n++] = more[k];
    for (int start = 0; start < n; start += 16) {
        gm_v16 v, r;
        for (int q = 0; q < 16; q++) v[q] = vals[(start + q) % n];
        r = gm_log16(v);
        for (int q = 0; q < 16; q++) {
            float one = gm_log1(v[q]);
            CU_ASSERT(same_bits(&one, &r[q], sizeof one));
        }
    }
}

#define LOGIT_EDGE 16.1180954f   /* loss.c's LOGIT_CLAMP */

typedef struct LogitCase {
    float a[3 * 10], x[3 * 10];
} LogitCase;

static double logit_loss(void *ctx) {
    LogitCase *c = ctx;
    float p[30];
    return loss_sigmoid_cross_entropy_logits(NULL, p, c->a, c->x, 3, 10);
}

/* From the logits: σ, the loss (clamp included) and the gradient agree with a double-precision
 * σ then binary cross-entropy; the gradient passes finite differences. */
static void test_sigmoid_ce_from_logits(void) {
    LogitCase c;
    fill_uniform(c.a, 30, -4, 4, 80);
    fill_uniform(c.x, 30, 0, 1, 81);
    c.a[0] = 30.0f, c.a[1] = -30.0f, c.a[2] = 16.0f, c.a[3] = -17.0f;   /* beyond and near the clamp */
    float p[30], grad[30], p_ref[30];
    double fast = loss_sigmoid_cross_entropy_logits(grad, p, c.a, c.x, 3, 10);
    /* the reference in double: σ, the clamp of p to [1e-7, 1 − 1e-7], the loss (a float σ
     * would lose the tail: 1 − σ(16) is not representable next to 1 in float) */
    double plain = 0.0;
    for (int k = 0; k < 30; k++) {
        double pk = 1.0 / (1.0 + exp(-(double)c.a[k]));
        p_ref[k] = (float)pk;
        pk = fmin(fmax(pk, 1e-7), 1.0 - 1e-7);
        plain -= (c.x[k] * log(pk) + (1.0 - c.x[k]) * log1p(-pk)) / 3.0;
    }
    CU_ASSERT(fabs(fast - plain) < 1e-6 * fabs(plain));
    for (int k = 0; k < 30; k++) {
        CU_ASSERT(fabsf(p[k] - p_ref[k]) <= 2e-7f * p_ref[k] + 1e-30f);
        CU_ASSERT(fabsf(grad[k] - (p[k] - c.x[k]) / 3.0f) < 1e-7f);
    }
    /* finite differences inside the clamp (the clamp's gradient is the unclamped one, as before) */
    double err = gradcheck(logit_loss, &c, c.a + 4, grad + 4, 26, 0, 1e-3, 1e-4);
    CU_ASSERT(err < 1e-2);
    /* in place, as the autoencoder calls it */
    float inplace[30];
    memcpy(inplace, c.a, sizeof inplace);
    double again = loss_sigmoid_cross_entropy_logits(NULL, inplace, inplace, c.x, 3, 10);
    CU_ASSERT(again == fast);
    CU_ASSERT(same_bits(inplace, p, sizeof p));
    /* the edges: σ(±0) = ½ exactly, ±the clamp and just past it, tiny and huge logits (the
     * same loss as the double reference), and a NaN logit makes the loss NaN */
    float edge_a[16] = {-0.0f, 0.0f, LOGIT_EDGE, -LOGIT_EDGE, nextafterf(LOGIT_EDGE, 99.0f),
                        -nextafterf(LOGIT_EDGE, 99.0f), 1e-30f, -1e-30f, 88.0f, -88.0f, 200.0f, -200.0f, 0.5f, -0.5f,
                        3.0f, -3.0f};
    float edge_x[16], edge_p[16];
    fill_uniform(edge_x, 16, 0, 1, 84);
    double edge = loss_sigmoid_cross_entropy_logits(NULL, edge_p, edge_a, edge_x, 1, 16), edge_plain = 0.0;
    CU_ASSERT(edge_p[0] == 0.5f && edge_p[1] == 0.5f);
    for (int k = 0; k < 16; k++) {
        double pk = fmin(fmax(1.0 / (1.0 + exp(-(double)edge_a[k])), 1e-7), 1.0 - 1e-7);
        edge_plain -= edge_x[k] * log(pk) + (1.0 - edge_x[k]) * log1p(-pk);
    }
    CU_ASSERT(fabs(edge - edge_plain) < 1e-6 * fabs(edge_plain));
    edge_a[7] = NAN;
    CU_ASSERT(isnan(loss_sigmoid_cross_entropy_logits(NULL, edge_p, edge_a, edge_x, 1, 16)));
    /* rows of several vectors and a tail (the row's sum runs over 16 lanes): 5 rows of 53 */
    enum { ROWS = 5, COLS = 53 };
    float a[ROWS * COLS], x[ROWS * COLS], q[ROWS * COLS];
    fill_uniform(a, ROWS * COLS, -9, 9, 82);
    fill_uniform(x, ROWS * COLS, 0, 1, 83);
    double long_rows = loss_sigmoid_cross_entropy_logits(NULL, q, a, x, ROWS, COLS), long_plain = 0.0;
    for (int k = 0; k < ROWS * COLS; k++) {
        double pk = fmin(fmax(1.0 / (1.0 + exp(-(double)a[k])), 1e-7), 1.0 - 1e-7);
        long_plain -= (x[k] * log(pk) + (1.0 - x[k]) * log1p(-pk)) / ROWS;
    }
    CU_ASSERT(fabs(long_rows - long_plain) < 1e-6 * fabs(long_plain));
}

/* Term by term, over a fine grid of logits in [−20, 20] (both sides of the clamp) and targets 0,
 * ¼, ¾, 1: each pixel's loss against the double reference within 1.5e-7 of the larger of 1 and
 * |a_c|, the size of the float operands it is made from (softplus(a_c) and x a_c round at that
 * scale before they cancel). Rows of 40 put every term in every lane position, the two-vector
 * loop, the one-vector loop and the tail. */
static void test_sigmoid_ce_term_accuracy(void) {
    enum { N = 16001, COLS = 40 };
    const float targets[4] = {0.0f, 0.25f, 0.75f, 1.0f};
    double worst = 0.0;
    for (int t = 0; t < 4; t++)
        for (int k0 = 0; k0 < N; k0 += COLS) {
            float a[COLS], x[COLS], p[COLS];
            int n = k0 + COLS <= N ? COLS : N - k0;
            for (int j = 0; j < n; j++) a[j] = -20.0f + 40.0f * (float)(k0 + j) / (N - 1), x[j] = targets[t];
            for (int j = 0; j < n; j++) {
                double term = loss_sigmoid_cross_entropy_logits(NULL, p, a + j, x + j, 1, 1);
                double ac = fmin(fmax((double)a[j], -LOGIT_EDGE), LOGIT_EDGE);
                double ref = fmax(ac, 0.0) + log1p(exp(-fabs(ac))) - x[j] * ac;
                double err = fabs(term - ref) / fmax(1.0, fabs(ac));
                if (err > worst) worst = err;
            }
            /* the same terms summed as a row: their double sum, within the terms' scales summed */
            double row = loss_sigmoid_cross_entropy_logits(NULL, p, a, x, 1, n), plain = 0.0, scale = 0.0;
            for (int j = 0; j < n; j++) {
                double ac = fmin(fmax((double)a[j], -LOGIT_EDGE), LOGIT_EDGE);
                plain += fmax(ac, 0.0) + log1p(exp(-fabs(ac))) - x[j] * ac;
                scale += fmax(1.0, fabs(ac));
            }
            CU_ASSERT(fabs(row - plain) < 2e-7 * scale);
        }
    CU_ASSERT(worst < 1.5e-7);
    if (worst >= 1.5e-7) fprintf(stderr, "sigmoid + CE term error %.3g\n", worst);
}

static void test_softmax_ce_fast_equals_reference(void) {
    const int m = 37, V = 97;   /* V not a multiple of 4 */
    float *z = malloc((size_t)m * V * sizeof(float)), *g[2];
    int32_t *t = malloc((size_t)m * sizeof(int32_t));
    fill_uniform(z, (size_t)m * V, -6, 6, 90);
    for (int r = 0; r < m; r++) t[r] = r % 5 == 3 ? -1 : (r * 31) % V;   /* some padding rows */
    z[5] = 80.0f;                                                          /* a dominant logit */
    for (int k = 0; k < 2; k++) g[k] = malloc((size_t)m * V * sizeof(float));
    double fast = loss_softmax_cross_entropy(g[0], z, t, m, V, 0.0);
    double plain = loss_softmax_cross_entropy_reference(g[1], z, t, m, V, 0.0);
    CU_ASSERT(fabs(fast - plain) < 1e-6 * fabs(plain));
    double worst = 0.0;
    for (size_t k = 0; k < (size_t)m * V; k++) worst = fmax(worst, fabs((double)g[0][k] - g[1][k]));
    CU_ASSERT(worst < 1e-7);
    for (int r = 0; r < m; r++)
        if (t[r] < 0)
            for (int j = 0; j < V; j++) CU_ASSERT(g[0][(size_t)r * V + j] == 0.0f);
    /* the same for any thread count */
    par_set_min_flops(0.0);
    par_set_threads(3);
    double three = loss_softmax_cross_entropy(g[1], z, t, m, V, 0.0);
    CU_ASSERT(three == fast);
    CU_ASSERT(same_bits(g[0], g[1], (size_t)m * V * sizeof(float)));
    restore_threads();
    free(z), free(t), free(g[0]), free(g[1]);
}

/* The sign-of-a-difference tests equal C's comparisons lane by lane, on both sides of each
 * constant, at ±0, denormals, infinities and NaNs of either sign; and σ, tanh, exp and log on
 * 16 lanes, which are built on them, give the 1-lane functions' bits on the same values (NaN
 * stays NaN, the clamps act where the comparisons put them). */
static void test_sign_tests_match_comparisons(void) {
    const float consts[] = {87.3f, 88.3f, 0.625f, 0.707106781186547524f, 16.1180954f};
    float vals[96];
    int n = 0;
    for (size_t k = 0; k < sizeof consts / sizeof consts[0]; k++) {
        float c = consts[k];
        const float near[5] = {nextafterf(nextafterf(c, 0.0f), 0.0f), nextafterf(c, 0.0f), c, nextafterf(c, 1e9f),
                               nextafterf(nextafterf(c, 1e9f), 1e9f)};
        for (int q = 0; q < 5; q++) vals[n++] = near[q], vals[n++] = -near[q];
    }
    const float more[] = {NAN, -NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-40f, -1e-40f, 1.0f, -1.0f, 1e4f, -1e4f,
                          0.5f, 3.0f, -3.0f, 200.0f};
    for (size_t k = 0; k < sizeof more / sizeof more[0]; k++) vals[n++] = more[k];
    int wrong = 0, checked = 0;
    for (int start = 0; start < n; start += 16) {
        gm_v16 x;
        for (int q = 0; q < 16; q++) x[q] = vals[(start + q) % n];
        for (size_t k = 0; k < sizeof consts / sizeof consts[0]; k++) {
            float c = consts[k];
            gm_v16i abs_gt = gm_abs_gt16(x, c), lt_neg = gm_lt_neg16(x, c), gt_pos = gm_gt_pos16(x, c);
            gm_v16i nonneg_lt = gm_nonneg_lt16(gm_abs16(x), c);
            for (int q = 0; q < 16; q++) {
                wrong += abs_gt[q] != (fabsf(x[q]) > c ? -1 : 0);
                wrong += lt_neg[q] != (x[q] < -c ? -1 : 0);
                wrong += gt_pos[q] != (x[q] > c ? -1 : 0);
                wrong += nonneg_lt[q] != (fabsf(x[q]) < c ? -1 : 0);
                checked += 4;
            }
        }
        gm_v16 sg = gm_sigmoid16(x), th = gm_tanh16(x), lg = gm_log16(gm_abs16(x));
        for (int q = 0; q < 16; q++) {
            float one[3] = {gm_sigmoid1(x[q]), gm_tanh1(x[q]), gm_log1(fabsf(x[q]))}, many[3] = {sg[q], th[q], lg[q]};
            for (int f = 0; f < 3; f++)
                wrong += isnan(one[f]) ? !isnan(many[f]) : !same_bits(&one[f], &many[f], sizeof one[f]);
        }
    }
    CU_ASSERT(checked == 4 * 5 * 16 * ((n + 15) / 16));
    CU_ASSERT(wrong == 0);
}

/* gm_sum_squares16: the tree its comment writes out, bit for bit, and within 2 ulp of the sum
 * taken in long double (11 bits more than double). */
static void test_sum_squares16_tree(void) {
    int wrong_tree = 0, wrong_exact = 0;
    for (int trial = 0; trial < 200; trial++) {
        float vals[16];
        fill_uniform(vals, 16, -1.0f, 1.0f, 100 + trial);
        for (int q = 0; q < 16; q++) vals[q] = ldexpf(vals[q], (q * 7 + trial) % 9 - 4);   /* spread the magnitudes */
        if (trial % 5 == 0)
            for (int q = 16 - trial % 16; q < 16; q++) vals[q] = 0.0f;                 /* a row's short last chunk */
        gm_v16 v;
        memcpy(&v, vals, sizeof v);
        double got = gm_sum_squares16(v), s8[8], s4[4];
        for (int k = 0; k < 8; k++) s8[k] = (double)vals[k] * vals[k] + (double)vals[k + 8] * vals[k + 8];
        for (int k = 0; k < 4; k++) s4[k] = s8[k] + s8[k + 4];
        double tree = (s4[0] + s4[2]) + (s4[1] + s4[3]);
        long double exact = 0.0L;
        for (int q = 0; q < 16; q++) exact += (long double)vals[q] * vals[q];
        wrong_tree += !same_bits(&got, &tree, sizeof got);
        wrong_exact += fabsl((long double)got - exact) > 2.0L * DBL_EPSILON * exact;   /* 2 ulp */
    }
    CU_ASSERT(wrong_tree == 0);
    CU_ASSERT(wrong_exact == 0);
}

int main(void) {
    TestCase cases[] = {
        {"16-lane sign tests == comparisons; sigmoid, tanh, log on 16 lanes == 1 lane", test_sign_tests_match_comparisons},
        {"16-lane sum of squares == its fixed tree, within 2 ulp of exact", test_sum_squares16_tree},
        {"par_run: every part once, nested calls inline", test_par_run_every_part_once},
        {"par_run after fork()", test_par_run_after_fork},
        {"packed products: bit-identical for 1, 2, 3 threads", test_packed_products_any_thread_count},
        {"row kernel (M = 1) == tile kernel, bit for bit", test_row_kernel_equals_tile_kernel},
        {"recurrent layers: bit-identical for 1, 2, 3 threads", test_recurrent_layers_any_thread_count},
        {"training steps: bit-identical for 1 and more threads", test_training_steps_any_thread_count},
        {"adam: vectorised == plain, bit for bit", test_adam_fast_equals_plain},
        {"global norm: interleaved == one sum", test_global_norm_fast_equals_plain},
        {"dense: packed == plain reference, bit-identical for 1, 2, 3 threads", test_dense_fast_equals_reference},
        {"binary cross-entropy value: vectorised log == libm", test_bce_value_fast_equals_libm},
        {"gm_log16 == gm_log1, bit for bit", test_log16_equals_log1},
        {"sigmoid + cross-entropy from the logits == double-precision sigmoid then loss", test_sigmoid_ce_from_logits},
        {"sigmoid + cross-entropy from the logits: every term within 1.5e-7 of double", test_sigmoid_ce_term_accuracy},
        {"sigmoid + cross-entropy as the logits' epilogue == the loss alone, any split", test_sigmoid_ce_epilogue_equals_loss},
        {"softmax cross-entropy: vectorised == double reference", test_softmax_ce_fast_equals_reference},
        {NULL, NULL}};
    return run_tests("fastpaths", cases);
}
