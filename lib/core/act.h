/* act.h — the activations f and g of the lecture: h = g(W x + b), x̂ = f(W* h + c).
 *
 * Every derivative is written in terms of the activation's *output* y, so that backward needs
 * only what forward already stored:
 *   identity  y = x                 y' = 1
 *   sigmoid   y = 1/(1+e^-x)        y' = y (1 − y)
 *   tanh      y = tanh x            y' = 1 − y²
 *   relu      y = max(0, x)         y' = [y > 0]
 *   leaky_relu y = x if x>0 else 0.01 x     y' = 1 if y > 0 else 0.01
 *   elu       y = x if x>0 else e^x − 1     y' = 1 if y > 0 else y + 1
 *   softplus  y = log(1 + e^x)      y' = σ(x) = 1 − e^−y
 *   softmax   y_j = e^x_j / Σ_k e^x_k (over each row)   ∂L/∂x_j = y_j (∂L/∂y_j − Σ_k y_k ∂L/∂y_k) */
#ifndef EXPRUN_ACT_H
#define EXPRUN_ACT_H

typedef enum Activation {
    ACT_IDENTITY,
    ACT_SIGMOID,
    ACT_TANH,
    ACT_RELU,
    ACT_LEAKY_RELU,
    ACT_ELU,
    ACT_SOFTPLUS,
    ACT_SOFTMAX,
    ACT_COUNT
} Activation;

/* "identity", "sigmoid", ... */
const char *act_name(Activation a);
/* Returns 0 and sets *a, or -1 for an unknown name. */
int act_from_name(const char *name, Activation *a);
/* "identity|sigmoid|tanh|..." for error messages and the schema. */
const char *act_choices(void);

/* y = a(x) for a (rows, cols) block; y may alias x. softmax works per row. */
void act_forward(float *y, const float *x, int rows, int cols, Activation a);
/* dx = dy ⊙ a'(·), from the output y; dx may alias dy. */
void act_backward(float *dx, const float *dy, const float *y, int rows, int cols, Activation a);

/* Scalar helpers shared by the recurrent cells. */
static inline float sigmoidf(float x) { return 1.0f / (1.0f + __builtin_expf(-x)); }

#endif
