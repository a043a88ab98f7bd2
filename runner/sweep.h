/* sweep.h — the `exprun sweep` command: runs the trials of a spec's sweep: block (spec/sweep.h
 * expands them) here (--jobs), one at a time (--index), or as a Slurm job array (--slurm). */
#ifndef EXPRUN_SWEEP_H
#define EXPRUN_SWEEP_H

/* `exprun sweep SPEC [key=value ...] [--list | --index I | --jobs N | --slurm] [--fail-fast]
 *  [--out DIR] [--sweep-dir DIR] [--quiet] [--partition P --time T --cpus C --submit]`; argv holds
 * the arguments after "sweep". */
int command_sweep(int argc, char **argv);

#endif
