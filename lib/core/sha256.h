/* sha256.h — SHA-256 (FIPS 180-4), small and dependency-free.
 *
 * Used to fingerprint the resolved spec stored in every checkpoint (root attr spec_sha256), so
 * that `exprun resume` can tell whether a checkpoint belongs to the run it is asked to continue.
 * The same hex digest comes out of `sha256sum resolved.yaml` and Python's hashlib. */
#ifndef EXPRUN_SHA256_H
#define EXPRUN_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct Sha256 {
    uint32_t h[8];                /* chaining state */
    uint64_t length;              /* bytes hashed so far */
    unsigned char block[64];      /* pending partial block */
    size_t fill;                  /* bytes in block */
} Sha256;

void sha256_init(Sha256 *s);
void sha256_update(Sha256 *s, const void *data, size_t len);
void sha256_final(Sha256 *s, uint8_t digest[32]);

/* One-shot digest of data (len bytes) as 64 lower-case hex digits plus NUL. */
void sha256_hex(char out[65], const void *data, size_t len);
/* sha256_final as 64 hex digits plus NUL. */
void sha256_final_hex(Sha256 *s, char out[65]);
/* The digest of a whole file, as `sha256sum FILE` prints it; -1 (errno set) if it cannot be read. */
int sha256_file_hex(char out[65], const char *path);

/* Tests: 1 = the portable rounds only, 0 = the CPU's SHA extensions where it has them (the
 * default). Both give the same digest. */
void sha256_force_portable(int on);

#endif
