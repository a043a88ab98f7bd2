#!/usr/bin/env bash
# sweep_slurm.sh — the trials of a spec's sweep: block as a Slurm job array: array task i runs
# trial i (`exprun sweep SPEC --index $SLURM_ARRAY_TASK_ID`). The expansion order is fixed by the
# spec's text, so index i is the same trial on every node.
#
#   exprun sweep SPEC --list                          # the trials; N of them -> --array=0-(N-1)
#   sbatch --array=0-7 scripts/sweep_slurm.sh SPEC [key=value ...]
#   sbatch --array=0-7%2 ...                          # at most 2 trials at a time
#   exprun summarize results/NAME/sweep-slurm-JOBID   # the table, while it runs and after
#
# Every task writes its run to ROOT/NAME/sweep-slurm-$SLURM_ARRAY_JOB_ID/trial-III (ROOT and
# NAME from the spec: output.root and name) and the list of all trials to sweep.tsv there.
# The task's exit status is its run's: 0 finished, 2 spec error, 3 runtime failure,
# 4 diverged, 138 stopped by SIGUSR1 after writing a checkpoint.
#
#SBATCH --job-name=exprun-sweep
#SBATCH --cpus-per-task=4
#SBATCH --mem=4G
#SBATCH --time=02:00:00
#SBATCH --output=slurm-%A_%a.out
# %A is the array job's id, %a the task's index (= the trial).
#SBATCH --signal=B:USR1@120
# Two minutes before the time limit Slurm sends SIGUSR1 to this script, which is exprun itself
# (exec below): it finishes the step, writes a checkpoint and exits 138. Continue that trial with
#   exprun resume results/NAME/sweep-slurm-JOBID/trial-III
set -euo pipefail

SPEC=${1:?usage: sbatch --array=0-N scripts/sweep_slurm.sh SPEC [key=value ...]}
shift
EXPRUN=${EXPRUN:-exprun}
: "${SLURM_ARRAY_TASK_ID:?run this with sbatch --array=... (SLURM_ARRAY_TASK_ID is not set)}"

# One OpenBLAS thread per CPU Slurm gave the task (results are bit-identical for a fixed thread
# count). Drop this override if the spec or the sweep sets threads itself.
exec "$EXPRUN" sweep "$SPEC" "$@" threads="${SLURM_CPUS_PER_TASK:-1}" --index "$SLURM_ARRAY_TASK_ID"
