/* workloads.h — the benchmark suite's workloads and the matrix products of one training step.
 *
 * Shared by bench_exprun.c (which trains them) and sgemm_rate.c (which times their products
 * alone). bench/torch_peer.py builds the same models in PyTorch.
 *
 * FLOPs of a training step (what the "achieved GFLOP/s" column counts): only the GEMMs, 2·M·N·K
 * each, as both programs must do them. Per layer of a recurrent LM with G gate blocks
 * (LSTM 4, GRU 3, RNN 1), input width n_in and hidden H, per token:
 *   forward   2·G·H·(n_in + H)          input projection + recurrent product
 *   backward  2 · 2·G·H·(n_in + H)      weight gradients + gradients to h_{t−1} and to the input
 *                                       (layer 0 too: the embedding needs ∂L/∂x)
 * plus the head, 3 · 2·V·H_top. So  FLOP/token = 6 · [Σ_l G·H_l·(n_in_l + H_l) + V·H_top].
 * lstm_h256: 6 · (4·256·320 + 4·256·512 + 96·256) = 5.26 MFLOP/token.
 * Per sample of an autoencoder with layers (n_in → n_out): forward 2·n_in·n_out each; backward
 * 2·n_in·n_out for ∂L/∂W and, except the first layer, 2·n_in·n_out for ∂L/∂in.
 * ae_deep: 2.20 MFLOP/sample; ae_shallow: 0.50 MFLOP/sample.
 * Element-wise work (gates, softmax, loss, Adam) is not counted. */
#ifndef EXPRUN_BENCH_WORKLOADS_H
#define EXPRUN_BENCH_WORKLOADS_H

#include <string.h>

typedef enum { WL_LSTM, WL_GRU, WL_RNN, WL_AE } WorkloadKind;

typedef struct Workload {
    const char *name;
    WorkloadKind kind;
    int hidden, B, T;     /* LM: 2 layers of `hidden`, batch, sequence length */
    int n_layers;         /* AE: dense layers along the chain */
    int sizes[5];         /* AE: widths along the chain, input first */
} Workload;

enum { WL_VOCAB = 96, WL_EMBED = 64, WL_PIXELS = 784 };

static const Workload WORKLOADS[] = {
    {"lstm_h256", WL_LSTM, 256, 32, 64, 0, {0}},
    {"lstm_h512", WL_LSTM, 512, 32, 64, 0, {0}},
    {"gru_h256", WL_GRU, 256, 32, 64, 0, {0}},
    {"rnn_h256", WL_RNN, 256, 32, 64, 0, {0}},
    {"lstm_h128_b1", WL_LSTM, 128, 1, 32, 0, {0}},
    {"ae_deep", WL_AE, 0, 128, 1, 4, {784, 256, 64, 256, 784}},
    {"ae_shallow", WL_AE, 0, 128, 1, 2, {784, 64, 784}},
};
enum { N_WORKLOADS = sizeof WORKLOADS / sizeof WORKLOADS[0] };

static inline const Workload *workload_find(const char *name) {
    for (int k = 0; k < N_WORKLOADS; k++)
        if (strcmp(WORKLOADS[k].name, name) == 0) return &WORKLOADS[k];
    return NULL;
}

/* Units of throughput per step: tokens (B·T) or samples (B). */
static inline double workload_units(const Workload *w) { return w->kind == WL_AE ? w->B : (double)w->B * w->T; }

/* One product C (M, N) += A · B with inner dimension K, done `count` times per training step.
 * form: "nt" C = A·Bᵀ, "nn" C = A·B, "tn" C = Aᵀ·B; per_step: the right operand is the same
 * for all `count` calls (a recurrent weight, packed once per batch). */
typedef struct Gemm {
    const char *what;
    const char *form;
    int M, N, K, count, per_step;
} Gemm;

enum { MAX_GEMMS = 24 };

static inline int workload_gemms(const Workload *w, Gemm *g) {
    int n = 0;
    if (w->kind == WL_AE) {
        for (int l = 0; l < w->n_layers; l++) {
            int ni = w->sizes[l], no = w->sizes[l + 1];
            g[n++] = (Gemm){"dense forward", "nt", w->B, no, ni, 1, 0};
            g[n++] = (Gemm){"dense dW", "tn", no, ni, w->B, 1, 0};
            if (l > 0) g[n++] = (Gemm){"dense din", "nn", w->B, ni, no, 1, 0};
        }
        return n;
    }
    int G = w->kind == WL_LSTM ? 4 : w->kind == WL_GRU ? 3 : 1, H = w->hidden, TB = w->T * w->B;
    for (int l = 0; l < 2; l++) {
        int n_in = l == 0 ? WL_EMBED : H;
        g[n++] = (Gemm){"input projection", "nt", TB, G * H, n_in, 1, 0};
        g[n++] = (Gemm){"recurrent step", "nt", w->B, G * H, H, w->T, 1};
        g[n++] = (Gemm){"step backward dh", "nn", w->B, H, G * H, w->T, 1};
        g[n++] = (Gemm){"dW_h", "tn", G * H, H, TB, 1, 0};
        g[n++] = (Gemm){"dW_x", "tn", G * H, n_in, TB, 1, 0};
        g[n++] = (Gemm){"dx", "nn", TB, n_in, G * H, 1, 0};
    }
    g[n++] = (Gemm){"head forward", "nt", TB, WL_VOCAB, H, 1, 0};
    g[n++] = (Gemm){"head dW", "tn", WL_VOCAB, H, TB, 1, 0};
    g[n++] = (Gemm){"head din", "nn", TB, H, WL_VOCAB, 1, 0};
    return n;
}

static inline double workload_flops_per_step(const Workload *w) {
    Gemm g[MAX_GEMMS];
    int n = workload_gemms(w, g);
    double f = 0.0;
    for (int k = 0; k < n; k++) f += 2.0 * g[k].M * g[k].N * g[k].K * g[k].count;
    return f;
}

#endif
