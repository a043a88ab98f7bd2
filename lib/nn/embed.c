#include "embed.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gatemath.h"
#include "parallel.h"

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

void embed_grad_alloc(EmbedGrad *g, int V, int E, int K, int N) {
    memset(g, 0, sizeof *g);
    g->V = V, g->E = E, g->K = K, g->max_rows = V < N ? V : N;
    g->slot = ex_malloc((size_t)V * sizeof *g->slot);
    for (int v = 0; v < V; v++) g->slot[v] = -1;
    g->seen = ex_calloc((size_t)g->max_rows, sizeof *g->seen);
    g->sums = ex_calloc((size_t)g->max_rows * K, sizeof *g->sums);
    g->rows = ex_calloc((size_t)g->max_rows * E, sizeof *g->rows);
    packed_alloc(&g->ws, K, E);
}

double embed_grad_floats(int V, int E, int K, int N) {
    double rows = V < N ? V : N;
    return V + rows * (1.0 + K + E) + (double)K * E;
}

void embed_grad_free(EmbedGrad *g) {
    free(g->slot), free(g->seen), free(g->sums), free(g->rows);
    packed_free(&g->ws);
    memset(g, 0, sizeof *g);
}

typedef struct TokenSums {
    EmbedGrad *g;
    const int32_t *tokens;
    const float *dA;
    int N, lda, K, used;
} TokenSums;

/* Columns [k0, k1) of every token's sum, the rows added in order: a part's columns are its
 * own, so the sums do not depend on the split. Without restrict GCC left the add scalar
 * (gru_h256, one thread: 0.96 against 0.86 ms a step for the whole of embed_grad_through);
 * the clones (gatemath.h) give it AVX-512 where the CPU has it. */
GM_CLONES static void token_sums_part(void *ctx, int part, int parts) {
    const TokenSums *ts = ctx;
    EmbedGrad *g = ts->g;
    int k0, k1;
    par_range(ts->K, part, parts, 16, &k0, &k1);
    if (k0 >= k1) return;
    size_t width = (size_t)(k1 - k0) * sizeof(float);
    for (int u = 0; u < ts->used; u++) memset(g->sums + (size_t)u * ts->K + k0, 0, width);
    for (int n = 0; n < ts->N; n++) {
        float *restrict sum = g->sums + (size_t)g->slot[ts->tokens[n]] * ts->K;
        const float *restrict d = ts->dA + (size_t)n * ts->lda;
        for (int k = k0; k < k1; k++) sum[k] += d[k];
    }
}

void embed_grad_through(EmbedGrad *g, float *dW, const int32_t *tokens, int N, const float *dA, int lda, int K,
                        const float *Wx, int ldw) {
    if (K > g->K) {
        fprintf(stderr, "exprun: internal error: embed_grad_through for %d pre-activations, room for %d\n", K, g->K);
        exit(3);
    }
    /* at most max_rows tokens per call; a longer call goes in pieces (each piece its own sums) */
    for (int n0 = 0; n0 < N;) {
        int used = 0, n1 = n0;
        for (; n1 < N; n1++) {
            int v = tokens[n1];
            if (g->slot[v] >= 0) continue;
            if (used == g->max_rows) break;
            g->slot[v] = used, g->seen[used++] = v;
        }
        TokenSums ts = {g, tokens + n0, dA + (size_t)n0 * lda, n1 - n0, lda, K, used};
        par_run(token_sums_part, &ts, par_parts_for(2.0 * (n1 - n0) * (double)K, K / 16));
        /* the seen tokens' rows of ∂L/∂x summed: (used, K) · Wx (K, E) */
        pk_gemm_nn(g->rows, g->E, g->sums, K, Wx, ldw, used, g->E, K, 0.0f, &g->ws);
        for (int u = 0; u < used; u++) {
            float *row = dW + (size_t)g->seen[u] * g->E;
            const float *d = g->rows + (size_t)u * g->E;
            for (int e = 0; e < g->E; e++) row[e] += d[e];
            g->slot[g->seen[u]] = -1;
        }
        n0 = n1;
    }
}

void onehot_forward(float *out, const int32_t *tokens, int N, int V) {
    memset(out, 0, (size_t)N * V * sizeof *out);
    for (int n = 0; n < N; n++) out[(size_t)n * V + tokens[n]] = 1.0f;
}
