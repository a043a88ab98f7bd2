/* batch.c — the Batcher: mini-batches of row indices over a per-epoch permutation.
 *
 * Epoch e's permutation is π_e = shuffle(0..n−1, rng as it was when epoch e began), so the whole
 * position is (epoch, cursor, epoch_rng): plain data a checkpoint saves and batcher_set_state
 * turns back into the same π_e and the same remaining batches.
 *
 * A global batch is order[cursor, cursor + m) with m = min(B, n − cursor); with sharding over w
 * ranks, rank r returns its contiguous share order[cursor + r·m/w, cursor + (r+1)·m/w). */
#include "dataset.h"

#include <stdlib.h>
#include <string.h>

void batcher_init(Batcher *b, int n, int batch_size, int shuffle, int drop_last, Rng rng) {
    memset(b, 0, sizeof *b);
    b->n = n;
    b->batch_size = batch_size;
    b->drop_last = drop_last;
    b->shuffle = shuffle;
    b->shard_rank = 0;
    b->shard_count = 1;
    b->order = ex_malloc((size_t)(n > 0 ? n : 1) * sizeof(int32_t));
    for (int i = 0; i < n; i++) b->order[i] = i;
    b->epoch = 0;
    b->cursor = 0;
    b->rng = rng;
    b->epoch_rng = rng;
}

int batcher_set_shard(Batcher *b, int rank, int count, ExError *err) {
    if (count < 1)
        return ex_fail(err, "data-parallel world size must be at least 1, got %d", count);
    if (rank < 0 || rank >= count)
        return ex_fail(err, "data-parallel rank %d is outside [0, %d)", rank, count);
    if (count > b->batch_size)
        return ex_fail(err,
                       "batch size %d cannot be shared by %d ranks (each rank needs at least one "
                       "row): raise the batch size or use fewer ranks",
                       b->batch_size, count);
    b->shard_rank = rank;
    b->shard_count = count;
    return 0;
}

/* Shard counts are validated by batcher_set_shard; a caller that wrote the fields directly
 * with nonsense gets one process's view rather than a division by zero. */
static int world(const Batcher *b) { return b->shard_count > 0 ? b->shard_count : 1; }

/* Whether a global batch of m rows is served: a full batch always; a short final one unless
 * drop_last, and only when every rank gets at least one row of it. */
static int batch_served(const Batcher *b, int m) {
    if (m <= 0) return 0;
    if (m < b->batch_size && b->drop_last) return 0;
    return m >= world(b);
}

int batcher_batches_per_epoch(const Batcher *b) {
    if (b->batch_size <= 0) return 0;
    int full = b->n / b->batch_size, rest = b->n % b->batch_size;
    return full + (batch_served(b, rest) ? 1 : 0);
}

/* π = shuffle(identity) drawn from rng; epoch_rng remembers rng before the draw. */
static void make_permutation(Batcher *b) {
    for (int i = 0; i < b->n; i++) b->order[i] = i;
    b->epoch_rng = b->rng;
    if (b->shuffle) rng_shuffle(&b->rng, b->order, (size_t)b->n);
}

void batcher_begin_epoch(Batcher *b) {
    make_permutation(b);
    b->epoch++;
    b->cursor = 0;
}

int batcher_next(Batcher *b, int32_t *rows) {
    if (b->epoch == 0) batcher_begin_epoch(b);
    int m = b->n - b->cursor;
    if (m > b->batch_size) m = b->batch_size;
    if (!batch_served(b, m)) {
        b->cursor = b->n;
        return 0;
    }
    int w = world(b), r = b->shard_rank;
    /* 64-bit products: r·m can exceed 2^31 for large batches and many ranks. */
    int lo = (int)((int64_t)r * m / w), hi = (int)((int64_t)(r + 1) * m / w);
    memcpy(rows, b->order + b->cursor + lo, (size_t)(hi - lo) * sizeof(int32_t));
    b->cursor += m;
    return hi - lo;
}

void batcher_get_state(const Batcher *b, int64_t *epoch, int *cursor, Rng *rng) {
    *epoch = b->epoch;
    *cursor = b->cursor;
    *rng = b->epoch_rng;
}

int batcher_set_state(Batcher *b, int64_t epoch, int cursor, const Rng *rng, ExError *err) {
    if (epoch < 0) return ex_fail(err, "batcher state: epoch %lld is negative", (long long)epoch);
    if (cursor < 0 || cursor > b->n)
        return ex_fail(err, "batcher state: cursor %d is outside [0, %d] (was it saved for a "
                            "dataset of a different size?)",
                       cursor, b->n);
    if (epoch == 0 && cursor != 0)
        return ex_fail(err, "batcher state: cursor %d before the first epoch began", cursor);
    b->rng = *rng;
    b->epoch_rng = *rng;
    b->epoch = epoch;
    if (epoch > 0) {
        make_permutation(b); /* advances b->rng exactly as the original shuffle did */
    } else {
        for (int i = 0; i < b->n; i++) b->order[i] = i;
    }
    b->cursor = cursor;
    return 0;
}

void batcher_free(Batcher *b) {
    if (!b) return;
    free(b->order);
    memset(b, 0, sizeof *b);
}
