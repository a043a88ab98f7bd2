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
typedef struct ModelOps {
    const char *family;                     /* "autoencoder", "sequence" */
    /* Forward and backward on one batch: += gradients into params.grad; returns the loss
     * (the objective being minimised, penalties included) averaged over the batch. */
    double (*train_batch)(Model *m, const Batch *b, Rng *noise_rng, StepStats *stats);
    /* Forward only, training-mode noise and dropout off; returns the loss averaged over the batch. */
    double (*eval_batch)(Model *m, const Batch *b, StepStats *stats);
    /* Print the model graph, shapes and parameter counts (for `exprun validate`). */
    void (*describe)(const Model *m, void (*emit)(void *ctx, const char *line), void *ctx);
    /* State carried from one batch to the next (truncated BPTT hidden states), so checkpoints
     * can save it; NULL / *n = 0 when the family carries none. May be NULL. */
    float *(*carried_state)(Model *m, size_t *n);
    void (*destroy)(Model *m);
} ModelOps;

struct Model {
    const ModelOps *ops;
    Params params;
    int max_batch;
    void *impl;                             /* the family's own struct */
};

/* Initialise weights from the spec's init stream (each family documents its scheme). */
void model_free(Model *m);

#endif
