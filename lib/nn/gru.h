/* gru.h — the Gated Recurrent Unit [Cho et al. 2014] over T steps, with BPTT.
 *
 * The slide ("combine the forget and input gates into a single update gate, merge the memory
 * cell and the hidden state"), with biases added:
 *   z_t = σ(W_z·[h_{t−1}, x_t] + b_z)                update gate
 *   r_t = σ(W_r·[h_{t−1}, x_t] + b_r)                reset gate
 *   h̃_t = tanh(W·[r_t * h_{t−1}, x_t] + b)           candidate
 *   h_t = (1 − z_t) * h_{t−1} + z_t * h̃_t
 *
 * Two variants (GruVariant):
 *   GRU_CHO      exactly the slide above: the reset gate multiplies h_{t−1} BEFORE the matrix
 *                product, and z_t is the share of the NEW candidate.
 *   GRU_PYTORCH  PyTorch's nn.GRU (and cuDNN's):
 *                  r_t = σ(W_ir x_t + W_hr h_{t−1} + b_r)
 *                  z_t = σ(W_iz x_t + W_hz h_{t−1} + b_z)
 *                  n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t−1} + b_hn))
 *                  h_t = (1 − z_t) * n_t + z_t * h_{t−1}
 *                The reset gate multiplies AFTER the product (so W_hn h_{t−1} can be computed
 *                with the other gates in one GEMM), a second bias b_hn sits inside it, and z_t is
 *                the share of the OLD state: PyTorch's z_t = 1 − (slide's z_t), i.e. the same
 *                gate with its weights and bias negated (σ(−a) = 1 − σ(a)). n_t plays h̃_t.
 *
 * Parameter layout — one W (3H, H + n_in), rows in PyTorch's gate order r, z, n (n = h̃),
 * columns [h_{t−1} | x_t] as in the slide's concatenation:
 *   W[0:H, :] = W_r,  W[H:2H, :] = W_z,  W[2H:3H, :] = W (the candidate's)
 *   b (3H) = [b_r, b_z, b_n]
 * GRU_CHO: the n rows' h-columns multiply r_t * h_{t−1}; its z is the slide's z.
 * GRU_PYTORCH, mapping to nn.GRU layer k:
 *   W[:, 0:H]      = weight_hh_l{k}   (3H, H)
 *   W[:, H:H+n_in] = weight_ih_l{k}   (3H, n_in)
 *   b[0:2H]        = bias_ih_l{k}[0:2H] + bias_hh_l{k}[0:2H]   (r and z: the two biases add)
 *   b[2H:3H]       = bias_ih_l{k}[2H:3H]                       (b_in)
 *   b_hn (H)       = bias_hh_l{k}[2H:3H]                       (inside r_t * (·), cannot merge)
 *
 * Shapes are time-major: x (T, B, n_in), h (T+1, B, H) with h[0] = h_0.
 *
 * Speed: all steps' input projections are ONE GEMM X (T·B, n_in) · W_xᵀ. Per step, GRU_PYTORCH
 * needs one recurrent GEMM (B, H)·(H, 3H); GRU_CHO needs two, since r_t must be known before the
 * candidate's product (that dependency is why PyTorch/cuDNN moved r_t outside); the per-step
 * products run against W_h packed once per call (packgemm.h). Backward does the weight-gradient
 * GEMMs once over all T·B rows. Threads: GRU_PYTORCH's time loop is shared out by batch rows
 * (or, for a small batch, each step by hidden units; stepsplit.h); GRU_CHO's products are split
 * by column panels. Results are bit-identical for every thread count. */
#ifndef EXPRUN_GRU_H
#define EXPRUN_GRU_H

#include "packgemm.h"
#include "variants.h"   /* GruVariant */

typedef struct GruCache {
    float *gates;  /* (T, B, 3H) activated gates r, z, n of every step */
    float *h;      /* (T+1, B, H) states; h[0] = h_0, h[1..T] is the layer's output */
    float *aux;    /* (T, B, H) GRU_CHO: r_t * h_{t−1};  GRU_PYTORCH: W_hn h_{t−1} + b_hn */
    float *rec;    /* (B, 3H) GRU_PYTORCH forward scratch: h_{t−1} · W_hᵀ */
    PackedMat wh;  /* packed once per forward: W_hᵀ (pytorch) or W_{rz;h}ᵀ (cho) */
    PackedMat wn;  /* GRU_CHO: W_{n;h}ᵀ */
    PackedMat wx;  /* W_xᵀ for the input projection */
    float *block;
} GruCache;

typedef struct GruWork {
    float *dgx;    /* (T, B, 3H) ∂L/∂(pre-activations) as seen by W_x and b */
    float *dgh;    /* (T, B, 3H) GRU_PYTORCH: as seen by W_h and b_hn (r, z, ∂L/∂(W_hn h + b_hn)) */
    float *dh;     /* (B, H) gradient flowing back to h_{t−1} */
    float *drh;    /* (B, H) GRU_CHO: ∂L/∂(r_t * h_{t−1}) */
    double *sq;    /* (T, B, ⌈H/16⌉) GRU_PYTORCH: squared norms of ∂L/∂h_t in chunks (stepsplit.h) */
    PackedMat wh;  /* packed once per backward: W_h (pytorch) or W_{rz;h} (cho) */
    PackedMat wn;  /* GRU_CHO: W_{n;h} */
    PackedMat wx;  /* W_x for ∂L/∂x */
    PackedMat act; /* [h_{0..T−1} | x] or [r_t * h_{t−1} | x] packed for the weight gradients */
    float *block;
} GruWork;

void gru_cache_alloc(GruCache *c, int max_B, int max_T, int n_in, int H);
void gru_cache_free(GruCache *c);
void gru_work_alloc(GruWork *w, GruVariant v, int max_B, int max_T, int n_in, int H);
void gru_work_free(GruWork *w);

/* Output h_1..h_T (T, B, H) and the final state h_T (B, H). */
const float *gru_output(const GruCache *c, int B, int H);
const float *gru_final_h(const GruCache *c, int B, int T, int H);

/* Forward. x (T, B, n_in), or NULL when W_x x is in cache->gates already; h0 (B, H) or NULL for zeros; W (3H, H + n_in); b (3H);
 * b_hn (H) for GRU_PYTORCH (ignored, may be NULL, for GRU_CHO). */
void gru_forward(GruCache *cache, const float *x, const float *h0, const float *W, const float *b,
                 const float *b_hn, GruVariant v, int B, int T, int n_in, int H);

/* Backward through time.
 *   dx (T, B, n_in), dh0 (B, H): written (=) unless NULL;
 *   dW (3H, H + n_in), db (3H), db_hn (H, GRU_PYTORCH only): accumulated (+=);
 *   dh_norms (T): if not NULL, dh_norms[t−1] += Σ_b ‖∂L/∂h_t[b]‖₂;
 *   dout (T, B, H): ∂L/∂h_t from above; dhT (B, H): ∂L/∂h_T from beyond, or NULL. */
void gru_backward(float *dx, float *dh0, float *dW, float *db, float *db_hn, double *dh_norms,
                  GruWork *work, const float *dout, const float *dhT, const GruCache *cache,
                  const float *x, const float *W, GruVariant v, int B, int T, int n_in, int H);

/* The plain reference, per step and unit, no BLAS; tests hold it equal to the fast pair. */
void gru_forward_reference(GruCache *cache, const float *x, const float *h0, const float *W,
                           const float *b, const float *b_hn, GruVariant v, int B, int T, int n_in,
                           int H);
void gru_backward_reference(float *dx, float *dh0, float *dW, float *db, float *db_hn,
                            double *dh_norms, GruWork *work, const float *dout, const float *dhT,
                            const GruCache *cache, const float *x, const float *W, GruVariant v,
                            int B, int T, int n_in, int H);

#endif
