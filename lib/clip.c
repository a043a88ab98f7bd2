#include "clip.h"

#include <math.h>

double grad_global_norm(const float *g, size_t n) {
    double sum = 0.0;
    for (size_t i = 0; i < n; i++) sum += (double)g[i] * g[i];
    return sqrt(sum);
}

void clip_by_value(float *g, size_t n, float c) {
    for (size_t i = 0; i < n; i++) g[i] = g[i] > c ? c : (g[i] < -c ? -c : g[i]);
}

double clip_by_global_norm(float *g, size_t n, double c) {
    double norm = grad_global_norm(g, n);
    if (norm > c) {
        float scale = (float)(c / (norm + 1e-6));
        for (size_t i = 0; i < n; i++) g[i] *= scale;
    }
    return norm;
}
