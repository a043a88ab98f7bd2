/* slurm.h — a sweep as a Slurm job array: the sbatch script `exprun sweep SPEC --slurm` writes,
 * and its submission.
 *
 * Array task i runs trial i (`exprun sweep SPEC --index i --sweep-dir DIR`) into DIR/trial-III,
 * its output appended to DIR/trial-III.log. Two minutes before the time limit Slurm sends USR1
 * to the script (--signal=B:USR1@120), which passes it to exprun: exprun finishes the step,
 * writes a checkpoint and exits 138; the script then requeues its own task, and the task, started
 * again, finds DIR/trial-III and resumes it from that checkpoint. A finished trial is kept as it
 * is; each task succeeds or fails alone. */
#ifndef EXPRUN_SLURM_H
#define EXPRUN_SLURM_H

#include <stddef.h>

#include "error.h"

typedef struct SlurmScript {
    const char *exprun;         /* the exprun program, an absolute path */
    const char *spec_path;      /* absolute */
    char *const *cli;           /* command-line overrides for every trial */
    int n_cli;
    const char *sweep_dir;      /* absolute; the trials' folders and logs go there */
    const char *job_name;
    int n_trials, digits;       /* trial-III: III has `digits` digits */
    const char *partition;      /* NULL: the cluster's default */
    const char *time_limit;     /* NULL: the partition's default (e.g. "2:00:00") */
    int cpus;                   /* per task; 0: Slurm's default (1) */
    int add_threads;            /* pass threads=cpus (the spec and the overrides do not set threads) */
} SlurmScript;

/* Write the script to path (mode 0755). 0, or -1 with err. */
int slurm_write_script(const SlurmScript *s, const char *path, ExError *err);

/* `sbatch --parsable path`: the job id into job_id. 0, or -1 with err (sbatch missing or refusing). */
int slurm_submit(const char *path, char *job_id, size_t cap, ExError *err);

#endif
