/* safetensors.h — tensors in the safetensors format (Hugging Face), the format PyTorch, JAX and
 * most model hubs load without running any code from the file.
 *
 * Layout (https://github.com/huggingface/safetensors, "Format"):
 *   bytes 0..7     N, the header's length, unsigned 64-bit little-endian
 *   bytes 8..8+N   the header, UTF-8 JSON:
 *                    {"__metadata__": {"key": "value", ...},           (strings only)
 *                     "NAME": {"dtype": "F32", "shape": [d0, d1, ...],
 *                              "data_offsets": [begin, end]}, ...}
 *                  padded with spaces so that the data starts at a multiple of 8
 *   then the data  every tensor's values, row-major, little-endian, at [begin, end) of this
 *                  buffer: contiguous, in the order written, no gaps and no overlap.
 * Only float32 here (dtype "F32"): exprun's parameters. The file is published whole or not at
 * all (publish.h). */
#ifndef EXPRUN_SAFETENSORS_H
#define EXPRUN_SAFETENSORS_H

#include <stddef.h>

#include "error.h"

#define ST_MAX_RANK 4

typedef struct StTensor {
    char name[128];
    int rank;
    int shape[ST_MAX_RANK];
    const float *data;            /* shape's product of values, row-major */
} StTensor;

typedef struct StMeta {
    const char *key, *value;
} StMeta;

/* Write the tensors (names unique, none called "__metadata__") and the metadata to path. */
int safetensors_write(const char *path, const StTensor *tensors, int n, const StMeta *meta, int n_meta, ExError *err);

#endif
