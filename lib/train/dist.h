/* dist.h — data-parallel training over MPI, in one place.
 *
 * `mpirun -np N exprun SPEC` (or `srun --mpi=pmix exprun SPEC` in a Slurm allocation) starts N
 * copies of exprun, the ranks 0..N−1 of one job. Every rank builds the same model from the same
 * seed and reads the same data. Each step, rank r takes its fixed share of the global batch
 * (dist_share), runs forward and backward on it, and the ranks' gradients, weighted by their
 * share of the rows, are summed with one MPI_Allreduce (dist_sum_floats): every rank then holds
 * the gradient of the whole batch and clips, schedules and steps exactly as the others do, so
 * the parameters stay identical on every rank without ever being sent.
 *
 * Built with the CMake option EXPRUN_MPI (on when find_package(MPI) finds Open MPI; Debian's
 * openmpi-bin and libopenmpi-dev). MPI is started only when a launcher started the process
 * (Open MPI's mpirun sets OMPI_COMM_WORLD_SIZE, PMIx launchers such as srun --mpi=pmix set
 * PMIX_RANK); otherwise, and in a build without MPI, the process is rank 0 of 1 and every call
 * below returns at once. */
#ifndef EXPRUN_DIST_H
#define EXPRUN_DIST_H

#include <stddef.h>

/* Start MPI if a launcher started this process. Call once, first thing in main. */
void dist_init(int *argc, char ***argv);
/* End MPI after a run that every rank ended the same way (status 0 or the same stop). */
void dist_finalize(void);
/* End the whole job now with status (MPI_Abort): for a failure on one rank, so that the others
 * are not left waiting in a collective. Returns only without MPI. */
void dist_abort(int status);

int dist_rank(void);
int dist_size(void);
static inline int dist_is_root(void) { return dist_rank() == 0; }

/* "Open MPI v4.1.4" when MPI is compiled in, NULL otherwise. */
const char *dist_library(void);

/* This rank's rows [*r0, *r1) of a global batch of `count` rows: contiguous ranges in rank order
 * whose sizes differ by at most one (rank r gets ⌊count·(r+1)/N⌋ − ⌊count·r/N⌋). */
void dist_share(int count, int *r0, int *r1);

/* In place, x ← Σ over ranks of x, identical on every rank (MPI_Allreduce, MPI_SUM). */
void dist_sum_floats(float *x, size_t n);
void dist_sum_doubles(double *x, size_t n);

/* Rank 0's n bytes to every rank. */
void dist_broadcast(void *bytes, size_t n);

/* Every rank's n bytes, in rank order, into all (N·n bytes) on rank 0 (all may be NULL elsewhere). */
void dist_gather(const void *mine, size_t n, void *all);

#endif
