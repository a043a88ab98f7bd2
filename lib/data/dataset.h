/* dataset.h — data in memory, and the mini-batches drawn from it.
 *
 * Every source (IDX, CSV, HDF5, text, generated tasks) loads into the same Dataset: n samples,
 * each T steps of d features (T = 1 for flat data such as images), with optional targets.
 * Shapes: x (n, T, d) floats, or x_tokens (n, T) token ids; labels (n); y (n, Ty, dy);
 * y_tokens (n, Ty) with −1 meaning "no target here" (padding).
 *
 * A long text for truncated BPTT is a TokenStream instead, cut into B parallel tracks so that
 * batch k continues batch k − 1 in every row (the hidden state carries across batches). */
#ifndef EXPRUN_DATASET_H
#define EXPRUN_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "rng.h"

typedef struct Dataset {
    char source[512];         /* file name or generator description, for messages */
    int n;                    /* samples */
    int T;                    /* steps per sample (1 for flat data) */
    int d;                    /* input features per step (0 when x_tokens is used) */
    float *x;                 /* (n, T, d) or NULL */
    int32_t *x_tokens;        /* (n, T) or NULL */
    int vocab;                /* size of the token alphabet for x_tokens/y_tokens, else 0 */
    int32_t *labels;          /* (n) class ids or NULL */
    int num_classes;
    int Ty, dy;               /* target steps and features per sample */
    float *y;                 /* (n, Ty, dy) real targets or NULL */
    int32_t *y_tokens;        /* (n, Ty) target tokens, −1 = none, or NULL */
    int image_rows, image_cols; /* for IDX images (28 x 28), else 0; used by plots */
} Dataset;

void dataset_free(Dataset *ds);
/* Move rows [from, from+count) of src into a new dataset (copies). */
Dataset dataset_slice(const Dataset *src, const int32_t *rows, int count);

/* ---- scaling, fitted on training data and applied to the others ------------------------ */
typedef enum ScaleType { SCALE_NONE, SCALE_UNIT, SCALE_STANDARDIZE, SCALE_CENTER } ScaleType;
typedef struct Scaler {
    ScaleType type;
    int d;
    float *shift;             /* (d): subtract */
    float *scale;             /* (d): then multiply */
} Scaler;
int scale_from_name(const char *name, ScaleType *t);
/* unit: x ← (x − min)/(max − min) over the whole training set (one min/max, so images keep
 * their contrast); standardize: per feature (x − μ)/σ (σ = 1 where σ = 0); center: x − μ. */
void scaler_fit(Scaler *s, ScaleType type, const Dataset *train);
void scaler_apply(const Scaler *s, Dataset *ds);
void scaler_free(Scaler *s);
/* binarize: x ← x > threshold ? 1 : 0 */
void dataset_binarize(Dataset *ds, float threshold);

/* Split off a validation set: a seeded permutation, the last round(fraction·n) rows go to val. */
void dataset_split(const Dataset *all, double val_fraction, Rng *rng, Dataset *train, Dataset *val);

/* ---- mini-batches --------------------------------------------------------------------------
 * A Batcher walks a permutation of the rows, reshuffled at every epoch from its own RNG stream.
 * Its whole position (epoch, cursor, RNG) is plain data, saved in checkpoints.
 * Data-parallel sharding: rank r of world w takes rows [r·B/w, (r+1)·B/w) of every global batch
 * (set shard_rank/shard_count; 0/1 for one process). */
typedef struct Batcher {
    int n;                    /* rows in the dataset */
    int batch_size;           /* global batch size B */
    int drop_last;            /* skip the final short batch */
    int shuffle;
    int shard_rank, shard_count;
    int32_t *order;           /* (n) current permutation */
    int64_t epoch;            /* epochs begun */
    int cursor;               /* next position in order */
    Rng rng;                  /* shuffling stream */
} Batcher;

void batcher_init(Batcher *b, int n, int batch_size, int shuffle, int drop_last, Rng rng);
/* Batches per epoch. */
int batcher_batches_per_epoch(const Batcher *b);
/* Start an epoch (reshuffles). */
void batcher_begin_epoch(Batcher *b);
/* Next batch of row indices into rows (capacity batch_size); returns its size, 0 at epoch end. */
int batcher_next(Batcher *b, int32_t *rows);
void batcher_free(Batcher *b);

/* Gather rows of ds into contiguous batch buffers (each may be NULL when ds lacks it):
 * x (B,T,d), x_tokens (B,T), labels (B), y (B,Ty,dy), y_tokens (B,Ty). */
void dataset_gather(const Dataset *ds, const int32_t *rows, int count, float *x, int32_t *x_tokens,
                    int32_t *labels, float *y, int32_t *y_tokens);

#endif
