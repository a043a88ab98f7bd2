/* rundir.h — the directory of one run, and files published so that a reader never sees half.
 *
 *   RUN_DIR/spec.yaml       the spec as given          resolved.yaml  every default filled in
 *   RUN_DIR/overrides.txt   one override per line     status         running|finished|interrupted|diverged|failed
 *   RUN_DIR/metrics.csv     one line per epoch, flushed (tail -f, awk)
 *   RUN_DIR/results.h5      metrics, spec, samples, diagnostics (republished every epoch)
 *   RUN_DIR/checkpoints/    epoch-EEEE-step-SSSSSSSS.h5 and LATEST (the newest complete one and its
 *                           SHA-256, latest.h)
 *   RUN_DIR/init_from.txt   the --init-from checkpoint (absolute path), if the run had one;
 *                           resolved.yaml is written last, so a directory with it is complete
 *   RUN_DIR/.lock           held (flock) by the process writing the run */
#ifndef EXPRUN_RUNDIR_H
#define EXPRUN_RUNDIR_H

#include <stddef.h>

#include "error.h"

/* A new directory ROOT/NAME/YYYYmmdd-HHMMSS[-k] (never an existing one), or `explicit_dir` if
 * given (it must not exist yet or be empty), made and locked before anything is written in it:
 * *lock_fd holds the run's lock (rundir_lock) on success. Two processes that start on the same
 * explicit_dir at once: one gets it, the other RUNDIR_LOCKED (while the first runs) or
 * RUNDIR_EXISTS (when the first has written its files), and writes nothing there. Returns 0,
 * -1 (err), RUNDIR_LOCKED or RUNDIR_EXISTS (both with err). out is set on success only. */
enum { RUNDIR_LOCKED = -2, RUNDIR_EXISTS = -3 };
int rundir_create(const char *root, const char *name, const char *explicit_dir, char *out, size_t cap,
                  int *lock_fd, ExError *err);
/* Whether path is a directory with nothing in it. */
int dir_is_empty(const char *path);
/* PARENT/PREFIXYYYYmmdd-HHMMSS[-k]: a new folder, made atomically (mkdir), so that two runs or
 * sweeps never share one; its path into out. 0, or -1 with err. */
int make_stamped_dir(const char *parent, const char *prefix, char *out, size_t cap, ExError *err);
/* A directory whose run was stopped while it was being made (before resolved.yaml, the file
 * written last): when it holds only what is written before that file and no process holds its
 * lock, nothing in it is needed — it is emptied (so --out takes it) and 1 returned; else 0 and
 * nothing is touched. */
int rundir_clear_unbegun(const char *dir);
/* Whether another process holds DIR/.lock (a run's writer holds it until it exits); makes and
 * writes nothing. */
int rundir_lock_is_held(const char *dir);
/* Take the run's lock; a second process gets an error naming the directory. Returns the fd. */
int rundir_lock(const char *dir, ExError *err);
/* Write text to DIR/NAME whole or not at all (publish.h: NAME.<pid>.tmp + fsync + rename; the temporary is the
 * process's own, so two writers never remove or rename each other's). */
int write_file_atomic(const char *dir, const char *name, const char *text, ExError *err);
/* Read a whole file (malloc'd, NUL-terminated), or NULL with an error. */
char *read_file(const char *path, size_t *len, ExError *err);
int rundir_set_status(const char *dir, const char *status, ExError *err);
/* Whether writing path would replace a file a run directory owns — what training wrote and
 * resume reads (spec.yaml, overrides.txt, resolved.yaml, init_from.txt, status, results.h5,
 * metrics.csv, .lock, and anything in checkpoints/), also through a symbolic link. Returns 1
 * and says which run and what the file holds in why, or 0. Output options (encode --out, plot
 * -o) refuse such paths. */
int rundir_owns(const char *path, char *why, size_t cap);

/* ROOT/NAME/latest → the run directory just made (a symbolic link holding its folder name,
 * replaced by rename, so a reader never sees it missing or half made). 0, or -1 with err. */
int rundir_point_latest(const char *run_dir, ExError *err);
/* A command's RUN_DIR argument: a run directory as it is, or a folder of runs (results/NAME)
 * whose `latest` link names one of its own folders: that run, written into buf. Anything else
 * comes back unchanged (the command then says what is wrong with it). */
const char *rundir_resolve(const char *arg, char *buf, size_t cap);
/* mkdir -p */
int make_dirs(const char *path, ExError *err);
/* Can we create files in dir? (checked before training starts) */
int check_writable(const char *dir, ExError *err);

#endif
