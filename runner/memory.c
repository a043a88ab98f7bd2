/* memory.c — whether a model fits the machine (memory.h). */
#include "memory.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

/* A "Key: N kB" line of a /proc file, in bytes; −1 if absent. */
static double proc_kib(const char *file, const char *key) {
    FILE *f = fopen(file, "r");
    char line[256];
    double bytes = -1;
    size_t n = strlen(key);
    while (f && fgets(line, sizeof line, f)) {
        unsigned long long kib = 0;
        if (strncmp(line, key, n) == 0 && sscanf(line + n, ": %llu kB", &kib) == 1) bytes = 1024.0 * (double)kib;
    }
    if (f) fclose(f);
    return bytes;
}

double memory_limit(const char **source) {
    double limit = 1e300;
    const char *why = "no limit found";
    double available = proc_kib("/proc/meminfo", "MemAvailable");
    if (available >= 0) {
        limit = available;
        why = "the memory available (MemAvailable)";
    }
    struct rlimit r;
    /* the address space is counted with what is mapped already (libraries, thread stacks, the data) */
    double mapped = proc_kib("/proc/self/status", "VmSize");
    if (getrlimit(RLIMIT_AS, &r) == 0 && r.rlim_cur != RLIM_INFINITY &&
        (double)r.rlim_cur - (mapped > 0 ? mapped : 0) < limit) {
        limit = (double)r.rlim_cur - (mapped > 0 ? mapped : 0);
        why = "the address space left under the limit (ulimit -v)";
    }
    if (getrlimit(RLIMIT_DATA, &r) == 0 && r.rlim_cur != RLIM_INFINITY && (double)r.rlim_cur < limit) {
        limit = (double)r.rlim_cur;
        why = "the data-size limit (ulimit -d)";
    }
    if (source) *source = why;
    return limit;
}

void memory_format(double bytes, char *buf, size_t cap) {
    const char *unit[] = {"bytes", "KiB", "MiB", "GiB", "TiB", "PiB"};
    int k = 0;
    while (bytes >= 1024 && k < 5) bytes /= 1024, k++;
    snprintf(buf, cap, k == 0 ? "%.0f %s" : "%.1f %s", bytes, unit[k]);
}

int memory_check(double bytes, const char *what, ExError *err) {
    const char *source;
    double limit = memory_limit(&source);
    if (bytes <= limit) return 0;
    char need[32], have[32];
    memory_format(bytes, need, sizeof need);
    memory_format(limit, have, sizeof have);
    return ex_fail(err, "%s needs about %s in training (parameters, gradients, optimizer moments and "
                        "workspaces; an estimate), more than %s: %s; nothing was allocated. Make model.units "
                        "(or model.hidden, model.code), train.batch_size or the sequence length smaller",
                   what, need, source, have);
}
