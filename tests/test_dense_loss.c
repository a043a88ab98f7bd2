/* test_dense_loss.c — finite-difference checks for the dense layer (every activation, plain and
 * tied/transposed weights; the packed fast path and the plain reference) and for every loss. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dense.h"
#include "loss.h"
#include "testutil.h"

enum { B = 3, N_IN = 5, N_OUT = 4 };

static DenseWork work;   /* packing room for every product below */

typedef struct DenseCase {
    float in[B * N_IN], W[N_OUT * N_IN], b[N_OUT], target[B * N_OUT];
    int transposed;
    Activation act;
    int reference;   /* 1: dense_*_reference */
} DenseCase;

/* L = Σ target ⊙ out: a loss whose gradient w.r.t. out is just target. */
static double dense_loss(void *ctx) {
    DenseCase *c = ctx;
    float out[B * N_OUT];
    if (c->reference) dense_forward_reference(out, c->in, c->W, c->b, B, N_IN, N_OUT, c->transposed, c->act);
    else dense_forward(out, c->in, c->W, c->b, B, N_IN, N_OUT, c->transposed, c->act, &work);
    double sum = 0.0;
    for (int i = 0; i < B * N_OUT; i++) sum += (double)out[i] * c->target[i];
    return sum;
}

static void check_dense(Activation act, int transposed, int reference) {
    DenseCase c;
    fill_uniform(c.in, B * N_IN, -1.0f, 1.0f, 1);
    fill_uniform(c.W, N_OUT * N_IN, -0.8f, 0.8f, 2);
    fill_uniform(c.b, N_OUT, -0.5f, 0.5f, 3);
    fill_uniform(c.target, B * N_OUT, -1.0f, 1.0f, 4);
    c.transposed = transposed;
    c.act = act;
    c.reference = reference;
    float out[B * N_OUT], dout[B * N_OUT], din[B * N_IN];
    float dW[N_OUT * N_IN] = {0}, db[N_OUT] = {0};
    memcpy(dout, c.target, sizeof dout);
    if (reference) {
        dense_forward_reference(out, c.in, c.W, c.b, B, N_IN, N_OUT, transposed, act);
        dense_backward_reference(din, dW, db, dout, out, c.in, c.W, B, N_IN, N_OUT, transposed, act);
    } else {
        dense_forward(out, c.in, c.W, c.b, B, N_IN, N_OUT, transposed, act, &work);
        dense_backward(din, dW, db, dout, out, c.in, c.W, B, N_IN, N_OUT, transposed, act, &work);
    }
    double h = 1e-3, floor = 1e-4;
    double e_in = gradcheck(dense_loss, &c, c.in, din, B * N_IN, 0, h, floor);
    double e_W = gradcheck(dense_loss, &c, c.W, dW, N_OUT * N_IN, 0, h, floor);
    double e_b = gradcheck(dense_loss, &c, c.b, db, N_OUT, 0, h, floor);
    if (e_in > 2e-2 || e_W > 2e-2 || e_b > 2e-2)
        printf("\n  %s transposed=%d reference=%d: in %.2e W %.2e b %.2e\n", act_name(act), transposed, reference,
               e_in, e_W, e_b);
    CU_ASSERT(e_in < 2e-2);
    CU_ASSERT(e_W < 2e-2);
    CU_ASSERT(e_b < 2e-2);
}

static void test_dense_every_activation(void) {
    for (int a = 0; a < ACT_COUNT; a++) {
        for (int reference = 0; reference < 2; reference++) {
            check_dense((Activation)a, 0, reference);
            check_dense((Activation)a, 1, reference);
        }
    }
}

/* Backward must accumulate into dW (tied weights use W twice). */
static void test_dense_accumulates(void) {
    float in[N_IN], W[N_OUT * N_IN], out[N_OUT], dout[N_OUT], dW[N_OUT * N_IN], dW2[N_OUT * N_IN];
    fill_uniform(in, N_IN, -1, 1, 5);
    fill_uniform(W, N_OUT * N_IN, -1, 1, 6);
    memset(dW, 0, sizeof dW);
    dense_forward(out, in, W, NULL, 1, N_IN, N_OUT, 0, ACT_IDENTITY, &work);
    for (int i = 0; i < N_OUT; i++) dout[i] = 1.0f;
    dense_backward(NULL, dW, NULL, dout, out, in, W, 1, N_IN, N_OUT, 0, ACT_IDENTITY, &work);
    memcpy(dW2, dW, sizeof dW);
    for (int i = 0; i < N_OUT; i++) dout[i] = 1.0f;
    dense_backward(NULL, dW, NULL, dout, out, in, W, 1, N_IN, N_OUT, 0, ACT_IDENTITY, &work);
    for (int i = 0; i < N_OUT * N_IN; i++) CU_ASSERT_DOUBLE_EQUAL(dW[i], 2 * dW2[i], 1e-6);
}

typedef struct LossCase {
    float pred[B * N_OUT], target[B * N_OUT];
    int32_t labels[B];
    int which;
} LossCase;

static double loss_value(void *ctx) {
    LossCase *c = ctx;
    switch (c->which) {
    case 0: return loss_squared_error(NULL, c->pred, c->target, B, N_OUT);
    case 1: return loss_binary_cross_entropy(NULL, c->pred, c->target, B, N_OUT);
    case 2: { /* sigmoid + cross-entropy: pred holds the pre-activation here */
        float p[B * N_OUT];
        act_forward(p, c->pred, B, N_OUT, ACT_SIGMOID);
        return loss_sigmoid_cross_entropy(NULL, p, c->target, B, N_OUT);
    }
    default: return loss_softmax_cross_entropy(NULL, c->pred, c->labels, B, N_OUT, 0);
    }
}

static void test_loss_gradients(void) {
    for (int which = 0; which < 4; which++) {
        LossCase c;
        c.which = which;
        fill_uniform(c.pred, B * N_OUT, 0.1f, 0.9f, 10 + which);
        fill_uniform(c.target, B * N_OUT, 0.0f, 1.0f, 20 + which);
        if (which >= 2) fill_uniform(c.pred, B * N_OUT, -2.0f, 2.0f, 30 + which);
        c.labels[0] = 1, c.labels[1] = 3, c.labels[2] = 0;
        float grad[B * N_OUT];
        if (which == 0) loss_squared_error(grad, c.pred, c.target, B, N_OUT);
        if (which == 1) loss_binary_cross_entropy(grad, c.pred, c.target, B, N_OUT);
        if (which == 2) {
            float p[B * N_OUT];
            act_forward(p, c.pred, B, N_OUT, ACT_SIGMOID);
            loss_sigmoid_cross_entropy(grad, p, c.target, B, N_OUT);
        }
        if (which == 3) loss_softmax_cross_entropy(grad, c.pred, c.labels, B, N_OUT, 0);
        double err = gradcheck(loss_value, &c, c.pred, grad, B * N_OUT, 0, 1e-3, 1e-4);
        CU_ASSERT(err < 1e-2);
    }
}

/* The lecture's squared error: (1/m) Σ_i Σ_j (x̂_ij − x_ij)², checked by hand. */
static void test_squared_error_value(void) {
    float pred[4] = {1, 2, 3, 4}, target[4] = {0, 2, 5, 4};
    CU_ASSERT_DOUBLE_EQUAL(loss_squared_error(NULL, pred, target, 2, 2), (1.0 + 4.0) / 2.0, 1e-12);
}

/* Padding rows (target −1) add nothing and get exactly zero gradient. */
static void test_softmax_ce_padding(void) {
    float logits[3 * 4], grad[3 * 4];
    fill_uniform(logits, 12, -1, 1, 40);
    int32_t t_all[3] = {2, -1, 1}, t_two[2] = {2, 1};
    float two[8];
    memcpy(two, logits, 4 * sizeof(float));
    memcpy(two + 4, logits + 8, 4 * sizeof(float));
    double with_pad = loss_softmax_cross_entropy(grad, logits, t_all, 3, 4, 0);
    double without = loss_softmax_cross_entropy(NULL, two, t_two, 2, 4, 0);
    CU_ASSERT_DOUBLE_EQUAL(with_pad, without, 1e-12);
    for (int j = 0; j < 4; j++) CU_ASSERT_EQUAL(grad[4 + j], 0.0f);
    /* uniform logits over V classes give log V */
    float zeros[4] = {0};
    int32_t t0[1] = {0};
    CU_ASSERT_DOUBLE_EQUAL(loss_softmax_cross_entropy(NULL, zeros, t0, 1, 4, 0), log(4.0), 1e-6);
}

int main(void) {
    size_t floats = 0;
    dense_work_reserve(&floats, B, N_IN, N_OUT);
    dense_work_alloc(&work, floats);
    TestCase cases[] = {{"dense gradient, every activation, plain and tied", test_dense_every_activation},
                        {"dense backward accumulates dW", test_dense_accumulates},
                        {"loss gradients (squared error, BCE, sigmoid+BCE, softmax CE)", test_loss_gradients},
                        {"squared error by hand", test_squared_error_value},
                        {"softmax CE padding rows", test_softmax_ce_padding},
                        {NULL, NULL}};
    int status = run_tests("dense_loss", cases);
    dense_work_free(&work);
    return status;
}
