#include "slurm.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sweep_plan.h"
#include "version.h"

int slurm_write_script(const SlurmScript *s, const char *path, ExError *err) {
    FILE *f = fopen(path, "w");
    if (!f) return ex_fail(err, "cannot write %s: %s", path, strerror(errno));
    fprintf(f, "#!/bin/bash\n"
               "# Written by `exprun sweep --slurm` (exprun %s): the %d trials of %s\n"
               "# as a Slurm job array, task i = trial i, each in %s/trial-III.\n"
               "# Submit it with: sbatch %s\n"
               "#SBATCH --job-name=%s\n"
               "#SBATCH --array=0-%d\n"
               "#SBATCH --output=%s/trial-%%%da.log\n"
               "#SBATCH --open-mode=append\n"
               "#SBATCH --signal=B:USR1@120\n"
               "#SBATCH --requeue\n",
            exprun_version(), s->n_trials, s->spec_path, s->sweep_dir, path, s->job_name, s->n_trials - 1,
            s->sweep_dir, s->digits);
    if (s->cpus > 0) fprintf(f, "#SBATCH --cpus-per-task=%d\n", s->cpus);
    if (s->partition) fprintf(f, "#SBATCH --partition=%s\n", s->partition);
    if (s->time_limit) fprintf(f, "#SBATCH --time=%s\n", s->time_limit);
    fputs("set -u\n"
          "# exprun runs in the background so that this shell can pass Slurm's USR1 (two minutes before\n"
          "# the time limit) and TERM on to it: it finishes the step, writes a checkpoint and exits 128+N.\n",
          f);
    print_shell_word(s->exprun, f);
    fputs(" sweep ", f);
    print_shell_word(s->spec_path, f);
    for (int i = 0; i < s->n_cli; i++) {
        fputc(' ', f);
        print_shell_word(s->cli[i], f);
    }
    if (s->add_threads) fprintf(f, " threads=%d", s->cpus > 0 ? s->cpus : 1);
    fputs(" --index \"$SLURM_ARRAY_TASK_ID\" --sweep-dir ", f);
    print_shell_word(s->sweep_dir, f);
    fputs(" &\n"
          "child=$!\n"
          "trap 'kill -USR1 \"$child\" 2>/dev/null' USR1\n"
          "trap 'kill -TERM \"$child\" 2>/dev/null' TERM\n"
          "while :; do\n"
          "  wait \"$child\"; status=$?\n"
          "  kill -0 \"$child\" 2>/dev/null && continue   # a trapped signal ended the wait, not exprun\n"
          "  wait \"$child\" 2>/dev/null; last=$?; [ \"$last\" -ne 127 ] && status=$last\n"
          "  break\n"
          "done\n"
          "# Checkpointed on USR1 (the time limit is near): requeue this task; started again, it resumes\n"
          "# the trial from that checkpoint.\n"
          "if [ \"$status\" -eq 138 ]; then\n"
          "  echo \"exprun sweep: trial $SLURM_ARRAY_TASK_ID checkpointed on SIGUSR1: requeueing task "
          "${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"\n"
          "  scontrol requeue \"${SLURM_ARRAY_JOB_ID}_${SLURM_ARRAY_TASK_ID}\"\n"
          "fi\n"
          "exit \"$status\"\n",
          f);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    if (bad) return ex_fail(err, "cannot write %s: %s", path, strerror(errno));
    if (chmod(path, 0755) != 0) return ex_fail(err, "cannot make %s executable: %s", path, strerror(errno));
    return 0;
}

int slurm_submit(const char *path, char *job_id, size_t cap, ExError *err) {
    int out[2];
    if (pipe(out) != 0) return ex_fail(err, "sbatch: pipe: %s", strerror(errno));
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0) return ex_fail(err, "sbatch: fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        execlp("sbatch", "sbatch", "--parsable", path, (char *)NULL);
        dprintf(STDERR_FILENO, "exprun sweep: cannot run sbatch: %s (is Slurm's client installed and on PATH?)\n",
                strerror(errno));
        _exit(127);
    }
    close(out[1]);
    size_t n = 0;
    ssize_t got;
    while (n + 1 < cap && (got = read(out[0], job_id + n, cap - n - 1)) > 0) n += (size_t)got;
    job_id[n] = '\0';
    close(out[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    job_id[strcspn(job_id, ";\n")] = '\0';   /* --parsable: "ID" or "ID;cluster" */
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !job_id[0])
        return ex_fail(err, "sbatch %s failed (exit %d); the script is kept: submit it yourself with sbatch", path,
                       WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
    return 0;
}
