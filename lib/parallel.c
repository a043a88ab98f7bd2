/* parallel.c — persistent worker threads woken by a condition variable (see parallel.h).
 *
 * One job at a time: the caller publishes (fn, ctx, parts), bumps `generation` and broadcasts;
 * each worker that sees a new generation runs its parts, and the last one to finish signals
 * `done`. Every wait is a pthread_cond_wait — a sleeping thread costs nothing. */
#include "parallel.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

typedef struct Pool {
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    unsigned long generation;   /* one per job */
    ParFn fn;
    void *ctx;
    int parts, stride;          /* this job: parts, and the number of threads sharing them */
    int pending;                /* workers still running this job */
    int started;                /* workers started so far (they are never stopped) */
} Pool;

static Pool pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, NULL, NULL,
                    0, 0, 0, 0};
static int n_threads = 0;                 /* 0: not decided yet */
static double min_flops = PAR_MIN_FLOPS;
static _Thread_local int inside_part = 0; /* a par_run from inside a part runs inline */

static int default_threads(void) {
    const char *env = getenv("EXPRUN_THREADS");
    long n = env && *env ? strtol(env, NULL, 10) : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > PAR_MAX_THREADS ? PAR_MAX_THREADS : (int)n;
}

void par_set_threads(int n) { n_threads = n < 1 ? 1 : n > PAR_MAX_THREADS ? PAR_MAX_THREADS : n; }

int par_threads(void) {
    if (n_threads == 0) n_threads = default_threads();
    return n_threads;
}

void par_set_min_flops(double flops) { min_flops = flops < 0.0 ? 0.0 : flops; }
double par_min_flops(void) { return min_flops; }

int par_parts_for(double flops, int max_parts) {
    int threads = par_threads();
    if (flops < min_flops || max_parts < 2 || threads < 2) return 1;
    return threads < max_parts ? threads : max_parts;
}

static void run_parts(ParFn fn, void *ctx, int first, int parts, int stride) {
    inside_part = 1;
    for (int k = first; k < parts; k += stride) fn(ctx, k, parts);
    inside_part = 0;
}

static void *worker_main(void *arg) {
    int index = (int)(long)arg;   /* 1.. ; the caller is thread 0 */
    unsigned long seen = 0;
    pthread_mutex_lock(&pool.mu);
    for (;;) {
        while (pool.generation == seen) pthread_cond_wait(&pool.wake, &pool.mu);
        seen = pool.generation;
        if (index >= pool.stride) continue;   /* not needed for this job */
        ParFn fn = pool.fn;
        void *ctx = pool.ctx;
        int parts = pool.parts, stride = pool.stride;
        pthread_mutex_unlock(&pool.mu);
        run_parts(fn, ctx, index, parts, stride);
        pthread_mutex_lock(&pool.mu);
        if (--pool.pending == 0) pthread_cond_signal(&pool.done);
    }
    return NULL;
}

/* A child of fork() has none of its parent's threads: it starts its own when it needs them. */
static void forget_workers_after_fork(void) {
    pthread_mutex_init(&pool.mu, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pthread_cond_init(&pool.done, NULL);
    pool.started = 0;
    pool.pending = 0;
}

/* Start workers 1..want−1 that are not running yet; returns how many threads are available. */
static int ensure_workers(int want) {
    static int registered = 0;
    if (!registered) {
        pthread_atfork(NULL, NULL, forget_workers_after_fork);
        registered = 1;
    }
    while (pool.started < want - 1) {
        pthread_t tid;
        if (pthread_create(&tid, NULL, worker_main, (void *)(long)(pool.started + 1)) != 0) break;
        pthread_detach(tid);
        pool.started++;
    }
    return pool.started + 1;
}

void par_run(ParFn fn, void *ctx, int parts) {
    if (parts <= 0) return;
    int threads = par_threads();
    if (threads > parts) threads = parts;
    if (threads > 1 && !inside_part) {
        int available = ensure_workers(threads);
        if (available < threads) threads = available;
    }
    if (threads <= 1 || inside_part) {
        for (int k = 0; k < parts; k++) fn(ctx, k, parts);
        return;
    }
    pthread_mutex_lock(&pool.mu);
    pool.fn = fn;
    pool.ctx = ctx;
    pool.parts = parts;
    pool.stride = threads;
    pool.pending = threads - 1;
    pool.generation++;
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.mu);

    run_parts(fn, ctx, 0, parts, threads);

    pthread_mutex_lock(&pool.mu);
    while (pool.pending > 0) pthread_cond_wait(&pool.done, &pool.mu);
    pthread_mutex_unlock(&pool.mu);
}

void par_range(int n, int part, int parts, int grain, int *begin, int *end) {
    if (grain < 1) grain = 1;
    int units = (n + grain - 1) / grain;           /* whole grains, the last maybe partial */
    int b = (int)((long)units * part / parts), e = (int)((long)units * (part + 1) / parts);
    *begin = b * grain < n ? b * grain : n;
    *end = e * grain < n ? e * grain : n;
}
