#include "sampling.h"

#include <stdlib.h>
#include <string.h>

int model_sample_text(Model *m, const Vocab *v, const char *prime, int length, double temperature,
                      Rng *rng, char *out, ExError *err) {
    if (!m->ops->sample) return ex_fail(err, "sampling needs a model that generates tokens (rnn, lstm or gru on text)");
    size_t n_prime = strlen(prime);
    const uint8_t *bytes = (const uint8_t *)prime;
    uint8_t fallback = v->id_of[' '] >= 0 ? ' ' : v->byte_of[0];
    if (n_prime == 0) { bytes = &fallback; n_prime = 1; }
    int32_t *ids = ex_malloc(n_prime * sizeof *ids), *gen = ex_malloc(((size_t)length + 1) * sizeof *gen);
    int unknown = v->id_of[' '] >= 0 ? v->id_of[' '] : 0;
    int rc = vocab_encode(v, bytes, n_prime, ids, unknown, "prime", err) < 0 ? -1 : 0;
    if (rc == 0) rc = m->ops->sample(m, ids, (int)n_prime, length, temperature, rng, gen, err);
    if (rc == 0) {
        vocab_decode(v, gen, (size_t)length, (uint8_t *)out);
        out[length] = '\0';
    }
    free(ids);
    free(gen);
    return rc;
}
