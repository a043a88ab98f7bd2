/* tensor.h — float32 tensors: a buffer and its shape, row-major (last index fastest).
 *
 * Shape letters used across the library (as in llm.c):
 *   B = batch, T = time steps, I = input features, H = hidden units, O = output units
 * (in code: n_in, n_hidden, n_out — a plain `I` collides with <complex.h>, which cblas.h pulls in),
 *   V = vocabulary size, D = data dimension, K = code size. */
#ifndef EXPRUN_TENSOR_H
#define EXPRUN_TENSOR_H

#include <stddef.h>

#define TENSOR_MAX_RANK 4

typedef struct Tensor {
    float *data;                  /* owned unless created with tensor_view */
    int rank;
    int shape[TENSOR_MAX_RANK];
    size_t size;                  /* product of the shape */
} Tensor;

/* A zero-filled tensor of the given shape; free with tensor_free. */
Tensor tensor_zeros(int rank, const int *shape);
Tensor tensor_zeros2(int rows, int cols);
void tensor_free(Tensor *t);
size_t shape_size(int rank, const int *shape);
/* "784x64" into buf; returns buf. */
const char *shape_string(char *buf, size_t cap, int rank, const int *shape);

#endif
