/* rng.h — the project's own seeded random number generator.
 *
 * Generator: xoshiro256** 1.0 (Blackman & Vigna, 2018), 256 bits of state, period 2^256 − 1,
 * seeded through SplitMix64 as its authors recommend. Integer and uniform streams are defined
 * bit for bit by this file alone, so the same seed gives the same stream on every machine.
 * Normal variates use the Box–Muller transform on top of it (libm's log/sqrt/cos).
 *
 * Every consumer of randomness (initialisation, shuffling, input noise, dropout, data
 * generation, sampling) takes its own stream from the run seed with rng_stream(), so that
 * adding a use of randomness in one place does not change the numbers drawn in another. */
#ifndef EXPRUN_RNG_H
#define EXPRUN_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct Rng {
    uint64_t s[4];
} Rng;

/* Seed the generator: the four state words are successive SplitMix64 outputs of seed. */
void rng_seed(Rng *rng, uint64_t seed);

/* An independent stream for one purpose, e.g. rng_stream(seed, "shuffle"). */
Rng rng_stream(uint64_t seed, const char *purpose);

uint64_t rng_next_u64(Rng *rng);
/* Uniform in [0, 1) with 24 random bits (every float in the grid is equally likely). */
float rng_uniform(Rng *rng);
/* Uniform in [0, 1) with 53 random bits. */
double rng_uniform_double(Rng *rng);
/* Uniform integer in [0, n), without modulo bias (Lemire's method). n must be > 0. */
uint64_t rng_below(Rng *rng, uint64_t n);
/* Standard normal variate (Box–Muller, one value per call). */
double rng_normal(Rng *rng);
/* Fisher–Yates shuffle of idx[0..n). */
void rng_shuffle(Rng *rng, int32_t *idx, size_t n);

#endif
