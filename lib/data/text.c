/* text.c — byte vocabulary, BPTT token streams and windows (layouts in text.h). */
#include "text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int text_load(const char *path, size_t max_bytes, uint8_t **bytes, size_t *len, ExError *err) {
    *bytes = NULL;
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp) return ex_fail(err, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = ex_malloc(cap);
    for (;;) {
        if (max_bytes && n >= max_bytes) break;
        if (n == cap) {
            cap *= 2;
            uint8_t *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                fclose(fp);
                return ex_fail(err, "%s: out of memory reading the text", path);
            }
            buf = grown;
        }
        size_t want = cap - n;
        if (max_bytes && want > max_bytes - n) want = max_bytes - n;
        size_t got = fread(buf + n, 1, want, fp);
        n += got;
        if (got == 0) break;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        return ex_fail(err, "%s: read error", path);
    }
    if (n == 0) {
        free(buf);
        return ex_fail(err, "%s: empty file: no text to learn from", path);
    }
    *bytes = buf;
    *len = n;
    return 0;
}

void vocab_build(Vocab *v, const uint8_t *bytes, size_t len) {
    int seen[256] = {0};
    for (size_t i = 0; i < len; i++) seen[bytes[i]] = 1;
    memset(v, 0, sizeof *v);
    for (int b = 0; b < 256; b++) {
        v->id_of[b] = -1;
        if (seen[b]) {
            v->id_of[b] = (int16_t)v->size;
            v->byte_of[v->size++] = (uint8_t)b;
        }
    }
}

int vocab_from_bytes(Vocab *v, const uint8_t *byte_of, int size, ExError *err) {
    if (size < 1 || size > 256) return ex_fail(err, "vocabulary size %d is outside [1, 256]", size);
    for (int i = 1; i < size; i++)
        if (byte_of[i] <= byte_of[i - 1])
            return ex_fail(err, "vocabulary bytes are not distinct and increasing at id %d", i);
    memset(v, 0, sizeof *v);
    for (int b = 0; b < 256; b++) v->id_of[b] = -1;
    for (int i = 0; i < size; i++) {
        v->byte_of[i] = byte_of[i];
        v->id_of[byte_of[i]] = (int16_t)i;
    }
    v->size = size;
    return 0;
}

/* A byte for messages: printable as 'c', else as 0xNN. */
static const char *show_byte(uint8_t b, char *buf, size_t cap) {
    if (b >= 0x20 && b < 0x7f) snprintf(buf, cap, "'%c'", b);
    else snprintf(buf, cap, "0x%02x", b);
    return buf;
}

int vocab_encode(const Vocab *v, const uint8_t *bytes, size_t len, int32_t *ids, int unknown_id,
                 const char *source, ExError *err) {
    if (unknown_id >= v->size)
        return ex_fail(err, "stand-in id %d for unknown characters is outside the vocabulary of %d",
                       unknown_id, v->size);
    int replaced = 0;
    for (size_t i = 0; i < len; i++) {
        int id = v->id_of[bytes[i]];
        if (id < 0) {
            if (unknown_id < 0) {
                char shown[16];
                return ex_fail(err,
                               "%s: byte %s at offset %zu does not occur in the training text "
                               "(its vocabulary has %d characters)",
                               source ? source : "text", show_byte(bytes[i], shown, sizeof shown), i,
                               v->size);
            }
            id = unknown_id;
            replaced++;
        }
        ids[i] = id;
    }
    return replaced;
}

void vocab_decode(const Vocab *v, const int32_t *ids, size_t len, uint8_t *bytes) {
    for (size_t i = 0; i < len; i++)
        bytes[i] = (ids[i] >= 0 && ids[i] < v->size) ? v->byte_of[ids[i]] : (uint8_t)'?';
}

/* ---- streams ---------------------------------------------------------------------------------- */

int stream_init(TokenStream *s, const Vocab *v, const uint8_t *bytes, size_t len, int unknown_id,
                const char *source, ExError *err) {
    memset(s, 0, sizeof *s);
    int32_t *tokens = ex_malloc((len > 0 ? len : 1) * sizeof(int32_t));
    if (vocab_encode(v, bytes, len, tokens, unknown_id, source, err) < 0) {
        free(tokens);
        return -1;
    }
    s->tokens = tokens;
    s->len = len;
    s->vocab = v->size;
    return 0;
}

void stream_free(TokenStream *s) {
    if (!s) return;
    free(s->tokens);
    memset(s, 0, sizeof *s);
}

/* L = ⌊(len − 1)/B⌋: one token is kept back so that the last track's last target exists. */
static size_t track_len(const TokenStream *s, int B) {
    if (B < 1 || s->len < 2) return 0;
    return (s->len - 1) / (size_t)B;
}

int64_t stream_batches_per_epoch(const TokenStream *s, int B, int T) {
    if (T < 1) return 0;
    return (int64_t)(track_len(s, B) / (size_t)T);
}

int stream_check(const TokenStream *s, int B, int T, const char *source, ExError *err) {
    if (B < 1 || T < 1) return ex_fail(err, "batch size %d and steps %d must be at least 1", B, T);
    if (stream_batches_per_epoch(s, B, T) > 0) return 0;
    return ex_fail(err,
                   "%s: %zu characters are too few for %d tracks of %d steps (need at least %lld): "
                   "use a smaller batch size or bptt length, or more text",
                   source ? source : "text", s->len, B, T, (long long)B * T + 1);
}

int stream_batch(const TokenStream *s, int B, int T, int64_t batch_index, int32_t *x_tokens,
                 int32_t *y_tokens) {
    if (batch_index < 0 || batch_index >= stream_batches_per_epoch(s, B, T)) return -1;
    size_t L = track_len(s, B);
    for (int b = 0; b < B; b++) {
        const int32_t *src = s->tokens + (size_t)b * L + (size_t)batch_index * (size_t)T;
        memcpy(x_tokens + (size_t)b * (size_t)T, src, (size_t)T * sizeof(int32_t));
        memcpy(y_tokens + (size_t)b * (size_t)T, src + 1, (size_t)T * sizeof(int32_t));
    }
    return 0;
}

int text_windows(const TokenStream *s, int T, int stride, const char *source, Dataset *out, ExError *err) {
    memset(out, 0, sizeof *out);
    if (!source) source = "text";
    if (T < 1 || stride < 1) return ex_fail(err, "window length %d and stride %d must be at least 1", T, stride);
    if (s->len < (size_t)T + 1)
        return ex_fail(err, "%s: %zu characters are too few for one window of %d steps plus its target",
                       source, s->len, T);
    size_t n = (s->len - 1 - (size_t)T) / (size_t)stride + 1;
    if (n > 0x7fffffff) return ex_fail(err, "%s: too many windows (%zu): raise the stride", source, n);
    snprintf(out->source, sizeof out->source, "%s (windows of %d, stride %d)", source, T,
             stride);
    out->n = (int)n;
    out->T = T;
    out->Ty = T;
    out->vocab = s->vocab;
    out->x_tokens = ex_malloc(n * (size_t)T * sizeof(int32_t));
    out->y_tokens = ex_malloc(n * (size_t)T * sizeof(int32_t));
    for (size_t i = 0; i < n; i++) {
        const int32_t *src = s->tokens + i * (size_t)stride;
        memcpy(out->x_tokens + i * (size_t)T, src, (size_t)T * sizeof(int32_t));
        memcpy(out->y_tokens + i * (size_t)T, src + 1, (size_t)T * sizeof(int32_t));
    }
    return 0;
}
