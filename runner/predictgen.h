/* predictgen.h — `exprun predict` for seq2seq and one_to_many (predictgen.c), beside the
 * sequence family's in predict.c.
 *
 * seq2seq: INPUT.h5 holds /tokens (N, Tx) integers — each row's tokens, then PAD (0) — or /text,
 * N strings of the task's characters (results.h5's /examples/input); each row is decoded
 * greedily (GO first, then the argmax fed back, up to the run's longest output). OUT.h5 gets
 * /y (N, Ty) int32 tokens (END = 2 from a row's first END on), /logits (N, Ty, V) the decoder's
 * z_t before the softmax at each of those steps, and /text, /y as characters ('$' = END).
 *
 * one_to_many: INPUT.h5 holds /classes (N) integers; OUT.h5 gets /y (N, T, d), each sequence
 * generated from its class with each output fed back as the next input, and /classes. */
#ifndef EXPRUN_PREDICTGEN_H
#define EXPRUN_PREDICTGEN_H

#include <stddef.h>

#include "error.h"
#include "h5doc.h"
#include "model.h"

enum { PREDICT_OK = 0, PREDICT_BAD_INPUT = 1, PREDICT_FAILED = 2 };

/* chars: the task's characters (rundata's token_chars), or NULL. Datasets into doc, one line
 * for the terminal into summary; returns PREDICT_*, with err set unless PREDICT_OK. */
int predict_seq2seq(Model *m, const char *chars, const char *input, H5Doc *doc, char *summary, size_t cap,
                    ExError *err);
int predict_onetomany(Model *m, const char *input, H5Doc *doc, char *summary, size_t cap, ExError *err);

#endif
