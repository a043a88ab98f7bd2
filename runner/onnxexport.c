/* onnxexport.c — exprun models as ONNX graphs (onnxexport.h). */
#include "onnxexport.h"

#include <stdio.h>
#include <string.h>

#include "onnxencdec.h"
#include "onnxgraph.h"
#include "onnxseq.h"
#include "version.h"

static const char *const BATCH[] = {"batch", NULL};

/* The chain enc0 … enc<k>, dec0 … dec<k> (autoencoder.c's layers, with their activations). */
static int export_autoencoder(OnnxGraph *g, const Params *p, const Spec *spec, ExError *err) {
    const AutoencoderSpec *ae = &spec->model.ae;
    int k = ae->n_hidden, m = k + 1, n_in = 0, code = ae->code;
    if (!params_lookup(p, "enc0/W", NULL, &n_in)) return ex_fail(err, "the checkpoint has no enc0/W");
    onnx_input(g, "x", 2, (int64_t[]){-1, n_in}, BATCH);
    char in[64] = "x", pre[64], out[64], name[96];
    for (int l = 0; l < 2 * m; l++) {
        int dec = l >= m, i = dec ? l - m : l;
        const char *side = dec ? "dec" : "enc";
        Activation act = !dec ? (i < k ? ae->hidden_act[i] : ae->g) : (i < k ? ae->hidden_act[k - 1 - i] : ae->f);
        char wname[64], bname[64], view[64], tied_from[64];
        int rows, cols, trans_b = 1;
        snprintf(view, sizeof view, "%s%d/W", side, i);
        const float *W = params_lookup(p, view, &rows, &cols);
        snprintf(wname, sizeof wname, "%s%d.weight", side, i);
        if (W) {
            onnx_initializer(g, wname, 2, (int64_t[]){rows, cols}, W);
        } else if (dec) {
            /* tied: W* = Wᵀ of encoder layer m − 1 − i, read as it is stored */
            snprintf(tied_from, sizeof tied_from, "enc%d.weight", m - 1 - i);
            snprintf(wname, sizeof wname, "%s", tied_from);
            trans_b = 0;
        } else {
            return ex_fail(err, "the checkpoint has no %s", view);
        }
        snprintf(view, sizeof view, "%s%d/b", side, i);
        int b_rows;
        const float *b = params_lookup(p, view, &b_rows, NULL);
        if (!b) return ex_fail(err, "the checkpoint has no %s", view);
        snprintf(bname, sizeof bname, "%s%d.bias", side, i);
        onnx_initializer(g, bname, 1, (int64_t[]){b_rows}, b);
        snprintf(pre, sizeof pre, "%s%d.pre", side, i);
        snprintf(name, sizeof name, "%s%d.gemm", side, i);
        Onnx__NodeProto *gemm = onnx_node(g, "Gemm", name, 3, (const char *[]){in, wname, bname}, 1, (const char *[]){pre});
        onnx_attr_int(g, gemm, "transB", trans_b);
        /* the code layer's output is h, the last layer's x_hat */
        if (l == m - 1) snprintf(out, sizeof out, "h");
        else if (l == 2 * m - 1) snprintf(out, sizeof out, "x_hat");
        else snprintf(out, sizeof out, "%s%d.out", side, i);
        snprintf(name, sizeof name, "%s%d.act", side, i);
        if (onnx_activation(g, act, pre, out, name, err) != 0) return -1;
        snprintf(in, sizeof in, "%s", out);
    }
    onnx_output(g, "h", 2, (int64_t[]){-1, code}, BATCH);
    onnx_output(g, "x_hat", 2, (int64_t[]){-1, n_in}, BATCH);
    return 0;
}

int onnx_export_supports(const Spec *spec, char *why, size_t cap) {
    if (spec->model.type == MODEL_AUTOENCODER) return 1;
    return onnx_sequence_supports(spec, why, cap);
}

int onnx_export(const Params *p, const Spec *spec, const char *path, const char *const *meta_keys,
                const char *const *meta_values, int n_meta, ExError *err) {
    char why[256];
    if (!onnx_export_supports(spec, why, sizeof why)) return ex_fail(err, "%s", why);
    OnnxGraph g;
    int rc;
    switch (spec->model.type) {
    case MODEL_AUTOENCODER:
        onnx_graph_init(&g, "exprun_autoencoder");
        rc = export_autoencoder(&g, p, spec, err);
        break;
    case MODEL_SEQ2SEQ:
        onnx_graph_init(&g, "exprun_seq2seq");
        rc = onnx_export_seq2seq(&g, p, spec, err);
        break;
    case MODEL_ONE_TO_MANY:
        onnx_graph_init(&g, "exprun_one_to_many");
        rc = onnx_export_onetomany(&g, p, spec, err);
        break;
    default:
        onnx_graph_init(&g, "exprun_sequence");
        rc = onnx_export_sequence(&g, p, spec, err);
    }
    if (rc == 0) rc = onnx_write(&g, path, exprun_version(), meta_keys, meta_values, n_meta, err);
    onnx_graph_free(&g);
    return rc;
}
