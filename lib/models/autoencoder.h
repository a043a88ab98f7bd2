/* autoencoder.h — the autoencoder of the lecture, shallow or deep, tied or untied.
 *
 *   encoder   h = g(W x + b)          (deep: x → a_1 → … → a_k → h, each a_l = act_l(W_l a_{l−1} + b_l))
 *   decoder   x̂ = f(W* h + c)         (deep: mirrors the encoder's hidden layers back to dim(x))
 *   tied      W*_l = W_lᵀ, stored once: the decoder layer that mirrors encoder layer l reuses its W
 *   loss      squared error or cross-entropy of x̂ against the *clean* x (see loss.h), plus an
 *             optional sparsity penalty on h (sparsity.h); the input may be corrupted (noise.h).
 *
 * Parameter views: "enc<l>/W" (out, in) and "enc<l>/b" for the encoder layers, "dec<l>/W" and
 * "dec<l>/b" for the decoder layers (no dec<l>/W when tied: it is enc<k−l>/W transposed).
 * With f = sigmoid and cross-entropy the loss gradient is taken with respect to the
 * pre-activation, (x̂ − x)/m, which is exact and never divides by x̂(1 − x̂). */
#ifndef EXPRUN_AUTOENCODER_H
#define EXPRUN_AUTOENCODER_H

#include "act.h"
#include "error.h"
#include "loss.h"
#include "model.h"
#include "noise.h"
#include "sparsity.h"

#define AE_MAX_HIDDEN 8

typedef struct AutoencoderConfig {
    int n_input;                      /* dim(x) */
    int n_code;                       /* dim(h) */
    int n_hidden;                     /* hidden layers on each side (0 = shallow) */
    int hidden_units[AE_MAX_HIDDEN];  /* encoder side, from the input towards the code */
    Activation hidden_act[AE_MAX_HIDDEN];
    Activation g;                     /* activation of the code layer */
    Activation f;                     /* activation of the reconstruction */
    int tied;
    LossType loss;                    /* LOSS_SQUARED_ERROR or LOSS_CROSS_ENTROPY */
    NoiseConfig noise;
    SparsityConfig sparsity;
    int max_batch;
} AutoencoderConfig;

int autoencoder_create(Model **out, const AutoencoderConfig *cfg, Rng *init_rng, ExError *err);

/* Bytes the model will hold in training (parameters, gradients, two optimizer moments, the
 * activations and products' workspace), estimated from the config before anything is allocated. */
double autoencoder_memory(const AutoencoderConfig *cfg);

/* Codes h (B, n_code) of a batch of clean inputs x (B, n_input), and optionally the reconstruction
 * x̂ (B, n_input) and each row's reconstruction error (the loss of that row alone). */
void autoencoder_encode(Model *m, const float *x, int B, float *codes, float *recon,
                        double *row_error);
/* Forward on inputs corrupted with the model's own noise (for the denoising evaluation):
 * returns the mean loss against the clean x. */
double autoencoder_eval_corrupted(Model *m, const float *x, int B, Rng *noise_rng);
const AutoencoderConfig *autoencoder_config(const Model *m);

#endif
