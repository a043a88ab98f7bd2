/* onnxgraph.c — ONNX models through protobuf-c (onnxgraph.h). */
#include "onnxgraph.h"

#include <stdlib.h>
#include <string.h>

#include "publish.h"

/* ---- memory the messages point to --------------------------------------------------------- */

static void *own(OnnxGraph *g, void *p) {
    if (g->n_owned == g->cap_owned) {
        g->cap_owned = g->cap_owned ? 2 * g->cap_owned : 64;
        g->owned = ex_realloc(g->owned, (size_t)g->cap_owned * sizeof *g->owned);
    }
    return g->owned[g->n_owned++] = p;
}

static void *alloc(OnnxGraph *g, size_t size) { return own(g, ex_calloc(1, size ? size : 1)); }

static char *str(OnnxGraph *g, const char *s) {
    char *c = alloc(g, strlen(s) + 1);
    memcpy(c, s, strlen(s) + 1);
    return c;
}

/* One more slot of a message's repeated field *items (count *n): the arrays are owned too, so
 * a grown one is recorded again and the old one left to onnx_graph_free (nothing is freed early:
 * a graph holds at most a few hundred messages). */
static void **append(OnnxGraph *g, void ***items, size_t *n) {
    void **grown = alloc(g, (*n + 1) * sizeof *grown);
    if (*n) memcpy(grown, *items, *n * sizeof *grown);
    *items = grown;
    return &grown[(*n)++];
}

void onnx_graph_init(OnnxGraph *g, const char *name) {
    memset(g, 0, sizeof *g);
    Onnx__GraphProto init = ONNX__GRAPH_PROTO__INIT;
    g->graph = init;
    g->graph.name = str(g, name);
}

void onnx_graph_free(OnnxGraph *g) {
    for (int k = 0; k < g->n_owned; k++) free(g->owned[k]);
    free(g->owned);
    memset(g, 0, sizeof *g);
}

/* ---- inputs, outputs, initializers -------------------------------------------------------- */

static Onnx__ValueInfoProto *value_info(OnnxGraph *g, const char *name, int rank, const int64_t *dims,
                                        const char *const *params, int32_t elem_type) {
    Onnx__ValueInfoProto *v = alloc(g, sizeof *v);
    Onnx__ValueInfoProto vi = ONNX__VALUE_INFO_PROTO__INIT;
    *v = vi;
    v->name = str(g, name);
    Onnx__TypeProto *t = alloc(g, sizeof *t);
    Onnx__TypeProto ti = ONNX__TYPE_PROTO__INIT;
    *t = ti;
    Onnx__TypeProto__Tensor *tt = alloc(g, sizeof *tt);
    Onnx__TypeProto__Tensor tti = ONNX__TYPE_PROTO__TENSOR__INIT;
    *tt = tti;
    tt->has_elem_type = 1, tt->elem_type = elem_type;
    Onnx__TensorShapeProto *shape = alloc(g, sizeof *shape);
    Onnx__TensorShapeProto si = ONNX__TENSOR_SHAPE_PROTO__INIT;
    *shape = si;
    shape->n_dim = (size_t)rank;
    shape->dim = alloc(g, (size_t)rank * sizeof *shape->dim);
    for (int k = 0; k < rank; k++) {
        Onnx__TensorShapeProto__Dimension *d = alloc(g, sizeof *d);
        Onnx__TensorShapeProto__Dimension di = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
        *d = di;
        if (dims[k] >= 0) {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
            d->dim_value = dims[k];
        } else {
            d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
            d->dim_param = str(g, params[k]);
        }
        shape->dim[k] = d;
    }
    tt->shape = shape;
    t->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    t->tensor_type = tt;
    v->type = t;
    return v;
}

void onnx_input(OnnxGraph *g, const char *name, int rank, const int64_t *dims, const char *const *params) {
    *append(g, (void ***)&g->graph.input, &g->graph.n_input) =
        value_info(g, name, rank, dims, params, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
}

void onnx_input_i64(OnnxGraph *g, const char *name, int rank, const int64_t *dims, const char *const *params) {
    *append(g, (void ***)&g->graph.input, &g->graph.n_input) =
        value_info(g, name, rank, dims, params, ONNX__TENSOR_PROTO__DATA_TYPE__INT64);
}

void onnx_output(OnnxGraph *g, const char *name, int rank, const int64_t *dims, const char *const *params) {
    *append(g, (void ***)&g->graph.output, &g->graph.n_output) =
        value_info(g, name, rank, dims, params, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
}

static Onnx__TensorProto *tensor(OnnxGraph *g, const char *name, int rank, const int64_t *dims, int32_t type) {
    Onnx__TensorProto *t = alloc(g, sizeof *t);
    Onnx__TensorProto ti = ONNX__TENSOR_PROTO__INIT;
    *t = ti;
    t->name = str(g, name);
    t->has_data_type = 1, t->data_type = type;
    t->n_dims = (size_t)rank;
    t->dims = alloc(g, (size_t)rank * sizeof *t->dims);
    for (int k = 0; k < rank; k++) t->dims[k] = dims[k];
    *append(g, (void ***)&g->graph.initializer, &g->graph.n_initializer) = t;
    return t;
}

static size_t count_of(int rank, const int64_t *dims) {
    size_t n = 1;
    for (int k = 0; k < rank; k++) n *= (size_t)dims[k];
    return n;
}

void onnx_initializer(OnnxGraph *g, const char *name, int rank, const int64_t *dims, const float *data) {
    Onnx__TensorProto *t = tensor(g, name, rank, dims, ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT);
    t->n_float_data = count_of(rank, dims);
    t->float_data = alloc(g, t->n_float_data * sizeof(float));
    memcpy(t->float_data, data, t->n_float_data * sizeof(float));
}

void onnx_initializer_i64(OnnxGraph *g, const char *name, int rank, const int64_t *dims, const int64_t *data) {
    Onnx__TensorProto *t = tensor(g, name, rank, dims, ONNX__TENSOR_PROTO__DATA_TYPE__INT64);
    t->n_int64_data = count_of(rank, dims);
    t->int64_data = alloc(g, t->n_int64_data * sizeof(int64_t));
    memcpy(t->int64_data, data, t->n_int64_data * sizeof(int64_t));
}

/* ---- nodes and attributes ----------------------------------------------------------------- */

Onnx__NodeProto *onnx_node(OnnxGraph *g, const char *op, const char *name, int n_in, const char *const *inputs,
                           int n_out, const char *const *outputs) {
    Onnx__NodeProto *n = alloc(g, sizeof *n);
    Onnx__NodeProto ni = ONNX__NODE_PROTO__INIT;
    *n = ni;
    n->op_type = str(g, op);
    n->name = str(g, name);
    n->n_input = (size_t)n_in;
    n->input = alloc(g, (size_t)n_in * sizeof *n->input);
    for (int k = 0; k < n_in; k++) n->input[k] = str(g, inputs[k]);
    n->n_output = (size_t)n_out;
    n->output = alloc(g, (size_t)n_out * sizeof *n->output);
    for (int k = 0; k < n_out; k++) n->output[k] = str(g, outputs[k]);
    *append(g, (void ***)&g->graph.node, &g->graph.n_node) = n;
    return n;
}

static Onnx__AttributeProto *attr(OnnxGraph *g, Onnx__NodeProto *n, const char *name,
                                  Onnx__AttributeProto__AttributeType type) {
    Onnx__AttributeProto *a = alloc(g, sizeof *a);
    Onnx__AttributeProto ai = ONNX__ATTRIBUTE_PROTO__INIT;
    *a = ai;
    a->name = str(g, name);
    a->has_type = 1, a->type = type;
    *append(g, (void ***)&n->attribute, &n->n_attribute) = a;
    return a;
}

void onnx_attr_int(OnnxGraph *g, Onnx__NodeProto *n, const char *name, int64_t v) {
    Onnx__AttributeProto *a = attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT);
    a->has_i = 1, a->i = v;
}

void onnx_attr_float(OnnxGraph *g, Onnx__NodeProto *n, const char *name, float v) {
    Onnx__AttributeProto *a = attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT);
    a->has_f = 1, a->f = v;
}

void onnx_attr_string(OnnxGraph *g, Onnx__NodeProto *n, const char *name, const char *v) {
    Onnx__AttributeProto *a = attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
    a->has_s = 1;
    a->s.data = (uint8_t *)str(g, v);
    a->s.len = strlen(v);
}

void onnx_attr_strings(OnnxGraph *g, Onnx__NodeProto *n, const char *name, int count, const char *const *v) {
    Onnx__AttributeProto *a = attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS);
    a->n_strings = (size_t)count;
    a->strings = alloc(g, (size_t)count * sizeof *a->strings);
    for (int k = 0; k < count; k++) {
        a->strings[k].data = (uint8_t *)str(g, v[k]);
        a->strings[k].len = strlen(v[k]);
    }
}

void onnx_attr_ints(OnnxGraph *g, Onnx__NodeProto *n, const char *name, int count, const int64_t *v) {
    Onnx__AttributeProto *a = attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
    a->n_ints = (size_t)count;
    a->ints = alloc(g, (size_t)count * sizeof *a->ints);
    memcpy(a->ints, v, (size_t)count * sizeof *v);
}

void onnx_attr_floats(OnnxGraph *g, Onnx__NodeProto *n, const char *name, int count, const float *v) {
    Onnx__AttributeProto *a = attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS);
    a->n_floats = (size_t)count;
    a->floats = alloc(g, (size_t)count * sizeof *a->floats);
    memcpy(a->floats, v, (size_t)count * sizeof *v);
}

void onnx_attr_graph(OnnxGraph *g, Onnx__NodeProto *n, const char *name, OnnxGraph *body) {
    Onnx__AttributeProto *a = attr(g, n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH);
    Onnx__GraphProto *sub = alloc(g, sizeof *sub);
    *sub = body->graph;
    a->g = sub;
    for (int k = 0; k < body->n_owned; k++) own(g, body->owned[k]);   /* its memory is g's now */
    free(body->owned);
    memset(body, 0, sizeof *body);
}

int onnx_activation(OnnxGraph *g, Activation act, const char *in, const char *out, const char *name, ExError *err) {
    static const char *const ops[ACT_COUNT] = {
        [ACT_IDENTITY] = "Identity", [ACT_SIGMOID] = "Sigmoid", [ACT_TANH] = "Tanh",  [ACT_RELU] = "Relu",
        [ACT_LEAKY_RELU] = "LeakyRelu", [ACT_ELU] = "Elu",   [ACT_SOFTPLUS] = "Softplus", [ACT_SOFTMAX] = "Softmax",
    };
    if ((int)act < 0 || act >= ACT_COUNT || !ops[act]) return ex_fail(err, "no ONNX operator for activation %d", act);
    Onnx__NodeProto *n = onnx_node(g, ops[act], name, 1, (const char *[]){in}, 1, (const char *[]){out});
    if (act == ACT_LEAKY_RELU) onnx_attr_float(g, n, "alpha", 0.01f);
    if (act == ACT_ELU) onnx_attr_float(g, n, "alpha", 1.0f);
    if (act == ACT_SOFTMAX) onnx_attr_int(g, n, "axis", -1);
    return 0;
}

/* ---- the model ---------------------------------------------------------------------------- */

int onnx_write(OnnxGraph *g, const char *path, const char *producer_version, const char *const *meta_keys,
               const char *const *meta_values, int n_meta, ExError *err) {
    Onnx__ModelProto model = ONNX__MODEL_PROTO__INIT;
    model.has_ir_version = 1, model.ir_version = ONNX_IR_VERSION;
    model.producer_name = "exprun";
    model.producer_version = (char *)producer_version;
    Onnx__OperatorSetIdProto opset = ONNX__OPERATOR_SET_ID_PROTO__INIT, *opsets[1] = {&opset};
    opset.domain = "";
    opset.has_version = 1, opset.version = ONNX_OPSET;
    model.n_opset_import = 1, model.opset_import = opsets;
    model.graph = &g->graph;
    Onnx__StringStringEntryProto *props = alloc(g, (size_t)n_meta * sizeof *props);
    Onnx__StringStringEntryProto **prop_ptrs = alloc(g, (size_t)n_meta * sizeof *prop_ptrs);
    for (int k = 0; k < n_meta; k++) {
        Onnx__StringStringEntryProto e = ONNX__STRING_STRING_ENTRY_PROTO__INIT;
        props[k] = e;
        props[k].key = (char *)meta_keys[k];
        props[k].value = (char *)meta_values[k];
        prop_ptrs[k] = &props[k];
    }
    model.n_metadata_props = (size_t)n_meta, model.metadata_props = prop_ptrs;
    size_t size = onnx__model_proto__get_packed_size(&model);
    uint8_t *bytes = malloc(size ? size : 1);
    if (!bytes) return ex_fail(err, "%s: out of memory for %zu bytes", path, size);
    onnx__model_proto__pack(&model, bytes);
    int rc = publish_file(path, bytes, size, err);
    free(bytes);
    return rc;
}
