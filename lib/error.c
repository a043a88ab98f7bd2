#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ex_fail(ExError *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int ex_prefix(ExError *err, const char *fmt, ...) {
    if (!err) return -1;
    char prefix[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    /* Shift the old message right and put the prefix in front, truncating at the end. */
    size_t plen = strlen(prefix), cap = sizeof err->msg;
    if (plen >= cap) plen = cap - 1;
    size_t olen = strlen(err->msg);
    if (plen + olen >= cap) olen = cap - 1 - plen;
    memmove(err->msg + plen, err->msg, olen);
    memcpy(err->msg, prefix, plen);
    err->msg[plen + olen] = '\0';
    return -1;
}

void *ex_malloc_check(size_t size, const char *file, int line) {
    void *p = malloc(size ? size : 1);
    if (!p) {
        fprintf(stderr, "exprun: out of memory allocating %zu bytes at %s:%d\n", size, file, line);
        abort();
    }
    return p;
}

void *ex_realloc_check(void *p, size_t size, const char *file, int line) {
    void *q = realloc(p, size ? size : 1);
    if (!q) {
        fprintf(stderr, "exprun: out of memory allocating %zu bytes at %s:%d\n", size, file, line);
        abort();
    }
    return q;
}

void *ex_calloc_check(size_t count, size_t size, const char *file, int line) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) {
        fprintf(stderr, "exprun: out of memory allocating %zu x %zu bytes at %s:%d\n", count, size,
                file, line);
        abort();
    }
    return p;
}
