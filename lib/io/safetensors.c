/* safetensors.c — the safetensors writer (format in safetensors.h). */
#include "safetensors.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "publish.h"
#include "strbuf.h"

/* A JSON string (RFC 8259): quotes, backslashes and control characters escaped; other bytes,
 * UTF-8 included, as they are. */
static void json_str(StrBuf *b, const char *s) {
    strbuf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            strbuf_putc(b, '\\');
            strbuf_putc(b, (char)*p);
        } else if (*p == '\n') strbuf_puts(b, "\\n");
        else if (*p == '\t') strbuf_puts(b, "\\t");
        else if (*p == '\r') strbuf_puts(b, "\\r");
        else if (*p < 0x20) strbuf_printf(b, "\\u%04x", *p);
        else strbuf_putc(b, (char)*p);
    }
    strbuf_putc(b, '"');
}

static size_t values_of(const StTensor *t) {
    size_t n = 1;
    for (int d = 0; d < t->rank; d++) n *= (size_t)t->shape[d];
    return n;
}

int safetensors_write(const char *path, const StTensor *tensors, int n, const StMeta *meta, int n_meta, ExError *err) {
    for (int i = 0; i < n; i++) {
        if (strcmp(tensors[i].name, "__metadata__") == 0 || tensors[i].rank < 0 || tensors[i].rank > ST_MAX_RANK)
            return ex_fail(err, "%s: tensor %d cannot be written (name %s, rank %d)", path, i, tensors[i].name,
                           tensors[i].rank);
        for (int j = 0; j < i; j++)
            if (strcmp(tensors[i].name, tensors[j].name) == 0)
                return ex_fail(err, "%s: two tensors named %s", path, tensors[i].name);
    }
    StrBuf h = {0};
    strbuf_putc(&h, '{');
    if (n_meta > 0) {
        strbuf_puts(&h, "\"__metadata__\":{");
        for (int k = 0; k < n_meta; k++) {
            if (k) strbuf_putc(&h, ',');
            json_str(&h, meta[k].key);
            strbuf_putc(&h, ':');
            json_str(&h, meta[k].value);
        }
        strbuf_putc(&h, '}');
    }
    size_t offset = 0;
    for (int i = 0; i < n; i++) {
        const StTensor *t = &tensors[i];
        size_t bytes = values_of(t) * sizeof(float);
        if (n_meta > 0 || i) strbuf_putc(&h, ',');
        json_str(&h, t->name);
        strbuf_puts(&h, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t->rank; d++) strbuf_printf(&h, "%s%d", d ? "," : "", t->shape[d]);
        strbuf_printf(&h, "],\"data_offsets\":[%zu,%zu]}", offset, offset + bytes);
        offset += bytes;
    }
    strbuf_putc(&h, '}');
    while (h.len % 8) strbuf_putc(&h, ' ');   /* the data starts 8-byte aligned */

    size_t total = 8 + h.len + offset;
    unsigned char *file = malloc(total ? total : 1);
    if (!file) {
        strbuf_free(&h);
        return ex_fail(err, "%s: out of memory for %zu bytes", path, total);
    }
    uint64_t header_len = h.len;
    for (int k = 0; k < 8; k++) file[k] = (unsigned char)(header_len >> (8 * k));   /* little-endian */
    memcpy(file + 8, h.s, h.len);
    unsigned char *at = file + 8 + h.len;
    for (int i = 0; i < n; i++) {
        size_t count = values_of(&tensors[i]);
        for (size_t v = 0; v < count; v++, at += 4) {   /* little-endian whatever the host */
            uint32_t bits;
            memcpy(&bits, &tensors[i].data[v], 4);
            at[0] = (unsigned char)bits, at[1] = (unsigned char)(bits >> 8);
            at[2] = (unsigned char)(bits >> 16), at[3] = (unsigned char)(bits >> 24);
        }
    }
    strbuf_free(&h);
    int rc = publish_file(path, file, total, err);
    free(file);
    return rc;
}
