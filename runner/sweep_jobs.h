/* sweep_jobs.h — run every trial of a sweep here, as child processes (sweep_jobs.c). */
#ifndef EXPRUN_SWEEP_JOBS_H
#define EXPRUN_SWEEP_JOBS_H

#include "sweep_plan.h"

/* Run p's trials, `jobs` at a time, into sweep_dir_opt (made if missing; NULL: a new
 * ROOT/NAME/sweep-STAMP). Returns the number of trials that did not finish (at most 100), or
 * 128 + N when stopped by signal N. */
int sweep_run_jobs(const Plan *p, int jobs, int fail_fast, int quiet, const char *sweep_dir_opt);

#endif
