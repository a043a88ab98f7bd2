#include "loss.h"

#include <math.h>
#include <string.h>

static const char *const NAMES[] = {"squared_error", "cross_entropy", "softmax_cross_entropy"};

const char *loss_name(LossType t) { return NAMES[t]; }

int loss_from_name(const char *name, LossType *t) {
    for (int i = 0; i < 3; i++)
        if (strcmp(name, NAMES[i]) == 0) {
            *t = (LossType)i;
            return 0;
        }
    return -1;
}

double loss_squared_error(float *grad, const float *pred, const float *target, int m, int n) {
    double sum = 0.0;
    size_t count = (size_t)m * n;
    float scale = 2.0f / (float)m;
    for (size_t i = 0; i < count; i++) {
        float d = pred[i] - target[i];
        sum += (double)d * d;
        if (grad) grad[i] = scale * d;
    }
    return sum / m;
}

#define BCE_EPS 1e-7f

double loss_binary_cross_entropy(float *grad, const float *pred, const float *target, int m, int n) {
    /* logf/log1pf are several times cheaper than their double versions; the sum stays in
     * double so that finite-difference checks can still resolve small gradients. */
    double sum = 0.0;
    for (int i = 0; i < m; i++) {
        const float *p_row = pred + (size_t)i * n, *x_row = target + (size_t)i * n;
        float *g_row = grad ? grad + (size_t)i * n : NULL;
        double row = 0.0;
        for (int j = 0; j < n; j++) {
            float p = fminf(fmaxf(p_row[j], BCE_EPS), 1.0f - BCE_EPS);
            float x = x_row[j];
            row -= x * logf(p) + (1.0f - x) * log1pf(-p);
            if (g_row) g_row[j] = (p - x) / (p * (1.0f - p) * (float)m);
        }
        sum += row;
    }
    return sum / m;
}

double loss_sigmoid_cross_entropy(float *grad_pre, const float *pred, const float *target, int m,
                                  int n) {
    double value = loss_binary_cross_entropy(NULL, pred, target, m, n);
    if (grad_pre) {
        size_t count = (size_t)m * n;
        float inv_m = 1.0f / (float)m;
        for (size_t i = 0; i < count; i++) grad_pre[i] = (pred[i] - target[i]) * inv_m;
    }
    return value;
}

double loss_softmax_cross_entropy(float *grad_logits, const float *logits, const int *targets,
                                  int m, int V, double normalizer) {
    int count = 0;
    for (int i = 0; i < m; i++) count += targets[i] >= 0;
    double norm = normalizer > 0 ? normalizer : (count > 0 ? count : 1);
    float inv = (float)(1.0 / norm);
    double sum = 0.0;
    for (int i = 0; i < m; i++) {
        const float *z = logits + (size_t)i * V;
        float *g = grad_logits ? grad_logits + (size_t)i * V : NULL;
        if (targets[i] < 0) {
            if (g) memset(g, 0, (size_t)V * sizeof *g);
            continue;
        }
        float max = z[0];
        for (int j = 1; j < V; j++) max = z[j] > max ? z[j] : max;
        double denom = 0.0;
        for (int j = 0; j < V; j++) denom += exp((double)(z[j] - max));
        double log_denom = log(denom);
        sum -= (double)(z[targets[i]] - max) - log_denom;
        if (g) {
            for (int j = 0; j < V; j++) g[j] = (float)exp((double)(z[j] - max) - log_denom) * inv;
            g[targets[i]] -= inv;
        }
    }
    return sum / norm;
}
