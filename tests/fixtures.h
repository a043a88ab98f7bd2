/* fixtures.h — the model configs and data files the tests start from.
 *
 * These are test fixtures, not defaults: a run's defaults live only in the spec schema
 * (lib/spec/schema.c). A test starts from one of these and sets what it checks; the recurrent
 * ones use the slides' variants (the lecture's RNN, Cho's GRU) so that those keep their
 * gradient checks, and one layer of 128 units. Token ids, vocabularies and sizes are left 0. */
#ifndef EXPRUN_TEST_FIXTURES_H
#define EXPRUN_TEST_FIXTURES_H

#include <stdint.h>

#include "rng.h"

#include "onetomany.h"
#include "seq2seq.h"
#include "seqmodel.h"

SeqModelConfig fixture_seqmodel(void);    /* lstm 128, lecture RNN form, Cho GRU, embedding, per-step softmax */
Seq2SeqConfig fixture_seq2seq(void);      /* gru 128 (pytorch variant), embed 32, no beam; tokens −1 */
OneToManyConfig fixture_onetomany(void);  /* lstm 128, binary cross-entropy */

/* IDX files of n images (rows × cols bytes) and their labels (0..classes−1): class k is a
 * bright band on rows k, k+classes, … over a dim noisy background (a fixed seed). 0, or -1. */
int fixture_write_idx(const char *images, const char *labels, int n, int rows, int cols, int classes);

/* An HDF5 data file as `data.source: hdf5` reads it: /x (n, d) floats and, unless labels is NULL,
 * /y (n) class ids. A file that cannot be written ends the test program (exit 1, with why). */
void fixture_write_h5(const char *path, const float *x, const int32_t *labels, int n, int d);


/* An HDF5 data file (as fixture_write_h5) of n × d values uniform in [0, 1) drawn from r. */
void fixture_write_uniform_h5(const char *path, int n, int d, Rng *r);

/* 120 IDX images of 8x8 unsigned bytes (magic 0x00000803, then n, rows, cols big-endian), each black
 * with a white 3x3 square at a place drawn from r: image data for `data.source: idx` (exit 1 when
 * the file cannot be written). */
void fixture_write_idx_squares(const char *path, Rng *r);

#endif
