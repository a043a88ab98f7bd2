/* params.h — all trainable parameters of a model in one arena, with named views.
 *
 * As in llm.c and kann: one allocation holds every parameter, one every gradient. Zeroing the
 * gradients is one memset; clipping, every optimizer, the future MPI all-reduce and saving are
 * one flat loop over `value`/`grad`. Each view has a name ("enc0/W", "lstm1/W") and a shape, and
 * is saved as its own HDF5 dataset, so a checkpoint describes itself.
 *
 * Use: params_add() every view while building a model, then params_alloc() once; after that
 * params_value()/params_grad() give stable pointers. */
#ifndef EXPRUN_PARAMS_H
#define EXPRUN_PARAMS_H

#include <stddef.h>

#include "tensor.h"

#define PARAM_NAME_MAX 64

typedef struct ParamView {
    char name[PARAM_NAME_MAX];    /* "layer/param", e.g. "lstm0/W" */
    int rank;
    int shape[TENSOR_MAX_RANK];
    size_t offset;                /* into Params.value and Params.grad */
    size_t size;
    char layout[96];              /* what the axes mean, e.g. "out,in" or "4H,H+I gates i,f,g,o" */
} ParamView;

typedef struct Params {
    ParamView *views;
    int count, cap;
    size_t total;                 /* number of floats */
    float *value;                 /* (total) */
    float *grad;                  /* (total) */
} Params;

/* Register a view; returns its index. Must come before params_alloc. */
int params_add(Params *p, const char *name, int rank, const int *shape, const char *layout);
/* Allocate value and grad, zero-filled. */
void params_alloc(Params *p);
float *params_value(const Params *p, int index);
float *params_grad(const Params *p, int index);
/* Index of the view called name, or -1. */
int params_find(const Params *p, const char *name);
/* The values of the view called name (NULL if none); rows and cols (may be NULL) get its shape
 * as a matrix: shape[0], and shape[1] or 1 for a vector. */
const float *params_lookup(const Params *p, const char *name, int *rows, int *cols);
void params_zero_grad(Params *p);
void params_free(Params *p);

#endif
