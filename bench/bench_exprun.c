/* bench_exprun.c — exprun's training throughput on the workloads of the benchmark suite.
 *
 *   bench_exprun [PRESET] [SHAPE FLAGS] [--steps N] [--warmup N] [--threads N] [--precision fp32|bf16]
 *                [--recompute]
 *
 * The workload is a preset of workloads.h (lstm_h256 lstm_h512 gru_h256 rnn_h256 lstm_h128_b1
 * ae_deep ae_shallow), any shape given by flags, or a preset changed by flags:
 *   bench_exprun --cell lstm --units 384x2 --embed 64 --vocab 96 --batch 48 --seq 64
 *   bench_exprun lstm_h256 --batch 16 --seq 128
 *   bench_exprun --ae 784,512,32,512,784 --batch 256
 * A character LM is Embedding(vocab, embed) → the recurrent layers → a per-step softmax head; an
 * autoencoder has sigmoids everywhere. The PyTorch peer bench/torch_peer.py takes the same flags.
 * The recurrent cells are the ones that match PyTorch's: LSTM, GRU in PyTorch's variant (the
 * reset gate on W_hn·h + b_hn) and the Elman RNN with tanh. Loss: softmax cross-entropy (LM),
 * binary cross-entropy summed over the 784 pixels and averaged over the batch (AE). Optimizer
 * Adam (lr 2e-3); the LMs clip at global norm 5, the AEs do not clip (as configs/ae_fashion.yaml).
 *
 * One training step is exactly runner/train.c's: zero the gradients, train_batch (forward and
 * backward), the global gradient norm, clipping, the optimizer step. Data are synthetic, from
 * the project RNG, generated before timing: 16 batches cycled (random tokens with the next token as
 * target; uniform pixels in [0, 1]). After `warmup` untimed steps, `steps` steps are timed one by
 * one with CLOCK_MONOTONIC. Output: one JSON line with the throughput over the timed steps, the
 * median step time, the first and last loss, the resident set size before the first step
 * (/proc/self/statm) and its peak (getrusage): their difference is what training itself holds.
 * --recompute: train.recompute (the recurrent stack keeps outputs and segment states only). */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "autoencoder.h"
#include "clip.h"
#include "clock.h"
#include "optim.h"
#include "packgemm.h"
#include "parallel.h"
#include "rng.h"
#include "seqmodel.h"

#include "sortd.h"
#include "workloads.h"

enum { N_BATCHES = 16 };

/* User + system CPU seconds of the whole process (all threads). */
static double cpu_seconds(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec + (double)ru.ru_stime.tv_sec +
           1e-6 * (double)ru.ru_stime.tv_usec;
}

/* FNV-1a of the parameters' bytes: equal hashes = bit-identical training (e.g. across thread counts). */
static unsigned long long params_hash(const Params *p) {
    const unsigned char *bytes = (const unsigned char *)p->value;
    unsigned long long h = 1469598103934665603ULL;
    for (size_t i = 0; i < p->total * sizeof(float); i++) h = (h ^ bytes[i]) * 1099511628211ULL;
    return h;
}

/* The resident set size now, in MB (/proc/self/statm's second field, in pages). */
static double resident_mb(void) {
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f && fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
    if (f) fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1048576.0);
}

static int recompute;   /* --recompute: train.recompute */

static int build(const Workload *w, Model **m, ExError *err) {
    Rng init = rng_stream(1, "init");
    if (w->kind == WL_AE) {
        AutoencoderConfig c;
        memset(&c, 0, sizeof c);
        c.n_input = w->units[0];
        c.n_hidden = w->n_layers / 2 - 1;
        c.n_code = w->units[c.n_hidden + 1];
        for (int l = 0; l < c.n_hidden; l++) c.hidden_units[l] = w->units[l + 1], c.hidden_act[l] = ACT_SIGMOID;
        c.g = ACT_SIGMOID;
        c.f = ACT_SIGMOID;
        c.loss = LOSS_CROSS_ENTROPY;
        c.max_batch = w->B;
        return autoencoder_create(m, &c, &init, err);
    }
    SeqModelConfig c = {0};   /* the spec's defaults where the workload names nothing */
    c.cell = w->kind == WL_LSTM ? CELL_LSTM : w->kind == WL_GRU ? CELL_GRU : CELL_RNN;
    c.rnn_form = RNN_ELMAN;
    c.rnn_act = ACT_TANH;
    c.gru_variant = GRU_PYTORCH;
    c.num_layers = w->n_layers;
    for (int l = 0; l < w->n_layers; l++) c.hidden[l] = w->units[l];
    c.forget_bias = 1.0f;
    c.recurrent_gain = 1.0f;
    c.init_state = SEQ_INIT_ZERO;
    c.head = SEQ_HEAD_PER_STEP;
    c.input = SEQ_INPUT_EMBED;
    c.vocab = w->vocab;
    c.embed_dim = w->embed;
    c.n_out = w->vocab;
    c.loss = LOSS_SOFTMAX_CROSS_ENTROPY;
    c.max_batch = w->B;
    c.max_T = w->T;
    c.recompute = recompute;
    return seqmodel_create(m, &c, &init, err);
}

int main(int argc, char **argv) {
    Workload shape;
    unsigned char *used = calloc((size_t)argc + 1, 1);
    if (workload_from_args(&shape, argc, argv, 1, used, "bench_exprun") != 0) {
        free(used);
        fprintf(stderr, "usage: bench_exprun [PRESET] [SHAPE FLAGS] [--steps N] [--warmup N] [--threads N] "
                        "[--precision fp32|bf16] [--recompute]\n");
        return 2;
    }
    const Workload *w = &shape;
    int steps = 30, warmup = 5, threads = 0, bf16 = 0;
    for (int k = 1; k < argc; k++) {
        if (used[k]) continue;
        if (k + 1 < argc && strcmp(argv[k], "--steps") == 0) steps = atoi(argv[++k]);
        else if (k + 1 < argc && strcmp(argv[k], "--warmup") == 0) warmup = atoi(argv[++k]);
        else if (k + 1 < argc && strcmp(argv[k], "--threads") == 0) threads = atoi(argv[++k]);
        else if (k + 1 < argc && strcmp(argv[k], "--precision") == 0) bf16 = strcmp(argv[++k], "bf16") == 0;
        else if (strcmp(argv[k], "--recompute") == 0) recompute = 1;
        else {
            fprintf(stderr, "bench_exprun: unknown option '%s'\n", argv[k]);
            free(used);
            return 2;
        }
    }
    free(used);
    if (steps < 1) steps = 1;
    if (bf16 && packed_set_precision(PACK_BF16) != 0) {   /* as runner/build.c does for train.precision */
        fprintf(stderr, "bench_exprun: --precision bf16 needs AVX512-BF16, which this CPU lacks\n");
        return 2;
    }
    if (threads > 0) {
        openblas_set_num_threads(threads);   /* as runner/train.c does with the spec's `threads` */
        par_set_threads(threads);
    }

    ExError err = {0};
    Model *m = NULL;
    if (build(w, &m, &err) != 0) {
        fprintf(stderr, "bench_exprun: %s\n", err.msg);
        return 1;
    }
    Params *p = &m->params;
    OptimConfig oc = optim_defaults(OPT_ADAM);
    oc.lr = 2e-3;
    Optimizer opt;
    optim_init(&opt, &oc, p->total);

    /* Synthetic data, generated once. */
    Rng data = rng_stream(1, "data");
    Batch batches[N_BATCHES];
    float *pixels = NULL;
    int32_t *tokens = NULL;
    const int pixels_per_row = w->units[0];
    size_t per = w->kind == WL_AE ? (size_t)w->B * pixels_per_row : (size_t)w->B * (w->T + 1);
    if (w->kind == WL_AE) pixels = malloc(N_BATCHES * per * sizeof *pixels);
    else tokens = malloc(N_BATCHES * per * sizeof *tokens);
    for (int k = 0; k < N_BATCHES; k++) {
        Batch *b = &batches[k];
        memset(b, 0, sizeof *b);
        b->B = w->B;
        if (w->kind == WL_AE) {
            float *x = pixels + k * per;
            for (size_t i = 0; i < per; i++) x[i] = rng_uniform(&data);
            b->T = 1, b->d = pixels_per_row, b->x = x;
        } else {
            /* a stream of T + 1 tokens per row: x = its first T, y = its last T */
            int32_t *s = tokens + k * per;
            for (size_t i = 0; i < per; i++) s[i] = (int32_t)rng_below(&data, (uint64_t)w->vocab);
            int32_t *x = malloc((size_t)w->B * w->T * sizeof *x), *y = malloc((size_t)w->B * w->T * sizeof *y);
            for (int r = 0; r < w->B; r++)
                for (int t = 0; t < w->T; t++) {
                    x[(size_t)r * w->T + t] = s[(size_t)r * (w->T + 1) + t];
                    y[(size_t)r * w->T + t] = s[(size_t)r * (w->T + 1) + t + 1];
                }
            b->T = w->T, b->x_tokens = x, b->Ty = w->T, b->y_tokens = y;
        }
    }

    Rng noise = rng_stream(1, "noise");
    double clip = w->kind == WL_AE ? 0.0 : 5.0;
    double *times = malloc((size_t)steps * sizeof *times);
    double rss_before = resident_mb();
    double first_loss = NAN, last_loss = NAN, total = 0.0, cpu0 = 0.0;
    wait_openblas_idle();   /* its threads spin for ~0.1 s after start-up; training never calls it */
    for (int s = 0; s < warmup + steps; s++) {
        if (s == warmup) cpu0 = cpu_seconds();
        const Batch *b = &batches[s % N_BATCHES];
        double t0 = now_seconds();
        /* runner/train.c's train_step */
        params_zero_grad(p);
        double loss = m->ops->train_batch(m, b, &noise, NULL);
        double norm = grad_global_norm(p->grad, p->total);
        if (clip > 0.0) clip_to_global_norm(p->grad, p->total, clip, norm);
        int overflowed = optim_step(&opt, p->value, p->grad, oc.lr);
        double dt = now_seconds() - t0;
        if (!isfinite(loss) || !isfinite(norm) || overflowed) {
            fprintf(stderr, "bench_exprun: %s: loss %g, gradient norm %g at step %d\n", w->name, loss, norm, s);
            return 1;
        }
        if (s == 0) first_loss = loss;
        last_loss = loss;
        if (s >= warmup) {
            times[s - warmup] = dt;
            total += dt;
        }
    }
    double cpu = cpu_seconds() - cpu0;
    qsort(times, (size_t)steps, sizeof *times, cmp_double);
    double median = steps % 2 ? times[steps / 2] : 0.5 * (times[steps / 2 - 1] + times[steps / 2]);
    /* the 10th percentile: on a shared virtual machine a neighbour only ever adds time, so the
     * fast steps show a change of a few per cent that the median's swings hide */
    double p10 = times[steps / 10];
    double units = workload_units(w), flops = workload_flops_per_step(w);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    printf("{\"impl\": \"exprun\", \"workload\": \"%s\", \"unit\": \"%s\", \"throughput\": %.1f, "
           "\"throughput_median_step\": %.1f, \"step_ms_median\": %.4f, \"throughput_p10_step\": %.1f, \"step_ms_p10\": %.4f, \"flops_per_step\": %.0f, \"units_per_step\": %.0f, \"gflops\": %.2f, \"cpu_per_wall\": %.2f, \"steps\": %d, \"warmup\": %d, "
           "\"first_loss\": %.6f, \"last_loss\": %.6f, \"rss_before_mb\": %.1f, \"peak_rss_mb\": %.1f, \"recompute\": %s, \"blas_threads\": %d, "
           "\"pack_kernel\": \"%s\", \"precision\": \"%s\", \"openblas_coretype\": \"%s\", \"params\": %zu, \"threads\": %d, \"params_hash\": \"%016llx\"}\n",
           w->name, workload_unit_name(w), units * steps / total, units / median, 1e3 * median, units / p10, 1e3 * p10,
           flops, units, 1e-9 * flops * steps / total, cpu / total, steps,
           warmup, first_loss, last_loss, rss_before, ru.ru_maxrss / 1024.0, recompute ? "true" : "false", openblas_get_num_threads(),
           packed_kernel_name(packed_kernel()), packed_precision_name(packed_precision()), coretype ? coretype : "", p->total, par_threads(), params_hash(p));
    for (int k = 0; k < N_BATCHES; k++) {
        free((void *)batches[k].x_tokens);
        free((void *)batches[k].y_tokens);
    }
    free(pixels), free(tokens), free(times);
    optim_free(&opt);
    model_free(m);
    return 0;
}
