#include "strbuf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"

static void strbuf_reserve(StrBuf *b, size_t extra) {
    if (b->len + extra + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1) cap *= 2;
    b->s = ex_realloc(b->s, cap);   /* out of memory: a message and exit 3 (error.h) */
    b->cap = cap;
}

void strbuf_putn(StrBuf *b, const char *s, size_t n) {
    strbuf_reserve(b, n);
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
}

void strbuf_puts(StrBuf *b, const char *s) { strbuf_putn(b, s, strlen(s)); }
void strbuf_putc(StrBuf *b, char c) { strbuf_putn(b, &c, 1); }

void strbuf_vprintf(StrBuf *b, const char *fmt, va_list ap) {
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0) return;
    strbuf_reserve(b, (size_t)n);
    vsnprintf(b->s + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void strbuf_printf(StrBuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    strbuf_vprintf(b, fmt, ap);
    va_end(ap);
}

void strbuf_free(StrBuf *b) {
    free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
}
