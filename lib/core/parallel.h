/* parallel.h — the other cores for the hot loops, with results that do not depend on them.
 *
 * par_run(fn, ctx, parts) calls fn(ctx, part, parts) once for every part in [0, parts) and
 * returns when all are done. With n threads, thread i (0 = the caller) runs parts i, i + n, …
 * Callers cut their work into parts whose results do not depend on which thread runs them or
 * on how many threads there are: disjoint column panels of a product (packgemm.c), disjoint
 * slices of an array (optim.c), fixed blocks of a sum added in a fixed order (clip.c). So a
 * run gives the same numbers bit for bit with 1 thread or with 8 (test_fastpaths.c).
 *
 * The extra threads are started once, on the first call that can use them; between calls they
 * spin for at most 200 µs (a training step's calls come microseconds apart) and then sleep on a
 * condition variable, so a busy machine loses a bounded sliver to them, never a core (kann's
 * spin-forever workers collapse when another process shares the cores). They are joined at
 * exit. A par_run from inside a part runs its parts on the calling thread. Not reentrant from
 * two outside threads at once (the library is single-threaded from its caller's point of view). */
#ifndef EXPRUN_PARALLEL_H
#define EXPRUN_PARALLEL_H

#include <stddef.h>

#define PAR_MAX_THREADS 8

typedef void (*ParFn)(void *ctx, int part, int parts);

/* Threads to use, 1..PAR_MAX_THREADS (clamped). The default is the number of online CPUs
 * (at most PAR_MAX_THREADS), or $EXPRUN_THREADS when it is set. */
void par_set_threads(int n);
int par_threads(void);

void par_run(ParFn fn, void *ctx, int parts);

/* Work below this many FLOPs stays on the calling thread: handing a job to a spinning worker
 * and waiting for it costs about a microsecond, so two threads pay from about 5–10 µs of work
 * (≈ 1 MFLOP in the packed kernels; element-wise loops state their cost in the same units;
 * measured on ae_deep, 4 MFLOP → 1 MFLOP gave +9 %). Default PAR_MIN_FLOPS; tests set 0 to
 * make every split happen. */
#define PAR_MIN_FLOPS 1.0e6
void par_set_min_flops(double flops);
double par_min_flops(void);

/* The cost of one float in a pass over the parameters' gradients (zeroing them, their sum of
 * squares), in the same FLOP units: such a pass does one or two operations per float, but about
 * half its lines sit in the other core's cache (each thread wrote its share of the products and
 * of the optimizer's step), and each costs a transfer. Measured on ae_shallow's step at 2
 * threads (about 100k parameters): zeroing took 31 µs on one thread and 4–6 µs on two, the
 * global norm 13 → 7 µs; counted at 5–8 FLOPs a float, both had stayed on one thread. (A pass
 * split otherwise than the data was written gains nothing: the softmax head's bias sums, by
 * columns over rows that each thread wrote whole, ran 36 µs on one thread and 45 µs on two.) */
#define PAR_FLOPS_PER_FLOAT_PASS 40.0

/* Parts worth using for `flops` of work that splits into at most `max_parts` pieces. */
int par_parts_for(double flops, int max_parts);

/* [*begin, *end) of n items for part `part` of `parts`: contiguous, in order, sizes differing
 * by at most one, rounded to multiples of `grain` (except the last). */
void par_range(int n, int part, int parts, int grain, int *begin, int *end);
/* The same for n counted in size_t: a whole model's parameters or gradient, shared out in
 * whole cache lines (grain 16 floats) by the element-wise passes over them. */
void par_range_size(size_t n, int part, int parts, size_t grain, size_t *begin, size_t *end);

#endif
