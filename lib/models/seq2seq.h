/* seq2seq.h — the "seq2seq" model family: an encoder reads a sequence, its final state starts a
 * decoder that writes another one [Sutskever, Vinyals & Le 2014; Cho et al. 2014]. The lecture's
 * "sequence to sequence" shape: input and output lengths differ, and vary within a batch.
 *
 * Shape letters: B = batch, Tx = input steps, Ty = output steps, E = embedding size,
 * H = hidden units of a layer, V = output vocabulary.
 *
 *   encoder   x (B, Tx) tokens → embed_in (V_in, E) → L stacked cells (lstm | gru), zero h_0 (c_0);
 *             row b is read for its own length n_b only (its tokens before the first pad_token),
 *             so e^l_b = (h^l_{n_b}, c^l_{n_b}) is the state after its last real token
 *   decoder   the same cell type and sizes, layer l starting from e^l; its inputs are the
 *             targets shifted right behind GO (teacher forcing):
 *                 u_0 = GO,  u_t = y_{t−1}   (t ≥ 1)
 *             → embed_out (V_out, E) → L cells → head z_t = head/W · h^{L−1}_t + head/b (V_out)
 *   loss      softmax cross-entropy of z_t against y_t over every target step; y_t = −1 is
 *             padding: no loss, no gradient. Returned as the mean per target token (nats per
 *             output token). The END token marks the end of an output: a target row is
 *             y_0 … y_{m−1} END −1 … −1 (the −1s only after the last target).
 *
 * Masking, exactly: the decoder is causal, so padded steps after a row's END (no target) feed
 * nothing back into earlier steps, and their ∂L/∂z is 0. The encoder row b stops at n_b: its
 * state is taken at step n_b, and backward injects ∂L/∂e_b there — the encoder's backward runs
 * in spans between the distinct lengths of the batch, so ∂L/∂c_{n_b} enters at the right step
 * (the cells take ∂L/∂(final state) only at the end of a call). Steps after n_b receive no
 * gradient from row b, so pad tokens add exactly 0 to every gradient (tests check this).
 *
 * Evaluation: the loss and token accuracy with teacher forcing as in training, then greedy
 * decoding — u_0 = GO, u_t = argmax z_{t−1} fed back — for up to Ty steps (stopping once every
 * row has written END). Stats (summed over rows as model.h asks):
 *   accuracy              teacher-forced: share of target tokens whose argmax is right
 *   greedy_token_accuracy greedy: share of target positions t where out_t = y_t
 *   exact_match           greedy: share of rows whose output equals y_0 … END exactly
 * Beam search (seq2seq_beam) keeps the k most likely prefixes per step; the model's eval uses it
 * when beam_width > 1 (stat beam_exact_match).
 *
 * Parameters (views in the arena):
 *   embed_in/W   (V_in, E)           N(0, 1), as nn.Embedding
 *   enc_{cell}{l}/W, /b (, /b_hn)     the cell's layout (lstm.h, gru.h)
 *   embed_out/W  (V_out, E)          N(0, 1)
 *   dec_{cell}{l}/W, /b (, /b_hn)
 *   head/W (V_out, H_{L−1}), head/b (V_out)   as nn.Linear
 * Initialisation from the init stream in this order: embed_in, encoder cells, embed_out, decoder
 * cells, head — cells U(−1/√H, 1/√H) (the LSTM forget-gate bias set to forget_bias; optionally
 * gain · orthogonal recurrent blocks), head U(−1/√H, 1/√H).
 *
 * Workspaces for (max_batch, max_Tx, max_Ty) are allocated once; a step allocates nothing.
 * Errors in a batch make train_batch / eval_batch return NAN; seq2seq_last_error() says why. */
#ifndef EXPRUN_SEQ2SEQ_H
#define EXPRUN_SEQ2SEQ_H

#include <stdint.h>

#include "error.h"
#include "gru.h"
#include "model.h"
#include "rng.h"
#include "seqmodel.h"

typedef struct Seq2SeqConfig {
    CellType cell;                /* CELL_LSTM or CELL_GRU */
    GruVariant gru_variant;       /* CELL_GRU: GRU_CHO (slides) or GRU_PYTORCH */
    int num_layers;               /* 1..SEQ_MAX_LAYERS, in the encoder and in the decoder */
    int hidden[SEQ_MAX_LAYERS];   /* H of each layer (the same on both sides) */
    float forget_bias;            /* CELL_LSTM: initial b_f */
    int recurrent_orthogonal;     /* recurrent blocks: gain · orthogonal (init.h) */
    float recurrent_gain;
    int vocab_in, vocab_out;      /* token alphabets of x and of y (and the decoder's inputs) */
    int embed_dim;                /* E of both embeddings */
    int pad_token;                /* in [0, vocab_in): x pads its rows with it after the last token */
    int go_token;                 /* in [0, vocab_out): the decoder's first input */
    int end_token;                /* in [0, vocab_out): ends an output */
    int beam_width;               /* eval: ≥ 2 also decodes with beam search of this width */
    int max_batch, max_Tx, max_Ty;
} Seq2SeqConfig;

/* Bytes the model will hold in training, estimated from the config (seqmodel_memory). */
double seq2seq_memory(const Seq2SeqConfig *cfg);

/* Check the config, build and initialise the parameters from init_rng, allocate workspaces.
 * Returns 0, or -1 with a message naming the bad field. */
int seq2seq_create(Model **out, const Seq2SeqConfig *cfg, Rng *init_rng, ExError *err);

const Seq2SeqConfig *seq2seq_config(const Model *m);
const char *seq2seq_last_error(const Model *m);

/* Greedy decoding of B ≤ max_batch inputs x (B, Tx): out (B, max_len) gets the argmax tokens;
 * a row's tokens after its END are END. logits (B, max_len, vocab_out), or NULL: the decoder's
 * z_t at every step, the argmax's source (a finished row's decoder reads END from then on).
 * max_len ≤ max_Ty. Returns 0, or -1 (seq2seq_last_error). */
int seq2seq_greedy(Model *m, const int32_t *x, int B, int Tx, int max_len, int32_t *out, float *logits);

/* Beam search for one input x (1, Tx): keeps the `width` (1..max_batch) most likely prefixes by
 * Σ log p; a prefix that writes END is finished. Returns in out (max_len) the finished prefix of
 * highest Σ log p (or, if none finished within max_len steps, the best unfinished one), END
 * included, the rest END; *logp gets its Σ log p. width 1 is greedy decoding. */
int seq2seq_beam(Model *m, const int32_t *x, int Tx, int width, int max_len, int32_t *out, double *logp);

/* Σ log p(y | x) of a given output y (1, Ty) for one input (teacher forcing; −1 ends y). */
int seq2seq_score(Model *m, const int32_t *x, int Tx, const int32_t *y, int Ty, double *logp);

#endif
