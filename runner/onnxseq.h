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
/* Inputs, layers, head and output into g. */
int onnx_export_sequence(OnnxGraph *g, const Params *p, const Spec *spec, ExError *err);

#endif
