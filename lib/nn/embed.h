/* embed.h — token inputs for the recurrent layers: an embedding lookup, or a one-hot code.
 *
 * Embedding: a learned table W (V, E), row v is token v's vector:
 *   out[n] = W[tokens[n]]                     forward, a gather
 *   dW[tokens[n]] += dout[n]                  backward, a scatter-add (repeated tokens add up)
 * (PyTorch's nn.Embedding, initialised N(0, 1) the same way.)
 * One-hot: out[n] = e_{tokens[n]} ∈ {0,1}^V, no parameters; the first layer's W_x then holds
 * one column per token, which is an embedding of size H per gate in disguise.
 * Shape letters: N = number of tokens looked up (T·B), V = vocabulary, E = embedding size. */
#ifndef EXPRUN_EMBED_H
#define EXPRUN_EMBED_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* 0 if every token is in [0, V); else -1 and a message naming the first bad one. */
int embed_check_tokens(const int32_t *tokens, size_t n, int V, ExError *err);

/* out (N, E) = W (V, E) rows picked by tokens (N). Tokens must be in [0, V). */
void embed_forward(float *out, const int32_t *tokens, const float *W, int N, int E);
/* dW (V, E) += scatter of dout (N, E) by tokens. */
void embed_backward(float *dW, const float *dout, const int32_t *tokens, int N, int E);

/* out (N, V) = one-hot rows of tokens (N). */
void onehot_forward(float *out, const int32_t *tokens, int N, int V);

#endif
