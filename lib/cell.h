/* cell.h — what every recurrent family shares about a cell's parameters: its kind, its gate
 * count, the views it registers (with the layout strings checkpoints carry) and the one way they
 * are initialised. seqmodel.c, seq2seq.c and onetomany.c all build their layers through it, so a
 * layer of the same cell has the same views, layouts and initial values in every family.
 *
 * Views of a layer called NAME (H units, n_in inputs; G = 1, 4, 3 gates for RNN, LSTM, GRU):
 *   NAME/W     (G·H, H + n_in)  columns [h | x] = [W_hh | W_ih], gates stacked in rows
 *                               (LSTM i,f,g,o; GRU r,z,n — PyTorch's order); the lecture's RNN:
 *                               columns [φ(h) | x] = [θ | θ_x]
 *   NAME/b     (G·H)            b_ih + b_hh folded (none for the lecture's RNN, which has none)
 *   NAME/b_hn  (H)              GRU_PYTORCH only: b_hh of gate n, which r multiplies
 * Initial values, drawn in this order from one stream: W, then b from U(−1/√H, 1/√H) (PyTorch's
 * default); the LSTM's forget-gate bias b_f set to forget_bias; b_hn from the same U; then, with
 * recurrent_orthogonal, each gate's recurrent block W[g·H:(g+1)·H, :H] = gain · orthogonal. */
#ifndef EXPRUN_CELL_H
#define EXPRUN_CELL_H

#include "gru.h"
#include "params.h"
#include "rng.h"
#include "rnn.h"

typedef enum { CELL_RNN, CELL_LSTM, CELL_GRU } CellType;

/* The settings of a cell that decide its parameters. */
typedef struct CellSettings {
    CellType cell;
    RnnForm rnn_form;             /* CELL_RNN */
    GruVariant gru_variant;       /* CELL_GRU */
    float forget_bias;            /* CELL_LSTM: initial b_f */
    int recurrent_orthogonal;
    float recurrent_gain;
} CellSettings;

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
