/* h5util.h — small HDF5 helpers shared by h5doc.c, h5read.c and other HDF5 code in lib/.
 *
 * HDF5 prints its error stack to stderr by default, and the library must not print: every
 * public function that calls HDF5 brackets its work with h5_quiet_begin/h5_quiet_end (they
 * nest), and turns a failure into an ExError whose text includes h5_reason(). */
#ifndef EXPRUN_H5UTIL_H
#define EXPRUN_H5UTIL_H

#include <hdf5.h>
#include <stddef.h>

typedef struct H5Quiet {
    H5E_auto2_t func;
    void *data;
} H5Quiet;

/* Turn off HDF5's automatic error printing, remembering what was there. */
void h5_quiet_begin(H5Quiet *q);
/* Put back what h5_quiet_begin found. */
void h5_quiet_end(const H5Quiet *q);

/* The innermost message on the current HDF5 error stack — where the error was detected, e.g.
 * "truncated file: eof = 96, sblock->base_addr = 0, stored_eof = 2048" or "unable to open file:
 * name = '…', errno = 2, error message = 'No such file or directory', …". Call it right after
 * the failing call: the next HDF5 call clears the stack. Returns buf. */
const char *h5_reason(char *buf, size_t cap);

/* 1 if every link on the way to path exists (H5Lexists alone fails on a missing middle group). */
int h5_path_exists(hid_t loc, const char *path);

/* A variable-length UTF-8 string type; close with H5Tclose. */
hid_t h5_utf8_type(void);

/* File access properties for every open and create: close every object with the file
 * (H5F_CLOSE_STRONG) and, where HDF5 allows, ignore file locking on file systems that do not
 * support it (NFS) instead of failing. Close with H5Pclose. */
hid_t h5_fapl(void);

/* Free variable-length data HDF5 allocated during a read (H5Treclaim from 1.12 on). */
#if H5_VERSION_GE(1, 12, 0)
#define h5_vlen_reclaim(type, space, buf) H5Treclaim((type), (space), H5P_DEFAULT, (buf))
#else
#define h5_vlen_reclaim(type, space, buf) H5Dvlen_reclaim((type), (space), H5P_DEFAULT, (buf))
#endif

#endif
