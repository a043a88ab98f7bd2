#include "act.h"

#include <math.h>
#include <string.h>

static const char *const NAMES[ACT_COUNT] = {"identity", "sigmoid", "tanh",     "relu",
                                             "leaky_relu", "elu",   "softplus", "softmax"};

const char *act_name(Activation a) { return (a >= 0 && a < ACT_COUNT) ? NAMES[a] : "?"; }

int act_from_name(const char *name, Activation *a) {
    for (int i = 0; i < ACT_COUNT; i++)
        if (strcmp(name, NAMES[i]) == 0) {
            *a = (Activation)i;
            return 0;
        }
    return -1;
}

const char *act_choices(void) {
    return "identity|sigmoid|tanh|relu|leaky_relu|elu|softplus|softmax";
}

#define LEAKY_SLOPE 0.01f

static void softmax_rows(float *y, const float *x, int rows, int cols) {
    for (int r = 0; r < rows; r++) {
        const float *xr = x + (size_t)r * cols;
        float *yr = y + (size_t)r * cols;
        float max = xr[0];
        for (int j = 1; j < cols; j++) max = xr[j] > max ? xr[j] : max;
        float sum = 0.0f;
        for (int j = 0; j < cols; j++) {
            yr[j] = expf(xr[j] - max);
            sum += yr[j];
        }
        float inv = 1.0f / sum;
        for (int j = 0; j < cols; j++) yr[j] *= inv;
    }
}

void act_forward(float *y, const float *x, int rows, int cols, Activation a) {
    size_t n = (size_t)rows * cols;
    switch (a) {
    case ACT_IDENTITY:
        if (y != x) memmove(y, x, n * sizeof *y);
        break;
    case ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-x[i]));
        break;
    case ACT_TANH:
        for (size_t i = 0; i < n; i++) y[i] = tanhf(x[i]);
        break;
    case ACT_RELU:
        for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
        break;
    case ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : LEAKY_SLOPE * x[i];
        break;
    case ACT_ELU:
        for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : expm1f(x[i]);
        break;
    case ACT_SOFTPLUS:
        /* log(1 + e^x) = max(x, 0) + log1p(e^−|x|), stable for large |x|. */
        for (size_t i = 0; i < n; i++) y[i] = fmaxf(x[i], 0.0f) + log1pf(expf(-fabsf(x[i])));
        break;
    case ACT_SOFTMAX:
        softmax_rows(y, x, rows, cols);
        break;
    default:
        break;
    }
}

void act_backward(float *dx, const float *dy, const float *y, int rows, int cols, Activation a) {
    size_t n = (size_t)rows * cols;
    switch (a) {
    case ACT_IDENTITY:
        if (dx != dy) memmove(dx, dy, n * sizeof *dx);
        break;
    case ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) dx[i] = dy[i] * y[i] * (1.0f - y[i]);
        break;
    case ACT_TANH:
        for (size_t i = 0; i < n; i++) dx[i] = dy[i] * (1.0f - y[i] * y[i]);
        break;
    case ACT_RELU:
        for (size_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
        break;
    case ACT_LEAKY_RELU:
        for (size_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : LEAKY_SLOPE * dy[i];
        break;
    case ACT_ELU:
        for (size_t i = 0; i < n; i++) dx[i] = y[i] > 0.0f ? dy[i] : dy[i] * (y[i] + 1.0f);
        break;
    case ACT_SOFTPLUS:
        for (size_t i = 0; i < n; i++) dx[i] = dy[i] * -expm1f(-y[i]);
        break;
    case ACT_SOFTMAX:
        for (int r = 0; r < rows; r++) {
            const float *yr = y + (size_t)r * cols;
            const float *dyr = dy + (size_t)r * cols;
            float *dxr = dx + (size_t)r * cols;
            float dot = 0.0f;
            for (int j = 0; j < cols; j++) dot += yr[j] * dyr[j];
            for (int j = 0; j < cols; j++) dxr[j] = yr[j] * (dyr[j] - dot);
        }
        break;
    default:
        break;
    }
}
