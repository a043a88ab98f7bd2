/* idx.h — the IDX file format of MNIST and Fashion-MNIST (LeCun et al.), plain or gzipped.
 *
 * Layout (all integers big-endian):
 *   magic  u8 0, u8 0, u8 type (0x08 = unsigned byte), u8 ndims
 *   dims   ndims × int32          images: n, rows, cols    labels: n
 *   data   n·rows·cols bytes (row-major, one image after another) / n bytes
 * So an image file starts 00 00 08 03 and a label file 00 00 08 01. Files ending in .gz are
 * not trusted by name: the gzip magic 1f 8b is looked for, and both kinds are read through
 * zlib (gzopen/gzread read plain files unchanged).
 *
 * Every defect is an error naming the file and what is wrong: a missing file, a bad magic, a
 * type other than unsigned byte, zero or absurd dimensions, fewer data bytes than the header
 * promises ("truncated: expected 47040000 bytes of pixels, got 1000"), bytes left over, or a
 * corrupt gzip stream. */
#ifndef EXPRUN_IDX_H
#define EXPRUN_IDX_H

#include <stdint.h>

#include "dataset.h"
#include "error.h"

/* Images → out: x (n, 1, rows·cols) with pixel values as floats 0..255 (scale them with a
 * Scaler), T = 1, d = rows·cols, image_rows/cols set, no labels. */
int idx_load_images(const char *path, Dataset *out, ExError *err);

/* Labels → *labels (n, malloc'd), *n, *num_classes = max label + 1. */
int idx_load_labels(const char *path, int32_t **labels, int *n, int *num_classes, ExError *err);

/* Both files of a split, checked to hold the same number of samples; labels go into out.
 * labels_path NULL: the images alone (as idx_load_images). */
int idx_load(const char *images_path, const char *labels_path, Dataset *out, ExError *err);

#endif
