/* seqmodel.h — the "sequence" model family: tokens or features → stacked RNN | LSTM | GRU → dense head.
 *
 *   input     tokens (B, T) → embedding E (V, E)            SEQ_INPUT_EMBED
 *             tokens (B, T) → one-hot (B, T, V)             SEQ_INPUT_ONEHOT
 *             features x (B, T, d)                          SEQ_INPUT_FEATURES
 *   layers    l = 0..L−1: h^l_t = cell(h^l_{t−1}, input^l_t), input^{l+1} = dropout(output^l)
 *             (dropout only between layers, as PyTorch's nn.LSTM(dropout=p))
 *   head      y_t = head/W · output^{L−1}_t + head/b, at every step (per_step) or at t = T only
 *             (last_step). For the lecture RNN the layer output is φ(h_t), so the head computes
 *             the slide's y_t = θ_y φ(h_t) (plus a bias).
 *   loss      softmax_cross_entropy against y_tokens (B, T) (−1 = no target; per_step) or labels
 *             (B) (last_step); or squared_error against y (B, T, n_out) (per_step) or
 *             (B, 1, n_out) (last_step). The loss returned is the mean per target: per
 *             non-padding token for cross-entropy (nats per character for a character LM),
 *             per (sample, step) — summed over the n_out values — for squared error.
 *
 * Parameters (views in the arena; every cell's layout is in its header):
 *   embed/W      (V, E)                 N(0, 1), as nn.Embedding
 *   rnn{l}/W     (H, H + n_in)          [θ | θ_x] or [W | U]; rnn{l}/b (H), Elman only
 *   lstm{l}/W    (4H, H + n_in)         rows i,f,g,o, cols [h | x]; lstm{l}/b (4H) = b_ih + b_hh
 *   gru{l}/W     (3H, H + n_in)         rows r,z,n, cols [h | x]; gru{l}/b (3H); gru{l}/b_hn (H),
 *                                       pytorch variant only
 *   {cell}{l}/h0, {cell}{l}/c0  (H)      learned initial state (init_state = learned; c0 for LSTM)
 *   head/W       (n_out, H_{L−1}), head/b (n_out), as nn.Linear
 * Initialisation, from the init stream in this order: embedding N(0, 1); each cell's W and b
 * U(−1/√H, 1/√H) (PyTorch's nn.RNN/LSTM/GRU scheme, its two biases drawn as one); the LSTM
 * forget-gate bias b_f set to forget_bias (default 1.0, so the memory is kept at first);
 * learned initial states 0; head W and b U(−1/√fan_in, 1/√fan_in) (nn.Linear's).
 *
 * Internally everything is time-major (T, B, ·): the cells want each step's (B, H) block
 * contiguous. The batch's (B, T, ·) inputs and targets are permuted once per batch.
 *
 * Truncated BPTT (tbptt_carry = 1): after every batch the final states of every layer are kept;
 * a Batch with carry_state = 1 starts from them instead of the initial state. They are copied
 * as values — detached — so no gradient flows into the previous batch (and none into the
 * learned initial state for such a batch). Training and evaluation keep separate carried states
 * (evaluating a validation stream mid-epoch does not disturb the training stream). The training
 * one is what carried_state() exposes for checkpoints: for l = 0..L−1 a block h (max_batch, H_l),
 * then for LSTM c (max_batch, H_l); rows 0..B−1 are in use. Before any batch it is zero.
 *
 * Errors in a batch (a field missing, a shape or a token out of range) make train_batch and
 * eval_batch return NAN; seqmodel_last_error() says what was wrong. */
#ifndef EXPRUN_SEQMODEL_H
#define EXPRUN_SEQMODEL_H

#include <stdint.h>

#include "act.h"
#include "cell.h"
#include "error.h"
#include "gru.h"
#include "loss.h"
#include "model.h"
#include "recurrent.h"
#include "rng.h"
#include "rnn.h"

#define SEQ_MAX_LAYERS REC_MAX_LAYERS

typedef enum { SEQ_INPUT_EMBED, SEQ_INPUT_ONEHOT, SEQ_INPUT_FEATURES } SeqInput;
typedef enum { SEQ_HEAD_PER_STEP, SEQ_HEAD_LAST_STEP } SeqHead;
typedef enum { SEQ_INIT_ZERO, SEQ_INIT_LEARNED } SeqInitState;

typedef struct SeqModelConfig {
    CellType cell;
    RnnForm rnn_form;             /* CELL_RNN: RNN_LECTURE (the slide) or RNN_ELMAN */
    Activation rnn_act;           /* CELL_RNN: φ (tanh, relu, sigmoid, ...; not softmax) */
    GruVariant gru_variant;       /* CELL_GRU: GRU_CHO (the slide) or GRU_PYTORCH (faster) */
    int num_layers;               /* 1..SEQ_MAX_LAYERS, stacked */
    int hidden[SEQ_MAX_LAYERS];   /* H of each layer */
    float forget_bias;            /* CELL_LSTM: initial forget-gate bias b_f */
    float dropout;                /* between layers, in [0, 1) */
    SeqInitState init_state;      /* h_0 (and c_0): zeros or learned parameters */
    SeqInput input;
    int vocab;                    /* token inputs: alphabet size V */
    int embed_dim;                /* SEQ_INPUT_EMBED: E */
    int n_features;               /* SEQ_INPUT_FEATURES: d */
    SeqHead head;
    int n_out;                    /* head outputs: classes / output vocabulary, or dy */
    LossType loss;                /* LOSS_SOFTMAX_CROSS_ENTROPY or LOSS_SQUARED_ERROR */
    int max_batch, max_T;         /* workspaces are sized for these once */
    int tbptt_carry;              /* keep final states for Batch.carry_state */
    int recurrent_orthogonal;     /* recurrent blocks W[:, :H] of each gate: gain · orthogonal (init.h) */
    float recurrent_gain;         /* that gain (used only with recurrent_orthogonal) */
    int recompute;                /* keep outputs and segment states only; backward replays (recurrent.h) */
} SeqModelConfig;

const char *seq_input_name(SeqInput i);              /* "embedding", "onehot", "features" */
int seq_input_from_name(const char *name, SeqInput *i);
const char *seq_head_name(SeqHead h);                /* "per_step", "last_step" */
int seq_head_from_name(const char *name, SeqHead *h);
const char *seq_init_state_name(SeqInitState s);     /* "zero", "learned" */
int seq_init_state_from_name(const char *name, SeqInitState *s);

/* Check the config, build the parameter arena, initialise it from init_rng, allocate every
 * workspace for (max_batch, max_T). Returns 0, or -1 with a message naming the bad field. */
int seqmodel_create(Model **out, const SeqModelConfig *cfg, Rng *init_rng, ExError *err);

/* Bytes the model will hold in training (parameters, gradients, two optimizer moments, every
 * workspace), estimated from the config before anything is allocated. */
double seqmodel_memory(const SeqModelConfig *cfg);

const SeqModelConfig *seqmodel_config(const Model *m);

/* What the last failing train_batch / eval_batch / sample call complained about. */
const char *seqmodel_last_error(const Model *m);

/* The head's outputs of the last train_batch / eval_batch (logits, or real-valued predictions
 * for squared error): (rows, n_out), rows = B with a last_step head (row b is batch row b), or
 * T·B time-major with a per_step head (row t·B + b). Valid until the next call; for
 * forecasting and plots, which need the predictions and not only the loss. */
const float *seqmodel_outputs(const Model *m, int *rows, int *n_out);

/* The vanishing-gradient diagnostic: for every step t, Σ over training batches since the last
 * reset of Σ_b ‖∂L/∂h_t[b]‖₂ in the top layer (the one the head reads), index t−1; *T gets the
 * longest T seen. The _layer form gives layer l. Divide by seqmodel_grad_norm_batches() for a
 * per-batch mean. */
const double *seqmodel_grad_norms(const Model *m, int *T);
const double *seqmodel_grad_norms_layer(const Model *m, int layer, int *T);
long seqmodel_grad_norm_batches(const Model *m);
void seqmodel_reset_grad_norms(Model *m);
/* Those running sums as one block, so that a checkpoint can carry them and a resumed run
 * reports the epoch it resumed in as if it never stopped: [T seen, batches, then layer l's
 * max_T sums for l = 0..L−1]. Returns the block's size; copies the sums out (set = 0) or in. */
size_t seqmodel_grad_norm_state(Model *m, double *block, int set);

/* Generate `length` tokens (batch 1) after feeding the `n_prime` ≥ 1 tokens of prime from the
 * initial state: each sampled token is fed back as the next input. Token i is drawn from
 * softmax(logits / temperature); temperature ≤ 0 takes the argmax. Needs token input, a
 * per-step head and softmax cross-entropy with n_out = vocab. Uses the workspaces (not the
 * carried states). Returns 0, or -1 (see seqmodel_last_error). */
int seqmodel_sample(Model *m, const int32_t *prime, int n_prime, int length, double temperature, Rng *rng,
                    int32_t *out);

#endif
