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

char *ex_printable(char *out, size_t cap, const char *text, size_t len) {
    size_t o = 0, i = 0;
    while (i < len && o + 8 < cap) {
        unsigned char c = (unsigned char)text[i];
        int more = c < 0x80 ? 0 : c >= 0xc2 && c < 0xe0 ? 1 : c >= 0xe0 && c < 0xf0 ? 2 : c >= 0xf0 && c < 0xf5 ? 3 : -1;
        for (int k = 1; more > 0 && k <= more; k++)
            if (i + k >= len || ((unsigned char)text[i + k] & 0xc0) != 0x80) more = -1;
        if (more > 0) {   /* one whole UTF-8 character */
            memcpy(out + o, text + i, (size_t)more + 1);
            o += (size_t)more + 1, i += (size_t)more + 1;
            continue;
        }
        if (c == '\n') o += (size_t)snprintf(out + o, cap - o, "\\n");
        else if (c == '\t') o += (size_t)snprintf(out + o, cap - o, "\\t");
        else if (c == '\\' || c == '"') o += (size_t)snprintf(out + o, cap - o, "\\%c", c);
        else if (c < 32 || c == 127 || more < 0) o += (size_t)snprintf(out + o, cap - o, "\\x%02x", c);
        else out[o++] = (char)c;
        i++;
    }
    snprintf(out + o, cap - o, "%s", i < len ? "..." : "");
    return out;
}

/* The end of a process that ran out of memory: the message, and exit status 3 (error.h). */
static void out_of_memory(double bytes, const char *file, int line) {
    fprintf(stderr, "exprun: out of memory: allocating %.0f bytes failed (%s:%d); stopping with exit status 3. "
                    "Something else took the machine's memory, or the model does not fit it: `exprun validate "
                    "SPEC` prints the model's estimate\n", bytes, file, line);
    exit(3);
}

void *ex_malloc_check(size_t size, const char *file, int line) {
    void *p = malloc(size ? size : 1);
    if (!p) {
        out_of_memory((double)size, file, line);
    }
    return p;
}

void *ex_realloc_check(void *p, size_t size, const char *file, int line) {
    void *q = realloc(p, size ? size : 1);
    if (!q) {
        out_of_memory((double)size, file, line);
    }
    return q;
}

void *ex_calloc_check(size_t count, size_t size, const char *file, int line) {
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p) {
        out_of_memory((double)count * (double)size, file, line);
    }
    return p;
}
