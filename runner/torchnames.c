/* torchnames.c — exprun's views under PyTorch's names (the rules in torchnames.h). */
#include "torchnames.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act.h"
#include "strbuf.h"

/* ---- building the list -------------------------------------------------------------------- */

static StTensor *add(TorchState *ts, const char *name, int rank, const int *shape, const float *data) {
    if (ts->n == ts->cap) {
        ts->cap = ts->cap ? 2 * ts->cap : 32;
        ts->tensors = ex_realloc(ts->tensors, (size_t)ts->cap * sizeof *ts->tensors);
    }
    StTensor *t = &ts->tensors[ts->n++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->rank = rank;
    for (int d = 0; d < rank; d++) t->shape[d] = shape[d];
    t->data = data;
    return t;
}

/* n floats the state owns, zeroed. */
static float *owned(TorchState *ts, size_t n) {
    ts->owned = ex_realloc(ts->owned, (size_t)(ts->n_owned + 1) * sizeof *ts->owned);
    return ts->owned[ts->n_owned++] = ex_calloc(n ? n : 1, sizeof(float));
}

/* Columns [c0, c0 + cols) of a (rows, ld) matrix, as a (rows, cols) one. */
static float *columns(TorchState *ts, const float *M, int rows, int ld, int c0, int cols) {
    float *out = owned(ts, (size_t)rows * cols);
    for (int r = 0; r < rows; r++) memcpy(out + (size_t)r * cols, M + (size_t)r * ld + c0, (size_t)cols * sizeof(float));
    return out;
}

static const ParamView *view(const Params *p, const char *layer, const char *part) {
    char name[2 * PARAM_NAME_MAX + 8];
    snprintf(name, sizeof name, "%s/%s", layer, part);
    int i = params_find(p, name);
    return i < 0 ? NULL : &p->views[i];
}

static const float *values(const Params *p, const ParamView *v) { return p->value + v->offset; }

/* ---- recurrent layers --------------------------------------------------------------------- */

/* A recurrent layer's W: its layout names the columns [h|x] (cell.h). G from the layout's first
 * axis ("4H,H+I" → 4; "H,H+I" → 1). */
static int recurrent_gates(const ParamView *W) {
    if (!W || W->rank != 2 || !strstr(W->layout, "cols [")) return 0;
    return isdigit((unsigned char)W->layout[0]) ? W->layout[0] - '0' : 1;
}

/* "enc_lstm1" → stack "enc_lstm", layer 1 (−1 without a number). */
static int split_layer(const char *layer, char *stack, size_t cap) {
    size_t n = strlen(layer), k = n;
    while (k > 0 && isdigit((unsigned char)layer[k - 1])) k--;
    snprintf(stack, cap, "%.*s", (int)k, layer);
    return k < n ? atoi(layer + k) : -1;
}

typedef struct Stack {
    char name[PARAM_NAME_MAX];
    int layers, uniform, H, n_in0, G;
    int lecture, b_hn;
} Stack;

/* Every recurrent stack of p, in the order of its first layer. */
static int find_stacks(const Params *p, Stack *stacks, int cap) {
    int n = 0;
    for (int i = 0; i < p->count; i++) {
        const ParamView *W = &p->views[i];
        const char *slash = strrchr(W->name, '/');
        int G = recurrent_gates(W);
        if (!slash || strcmp(slash, "/W") != 0 || G == 0) continue;
        char layer[PARAM_NAME_MAX], stack[PARAM_NAME_MAX];
        snprintf(layer, sizeof layer, "%.*s", (int)(slash - W->name), W->name);
        split_layer(layer, stack, sizeof stack);
        int H = W->shape[0] / G, s = 0;
        while (s < n && strcmp(stacks[s].name, stack) != 0) s++;
        if (s == n) {
            if (n == cap) continue;
            memset(&stacks[n], 0, sizeof stacks[n]);
            snprintf(stacks[n].name, sizeof stacks[n].name, "%s", stack);
            stacks[n].uniform = 1, stacks[n].H = H, stacks[n].n_in0 = W->shape[1] - H, stacks[n].G = G;
            stacks[n].lecture = strstr(W->layout, "[phi(h)|x]") != NULL;
            n++;
        }
        stacks[s].layers++;
        if (H != stacks[s].H) stacks[s].uniform = 0;
        if (view(p, layer, "b_hn")) stacks[s].b_hn = 1;
    }
    return n;
}

static const char *torch_class(const Stack *st) { return st->G == 4 ? "LSTM" : st->G == 3 ? "GRU" : "RNN"; }

/* One layer: W split into weight_hh / weight_ih, the folded bias as bias_ih with a zero bias_hh
 * (its gate n block b_hn for PyTorch's GRU), the learned initial states. */
static void add_recurrent_layer(TorchState *ts, const Params *p, const Stack *st, const char *layer, int index) {
    const ParamView *W = view(p, layer, "W"), *b = view(p, layer, "b"), *b_hn = view(p, layer, "b_hn");
    int GH = W->shape[0], H = GH / st->G, n_in = W->shape[1] - H;
    char module[PARAM_NAME_MAX + 8], name[PARAM_NAME_MAX + 40];
    int l = st->uniform ? index : 0;
    snprintf(module, sizeof module, "%s", st->uniform ? st->name : layer);
    snprintf(name, sizeof name, "%s.weight_ih_l%d", module, l);
    add(ts, name, 2, (int[]){GH, n_in}, columns(ts, values(p, W), GH, W->shape[1], H, n_in));
    snprintf(name, sizeof name, "%s.weight_hh_l%d", module, l);
    add(ts, name, 2, (int[]){GH, H}, columns(ts, values(p, W), GH, W->shape[1], 0, H));
    if (b) {
        snprintf(name, sizeof name, "%s.bias_ih_l%d", module, l);
        add(ts, name, 1, (int[]){GH}, values(p, b));
        float *bias_hh = owned(ts, (size_t)GH);
        if (b_hn) memcpy(bias_hh + 2 * H, values(p, b_hn), (size_t)H * sizeof(float));   /* r, z, n */
        snprintf(name, sizeof name, "%s.bias_hh_l%d", module, l);
        add(ts, name, 1, (int[]){GH}, bias_hh);
    }
    static const char *const states[][2] = {{"h0", "initial_h"}, {"c0", "initial_c"}};
    for (int k = 0; k < 2; k++) {
        const ParamView *s0 = view(p, layer, states[k][0]);
        if (!s0) continue;
        snprintf(name, sizeof name, "%s.%s_l%d", module, states[k][1], l);
        add(ts, name, s0->rank, s0->shape, values(p, s0));
    }
}

/* The module a stack (uniform) or one of its layers loads into: `module` with input_size n_in,
 * hidden_size H and `layers` layers. */
static void describe_module(StrBuf *m, const Stack *st, const Spec *spec, const char *module, int n_in, int H,
                            int layers) {
    const RecurrentSpec *r = &spec->model.rec;
    const char *cls = torch_class(st);
    if (st->G == 1 && (st->lecture || (r->activation != ACT_TANH && r->activation != ACT_RELU))) {
        strbuf_printf(m, "%s: no torch.nn module: %s (weight_hh = theta, weight_ih = theta_x)\n", module,
                      st->lecture ? "the lecture's RNN h_t = theta phi(h_{t-1}) + theta_x x_t"
                                  : "an Elman RNN whose phi torch.nn.RNN lacks");
        return;
    }
    if (st->G == 3 && !st->b_hn) {
        strbuf_printf(m, "%s: no torch.nn module: the GRU of Cho et al. (r_t multiplies h_{t-1} before weight_hh); "
                         "torch.nn.GRU multiplies the product\n", module);
        return;
    }
    strbuf_printf(m, "%s: torch.nn.%s(input_size=%d, hidden_size=%d", module, cls, n_in, H);
    if (layers > 1) strbuf_printf(m, ", num_layers=%d", layers);
    if (st->G == 1) strbuf_printf(m, ", nonlinearity='%s'", r->activation == ACT_RELU ? "relu" : "tanh");
    strbuf_puts(m, ")\n");
}

/* ---- dense layers and embeddings ---------------------------------------------------------- */

/* The autoencoder's layer activations along the chain enc0..enc<k>, dec0..dec<k> (spec.h). */
static Activation ae_activation(const AutoencoderSpec *ae, const char *layer) {
    int k = ae->n_hidden, i = atoi(layer + 3);
    if (strncmp(layer, "enc", 3) == 0) return i < k ? ae->hidden_act[i] : ae->g;
    return i < k ? ae->hidden_act[k - 1 - i] : ae->f;
}

static void add_dense(TorchState *ts, StrBuf *m, const Params *p, const Spec *spec, const char *layer) {
    const ParamView *W = view(p, layer, "W"), *b = view(p, layer, "b");
    char name[PARAM_NAME_MAX + 16];
    int n_out, n_in;
    if (W) {
        n_out = W->shape[0], n_in = W->shape[1];
        snprintf(name, sizeof name, "%s.weight", layer);
        add(ts, name, 2, W->shape, values(p, W));
    } else {
        /* a tied decoder dec<i>: W* = (enc<m−1−i>.W)ᵀ, m encoder layers */
        int m_enc = 0;
        char enc[PARAM_NAME_MAX];
        for (;; m_enc++) {
            snprintf(enc, sizeof enc, "enc%d", m_enc);
            if (!view(p, enc, "W")) break;
        }
        snprintf(enc, sizeof enc, "enc%d", m_enc - 1 - atoi(layer + 3));
        const ParamView *E = view(p, enc, "W");
        n_out = E->shape[1], n_in = E->shape[0];
        float *Wt = owned(ts, (size_t)n_out * n_in);
        const float *e = values(p, E);
        for (int r = 0; r < n_in; r++)
            for (int c = 0; c < n_out; c++) Wt[(size_t)c * n_in + r] = e[(size_t)r * n_out + c];
        snprintf(name, sizeof name, "%s.weight", layer);
        add(ts, name, 2, (int[]){n_out, n_in}, Wt);
    }
    if (b) {
        snprintf(name, sizeof name, "%s.bias", layer);
        add(ts, name, 1, b->shape, values(p, b));
    }
    strbuf_printf(m, "%s: torch.nn.Linear(%d, %d)", layer, n_in, n_out);
    if (spec->model.type == MODEL_AUTOENCODER) {
        Activation act = ae_activation(&spec->model.ae, layer);
        strbuf_printf(m, ", then %s%s", act_name(act), !W ? " (tied: the transpose of its encoder layer's weight)" : "");
    }
    strbuf_putc(m, '\n');
}

/* ---- the whole state ---------------------------------------------------------------------- */

static int done_layer(char (*done)[PARAM_NAME_MAX], int n, const char *layer) {
    for (int k = 0; k < n; k++)
        if (strcmp(done[k], layer) == 0) return 1;
    return 0;
}

int torch_state_from_params(const Params *p, const Spec *spec, TorchState *ts, ExError *err) {
    memset(ts, 0, sizeof *ts);
    Stack stacks[16];
    int n_stacks = find_stacks(p, stacks, 16);
    StrBuf m = {0};
    char (*done)[PARAM_NAME_MAX] = ex_calloc((size_t)p->count + 1, sizeof *done);
    int n_done = 0, described[16] = {0};
    for (int i = 0; i < p->count; i++) {
        const ParamView *v = &p->views[i];
        const char *slash = strrchr(v->name, '/');
        if (!slash) {
            free(done);
            strbuf_free(&m);
            torch_state_free(ts);
            return ex_fail(err, "view %s: not of the form LAYER/NAME", v->name);
        }
        char layer[PARAM_NAME_MAX], stack[PARAM_NAME_MAX], name[PARAM_NAME_MAX + 16];
        snprintf(layer, sizeof layer, "%.*s", (int)(slash - v->name), v->name);
        if (done_layer(done, n_done, layer)) continue;
        snprintf(done[n_done++], PARAM_NAME_MAX, "%s", layer);
        int index = split_layer(layer, stack, sizeof stack);
        const ParamView *W = view(p, layer, "W");
        int s = 0;
        while (s < n_stacks && strcmp(stacks[s].name, stack) != 0) s++;
        if (recurrent_gates(W) && s < n_stacks) {
            add_recurrent_layer(ts, p, &stacks[s], layer, index < 0 ? 0 : index);
            const Stack *st = &stacks[s];
            if (st->uniform && !described[s]) describe_module(&m, st, spec, st->name, st->n_in0, st->H, st->layers);
            if (!st->uniform)   /* one module per layer, each its own sizes */
                describe_module(&m, st, spec, layer, W->shape[1] - W->shape[0] / st->G, W->shape[0] / st->G, 1);
            described[s] = 1;
        } else if (strncmp(layer, "state", 5) == 0 && index >= 0) {
            /* one_to_many's initial states per class */
            for (int k = 0; k < 2; k++) {
                const ParamView *s0 = view(p, layer, k ? "c" : "h");
                if (!s0) continue;
                snprintf(name, sizeof name, "initial_state.%s_l%d", k ? "c" : "h", index);
                add(ts, name, s0->rank, s0->shape, values(p, s0));
            }
            if (index == 0) strbuf_puts(&m, "initial_state: h_l<l> (and c_l<l>), (classes, H): h_0 of each class\n");
        } else if (W && strcmp(W->layout, "vocab,embed") == 0) {
            snprintf(name, sizeof name, "%s.weight", layer);
            add(ts, name, 2, W->shape, values(p, W));
            strbuf_printf(&m, "%s: torch.nn.Embedding(%d, %d)\n", layer, W->shape[0], W->shape[1]);
        } else if ((W && W->rank == 2) || (!W && strncmp(layer, "dec", 3) == 0 && view(p, "enc0", "W"))) {
            add_dense(ts, &m, p, spec, layer);
        } else {
            free(done);
            strbuf_free(&m);
            torch_state_free(ts);
            return ex_fail(err, "view %s: no PyTorch name for it (layout \"%s\")", v->name, v->layout);
        }
    }
    free(done);
    ts->modules = m.s ? m.s : ex_calloc(1, 1);
    return 0;
}

void torch_state_free(TorchState *ts) {
    for (int k = 0; k < ts->n_owned; k++) free(ts->owned[k]);
    free(ts->owned);
    free(ts->tensors);
    free(ts->modules);
    memset(ts, 0, sizeof *ts);
}
