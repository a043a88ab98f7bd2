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
 *   - writes (=) ∂L/∂in into din unless din is NULL.
 *
 * Speed: the three products (forward in·Wᵀ, backward dpreᵀ·in and dpre·W) go through the packed
 * kernels of packgemm.h, which pack their right operand into a workspace sized once per model
 * (dense_work_alloc) — OpenBLAS would allocate and pack inside every call, and its Prescott
 * fallback is slow on CPUs it does not know. σ and tanh use the vectorised gatemath.h.
 * dense_forward_reference / dense_backward_reference are the plain loops (and act.h); tests
 * hold the two equal. */
#ifndef EXPRUN_DENSE_H
#define EXPRUN_DENSE_H

#include "act.h"
#include "packgemm.h"

/* Room to pack any operand of the layers it serves. */
typedef struct DenseWork {
    PackedMat pack;
} DenseWork;

/* Room for a layer n_in → n_out at up to max_B rows; call once per layer shape, or once with
 * the largest of each (dense_work_reserve grows the requirement, dense_work_alloc allocates). */
void dense_work_reserve(size_t *floats, int max_B, int n_in, int n_out);
void dense_work_alloc(DenseWork *w, size_t floats);
void dense_work_free(DenseWork *w);

void dense_forward(float *out, const float *in, const float *W, const float *b, int B, int n_in,
                   int n_out, int transposed, Activation act, DenseWork *ws);

/* dense_forward, then `after` on each block of out as soon as its bias and activation are on
 * (packgemm.h's epilogue: each thread on its own block while it is in its cache; a fused loss
 * uses it). Not with softmax, which needs whole rows. */
void dense_forward_then(float *out, const float *in, const float *W, const float *b, int B, int n_in,
                        int n_out, int transposed, Activation act, DenseWork *ws, const PkEpilogue *after);

void dense_backward(float *din, float *dW, float *db, float *dout, const float *out,
                    const float *in, const float *W, int B, int n_in, int n_out, int transposed,
                    Activation act, DenseWork *ws);

/* The bias gradient of columns [j0, j1): db[j] += Σ_r dpre[r, j] over rows 0..rows−1 in order
 * (dpre with row stride ld) — dense_backward's own sum, for a caller that has dpre in its cache
 * earlier (a fused loss); the same bits. */
void dense_bias_grad_cols(float *db, const float *dpre, int ld, int rows, int j0, int j1);

/* The plain reference: the sums written out, activations from act.h. Same arguments and
 * results (to rounding) without a workspace. */
void dense_forward_reference(float *out, const float *in, const float *W, const float *b, int B,
                             int n_in, int n_out, int transposed, Activation act);
void dense_backward_reference(float *din, float *dW, float *db, float *dout, const float *out,
                              const float *in, const float *W, int B, int n_in, int n_out,
                              int transposed, Activation act);

#endif
