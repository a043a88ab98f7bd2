/* optim_rate.c — what one optimizer step and one clipping pass cost over a whole model.
 *
 *   optim_rate [--params N] [--threads N] [--repeats N]
 *
 * For N parameters (default 935,824: the 784-512-128-512-784 autoencoder), the best of `repeats`
 * (default 100) timings of optim_step for SGD, SGD with momentum, Adam, RMSprop and Adagrad, and
 * of clip_to_global_norm (one scaling pass) and clip_by_value. One JSON line per pass, in µs.
 * The best, not the median: each call is tens of µs, and on a shared VM a neighbour only adds. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clip.h"
#include "clock.h"
#include "optim.h"
#include "parallel.h"

static void report(const char *pass, size_t n, int threads, double best) {
    printf("{\"pass\": \"%s\", \"params\": %zu, \"threads\": %d, \"best_us\": %.1f}\n", pass, n, threads, 1e6 * best);
}

int main(int argc, char **argv) {
    size_t n = 935824;
    int threads = 2, repeats = 100;
    for (int k = 1; k < argc; k++) {
        if (k + 1 < argc && strcmp(argv[k], "--params") == 0) n = (size_t)atol(argv[++k]);
        else if (k + 1 < argc && strcmp(argv[k], "--threads") == 0) threads = atoi(argv[++k]);
        else if (k + 1 < argc && strcmp(argv[k], "--repeats") == 0) repeats = atoi(argv[++k]);
        else {
            fprintf(stderr, "usage: optim_rate [--params N] [--threads N] [--repeats N]\n");
            return 2;
        }
    }
    if (n < 1 || threads < 1 || repeats < 1) {
        fprintf(stderr, "optim_rate: --params, --threads and --repeats must be positive\n");
        return 2;
    }
    par_set_threads(threads);
    float *p = malloc(n * sizeof *p), *g = malloc(n * sizeof *g);
    if (!p || !g) {
        fprintf(stderr, "optim_rate: out of memory for %zu parameters\n", n);
        return 1;
    }
    for (size_t i = 0; i < n; i++) p[i] = 0.01f * (float)(i % 100), g[i] = 0.001f * (float)((i * 7) % 100);

    static const struct {
        const char *name;
        OptimType type;
        double momentum;
    } rules[] = {{"sgd", OPT_SGD, 0.0}, {"sgd_momentum", OPT_SGD, 0.9}, {"adam", OPT_ADAM, 0.0},
                 {"rmsprop", OPT_RMSPROP, 0.0}, {"adagrad", OPT_ADAGRAD, 0.0}};
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        OptimConfig cfg = optim_defaults(rules[r].type);
        cfg.momentum = rules[r].momentum;
        Optimizer opt;
        optim_init(&opt, &cfg, n);
        double best = 1e9;
        for (int k = 0; k < repeats; k++) {
            double t0 = now_seconds();
            optim_step(&opt, p, g, 1e-4);
            double dt = now_seconds() - t0;
            if (dt < best) best = dt;
        }
        report(rules[r].name, n, threads, best);
        optim_free(&opt);
    }
    double best_norm = 1e9, best_value = 1e9;
    for (int k = 0; k < repeats; k++) {
        double t0 = now_seconds();
        clip_to_global_norm(g, n, 1.0, 1.0 + 1e-3);   /* above the threshold: one scaling pass */
        double t1 = now_seconds();
        clip_by_value(g, n, 0.05f);
        double t2 = now_seconds();
        if (t1 - t0 < best_norm) best_norm = t1 - t0;
        if (t2 - t1 < best_value) best_value = t2 - t1;
    }
    report("clip_global_norm", n, threads, best_norm);
    report("clip_value", n, threads, best_value);
    free(p), free(g);
    return 0;
}
