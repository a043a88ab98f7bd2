/* test_optim.c — each optimizer's step against values worked out by hand, clipping, schedules,
 * and the RNG against reference outputs. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "clip.h"
#include "optim.h"
#include "parallel.h"
#include "rng.h"
#include "schedule.h"
#include "testutil.h"

/* Run `steps` updates of one parameter p0 with the gradients g[], return p. */
static double run_one(OptimConfig cfg, double lr, float p0, const float *g, int steps) {
    Optimizer opt;
    optim_init(&opt, &cfg, 1);
    float p = p0;
    for (int s = 0; s < steps; s++) optim_step(&opt, &p, &g[s], lr);
    optim_free(&opt);
    return p;
}

static void test_sgd(void) {
    float g[2] = {0.5f, 0.5f};
    OptimConfig c = optim_defaults(OPT_SGD);
    CU_ASSERT_DOUBLE_EQUAL(run_one(c, 0.1, 1.0f, g, 1), 0.95, 1e-7);
    float ones[2] = {1, 1};
    c.momentum = 0.9; /* b1 = 1 → p = 0.9; b2 = 0.9·1 + 1 = 1.9 → p = 0.9 − 0.19 */
    CU_ASSERT_DOUBLE_EQUAL(run_one(c, 0.1, 1.0f, ones, 2), 0.71, 1e-6);
    c.nesterov = 1;       /* g' = g + μb: 1.9 then 1 + 0.9·1.9 = 2.71 */
    CU_ASSERT_DOUBLE_EQUAL(run_one(c, 0.1, 1.0f, ones, 2), 1.0 - 0.19 - 0.271, 1e-6);
    OptimConfig wd = optim_defaults(OPT_SGD);
    wd.weight_decay = 0.1; /* g = 0 + 0.1·2 → p = 2 − 0.5·0.2 */
    float zero[1] = {0};
    CU_ASSERT_DOUBLE_EQUAL(run_one(wd, 0.5, 2.0f, zero, 1), 1.9, 1e-6);
}

static void test_adam(void) {
    float g[2] = {2.0f, 1.0f};
    OptimConfig c = optim_defaults(OPT_ADAM);
    /* step 1: m̂ = g, v̂ = g² → p −= η g/(|g| + ε) */
    CU_ASSERT_DOUBLE_EQUAL(run_one(c, 0.1, 1.0f, g, 1), 1.0 - 0.1 * 2.0 / (2.0 + 1e-8), 1e-6);
    /* step 2, by hand */
    double m = 0.9 * 0.2 + 0.1 * 1.0, v = 0.999 * 0.004 + 0.001 * 1.0;
    double mhat = m / (1 - 0.81), vhat = v / (1 - 0.999 * 0.999);
    double expect = 0.9 - 0.1 * mhat / (sqrt(vhat) + 1e-8);
    CU_ASSERT_DOUBLE_EQUAL(run_one(c, 0.1, 1.0f, g, 2), expect, 1e-6);
    /* AdamW: decoupled decay shrinks p even with zero gradient */
    OptimConfig w = optim_defaults(OPT_ADAM);
    w.weight_decay = 0.1;
    w.decoupled_weight_decay = 1;
    float zero[1] = {0};
    CU_ASSERT_DOUBLE_EQUAL(run_one(w, 0.5, 2.0f, zero, 1), 2.0 * (1 - 0.05), 1e-6);
}

static void test_rmsprop_adagrad(void) {
    float g[2] = {2.0f, 1.0f};
    OptimConfig r = optim_defaults(OPT_RMSPROP); /* v = 0.01·4 → p −= η·2/0.2 */
    CU_ASSERT_DOUBLE_EQUAL(run_one(r, 0.01, 1.0f, g, 1), 1.0 - 0.01 * 2.0 / (0.2 + 1e-8), 1e-6);
    OptimConfig a = optim_defaults(OPT_ADAGRAD); /* v = 4 then 5 */
    CU_ASSERT_DOUBLE_EQUAL(run_one(a, 0.1, 1.0f, g, 2), 1.0 - 0.1 - 0.1 / sqrt(5.0), 1e-6);
}

static void test_clipping(void) {
    float g[2] = {3, 4};
    double norm = clip_by_global_norm(g, 2, 2.5); /* to the threshold, not to 1 */
    CU_ASSERT_DOUBLE_EQUAL(norm, 5.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(g[0], 1.5, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(g[1], 2.0, 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(grad_global_norm(g, 2), 2.5, 1e-5);
    float small[2] = {0.3f, 0.4f};
    clip_by_global_norm(small, 2, 1.0); /* under the threshold: untouched */
    CU_ASSERT_EQUAL(small[0], 0.3f);
    float v[3] = {-7, 0.5f, 9};
    clip_by_value(v, 3, 1.0f);
    CU_ASSERT_EQUAL(v[0], -1.0f);
    CU_ASSERT_EQUAL(v[1], 0.5f);
    CU_ASSERT_EQUAL(v[2], 1.0f);
}

/* Over a whole gradient the clipping passes are shared out over two threads and vectorised:
 * every element equals the one-element definition bit for bit (a NaN stays NaN, ±Inf is
 * clamped), whatever the length (the threads' boundaries, the vector tails). */
static void test_clipping_shared(void) {
    enum { N = 50021 };
    static float g[N], by_value[N], by_norm[N];
    par_set_threads(2);
    par_set_min_flops(0.0);
    const size_t lengths[] = {N, 17, 16, 1};
    for (int l = 0; l < 4; l++) {
        size_t n = lengths[l];
        Rng r = rng_stream(7, "clip");
        for (size_t i = 0; i < n; i++) g[i] = 8.0f * (float)(rng_uniform(&r) - 0.5);
        if (n > 3) g[1] = NAN, g[2] = INFINITY, g[n - 1] = -INFINITY;
        memcpy(by_value, g, n * sizeof *g);
        memcpy(by_norm, g, n * sizeof *g);
        clip_by_value(by_value, n, 1.5f);
        double norm = 1000.0;   /* above the threshold 2: scaled by 2 / (1000 + 1e-6) */
        clip_to_global_norm(by_norm, n, 2.0, norm);
        float scale = (float)(2.0 / (norm + 1e-6));
        int value_ok = 1, norm_ok = 1;
        for (size_t i = 0; i < n; i++) {
            float v = g[i] > 1.5f ? 1.5f : (g[i] < -1.5f ? -1.5f : g[i]), s = g[i] * scale;
            value_ok &= memcmp(&v, &by_value[i], sizeof v) == 0;
            norm_ok &= memcmp(&s, &by_norm[i], sizeof s) == 0;
        }
        CU_ASSERT(value_ok);
        CU_ASSERT(norm_ok);
    }
    par_set_min_flops(PAR_MIN_FLOPS);
}

/* SGD (plain, momentum, Nesterov, weight decay), RMSprop and Adagrad over a whole model's
 * parameters are shared out over the threads: three steps on two threads give the bits of one
 * thread, and the one-thread run the bits of each rule's equation written out here — at every
 * vector width (RMSprop's and Adagrad's AVX-512 and AVX loops, the plain loop). */
static void check_rules_shared(int use_fast, int lanes) {
    enum { N = 50021 };
    static float p1[N], p2[N], g[N], want[N], mom[N], acc[N];
    OptimConfig cfgs[5] = {optim_defaults(OPT_SGD), optim_defaults(OPT_SGD), optim_defaults(OPT_SGD),
                           optim_defaults(OPT_RMSPROP), optim_defaults(OPT_ADAGRAD)};
    cfgs[1].momentum = 0.9, cfgs[1].weight_decay = 0.01;
    cfgs[2].momentum = 0.8, cfgs[2].nesterov = 1;
    cfgs[3].weight_decay = 0.02;
    par_set_min_flops(0.0);
    for (int c = 0; c < 5; c++) {
        Optimizer one, two;
        par_set_threads(1);
        optim_init(&one, &cfgs[c], N);
        optim_init(&two, &cfgs[c], N);
        one.use_fast = two.use_fast = use_fast;
        one.fast_lanes = two.fast_lanes = lanes;
        Rng r = rng_stream(11, "rules");
        for (int i = 0; i < N; i++) p1[i] = p2[i] = want[i] = (float)(rng_uniform(&r) - 0.5), mom[i] = acc[i] = 0.0f;
        const float lr = 0.05f, wd = (float)cfgs[c].weight_decay, mu = (float)cfgs[c].momentum;
        const float alpha = (float)cfgs[c].alpha, one_minus_alpha = (float)(1.0 - cfgs[c].alpha), eps = (float)cfgs[c].eps;
        for (int step = 1; step <= 3; step++) {
            for (int i = 0; i < N; i++) g[i] = (float)(rng_uniform(&r) - 0.5);
            par_set_threads(1);
            CU_ASSERT_EQUAL(optim_step(&one, p1, g, lr), 0);
            par_set_threads(2);
            CU_ASSERT_EQUAL(optim_step(&two, p2, g, lr), 0);
            for (int i = 0; i < N; i++) {   /* the equations, element by element */
                float gi = g[i] + wd * want[i];
                if (cfgs[c].type == OPT_SGD && mu != 0.0f) {
                    mom[i] = step == 1 ? gi : mu * mom[i] + gi;
                    gi = cfgs[c].nesterov ? gi + mu * mom[i] : mom[i];
                }
                if (cfgs[c].type == OPT_SGD) want[i] -= lr * gi;
                else if (cfgs[c].type == OPT_RMSPROP) {
                    acc[i] = alpha * acc[i] + one_minus_alpha * gi * gi;
                    want[i] -= lr * gi / (sqrtf(acc[i]) + eps);
                } else {
                    acc[i] += gi * gi;
                    want[i] -= lr * gi / (sqrtf(acc[i]) + eps);
                }
            }
        }
        CU_ASSERT(memcmp(p1, p2, sizeof p1) == 0);
        CU_ASSERT(memcmp(p1, want, sizeof p1) == 0);
        optim_free(&one);
        optim_free(&two);
    }
    par_set_threads(1);
    par_set_min_flops(PAR_MIN_FLOPS);
}

static void test_rules_shared(void) {
    check_rules_shared(1, 0);   /* the widest */
    check_rules_shared(1, 8);   /* AVX */
    check_rules_shared(0, 0);   /* the plain loops */
}

static void test_schedules(void) {
    Schedule s = {.type = SCHED_STEP, .lr = 1.0, .gamma = 0.5, .step_size = 2};
    CU_ASSERT_DOUBLE_EQUAL(schedule_lr(&s, 19, 10, 100), 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(schedule_lr(&s, 25, 10, 100), 0.5, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(schedule_lr(&s, 45, 10, 100), 0.25, 1e-12);
    s.type = SCHED_EXPONENTIAL;
    s.gamma = 0.9;
    CU_ASSERT_DOUBLE_EQUAL(schedule_lr(&s, 30, 10, 100), 0.729, 1e-12);
    s.type = SCHED_COSINE;
    s.min_lr = 0.1;
    CU_ASSERT_DOUBLE_EQUAL(schedule_lr(&s, 0, 10, 100), 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(schedule_lr(&s, 50, 10, 100), 0.55, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(schedule_lr(&s, 100, 10, 100), 0.1, 1e-12);
    s.type = SCHED_CONSTANT;
    s.warmup_steps = 4;
    CU_ASSERT_DOUBLE_EQUAL(schedule_lr(&s, 0, 10, 100), 0.25, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(schedule_lr(&s, 3, 10, 100), 1.0, 1e-12);
    CU_ASSERT_DOUBLE_EQUAL(schedule_lr(&s, 50, 10, 100), 1.0, 1e-12);
}

/* xoshiro256** seeded by SplitMix64: reference outputs from an independent implementation of the
 * published algorithms (SplitMix64 from 1234567 gives the well-known 6457827717110365317, ...). */
static void test_rng_reference(void) {
    Rng r;
    rng_seed(&r, 1234567);
    CU_ASSERT_EQUAL(r.s[0], 6457827717110365317ULL);
    CU_ASSERT_EQUAL(r.s[1], 3203168211198807973ULL);
    CU_ASSERT_EQUAL(r.s[3], 4593380528125082431ULL);
    rng_seed(&r, 42);
    const unsigned long long expect[5] = {1546998764402558742ULL, 6990951692964543102ULL,
                                          12544586762248559009ULL, 17057574109182124193ULL,
                                          18295552978065317476ULL};
    for (int i = 0; i < 5; i++) CU_ASSERT_EQUAL(rng_next_u64(&r), expect[i]);
    /* streams for different purposes differ; the same purpose repeats */
    Rng a = rng_stream(7, "shuffle"), b = rng_stream(7, "noise"), c = rng_stream(7, "shuffle");
    CU_ASSERT_NOT_EQUAL(rng_next_u64(&a), rng_next_u64(&b));
    rng_next_u64(&c);
    CU_ASSERT_EQUAL(memcmp(&a, &c, sizeof a), 0);
}

static void test_rng_distributions(void) {
    Rng r;
    rng_seed(&r, 3);
    double sum = 0, sum2 = 0, usum = 0;
    int counts[5] = {0};
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        double z = rng_normal(&r);
        sum += z;
        sum2 += z * z;
        float u = rng_uniform(&r);
        CU_ASSERT(u >= 0.0f && u < 1.0f);
        usum += u;
        counts[rng_below(&r, 5)]++;
    }
    CU_ASSERT_DOUBLE_EQUAL(sum / n, 0.0, 0.01);
    CU_ASSERT_DOUBLE_EQUAL(sum2 / n, 1.0, 0.02);
    CU_ASSERT_DOUBLE_EQUAL(usum / n, 0.5, 0.01);
    for (int k = 0; k < 5; k++) CU_ASSERT_DOUBLE_EQUAL(counts[k] / (double)n, 0.2, 0.01);
}

/* optim_step's return: 1 when a new parameter is NaN or ±Inf, wherever it is (Adam's vector
 * body or its scalar tail, the first or the last thread's slice), for every optimizer and every
 * width of Adam's vector loop; 0 after a finite step. */
static void test_nonfinite_update_reported(void) {
    enum { N = 1003 };   /* not a multiple of 16: the last values go through the tails */
    const OptimType types[] = {OPT_SGD, OPT_ADAM, OPT_RMSPROP, OPT_ADAGRAD};
    const int lanes[] = {0, 4, 8, 16, -1};   /* Adam: the widest, each width, −1: the plain loop */
    const int where[] = {0, 500, 640, N - 1};
    static float p[N], g[N];
    par_set_threads(2);       /* Adam's slices on two threads: the check in each */
    par_set_min_flops(0.0);
    for (int t = 0; t < 4; t++)
        for (int w = 0; w < 5; w++) {
            if (types[t] != OPT_ADAM && w > 0) continue;
            for (int at = -1; at < 8; at++) {
                OptimConfig c = optim_defaults(types[t]);
                Optimizer opt;
                optim_init(&opt, &c, N);
                opt.use_fast = lanes[w] >= 0;
                opt.fast_lanes = lanes[w] > 0 ? lanes[w] : 0;
                for (int i = 0; i < N; i++) p[i] = 0.5f - 0.001f * (float)i, g[i] = 0.25f;
                double lr = 0.01;
                if (at >= 0 && at < 4) {
                    /* p near the largest float, a step of about lr upwards: +Inf */
                    p[where[at]] = FLT_MAX;
                    g[where[at]] = -1.0f;
                    lr = 1e38;
                } else if (at >= 4) {
                    p[where[at - 4]] = NAN;   /* NaN stays NaN */
                }
                int got = optim_step(&opt, p, g, lr);
                int expect = 0;
                for (int i = 0; i < N; i++) expect |= !isfinite(p[i]);
                CU_ASSERT_EQUAL(expect, at >= 0);
                CU_ASSERT_EQUAL(got, expect);
                optim_free(&opt);
            }
        }
    par_set_min_flops(PAR_MIN_FLOPS);
}

int main(void) {
    TestCase cases[] = {{"sgd, momentum, nesterov, weight decay by hand", test_sgd},
                        {"adam and adamw by hand", test_adam},
                        {"rmsprop and adagrad by hand", test_rmsprop_adagrad},
                        {"a NaN or Inf the update makes is reported", test_nonfinite_update_reported},
                        {"clipping by value and by global norm", test_clipping},
                        {"clipping shared out over threads: the same bits", test_clipping_shared},
                        {"sgd, rmsprop, adagrad shared out over threads: the equations' bits", test_rules_shared},
                        {"learning-rate schedules", test_schedules},
                        {"rng reference outputs and streams", test_rng_reference},
                        {"rng distributions", test_rng_distributions},
                        {NULL, NULL}};
    return run_tests("optim", cases);
}
