/* onnxencdec.c — the seq2seq and one_to_many families as ONNX graphs (onnxencdec.h): the same
 * recurrent operators as the sequence family (onnx_recurrent_layer), wired as seq2seq.h and
 * onetomany.h wire their cells. */
#include "onnxencdec.h"

#include <stdio.h>

#include "cell.h"
#include "onnxseq.h"
#include "data/tasks.h"

enum { ONNX_FLOAT = 1, ONNX_INT32 = 6, ONNX_INT64 = 7 };   /* onnx.proto's TensorProto.DataType */

static const char *const TB[] = {"T", "batch", NULL};

static const char *cell_name(CellType cell) { return cell == CELL_LSTM ? "lstm" : "gru"; }

/* y = in · head/Wᵀ + head/b on every step: (T, B, H) → (T, B, n) as `out`. */
static int add_head(OnnxGraph *g, const Params *p, const char *in, const char *out, int *n_out, ExError *err) {
    int n = 0, H = 0;
    const float *W = params_lookup(p, "head/W", &n, &H), *b = params_lookup(p, "head/b", NULL, NULL);
    if (!W || !b) return ex_fail(err, "the checkpoint has no head/W and head/b");
    onnx_initializer(g, "head.weight", 2, (int64_t[]){n, H}, W);
    onnx_initializer(g, "head.bias", 1, (int64_t[]){n}, b);
    onnx_step_head(g, in, out);
    *n_out = n;
    return 0;
}

/* Gather rows of the checkpoint's table `view` (V, E) as initializer `name`: tokens (T, B) → (T, B, E). */
static int add_embedding(OnnxGraph *g, const Params *p, const char *view, const char *name, const char *tokens,
                         const char *out, ExError *err) {
    int V = 0, E = 0;
    const float *table = params_lookup(p, view, &V, &E);
    if (!table) return ex_fail(err, "the checkpoint has no %s", view);
    onnx_initializer(g, name, 2, (int64_t[]){V, E}, table);
    onnx_node(g, "Gather", out, 2, (const char *[]){name, tokens}, 1, (const char *[]){out});
    return 0;
}

/* Each row's own length, as the encoder reads it: its tokens before the first PAD.
 *   lengths_b = Σ_t [no PAD in tokens_{0..t, b}]   (int32, what sequence_lens takes) */
static void add_lengths(OnnxGraph *g, const char *tokens, const char *out) {
    onnx_initializer_i64(g, "pad_token", 0, NULL, (const int64_t[]){S2S_PAD});
    onnx_initializer_i64(g, "zero", 0, NULL, (const int64_t[]){0});
    onnx_node(g, "Equal", "is_pad", 2, (const char *[]){tokens, "pad_token"}, 1, (const char *[]){"is_pad"});
    Onnx__NodeProto *c = onnx_node(g, "Cast", "is_pad.i64", 1, (const char *[]){"is_pad"}, 1, (const char *[]){"is_pad.i64"});
    onnx_attr_int(g, c, "to", ONNX_INT64);
    onnx_node(g, "CumSum", "pads_so_far", 2, (const char *[]){"is_pad.i64", "zero"}, 1, (const char *[]){"pads_so_far"});
    onnx_node(g, "Equal", "before_pad", 2, (const char *[]){"pads_so_far", "zero"}, 1, (const char *[]){"before_pad"});
    c = onnx_node(g, "Cast", "before_pad.i32", 1, (const char *[]){"before_pad"}, 1, (const char *[]){"before_pad.i32"});
    onnx_attr_int(g, c, "to", ONNX_INT32);
    onnx_initializer_i64(g, "axis0", 1, (int64_t[]){1}, (const int64_t[]){0});
    Onnx__NodeProto *sum = onnx_node(g, "ReduceSum", out, 2, (const char *[]){"before_pad.i32", "axis0"}, 1,
                                     (const char *[]){out});
    onnx_attr_int(g, sum, "keepdims", 0);
}

int onnx_export_seq2seq(OnnxGraph *g, const Params *p, const Spec *spec, ExError *err) {
    const RecurrentSpec *rs = &spec->model.rec;
    const char *cell = cell_name(rs->cell);
    int lstm = rs->cell == CELL_LSTM;
    onnx_input_i64(g, "tokens", 2, (int64_t[]){-1, -1}, (const char *const[]){"Tx", "batch", NULL});
    onnx_input_i64(g, "decoder_tokens", 2, (int64_t[]){-1, -1}, (const char *const[]){"Ty", "batch", NULL});
    onnx_initializer_i64(g, "axis1", 1, (int64_t[]){1}, (const int64_t[]){1});   /* Squeeze's axes */
    add_lengths(g, "tokens", "lengths");
    if (add_embedding(g, p, "embed_in/W", "embed_in.weight", "tokens", "embedded_in", err) != 0) return -1;
    if (add_embedding(g, p, "embed_out/W", "embed_out.weight", "decoder_tokens", "embedded_out", err) != 0) return -1;
    /* encoder: each row for its own length from zero states; layer l's final states e^l */
    char in[160] = "embedded_in", out[160], layer[64], module[64], h[64], c[64];
    for (int side = 0; side < 2; side++) {
        const char *prefix = side == 0 ? "enc" : "dec";
        snprintf(in, sizeof in, side == 0 ? "embedded_in" : "embedded_out");
        snprintf(module, sizeof module, "%s_%s", prefix, cell);
        for (int l = 0; l < rs->n_layers; l++) {
            snprintf(layer, sizeof layer, "%s_%s%d", prefix, cell, l);
            snprintf(out, sizeof out, "%s.out_l%d", module, l);
            snprintf(h, sizeof h, "encoder.h_l%d", l);
            snprintf(c, sizeof c, "encoder.c_l%d", l);
            OnnxLayerIO io = {0};
            if (side == 0) io.seq_lens = "lengths", io.final_h = h, io.final_c = lstm ? c : NULL;
            else io.init_h = h, io.init_c = lstm ? c : NULL;
            if (onnx_recurrent_layer(g, p, rs, layer, module, l, in, out, NULL, &io, err) != 0) return -1;
            snprintf(in, sizeof in, "%s", out);
        }
    }
    int V = 0;
    if (add_head(g, p, in, "logits", &V, err) != 0) return -1;
    onnx_output(g, "logits", 3, (int64_t[]){-1, -1, V}, (const char *const[]){"Ty", "batch", NULL});
    return 0;
}

int onnx_export_onetomany(OnnxGraph *g, const Params *p, const Spec *spec, ExError *err) {
    const RecurrentSpec *rs = &spec->model.rec;
    const char *cell = cell_name(rs->cell);
    int lstm = rs->cell == CELL_LSTM, d = 0;
    char name[160], h[160], c[160], in[160] = "x", out[160], layer[64];
    snprintf(name, sizeof name, "%s0/W", cell);
    int GH = 0, ld = 0;
    if (!params_lookup(p, name, &GH, &ld)) return ex_fail(err, "the checkpoint has no %s", name);
    d = ld - GH / (lstm ? 4 : 3);
    onnx_input_i64(g, "classes", 1, (int64_t[]){-1}, TB + 1);
    onnx_input(g, "x", 3, (int64_t[]){-1, -1, d}, TB);
    onnx_initializer_i64(g, "axis0", 1, (int64_t[]){1}, (const int64_t[]){0});
    onnx_initializer_i64(g, "axis1", 1, (int64_t[]){1}, (const int64_t[]){1});   /* Squeeze's axes */
    for (int l = 0; l < rs->n_layers; l++) {
        /* h^l_0 = S^l[class] (and c^l_0 = C^l[class]): rows of the tables, (B, H) → (1, B, H) */
        for (int s = 0; s < (lstm ? 2 : 1); s++) {
            char view[64], table[96], rows[112];
            snprintf(view, sizeof view, "state%d/%s", l, s ? "c" : "h");
            int K = 0, H = 0;
            const float *values = params_lookup(p, view, &K, &H);
            if (!values) return ex_fail(err, "the checkpoint has no %s", view);
            snprintf(table, sizeof table, "state.%s_l%d", s ? "c" : "h", l);
            snprintf(rows, sizeof rows, "%s.rows", table);
            onnx_initializer(g, table, 2, (int64_t[]){K, H}, values);
            onnx_node(g, "Gather", rows, 2, (const char *[]){table, "classes"}, 1, (const char *[]){rows});
            snprintf(s ? c : h, sizeof h, "%s.initial", table);
            onnx_node(g, "Unsqueeze", s ? c : h, 2, (const char *[]){rows, "axis0"}, 1, (const char *[]){s ? c : h});
        }
        snprintf(layer, sizeof layer, "%s%d", cell, l);
        snprintf(out, sizeof out, "%s.out_l%d", cell, l);
        OnnxLayerIO io = {.init_h = h, .init_c = lstm ? c : NULL};
        if (onnx_recurrent_layer(g, p, rs, layer, cell, l, in, out, NULL, &io, err) != 0) return -1;
        snprintf(in, sizeof in, "%s", out);
    }
    int n = 0;
    int sigmoid = spec->loss == LOSS_CROSS_ENTROPY;
    if (add_head(g, p, in, sigmoid ? "head.z" : "y", &n, err) != 0) return -1;
    if (sigmoid) onnx_node(g, "Sigmoid", "head.sigmoid", 1, (const char *[]){"head.z"}, 1, (const char *[]){"y"});
    onnx_output(g, "y", 3, (int64_t[]){-1, -1, n}, TB);
    return 0;
}
