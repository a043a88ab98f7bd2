/* model.h — what the training loop needs from any model family.
 *
 * A model owns its parameters (one arena, see params.h) and workspaces sized once from the spec
 * for the largest batch, so that a training step allocates nothing. The families:
 *   autoencoder.c   h = g(W x + b), x̂ = f(W* h + c), deep, tied or untied
 *   seqmodel.c      embedding/one-hot/features → stacked rnn|lstm|gru → dense head
 * Data flows one way: the loop gathers a Batch, the model runs forward and backward on it and
 * accumulates gradients into params.grad; the loop then clips and calls the optimizer. */
#ifndef EXPRUN_MODEL_H
#define EXPRUN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "params.h"
#include "rng.h"

/* One mini-batch, contiguous, gathered by the loop (fields NULL when the data lacks them). */
typedef struct Batch {
    int B;                    /* rows in this batch (≤ the model's max batch) */
    int T, d;                 /* steps and features per step of x */
    const float *x;           /* (B, T, d) */
    const int32_t *x_tokens;  /* (B, T) */
    const int32_t *labels;    /* (B) */
    int Ty, dy;
    const float *y;           /* (B, Ty, dy) */
    const int32_t *y_tokens;  /* (B, Ty), −1 = no target */
    int carry_state;          /* truncated BPTT: start from the state the previous batch left */
} Batch;

/* Extra numbers a step reports beside the loss (summed over the batch, averaged by the loop). */
#define MODEL_MAX_STATS 8
typedef struct StepStats {
    int count;
    const char *names[MODEL_MAX_STATS];   /* e.g. "penalty", "accuracy" (static strings) */
    double values[MODEL_MAX_STATS];       /* weighted by the batch's rows */
} StepStats;

void stats_add(StepStats *s, const char *name, double value);

/* Rows [r0, r1) of a batch: the same arrays, offset (a data-parallel rank's share, dist.h). */
Batch batch_rows(const Batch *b, int r0, int r1);

typedef struct Model Model;
struct H5Doc;
struct Dataset;

/* What a family's own results may draw on (ModelOps.write_results). */
typedef struct ResultsInput {
    const struct Dataset *test;             /* the test split (n = 0 when there is none) */
    const char *token_chars;                /* the text of token ids (generated tasks), or NULL */
} ResultsInput;

/* A model with a code layer h (the autoencoders): `exprun encode`, the evaluations after
 * training (PCA, k-means, anomaly scores) and the reconstructions `exprun plot` draws. */
typedef struct CodeOps {
    int (*code_size)(const Model *m);       /* K = dim(h) */
    int (*input_size)(const Model *m);      /* values per example */
    /* For B ≤ max_batch rows of x: codes (B, K), reconstructions (B, input_size) and each row's
     * loss alone (B); any output may be NULL. */
    void (*encode)(Model *m, const float *x, int B, float *codes, float *recon, double *row_loss);
    /* When x̂ − c = W* h is linear in h (shallow, f = identity): the decoder's column space as K
     * rows of input_size (malloc'ed, the caller frees); NULL otherwise. */
    double *(*linear_decoder_columns)(const Model *m);
} CodeOps;

/* Every hook but the first five may be NULL: the family lacks that capability, and the runner
 * asks the hook, never the family's name. */
typedef struct ModelOps {
    const char *family;                     /* "autoencoder", "sequence", "seq2seq", "one_to_many" */
    /* Forward and backward on one batch: += gradients into params.grad; returns the loss
     * (the objective being minimised, penalties included) averaged over the batch. */
    double (*train_batch)(Model *m, const Batch *b, Rng *noise_rng, StepStats *stats);
    /* Forward only, training-mode noise and dropout off; returns the loss averaged over the batch.
     * It leaves alone what train_batch carries from batch to batch (truncated BPTT's states): the
     * runner evaluates in the middle of epochs (train.eval_every). */
    double (*eval_batch)(Model *m, const Batch *b, StepStats *stats);
    /* Print the model graph, shapes and parameter counts (for `exprun validate`). */
    void (*describe)(const Model *m, void (*emit)(void *ctx, const char *line), void *ctx);
    void (*destroy)(Model *m);
    /* Why the last batch returned NAN (a bad token id, a shape), or "". */
    const char *(*last_error)(const Model *m);
    /* The names of the statistics eval_batch reports beside the loss (StepStats), in its order:
     * how many, at most cap into names. The metrics' val_<name> columns; a monitor
     * (train.early_stopping.monitor) is checked against them before training starts. */
    int (*eval_stat_names)(const Model *m, const char **names, int cap);
    /* What the loss the batch functions return is, in words and units, for the metrics' own
     * descriptions: e.g. "binary cross-entropy summed over the 784 values of an example, averaged
     * over the examples". */
    void (*describe_loss)(const Model *m, char *buf, size_t cap);
    /* State carried from one batch to the next (truncated BPTT hidden states), so checkpoints
     * can save it; NULL / *n = 0 when the family carries none. */
    float *(*carried_state)(Model *m, size_t *n);

    /* Throughput: a row of a batch holds steps_per_row(T, Ty) of `unit` (e.g. "tokens": the
     * metrics column tokens_per_sec, printed as "tok/s"). NULL: rows are the unit (samples). */
    const char *unit, *unit_short;
    int (*steps_per_row)(const Model *m, int T, int Ty);

    /* The ‖∂L/∂h_t‖ diagnostic: per-step sums since the last reset (*T steps), the reset, and
     * the sums as one block for checkpoints (block NULL: its length; set: restore from it). */
    const double *(*time_grad_norms)(const Model *m, int *T);
    void (*reset_time_grad_norms)(Model *m);
    size_t (*time_grad_state)(Model *m, double *block, int set);

    /* Generation: `length` tokens after the prime's n_prime ≥ 1, at temperature τ. */
    int (*sample)(Model *m, const int32_t *prime, int n_prime, int length, double temperature, Rng *rng,
                  int32_t *out, ExError *err);
    /* The outputs of the last eval_batch, (rows, n_out) (forecasting reads them). */
    const float *(*outputs)(const Model *m, int *rows, int *n_out);
    /* The family's own group in results.h5 (e.g. /examples, /generated); results_group names it. */
    const char *results_group;
    int (*write_results)(Model *m, const ResultsInput *in, struct H5Doc *doc, ExError *err);
    const CodeOps *codes;                   /* NULL: no code layer */
} ModelOps;

struct Model {
    const ModelOps *ops;
    Params params;
    int max_batch;
    void *impl;                             /* the family's own struct */
};

void model_free(Model *m);

/* The optional hooks, asked safely: 0 / NULL / no-op when the family lacks them. */
const double *model_time_grad_norms(const Model *m, int *T);
void model_reset_time_grad_norms(Model *m);
size_t model_time_grad_state(Model *m, double *block, int set);
float *model_carried_state(Model *m, size_t *n);
/* Steps of the throughput unit in one row (1 when rows are the unit). */
int model_steps_per_row(const Model *m, int T, int Ty);
/* The loss in words (ModelOps.describe_loss), or "the loss" when the family does not say. */
void model_describe_loss(const Model *m, char *buf, size_t cap);
/* eval_batch's statistics' names (0 when the family reports none). */
int model_eval_stat_names(const Model *m, const char **names, int cap);

#endif
