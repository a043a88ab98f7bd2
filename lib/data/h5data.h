/* h5data.h — a dataset stored in an HDF5 file (for example one written by h5py).
 *
 * x_dataset: a 2-D (n, d) or 3-D (n, T, d) dataset of any integer or floating type, read as
 * float (HDF5 converts: H5Dread with H5T_NATIVE_FLOAT). labels_dataset (optional): a 1-D (n)
 * or (n, 1) integer dataset of class ids ≥ 0, read as int32; num_classes = max + 1.
 * Dataset names are HDF5 paths ("x", "/train/images").
 *
 * A missing file, a file that is not HDF5, a missing dataset, a wrong rank or type, or labels
 * whose count differs from x's are errors naming the file and the dataset. HDF5's own error
 * stack printing is switched off around these calls and restored afterwards, so the message
 * returned is the only report. */
#ifndef EXPRUN_H5DATA_H
#define EXPRUN_H5DATA_H

#include "dataset.h"
#include "error.h"

int h5data_load(const char *path, const char *x_dataset, const char *labels_dataset, Dataset *out,
                ExError *err);

#endif
