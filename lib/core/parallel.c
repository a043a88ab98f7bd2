/* parallel.c — persistent worker threads (see parallel.h): spin briefly, then sleep.
 *
 * One job at a time: the caller publishes (fn, ctx, parts, stride), counts the started workers
 * into `pending` and bumps `generation` (a release store: the job's fields are visible to a
 * worker that sees the new generation). A worker spins on `generation` for up to PAR_SPIN_NS
 * after its last job, then sleeps on `wake`; the caller likewise spins on `pending` before it
 * sleeps on `done`. A training step calls par_run 10–30 times a few microseconds apart, and a
 * futex wake-up costs 5–100 µs (most on a virtual machine): a short spin turns those into
 * cache-line reads. Between steps, or with another process on the cores, the spin ends and
 * every thread sleeps — a bounded loss of PAR_SPIN_NS per job, never a busy core.
 * Every started worker acknowledges every job (those beyond its stride run nothing), so the
 * caller never publishes a job while a worker still reads the one before. At exit the workers
 * are told to stop and joined (atexit), so no thread outlives the program's clean-up. */
#include "parallel.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

/* How long a thread spins before it sleeps: longer than the serial gaps inside a training step
 * (tens of µs of work on the caller alone; 50 µs left ae_deep 15 % slower than 200 µs), much
 * shorter than a step or the pause between steps in a real run. */
#define PAR_SPIN_NS 200000L

typedef struct Pool {
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    atomic_ulong generation;    /* one per job */
    ParFn fn;
    void *ctx;
    int parts, stride;          /* this job: parts, and the number of threads sharing them */
    atomic_int pending;         /* workers that have not finished this job */
    int started;                /* workers started so far (they run until exit) */
    int quit;                   /* set at exit: workers return */
    pthread_t tids[PAR_MAX_THREADS];
} Pool;

static Pool pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER,
                    .done = PTHREAD_COND_INITIALIZER};
static unsigned long first_seen[PAR_MAX_THREADS]; /* the generation when worker i started */
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

static long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Spin up to PAR_SPIN_NS while *v == while_equal; returns the last value read. */
static unsigned long spin_while_ulong(atomic_ulong *v, unsigned long while_equal) {
    long until = 0;
    for (unsigned k = 0;; k++) {
        unsigned long now = atomic_load_explicit(v, memory_order_acquire);
        if (now != while_equal) return now;
        if ((k & 63) == 0) {   /* read the clock every 64 pauses */
            long t = now_ns();
            if (until == 0) until = t + PAR_SPIN_NS;
            else if (t > until) return now;
        }
        cpu_relax();
    }
}

static int spin_while_pending(void) {
    long until = 0;
    for (unsigned k = 0;; k++) {
        int left = atomic_load_explicit(&pool.pending, memory_order_acquire);
        if (left == 0) return 0;
        if ((k & 63) == 0) {
            long t = now_ns();
            if (until == 0) until = t + PAR_SPIN_NS;
            else if (t > until) return left;
        }
        cpu_relax();
    }
}

static void run_parts(ParFn fn, void *ctx, int first, int parts, int stride) {
    inside_part = 1;
    for (int k = first; k < parts; k += stride) fn(ctx, k, parts);
    inside_part = 0;
}

static void *worker_main(void *arg) {
    int index = (int)(long)arg;   /* 1.. ; the caller is thread 0 */
    unsigned long seen = first_seen[index];   /* jobs before it started are not its own */
    for (;;) {
        if (spin_while_ulong(&pool.generation, seen) == seen) {
            pthread_mutex_lock(&pool.mu);
            while (atomic_load(&pool.generation) == seen) pthread_cond_wait(&pool.wake, &pool.mu);
            pthread_mutex_unlock(&pool.mu);
        }
        seen = atomic_load_explicit(&pool.generation, memory_order_acquire);
        if (pool.quit) return NULL;
        if (index < pool.stride) run_parts(pool.fn, pool.ctx, index, pool.parts, pool.stride);
        if (atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&pool.mu);   /* the caller may be asleep on `done` */
            pthread_cond_signal(&pool.done);
            pthread_mutex_unlock(&pool.mu);
        }
    }
    return NULL;
}

/* A child of fork() has none of its parent's threads: it starts its own when it needs them. */
static void forget_workers_after_fork(void) {
    pthread_mutex_init(&pool.mu, NULL);
    pthread_cond_init(&pool.wake, NULL);
    pthread_cond_init(&pool.done, NULL);
    pool.started = 0;
    atomic_store(&pool.pending, 0);
}

/* At exit: wake every worker with `quit` set and join it. */
static void stop_workers(void) {
    if (pool.started == 0) return;
    pthread_mutex_lock(&pool.mu);
    pool.quit = 1;
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.mu);
    for (int k = 1; k <= pool.started; k++) pthread_join(pool.tids[k], NULL);
    pool.started = 0;
    pool.quit = 0;
}

/* Start workers 1..want−1 that are not running yet; returns how many threads are available. */
static int ensure_workers(int want) {
    static int registered = 0;
    if (!registered) {
        pthread_atfork(NULL, NULL, forget_workers_after_fork);
        atexit(stop_workers);
        registered = 1;
    }
    while (pool.started < want - 1) {
        int index = pool.started + 1;
        first_seen[index] = atomic_load(&pool.generation);
        if (pthread_create(&pool.tids[index], NULL, worker_main, (void *)(long)index) != 0) break;
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
    pool.fn = fn;
    pool.ctx = ctx;
    pool.parts = parts;
    pool.stride = threads;
    atomic_store_explicit(&pool.pending, pool.started, memory_order_relaxed);
    pthread_mutex_lock(&pool.mu);   /* a worker about to sleep checks `generation` under it */
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.mu);

    run_parts(fn, ctx, 0, parts, threads);

    if (spin_while_pending() != 0) {
        pthread_mutex_lock(&pool.mu);
        while (atomic_load(&pool.pending) > 0) pthread_cond_wait(&pool.done, &pool.mu);
        pthread_mutex_unlock(&pool.mu);
    }
}

void par_range_size(size_t n, int part, int parts, size_t grain, size_t *begin, size_t *end) {
    if (grain < 1) grain = 1;
    size_t units = (n + grain - 1) / grain;         /* whole grains, the last maybe partial */
    size_t b = units * (size_t)part / (size_t)parts, e = units * (size_t)(part + 1) / (size_t)parts;
    *begin = b * grain < n ? b * grain : n;
    *end = e * grain < n ? e * grain : n;
}

void par_range(int n, int part, int parts, int grain, int *begin, int *end) {
    size_t b, e;
    par_range_size(n > 0 ? (size_t)n : 0, part, parts, grain > 1 ? (size_t)grain : 1, &b, &e);
    *begin = (int)b;
    *end = (int)e;
}
