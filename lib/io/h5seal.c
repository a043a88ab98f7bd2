/* h5seal.c — seal a file image, check a sealed file (format in h5seal.h). */
#include "h5seal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "sha256.h"

static const unsigned char HDF5_SIGNATURE[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

void h5seal_stamp(unsigned char *image, size_t size) {
    Sha256 s;
    char sha[65];
    sha256_init(&s);
    sha256_update(&s, image + H5SEAL_BYTES, size - H5SEAL_BYTES);
    sha256_final_hex(&s, sha);
    memset(image, 0, H5SEAL_BYTES);
    snprintf((char *)image, H5SEAL_BYTES, "%ssha256 %s\n", H5SEAL_MAGIC, sha);
}

int h5seal_check(const char *path, ExError *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return ex_fail(err, "%s: %s", path, strerror(errno));
    unsigned char head[H5SEAL_BYTES];
    size_t got = fread(head, 1, sizeof head, f);
    if (got >= sizeof HDF5_SIGNATURE && memcmp(head, HDF5_SIGNATURE, sizeof HDF5_SIGNATURE) == 0) {
        fclose(f);
        return 0;   /* no user block: an unsealed (older) file, for HDF5 to judge */
    }
    const size_t magic = strlen(H5SEAL_MAGIC), line = magic + 7 + 64 + 1;
    int well_formed = got == sizeof head && memcmp(head, H5SEAL_MAGIC, magic) == 0 &&
                      memcmp(head + magic, "sha256 ", 7) == 0 && head[line - 1] == '\n';
    for (size_t i = magic + 7; well_formed && i < line - 1; i++)
        well_formed = (head[i] >= '0' && head[i] <= '9') || (head[i] >= 'a' && head[i] <= 'f');
    for (size_t i = line; well_formed && i < sizeof head; i++) well_formed = head[i] == 0;
    if (!well_formed) {
        fclose(f);
        return ex_fail(err, "%s: not an HDF5 file, nor one sealed by exprun (a sealed file's first %d bytes are "
                       "\"exprun-seal 1\", a sha256 line and zeros): it is damaged, empty or of another kind",
                       path, H5SEAL_BYTES);
    }
    Sha256 s;
    sha256_init(&s);
    unsigned char buf[1 << 16];
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) sha256_update(&s, buf, got);
    int failed = ferror(f);
    fclose(f);
    if (failed) return ex_fail(err, "%s: read error", path);
    char sha[65], want[65];
    sha256_final_hex(&s, sha);
    memcpy(want, head + magic + 7, 64);
    want[64] = '\0';
    if (strcmp(sha, want) != 0)
        return ex_fail(err, "%s: its contents do not match its seal (SHA-256 %s, sealed %s): the file was damaged, "
                       "truncated or changed after it was written, and nothing of it was used", path, sha, want);
    return 1;
}
