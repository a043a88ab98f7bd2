/* onnxencdec.h — the seq2seq and one_to_many families as ONNX graphs (onnxencdec.c), with the
 * recurrent operators of onnxseq.h. Initializers carry the checkpoint's layer names as modules
 * (enc_lstm.W_l0, dec_lstm.R_l1, lstm.B_l0, state.h_l0, embed_in.weight, head.weight).
 *
 * seq2seq (seq2seq.h), the decoder teacher-forced — the model as a function of both sequences:
 *   inputs  tokens          int64 (Tx, batch): input rows, PAD (0) after each row's last token
 *           decoder_tokens  int64 (Ty, batch): the decoder's inputs u_0 = GO (1), u_t = y_{t−1}
 *   nodes   lengths = the tokens before each row's first PAD (Equal, CumSum, ReduceSum), the
 *           encoder's layers over embed_in with sequence_lens = lengths, whose final states
 *           Y_h (Y_c) start the decoder's layers over embed_out; the head on every step
 *   output  logits          float32 (Ty, batch, V): z_t before the softmax
 *   Greedy decoding feeds u_{t+1} = argmax z_t back, one call per step (or `exprun predict`,
 *   which writes the tokens and the logits it chose them from).
 *
 * one_to_many (onetomany.h), teacher-forced likewise:
 *   inputs  classes  int64 (batch): the class that sets every layer's initial state,
 *                    h^l_0 = S^l[class] (c^l_0 = C^l[class]) — Gather on the state tables
 *           x        float32 (T, batch, d): x_0 = 0, x_t = y_{t−1}
 *   output  y        float32 (T, batch, d): ŷ_t, through σ when the loss is cross_entropy
 *   Generation feeds ŷ_t back as x_{t+1}. */
#ifndef EXPRUN_ONNXENCDEC_H
#define EXPRUN_ONNXENCDEC_H

#include "error.h"
#include "onnxgraph.h"
#include "params.h"
#include "spec/spec.h"

int onnx_export_seq2seq(OnnxGraph *g, const Params *p, const Spec *spec, ExError *err);
int onnx_export_onetomany(OnnxGraph *g, const Params *p, const Spec *spec, ExError *err);

#endif
