/* text.h — character-level text: a byte vocabulary, token streams for truncated BPTT, and
 * fixed windows for full BPTT.
 *
 * Vocabulary: the distinct BYTES of the training text in increasing byte order, so that the
 * ids of a text depend on nothing but its set of bytes (multi-byte UTF-8 characters become
 * several tokens; the model learns to emit them in sequence). id_of[b] = −1 for a byte not in
 * the vocabulary.
 *
 * Truncated BPTT (Williams & Peng 1990; the char-rnn layout): the encoded text c[0..N) is cut
 * into B tracks of L = ⌊(N − 1)/B⌋ tokens, track b = c[b·L .. (b+1)·L) (the last N − 1 − B·L
 * tokens are dropped). Batch k of an epoch holds, for every track b and step t < T,
 *     x[b][t] = c[b·L + k·T + t]        y[b][t] = c[b·L + k·T + t + 1]
 * i.e. positions [k·T, (k+1)·T) of every track, so batch k continues batch k − 1 in every row
 * and the hidden state carried from one batch is the right start for the next. An epoch has
 * ⌊L/T⌋ batches (the last L mod T steps of each track are unused). */
#ifndef EXPRUN_TEXT_H
#define EXPRUN_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"
#include "error.h"

typedef struct Vocab {
    int size;
    int16_t id_of[256];      /* byte → id, −1 = not in the vocabulary */
    uint8_t byte_of[256];    /* id → byte, for id < size */
} Vocab;

/* Read a file's bytes (at most max_bytes of them; 0 = all). An empty file is an error. */
int text_load(const char *path, size_t max_bytes, uint8_t **bytes, size_t *len, ExError *err);

/* The vocabulary of a text: its distinct bytes, sorted. */
void vocab_build(Vocab *v, const uint8_t *bytes, size_t len);
/* Rebuild from byte_of[0..size) (as saved in a checkpoint): bytes must be distinct and increasing. */
int vocab_from_bytes(Vocab *v, const uint8_t *byte_of, int size, ExError *err);

/* Bytes → ids (len). A byte the vocabulary lacks (validation text with a character training
 * never saw): with unknown_id ≥ 0 it becomes unknown_id (a stand-in, e.g. the id of ' '); with
 * unknown_id = −1 it is an error naming the byte and its offset. Returns how many bytes were
 * replaced (≥ 0), or −1 on error. `source` names the text in messages. */
int vocab_encode(const Vocab *v, const uint8_t *bytes, size_t len, int32_t *ids, int unknown_id,
                 const char *source, ExError *err);
/* Ids → bytes (len); an id outside the vocabulary becomes '?'. */
void vocab_decode(const Vocab *v, const int32_t *ids, size_t len, uint8_t *bytes);

/* ---- token stream for truncated BPTT ------------------------------------------------------ */
typedef struct TokenStream {
    int32_t *tokens;         /* (len) the encoded text */
    size_t len;
    int vocab;
} TokenStream;

/* Encode a text into a stream (unknown_id as in vocab_encode). */
int stream_init(TokenStream *s, const Vocab *v, const uint8_t *bytes, size_t len, int unknown_id,
                const char *source, ExError *err);
void stream_free(TokenStream *s);
/* ⌊L/T⌋ with L = ⌊(len − 1)/B⌋; 0 when the text is too short for one batch. */
int64_t stream_batches_per_epoch(const TokenStream *s, int B, int T);
/* Error with a message when the stream cannot fill even one (B, T) batch. */
int stream_check(const TokenStream *s, int B, int T, const char *source, ExError *err);
/* Batch k (0 ≤ k < batches per epoch) into x_tokens (B, T) and y_tokens (B, T) (layout above).
 * Returns 0, or −1 when k is out of range. */
int stream_batch(const TokenStream *s, int B, int T, int64_t batch_index, int32_t *x_tokens,
                 int32_t *y_tokens);

/* ---- windows for shuffled full-BPTT training ---------------------------------------------
 * Window i starts at i·stride: x_tokens[i] = c[i·stride .. i·stride + T), y_tokens[i] = the
 * same shifted by one (next character at every step). n = ⌊(len − 1 − T)/stride⌋ + 1 windows;
 * out gets T = Ty = T, d = dy = 0, vocab = s->vocab. */
int text_windows(const TokenStream *s, int T, int stride, const char *source, Dataset *out, ExError *err);

#endif
