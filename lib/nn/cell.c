/* cell.c — the cell table, and a recurrent cell's parameter views and their initial values
 * (cell.h). */
#include "cell.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "init.h"
#include "parallel.h"

#define CELL_ROW(type, ops) [type] = &ops,
static const CellOps *const CELLS[CELL_TYPE_COUNT] = {CELL_TABLE(CELL_ROW)};
#undef CELL_ROW

const CellOps *cell_ops(CellType cell) { return (unsigned)cell < CELL_TYPE_COUNT ? CELLS[cell] : NULL; }

const char *cell_type_name(CellType c) { return cell_ops(c) ? cell_ops(c)->name : "?"; }

int cell_type_from_name(const char *name, CellType *c) {
    for (int k = 0; k < CELL_TYPE_COUNT; k++)
        if (strcmp(CELLS[k]->name, name) == 0) {
            *c = (CellType)k;
            return 0;
        }
    return -1;
}

int cell_gates(CellType cell) { return cell_ops(cell) ? cell_ops(cell)->gates : 0; }

CellViews cell_add_params(Params *p, const char *name, const CellSettings *c, int H, int n_in) {
    const CellOps *ops = cell_ops(c->cell);
    int G = ops->gates;
    const char *layout;
    char view[PARAM_NAME_MAX];
    CellViews v = {-1, -1, -1};
    snprintf(view, sizeof view, "%s/W", name);
    v.iW = params_add(p, view, 2, (int[]){G * H, H + n_in}, ops->layout(c, "W"));
    if ((layout = ops->layout(c, "b"))) {
        snprintf(view, sizeof view, "%s/b", name);
        v.ib = params_add(p, view, 1, (int[]){G * H}, layout);
    }
    if ((layout = ops->layout(c, "b_hn"))) {
        snprintf(view, sizeof view, "%s/b_hn", name);
        v.ib_hn = params_add(p, view, 1, (int[]){H}, layout);
    }
    return v;
}

void cell_init_params(Params *p, const CellViews *v, const CellSettings *c, int H, int n_in, Rng *rng) {
    float k = 1.0f / sqrtf((float)H);
    init_uniform(params_value(p, v->iW), p->views[v->iW].size, k, rng);
    if (v->ib >= 0) {
        float *b = params_value(p, v->ib);
        init_uniform(b, p->views[v->ib].size, k, rng);
        int f = cell_ops(c->cell)->forget_gate;   /* LSTM: b_f, rows H..2H of i,f,g,o */
        if (f >= 0)
            for (int j = 0; j < H; j++) b[(size_t)f * H + j] = c->forget_bias;
    }
    if (v->ib_hn >= 0) init_uniform(params_value(p, v->ib_hn), (size_t)H, k, rng);
    if (c->recurrent_orthogonal) {
        int G = cell_gates(c->cell), ld = H + n_in;
        float *W = params_value(p, v->iW);
        for (int g = 0; g < G; g++) init_orthogonal(W + (size_t)g * H * ld, H, ld, c->recurrent_gain, rng, NULL);
    }
}

/* ---- an embedding's projection, gathered (CellSpan.proj) ------------------------------------ */

typedef struct Gather {
    float *dst;
    int ldd, GH;
    const CellSpan *sp;
} Gather;

static void gather_part(void *ctx, int part, int parts) {
    const Gather *g = ctx;
    int n0, n1;
    par_range(g->sp->T * g->sp->B, part, parts, 1, &n0, &n1);
    for (int n = n0; n < n1; n++)
        memcpy(g->dst + (size_t)n * g->ldd, g->sp->proj + (size_t)g->sp->tok[n] * g->GH, (size_t)g->GH * sizeof(float));
}

/* A copy pass, shared out by rows (each row one copy), costed as the passes over memory are. */
void cell_gather_projection(float *dst, int ldd, const CellSpan *sp, int GH) {
    Gather g = {dst, ldd, GH, sp};
    int rows = sp->T * sp->B;
    par_run(gather_part, &g, par_parts_for(PAR_FLOPS_PER_FLOAT_PASS * rows * (double)GH, rows));
}
