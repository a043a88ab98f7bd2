/* runcheck.h — what the reliability tests (test_kill.c, test_faults.c) do to exprun runs:
 * start the program, signal or kill it, wait for a file to appear, and compare a finished run
 * directory with a reference, bit for bit. Linked into every test program with testutil.c. */
#ifndef EXPRUN_RUNCHECK_H
#define EXPRUN_RUNCHECK_H

#include <stdint.h>
#include <sys/types.h>

/* Start exprun (exprun_bin()) with args (NULL-terminated, without the program name); its
 * stdout and stderr are appended to log. */
pid_t rc_spawn(const char *const *args, const char *log);
/* The same with RLIMIT_FSIZE = max_file_bytes (0: none): no file may grow past it, which
 * stands in for a full disk. */
pid_t rc_spawn_limited(const char *const *args, const char *log, long max_file_bytes);
/* rc_spawn in a session of its own (setsid): kill(-pid, …) then reaches it and every process it
 * starts (a sweep and its trials), and not the test. */
pid_t rc_spawn_session(const char *const *args, const char *log);
/* rc_run with a fresh log (the old one removed first). */
int rc_run_logged(const char *const *args, const char *log);
/* Whether the file log holds a (and b, if not NULL); if not, says so on stderr with the log. */
int rc_log_has(const char *log, const char *a, const char *b);
/* dir/name in one of 8 rotating buffers, so that one call can take several: copy one that must
 * outlive 8 more calls. */
const char *rc_in_dir(const char *dir, const char *name);
/* Wait for pid: its exit status, or 128 + the signal that ended it. */
int rc_wait(pid_t pid);
/* rc_spawn + rc_wait. */
int rc_run(const char *const *args, const char *log);
/* Poll every 0.5 ms (up to 20 s) until dir or dir/checkpoints holds a file whose name ends
 * with suffix — with `after` set, only looking once dir/checkpoints/`after` exists. 1 if found
 * while pid was still running, 0 if pid ended or time ran out. */
int rc_wait_for_file(pid_t pid, const char *dir, const char *after, const char *suffix);

/* A shell command (printf-style) run in dir: its exit status (run_command's). */
int rc_sh(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

double rc_now(void);                       /* monotonic seconds */
void rc_sleep(double seconds);
char *rc_slurp(const char *path);          /* whole file, malloc'd, or NULL */
char *rc_slurp_text(const char *path);     /* whole file, malloc'd, or "" when it cannot be read */
void rc_write_text(const char *path, const char *text);
void rc_write_bytes(const char *path, const void *data, size_t len);
int rc_exists(const char *path);
int rc_ends_with(const char *s, const char *suffix);
/* Number of directory entries of dir whose name ends with suffix (a temporary's taken as NAME.tmp). */
int rc_count_files(const char *dir, const char *suffix);
/* A publish temporary's name as NAME.tmp whatever process wrote it (NAME.<pid>.tmp, publish.h),
 * so that suffixes such as "results.h5.tmp" find it; other names as they are. */
const char *rc_plain_name(const char *name, char *buf, size_t cap);

/* n examples of 24 values in [0,1] with a 3-dimensional structure, as /x of an HDF5 file. */
void rc_make_table(const char *path, int n, uint64_t seed);

/* The reliability tests' run: 30 epochs of a small denoising autoencoder (about a second,
 * a checkpoint every epoch) on dir/data.h5 (rc_make_table, 400 rows), written to dir/spec.yaml
 * with output.root dir/results. The two paths go to spec_path and data_path (1024 bytes each). */
void rc_write_small_ae(const char *dir, const char *name, char *spec_path, char *data_path);

/* The checkpoint named by dir/checkpoints/LATEST (malloc'd path), or NULL. */
char *rc_latest_checkpoint(const char *dir);
/* Metric columns that measure wall time and differ between any two runs. */
int rc_is_wall_time_column(const char *name);
/* Run b equals run a: LATEST names the same file, and every dataset of /model, /optimizer and
 * /state in it, and step and epoch, are the same bits; results.h5's /metrics/epochs and
 * /metrics/steps (all but wall-time columns), /samples/text and /diagnostics are the same;
 * metrics.csv and steps.csv likewise. What differs is printed if verbose. 1 if the same. */
int rc_same_run(const char *dir_a, const char *dir_b, int verbose);
/* Column col of RUN/results.h5's /metrics/epochs into out (at most cap values): its rows, or −1
 * when the file or the column cannot be read. */
int rc_metrics_column(const char *run, const char *col, double *out, int cap);
/* Every *.h5 in dir and dir/checkpoints opens with h5read; returns how many, or -1 (printed). */
int rc_h5_files_open(const char *dir);

#endif
