/* memory.h — whether a model fits the machine, known before anything is allocated.
 *
 * Sizes the schema allows can still be more than a machine has (model.units.0=1000000 is 16 TB
 * of weights): allocating them would abort. Each family estimates the bytes it will hold from its
 * config (autoencoder_memory, seqmodel_memory, seq2seq_memory, onetomany_memory); build.c checks
 * the estimate against the machine here and refuses what cannot fit, with both numbers. */
#ifndef EXPRUN_MEMORY_H
#define EXPRUN_MEMORY_H

#include <stddef.h>

#include "error.h"

/* The bytes a run may use: the least of the memory available now (MemAvailable in /proc/meminfo)
 * and the process's address-space and data limits (ulimit -v, -d). *source (may be NULL) says
 * which one it is. */
double memory_limit(const char **source);

/* "12.3 GiB", "512 MiB", "40 KiB". */
void memory_format(double bytes, char *buf, size_t cap);

/* 0 if `bytes` (the estimate for `what`) fits the limit; else -1 and err says both numbers and
 * what to make smaller. */
int memory_check(double bytes, const char *what, ExError *err);

#endif
