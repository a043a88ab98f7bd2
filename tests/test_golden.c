/* test_golden.c — the recurrent layers against PyTorch.
 *
 * tests/golden/make_golden.py ran nn.LSTM, nn.GRU and nn.RNN(tanh) (2 layers, fixed seed) in
 * float64 on float32-representable inputs and weights and stored everything in
 * tests/golden/recurrent_golden.h5. Here the weights are mapped into exprun's layout
 *   W = [weight_hh | weight_ih]  (columns h first),  b = bias_ih + bias_hh
 *   GRU (pytorch variant): b[2H:3H] = bias_ih[2H:3H], b_hn = bias_hh[2H:3H]
 * and the float32 forward and backward must agree within 1e-5 of each array's scale:
 *   1. the stacked cells alone, with given h0/c0 and a probe loss on out, h_n and c_n;
 *   2. the sequence model (features → 2 layers → per-step linear head → squared error),
 *      with the weights set through the named parameter views. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gru.h"
#include "lstm.h"
#include "rnn.h"
#include "seqmodel.h"
#include "fixtures.h"
#include "testutil.h"

enum { T = 5, B = 2, N_IN = 3, H = 4, LAYERS = 2, N_OUT = 2 };
#define TOL 1e-5

static hid_t golden = -1;

/* Read dataset `path` (float64 in the file) as doubles; checks its element count. */
static double *load(const char *path, size_t want) {
    hid_t d = H5Dopen2(golden, path, H5P_DEFAULT);
    if (d < 0) {
        fprintf(stderr, "\n    %s: no dataset %s\n", "recurrent_golden.h5", path);
        return NULL;
    }
    hid_t sp = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(sp);
    double *buf = NULL;
    if (n == (hssize_t)want) {
        buf = malloc((size_t)n * sizeof(double));
        if (H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
            free(buf);
            buf = NULL;
        }
    } else {
        fprintf(stderr, "\n    %s has %lld values, expected %zu\n", path, (long long)n, want);
    }
    H5Sclose(sp);
    H5Dclose(d);
    return buf;
}

static float *load_f(const char *path, size_t want) {
    double *d = load(path, want);
    if (!d) return NULL;
    float *f = malloc(want * sizeof(float));
    for (size_t k = 0; k < want; k++) f[k] = (float)d[k];
    free(d);
    return f;
}

/* max |got − want| / max(max |want|, 1e-3) over the array; prints when above TOL. `stride`
 * and `cols` pick a column block of a row-major (rows, stride) matrix (cols = stride for all). */
static double compare_block(const char *what, const float *got, int rows, int stride, int cols,
                            const double *want) {
    double scale = 1e-3, worst = 0.0;
    for (int k = 0; k < rows * cols; k++) scale = fmax(scale, fabs(want[k]));
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < cols; j++)
            worst = fmax(worst, fabs((double)got[(size_t)r * stride + j] - want[(size_t)r * cols + j]));
    worst /= scale;
    if (worst > TOL) fprintf(stderr, "\n    %s: relative error %.3g\n", what, worst);
    return worst;
}

static double compare(const char *what, const float *got, size_t n, const double *want) {
    return compare_block(what, got, 1, (int)n, (int)n, want);
}

/* ---- the cells' layout from PyTorch's ------------------------------------------------------ */

typedef struct Layer {
    int n_in, G;          /* G = gates: 4 LSTM, 3 GRU, 1 RNN */
    float *W, *b, *b_hn;  /* (G·H, H + n_in), (G·H), (H) */
} Layer;

static void load_layer(Layer *ly, const char *cell, const char *group, int k, int G) {
    char path[128];
    ly->G = G;
    ly->n_in = k == 0 ? N_IN : H;
    int rows = G * H, ld = H + ly->n_in;
    snprintf(path, sizeof path, "%s/%sweight_ih_l%d", cell, group, k);
    double *w_ih = load(path, (size_t)rows * ly->n_in);
    snprintf(path, sizeof path, "%s/%sweight_hh_l%d", cell, group, k);
    double *w_hh = load(path, (size_t)rows * H);
    snprintf(path, sizeof path, "%s/%sbias_ih_l%d", cell, group, k);
    double *b_ih = load(path, (size_t)rows);
    snprintf(path, sizeof path, "%s/%sbias_hh_l%d", cell, group, k);
    double *b_hh = load(path, (size_t)rows);
    CU_ASSERT_FATAL(w_ih && w_hh && b_ih && b_hh);
    ly->W = malloc((size_t)rows * ld * sizeof(float));
    ly->b = malloc((size_t)rows * sizeof(float));
    ly->b_hn = malloc((size_t)H * sizeof(float));
    for (int j = 0; j < rows; j++) {
        for (int c = 0; c < H; c++) ly->W[(size_t)j * ld + c] = (float)w_hh[(size_t)j * H + c];
        for (int c = 0; c < ly->n_in; c++) ly->W[(size_t)j * ld + H + c] = (float)w_ih[(size_t)j * ly->n_in + c];
        int gru_n = G == 3 && j >= 2 * H;
        ly->b[j] = gru_n ? (float)b_ih[j] : (float)(b_ih[j] + b_hh[j]);
        if (gru_n) ly->b_hn[j - 2 * H] = (float)b_hh[j];
    }
    free(w_ih), free(w_hh), free(b_ih), free(b_hh);
}

static void free_layer(Layer *ly) { free(ly->W), free(ly->b), free(ly->b_hn); }

/* Compare dW, db (and db_hn) of layer k with PyTorch's grad/<name>. */
static double compare_layer_grads(const char *cell, const char *group, int k, const Layer *ly, const float *dW,
                                  const float *db, const float *db_hn) {
    char path[128], what[160];
    int rows = ly->G * H, ld = H + ly->n_in;
    double worst = 0.0;
    snprintf(path, sizeof path, "%s/%sgrad/weight_hh_l%d", cell, group, k);
    double *g = load(path, (size_t)rows * H);
    snprintf(what, sizeof what, "%s %s", cell, path);
    if (g) worst = fmax(worst, compare_block(what, dW, rows, ld, H, g));
    free(g);
    snprintf(path, sizeof path, "%s/%sgrad/weight_ih_l%d", cell, group, k);
    g = load(path, (size_t)rows * ly->n_in);
    snprintf(what, sizeof what, "%s %s", cell, path);
    if (g) worst = fmax(worst, compare_block(what, dW + H, rows, ld, ly->n_in, g));
    free(g);
    /* both PyTorch biases get ∂L/∂(pre-activation) summed — except the GRU's b_hn */
    snprintf(path, sizeof path, "%s/%sgrad/bias_ih_l%d", cell, group, k);
    g = load(path, (size_t)rows);
    snprintf(what, sizeof what, "%s %s", cell, path);
    if (g) worst = fmax(worst, compare(what, db, (size_t)rows, g));
    free(g);
    snprintf(path, sizeof path, "%s/%sgrad/bias_hh_l%d", cell, group, k);
    g = load(path, (size_t)rows);
    snprintf(what, sizeof what, "%s %s", cell, path);
    if (g && ly->G == 3) {
        worst = fmax(worst, compare(what, db, 2 * (size_t)H, g));
        worst = fmax(worst, compare(what, db_hn, (size_t)H, g + 2 * H));
    } else if (g) {
        worst = fmax(worst, compare(what, db, (size_t)rows, g));
    }
    free(g);
    if (!g && worst == 0.0) worst = 1.0;
    return worst;
}

/* ---- 1. the stacked cells alone -------------------------------------------------------------- */

static double dot(const float *a, const float *b, size_t n) {
    double s = 0.0;
    for (size_t k = 0; k < n; k++) s += (double)a[k] * b[k];
    return s;
}

static void check_cells(CellType cell) {
    const char *name = cell_type_name(cell);
    int G = cell == CELL_LSTM ? 4 : cell == CELL_GRU ? 3 : 1;
    char path[64];
    Layer ly[LAYERS];
    for (int k = 0; k < LAYERS; k++) load_layer(&ly[k], name, "", k, G);
    const size_t BH = (size_t)B * H;
#define LOAD(var, key, n)                                  \
    snprintf(path, sizeof path, "%s/" key, name);          \
    float *var = load_f(path, n);                          \
    CU_ASSERT_FATAL(var != NULL)
    LOAD(x, "x", (size_t)T * B * N_IN);
    LOAD(h0, "h0", LAYERS * BH);
    LOAD(probe_out, "probe_out", T * BH);
    LOAD(probe_h, "probe_h", LAYERS * BH);
#undef LOAD
    float *c0 = NULL, *probe_c = NULL;
    if (cell == CELL_LSTM) {
        snprintf(path, sizeof path, "%s/c0", name);
        c0 = load_f(path, LAYERS * BH);
        snprintf(path, sizeof path, "%s/probe_c", name);
        probe_c = load_f(path, LAYERS * BH);
        CU_ASSERT_FATAL(c0 && probe_c);
    }

    RnnCache rc[LAYERS];
    RnnWork rw[LAYERS];
    LstmCache lc[LAYERS];
    LstmWork lw[LAYERS];
    GruCache gc[LAYERS];
    GruWork gw[LAYERS];
    const float *outs[LAYERS], *h_n[LAYERS], *c_n[LAYERS];
    const float *in = x;
    for (int k = 0; k < LAYERS; k++) {
        switch (cell) {
        case CELL_RNN:
            rnn_cache_alloc(&rc[k], RNN_ELMAN, B, T, ly[k].n_in, H), rnn_work_alloc(&rw[k], B, T, ly[k].n_in, H);
            rnn_forward(&rc[k], in, h0 + k * BH, ly[k].W, ly[k].b, RNN_ELMAN, ACT_TANH, B, T, ly[k].n_in, H);
            outs[k] = rnn_output(&rc[k], RNN_ELMAN, B, H), h_n[k] = rnn_final_state(&rc[k], B, T, H);
            break;
        case CELL_LSTM:
            lstm_cache_alloc(&lc[k], B, T, ly[k].n_in, H), lstm_work_alloc(&lw[k], B, T, ly[k].n_in, H);
            lstm_forward(&lc[k], in, h0 + k * BH, c0 + k * BH, ly[k].W, ly[k].b, B, T, ly[k].n_in, H);
            outs[k] = lstm_output(&lc[k], B, H), h_n[k] = lstm_final_h(&lc[k], B, T, H);
            c_n[k] = lstm_final_c(&lc[k], B, T, H);
            break;
        case CELL_GRU:
            gru_cache_alloc(&gc[k], B, T, ly[k].n_in, H), gru_work_alloc(&gw[k], GRU_PYTORCH, B, T, ly[k].n_in, H);
            gru_forward(&gc[k], in, h0 + k * BH, ly[k].W, ly[k].b, ly[k].b_hn, GRU_PYTORCH, B, T, ly[k].n_in, H);
            outs[k] = gru_output(&gc[k], B, H), h_n[k] = gru_final_h(&gc[k], B, T, H);
            break;
        }
        in = outs[k];
    }
    char what[64];
    snprintf(path, sizeof path, "%s/out", name);
    double *want = load(path, T * BH);
    snprintf(what, sizeof what, "%s out", name);
    CU_ASSERT(want && compare(what, outs[LAYERS - 1], T * BH, want) < TOL);
    free(want);
    double loss = dot(outs[LAYERS - 1], probe_out, T * BH);
    snprintf(path, sizeof path, "%s/h_n", name);
    want = load(path, LAYERS * BH);
    for (int k = 0; k < LAYERS && want; k++) {
        snprintf(what, sizeof what, "%s h_n[%d]", name, k);
        CU_ASSERT(compare(what, h_n[k], BH, want + k * BH) < TOL);
        loss += dot(h_n[k], probe_h + k * BH, BH);
    }
    free(want);
    if (cell == CELL_LSTM) {
        snprintf(path, sizeof path, "%s/c_n", name);
        want = load(path, LAYERS * BH);
        for (int k = 0; k < LAYERS && want; k++) {
            snprintf(what, sizeof what, "%s c_n[%d]", name, k);
            CU_ASSERT(compare(what, c_n[k], BH, want + k * BH) < TOL);
            loss += dot(c_n[k], probe_c + k * BH, BH);
        }
        free(want);
    }
    snprintf(path, sizeof path, "%s/loss", name);
    want = load(path, 1);
    CU_ASSERT(want && fabs(loss - want[0]) < TOL * fmax(1.0, fabs(want[0])));
    free(want);

    /* backward: the top layer gets probe_out from above and probe_h (probe_c) into its final
     * state; its ∂L/∂input is the layer below's ∂L/∂out */
    float *dout = malloc(T * BH * sizeof(float)), *dx_top = malloc(T * BH * sizeof(float));
    float *dx = malloc((size_t)T * B * N_IN * sizeof(float));
    float *dh0 = calloc(LAYERS * BH, sizeof(float)), *dc0 = calloc(LAYERS * BH, sizeof(float));
    memcpy(dout, probe_out, T * BH * sizeof(float));
    double worst = 0.0;
    for (int k = LAYERS - 1; k >= 0; k--) {
        size_t nW = (size_t)G * H * (H + ly[k].n_in);
        float *dW = calloc(nW, sizeof(float)), *db = calloc((size_t)G * H, sizeof(float));
        float *db_hn = calloc(H, sizeof(float));
        const float *layer_in = k == 0 ? x : outs[k - 1];
        float *din = k == 0 ? dx : dx_top;
        switch (cell) {
        case CELL_RNN:
            rnn_backward(din, dh0 + k * BH, dW, db, NULL, &rw[k], dout, probe_h + k * BH, &rc[k], layer_in,
                         ly[k].W, RNN_ELMAN, ACT_TANH, B, T, ly[k].n_in, H);
            break;
        case CELL_LSTM:
            lstm_backward(din, dh0 + k * BH, dc0 + k * BH, dW, db, NULL, &lw[k], dout, probe_h + k * BH,
                          probe_c + k * BH, &lc[k], layer_in, ly[k].W, B, T, ly[k].n_in, H);
            break;
        case CELL_GRU:
            gru_backward(din, dh0 + k * BH, dW, db, db_hn, NULL, &gw[k], dout, probe_h + k * BH, &gc[k], layer_in,
                         ly[k].W, GRU_PYTORCH, B, T, ly[k].n_in, H);
            break;
        }
        if (k > 0) memcpy(dout, dx_top, T * BH * sizeof(float));
        worst = fmax(worst, compare_layer_grads(name, "", k, &ly[k], dW, db, db_hn));
        free(dW), free(db), free(db_hn);
    }
    CU_ASSERT(worst < TOL);
    snprintf(path, sizeof path, "%s/grad/x", name);
    want = load(path, (size_t)T * B * N_IN);
    snprintf(what, sizeof what, "%s grad/x", name);
    CU_ASSERT(want && compare(what, dx, (size_t)T * B * N_IN, want) < TOL);
    free(want);
    snprintf(path, sizeof path, "%s/grad/h0", name);
    want = load(path, LAYERS * BH);
    snprintf(what, sizeof what, "%s grad/h0", name);
    CU_ASSERT(want && compare(what, dh0, LAYERS * BH, want) < TOL);
    free(want);
    if (cell == CELL_LSTM) {
        snprintf(path, sizeof path, "%s/grad/c0", name);
        want = load(path, LAYERS * BH);
        snprintf(what, sizeof what, "%s grad/c0", name);
        CU_ASSERT(want && compare(what, dc0, LAYERS * BH, want) < TOL);
        free(want);
    }

    for (int k = 0; k < LAYERS; k++) {
        if (cell == CELL_RNN) rnn_cache_free(&rc[k]), rnn_work_free(&rw[k]);
        if (cell == CELL_LSTM) lstm_cache_free(&lc[k]), lstm_work_free(&lw[k]);
        if (cell == CELL_GRU) gru_cache_free(&gc[k]), gru_work_free(&gw[k]);
        free_layer(&ly[k]);
    }
    free(x), free(h0), free(c0), free(probe_out), free(probe_h), free(probe_c);
    free(dout), free(dx_top), free(dx), free(dh0), free(dc0);
}

static void test_lstm_cells(void) { check_cells(CELL_LSTM); }
static void test_gru_cells(void) { check_cells(CELL_GRU); }
static void test_rnn_cells(void) { check_cells(CELL_RNN); }

/* ---- 2. inside the sequence model ------------------------------------------------------------ */

static void set_view(Model *m, const char *view, const float *src, size_t n) {
    int i = params_find(&m->params, view);
    CU_ASSERT_FATAL(i >= 0);
    CU_ASSERT_FATAL(m->params.views[i].size == n);
    memcpy(params_value(&m->params, i), src, n * sizeof(float));
}

static void check_seqmodel(CellType cell) {
    const char *name = cell_type_name(cell);
    int G = cell == CELL_LSTM ? 4 : cell == CELL_GRU ? 3 : 1;
    SeqModelConfig c = fixture_seqmodel();
    c.cell = cell, c.rnn_form = RNN_ELMAN, c.rnn_act = ACT_TANH, c.gru_variant = GRU_PYTORCH;
    c.num_layers = LAYERS, c.hidden[0] = c.hidden[1] = H;
    c.input = SEQ_INPUT_FEATURES, c.n_features = N_IN;
    c.head = SEQ_HEAD_PER_STEP, c.n_out = N_OUT, c.loss = LOSS_SQUARED_ERROR;
    c.max_batch = B, c.max_T = T;
    Model *m = NULL;
    ExError err = {{0}};
    Rng rng;
    rng_seed(&rng, 1);
    CU_ASSERT_FATAL(seqmodel_create(&m, &c, &rng, &err) == 0);

    Layer ly[LAYERS];
    char view[64], path[64];
    for (int k = 0; k < LAYERS; k++) {
        load_layer(&ly[k], name, "", k, G);
        snprintf(view, sizeof view, "%s%d/W", name, k);
        set_view(m, view, ly[k].W, (size_t)G * H * (H + ly[k].n_in));
        snprintf(view, sizeof view, "%s%d/b", name, k);
        set_view(m, view, ly[k].b, (size_t)G * H);
        if (cell == CELL_GRU) {
            snprintf(view, sizeof view, "%s%d/b_hn", name, k);
            set_view(m, view, ly[k].b_hn, H);
        }
    }
    snprintf(path, sizeof path, "%s/seq/head_W", name);
    float *hW = load_f(path, N_OUT * H);
    snprintf(path, sizeof path, "%s/seq/head_b", name);
    float *hb = load_f(path, N_OUT);
    snprintf(path, sizeof path, "%s/seq/x", name);
    float *x = load_f(path, (size_t)B * T * N_IN);
    snprintf(path, sizeof path, "%s/seq/y", name);
    float *y = load_f(path, (size_t)B * T * N_OUT);
    CU_ASSERT_FATAL(hW && hb && x && y);
    set_view(m, "head/W", hW, N_OUT * H);
    set_view(m, "head/b", hb, N_OUT);

    Batch b = {.B = B, .T = T, .d = N_IN, .x = x, .Ty = T, .dy = N_OUT, .y = y};
    params_zero_grad(&m->params);
    double loss = m->ops->train_batch(m, &b, NULL, NULL);
    snprintf(path, sizeof path, "%s/seq/loss", name);
    double *want = load(path, 1);
    CU_ASSERT(want && fabs(loss - want[0]) < TOL * fmax(1.0, fabs(want[0])));
    free(want);

    double worst = 0.0;
    for (int k = 0; k < LAYERS; k++) {
        snprintf(view, sizeof view, "%s%d/W", name, k);
        const float *dW = params_grad(&m->params, params_find(&m->params, view));
        snprintf(view, sizeof view, "%s%d/b", name, k);
        const float *db = params_grad(&m->params, params_find(&m->params, view));
        snprintf(view, sizeof view, "%s%d/b_hn", name, k);
        int i_hn = params_find(&m->params, view);
        const float *db_hn = i_hn >= 0 ? params_grad(&m->params, i_hn) : NULL;
        worst = fmax(worst, compare_layer_grads(name, "seq/", k, &ly[k], dW, db, db_hn));
        free_layer(&ly[k]);
    }
    char what[64];
    snprintf(path, sizeof path, "%s/seq/grad/head_W", name);
    want = load(path, N_OUT * H);
    snprintf(what, sizeof what, "%s head/W grad", name);
    worst = fmax(worst, want ? compare(what, params_grad(&m->params, params_find(&m->params, "head/W")), N_OUT * H, want) : 1.0);
    free(want);
    snprintf(path, sizeof path, "%s/seq/grad/head_b", name);
    want = load(path, N_OUT);
    snprintf(what, sizeof what, "%s head/b grad", name);
    worst = fmax(worst, want ? compare(what, params_grad(&m->params, params_find(&m->params, "head/b")), N_OUT, want) : 1.0);
    free(want);
    CU_ASSERT(worst < TOL);
    free(hW), free(hb), free(x), free(y);
    model_free(m);
}

static void test_lstm_seqmodel(void) { check_seqmodel(CELL_LSTM); }
static void test_gru_seqmodel(void) { check_seqmodel(CELL_GRU); }
static void test_rnn_seqmodel(void) { check_seqmodel(CELL_RNN); }

int main(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/golden/recurrent_golden.h5", source_dir());
    golden = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (golden < 0) {
        fprintf(stderr, "test_golden: cannot open %s (regenerate with /usr/bin/python3 tests/golden/make_golden.py)\n",
                path);
        return 1;
    }
    const TestCase cases[] = {
        {"nn.LSTM 2 layers: out, h_n, c_n, all grads", test_lstm_cells},
        {"nn.GRU 2 layers: out, h_n, all grads", test_gru_cells},
        {"nn.RNN tanh 2 layers: out, h_n, all grads", test_rnn_cells},
        {"LSTM sequence model + linear head, squared error", test_lstm_seqmodel},
        {"GRU sequence model + linear head, squared error", test_gru_seqmodel},
        {"RNN sequence model + linear head, squared error", test_rnn_seqmodel},
        {NULL, NULL},
    };
    int rc = run_tests("golden", cases);
    H5Fclose(golden);
    return rc;
}
