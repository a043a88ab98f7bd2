/* lstm.h — the LSTM layer of the lecture over T steps, with BPTT [Hochreiter & Schmidhuber 1997].
 *
 * The slides, symbol for symbol (σ = logistic sigmoid, * = element-wise product):
 *   f_t = σ(W_f·[h_{t−1}, x_t] + b_f)        forget gate: scales the old memory (reset)
 *   i_t = σ(W_i·[h_{t−1}, x_t] + b_i)        input gate: scales what is written
 *   c̃_t = tanh(W_c·[h_{t−1}, x_t] + b_c)     new candidate values
 *   o_t = σ(W_o·[h_{t−1}, x_t] + b_o)        output gate: scales what is read
 *   c_t = f_t * c_{t−1} + i_t * c̃_t
 *   h_t = o_t * tanh(c_t)
 *
 * Parameter layout — the four W_• stacked into one W (4H, H + n_in), rows in PyTorch's gate
 * order i, f, g (= c̃), o, columns [h_{t−1} | x_t] as in the slide's concatenation:
 *   W[0:H, :] = W_i,  W[H:2H, :] = W_f,  W[2H:3H, :] = W_c,  W[3H:4H, :] = W_o
 *   b (4H) = [b_i, b_f, b_c, b_o]
 * Mapping to PyTorch's nn.LSTM layer k:
 *   W[:, 0:H]      = weight_hh_l{k}   (4H, H)
 *   W[:, H:H+n_in] = weight_ih_l{k}   (4H, n_in)
 *   b              = bias_ih_l{k} + bias_hh_l{k}
 * The two column blocks are used in place as strided BLAS operands (leading dimension H + n_in).
 *
 * Shapes are time-major: x (T, B, n_in), h and c (T+1, B, H) with slot 0 = the initial state.
 *
 * Speed (no allocation, no copy per step):
 *   forward:  Z = X (T·B, n_in) · W_xᵀ  for all steps in ONE GEMM (4H columns), then per step
 *             Z_t += h_{t−1} (B, H) · W_hᵀ against W_h packed once (packgemm.h) and one pass per row
 *             applies b, σ/tanh (vectorised, gatemath.h) and the cell update;
 *   backward: per step one fused loop gives ∂L/∂Z_t, and one product ∂L/∂Z_t · W_h (packed once)
 *             carries the gradient to h_{t−1}; the weight gradients are ONE GEMM over all
 *             T·B rows: [dW_h | dW_x] += dZᵀ [H_{0..T−1} | X],  db += Σ rows of dZ.
 *   All products go through packgemm.h (its AVX-512/AVX2 kernels, or OpenBLAS).
 *   Threads: the time loop is shared out by batch rows (one wake-up per loop) or, for a batch too
 *   small to split, each step by hidden units (stepsplit.h); results are bit-identical for every
 *   thread count. */
#ifndef EXPRUN_LSTM_H
#define EXPRUN_LSTM_H

#include "packgemm.h"

/* What forward leaves for backward, sized once for (max_B, max_T). */
typedef struct LstmCache {
    float *gates;  /* (T, B, 4H) activated gates i, f, g (= c̃), o of every step */
    float *c;      /* (T+1, B, H) memory cells; c[0] = c_0 */
    float *tc;     /* (T, B, H) tanh(c_t) */
    float *h;      /* (T+1, B, H) hidden states; h[0] = h_0, h[1..T] is the layer's output */
    PackedMat wh;  /* W_hᵀ packed once per forward for the per-step product (packgemm.h) */
    PackedMat wx;  /* W_xᵀ packed for the input projection */
    float *block;
} LstmCache;

/* Scratch for backward. */
typedef struct LstmWork {
    float *dgates; /* (T, B, 4H) ∂L/∂(gate pre-activations) of every step */
    float *dh;     /* (B, H) gradient flowing back to h_{t−1} */
    float *dc;     /* (B, H) gradient flowing back to c_{t−1} */
    double *sq;    /* (T, B, ⌈H/16⌉) squared norms of ∂L/∂h_t in chunks of units (stepsplit.h) */
    PackedMat wh;  /* W_h packed once per backward */
    PackedMat wx;  /* W_x packed for ∂L/∂x */
    PackedMat act; /* [h_{0..T−1} | x] packed for the weight gradients */
    float *block;
} LstmWork;

void lstm_cache_alloc(LstmCache *c, int max_B, int max_T, int n_in, int H);
void lstm_cache_free(LstmCache *c);
void lstm_work_alloc(LstmWork *w, int max_B, int max_T, int n_in, int H);
void lstm_work_free(LstmWork *w);

/* Output h_1..h_T (T, B, H) and the final states h_T, c_T (B, H). */
const float *lstm_output(const LstmCache *c, int B, int H);
const float *lstm_final_h(const LstmCache *c, int B, int T, int H);
const float *lstm_final_c(const LstmCache *c, int B, int T, int H);

/* Forward over T steps. x (T, B, n_in), or NULL when W_x x is in cache->gates already; h0, c0 (B, H) or NULL for zeros; W (4H, H + n_in); b (4H). */
void lstm_forward(LstmCache *cache, const float *x, const float *h0, const float *c0, const float *W,
                  const float *b, int B, int T, int n_in, int H);

/* Backward through time.
 *   dx (T, B, n_in), dh0 and dc0 (B, H): written (=) unless NULL;
 *   dW (4H, H + n_in), db (4H): accumulated (+=);
 *   dh_norms (T): if not NULL, dh_norms[t−1] += Σ_b ‖∂L/∂h_t[b]‖₂ (total gradient reaching h_t);
 *   dout (T, B, H): ∂L/∂h_t from above for every step (zeros where nothing is above);
 *   dhT, dcT (B, H): gradients into the final states from beyond the sequence, or NULL. */
void lstm_backward(float *dx, float *dh0, float *dc0, float *dW, float *db, double *dh_norms,
                   LstmWork *work, const float *dout, const float *dhT, const float *dcT,
                   const LstmCache *cache, const float *x, const float *W, int B, int T, int n_in,
                   int H);

/* The plain reference: the slide's equations per step, per unit, with the concatenation
 * [h_{t−1}, x_t] spelled out and no BLAS. Same arguments and results; tests hold them equal. */
void lstm_forward_reference(LstmCache *cache, const float *x, const float *h0, const float *c0,
                            const float *W, const float *b, int B, int T, int n_in, int H);
void lstm_backward_reference(float *dx, float *dh0, float *dc0, float *dW, float *db,
                             double *dh_norms, LstmWork *work, const float *dout, const float *dhT,
                             const float *dcT, const LstmCache *cache, const float *x,
                             const float *W, int B, int T, int n_in, int H);

#endif
