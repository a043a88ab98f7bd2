/* onnxexport.h — a trained model as an ONNX graph (`exprun export --format onnx`): the
 * autoencoders here, the sequence family (rnn, lstm, gru) in onnxseq.c, seq2seq and one_to_many
 * in onnxencdec.c.
 *
 * The autoencoder h = g(W x + b), x̂ = f(W* h + c), deep or shallow:
 *   input   x      float32 (batch, n_in), scaled as the run scales its data (data.scale)
 *   nodes   per layer Gemm(·, NAME.weight, NAME.bias, transB = 1) then its activation
 *           (Sigmoid, Tanh, Relu, LeakyRelu α 0.01, Elu α 1, Softplus, Softmax, Identity);
 *           a tied decoder layer uses its encoder layer's weight as it is (transB = 0): W* = Wᵀ
 *           is the same initializer, not a copy
 *   outputs h      float32 (batch, code): the code layer
 *           x_hat  float32 (batch, n_in): the reconstruction
 * Initializers carry PyTorch's names (torchnames.h). */
#ifndef EXPRUN_ONNXEXPORT_H
#define EXPRUN_ONNXEXPORT_H

#include <stddef.h>

#include "error.h"
#include "params.h"
#include "spec/spec.h"

/* Whether a run of this spec can be exported to ONNX (1), or why not into why (0). */
int onnx_export_supports(const Spec *spec, char *why, size_t cap);

/* p's trained values and the run's spec as an ONNX model at path; meta_keys/values (n_meta)
 * go to the model's metadata_props. */
int onnx_export(const Params *p, const Spec *spec, const char *path, const char *const *meta_keys,
                const char *const *meta_values, int n_meta, ExError *err);

#endif
