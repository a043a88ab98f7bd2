#include "embed.h"

#include <string.h>

int embed_check_tokens(const int32_t *tokens, size_t n, int V, ExError *err) {
    for (size_t k = 0; k < n; k++)
        if (tokens[k] < 0 || tokens[k] >= V)
            return ex_fail(err, "embed.c: token %d at position %zu is outside the vocabulary [0, %d)",
                           (int)tokens[k], k, V);
    return 0;
}

void embed_forward(float *out, const int32_t *tokens, const float *W, int N, int E) {
    for (int n = 0; n < N; n++)
        memcpy(out + (size_t)n * E, W + (size_t)tokens[n] * E, (size_t)E * sizeof *out);
}

void embed_backward(float *dW, const float *dout, const int32_t *tokens, int N, int E) {
    for (int n = 0; n < N; n++) {
        float *row = dW + (size_t)tokens[n] * E;
        const float *d = dout + (size_t)n * E;
        for (int e = 0; e < E; e++) row[e] += d[e];
    }
}

void onehot_forward(float *out, const int32_t *tokens, int N, int V) {
    memset(out, 0, (size_t)N * V * sizeof *out);
    for (int n = 0; n < N; n++) out[(size_t)n * V + tokens[n]] = 1.0f;
}
