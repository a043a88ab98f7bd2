/* dense.h — the fully connected layer of the lecture, h = g(W x + b), on a batch of rows.
 *
 * Batched, with x as rows: out (B,O) = act(in (B,I) · Wᵀ + b), W stored (O,I) like PyTorch's
 * nn.Linear. For tied weights the decoder reuses the encoder's W as W* = Wᵀ: pass the encoder's
 * (O_enc, I_enc) = (I, O) matrix with transposed = 1, and the layer computes in · W instead.
 *
 * Backward takes dout = ∂L/∂out and
 *   - overwrites dout with ∂L/∂pre = dout ⊙ act'(out) (pass act = ACT_IDENTITY when the loss
 *     already gave ∂L/∂pre, as the fused sigmoid + cross-entropy does);
 *   - accumulates (+=) into dW and db (so tied weights sum both uses);
 *   - writes (=) ∂L/∂in into din unless din is NULL. */
#ifndef EXPRUN_DENSE_H
#define EXPRUN_DENSE_H

#include "act.h"

void dense_forward(float *out, const float *in, const float *W, const float *b, int B, int n_in,
                   int n_out, int transposed, Activation act);

void dense_backward(float *din, float *dW, float *db, float *dout, const float *out,
                    const float *in, const float *W, int B, int n_in, int n_out, int transposed,
                    Activation act);

#endif
