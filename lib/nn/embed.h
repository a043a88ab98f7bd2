/* embed.h — token inputs for the recurrent layers: an embedding lookup, or a one-hot code.
 *
 * Embedding: a learned table W (V, E), row v is token v's vector:
 *   out[n] = W[tokens[n]]                     forward, a gather
 *   dW[tokens[n]] += dout[n]                  backward, a scatter-add (repeated tokens add up)
 * (PyTorch's nn.Embedding, initialised N(0, 1) the same way.)
 * One-hot: out[n] = e_{tokens[n]} ∈ {0,1}^V, no parameters; the first layer's W_x then holds
 * one column per token, which is an embedding of size H per gate in disguise.
 * Shape letters: N = number of tokens looked up (T·B), V = vocabulary, E = embedding size.
 *
 * Through the layer above (embed_grad_through): when the embedding feeds a layer whose input
 * side is a product, a_n = W_x x_n + … with W_x (K, E), then ∂L/∂x_n = ∂L/∂a_n · W_x and
 *   dW[v] += Σ_{n: tokens[n] = v} ∂L/∂a_n · W_x = (Σ_{n: tokens[n] = v} ∂L/∂a_n) · W_x,
 * so the gradients ∂L/∂a_n are first summed by token (one pass over them) and only the U
 * distinct tokens seen go through W_x: a (U, K) · (K, E) product instead of (N, K) · (K, E).
 * A character model's first recurrent layer (N = 2,048 rows, U ≤ 96 characters) then
 * multiplies 96 rows instead of 2,048. The same gradient up to the order of its sums. Forward
 * takes the same shortcut the other way: W_x x_n = (E · W_xᵀ)[tokens[n]] (recurrent.h's
 * recurrent_forward_embedded). */
#ifndef EXPRUN_EMBED_H
#define EXPRUN_EMBED_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "packgemm.h"

/* 0 if every token is in [0, V); else -1 and a message naming the first bad one. */
int embed_check_tokens(const int32_t *tokens, size_t n, int V, ExError *err);

/* out (N, E) = W (V, E) rows picked by tokens (N). Tokens must be in [0, V). */
void embed_forward(float *out, const int32_t *tokens, const float *W, int N, int E);
/* dW (V, E) += scatter of dout (N, E) by tokens. */
void embed_backward(float *dW, const float *dout, const int32_t *tokens, int N, int E);

/* The work area of embed_grad_through, for V tokens of E values under a layer of at most K
 * pre-activations, at most N rows a call. */
typedef struct EmbedGrad {
    int V, E, K, max_rows;      /* max_rows: of the sums, min(V, N) */
    int *slot;                  /* (V) a token's row of sums, or −1 */
    int32_t *seen;              /* (max_rows) the token of each row of sums, in order of first use */
    float *sums;                /* (max_rows, K) Σ ∂L/∂a_n by token */
    float *rows;                /* (max_rows, E) those sums · W_x */
    PackedMat ws;               /* W_x packed */
} EmbedGrad;

void embed_grad_alloc(EmbedGrad *g, int V, int E, int K, int N);
/* The floats (and ints, counted as floats) embed_grad_alloc takes. */
double embed_grad_floats(int V, int E, int K, int N);
void embed_grad_free(EmbedGrad *g);

/* dW (V, E) += Σ_n e_{tokens[n]} ⊗ (dA[n] · Wx) for n < N, dA (N, K) with row stride lda,
 * Wx (K, E) with row stride ldw: the embedding's gradient when its rows x_n fed a product
 * a_n = Wx x_n + … whose gradient is dA (above). Rows are summed in order n = 0..N−1, so the
 * result does not depend on the number of threads. */
void embed_grad_through(EmbedGrad *g, float *dW, const int32_t *tokens, int N, const float *dA, int lda, int K,
                        const float *Wx, int ldw);

/* out (N, V) = one-hot rows of tokens (N). */
void onehot_forward(float *out, const int32_t *tokens, int N, int V);

#endif
