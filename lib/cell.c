/* cell.c — a recurrent cell's parameter views and their initial values (cell.h). */
#include "cell.h"

#include <math.h>
#include <stdio.h>

#include "init.h"

int cell_gates(CellType cell) { return cell == CELL_LSTM ? 4 : cell == CELL_GRU ? 3 : 1; }

CellViews cell_add_params(Params *p, const char *name, const CellSettings *c, int H, int n_in) {
    CellViews v = {-1, -1, -1};
    int G = cell_gates(c->cell);
    char view[PARAM_NAME_MAX], layout[96];
    snprintf(view, sizeof view, "%s/W", name);
    if (c->cell == CELL_RNN)
        snprintf(layout, sizeof layout, "%s", c->rnn_form == RNN_LECTURE ? "H,H+I cols [phi(h)|x] = [theta|theta_x]"
                                                                          : "H,H+I cols [h|x] = [W_hh|W_ih]");
    else
        snprintf(layout, sizeof layout, "%dH,H+I gates %s; cols [h|x] = [W_hh|W_ih]", G,
                 c->cell == CELL_LSTM ? "i,f,g,o" : "r,z,n");
    v.iW = params_add(p, view, 2, (int[]){G * H, H + n_in}, layout);
    if (!(c->cell == CELL_RNN && c->rnn_form == RNN_LECTURE)) {
        snprintf(view, sizeof view, "%s/b", name);
        if (c->cell == CELL_RNN) snprintf(layout, sizeof layout, "H (b_ih+b_hh)");
        else if (c->cell == CELL_LSTM) snprintf(layout, sizeof layout, "4H gates i,f,g,o (b_ih+b_hh)");
        else if (c->gru_variant == GRU_PYTORCH) snprintf(layout, sizeof layout, "3H gates r,z,n (r,z: b_ih+b_hh; n: b_in)");
        else snprintf(layout, sizeof layout, "3H gates r,z,n");
        v.ib = params_add(p, view, 1, (int[]){G * H}, layout);
    }
    if (c->cell == CELL_GRU && c->gru_variant == GRU_PYTORCH) {
        snprintf(view, sizeof view, "%s/b_hn", name);
        v.ib_hn = params_add(p, view, 1, (int[]){H}, "H (b_hh of gate n)");
    }
    return v;
}

void cell_init_params(Params *p, const CellViews *v, const CellSettings *c, int H, int n_in, Rng *rng) {
    float k = 1.0f / sqrtf((float)H);
    init_uniform(params_value(p, v->iW), p->views[v->iW].size, k, rng);
    if (v->ib >= 0) {
        float *b = params_value(p, v->ib);
        init_uniform(b, p->views[v->ib].size, k, rng);
        if (c->cell == CELL_LSTM)
            for (int j = 0; j < H; j++) b[H + j] = c->forget_bias;   /* b_f: rows H..2H of i,f,g,o */
    }
    if (v->ib_hn >= 0) init_uniform(params_value(p, v->ib_hn), (size_t)H, k, rng);
    if (c->recurrent_orthogonal) {
        int G = cell_gates(c->cell), ld = H + n_in;
        float *W = params_value(p, v->iW);
        for (int g = 0; g < G; g++) init_orthogonal(W + (size_t)g * H * ld, H, ld, c->recurrent_gain, rng, NULL);
    }
}
