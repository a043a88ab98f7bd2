#include "tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

size_t shape_size(int rank, const int *shape) {
    size_t n = 1;
    for (int i = 0; i < rank; i++) n *= (size_t)shape[i];
    return n;
}

Tensor tensor_zeros(int rank, const int *shape) {
    Tensor t = {0};
    t.rank = rank;
    for (int i = 0; i < rank; i++) t.shape[i] = shape[i];
    t.size = shape_size(rank, shape);
    t.data = ex_calloc(t.size, sizeof(float));
    return t;
}

Tensor tensor_zeros2(int rows, int cols) {
    int shape[2] = {rows, cols};
    return tensor_zeros(2, shape);
}

void tensor_free(Tensor *t) {
    free(t->data);
    memset(t, 0, sizeof *t);
}

const char *shape_string(char *buf, size_t cap, int rank, const int *shape) {
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < rank && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, i ? "x%d" : "%d", shape[i]);
    return buf;
}
