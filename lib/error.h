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

/* malloc/calloc that never return NULL silently: on failure they abort with file:line,
 * because running out of memory in the middle of a step leaves nothing to recover. */
void *ex_malloc_check(size_t size, const char *file, int line);
void *ex_calloc_check(size_t count, size_t size, const char *file, int line);
void *ex_realloc_check(void *p, size_t size, const char *file, int line);
#define ex_malloc(size) ex_malloc_check((size), __FILE__, __LINE__)
#define ex_realloc(p, size) ex_realloc_check((p), (size), __FILE__, __LINE__)
#define ex_calloc(count, size) ex_calloc_check((count), (size), __FILE__, __LINE__)

#endif
