/* workloads.h — the benchmark's workloads, any shape, and the matrix products of one training step.
 *
 * Shared by bench_exprun.c (which trains a workload) and sgemm_rate.c (which times its products
 * alone); bench/torch_peer.py builds the same models in PyTorch and reads the presets below from
 * this file, so the three programs agree on every name.
 *
 * A workload is given on the command line, as a preset name, as flags, or as a preset changed by
 * flags (later flags win):
 *   --cell lstm|gru|rnn --units 384,384 --embed 64 --vocab 96 --batch 48 --seq 64   a character LM:
 *        Embedding(vocab, embed) → the recurrent layers (hidden units per layer) → a per-step
 *        softmax head over the vocabulary; --units 384x2 is short for 384,384
 *   --ae 784,256,64,256,784 --batch 128   an autoencoder with sigmoids, widths along the chain
 *        (input first; a mirror image, as exprun's autoencoders are)
 *
 * FLOPs of a training step (what the "GFLOP/s" columns count): only the GEMMs, 2·M·N·K each, as
 * every implementation must do them. Per layer of a recurrent LM with G gate blocks (LSTM 4,
 * GRU 3, RNN 1), input width n_in and hidden H, per token:
 *   forward   2·G·H·(n_in + H)          input projection + recurrent product
 *   backward  2 · 2·G·H·(n_in + H)      weight gradients + gradients to h_{t−1} and to the input
 *                                       (layer 0 too: the embedding needs ∂L/∂x)
 * — the usual way, PyTorch's. Below the embedding exprun skips two of these products (layer 0's
 * input projection, gathered from E · W_xᵀ, and its ∂L/∂x, recurrent.h's *_embedded); they
 * stay counted, so GFLOP/s is the usual work over exprun's time.
 * plus the head, 3 · 2·V·H_top. So  FLOP/token = 6 · [Σ_l G·H_l·(n_in_l + H_l) + V·H_top].
 * lstm_h256: 6 · (4·256·320 + 4·256·512 + 96·256) = 5.26 MFLOP/token.
 * Per sample of an autoencoder with layers (n_in → n_out): forward 2·n_in·n_out each; backward
 * 2·n_in·n_out for ∂L/∂W and, except the first layer, 2·n_in·n_out for ∂L/∂in.
 * ae_deep: 2.20 MFLOP/sample; ae_shallow: 0.50 MFLOP/sample.
 * Element-wise work (gates, softmax, loss, Adam) is not counted. */
#ifndef EXPRUN_BENCH_WORKLOADS_H
#define EXPRUN_BENCH_WORKLOADS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Waits until OpenBLAS's idle threads have stopped spinning. After its last call (and at start-up)
 * each of OpenBLAS's threads spins on sched_yield for 2^28 cycles (THREAD_TIMEOUT; ~0.1 s here)
 * before it sleeps; timed in that window, exprun's kernels share a core with it, and at 2
 * threads on 2 cores a product ran at half its rate in about one timing of three. */
static inline void wait_openblas_idle(void) {
    struct timespec pause = {0, 250000000L};
    nanosleep(&pause, NULL);
}

typedef enum { WL_LSTM, WL_GRU, WL_RNN, WL_AE } WorkloadKind;

enum { WL_MAX_LAYERS = 8 };

typedef struct Workload {
    char name[128];
    WorkloadKind kind;
    int n_layers;                   /* LM: recurrent layers; AE: dense layers (widths − 1) */
    int units[WL_MAX_LAYERS + 1];   /* LM: hidden units per layer; AE: the widths, input first */
    int embed, vocab;               /* LM only */
    int B, T;                       /* batch; sequence length (AE: 1) */
} Workload;

/* The suite's workloads (issue 8) as named flag sets. torch_peer.py parses these lines. */
static const char *const WORKLOAD_PRESETS[][2] = {
    {"lstm_h256", "--cell lstm --units 256x2 --embed 64 --vocab 96 --batch 32 --seq 64"},
    {"lstm_h512", "--cell lstm --units 512x2 --embed 64 --vocab 96 --batch 32 --seq 64"},
    {"gru_h256", "--cell gru --units 256x2 --embed 64 --vocab 96 --batch 32 --seq 64"},
    {"rnn_h256", "--cell rnn --units 256x2 --embed 64 --vocab 96 --batch 32 --seq 64"},
    {"lstm_h128_b1", "--cell lstm --units 128x2 --embed 64 --vocab 96 --batch 1 --seq 32"},
    {"ae_deep", "--ae 784,256,64,256,784 --batch 128"},
    {"ae_shallow", "--ae 784,64,784 --batch 128"},
};
enum { N_WORKLOADS = sizeof WORKLOAD_PRESETS / sizeof WORKLOAD_PRESETS[0] };

/* "384,384" or "384x2" into units[]; returns the count, or −1 (with a message) when malformed. */
static inline int workload_parse_list(const char *text, int *units, int max) {
    char *end;
    long first = strtol(text, &end, 10);
    if (*end == 'x') {
        long times = strtol(end + 1, &end, 10);
        if (*end || first < 1 || times < 1 || times > max) return -1;
        for (int l = 0; l < times; l++) units[l] = (int)first;
        return (int)times;
    }
    int n = 0;
    const char *s = text;
    for (;;) {
        long v = strtol(s, &end, 10);
        if (end == s || v < 1 || v > 1 << 20 || n == max) return -1;
        units[n++] = (int)v;
        if (*end == '\0') return n;
        if (*end != ',') return -1;
        s = end + 1;
    }
}

/* One flag and its value into w. Returns 1 if the flag is a shape flag, 0 if not, −1 on a bad value. */
static inline int workload_flag(Workload *w, const char *flag, const char *value) {
    int *num = strcmp(flag, "--embed") == 0 ? &w->embed : strcmp(flag, "--vocab") == 0 ? &w->vocab
             : strcmp(flag, "--batch") == 0 ? &w->B : strcmp(flag, "--seq") == 0 ? &w->T : NULL;
    if (num) {
        char *end;
        long v = strtol(value, &end, 10);
        if (*end || v < 1 || v > 1 << 20) return -1;
        *num = (int)v;
        return 1;
    }
    if (strcmp(flag, "--cell") == 0) {
        w->kind = strcmp(value, "lstm") == 0 ? WL_LSTM : strcmp(value, "gru") == 0 ? WL_GRU
                : strcmp(value, "rnn") == 0 ? WL_RNN : (WorkloadKind)-1;
        return (int)w->kind < 0 ? -1 : 1;
    }
    if (strcmp(flag, "--units") == 0) {
        if (w->kind == WL_AE) w->kind = WL_LSTM;
        w->n_layers = workload_parse_list(value, w->units, WL_MAX_LAYERS);
        return w->n_layers < 1 ? -1 : 1;
    }
    if (strcmp(flag, "--ae") == 0) {
        int n = workload_parse_list(value, w->units, WL_MAX_LAYERS + 1);
        if (n < 3 || n % 2 == 0) return -1;   /* in → … → code → … → in */
        for (int l = 0; l < n; l++)
            if (w->units[l] != w->units[n - 1 - l]) return -1;
        w->kind = WL_AE, w->n_layers = n - 1, w->T = 1;
        return 1;
    }
    return 0;
}

static inline int workload_is_shape_flag(const char *flag) {
    static const char *const flags[] = {"--cell", "--units", "--embed", "--vocab", "--batch", "--seq", "--ae"};
    for (size_t k = 0; k < sizeof flags / sizeof flags[0]; k++)
        if (strcmp(flag, flags[k]) == 0) return 1;
    return 0;
}

/* A name that gives the whole shape: lstm_384x384_e64_v96_b48_t64, ae_784-64-784_b128. */
static inline void workload_name_shape(Workload *w) {
    static const char *const cells[] = {"lstm", "gru", "rnn", "ae"};
    size_t at = (size_t)snprintf(w->name, sizeof w->name, "%s_", cells[w->kind]);
    int n = w->kind == WL_AE ? w->n_layers + 1 : w->n_layers;
    for (int l = 0; l < n && at < sizeof w->name; l++)
        at += (size_t)snprintf(w->name + at, sizeof w->name - at, "%s%d", l ? (w->kind == WL_AE ? "-" : "x") : "",
                               w->units[l]);
    if (at >= sizeof w->name) return;
    if (w->kind == WL_AE) snprintf(w->name + at, sizeof w->name - at, "_b%d", w->B);
    else snprintf(w->name + at, sizeof w->name - at, "_e%d_v%d_b%d_t%d", w->embed, w->vocab, w->B, w->T);
}

/* Applies a preset's flags to w. */
static inline void workload_apply_preset(Workload *w, const char *flags) {
    char buf[256], *save = NULL;
    snprintf(buf, sizeof buf, "%s", flags);
    for (char *f = strtok_r(buf, " ", &save); f; f = strtok_r(NULL, " ", &save)) {
        char *v = strtok_r(NULL, " ", &save);
        if (v) workload_flag(w, f, v);
    }
}

/* The workload of a command line: argv[first] may be a preset name; then shape flags (each with
 * its value). Flags that are not shape flags are left for the caller: used[k] is set to 1 for
 * every argument consumed here. Returns 0, or −1 after printing what is wrong to stderr. */
static inline int workload_from_args(Workload *w, int argc, char **argv, int first, unsigned char *used,
                                     const char *program) {
    memset(w, 0, sizeof *w);
    w->kind = WL_LSTM, w->embed = 64, w->vocab = 96, w->B = 32, w->T = 64;
    int preset = -1, k = first;
    if (k < argc && argv[k][0] != '-') {
        for (int p = 0; p < N_WORKLOADS; p++)
            if (strcmp(WORKLOAD_PRESETS[p][0], argv[k]) == 0) preset = p;
        if (preset < 0) {
            fprintf(stderr, "%s: unknown workload '%s' (presets:", program, argv[k]);
            for (int p = 0; p < N_WORKLOADS; p++) fprintf(stderr, " %s", WORKLOAD_PRESETS[p][0]);
            fprintf(stderr, "; or give the shape with --cell/--units/--embed/--vocab/--batch/--seq or --ae)\n");
            return -1;
        }
        workload_apply_preset(w, WORKLOAD_PRESETS[preset][1]);
        used[k++] = 1;
    }
    int changed = 0;
    for (; k < argc; k++) {
        if (!workload_is_shape_flag(argv[k])) continue;
        if (k + 1 >= argc || workload_flag(w, argv[k], argv[k + 1]) != 1) {
            fprintf(stderr, "%s: bad value for %s: '%s' (units: 384,384 or 384x2; --ae: widths that mirror, "
                            "e.g. 784,64,784)\n", program, argv[k], k + 1 < argc ? argv[k + 1] : "");
            return -1;
        }
        used[k] = used[k + 1] = 1;
        changed = 1;
        k++;
    }
    if (preset < 0 && !changed) {
        fprintf(stderr, "%s: no workload: give a preset name or a shape\n", program);
        return -1;
    }
    if (w->n_layers < 1) {
        fprintf(stderr, "%s: no layers: give --units (recurrent) or --ae (autoencoder)\n", program);
        return -1;
    }
    if (w->kind == WL_AE) w->T = 1;
    if (preset >= 0 && !changed) snprintf(w->name, sizeof w->name, "%s", WORKLOAD_PRESETS[preset][0]);
    else workload_name_shape(w);
    return 0;
}

/* Units of throughput per step: tokens (B·T) or samples (B). */
static inline double workload_units(const Workload *w) { return w->kind == WL_AE ? w->B : (double)w->B * w->T; }
static inline const char *workload_unit_name(const Workload *w) { return w->kind == WL_AE ? "samples/s" : "tokens/s"; }

/* One product C (M, N) += A · B with inner dimension K, done `count` times per training step.
 * form: "nt" C = A·Bᵀ, "nn" C = A·B, "tn" C = Aᵀ·B; per_step: the right operand is the same
 * for all `count` calls (a recurrent weight, packed once per batch). */
typedef struct Gemm {
    const char *what;
    const char *form;
    int M, N, K, count, per_step;
} Gemm;

enum { MAX_GEMMS = 6 * WL_MAX_LAYERS + 3 };

static inline int workload_gemms(const Workload *w, Gemm *g) {
    int n = 0;
    if (w->kind == WL_AE) {
        for (int l = 0; l < w->n_layers; l++) {
            int ni = w->units[l], no = w->units[l + 1];
            g[n++] = (Gemm){"dense forward", "nt", w->B, no, ni, 1, 0};
            g[n++] = (Gemm){"dense dW", "tn", no, ni, w->B, 1, 0};
            if (l > 0) g[n++] = (Gemm){"dense din", "nn", w->B, ni, no, 1, 0};
        }
        return n;
    }
    int G = w->kind == WL_LSTM ? 4 : w->kind == WL_GRU ? 3 : 1, TB = w->T * w->B;
    for (int l = 0; l < w->n_layers; l++) {
        int H = w->units[l], n_in = l == 0 ? w->embed : w->units[l - 1];
        g[n++] = (Gemm){"input projection", "nt", TB, G * H, n_in, 1, 0};
        g[n++] = (Gemm){"recurrent step", "nt", w->B, G * H, H, w->T, 1};
        g[n++] = (Gemm){"step backward dh", "nn", w->B, H, G * H, w->T, 1};
        g[n++] = (Gemm){"dW_h", "tn", G * H, H, TB, 1, 0};
        g[n++] = (Gemm){"dW_x", "tn", G * H, n_in, TB, 1, 0};
        g[n++] = (Gemm){"dx", "nn", TB, n_in, G * H, 1, 0};
    }
    int H = w->units[w->n_layers - 1];
    g[n++] = (Gemm){"head forward", "nt", TB, w->vocab, H, 1, 0};
    g[n++] = (Gemm){"head dW", "tn", w->vocab, H, TB, 1, 0};
    g[n++] = (Gemm){"head din", "nn", TB, H, w->vocab, 1, 0};
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
