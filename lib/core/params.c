#include "params.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "parallel.h"

int params_add(Params *p, const char *name, int rank, const int *shape, const char *layout) {
    if (p->count == p->cap) {
        p->cap = p->cap ? 2 * p->cap : 16;
        ParamView *grown = realloc(p->views, (size_t)p->cap * sizeof *grown);
        if (!grown) { fprintf(stderr, "exprun: out of memory in params_add\n"); abort(); }
        p->views = grown;
    }
    ParamView *v = &p->views[p->count];
    memset(v, 0, sizeof *v);
    snprintf(v->name, sizeof v->name, "%s", name);
    snprintf(v->layout, sizeof v->layout, "%s", layout ? layout : "");
    v->rank = rank;
    for (int i = 0; i < rank; i++) v->shape[i] = shape[i];
    v->size = shape_size(rank, shape);
    v->offset = p->total;
    /* Keep every view 16-float aligned (64 bytes) for vector loads in the kernels. */
    p->total += (v->size + 15) & ~(size_t)15;
    return p->count++;
}

void params_alloc(Params *p) {
    p->value = ex_calloc(p->total, sizeof(float));
    p->grad = ex_calloc(p->total, sizeof(float));
}

float *params_value(const Params *p, int index) { return p->value + p->views[index].offset; }
float *params_grad(const Params *p, int index) { return p->grad + p->views[index].offset; }

int params_find(const Params *p, const char *name) {
    for (int i = 0; i < p->count; i++)
        if (strcmp(p->views[i].name, name) == 0) return i;
    return -1;
}

const float *params_lookup(const Params *p, const char *name, int *rows, int *cols) {
    int i = params_find(p, name);
    if (i < 0) return NULL;
    const ParamView *v = &p->views[i];
    if (rows) *rows = v->shape[0];
    if (cols) *cols = v->rank > 1 ? v->shape[1] : 1;
    return p->value + v->offset;
}

/* Zeroing the gradient arena is one pass over as many bytes as the parameters: shared out over
 * the threads (disjoint slices) when it is big enough to pay for them. */
static void zero_part(void *ctx, int part, int parts) {
    const Params *p = ctx;
    size_t i0 = p->total * (size_t)part / (size_t)parts, i1 = p->total * (size_t)(part + 1) / (size_t)parts;
    memset(p->grad + i0, 0, (i1 - i0) * sizeof(float));
}

void params_zero_grad(Params *p) {
    par_run(zero_part, p, par_parts_for(PAR_FLOPS_PER_FLOAT_PASS * (double)p->total, 64));
}

void params_free(Params *p) {
    free(p->views);
    free(p->value);
    free(p->grad);
    memset(p, 0, sizeof *p);
}
