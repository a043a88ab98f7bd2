/* rnn.h — the vanilla recurrent layer of the lecture, over T steps, with BPTT.
 *
 * Two forms, chosen by RnnForm:
 *
 *   RNN_LECTURE  the slide, symbol for symbol:
 *                  h_t = θ φ(h_{t−1}) + θ_x x_t          (no bias, as on the slide)
 *                  y_t = θ_y φ(h_t)                       (the head's job, not this layer's)
 *                so the layer hands a_t = φ(h_t) to the next layer / the head, and h_t is the
 *                state that is carried (h_0 is given, a_0 = φ(h_0)).
 *   RNN_ELMAN    the usual form (and PyTorch's nn.RNN):
 *                  h_t = φ(W h_{t−1} + U x_t + b)
 *                the layer's output is h_t itself.
 *
 * φ is any element-wise activation of act.h (tanh, relu, sigmoid, ...; not softmax).
 *
 * Parameter layout — one matrix W (H, H + n_in) whose first H columns act on the previous
 * state and the last n_in columns on the input, i.e. the slide's θ·φ(h_{t−1}) + θ_x·x_t as one
 * matrix times the concatenation [φ(h_{t−1}), x_t] (Elman: [W | U] times [h_{t−1}, x_t]):
 *   W[:, 0:H]        θ   (lecture)  /  W = weight_hh_l{k} of PyTorch's nn.RNN (Elman)
 *   W[:, H:H+n_in]   θ_x (lecture)  /  U = weight_ih_l{k}                     (Elman)
 *   b (H)            Elman only: bias_ih_l{k} + bias_hh_l{k}; the lecture form has no bias.
 * Both column blocks are used in place as strided BLAS operands (leading dimension H + n_in).
 *
 * Shapes are time-major, as in cuDNN and PyTorch's default: x (T, B, n_in), outputs (T, B, H),
 * so that each step's (B, H) block is contiguous and h_0..h_{T−1} is one (T·B, H) matrix.
 * Shape letters: B = batch, T = steps, H = hidden units, n_in = input features.
 *
 * Speed: the input projection of all steps is ONE GEMM (T·B, n_in)·θ_xᵀ; each step then adds
 * one recurrent product (B, H)·θᵀ against θ packed once (packgemm.h). Backward keeps ∂L/∂(pre-activation) of every step and does the
 * weight-gradient GEMMs once over all T·B rows. Nothing is allocated in forward or backward.
 * Threads: the Elman time loop is shared out by batch rows (or, for a small batch, each step by
 * hidden units; stepsplit.h); the lecture form's products are split by column panels.
 * Bit-identical for every thread count. */
#ifndef EXPRUN_RNN_H
#define EXPRUN_RNN_H

#include "act.h"
#include "packgemm.h"
#include "variants.h"   /* RnnForm */

/* What forward leaves for backward. Sized once for (max_B, max_T); used for any B ≤ max_B,
 * T ≤ max_T with the actual B as the row stride (slot t starts at t·B·H). */
typedef struct RnnCache {
    float *h;      /* (T+1, B, H) states; h[0] = h_0. Elman: h_t after φ; lecture: h_t before φ */
    float *a;      /* (T+1, B, H) lecture form only: a_t = φ(h_t), the layer's output; else NULL */
    PackedMat wh;  /* θᵀ (or Wᵀ) packed once per forward for the per-step product */
    PackedMat wx;  /* θ_xᵀ (or Uᵀ) for the input projection */
    float *block;  /* the single allocation */
} RnnCache;

/* Scratch for backward. */
typedef struct RnnWork {
    float *dpre;   /* (T, B, H) ∂L/∂(pre-activation) of every step: Elman ∂L/∂(W h + U x + b),
                      lecture ∂L/∂h_t (the state itself is the pre-activation) */
    float *dh;     /* (B, H) the gradient flowing back in time */
    double *sq;    /* (T, B, ⌈H/16⌉) Elman: squared norms of ∂L/∂h_t in chunks (stepsplit.h) */
    PackedMat wh;  /* θ (or W) packed once per backward */
    PackedMat wx;  /* θ_x (or U) for ∂L/∂x */
    PackedMat act; /* [states | x] packed for the weight gradients */
    float *block;
} RnnWork;

void rnn_cache_alloc(RnnCache *c, RnnForm form, int max_B, int max_T, int n_in, int H);
void rnn_cache_free(RnnCache *c);
void rnn_work_alloc(RnnWork *w, int max_B, int max_T, int n_in, int H);
void rnn_work_free(RnnWork *w);

/* The layer's output for the next layer or the head: (T, B, H) — h_1..h_T (Elman) or
 * φ(h_1)..φ(h_T) (lecture). */
const float *rnn_output(const RnnCache *c, RnnForm form, int B, int H);
/* The final state h_T (B, H), the one carried to the next batch. */
const float *rnn_final_state(const RnnCache *c, int B, int T, int H);

/* Forward over T steps.
 *   cache: out; x (T, B, n_in), or NULL when θ_x x is in the states' slots 1..T already; h0 (B, H) or NULL for zeros; W (H, H + n_in); b (H), ignored
 *   (may be NULL) for the lecture form. */
void rnn_forward(RnnCache *cache, const float *x, const float *h0, const float *W, const float *b,
                 RnnForm form, Activation act, int B, int T, int n_in, int H);

/* Backward through time.
 *   dx (T, B, n_in): written (=) unless NULL; dh0 (B, H): ∂L/∂h_0, written (=) unless NULL;
 *   dW (H, H + n_in), db (H): accumulated (+=); db ignored for the lecture form;
 *   dh_norms (T): if not NULL, dh_norms[t−1] += Σ_b ‖∂L/∂h_t[b]‖₂ — the total gradient that
 *   reaches the state h_t (from above and through time), the vanishing-gradient diagnostic;
 *   dout (T, B, H): ∂L/∂(layer output) at every step from above (zeros where nothing is above);
 *   dhT (B, H): ∂L/∂h_T from beyond the sequence, or NULL for none. */
void rnn_backward(float *dx, float *dh0, float *dW, float *db, double *dh_norms, RnnWork *work,
                  const float *dout, const float *dhT, const RnnCache *cache, const float *x,
                  const float *W, RnnForm form, Activation act, int B, int T, int n_in, int H);

/* The plain reference: per step, per unit, loops over [h_{t−1}, x_t] exactly as the equations
 * read, no BLAS. Same arguments and results as the fast pair; tests hold them equal. */
void rnn_forward_reference(RnnCache *cache, const float *x, const float *h0, const float *W,
                           const float *b, RnnForm form, Activation act, int B, int T, int n_in,
                           int H);
void rnn_backward_reference(float *dx, float *dh0, float *dW, float *db, double *dh_norms,
                            RnnWork *work, const float *dout, const float *dhT,
                            const RnnCache *cache, const float *x, const float *W, RnnForm form,
                            Activation act, int B, int T, int n_in, int H);

#endif
