/* batches.c — a BatchSource over the rows of a dataset or the tracks of a token stream
 * (batches.h). */
#include "batches.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The buffers of one batch of B rows of ds, or of a stream's (B, T) windows. */
static void alloc_buffers(BatchSource *s) {
    size_t B = (size_t)s->B;
    s->rows = calloc(B, sizeof *s->rows);
    if (s->stream) {
        s->x_tokens = calloc(B * s->T, sizeof *s->x_tokens);
        s->y_tokens = calloc(B * s->T, sizeof *s->y_tokens);
        return;
    }
    const Dataset *ds = s->ds;
    if (ds->x) s->x = calloc(B * ds->T * ds->d, sizeof *s->x);
    if (ds->x_tokens) s->x_tokens = calloc(B * ds->T, sizeof *s->x_tokens);
    if (ds->labels) s->labels = calloc(B, sizeof *s->labels);
    if (ds->y) s->y = calloc(B * ds->Ty * ds->dy, sizeof *s->y);
    if (ds->y_tokens) s->y_tokens = calloc(B * ds->Ty, sizeof *s->y_tokens);
}

int batches_for_training(BatchSource *s, const Dataset *ds, const TokenStream *stream, int B, int T,
                         int shuffle, int drop_last, Rng rng, const char *name, ExError *err) {
    memset(s, 0, sizeof *s);
    s->name = name;
    s->B = B;
    if (ds) {
        if (ds->n == 0) return ex_fail(err, "%s: no training examples", name);
        s->ds = ds;
        batcher_init(&s->batcher, ds->n, B, shuffle, drop_last, rng);
        s->walks = 1;
        s->batches = batcher_batches_per_epoch(&s->batcher);
    } else {
        s->stream = stream;
        s->T = T;
        s->batches = stream_batches_per_epoch(stream, B, T);
    }
    alloc_buffers(s);
    if (s->batches <= 0)
        return ex_fail(err, "%s: too little data for one batch of %d (train.batch_size%s)", name, B,
                       drop_last && ds ? ", with train.drop_last: true" : "");
    return 0;
}

void batches_for_evaluation(BatchSource *s, const Dataset *ds, const TokenStream *stream, int B, int T) {
    memset(s, 0, sizeof *s);
    s->B = B;
    if (ds) {
        s->ds = ds;
        s->name = ds->source;
        s->batches = ((int64_t)ds->n + B - 1) / B;
    } else {
        s->stream = stream;
        s->T = T;
        if (stream->len > 0) {
            while (s->B > 1 && stream_batches_per_epoch(stream, s->B, T) == 0) s->B /= 2;
            s->batches = stream_batches_per_epoch(stream, s->B, T);
        }
    }
    alloc_buffers(s);
}

void batches_free(BatchSource *s) {
    if (s->walks) batcher_free(&s->batcher);
    free(s->rows);
    free(s->x);
    free(s->y);
    free(s->x_tokens);
    free(s->y_tokens);
    free(s->labels);
    memset(s, 0, sizeof *s);
}

int64_t batches_per_epoch(const BatchSource *s) { return s->batches; }

int batches_steps_per_row(const BatchSource *s) { return s->stream ? s->T : s->ds->T; }

void batches_begin_epoch(BatchSource *s) {
    if (s->walks) batcher_begin_epoch(&s->batcher);
    s->next = 0;
}

/* Rows `rows` of the dataset as the model sees them. */
static Batch dataset_batch(BatchSource *s, int count) {
    const Dataset *ds = s->ds;
    dataset_gather(ds, s->rows, count, s->x, s->x_tokens, s->labels, s->y, s->y_tokens);
    Batch b = {0};
    b.B = count;
    b.T = ds->T;
    b.d = ds->d;
    b.x = s->x;
    b.x_tokens = s->x_tokens;
    b.labels = s->labels;
    b.Ty = ds->Ty;
    b.dy = ds->dy;
    b.y = s->y;
    b.y_tokens = s->y_tokens;
    return b;
}

int batches_next(BatchSource *s, Batch *b) {
    if (s->stream) {
        /* batch k: row r continues row r of batch k − 1, so the hidden state carries */
        if (s->next >= s->batches) return 0;
        stream_batch(s->stream, s->B, s->T, s->next, s->x_tokens, s->y_tokens);
        memset(b, 0, sizeof *b);
        b->B = s->B;
        b->T = b->Ty = s->T;
        b->x_tokens = s->x_tokens;
        b->y_tokens = s->y_tokens;
        b->carry_state = s->next > 0;
        s->next++;
        return b->B;
    }
    int count;
    if (s->walks) {
        count = batcher_next(&s->batcher, s->rows);
    } else {
        int64_t start = s->next * s->B;
        count = start >= s->ds->n ? 0 : s->ds->n - start < s->B ? (int)(s->ds->n - start) : s->B;
        for (int i = 0; i < count; i++) s->rows[i] = (int32_t)(start + i);
    }
    if (count == 0) return 0;
    s->next++;
    *b = dataset_batch(s, count);
    return count;
}

void batches_get_position(const BatchSource *s, BatchPosition *pos) {
    memset(pos, 0, sizeof *pos);
    if (s->walks) {
        int cursor = 0;
        batcher_get_state(&s->batcher, &pos->data_epoch, &cursor, &pos->rng);
        pos->cursor = cursor;
    }
}

int batches_set_position(BatchSource *s, const BatchPosition *pos, int64_t batch, ExError *err) {
    s->next = batch;
    if (s->walks) return batcher_set_state(&s->batcher, pos->data_epoch, (int)pos->cursor, &pos->rng, err);
    return 0;
}

void batches_check_position(const BatchSource *s, const BatchPosition *pos, int64_t epoch, int64_t batch,
                            char *why, size_t cap) {
    why[0] = '\0';
    if (!s->walks) return;
    const int64_t n = s->ds->n, B = s->B, cursor = pos->cursor, data_epoch = pos->data_epoch;
    const int64_t want_cursor = batch * B < n ? batch * B : n;
    if (!(pos->rng.s[0] | pos->rng.s[1] | pos->rng.s[2] | pos->rng.s[3]))
        snprintf(why, cap, "a random number generator's state is all zeros, which xoshiro256** never reaches");
    else if (batch > 0 && (data_epoch != epoch + 1 || cursor != want_cursor))
        snprintf(why, cap,
                 "the data position (epoch %lld, row %lld) is not where batch %lld of epoch %lld puts it (epoch "
                 "%lld, row %lld)",
                 (long long)data_epoch, (long long)cursor, (long long)batch, (long long)epoch + 1,
                 (long long)epoch + 1, (long long)want_cursor);
    else if (batch == 0 && (data_epoch != epoch || cursor < 0 || cursor > n))
        snprintf(why, cap, "the data position (epoch %lld, row %lld) is not the end of epoch %lld",
                 (long long)data_epoch, (long long)cursor, (long long)epoch);
}
