/* error.h — errors as values.
 *
 * The library never prints and never exits: a function that can fail returns 0 on success
 * and -1 on failure, after writing a message a user can act on into an ExError. The runner
 * decides what to tell the user and which exit status to use. */
#ifndef EXPRUN_ERROR_H
#define EXPRUN_ERROR_H

#include <stddef.h>

typedef struct ExError {
    char msg[4096];
} ExError;

/* Write a printf-style message into err (if err is not NULL) and return -1. */
int ex_fail(ExError *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prepend context ("while loading foo: ") to an existing message; returns -1. */
int ex_prefix(ExError *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A printable copy of len bytes of text for a message or a terminal: valid UTF-8 is kept; a
 * control byte, NUL or a byte that is not UTF-8 becomes \n, \t or \xHH, and \ and " are
 * escaped, so that a quoted copy is unambiguous (a run's files may hold anything: an escape
 * sequence must not reach the screen); cut to fit cap with "...". Returns out. */
char *ex_printable(char *out, size_t cap, const char *text, size_t len);

/* malloc/calloc/realloc that never return NULL silently: on failure they end the process with
 * a clear message and exit status 3 (a runtime error, as for bad data; not abort()'s SIGABRT and
 * core), because running out of memory in the middle of a step leaves nothing to recover. The
 * sizes a spec decides are checked against the machine before anything is allocated
 * (runner/memory.h), so this is what is left: the machine's memory taken by something else. */
void *ex_malloc_check(size_t size, const char *file, int line);
void *ex_calloc_check(size_t count, size_t size, const char *file, int line);
void *ex_realloc_check(void *p, size_t size, const char *file, int line);
#define ex_malloc(size) ex_malloc_check((size), __FILE__, __LINE__)
#define ex_realloc(p, size) ex_realloc_check((p), (size), __FILE__, __LINE__)
#define ex_calloc(count, size) ex_calloc_check((count), (size), __FILE__, __LINE__)

#endif
