#include "autoencoder.h"

#include <assert.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dense.h"

/* One dense layer of the chain: its sizes, activation and where its parameters live. */
typedef struct AeLayer {
    int n_in, n_out;
    Activation act;
    int W, b;            /* param view indices */
    int transposed;      /* tied decoder layer: W is the mirrored encoder layer's (n_out, n_in)ᵀ */
} AeLayer;

typedef struct Autoencoder {
    AutoencoderConfig cfg;
    int n_layers;                       /* 2 (n_hidden + 1) */
    AeLayer layers[2 * AE_MAX_HIDDEN + 2];
    float *acts[2 * AE_MAX_HIDDEN + 3]; /* acts[0] = corrupted input x̃ (B, n_input), acts[l+1] = layer l out */
    const float *input;                 /* this batch's network input: acts[0], or x itself (no copy) */
    float *grad_a, *grad_b;             /* (B, widest) ping-pong buffers for ∂L/∂activations */
    double *rho_hat;                    /* (n_code) */
    double *ce_unit_sums;               /* the fused sigmoid + cross-entropy's partial sums (loss.h) */
    int bias_grad_done;                 /* this step's fused loss summed the last layer's ∂L/∂c itself */
    DenseWork work;                     /* packing room for every layer's products */
} Autoencoder;

static Autoencoder *impl(const Model *m) { return m->impl; }

/* Glorot/Xavier uniform for saturating activations, He uniform for the relu family: keeps the
 * variance of activations roughly constant through the stack. Biases start at zero. */
static void init_weights(float *W, int n_out, int n_in, Activation act, Rng *rng) {
    int relu_like = act == ACT_RELU || act == ACT_LEAKY_RELU || act == ACT_ELU;
    double limit = relu_like ? sqrt(6.0 / n_in) : sqrt(6.0 / (n_in + n_out));
    for (size_t i = 0; i < (size_t)n_out * n_in; i++)
        W[i] = (float)((2.0 * rng_uniform_double(rng) - 1.0) * limit);
}

static double forward(Model *m, const float *x_clean, const float *x_input, int B, float *grad_out, float **grad_at,
                      StepStats *stats);

static double ae_train_batch(Model *m, const Batch *b, Rng *noise_rng, StepStats *stats);
static double ae_eval_batch(Model *m, const Batch *b, StepStats *stats);
static void ae_describe(const Model *m, void (*emit)(void *, const char *), void *ctx);
static void ae_destroy(Model *m);

static int ae_code_size(const Model *m);
static int ae_input_size(const Model *m);
static double *ae_linear_decoder_columns(const Model *m);

static const CodeOps AE_CODES = {
    .code_size = ae_code_size,
    .input_size = ae_input_size,
    .encode = autoencoder_encode,
    .linear_decoder_columns = ae_linear_decoder_columns,
};

/* forward() and the penalty: reconstruction and penalty with a sparsity penalty, else none. */
static int ae_eval_stat_names(const Model *m, const char **names, int cap) {
    const Autoencoder *ae = m->impl;
    if (ae->cfg.sparsity.type == SPARSITY_NONE || cap < 2) return 0;
    names[0] = "reconstruction";
    names[1] = "penalty";
    return 2;
}

static void ae_describe_loss(const Model *m, char *buf, size_t cap) {
    const Autoencoder *ae = m->impl;
    snprintf(buf, cap, "%s summed over the %d values of an example (x^ against the clean x), averaged over the "
                       "examples%s", ae->cfg.loss == LOSS_CROSS_ENTROPY ? "binary cross-entropy (nats)" : "squared error",
             ae->cfg.n_input, ae->cfg.sparsity.type != SPARSITY_NONE ? ", plus the sparsity penalty (the objective)" : "");
}

static const ModelOps AE_OPS = {
    .family = "autoencoder",
    .eval_stat_names = ae_eval_stat_names,
    .describe_loss = ae_describe_loss,
    .train_batch = ae_train_batch,
    .eval_batch = ae_eval_batch,
    .describe = ae_describe,
    .destroy = ae_destroy,
    .codes = &AE_CODES,
};

double autoencoder_memory(const AutoencoderConfig *c) {
    double sizes[2 * AE_MAX_HIDDEN + 3], P = 0, floats = 0, widest = 0, B = c->max_batch;
    int n = 0, k = c->n_hidden < AE_MAX_HIDDEN ? c->n_hidden : AE_MAX_HIDDEN;
    sizes[n] = c->n_input;
    for (int l = 0; l < k; l++) sizes[++n] = c->hidden_units[l];
    sizes[++n] = c->n_code;
    for (int l = k - 1; l >= 0; l--) sizes[++n] = c->hidden_units[l];
    sizes[++n] = c->n_input;
    for (int l = 0; l < n; l++) {
        P += (c->tied && l >= n / 2 ? 0 : sizes[l] * sizes[l + 1]) + sizes[l + 1];
        floats += 2 * sizes[l] * sizes[l + 1];   /* the products' packed operands */
        widest = sizes[l] > widest ? sizes[l] : widest;
    }
    for (int l = 0; l <= n; l++) floats += B * sizes[l];   /* activations */
    floats += 3 * B * widest;
    return 4.0 * (4 * P + floats);
}

int autoencoder_create(Model **out, const AutoencoderConfig *cfg, Rng *init_rng, ExError *err) {
    if (cfg->n_hidden < 0 || cfg->n_hidden > AE_MAX_HIDDEN)
        return ex_fail(err, "autoencoder: at most %d hidden layers per side", AE_MAX_HIDDEN);
    if (cfg->loss == LOSS_SOFTMAX_CROSS_ENTROPY)
        return ex_fail(err, "autoencoder: loss must be squared_error or cross_entropy");
    Model *m = ex_calloc(1, sizeof *m);
    Autoencoder *ae = ex_calloc(1, sizeof *ae);
    m->ops = &AE_OPS;
    m->impl = ae;
    m->max_batch = cfg->max_batch;
    ae->cfg = *cfg;

    /* Sizes along the chain: input, hidden..., code, hidden reversed..., input. */
    int sizes[2 * AE_MAX_HIDDEN + 3], acts[2 * AE_MAX_HIDDEN + 2];
    int k = cfg->n_hidden, n = 0;
    sizes[n] = cfg->n_input;
    for (int l = 0; l < k; l++) { sizes[++n] = cfg->hidden_units[l]; acts[n - 1] = cfg->hidden_act[l]; }
    sizes[++n] = cfg->n_code;
    acts[n - 1] = cfg->g;
    for (int l = k - 1; l >= 0; l--) { sizes[++n] = cfg->hidden_units[l]; acts[n - 1] = cfg->hidden_act[l]; }
    sizes[++n] = cfg->n_input;
    acts[n - 1] = cfg->f;
    ae->n_layers = n;

    char name[PARAM_NAME_MAX];
    for (int l = 0; l < n; l++) {
        AeLayer *L = &ae->layers[l];
        L->n_in = sizes[l];
        L->n_out = sizes[l + 1];
        L->act = (Activation)acts[l];
        int is_decoder = l > k;
        int side_index = is_decoder ? l - (k + 1) : l;
        const char *side = is_decoder ? "dec" : "enc";
        if (is_decoder && cfg->tied) {
            /* Decoder layer l mirrors encoder layer n − 1 − l: W* = Wᵀ. */
            L->W = ae->layers[n - 1 - l].W;
            L->transposed = 1;
        } else {
            int shape[2] = {L->n_out, L->n_in};
            snprintf(name, sizeof name, "%s%d/W", side, side_index);
            L->W = params_add(&m->params, name, 2, shape, "out,in (h = act(W x + b), as torch.nn.Linear)");
        }
        int bshape[1] = {L->n_out};
        snprintf(name, sizeof name, "%s%d/b", side, side_index);
        L->b = params_add(&m->params, name, 1, bshape, "out");
    }
    params_alloc(&m->params);
    for (int l = 0; l < n; l++) {
        AeLayer *L = &ae->layers[l];
        if (!L->transposed)
            init_weights(params_value(&m->params, L->W), L->n_out, L->n_in, L->act, init_rng);
    }

    int widest = 0;
    for (int l = 0; l <= n; l++) widest = sizes[l] > widest ? sizes[l] : widest;
    for (int l = 0; l <= n; l++) ae->acts[l] = ex_calloc((size_t)cfg->max_batch * sizes[l], sizeof(float));
    ae->grad_a = ex_calloc((size_t)cfg->max_batch * widest, sizeof(float));
    ae->grad_b = ex_calloc((size_t)cfg->max_batch * widest, sizeof(float));
    ae->rho_hat = ex_calloc((size_t)cfg->n_code, sizeof(double));
    ae->ce_unit_sums = ex_calloc(loss_sigmoid_ce_units(cfg->max_batch, cfg->n_input), sizeof(double));
    size_t work = 0;
    for (int l = 0; l < n; l++) dense_work_reserve(&work, cfg->max_batch, sizes[l], sizes[l + 1]);
    dense_work_alloc(&ae->work, work);
    *out = m;
    return 0;
}

static void ae_destroy(Model *m) {
    Autoencoder *ae = impl(m);
    if (!ae) return;
    for (int l = 0; l <= ae->n_layers; l++) free(ae->acts[l]);
    free(ae->grad_a);
    free(ae->grad_b);
    free(ae->rho_hat);
    free(ae->ce_unit_sums);
    dense_work_free(&ae->work);
    free(ae);
    m->impl = NULL;
}

const AutoencoderConfig *autoencoder_config(const Model *m) { return &impl(m)->cfg; }

static int fused_sigmoid_ce(const Autoencoder *ae) {
    return ae->cfg.f == ACT_SIGMOID && ae->cfg.loss == LOSS_CROSS_ENTROPY;
}

/* Training's fused loss, as the epilogue of the last layer's product, on each part of it:
 * x̂, ∂L/∂a and the loss terms (loss.h), then — when the part holds every row, as it does when
 * the product is split by columns — the bias gradient of its columns, ∂L/∂c_j += Σ_r ∂L/∂a_rj
 * with the rows in order (as dense_backward's pass would add them: the same bits). The part's
 * ∂L/∂a is still in its thread's cache there; in a pass of its own after the product, split
 * otherwise, half of it came from the other core (22 µs of a 560 µs ae_shallow step, on one
 * thread). Split by rows, no part sums, and dense_backward does it. */
typedef struct CeThenBias {
    const SigmoidCeJob *ce;
    float *bias_grad;        /* (n), or NULL: not asked */
    atomic_int cols_summed;  /* columns whose bias gradient a part has summed */
} CeThenBias;

static void ce_then_bias_block(void *ctx, float *logits, int ld, int m0, int m1, int n0, int n1) {
    CeThenBias *job = ctx;
    loss_sigmoid_ce_block((void *)job->ce, logits, ld, m0, m1, n0, n1);
    if (!job->bias_grad || m0 != 0 || m1 != job->ce->m) return;
    dense_bias_grad_cols(job->bias_grad, job->ce->grad, job->ce->n, m1, n0, n1);
    atomic_fetch_add_explicit(&job->cols_summed, n1 - n0, memory_order_relaxed);
}

/* Forward through the chain from x_input (x itself, or x̃ in acts[0]). Returns the loss of
 * x̂ against x_clean; if grad_out is given, writes ∂L/∂x̂ there and points *grad_at at it —
 * except the fused sigmoid + cross-entropy, which writes ∂L/∂a over the logits themselves
 * (training has no use for x̂, and a buffer that is already in the cache costs no traffic)
 * and points *grad_at there. */
static double forward(Model *m, const float *x_clean, const float *x_input, int B, float *grad_out, float **grad_at,
                      StepStats *stats) {
    Autoencoder *ae = impl(m);
    const Params *p = &m->params;
    float *recon = ae->acts[ae->n_layers];
    int n = ae->cfg.n_input;
    /* fused sigmoid + cross-entropy: the last layer leaves its logits, and the loss, as its
     * product's epilogue, turns them into x̂ = σ(a) in place, ∂L/∂a and the loss terms */
    int in_place = grad_out && fused_sigmoid_ce(ae);
    SigmoidCeJob ce = {in_place ? recon : NULL, in_place ? NULL : recon, x_clean, B, n, ae->ce_unit_sums};
    if (grad_at) *grad_at = in_place ? recon : grad_out;
    const AeLayer *last = &ae->layers[ae->n_layers - 1];
    CeThenBias ce_bias = {&ce, in_place ? params_grad(p, last->b) : NULL, 0};
    PkEpilogue ce_then = {ce_then_bias_block, &ce_bias};
    ae->input = x_input;
    for (int l = 0; l < ae->n_layers; l++) {
        const AeLayer *L = &ae->layers[l];
        int fused_here = l == ae->n_layers - 1 && fused_sigmoid_ce(ae);
        dense_forward_then(ae->acts[l + 1], l == 0 ? ae->input : ae->acts[l], params_value(p, L->W),
                           params_value(p, L->b), B, L->n_in, L->n_out, L->transposed, fused_here ? ACT_IDENTITY : L->act,
                           &ae->work, fused_here ? &ce_then : NULL);
    }
    int cols_summed = atomic_load_explicit(&ce_bias.cols_summed, memory_order_relaxed);
    assert(cols_summed == 0 || cols_summed == n);   /* every part holds all rows, or none does */
    ae->bias_grad_done = cols_summed == n;
    double loss;
    if (ae->cfg.loss == LOSS_SQUARED_ERROR) loss = loss_squared_error(grad_out, recon, x_clean, B, n);
    else if (fused_sigmoid_ce(ae)) loss = loss_sigmoid_ce_total(&ce);
    else loss = loss_binary_cross_entropy(grad_out, recon, x_clean, B, n);
    /* with a penalty the objective is reconstruction + Ω: report the reconstruction alone too */
    if (stats && ae->cfg.sparsity.type != SPARSITY_NONE) stats_add(stats, "reconstruction", loss * B);
    return loss;
}

static double ae_train_batch(Model *m, const Batch *b, Rng *noise_rng, StepStats *stats) {
    Autoencoder *ae = impl(m);
    const Params *p = &m->params;
    int B = b->B, n = ae->cfg.n_input, code_layer = ae->cfg.n_hidden;
    /* x̃ = corrupt(x) into acts[0]; the loss still compares with the clean x. */
    const float *x_input = b->x;
    if (ae->cfg.noise.type != NOISE_NONE) {
        noise_apply(ae->acts[0], b->x, (size_t)B * n, &ae->cfg.noise, noise_rng);
        x_input = ae->acts[0];
    }
    float *d;   /* ∂L/∂(this layer's output): in grad_a or grad_b (ping-pong), or over the logits */
    double loss = forward(m, b->x, x_input, B, ae->grad_a, &d, stats);
    double penalty = 0.0;
    for (int l = ae->n_layers - 1; l >= 0; l--) {
        const AeLayer *L = &ae->layers[l];
        int last = l == ae->n_layers - 1;
        Activation act = (last && fused_sigmoid_ce(ae)) ? ACT_IDENTITY : L->act;
        float *db = last && ae->bias_grad_done ? NULL : params_grad(p, L->b);   /* NULL: summed in forward */
        float *d_next = d == ae->grad_a ? ae->grad_b : ae->grad_a;
        dense_backward(l > 0 ? d_next : NULL, params_grad(p, L->W), db, d,
                       ae->acts[l + 1], l == 0 ? ae->input : ae->acts[l], params_value(p, L->W), B, L->n_in, L->n_out,
                       L->transposed, act, &ae->work);
        d = d_next;
        /* d now holds ∂L/∂acts[l]; at the code h = acts[code_layer + 1] add ∂Ω/∂h. */
        if (l == code_layer + 1)
            penalty = sparsity_penalty(d, ae->acts[l], B, ae->cfg.n_code, &ae->cfg.sparsity, ae->rho_hat);
    }
    if (ae->cfg.sparsity.type != SPARSITY_NONE && stats) stats_add(stats, "penalty", penalty * B);
    return loss + penalty;
}

static double ae_eval_batch(Model *m, const Batch *b, StepStats *stats) {
    Autoencoder *ae = impl(m);
    double loss = forward(m, b->x, b->x, b->B, NULL, NULL, stats);
    double penalty = sparsity_penalty(NULL, ae->acts[ae->cfg.n_hidden + 1], b->B, ae->cfg.n_code,
                                      &ae->cfg.sparsity, ae->rho_hat);
    if (ae->cfg.sparsity.type != SPARSITY_NONE && stats) stats_add(stats, "penalty", penalty * b->B);
    return loss + penalty;
}

double autoencoder_eval_corrupted(Model *m, const float *x, int B, Rng *noise_rng) {
    Autoencoder *ae = impl(m);
    noise_apply(ae->acts[0], x, (size_t)B * ae->cfg.n_input, &ae->cfg.noise, noise_rng);
    return forward(m, x, ae->acts[0], B, NULL, NULL, NULL);
}

void autoencoder_encode(Model *m, const float *x, int B, float *codes, float *recon,
                        double *row_error) {
    Autoencoder *ae = impl(m);
    int n = ae->cfg.n_input, K = ae->cfg.n_code;
    forward(m, x, x, B, NULL, NULL, NULL);
    if (codes) memcpy(codes, ae->acts[ae->cfg.n_hidden + 1], (size_t)B * K * sizeof(float));
    const float *xr = ae->acts[ae->n_layers];
    if (recon) memcpy(recon, xr, (size_t)B * n * sizeof(float));
    if (row_error)
        for (int i = 0; i < B; i++) {
            const float *pr = xr + (size_t)i * n, *xi = x + (size_t)i * n;
            row_error[i] = ae->cfg.loss == LOSS_SQUARED_ERROR
                               ? loss_squared_error(NULL, pr, xi, 1, n)
                               : loss_sigmoid_cross_entropy(NULL, pr, xi, 1, n);   /* its vectorised value */
        }
}

static void ae_describe(const Model *m, void (*emit)(void *, const char *), void *ctx) {
    const Autoencoder *ae = impl(m);
    char line[256];
    size_t total = 0;
    for (int l = 0; l < ae->n_layers; l++) {
        const AeLayer *L = &ae->layers[l];
        size_t count = (size_t)L->n_out + (L->transposed ? 0 : (size_t)L->n_out * L->n_in);
        total += count;
        const char *role = l == ae->cfg.n_hidden ? "code h = g(W x + b)"
                           : l == ae->n_layers - 1 ? "reconstruction x̂ = f(W* h + c)"
                           : l < ae->cfg.n_hidden  ? "encoder hidden"
                                                   : "decoder hidden";
        snprintf(line, sizeof line, "  %-4s %d: %5d -> %-5d %-10s %9zu params%s  %s",
                 l <= ae->cfg.n_hidden ? "enc" : "dec", l <= ae->cfg.n_hidden ? l : l - ae->cfg.n_hidden - 1,
                 L->n_in, L->n_out, act_name(L->act), count, L->transposed ? " (W tied)" : "", role);
        emit(ctx, line);
    }
    snprintf(line, sizeof line, "  total %zu trainable parameters", total);
    emit(ctx, line);
}

static int ae_code_size(const Model *m) { return autoencoder_config(m)->n_code; }
static int ae_input_size(const Model *m) { return autoencoder_config(m)->n_input; }

/* The decoder's column space for a shallow autoencoder with f = identity (x̂ − c = W* h), as
 * rows of (K, n_in): W* is dec0/W (n_in, K), or enc0/W (K, n_in) transposed when tied. */
static double *ae_linear_decoder_columns(const Model *m) {
    const AutoencoderConfig *cfg = autoencoder_config(m);
    int K = cfg->n_code, n_in = cfg->n_input;
    if (cfg->n_hidden != 0 || cfg->f != ACT_IDENTITY || K > n_in) return NULL;
    const Params *p = &m->params;
    int dec = params_find(p, "dec0/W"), enc = params_find(p, "enc0/W");
    double *cols = ex_malloc((size_t)K * (size_t)n_in * sizeof(double));
    if (dec >= 0) {
        const float *W = params_value(p, dec); /* (n_in, K) */
        for (int c = 0; c < K; c++)
            for (int j = 0; j < n_in; j++) cols[(size_t)c * n_in + j] = W[(size_t)j * K + c];
    } else {
        const float *W = params_value(p, enc); /* (K, n_in), W* = Wᵀ */
        for (size_t i = 0; i < (size_t)K * n_in; i++) cols[i] = W[i];
    }
    return cols;
}
