/* h5doc.h — build a whole HDF5 file in memory, then publish it atomically.
 *
 * Why: a plain HDF5 writer that is killed mid-write leaves an unreadable file ("truncated file:
 * eof = …"), and HDF5's file locking makes a writer that reopens a file fail while a user has it
 * open in h5py or HDFView. So exprun never edits a results file in place: it describes the file
 * in an H5Doc and h5doc_publish() writes the finished file to PATH.<pid>.tmp in the same directory,
 * fsyncs it, renames it over PATH and fsyncs the directory. A reader sees the old file or the new one,
 * never a torn one, and a reader holding the old file keeps reading the old data.
 *
 * Use:
 *   H5Doc *doc = h5doc_new();
 *   h5doc_attr_str(doc, "/", "status", "running");
 *   h5doc_string(doc, "/spec", resolved_yaml);
 *   h5doc_table(doc, "/metrics/epochs", 3, (const char *[]){"epoch", "loss", "lr"}, n, rows);
 *   if (h5doc_publish(doc, "run/results.h5", &err)) ...
 *   h5doc_free(doc);
 * HDF5 builds the file in memory and exprun writes the finished bytes itself, so a full disk is
 * a plain write()/fsync() error (ENOSPC) and never leaves HDF5 in a broken state; the cost is
 * that a publish holds the file in memory (besides the document's own copy of the data).
 * Every builder copies its arguments at call time. A builder that is given a bad path or
 * argument returns -1 and the error is kept: h5doc_publish() then fails with that message,
 * so a caller may check only the publish.
 *
 * Paths are absolute HDF5 paths ("/metrics/train"; a missing leading "/" is added). Groups on
 * the way are created automatically. Adding the same dataset twice, or a dataset below another
 * dataset, is an error. Setting the same attribute twice keeps the last value. An attribute on
 * a path that names no dataset creates that group.
 *
 * What lands in the file (all little-endian, readable by h5py, h5dump and HDFView on HDF5 1.8+):
 *   h5doc_attr_str / h5doc_string / h5doc_strings / h5doc_attr_strs
 *                   variable-length UTF-8 strings (h5py 3 returns attributes as str; string
 *                   datasets as bytes unless read through .asstr())
 *   h5doc_attr_int  int64 scalar           h5doc_attr_double  float64 scalar
 *   h5doc_floats    float32   h5doc_doubles float64   h5doc_int32s int32
 *   h5doc_int64s    int64     h5doc_uint64s uint64    — contiguous, rank 0 (scalar) to 8
 *   h5doc_table     1-D compound dataset, one field per column in the given order: a column
 *                   named "epoch" or "step", or whose name ends in "_count", is int64, every
 *                   other column float64. Chunked, maxdims unlimited, shuffle+gzip when the
 *                   HDF5 build has deflate. In Python:
 *                       import h5py, pandas as pd
 *                       with h5py.File("results.h5", "r") as f:
 *                           df = pd.DataFrame(f["metrics/epochs"][()])
 *                           spec = f["spec"].asstr()[()]       # str
 *                           status = f.attrs["status"]          # str
 *
 * Results files are built with these calls by runner/train.c, which owns their exact contents
 * and is the place to read them off; their shape follows shared/research/runner_anchors.md (c):
 *   /                 attrs (str unless noted): exprun_format, exprun_version, git_commit, seed
 *                     (int64), status, …
 *   /spec             scalar string: the resolved spec YAML
 *   /metrics/epochs   table, one row per epoch: epoch (int64), step (int64), loss, val_*,
 *                     … (float64) — one table per logging cadence
 *   Python: pd.DataFrame(f["metrics/epochs"][()]).plot(x="epoch", y="loss")
 * Checkpoints use the layout in checkpoint.h. */
#ifndef EXPRUN_H5DOC_H
#define EXPRUN_H5DOC_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

#define H5DOC_MAX_RANK 8

typedef struct H5Doc H5Doc;

H5Doc *h5doc_new(void);
void h5doc_free(H5Doc *doc);

/* Attributes on obj_path ("/" for the file itself). */
int h5doc_attr_str(H5Doc *doc, const char *obj_path, const char *name, const char *value);
int h5doc_attr_int(H5Doc *doc, const char *obj_path, const char *name, int64_t value);
int h5doc_attr_double(H5Doc *doc, const char *obj_path, const char *name, double value);
/* A 1-D array of n strings (e.g. the "units" of a table's columns). NULL entries become "". */
int h5doc_attr_strs(H5Doc *doc, const char *obj_path, const char *name, size_t n,
                    const char *const *values);

/* An (empty) group; only needed for a group that gets no dataset. */
int h5doc_group(H5Doc *doc, const char *path);
/* A scalar string dataset (e.g. /spec holding the resolved YAML). */
int h5doc_string(H5Doc *doc, const char *path, const char *text);
/* A 1-D dataset of n strings. NULL entries become "". */
int h5doc_strings(H5Doc *doc, const char *path, size_t n, const char *const *texts);

/* Numeric arrays of the given rank and shape (row-major, rank 0 = scalar, shape may be NULL). */
int h5doc_floats(H5Doc *doc, const char *path, int rank, const int *shape, const float *data);
int h5doc_doubles(H5Doc *doc, const char *path, int rank, const int *shape, const double *data);
int h5doc_int32s(H5Doc *doc, const char *path, int rank, const int *shape, const int32_t *data);
int h5doc_int64s(H5Doc *doc, const char *path, int rank, const int *shape, const int64_t *data);
int h5doc_uint64s(H5Doc *doc, const char *path, int rank, const int *shape, const uint64_t *data);

/* A table of nrows rows and ncols named columns; rows is row-major (nrows, ncols). Integer
 * columns (see above) must hold whole numbers within ±2⁵³; NaN there is an error. nrows may be 0. */
int h5doc_table(H5Doc *doc, const char *path, int ncols, const char *const *names, int64_t nrows,
                const double *rows);
/* 1 if an integer column would be used for this name ("epoch", "step", "skipped_steps", "*_count"), else 0. */
int h5doc_column_is_int(const char *name);

/* Write the document to PATH atomically (publish.h: PATH.<pid>.tmp → fsync → rename → fsync(dir)).
 * On failure PATH is left as it was, the temporary is removed and err names the path and why. */
int h5doc_publish(const H5Doc *doc, const char *path, ExError *err);

/* Publish doc sealed: the file begins with a 512-byte user block holding the SHA-256 of the rest,
 * which h5seal_check verifies before HDF5 parses anything (h5seal.h). */
void h5doc_seal(H5Doc *doc);

#endif
