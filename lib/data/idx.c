/* idx.c — read IDX image and label files (format in idx.h). */
#include "idx.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define IDX_TYPE_UBYTE 0x08
/* Header sanity bounds: a corrupt header must not turn into a 100 GB allocation. */
#define IDX_MAX_SIDE 65536
#define IDX_MAX_VALUES ((size_t)1 << 32)

typedef struct IdxFile {
    const char *path;
    gzFile gz;
    int gzipped;          /* a gzip stream (else read as it is) */
    long long size;       /* a plain regular file's size in bytes, else −1 (gzip, pipe) */
} IdxFile;

static const char *strip_path(const IdxFile *f, const char *msg);

/* Open once and read through zlib, which passes a plain file through as it is: a named pipe or
 * a shell's <(…) can be read only once. A plain regular file's size is known before anything is
 * read, so a header can be checked against it. */
static int idx_open(IdxFile *f, const char *path, ExError *err) {
    f->path = path;
    f->gz = NULL;
    f->size = -1;
    int fd = open(path, O_RDONLY);
    if (fd < 0) return ex_fail(err, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    int regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
    f->gz = gzdopen(fd, "rb");
    if (!f->gz) {
        close(fd);
        return ex_fail(err, "%s: cannot open: %s", path, "zlib failed");
    }
    gzbuffer(f->gz, 1 << 17);
    f->gzipped = !gzdirect(f->gz);   /* reads the first bytes to tell */
    if (regular && !f->gzipped) f->size = (long long)st.st_size;
    return 0;
}

static void idx_close(IdxFile *f) {
    if (f->gz) gzclose(f->gz);
    f->gz = NULL;
}

/* Read up to len bytes; returns the count read (short at end of data), or -1 when zlib reports
 * a corrupt stream (message in err). A gzip stream cut short reads short and is reported by
 * the caller as truncation, with zlib's words appended by gz_detail. */
static long long idx_read(IdxFile *f, void *buf, size_t len, ExError *err) {
    size_t total = 0;
    while (total < len) {
        size_t want = len - total;
        if (want > (1u << 30)) want = 1u << 30;
        int got = gzread(f->gz, (char *)buf + total, (unsigned)want);
        if (got < 0) {
            int code = 0;
            const char *msg = gzerror(f->gz, &code);
            return ex_fail(err, "%s: corrupt %sstream: %s", f->path, f->gzipped ? "gzip " : "",
                           msg ? strip_path(f, msg) : "read error");
        }
        if (got == 0) break;
        total += (size_t)got;
    }
    return (long long)total;
}

/* zlib prefixes its messages with the path; ours already start with it. */
static const char *strip_path(const IdxFile *f, const char *msg) {
    size_t n = strlen(f->path);
    if (strncmp(msg, f->path, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ') return msg + n + 2;
    return msg;
}

/* zlib's note on why a gzip stream ended early ("unexpected end of file"), or "". */
static const char *gz_detail(IdxFile *f, char *buf, size_t cap) {
    int code = 0;
    const char *msg = gzerror(f->gz, &code);
    buf[0] = '\0';
    if (f->gzipped && code != Z_OK && msg && *msg) snprintf(buf, cap, " (gzip: %s)", strip_path(f, msg));
    return buf;
}

/* The header's promise (header_bytes + values) against a plain file's size, before allocating. */
static int idx_check_size(const IdxFile *f, size_t header_bytes, size_t values, const char *what, ExError *err) {
    if (f->size < 0 || (unsigned long long)f->size >= header_bytes + values) return 0;
    return ex_fail(err, "%s: truncated: expected %zu bytes of %s after the %zu-byte header, got %lld (the file's "
                        "size): the header promises more than the file holds",
                   f->path, values, what, header_bytes, f->size - (long long)header_bytes);
}

/* Read `count` bytes of values (a gzip stream or a pipe may hold fewer than its header says) into
 * a buffer that grows with what arrives, never to more than twice what the stream holds: a header
 * that lies cannot make a large allocation. Returns the buffer (*got bytes), or NULL on a corrupt
 * stream (err says so). */
static unsigned char *idx_read_values(IdxFile *f, size_t count, size_t *got, ExError *err) {
    size_t cap = count < ((size_t)1 << 20) ? count : (size_t)1 << 20, done = 0;
    unsigned char *buf = ex_malloc(cap ? cap : 1);
    while (done < count) {
        if (done == cap) {
            cap = cap * 2 < count ? cap * 2 : count;
            buf = ex_realloc(buf, cap);
        }
        long long n = idx_read(f, buf + done, cap - done, err);
        if (n < 0) {
            free(buf);
            return NULL;
        }
        done += (size_t)n;
        if (n == 0) break;
    }
    *got = done;
    return buf;
}

static uint32_t be32(const unsigned char *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/* Read and check the magic and the dims; dims[0..ndims) on success. */
static int idx_header(IdxFile *f, int want_ndims, uint32_t *dims, ExError *err) {
    const char *kind = want_ndims == 3 ? "images" : "labels";
    unsigned char head[4];
    long long got = idx_read(f, head, 4, err);
    if (got < 0) return -1;
    if (got < 4)
        return ex_fail(err, "%s: truncated: %lld bytes, shorter than the 4-byte IDX magic", f->path, got);
    uint32_t magic = be32(head);
    if (head[0] != 0 || head[1] != 0)
        return ex_fail(err,
                       "%s: bad magic 0x%08x: not an IDX file (expected 0x%08x for IDX %s%s)",
                       f->path, magic, (unsigned)(0x800 | want_ndims), kind,
                       f->gzipped ? "" : ", plain or gzip-compressed");
    if (head[2] != IDX_TYPE_UBYTE)
        return ex_fail(err, "%s: IDX element type 0x%02x is not supported (only 0x08, unsigned byte)",
                       f->path, head[2]);
    if (head[3] != want_ndims) {
        const char *hint = head[3] == 1 ? " (this looks like a label file)"
                           : head[3] == 3 ? " (this looks like an image file)"
                                          : "";
        return ex_fail(err, "%s: IDX file has %d dimensions, expected %d for %s%s", f->path, head[3],
                       want_ndims, kind, hint);
    }
    unsigned char raw[12];
    size_t need = 4 * (size_t)want_ndims;
    got = idx_read(f, raw, need, err);
    if (got < 0) return -1;
    if ((size_t)got < need)
        return ex_fail(err, "%s: truncated: header needs %zu bytes of dimensions, got %lld", f->path,
                       need, got);
    for (int i = 0; i < want_ndims; i++) dims[i] = be32(raw + 4 * i);
    if (dims[0] == 0) return ex_fail(err, "%s: header says 0 samples", f->path);
    if (dims[0] > (uint32_t)INT_MAX)
        return ex_fail(err, "%s: header says %u samples, more than this program can index (corrupt?)",
                       f->path, dims[0]);
    for (int i = 1; i < want_ndims; i++)
        if (dims[i] == 0 || dims[i] > IDX_MAX_SIDE)
            return ex_fail(err, "%s: implausible image size %u x %u in header (corrupt?)", f->path,
                           dims[1], dims[2]);
    return 0;
}

/* After the promised data: anything more means the header and the data disagree. */
static int idx_expect_end(IdxFile *f, ExError *err) {
    unsigned char extra[4096];
    long long more = 0, got;
    while ((got = idx_read(f, extra, sizeof extra, err)) > 0) more += got;
    if (got < 0) return -1;
    if (more > 0)
        return ex_fail(err, "%s: corrupt: %lld bytes after the data the header describes", f->path, more);
    return 0;
}

int idx_load_images(const char *path, Dataset *out, ExError *err) {
    memset(out, 0, sizeof *out);
    IdxFile f;
    if (idx_open(&f, path, err) != 0) return -1;
    uint32_t dims[3];
    if (idx_header(&f, 3, dims, err) != 0) {
        idx_close(&f);
        return -1;
    }
    size_t n = dims[0], d = (size_t)dims[1] * dims[2], count = n * d;
    if (count > IDX_MAX_VALUES) {
        idx_close(&f);
        return ex_fail(err, "%s: header promises %zu x %u x %u pixels, too many (corrupt?)", path, n,
                       dims[1], dims[2]);
    }
    if (idx_check_size(&f, 16, count, "pixels", err) != 0) {
        idx_close(&f);
        return -1;
    }
    size_t done = 0;
    unsigned char *bytes = idx_read_values(&f, count, &done, err);
    if (bytes && done < count) {
        char detail[256];
        ex_fail(err, "%s: truncated: expected %zu bytes of pixels (%zu images of %u x %u), got %zu%s", path, count,
                n, dims[1], dims[2], done, gz_detail(&f, detail, sizeof detail));
    }
    if (!bytes || done < count || idx_expect_end(&f, err) != 0) {
        free(bytes);
        idx_close(&f);
        return -1;
    }
    idx_close(&f);
    float *x = ex_malloc(count * sizeof(float));
    for (size_t i = 0; i < count; i++) x[i] = (float)bytes[i];
    free(bytes);
    snprintf(out->source, sizeof out->source, "%s", path);
    out->n = (int)n;
    out->T = 1;
    out->d = (int)d;
    out->x = x;
    out->image_rows = (int)dims[1];
    out->image_cols = (int)dims[2];
    return 0;
}

int idx_load_labels(const char *path, int32_t **labels, int *n_out, int *num_classes, ExError *err) {
    *labels = NULL;
    *n_out = 0;
    *num_classes = 0;
    IdxFile f;
    if (idx_open(&f, path, err) != 0) return -1;
    uint32_t dims[1];
    if (idx_header(&f, 1, dims, err) != 0) {
        idx_close(&f);
        return -1;
    }
    size_t n = dims[0], got = 0;
    if (idx_check_size(&f, 8, n, "labels", err) != 0) {
        idx_close(&f);
        return -1;
    }
    unsigned char *raw = idx_read_values(&f, n, &got, err);
    if (raw && got < n) {
        char detail[256];
        ex_fail(err, "%s: truncated: expected %zu bytes of labels, got %zu%s", path, n, got,
                gz_detail(&f, detail, sizeof detail));
    }
    if (!raw || got < n || idx_expect_end(&f, err) != 0) {
        free(raw);
        idx_close(&f);
        return -1;
    }
    idx_close(&f);
    int32_t *lab = ex_malloc(n * sizeof(int32_t));
    int top = 0;
    for (size_t i = 0; i < n; i++) {
        lab[i] = raw[i];
        if (raw[i] > top) top = raw[i];
    }
    free(raw);
    *labels = lab;
    *n_out = (int)n;
    *num_classes = top + 1;
    return 0;
}

int idx_load(const char *images_path, const char *labels_path, Dataset *out, ExError *err) {
    if (idx_load_images(images_path, out, err) != 0) return -1;
    if (!labels_path) return 0;
    int32_t *labels;
    int n, classes;
    if (idx_load_labels(labels_path, &labels, &n, &classes, err) != 0) {
        dataset_free(out);
        return -1;
    }
    if (n != out->n) {
        free(labels);
        int n_images = out->n;
        dataset_free(out);
        return ex_fail(err, "%s holds %d labels but %s holds %d images: they are not one split",
                       labels_path, n, images_path, n_images);
    }
    out->labels = labels;
    out->num_classes = classes;
    return 0;
}
