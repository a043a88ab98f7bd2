/* h5seal.h — a checksum of a whole HDF5 file kept where HDF5 never parses it: the user block.
 *
 * HDF5 lets a file begin with a user block (H5Pset_userblock) that the library skips; h5py,
 * h5dump and HDFView read such a file as any other. A sealed file's first 512 bytes are
 *
 *   exprun-seal 1\n
 *   sha256 <64 hex digits of bytes 512 to the end>\n
 *   (zeros up to byte 512)
 *
 * and h5seal_check compares them with the file before HDF5 opens it. HDF5's own metadata has no
 * checksums in the file format exprun writes (nor, in any format, its global heap of strings),
 * and its parser can crash on damaged metadata; a sealed file that was damaged anywhere is
 * refused before that parser sees it. Checkpoints are sealed (checkpoint.h).
 *
 * Check it by hand:  tail -c +513 FILE | sha256sum;  head -c 80 FILE */
#ifndef EXPRUN_H5SEAL_H
#define EXPRUN_H5SEAL_H

#include <stddef.h>

#include "error.h"

#define H5SEAL_BYTES 512
#define H5SEAL_MAGIC "exprun-seal 1\n"

/* Write the seal into the first H5SEAL_BYTES of a file image built with a user block of that
 * size (size > H5SEAL_BYTES). */
void h5seal_stamp(unsigned char *image, size_t size);

/* 1: sealed and intact; 0: not sealed (the file starts with HDF5's own signature, as files
 * written before seals do); -1 with an error naming the file: a damaged seal, a file that does
 * not match it, or one that cannot be read. */
int h5seal_check(const char *path, ExError *err);

#endif
