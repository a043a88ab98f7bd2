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

/* The largest class id a label may hold, in every reader: a softmax head has one row per class,
 * and a million is already a 10^8-parameter head at 128 units — a larger id is a mistake in the
 * data, not a class. */
#define DATA_MAX_CLASS_ID 1000000

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
/* A new dataset holding copies of rows[0..count) of src, in that order (rows == NULL: the first
 * count rows). Shapes, vocab, num_classes and image size carry over; `source` is copied. */
Dataset dataset_slice(const Dataset *src, const int32_t *rows, int count);

/* ---- scaling, fitted on training data and applied to the others ------------------------ */
typedef enum ScaleType { SCALE_NONE, SCALE_UNIT, SCALE_STANDARDIZE, SCALE_CENTER, SCALE_UNIT_CENTER } ScaleType;
typedef struct Scaler {
    ScaleType type;
    int d;
    float *shift;             /* (d): subtract */
    float *scale;             /* (d): then multiply */
} Scaler;
int scale_from_name(const char *name, ScaleType *t);
const char *scale_name(ScaleType t);
/* unit: x ← (x − min)/(max − min) over the whole training set (one min/max, so images keep
 * their contrast); standardize: per feature (x − μ)/σ (σ = 1 where σ = 0); center: x − μ;
 * unit_center: unit, then minus each feature's mean, i.e. (x − μ)/(max − min). */
void scaler_fit(Scaler *s, ScaleType type, const Dataset *train);
/* x ← (x − shift)·scale per feature; ds->d must equal s->d (the same source as the fit). */
void scaler_apply(const Scaler *s, Dataset *ds);
/* The same map on real targets y (n, Ty, dy), for forecasting where y is in the units of x
 * (dy must equal s->d); and its inverse on rows of d values, to report predictions in the
 * data's own units: v ← v / scale + shift. */
void scaler_apply_targets(const Scaler *s, Dataset *ds);
void scaler_invert(const Scaler *s, float *v, size_t rows);
void scaler_free(Scaler *s);
/* binarize: x ← x > threshold ? 1 : 0 */
void dataset_binarize(Dataset *ds, float threshold);

/* Split off a validation set: a seeded permutation, the last round(fraction·n) rows go to val.
 * Each part keeps the rows in their original relative order. */
void dataset_split(const Dataset *all, double val_fraction, Rng *rng, Dataset *train, Dataset *val);
/* dataset_split that moves `all` into `train` instead of copying it: the validation rows are
 * copied out, the training rows moved down in place, and `all` is left empty. The same two parts
 * as dataset_split, without a second copy of the set (Fashion-MNIST's 170 MB of training rows,
 * and their page faults, at every start). */
void dataset_split_moving(Dataset *all, double val_fraction, Rng *rng, Dataset *train, Dataset *val);
/* For time series: no shuffling, the last round(fraction·n) rows (the latest) go to val. */
void dataset_split_tail(const Dataset *all, double val_fraction, Dataset *train, Dataset *val);

/* ---- mini-batches --------------------------------------------------------------------------
 * A Batcher walks a permutation of the rows, reshuffled at every epoch from its own RNG stream.
 * Its whole position (epoch, cursor, RNG) is plain data, saved in checkpoints.
 * Data-parallel sharding: rank r of world w takes rows [r·m/w, (r+1)·m/w) of every global batch
 * of m rows (m = B except for a short last batch); set them with batcher_set_shard (0/1 for one
 * process). Every rank must use the same seed so that all walk the same permutation. A global
 * batch of fewer than w rows would leave some rank empty: every rank skips it.
 *
 * Epoch permutations: at batcher_begin_epoch the order is reset to 0..n−1 and shuffled with
 * rng; epoch_rng keeps rng as it was just before that shuffle, so (epoch, cursor, epoch_rng)
 * reproduce the whole position (batcher_get_state / batcher_set_state). */
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
    Rng epoch_rng;            /* rng as it was when the current epoch began */
} Batcher;

void batcher_init(Batcher *b, int n, int batch_size, int shuffle, int drop_last, Rng rng);
/* Batches per epoch. */
int batcher_batches_per_epoch(const Batcher *b);
/* Start an epoch (reshuffles). */
void batcher_begin_epoch(Batcher *b);
/* Next batch of row indices into rows (capacity batch_size); returns its size, 0 at epoch end.
 * Called before any batcher_begin_epoch, it begins the first epoch itself. With sharding it
 * returns this rank's share only. */
int batcher_next(Batcher *b, int32_t *rows);
void batcher_free(Batcher *b);
/* Data-parallel share: rank in [0, count), count ≤ batch_size. Returns 0 or -1 with a message. */
int batcher_set_shard(Batcher *b, int rank, int count, ExError *err);
/* The position as plain data for checkpoints: epochs begun, cursor within the epoch, and the
 * RNG state at the start of the current epoch. */
void batcher_get_state(const Batcher *b, int64_t *epoch, int *cursor, Rng *rng);
/* Restore a position saved by batcher_get_state into a batcher initialised with the same n,
 * batch size, shuffle and drop_last: re-derives the current epoch's permutation from rng.
 * Returns -1 (with a message) when cursor or epoch is out of range. */
int batcher_set_state(Batcher *b, int64_t epoch, int cursor, const Rng *rng, ExError *err);

/* Gather rows of ds into contiguous batch buffers (each may be NULL when ds lacks it):
 * x (B,T,d), x_tokens (B,T), labels (B), y (B,Ty,dy), y_tokens (B,Ty). */
void dataset_gather(const Dataset *ds, const int32_t *rows, int count, float *x, int32_t *x_tokens,
                    int32_t *labels, float *y, int32_t *y_tokens);

#endif
