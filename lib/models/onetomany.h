/* onetomany.h — the "one_to_many" model family: one vector in, a sequence out. The lecture's
 * one-to-many shape, e.g. an image written row by row from its class.
 *
 * Shape letters: B = batch, K = classes, T = steps (image rows), d = values per step (pixels
 * of a row), H = hidden units of a layer.
 *
 *   vector    a class c ∈ [0, K): it SETS THE INITIAL STATE of every layer,
 *                 h^l_0 = S^l[c]   (and c^l_0 = C^l[c] for LSTM)
 *             — a learned table per layer, i.e. a one-hot code times a matrix
 *   inputs    x_0 = 0 (a blank row: "start"), x_t = y_{t−1} for t ≥ 1: in training the TRUE
 *             previous row (teacher forcing), in generation the model's own previous output
 *   layers    L stacked lstm | gru cells
 *   head      ŷ_t = σ(head/W · h^{L−1}_t + head/b)   with loss cross_entropy (pixels in [0, 1]), or
 *             ŷ_t = head/W · h^{L−1}_t + head/b      with loss squared_error
 *   loss      summed over the T·d values of a sequence, averaged over the batch (the lecture's
 *             autoencoder losses, so the numbers compare with an autoencoder on the same images)
 *
 * Batches: labels (B) are the classes, x (B, T, d) the sequences to produce.
 * Evaluation reports the teacher-forced loss and, as stat free_running_loss, the same loss of
 * the sequence generated from each row's class by feeding outputs back (the gap between the
 * two is the price of exposure bias). onetomany_generate() writes such sequences.
 *
 * Parameters: state{l}/h (K, H_l) [and state{l}/c (K, H_l) for LSTM], {cell}{l}/W, /b (, /b_hn)
 * as in lstm.h / gru.h, head/W (d, H_{L−1}), head/b (d). Initialisation from the init stream:
 * state tables 0 (every class starts where an unconditioned RNN would; the gradient separates
 * them), cells U(−1/√H, 1/√H) (forget-gate bias forget_bias), head U(−1/√H, 1/√H).
 * Errors in a batch make train_batch / eval_batch return NAN; onetomany_last_error() says why. */
#ifndef EXPRUN_ONETOMANY_H
#define EXPRUN_ONETOMANY_H

#include <stdint.h>

#include "error.h"
#include "gru.h"
#include "loss.h"
#include "model.h"
#include "rng.h"
#include "seqmodel.h"

typedef struct OneToManyConfig {
    CellType cell;                /* CELL_LSTM or CELL_GRU */
    GruVariant gru_variant;
    int num_layers;               /* 1..SEQ_MAX_LAYERS */
    int hidden[SEQ_MAX_LAYERS];
    float forget_bias;
    int recurrent_orthogonal;
    float recurrent_gain;
    int n_classes;                /* K */
    int steps, n_out;             /* T and d of the sequences produced */
    LossType loss;                /* LOSS_CROSS_ENTROPY (sigmoid outputs) or LOSS_SQUARED_ERROR */
    int max_batch;
} OneToManyConfig;

/* Bytes the model will hold in training, estimated from the config (seqmodel_memory). */
double onetomany_memory(const OneToManyConfig *cfg);

int onetomany_create(Model **out, const OneToManyConfig *cfg, Rng *init_rng, ExError *err);
const OneToManyConfig *onetomany_config(const Model *m);
const char *onetomany_last_error(const Model *m);

/* Generate for B ≤ max_batch classes: out (B, T, d), each output fed back as the next input.
 * Returns 0, or -1 (onetomany_last_error). */
int onetomany_generate(Model *m, const int32_t *classes, int B, float *out);

#endif
