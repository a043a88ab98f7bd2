/* corelat.c — how far apart two cores are: the round trip of one cache line between two threads.
 *
 *   corelat [--cpus A,B] [--trips N]
 *
 * Two threads, pinned to CPUs A and B (default: the first two this process may run on), hand a
 * counter back and forth through one cache line, N times (default 20,000) per batch; prints the
 * median of 5 batches as one JSON line, in ns per round trip.
 *
 * On a bare machine the answer is the topology: ~50 ns for cores that share an L3, 150–400 ns
 * for cores on different dies. On a virtual machine it is where the host has put the vCPUs at
 * that moment. On the VM of docs/speed.md it switches between ~55 and ~330 ns every few seconds
 * to minutes, and a two-thread training step slows by a fifth while it is far (gru_h256: 190 →
 * 147 GFLOP/s) — the step's phases hand rows from one core's cache to the other's — while two
 * one-thread processes, which share nothing, keep their speed. bench/shapes.py runs it beside
 * every measured run, so that a report says which rounds ran with the cores far apart. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "sortd.h"

enum { BATCHES = 5 };

/* the line the two threads pass between them: the counter, alone in its 64 bytes */
static _Alignas(64) atomic_long counter;
static long trips_per_batch = 20000;

static int pin_to(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* The other side: answers every odd value with the next even one (unpinned if it could not be
 * pinned: the caller waits for the answers, then reports the failure). */
static void *answer(void *arg) {
    int pinned = pin_to(*(const int *)arg) == 0;
    long last = 2 * trips_per_batch * BATCHES;
    for (long v = 1; v < last; v += 2) {
        while (atomic_load_explicit(&counter, memory_order_acquire) != v) relax();
        atomic_store_explicit(&counter, v + 1, memory_order_release);
    }
    return pinned ? NULL : (void *)1;
}

int main(int argc, char **argv) {
    int cpus[2] = {-1, -1};
    for (int k = 1; k < argc; k++) {
        if (k + 1 < argc && strcmp(argv[k], "--cpus") == 0 && sscanf(argv[k + 1], "%d,%d", &cpus[0], &cpus[1]) == 2)
            k++;
        else if (k + 1 < argc && strcmp(argv[k], "--trips") == 0 && (trips_per_batch = atol(argv[k + 1])) > 0)
            k++;
        else {
            fprintf(stderr, "usage: corelat [--cpus A,B] [--trips N]\n");
            return 2;
        }
    }
    cpu_set_t allowed;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 1;
    if (cpus[0] < 0) {   /* the first two CPUs we may use */
        for (int c = 0, found = 0; c < CPU_SETSIZE && found < 2; c++)
            if (CPU_ISSET(c, &allowed)) cpus[found++] = c;
        if (cpus[1] < 0) {   /* one CPU: no second core to be near or far */
            printf("{\"kind\": \"corelat\", \"cpus\": [%d], \"roundtrip_ns\": null}\n", cpus[0]);
            return 0;
        }
    }
    /* two threads on one CPU would hand the line over once per time slice: never done */
    for (int k = 0; k < 2; k++)
        if (cpus[k] < 0 || cpus[k] >= CPU_SETSIZE || !CPU_ISSET(cpus[k], &allowed) || cpus[0] == cpus[1]) {
            fprintf(stderr, "corelat: --cpus needs two different CPUs this process may run on (see taskset -p %d)\n",
                    (int)getpid());
            return 2;
        }
    if (pin_to(cpus[0]) != 0) {
        fprintf(stderr, "corelat: cannot run on CPU %d\n", cpus[0]);
        return 1;
    }
    pthread_t other;
    if (pthread_create(&other, NULL, answer, &cpus[1]) != 0) return 1;
    double per_trip[BATCHES];
    long v = 1;
    for (int b = 0; b < BATCHES; b++) {
        double t0 = now_seconds();
        for (long i = 0; i < trips_per_batch; i++, v += 2) {
            atomic_store_explicit(&counter, v, memory_order_release);
            while (atomic_load_explicit(&counter, memory_order_acquire) != v + 1) relax();
        }
        per_trip[b] = 1e9 * (now_seconds() - t0) / (double)trips_per_batch;
    }
    void *failed = NULL;
    pthread_join(other, &failed);
    if (failed) {
        fprintf(stderr, "corelat: cannot run on CPU %d\n", cpus[1]);
        return 1;
    }
    qsort(per_trip, BATCHES, sizeof per_trip[0], cmp_double);
    printf("{\"kind\": \"corelat\", \"cpus\": [%d, %d], \"roundtrip_ns\": %.1f, \"trips\": %ld}\n", cpus[0], cpus[1],
           per_trip[BATCHES / 2], trips_per_batch * BATCHES);
    return 0;
}
