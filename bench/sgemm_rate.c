/* sgemm_rate.c — this machine's matrix-product rate at the benchmark's shapes.
 *
 *   sgemm_rate [--threads N] [--square N] [--repeats N] [--square-only] [--precision fp32|bf16]
 *              [PRESET] [SHAPE FLAGS]
 *
 * For every product of every preset's training step (workloads.h) — or of the one workload the
 * command line names (a preset, shape flags, or both, as bench_exprun takes them) — and for a
 * large square product, the GFLOP/s (2·M·N·K per product) of
 *   blas   OpenBLAS cblas_sgemm, with OPENBLAS_NUM_THREADS / --threads threads;
 *   pack   the library's packed kernels (packgemm.h; in bf16 with --precision bf16) as the layers call them: the one-off
 *          products through pk_gemm_nt/nn/tn (packing included), the per-step products
 *          (`per_step`) through packed_gemm against an operand packed once for the T calls
 *          (the packing included too), with the thread count packgemm runs at.
 * Each rate is the median of `repeats` timings, each of enough calls to last ≥ 20 ms.
 * Output: one JSON line per product, one per workload (the step's GEMM time at each rate and
 * the throughput the GEMMs alone would allow), and one for the square. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "packgemm.h"
#include "parallel.h"
#include "sortd.h"
#include "workloads.h"

typedef struct Operands {
    float *A, *Bm, *C;
    PackedMat ws;
} Operands;

static void fill(float *x, size_t n, unsigned seed) {
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)(seed >> 8) / 16777216.0f - 0.5f;
    }
}

static void operands_alloc(Operands *o, const Gemm *g) {
    size_t a = (size_t)g->M * g->K, b = (size_t)g->K * g->N, c = (size_t)g->M * g->N;
    o->A = malloc(a * sizeof(float));
    o->Bm = malloc(b * sizeof(float));
    o->C = calloc(c, sizeof(float));
    fill(o->A, a, 1);
    fill(o->Bm, b, 2);
    /* the room the layers reserve (dense.c): a small batch's A · Bᵀ takes the swapped path */
    size_t room = strcmp(g->form, "nt") == 0 ? pk_gemm_nt_room(g->M, g->N, g->K) : (size_t)g->K * g->N;
    packed_alloc(&o->ws, 1, (int)room);
}

static void operands_free(Operands *o) {
    free(o->A), free(o->Bm), free(o->C);
    packed_free(&o->ws);
}

/* One "unit" of work: `count` products (the per-step ones against one packed operand). */
static void run_blas(const Gemm *g, Operands *o) {
    int M = g->M, N = g->N, K = g->K;
    for (int c = 0; c < g->count; c++) {
        if (strcmp(g->form, "nt") == 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, N, K, 1.0f, o->A, K, o->Bm, K, 1.0f, o->C, N);
        else if (strcmp(g->form, "nn") == 0)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, M, N, K, 1.0f, o->A, K, o->Bm, N, 1.0f, o->C, N);
        else
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, M, N, K, 1.0f, o->A, M, o->Bm, N, 1.0f, o->C, N);
    }
}

static void run_pack(const Gemm *g, Operands *o) {
    int M = g->M, N = g->N, K = g->K;
    if (g->per_step) {
        if (strcmp(g->form, "nt") == 0) packed_set_transposed(&o->ws, o->Bm, K, N, K);
        else packed_set(&o->ws, o->Bm, N, K, N);
        for (int c = 0; c < g->count; c++) packed_gemm(o->C, N, o->A, K, &o->ws, M, 1.0f);
        return;
    }
    for (int c = 0; c < g->count; c++) {
        /* beta 0 as the layers run it (a forward product or input projection) */
        if (strcmp(g->form, "nt") == 0) pk_gemm_nt(o->C, N, o->A, K, o->Bm, K, M, N, K, 0.0f, &o->ws);
        else if (strcmp(g->form, "nn") == 0) pk_gemm_nn(o->C, N, o->A, K, o->Bm, N, M, N, K, 1.0f, &o->ws);
        else pk_gemm_tn(o->C, N, o->A, M, o->Bm, N, M, N, K, 1.0f, &o->ws);
    }
}

/* Seconds per unit: median over `repeats` timings of ≥ 20 ms each. */
static double time_unit(void (*run)(const Gemm *, Operands *), const Gemm *g, Operands *o, int repeats) {
    wait_openblas_idle();   /* each timing on idle cores, whatever ran before it */
    run(g, o);              /* warm-up: caches, OpenBLAS's threads */
    double t0 = now_seconds();
    run(g, o);
    double one = now_seconds() - t0;
    int reps = one > 0.02 ? 1 : (int)(0.02 / (one > 1e-7 ? one : 1e-7)) + 1;
    double *t = malloc((size_t)repeats * sizeof *t);
    for (int r = 0; r < repeats; r++) {
        t0 = now_seconds();
        for (int k = 0; k < reps; k++) run(g, o);
        t[r] = (now_seconds() - t0) / reps;
    }
    qsort(t, (size_t)repeats, sizeof *t, cmp_double);
    double med = t[repeats / 2];
    free(t);
    return med;
}

static void time_workload(const Workload *wl, int repeats) {
    Gemm g[MAX_GEMMS];
    int n = workload_gemms(wl, g);
    double t_blas = 0.0, t_pack = 0.0, flops = 0.0;
    for (int k = 0; k < n; k++) {
        Operands o;
        operands_alloc(&o, &g[k]);
        double f = 2.0 * g[k].M * g[k].N * g[k].K * g[k].count;
        double tb = time_unit(run_blas, &g[k], &o, repeats), tp = time_unit(run_pack, &g[k], &o, repeats);
        t_blas += tb, t_pack += tp, flops += f;
        printf("{\"kind\": \"gemm\", \"workload\": \"%s\", \"what\": \"%s\", \"form\": \"%s\", \"M\": %d, \"N\": %d, "
               "\"K\": %d, \"count\": %d, \"blas_gflops\": %.2f, \"pack_gflops\": %.2f}\n",
               wl->name, g[k].what, g[k].form, g[k].M, g[k].N, g[k].K, g[k].count, 1e-9 * f / tb, 1e-9 * f / tp);
        operands_free(&o);
    }
    double units = workload_units(wl);
    printf("{\"kind\": \"workload\", \"workload\": \"%s\", \"flops_per_step\": %.0f, \"blas_gflops\": %.2f, "
           "\"pack_gflops\": %.2f, \"blas_bound\": %.1f, \"pack_bound\": %.1f, \"unit\": \"%s\"}\n",
           wl->name, flops, 1e-9 * flops / t_blas, 1e-9 * flops / t_pack, units / t_blas, units / t_pack,
           workload_unit_name(wl));
    fflush(stdout);
}

int main(int argc, char **argv) {
    int threads = 0, square = 2048, repeats = 7, square_only = 0, bf16 = 0;
    unsigned char *used = calloc((size_t)argc + 1, 1);
    Workload one;
    /* one workload when the command line names one: a preset name first, or any shape flag */
    int has_one = argc > 1 && argv[1][0] != '-';
    for (int k = 1; k < argc; k++) has_one |= workload_is_shape_flag(argv[k]);
    if (has_one && workload_from_args(&one, argc, argv, 1, used, "sgemm_rate") != 0) {
        free(used);
        return 2;
    }
    for (int k = 1; k < argc; k += 2) {
        if (used[k]) {
            k--;
            continue;
        }
        if (strcmp(argv[k], "--square-only") == 0) {   /* the square alone (the suite repeats it every round) */
            square_only = 1;
            k--;
            continue;
        }
        if (k + 1 >= argc) {
            fprintf(stderr, "sgemm_rate: '%s' needs a value\n", argv[k]);
            free(used);
            return 2;
        }
        if (strcmp(argv[k], "--threads") == 0) threads = atoi(argv[k + 1]);
        else if (strcmp(argv[k], "--precision") == 0) bf16 = strcmp(argv[k + 1], "bf16") == 0;
        else if (strcmp(argv[k], "--square") == 0) square = atoi(argv[k + 1]);
        else if (strcmp(argv[k], "--repeats") == 0) repeats = atoi(argv[k + 1]);
        else {
            fprintf(stderr, "usage: sgemm_rate [--threads N] [--square N] [--repeats N] [--square-only] [--precision fp32|bf16] "
                            "[PRESET] [SHAPE FLAGS]\n");
            free(used);
            return 2;
        }
    }
    if (threads > 0) {
        openblas_set_num_threads(threads);
        par_set_threads(threads);   /* the packed kernels' threads too */
    }
    if (repeats < 1) repeats = 1;
    if (bf16 && packed_set_precision(PACK_BF16) != 0) {
        fprintf(stderr, "sgemm_rate: --precision bf16 needs AVX512-BF16, which this CPU lacks\n");
        free(used);
        return 2;
    }
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    int blas_threads = openblas_get_num_threads();
    int pack_threads = par_threads();

    if (has_one && !square_only) time_workload(&one, repeats);
    for (int w = 0; w < (square_only || has_one ? 0 : N_WORKLOADS); w++) {
        Workload preset;
        char *args[] = {"sgemm_rate", (char *)WORKLOAD_PRESETS[w][0]};
        unsigned char u[2] = {0, 0};
        workload_from_args(&preset, 2, args, 1, u, "sgemm_rate");
        time_workload(&preset, repeats);
    }
    Gemm sq = {"square", "nn", square, square, square, 1, 0};
    Operands o;
    operands_alloc(&o, &sq);
    double f = 2.0 * square * (double)square * square;
    double tb = time_unit(run_blas, &sq, &o, repeats), tp = time_unit(run_pack, &sq, &o, repeats);
    operands_free(&o);
    printf("{\"kind\": \"square\", \"N\": %d, \"blas_gflops\": %.2f, \"pack_gflops\": %.2f, \"blas_threads\": %d, "
           "\"pack_threads\": %d, \"pack_kernel\": \"%s\", \"precision\": \"%s\", \"openblas_coretype\": \"%s\", \"openblas_config\": \"%s\"}\n",
           square, 1e-9 * f / tb, 1e-9 * f / tp, blas_threads, pack_threads, packed_kernel_name(packed_kernel()),
           packed_precision_name(packed_precision()), coretype ? coretype : "", openblas_get_config());
    free(used);
    return 0;
}
