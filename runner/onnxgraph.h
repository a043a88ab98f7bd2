/* onnxgraph.h — building an ONNX model (onnx.proto's ModelProto) and writing it, through the
 * protobuf-c code generated from the onnx.proto Debian ships (CMakeLists.txt).
 *
 * A graph is inputs, outputs, initializers (the trained weights, float32) and nodes (an operator
 * with named inputs and outputs, and attributes), in the order they run. Every string and array
 * the messages point to is owned by the OnnxGraph and freed with it. Written as IR version 8
 * with opset 17 (ONNX 1.12, what Debian's python3-onnx checks; onnxruntime reads it too). */
#ifndef EXPRUN_ONNXGRAPH_H
#define EXPRUN_ONNXGRAPH_H

#include <stdint.h>

#include "act.h"
#include "error.h"
#include "onnx/onnx.pb-c.h"

#define ONNX_OPSET 17
#define ONNX_IR_VERSION 8

typedef struct OnnxGraph {
    Onnx__GraphProto graph;
    void **owned;                 /* every allocation the messages point to */
    int n_owned, cap_owned;
} OnnxGraph;

void onnx_graph_init(OnnxGraph *g, const char *name);
void onnx_graph_free(OnnxGraph *g);

/* A float32 input or output: dims[k] < 0 is the symbolic dimension named by params[k] ("batch"). */
void onnx_input(OnnxGraph *g, const char *name, int rank, const int64_t *dims, const char *const *params);
void onnx_output(OnnxGraph *g, const char *name, int rank, const int64_t *dims, const char *const *params);
/* The same for an int64 input (token ids). */
void onnx_input_i64(OnnxGraph *g, const char *name, int rank, const int64_t *dims, const char *const *params);
/* A float32 initializer holding a copy of data (dims' product of values, row-major). */
void onnx_initializer(OnnxGraph *g, const char *name, int rank, const int64_t *dims, const float *data);
/* An int64 initializer (shapes, axes). */
void onnx_initializer_i64(OnnxGraph *g, const char *name, int rank, const int64_t *dims, const int64_t *data);

/* A node op(inputs) → outputs; "" stands for an optional input left out. Returns it for
 * attributes. */
Onnx__NodeProto *onnx_node(OnnxGraph *g, const char *op, const char *name, int n_in, const char *const *inputs,
                           int n_out, const char *const *outputs);
void onnx_attr_int(OnnxGraph *g, Onnx__NodeProto *n, const char *name, int64_t v);
void onnx_attr_float(OnnxGraph *g, Onnx__NodeProto *n, const char *name, float v);
void onnx_attr_string(OnnxGraph *g, Onnx__NodeProto *n, const char *name, const char *v);
void onnx_attr_strings(OnnxGraph *g, Onnx__NodeProto *n, const char *name, int count, const char *const *v);
void onnx_attr_ints(OnnxGraph *g, Onnx__NodeProto *n, const char *name, int count, const int64_t *v);
void onnx_attr_floats(OnnxGraph *g, Onnx__NodeProto *n, const char *name, int count, const float *v);

/* A graph attribute (Scan's body): body's graph, which from now on belongs to g (body is left
 * empty; the caller need not free it). */
void onnx_attr_graph(OnnxGraph *g, Onnx__NodeProto *n, const char *name, OnnxGraph *body);
/* out = act(in) as one node (Identity for the identity; LeakyRelu α 0.01 and Elu α 1 as act.c). */
int onnx_activation(OnnxGraph *g, Activation act, const char *in, const char *out, const char *name, ExError *err);

/* The model around the graph, serialised and published to path (publish.h); metadata as
 * key/value pairs (n_meta of them). */
int onnx_write(OnnxGraph *g, const char *path, const char *producer_version, const char *const *meta_keys,
               const char *const *meta_values, int n_meta, ExError *err);

#endif
