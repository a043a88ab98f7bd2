/* init.h — weight initialisations beyond the uniform ones each layer uses by default.
 *
 * orthogonal (Saxe et al. 2014): W = gain · Q, Q from the QR decomposition of a matrix of
 * standard normal draws, with the signs of R's diagonal folded into Q so that Q is uniformly
 * distributed over orthogonal matrices. A recurrent matrix with all singular values equal to
 * gain neither shrinks nor grows h_{t−1} on its own: gain > 1 is the classic setting in which
 * gradients explode through time, the case gradient clipping exists for. */
#ifndef EXPRUN_INIT_H
#define EXPRUN_INIT_H

#include <stddef.h>

#include "error.h"
#include "rng.h"

/* x[0..n) drawn from U(−k, k): (2u − 1)·k with u = rng_uniform, in order — the default of every
 * recurrent cell (k = 1/√H, as PyTorch) and head. */
void init_uniform(float *x, size_t n, float k, Rng *rng);

/* Fill the n × n block at W (row stride ld) with gain · Q. */
int init_orthogonal(float *W, int n, int ld, double gain, Rng *rng, ExError *err);

#endif
