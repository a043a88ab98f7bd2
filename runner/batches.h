/* batches.h — where the loop's batches come from, whatever the data: a BatchSource.
 *
 * Two kinds of data sit behind one interface, so that the training loop, the evaluations and
 * the checkpoint never ask which one they hold:
 * - rows of a Dataset (images, tabular rows, sequences, text windows for full BPTT): for
 *   training a Batcher's walk, reshuffled every epoch; for evaluation the rows in order;
 * - a TokenStream for truncated BPTT: B parallel tracks of one text, batch k continuing batch
 *   k − 1 in every row (Batch.carry_state, so the hidden state carries), the same walk every
 *   epoch.
 * A source owns its batch buffers, sized once for its largest batch. */
#ifndef EXPRUN_BATCHES_H
#define EXPRUN_BATCHES_H

#include <stddef.h>
#include <stdint.h>

#include "data/dataset.h"
#include "data/text.h"
#include "error.h"
#include "model.h"
#include "rng.h"

/* Where a source stands, as a checkpoint keeps it: the epochs the data walk has begun, the next
 * row within the epoch and the shuffling RNG as it was when the epoch began (dataset.h). A token
 * stream has no walk to keep: all zeros (the batch within the epoch says where it stands). */
typedef struct BatchPosition {
    int64_t data_epoch;
    int64_t cursor;
    Rng rng;
} BatchPosition;

typedef struct BatchSource {
    const char *name;           /* the data's file or description, for messages */
    const Dataset *ds;          /* rows of a dataset, or */
    const TokenStream *stream;  /* the tracks of a token stream */
    int B;                      /* rows per batch */
    int T;                      /* a stream's steps per batch (its window) */
    int walks;                  /* training on rows: the Batcher's walk of ds, not the rows in order */
    Batcher batcher;
    int64_t batches;            /* per epoch */
    int64_t next;               /* the next batch of the epoch (streams and ordered rows) */
    int32_t *rows;              /* buffers of one batch */
    float *x, *y;
    int32_t *x_tokens, *y_tokens, *labels;
} BatchSource;

/* Training batches of B rows: a Batcher's walk of ds (shuffle, drop_last, its own RNG stream), or
 * B tracks of a stream cut into windows of T steps (ds == NULL). Fails, with a message naming the
 * data, when not even one batch fits. */
int batches_for_training(BatchSource *s, const Dataset *ds, const TokenStream *stream, int B, int T,
                         int shuffle, int drop_last, Rng rng, const char *name, ExError *err);
/* Every row of a split once, in order, in batches of at most B rows: the rows of ds, or the
 * tracks of a stream (ds == NULL; B halved until one batch of T steps fits). A split with no
 * data gives no batches. */
void batches_for_evaluation(BatchSource *s, const Dataset *ds, const TokenStream *stream, int B, int T);
void batches_free(BatchSource *s);

/* Batches in one epoch. */
int64_t batches_per_epoch(const BatchSource *s);
/* Time steps in one row of input: the stream's window, or the dataset's sequence length. */
int batches_steps_per_row(const BatchSource *s);
/* Start an epoch: reshuffle, or go back to the first batch. */
void batches_begin_epoch(BatchSource *s);
/* The next batch of the epoch into *b (pointing into the source's buffers); returns its rows,
 * 0 when the epoch has none left. */
int batches_next(BatchSource *s, Batch *b);

/* The position to save in a checkpoint, and its restoring into a source made the same way, with
 * `batch` batches of the epoch done. */
void batches_get_position(const BatchSource *s, BatchPosition *pos);
int batches_set_position(BatchSource *s, const BatchPosition *pos, int64_t batch, ExError *err);
/* Whether a saved position is where this source stands after `batch` batches of epoch `epoch`
 * (epochs completed): "" when it is, else why not (a checkpoint that does not fit its spec). */
void batches_check_position(const BatchSource *s, const BatchPosition *pos, int64_t epoch, int64_t batch,
                            char *why, size_t cap);

#endif
