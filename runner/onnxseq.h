/* onnxseq.h — the sequence family as an ONNX graph (onnxseq.c; the layout in onnxexport.h). */
#ifndef EXPRUN_ONNXSEQ_H
#define EXPRUN_ONNXSEQ_H

#include <stddef.h>

#include "error.h"
#include "onnxgraph.h"
#include "params.h"
#include "spec/spec.h"

/* Whether this spec's model can be written (1), or why not into why (0). */
int onnx_sequence_supports(const Spec *spec, char *why, size_t cap);
/* Where a recurrent layer's optional inputs come from and where its final states go (NULL:
 * none). The names are the graph's values. */
typedef struct OnnxLayerIO {
    const char *seq_lens;          /* (B) int32: each row's own number of steps */
    const char *init_h, *init_c;   /* (1, B, H): initial states (init_c: LSTM only) */
    const char *final_h, *final_c; /* (1, B, H): the states after each row's last step */
} OnnxLayerIO;

/* Layer `layer` of the checkpoint ("lstm0", "enc_gru1": its /W, /b, /b_hn, learned /h0 /c0) as
 * ONNX's LSTM, GRU or RNN operator named after module and l: input `in` (T, B, I) → `out`
 * (T, B, H). Learned initial states are expanded to batch_shape (1, B, H) unless io gives
 * states; io may be NULL. */
int onnx_recurrent_layer(OnnxGraph *g, const Params *p, const RecurrentSpec *rs, const char *layer, const char *module,
                         int l, const char *in, const char *out, const char *batch_shape, const OnnxLayerIO *io,
                         ExError *err);

/* out (T, B, n) = in (T, B, H) · head.weightᵀ + head.bias on every step (the initializers
 * "head.weight" (n, H) and "head.bias" (n) already in g). */
void onnx_step_head(OnnxGraph *g, const char *in, const char *out);

/* Inputs, layers, head and output into g. */
int onnx_export_sequence(OnnxGraph *g, const Params *p, const Spec *spec, ExError *err);

#endif
