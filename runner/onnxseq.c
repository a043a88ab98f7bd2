/* onnxseq.c — the sequence family (seqmodel.h) as an ONNX graph, with ONNX's own recurrent
 * operators (the layout in onnxexport.h).
 *
 * exprun's layer W (G·H, H + I) = [W_hh | W_ih], gates in PyTorch's order, becomes the operator's
 * W (1, G·H, I), R (1, G·H, H) and B (1, 2·G·H) = [Wb | Rb], gates in ONNX's order:
 *   LSTM  i, f, g, o  →  i, o, f, c
 *   GRU   r, z, n     →  z, r, h   (PyTorch's variant: linear_before_reset = 1, Rb's h block =
 *                                   b_hn; Cho's: linear_before_reset = 0, which is Cho's own
 *                                   candidate, and z's rows and bias negated: ONNX keeps z · h_{t−1}
 *                                   where Cho keeps (1 − z) · h_{t−1}, and σ(−a) = 1 − σ(a))
 *   RNN   one block, activations Tanh or Relu
 * The folded bias b_ih + b_hh goes to Wb, Rb is zero (but b_hn). The lecture's RNN, which no
 * operator computes, is a Scan over its step (add_lecture_layer). */
#include "onnxseq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cell.h"

int onnx_sequence_supports(const Spec *spec, char *why, size_t cap) {
    const RecurrentSpec *r = &spec->model.rec;
    if (r->cell == CELL_RNN && r->form == RNN_ELMAN && r->activation != ACT_TANH && r->activation != ACT_RELU) {
        snprintf(why, cap, "ONNX's RNN operator takes tanh or relu, not %s", act_name(r->activation));
        return 0;
    }
    return 1;
}

/* ONNX's block k is exprun's block order[k]. */
static const int LSTM_ORDER[4] = {0, 3, 1, 2}, GRU_ORDER[3] = {1, 0, 2}, RNN_ORDER[1] = {0};

/* The lecture's layer, which no ONNX operator computes, as a Scan over its own step:
 *   h_t = θ φ(h_{t−1}) + θ_x x_t,   the layer's output a_t = φ(h_t)
 * body (h_prev, x_t) → (h_next, a_t); θᵀ and θ_xᵀ are initializers of the outer graph, which the
 * body reads by name. The initial state h_0 (B, H): the learned one, or zeros, expanded to the
 * batch (shape_2d: [B, H]). */
static int add_lecture_layer(OnnxGraph *g, const Params *p, const Spec *spec, const char *layer, const char *module,
                             int l, const char *in, const char *out, const char *shape_2d, ExError *err) {
    char name[200], tt[160], txt[160], init[160], h0[200], hT[160];
    int H = 0, ld = 0;
    snprintf(name, sizeof name, "%s/W", layer);
    const float *W = params_lookup(p, name, &H, &ld);
    if (!W) return ex_fail(err, "the checkpoint has no %s", name);
    int I = ld - H;
    float *theta_t = calloc((size_t)H * H, sizeof *theta_t), *theta_x_t = calloc((size_t)I * H, sizeof *theta_x_t);
    for (int j = 0; j < H; j++) {
        for (int c = 0; c < H; c++) theta_t[(size_t)c * H + j] = W[(size_t)j * ld + c];
        for (int c = 0; c < I; c++) theta_x_t[(size_t)c * H + j] = W[(size_t)j * ld + H + c];
    }
    snprintf(tt, sizeof tt, "%s.weight_hh_l%d.T", module, l);
    snprintf(txt, sizeof txt, "%s.weight_ih_l%d.T", module, l);
    onnx_initializer(g, tt, 2, (int64_t[]){H, H}, theta_t);
    onnx_initializer(g, txt, 2, (int64_t[]){I, H}, theta_x_t);
    free(theta_t), free(theta_x_t);
    snprintf(name, sizeof name, "%s/h0", layer);
    const float *learned = params_lookup(p, name, NULL, NULL);
    float *zeros = calloc((size_t)H, sizeof *zeros);
    snprintf(init, sizeof init, "%s.initial_h_l%d", module, l);
    onnx_initializer(g, init, 2, (int64_t[]){1, H}, learned ? learned : zeros);
    free(zeros);
    snprintf(h0, sizeof h0, "%s.expanded", init);
    snprintf(name, sizeof name, "%s.expand", init);
    onnx_node(g, "Expand", name, 2, (const char *[]){init, shape_2d}, 1, (const char *[]){h0});

    OnnxGraph body;
    snprintf(name, sizeof name, "%s.step_l%d", module, l);
    onnx_graph_init(&body, name);
    static const char *const BH[] = {"batch", NULL};
    onnx_input(&body, "h_prev", 2, (int64_t[]){-1, H}, BH);
    onnx_input(&body, "x_t", 2, (int64_t[]){-1, I}, BH);
    Activation phi = spec->model.rec.activation;
    if (onnx_activation(&body, phi, "h_prev", "a_prev", "phi_prev", err) != 0) {
        onnx_graph_free(&body);
        return -1;
    }
    onnx_node(&body, "MatMul", "theta_a", 2, (const char *[]){"a_prev", tt}, 1, (const char *[]){"theta_a"});
    onnx_node(&body, "MatMul", "theta_x_x", 2, (const char *[]){"x_t", txt}, 1, (const char *[]){"theta_x_x"});
    onnx_node(&body, "Add", "h_next", 2, (const char *[]){"theta_a", "theta_x_x"}, 1, (const char *[]){"h_next"});
    if (onnx_activation(&body, phi, "h_next", "a_t", "phi_next", err) != 0) {
        onnx_graph_free(&body);
        return -1;
    }
    onnx_output(&body, "h_next", 2, (int64_t[]){-1, H}, BH);
    onnx_output(&body, "a_t", 2, (int64_t[]){-1, H}, BH);
    snprintf(hT, sizeof hT, "%s.h_T_l%d", module, l);
    snprintf(name, sizeof name, "%s.scan_l%d", module, l);
    Onnx__NodeProto *scan = onnx_node(g, "Scan", name, 2, (const char *[]){h0, in}, 2, (const char *[]){hT, out});
    onnx_attr_int(g, scan, "num_scan_inputs", 1);
    onnx_attr_graph(g, scan, "body", &body);
    return 0;
}

int onnx_recurrent_layer(OnnxGraph *g, const Params *p, const RecurrentSpec *rs, const char *layer, const char *module,
                         int l, const char *in, const char *out, const char *batch_shape, const OnnxLayerIO *io,
                         ExError *err) {
    static const OnnxLayerIO none = {0};
    if (!io) io = &none;
    char name[200], wname[160], rname[160], bname[160], yname[160];
    int GH = 0, ld = 0;
    snprintf(name, sizeof name, "%s/W", layer);
    const float *W = params_lookup(p, name, &GH, &ld);
    if (!W) return ex_fail(err, "the checkpoint has no %s", name);
    snprintf(name, sizeof name, "%s/b", layer);
    const float *b = params_lookup(p, name, NULL, NULL);
    snprintf(name, sizeof name, "%s/b_hn", layer);
    const float *b_hn = params_lookup(p, name, NULL, NULL);
    int G = rs->cell == CELL_LSTM ? 4 : rs->cell == CELL_GRU ? 3 : 1;
    const int *order = G == 4 ? LSTM_ORDER : G == 3 ? GRU_ORDER : RNN_ORDER;
    int H = GH / G, I = ld - H;
    int cho = rs->cell == CELL_GRU && rs->variant == GRU_CHO;
    float *Wo = calloc((size_t)GH * I, sizeof *Wo), *Ro = calloc((size_t)GH * H, sizeof *Ro);
    float *Bo = calloc((size_t)2 * GH, sizeof *Bo);
    for (int k = 0; k < G; k++) {
        int src = order[k];
        float sign = cho && k == 0 ? -1.0f : 1.0f;   /* ONNX's z block: Cho's z negated */
        for (int j = 0; j < H; j++) {
            const float *row = W + (size_t)(src * H + j) * ld;
            for (int c = 0; c < I; c++) Wo[(size_t)(k * H + j) * I + c] = sign * row[H + c];
            for (int c = 0; c < H; c++) Ro[(size_t)(k * H + j) * H + c] = sign * row[c];
            if (b) Bo[k * H + j] = sign * b[src * H + j];
        }
    }
    if (b_hn) memcpy(Bo + GH + 2 * H, b_hn, (size_t)H * sizeof *Bo);   /* Rb's h block */
    snprintf(wname, sizeof wname, "%s.W_l%d", module, l);
    snprintf(rname, sizeof rname, "%s.R_l%d", module, l);
    snprintf(bname, sizeof bname, "%s.B_l%d", module, l);
    onnx_initializer(g, wname, 3, (int64_t[]){1, GH, I}, Wo);
    onnx_initializer(g, rname, 3, (int64_t[]){1, GH, H}, Ro);
    onnx_initializer(g, bname, 2, (int64_t[]){1, 2 * GH}, Bo);
    free(Wo), free(Ro), free(Bo);

    /* initial states given (io), or learned ones: (H) → (1, 1, H) → expanded to (1, B, H) */
    char expanded[2][200] = {"", ""};
    static const char *const views[2] = {"h0", "c0"}, *const names[2] = {"initial_h", "initial_c"};
    if (io->init_h) snprintf(expanded[0], sizeof expanded[0], "%s", io->init_h);
    if (io->init_c && G == 4) snprintf(expanded[1], sizeof expanded[1], "%s", io->init_c);
    for (int s = 0; s < (G == 4 ? 2 : 1) && batch_shape && !io->init_h; s++) {
        snprintf(name, sizeof name, "%s/%s", layer, views[s]);
        const float *s0 = params_lookup(p, name, NULL, NULL);
        if (!s0) continue;
        char init[160];
        snprintf(init, sizeof init, "%s.%s_l%d", module, names[s], l);
        onnx_initializer(g, init, 3, (int64_t[]){1, 1, H}, s0);
        snprintf(expanded[s], sizeof expanded[s], "%s.expanded", init);
        snprintf(name, sizeof name, "%s.expand", init);
        onnx_node(g, "Expand", name, 2, (const char *[]){init, batch_shape}, 1, (const char *[]){expanded[s]});
    }
    snprintf(yname, sizeof yname, "%s.Y_l%d", module, l);
    const char *op = G == 4 ? "LSTM" : G == 3 ? "GRU" : "RNN";
    snprintf(name, sizeof name, "%s.l%d", module, l);
    const char *inputs[7] = {in, wname, rname, bname, io->seq_lens ? io->seq_lens : "", expanded[0], expanded[1]};
    int n_in = G == 4 && expanded[1][0] ? 7 : expanded[0][0] ? 6 : io->seq_lens ? 5 : 4;
    const char *outputs[3] = {yname, io->final_h ? io->final_h : "", io->final_c ? io->final_c : ""};
    int n_out = G == 4 && io->final_c ? 3 : io->final_h ? 2 : 1;
    Onnx__NodeProto *n = onnx_node(g, op, name, n_in, inputs, n_out, outputs);
    onnx_attr_int(g, n, "hidden_size", H);
    if (G == 3) onnx_attr_int(g, n, "linear_before_reset", cho ? 0 : 1);
    if (G == 1) onnx_attr_strings(g, n, "activations", 1, (const char *[]){rs->activation == ACT_RELU ? "Relu" : "Tanh"});
    /* Y (T, 1, B, H) → (T, B, H) */
    snprintf(name, sizeof name, "%s.squeeze", yname);
    onnx_node(g, "Squeeze", name, 2, (const char *[]){yname, "axis1"}, 1, (const char *[]){out});
    return 0;
}

void onnx_step_head(OnnxGraph *g, const char *in, const char *out) {
    Onnx__NodeProto *t = onnx_node(g, "Transpose", "head.weight.T", 1, (const char *[]){"head.weight"}, 1,
                                   (const char *[]){"head.weight.T"});
    onnx_attr_ints(g, t, "perm", 2, (const int64_t[]){1, 0});
    onnx_node(g, "MatMul", "head.matmul", 2, (const char *[]){in, "head.weight.T"}, 1, (const char *[]){"head.mm"});
    onnx_node(g, "Add", "head.add", 2, (const char *[]){"head.mm", "head.bias"}, 1, (const char *[]){out});
}

int onnx_export_sequence(OnnxGraph *g, const Params *p, const Spec *spec, ExError *err) {
    const RecurrentSpec *rs = &spec->model.rec;
    int V_embed = 0, E_dim = 0, V = 0, Htop = 0, GH0 = 0, ld0 = 0;
    const float *E = params_lookup(p, "embed/W", &V_embed, &E_dim), *HW = params_lookup(p, "head/W", &V, &Htop);
    const float *Hb = params_lookup(p, "head/b", NULL, NULL);
    if (!HW || !Hb) return ex_fail(err, "the checkpoint has no head/W and head/b");
    const char *cell = rs->cell == CELL_LSTM ? "lstm" : rs->cell == CELL_GRU ? "gru" : "rnn";
    char layer0[64];
    snprintf(layer0, sizeof layer0, "%s0/W", cell);
    if (!params_lookup(p, layer0, &GH0, &ld0)) return ex_fail(err, "the checkpoint has no %s", layer0);
    static const char *const TB[] = {"T", "batch", NULL};
    const char *x = "x";
    if (rs->input == SEQ_INPUT_FEATURES) {
        int G = rs->cell == CELL_LSTM ? 4 : rs->cell == CELL_GRU ? 3 : 1;
        int d = ld0 - GH0 / G;
        onnx_input(g, "x", 3, (int64_t[]){-1, -1, d}, TB);
    } else {
        /* tokens (T, B) int64 → rows of the embedding (or of the identity: one-hot) */
        onnx_input_i64(g, "tokens", 2, (int64_t[]){-1, -1}, TB);
        if (rs->input == SEQ_INPUT_EMBED) {
            if (!E) return ex_fail(err, "the checkpoint has no embed/W");
            onnx_initializer(g, "embed.weight", 2, (int64_t[]){V_embed, E_dim}, E);
            onnx_node(g, "Gather", "embed", 2, (const char *[]){"embed.weight", "tokens"}, 1, (const char *[]){"embedded"});
        } else {
            int n_tokens = ld0 - GH0 / (rs->cell == CELL_LSTM ? 4 : rs->cell == CELL_GRU ? 3 : 1);
            float *eye = calloc((size_t)n_tokens * n_tokens, sizeof *eye);
            for (int k = 0; k < n_tokens; k++) eye[(size_t)k * n_tokens + k] = 1.0f;
            onnx_initializer(g, "onehot.identity", 2, (int64_t[]){n_tokens, n_tokens}, eye);
            free(eye);
            onnx_node(g, "Gather", "onehot", 2, (const char *[]){"onehot.identity", "tokens"}, 1,
                      (const char *[]){"embedded"});
        }
        x = "embedded";
    }
    /* (1, B, H) for the learned initial states, (B, H) for the lecture's, B from the input's shape */
    int learned = rs->initial_state == SEQ_INIT_LEARNED;
    int lecture = rs->cell == CELL_RNN && rs->form == RNN_LECTURE;
    if (learned || lecture) {
        onnx_node(g, "Shape", "input.shape", 1, (const char *[]){x}, 1, (const char *[]){"input.shape"});
        onnx_initializer_i64(g, "index1", 1, (int64_t[]){1}, (const int64_t[]){1});
        onnx_node(g, "Gather", "batch.size", 2, (const char *[]){"input.shape", "index1"}, 1,
                  (const char *[]){"batch.size"});
        if (!lecture) onnx_initializer_i64(g, "one", 1, (int64_t[]){1}, (const int64_t[]){1});
    }
    if (!lecture) onnx_initializer_i64(g, "axis1", 1, (int64_t[]){1}, (const int64_t[]){1});   /* Squeeze's axes */
    char in[160], out[160];
    snprintf(in, sizeof in, "%s", x);
    int uniform = 1;
    for (int l = 1; l < rs->n_layers; l++) uniform &= rs->units[l] == rs->units[0];
    for (int l = 0; l < rs->n_layers; l++) {
        char layer[64], module[64], shape_name[96] = "";
        snprintf(layer, sizeof layer, "%s%d", cell, l);
        snprintf(module, sizeof module, "%s", uniform ? cell : layer);
        if (lecture) {
            char hh[96];
            snprintf(shape_name, sizeof shape_name, "state_shape_l%d", l);
            snprintf(hh, sizeof hh, "H_l%d", l);
            onnx_initializer_i64(g, hh, 1, (int64_t[]){1}, (const int64_t[]){rs->units[l]});
            Onnx__NodeProto *cat = onnx_node(g, "Concat", shape_name, 2, (const char *[]){"batch.size", hh}, 1,
                                             (const char *[]){shape_name});
            onnx_attr_int(g, cat, "axis", 0);
            snprintf(out, sizeof out, "%s.out_l%d", module, uniform ? l : 0);
            if (add_lecture_layer(g, p, spec, layer, module, uniform ? l : 0, in, out, shape_name, err) != 0) return -1;
            snprintf(in, sizeof in, "%s", out);
            continue;
        }
        if (learned) {
            char hh[96];
            snprintf(shape_name, sizeof shape_name, "state_shape_l%d", l);
            snprintf(hh, sizeof hh, "H_l%d", l);
            onnx_initializer_i64(g, hh, 1, (int64_t[]){1}, (const int64_t[]){rs->units[l]});
            Onnx__NodeProto *cat = onnx_node(g, "Concat", shape_name, 3, (const char *[]){"one", "batch.size", hh}, 1,
                                             (const char *[]){shape_name});
            onnx_attr_int(g, cat, "axis", 0);
        }
        snprintf(out, sizeof out, "%s.out_l%d", module, uniform ? l : 0);
        if (onnx_recurrent_layer(g, p, rs, layer, module, uniform ? l : 0, in, out, learned ? shape_name : NULL, NULL,
                                 err) != 0)
            return -1;
        snprintf(in, sizeof in, "%s", out);
    }
    /* the head on every step, or on the last */
    onnx_initializer(g, "head.weight", 2, (int64_t[]){V, Htop}, HW);
    onnx_initializer(g, "head.bias", 1, (int64_t[]){V}, Hb);
    if (rs->head == SEQ_HEAD_PER_STEP) {
        onnx_step_head(g, in, "y");
        onnx_output(g, "y", 3, (int64_t[]){-1, -1, V}, TB);
    } else {
        onnx_initializer_i64(g, "last", 0, NULL, (const int64_t[]){-1});
        Onnx__NodeProto *last = onnx_node(g, "Gather", "last_step", 2, (const char *[]){in, "last"}, 1,
                                          (const char *[]){"h_last"});
        onnx_attr_int(g, last, "axis", 0);
        Onnx__NodeProto *gemm = onnx_node(g, "Gemm", "head.gemm", 3, (const char *[]){"h_last", "head.weight", "head.bias"},
                                          1, (const char *[]){"y"});
        onnx_attr_int(g, gemm, "transB", 1);
        onnx_output(g, "y", 2, (int64_t[]){-1, V}, TB + 1);
    }
    return 0;
}
