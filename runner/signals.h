/* signals.h — SIGINT, SIGTERM and SIGUSR1 (what Slurm sends before a time limit) ask the run to
 * stop after the current step; it then writes a checkpoint and exits with 128 + the signal's
 * number. A second SIGINT stops at once: every file is published by rename, so at worst a
 * *.tmp file is left and the last checkpoint stays intact. */
#ifndef EXPRUN_SIGNALS_H
#define EXPRUN_SIGNALS_H

void signals_install(void);
/* 0, or the number of the first stop signal received. */
int signals_stop_requested(void);

#endif
