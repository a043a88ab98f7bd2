/* h5read.h — read HDF5 files (results, checkpoints, data) with checked shapes and clear errors.
 *
 * Every read names what it expects: a numeric read gives the rank and shape it wants, and a
 * mismatch is an error naming the file, the dataset, the expected and the found shape, instead
 * of silently loading garbage (Darknet's weights files without shapes). Numeric reads convert
 * within a class (a float64 dataset can be read as float32 and int32 as int64, as HDF5 does) but
 * never between classes (an integer dataset is not read as float).
 *
 * A truncated file, or a file that is not HDF5, fails at h5r_open with
 * "PATH: not an HDF5 file or truncated (HDF5: …)". HDF5's automatic error printing is silenced
 * during every call here (see h5util.h); the reason is copied into the ExError instead.
 *
 * Strings come back malloc'd (free with free(); lists with h5r_free_strings). */
#ifndef EXPRUN_H5READ_H
#define EXPRUN_H5READ_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define H5R_MAX_RANK 8

typedef struct H5Reader H5Reader;

/* Open PATH read-only. */
int h5r_open(H5Reader **out, const char *path, ExError *err);
void h5r_close(H5Reader *r);
const char *h5r_path(const H5Reader *r);

/* 1 if a group or dataset exists at obj_path (also if groups on the way are missing: 0). */
int h5r_exists(const H5Reader *r, const char *obj_path);
/* 1 if obj_path has an attribute called name. */
int h5r_has_attr(const H5Reader *r, const char *obj_path, const char *name);

/* What a dataset holds: its shape and element type. kind follows numpy's dtype.kind:
 * 'f' float, 'i' signed integer, 'u' unsigned integer, 'S' string, 'V' compound, '?' other. */
typedef struct H5RInfo {
    int rank;
    int64_t dims[H5R_MAX_RANK];
    char kind;
    size_t elem_size;             /* bytes per element in the file (vlen strings: pointer size) */
} H5RInfo;
int h5r_info(const H5Reader *r, const char *dset, H5RInfo *info, ExError *err);
/* Just the rank and shape (dims has room for H5R_MAX_RANK). */
int h5r_shape(const H5Reader *r, const char *dset, int *rank, int64_t *dims, ExError *err);
/* "784x64" ("scalar" for rank 0) into buf; returns buf. */
const char *h5r_shape_string(char *buf, size_t cap, int rank, const int64_t *dims);

/* Read a whole numeric dataset into out, which holds the product of shape elements. The
 * dataset must have exactly this rank and shape (rank 0 = scalar). */
int h5r_read_floats(const H5Reader *r, const char *dset, int rank, const int *shape, float *out,
                    ExError *err);
int h5r_read_doubles(const H5Reader *r, const char *dset, int rank, const int *shape,
                     double *out, ExError *err);
int h5r_read_int32s(const H5Reader *r, const char *dset, int rank, const int *shape,
                    int32_t *out, ExError *err);
int h5r_read_int64s(const H5Reader *r, const char *dset, int rank, const int *shape,
                    int64_t *out, ExError *err);
int h5r_read_uint64s(const H5Reader *r, const char *dset, int rank, const int *shape,
                     uint64_t *out, ExError *err);

/* A scalar string dataset, or a 1-D string dataset of *n strings (variable or fixed length). */
int h5r_read_string(const H5Reader *r, const char *dset, char **out, ExError *err);
int h5r_read_strings(const H5Reader *r, const char *dset, size_t *n, char ***out, ExError *err);

/* Scalar attributes on obj_path ("/" for the file). */
int h5r_attr_str(const H5Reader *r, const char *obj_path, const char *name, char **out,
                 ExError *err);
int h5r_attr_int(const H5Reader *r, const char *obj_path, const char *name, int64_t *out,
                 ExError *err);
int h5r_attr_double(const H5Reader *r, const char *obj_path, const char *name, double *out,
                    ExError *err);

/* Every scalar numeric (integer or float) attribute of obj_path, by name, read as doubles:
 * *names and *values (*n of each) are malloc'd; other attributes are skipped. */
int h5r_attr_numbers(const H5Reader *r, const char *obj_path, size_t *n, char ***names, double **values,
                     ExError *err);

/* Every dataset below group, at any depth, as full paths ("/model/enc0/W"), sorted. */
int h5r_list_datasets(const H5Reader *r, const char *group, size_t *n, char ***paths,
                      ExError *err);

/* Fails, naming it, if the file holds any soft, external or user-defined link: exprun's own
 * files (checkpoints, results) have hard links only, and reading through another kind could
 * open another file or another dataset than the one named. */
int h5r_refuse_links(const H5Reader *r, ExError *err);

/* h5r_open for a file exprun wrote itself (a checkpoint, results.h5): refused, and not left
 * open, if it holds any link but a hard one (h5r_refuse_links). */
int h5r_open_own(H5Reader **out, const char *path, ExError *err);

/* A 1-D compound table (as h5doc_table writes) read back as doubles: *names (ncols) and *rows
 * (nrows × ncols, row-major) are malloc'd. Every field must be an integer or float scalar. */
int h5r_read_table(const H5Reader *r, const char *dset, int *ncols, char ***names,
                   int64_t *nrows, double **rows, ExError *err);

void h5r_free_strings(char **strings, size_t n);

#endif
