#include "rng.h"

#include <math.h>

/* SplitMix64 (Steele, Lea & Flood 2014): a good seed expander for xoshiro. */
static uint64_t splitmix64(uint64_t *x) {
    uint64_t z = (*x += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void rng_seed(Rng *rng, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) rng->s[i] = splitmix64(&x);
}

Rng rng_stream(uint64_t seed, const char *purpose) {
    /* FNV-1a of the purpose, mixed with the seed: a fixed, documented derivation. */
    uint64_t h = 0xCBF29CE484222325ULL;
    for (const char *p = purpose; *p; p++) h = (h ^ (uint8_t)*p) * 0x100000001B3ULL;
    Rng rng;
    rng_seed(&rng, seed ^ h);
    return rng;
}

uint64_t rng_next_u64(Rng *rng) {
    uint64_t *s = rng->s;
    const uint64_t result = rotl(s[1] * 5, 7) * 9;
    const uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

float rng_uniform(Rng *rng) { return (float)(rng_next_u64(rng) >> 40) * 0x1.0p-24f; }

double rng_uniform_double(Rng *rng) { return (double)(rng_next_u64(rng) >> 11) * 0x1.0p-53; }

uint64_t rng_below(Rng *rng, uint64_t n) {
    /* Lemire (2019): multiply-shift with rejection of the short interval. */
    unsigned __int128 m = (unsigned __int128)rng_next_u64(rng) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            m = (unsigned __int128)rng_next_u64(rng) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double rng_normal(Rng *rng) {
    /* Box–Muller: u1 in (0, 1] so that log(u1) is finite. */
    double u1 = 1.0 - rng_uniform_double(rng);
    double u2 = rng_uniform_double(rng);
    return sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
}

void rng_shuffle(Rng *rng, int32_t *idx, size_t n) {
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)rng_below(rng, i);
        int32_t tmp = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = tmp;
    }
}
