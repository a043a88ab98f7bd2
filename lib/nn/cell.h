/* cell.h — the cell table: what a recurrent stack (recurrent.h) needs to know of a cell, one
 * row per cell. A cell is its own file (rnn.c, lstm.c, gru.c: the slides' equations, forward and
 * backward through time, the plain `_reference` twins) which ends with its row, a CellOps; this
 * header lists the rows (CELL_TABLE) and the one way every family names, registers and
 * initialises a cell's parameters. A new cell is its own file, one CELL_TABLE line here and its
 * name among the schema's values (lib/spec/schema.c).
 *
 * Views of a layer called NAME (H units, n_in inputs; G = the cell's gates, 1, 4, 3 for RNN,
 * LSTM, GRU):
 *   NAME/W     (G·H, H + n_in)  columns [h | x] = [W_hh | W_ih], gates stacked in rows
 *                               (LSTM i,f,g,o; GRU r,z,n — PyTorch's order); the lecture's RNN:
 *                               columns [φ(h) | x] = [θ | θ_x]
 *   NAME/b     (G·H)            b_ih + b_hh folded (none for the lecture's RNN, which has none)
 *   NAME/b_hn  (H)              GRU_PYTORCH only: b_hh of gate n, which r multiplies
 * Initial values, drawn in this order from one stream: W, then b from U(−1/√H, 1/√H) (PyTorch's
 * default); the LSTM's forget-gate bias b_f set to forget_bias; b_hn from the same U; then, with
 * recurrent_orthogonal, each gate's recurrent block W[g·H:(g+1)·H, :H] = gain · orthogonal.
 *
 * Time slots, as in every cell header: a cell's cache holds its states for slots 0..T (slot 0
 * the initial state) and its output for slots 1..T, time-major with the batch B as row count.
 * A call may start at slot t0 > 0 of the cache (a span): forward then continues from the state
 * it is given at t0 (which may be the cache's own slot t0), and backward runs over slots
 * t0+1..t0+T of the last forward as if that forward had started at t0. */
#ifndef EXPRUN_CELL_H
#define EXPRUN_CELL_H

#include <stdint.h>

#include "act.h"
#include "packgemm.h"
#include "params.h"
#include "rng.h"
#include "variants.h"

/* The table: the CellType of each row, and the CellOps its file defines. */
#define CELL_TABLE(ROW)       \
    ROW(CELL_RNN, RNN_CELL)   \
    ROW(CELL_LSTM, LSTM_CELL) \
    ROW(CELL_GRU, GRU_CELL)

#define CELL_TYPE_ENUM(type, ops) type,
#define CELL_TYPE_ONE(type, ops) +1
typedef enum { CELL_TABLE(CELL_TYPE_ENUM) } CellType;
enum { CELL_TYPE_COUNT = 0 CELL_TABLE(CELL_TYPE_ONE) };
#undef CELL_TYPE_ENUM
#undef CELL_TYPE_ONE

/* The settings of a cell: what decides its parameters and its equations. */
typedef struct CellSettings {
    CellType cell;
    RnnForm rnn_form;             /* CELL_RNN */
    Activation rnn_act;           /* CELL_RNN: φ */
    GruVariant gru_variant;       /* CELL_GRU */
    float forget_bias;            /* CELL_LSTM: initial b_f */
    int recurrent_orthogonal;
    float recurrent_gain;
} CellSettings;

/* A layer's parameters (values, or gradients accumulated +=); NULL where the cell has none. */
typedef struct CellWeights {
    const float *W, *b, *b_hn;
} CellWeights;
typedef struct CellGrads {
    float *W, *b, *b_hn;
} CellGrads;

/* One call of a cell over a span: B rows, T steps from slot t0, n_in inputs, H units.
 * proj, tok: when the input rows are rows of a table (an embedding, x_n = E[tok[n]]), its
 * projection P = E · W_xᵀ (rows of G·H): forward gathers W_x x_n = P[tok[n]] instead of
 * multiplying (cell_gather_projection); NULL: the product. */
typedef struct CellSpan {
    const CellSettings *cs;
    int t0, B, T, n_in, H;
    const float *proj;
    const int32_t *tok;
} CellSpan;

/* dst row n (row stride ldd, G·H floats) = sp->proj[sp->tok[n]] for the span's T·B rows. */
void cell_gather_projection(float *dst, int ldd, const CellSpan *sp, int GH);

/* A row of the table. cache: what forward leaves for backward, one per layer; work: backward's
 * scratch, one per stack (the layers run one after another). Both sized once for
 * (max_B, max_T, n_in, H) and used for any smaller call. */
typedef enum { CELL_CACHE, CELL_WORK } CellPart;

typedef struct CellOps {
    const char *name;             /* "lstm": its spec value and its layers' view names */
    int gates;                    /* G: blocks of rows in W */
    int states;                   /* state blocks carried between steps: 1 (h) or 2 (h, c) */
    int forget_gate;              /* the gate block whose bias starts at forget_bias, or −1 */
    /* The layout string checkpoints carry for view "W", "b" or "b_hn"; NULL: no such view. */
    const char *(*layout)(const CellSettings *cs, const char *view);
    /* A new cache or work area, and its release. */
    void *(*alloc)(CellPart part, const CellSettings *cs, int max_B, int max_T, int n_in, int H);
    void (*release)(CellPart part, void *p);
    /* The packed operands of a cache or work area that may share one packing room with the rest
     * of the stack (packgemm.h); returns how many it put in out[] (at most 4). */
    int (*shareable)(CellPart part, void *p, PackedMat **out);
    /* Forward over slots t0+1..t0+T. x (T, B, n_in); s0[k] (B, H): state k at slot t0, or NULL
     * for zeros. */
    void (*forward)(void *cache, const CellSpan *sp, const CellWeights *w, const float *x,
                    const float *const *s0);
    /* Backward over the same slots. dx (T, B, n_in) written unless NULL; g accumulated;
     * dout (T, B, H) ∂L/∂output from above; dsT[k] ∂L/∂(state k at slot t0+T) or NULL;
     * ds0[k] ← ∂L/∂(state k at slot t0) unless NULL (may alias dsT[k]); dh_norms (T) as the
     * cells' headers say, or NULL. */
    void (*backward)(void *cache, void *work, const CellSpan *sp, const CellWeights *w, CellGrads *g,
                     const float *x, float *dx, const float *dout, const float *const *dsT, float *const *ds0,
                     double *dh_norms);
    /* ∂L/∂(the input side's pre-activations) of the last backward's T·B rows, (T·B, G·H)
     * contiguous: ∂L/∂x = this · W_x (W's columns after the first H). An embedding below takes
     * its gradient from it (embed.h's embed_grad_through) when backward was given no dx. */
    const float *(*input_grads)(const void *work);
    /* State block k (B, H) at slot t, and the layer's output (B, H) at slot t ≥ 1, of the last
     * forward with B rows. */
    const float *(*state)(const void *cache, const CellSettings *cs, int k, int t, int B, int H);
    const float *(*output)(const void *cache, const CellSettings *cs, int t, int B, int H);
} CellOps;

#define CELL_OPS_EXTERN(type, ops) extern const CellOps ops;
CELL_TABLE(CELL_OPS_EXTERN)
#undef CELL_OPS_EXTERN

/* The row of a cell (NULL for a value outside the table). */
const CellOps *cell_ops(CellType cell);
const char *cell_type_name(CellType c);              /* "rnn", "lstm", "gru" */
int cell_type_from_name(const char *name, CellType *c);

/* The indices of a layer's views in its Params (−1 where the cell has none). */
typedef struct CellViews {
    int iW, ib, ib_hn;
} CellViews;

/* 1 (RNN), 4 (LSTM) or 3 (GRU): the blocks of rows in W. */
int cell_gates(CellType cell);

/* Register NAME/W, NAME/b and NAME/b_hn (as the cell has them) in p. */
CellViews cell_add_params(Params *p, const char *name, const CellSettings *c, int H, int n_in);

/* Initialise them (p allocated), as above. */
void cell_init_params(Params *p, const CellViews *v, const CellSettings *c, int H, int n_in, Rng *rng);

#endif
