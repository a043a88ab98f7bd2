/* strbuf.h — a growable string, always NUL-terminated (the spec reader's and emitter's, the
 * sweep's tables). A zeroed StrBuf is an empty one; s stays NULL until the first put. */
#ifndef EXPRUN_STRBUF_H
#define EXPRUN_STRBUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct StrBuf {
    char *s;
    size_t len, cap;
} StrBuf;

void strbuf_putn(StrBuf *b, const char *s, size_t n);
void strbuf_puts(StrBuf *b, const char *s);
void strbuf_putc(StrBuf *b, char c);
void strbuf_printf(StrBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_vprintf(StrBuf *b, const char *fmt, va_list ap);
void strbuf_free(StrBuf *b);

#endif
