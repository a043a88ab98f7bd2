/* dist.c — data-parallel training over MPI (dist.h). */
#include "dist.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef EXPRUN_MPI
#include <mpi.h>

static int started, rank, size = 1;
static char library[MPI_MAX_LIBRARY_VERSION_STRING];

/* MPI counts are int: larger arrays go in pieces. */
enum { CHUNK = 1 << 28 };

void dist_init(int *argc, char ***argv) {
    if (!getenv("OMPI_COMM_WORLD_SIZE") && !getenv("PMIX_RANK") && !getenv("PMI_RANK")) return;
    MPI_Init(argc, argv);
    started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
}

void dist_finalize(void) {
    if (started) MPI_Finalize();
    started = 0;
}

void dist_abort(int status) {
    if (started && size > 1) MPI_Abort(MPI_COMM_WORLD, status);
}

int dist_rank(void) { return rank; }
int dist_size(void) { return size; }

const char *dist_library(void) {
    int len = 0;
    if (!library[0]) MPI_Get_library_version(library, &len);
    library[strcspn(library, ",\n")] = '\0';   /* "Open MPI v4.1.4" */
    return library;
}

void dist_sum_floats(float *x, size_t n) {
    if (size < 2) return;
    for (size_t at = 0; at < n; at += CHUNK) {
        int count = n - at < CHUNK ? (int)(n - at) : CHUNK;
        MPI_Allreduce(MPI_IN_PLACE, x + at, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    }
}

void dist_sum_doubles(double *x, size_t n) {
    if (size < 2) return;
    for (size_t at = 0; at < n; at += CHUNK) {
        int count = n - at < CHUNK ? (int)(n - at) : CHUNK;
        MPI_Allreduce(MPI_IN_PLACE, x + at, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    }
}

void dist_broadcast(void *bytes, size_t n) {
    if (size < 2) return;
    for (size_t at = 0; at < n; at += CHUNK) {
        int count = n - at < CHUNK ? (int)(n - at) : CHUNK;
        MPI_Bcast((char *)bytes + at, count, MPI_BYTE, 0, MPI_COMM_WORLD);
    }
}

void dist_gather(const void *mine, size_t n, void *all) {
    if (size < 2) {
        if (all != mine) memcpy(all, mine, n);
        return;
    }
    /* one rank's block at a time: n may exceed an int */
    for (size_t at = 0; at < n; at += CHUNK) {
        int count = n - at < CHUNK ? (int)(n - at) : CHUNK;
        if (rank == 0) {
            memcpy((char *)all + at, (const char *)mine + at, (size_t)count);
            for (int r = 1; r < size; r++)
                MPI_Recv((char *)all + (size_t)r * n + at, count, MPI_BYTE, r, 0, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
        } else {
            MPI_Send((const char *)mine + at, count, MPI_BYTE, 0, 0, MPI_COMM_WORLD);
        }
    }
}

#else /* one process */

/* Started by mpirun as one of several ranks, this build could only train N separate copies of the
 * run into one directory: refuse (exit 2, as for a spec error). */
void dist_init(int *argc, char ***argv) {
    (void)argc, (void)argv;
    const char *ranks = getenv("OMPI_COMM_WORLD_SIZE");
    if (ranks && atoi(ranks) > 1) {
        fprintf(stderr, "exprun: started by mpirun as one of %s ranks, but this exprun was built without MPI: "
                        "every rank would train alone. Install Open MPI (scripts/setup.sh: openmpi-bin, "
                        "libopenmpi-dev) and build again (CMake option EXPRUN_MPI, on by default)\n", ranks);
        exit(2);
    }
}
void dist_finalize(void) {}
void dist_abort(int status) { (void)status; }
int dist_rank(void) { return 0; }
int dist_size(void) { return 1; }
const char *dist_library(void) { return NULL; }
void dist_sum_floats(float *x, size_t n) { (void)x, (void)n; }
void dist_sum_doubles(double *x, size_t n) { (void)x, (void)n; }
void dist_broadcast(void *bytes, size_t n) { (void)bytes, (void)n; }
void dist_gather(const void *mine, size_t n, void *all) {
    if (all != mine) memcpy(all, mine, n);
}

#endif

void dist_share(int count, int *r0, int *r1) {
    int n = dist_size(), r = dist_rank();
    *r0 = (int)((int64_t)count * r / n);
    *r1 = (int)((int64_t)count * (r + 1) / n);
}
