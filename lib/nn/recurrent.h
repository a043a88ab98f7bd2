/* recurrent.h — a stack of recurrent layers of one cell: the part every recurrent family shares
 * (seqmodel.c, seq2seq.c, onetomany.c keep only what is theirs: embeddings, heads, wiring).
 *
 *   layer l = 0..L−1    h^l_t = cell(h^l_{t−1}, in^l_t)      (the cell's equations: cell.h's table)
 *   inputs              in^0 = the stack's input x,  in^{l+1} = dropout(output^l)
 *                       (dropout only between layers and only in training, as nn.LSTM(dropout=p))
 *
 * Parameters: layer l's views are NAME/W, NAME/b (, NAME/b_hn) with NAME = PREFIX + cell + l
 * ("lstm0", "enc_gru1"), registered and initialised by cell.c, so every family has the same
 * views, layouts and initial values for the same cell.
 *
 * Memory, sized once for (max_B, max_T): each layer keeps its cell cache (what forward leaves
 * for backward) and its dropout mask; ONE backward work area sized for one segment (below) of
 * the largest layer serves every layer (they run one after another), and ONE packing room
 * serves every shareable packed operand of the stack plus any the family adds (its head's).
 * A step allocates nothing.
 *
 * Spans: forward and backward run over slots t0+1..t0+T of the caches (cell.h), so a decoder
 * fed one step at a time or a backward cut at the rows' own lengths (seq2seq's encoder) needs
 * no copy of a cache. x, dx are the span's (T, B, n_in) blocks; ∂L/∂(top output) lives in the
 * top layer's dout at the slots' own places (slot t at (t−1)·B·H), where the family writes it.
 *
 * Segments: forward and backward run the span in segments of seg = ⌈seg_rows / max_B⌉ steps
 * (seg_rows 1024 unless set; at multiples of seg from the span's start). Backward takes the
 * segments last first, and in each the layers top down, each layer carrying ∂L/∂state from one
 * segment to the one before; a segment's weight gradients are added as it ends. So the work
 * area and the dout of a layer below the top hold one segment, not the whole sequence, and a
 * segment's products are still large (≈ 1024 rows).
 *
 * Recompute (train.recompute; set r->recompute before recurrent_alloc): forward keeps of each
 * layer only its outputs (max_T, max_B, H) and its states at the segments' boundaries; the
 * segments take turns in ONE cache of seg steps. Backward replays each segment's forward from
 * its boundary states (the same calls as the first forward, so the same bits) before going
 * back through it: a layer holds ≈ 1 float per unit and step (its outputs; the top also its
 * dout) instead of ≈ G + 2S + 2 (an LSTM's gates, h, c, tanh c), for one more forward's work.
 * Spans must start at t0 = 0, and recurrent_state is kept only at slots 0, multiples of seg
 * and the last forward's T.
 *
 * States: forward starts layer l from layer[l].s0[k] (B, H) — state k, 0 = h, 1 = c for an
 * LSTM — or zeros where NULL. A carry block holds every layer's states for max_B rows: for
 * l = 0..L−1, for each state k, a (max_B, H_l) block (seqmodel's checkpoints store this
 * layout). recurrent_start points s0 into one; recurrent_save copies the states of slot t in.
 *
 * State gradients: layer[l].ds[k] (max_B, H). REC_GRAD_NONE: backward computes none;
 * REC_GRAD_OUT: ds ← ∂L/∂(state at slot t0); REC_GRAD_THROUGH: ds holds ∂L/∂(state at slot
 * t0+T) on entry (the gradient from beyond the span) and ∂L/∂(state at t0) on return. */
#ifndef EXPRUN_RECURRENT_H
#define EXPRUN_RECURRENT_H

#include <stddef.h>

#include "cell.h"
#include "embed.h"
#include "error.h"
#include "packgemm.h"
#include "params.h"
#include "rng.h"

#define REC_MAX_LAYERS 8
#define REC_SEGMENT_ROWS 1024   /* rows (steps × batch) per backward segment */

typedef enum { REC_GRAD_NONE, REC_GRAD_OUT, REC_GRAD_THROUGH } RecStateGrad;

typedef struct RecLayer {
    char name[PARAM_NAME_MAX / 2];  /* "lstm0" */
    int n_in, H;
    CellViews v;                  /* its parameter views */
    void *cache;                  /* the cell's cache */
    float *dout;                  /* ∂L/∂(this layer's output): the top's (max_T, max_B, H), the
                                   * family writes it; below the top (seg, max_B, H), one segment */
    float *mask, *dropped;        /* (max_T, max_B, H) below the top with dropout: mask, output after it */
    const float *s0[2];           /* where the next forward starts (NULL: zeros) */
    float *ds[2];                 /* (max_B, H) state gradients, as above */
    double *norms;                /* (max_T) Σ over backward calls of Σ_b ‖∂L/∂h_t‖, if kept */
    float *hist;                  /* recompute: (max_T, max_B, H) the outputs of slots 1..T */
    float *bound;                 /* recompute: states at slots 0, seg, 2·seg, …, T: per boundary,
                                   * per state, a (max_B, H) block */
    size_t carry_off;             /* where its states start in a carry block */
} RecLayer;

typedef struct Recurrent {
    const CellOps *ops;
    CellSettings cs;
    int L, max_B, max_T;
    int seg_rows;                 /* rows per backward segment; 0 (setup's): REC_SEGMENT_ROWS */
    int seg;                      /* steps per backward segment, set by recurrent_alloc */
    int recompute;                /* 1: keep outputs and boundary states only (above) */
    void *seg_cache;              /* recompute: the one cache the segments take turns in */
    int last_T;                   /* recompute: the last forward's T */
    float dropout;
    RecLayer layer[REC_MAX_LAYERS];
    void *work;                   /* backward's scratch, for the largest layer */
    PackedMat pack;               /* the shared packing room */
    size_t carry_n;               /* floats in a carry block */
    EmbedGrad embed;              /* recurrent_embed_below's: an embedding's gradient from layer 0 */
    float *proj;                  /* recurrent_embed_below's, for a small vocabulary: (V, G·H_0)
                                   * P = E · W_xᵀ, layer 0's input projection of every token */
    PackedMat proj_ws;            /* W_x packed for it */
    const int32_t *proj_tok;      /* the last forward's tokens if it gathered layer 0's input
                                   * projection from proj (cell.h's CellSpan.proj); else NULL */
} Recurrent;

/* Check a stack's settings: a cell of the table with a valid variant (and, for the RNN, an
 * element-wise φ), 1..REC_MAX_LAYERS layers of ≥ 1 unit, a finite forget_bias, a gain > 0 for
 * orthogonal recurrent blocks. Returns 0, or -1 with "WHERE: what is wrong" in err. */
int recurrent_check(const CellSettings *cs, int L, const int *hidden, const char *where, ExError *err);

/* What a stack will hold, estimated before anything is allocated (a size the schema allows can
 * still be more than a machine has): *params += its parameter count; returns the floats of its
 * caches, gradients to the outputs, dropout masks, the shared work area and packed operands. */
double recurrent_floats(const CellSettings *cs, int L, const int *hidden, int n_in0, int max_B, int max_T,
                        float dropout, int recompute, double *params);

/* Sizes and names (no memory yet): L layers of hidden[l] units over n_in0 inputs. */
void recurrent_setup(Recurrent *r, const CellSettings *cs, const char *prefix, int L, const int *hidden, int n_in0,
                     float dropout);

/* Register layer l's views (a family may add its own views between the layers'), or all. */
void recurrent_add_layer_params(Recurrent *r, Params *p, int l);
void recurrent_add_params(Recurrent *r, Params *p);

/* Initialise every layer's parameters from rng, layer 0 first (p allocated). */
void recurrent_init_params(const Recurrent *r, Params *p, Rng *rng);

/* Allocate everything for (max_B, max_T); keep_norms: keep each layer's gradient-norm
 * diagnostic (cells' dh_norms). extra: the family's packed operands that may share the room. */
void recurrent_alloc(Recurrent *r, int max_B, int max_T, int keep_norms, PackedMat *const *extra, int n_extra);
void recurrent_free(Recurrent *r);

/* Forward over slots t0+1..t0+T from layer[l].s0; returns the top layer's output there
 * (T, B, H_top). train: dropout between layers, its masks drawn from rng. */
const float *recurrent_forward(Recurrent *r, const Params *p, const float *x, int t0, int B, int T, int train,
                               Rng *rng);

/* Backward over the slots of the last forward's span t0+1..t0+T, top layer down, from the top
 * layer's dout there; accumulates the parameter gradients into p, writes dx (unless NULL). */
void recurrent_backward(Recurrent *r, Params *p, const float *x, float *dx, int t0, int B, int T, int train,
                        RecStateGrad grad);

/* For a stack fed by an embedding of V tokens (after recurrent_alloc): the work areas of
 * recurrent_forward_embedded and recurrent_backward_embedded; and the floats they take, as
 * recurrent_floats estimates (H0: layer 0's units). */
void recurrent_embed_below(Recurrent *r, int V);
double recurrent_embed_floats(const CellSettings *cs, int H0, int n_in0, int V, int max_B, int max_T);

/* recurrent_forward for that stack, x (T, B, n_in) = E[tokens] (E (V, n_in), tokens (T, B)
 * of the span). Where the vocabulary is small beside the rows (V ≤ T·B / 2, and 4V ≤ max_T ·
 * max_B), layer 0's input projection W_x x_n is not a product over the T·B rows: P = E · W_xᵀ
 * (V rows) is, and row n is P[tokens[n]] — the same sum in the same order, so the same bits
 * with exprun's kernels. tokens must stay unchanged until the span's backward. */
const float *recurrent_forward_embedded(Recurrent *r, const Params *p, const float *x, const int32_t *tokens,
                                        const float *E, int t0, int B, int T, int train, Rng *rng);

/* recurrent_backward for that stack, whose input x (T, B, n_in) was an embedding's rows
 * E[tokens] (tokens (T, B) of the span): instead of writing ∂L/∂x, adds the embedding's
 * gradient to dE (V, n_in), taken from layer 0's gate gradients segment by segment (embed.h's
 * embed_grad_through: the rows are summed by token before the one product with W_x). */
void recurrent_backward_embedded(Recurrent *r, Params *p, const float *x, const int32_t *tokens, float *dE, int t0,
                                 int B, int T, int train, RecStateGrad grad);

/* Layer l's output and state k at slot t of the last forward with B rows (recompute: states
 * only at the slots above; NULL elsewhere). */
const float *recurrent_output(const Recurrent *r, int l, int t, int B);
const float *recurrent_state(const Recurrent *r, int l, int k, int t, int B);

/* State k of layer l in a carry block (max_B rows). */
float *recurrent_carry_state(const Recurrent *r, float *carry, int l, int k);
/* Every layer's s0 ← its states in carry (NULL: zeros). */
void recurrent_start(Recurrent *r, const float *carry);
/* carry ← every layer's states at slot t (B rows). */
void recurrent_save(const Recurrent *r, float *carry, int B, int t);

#endif
