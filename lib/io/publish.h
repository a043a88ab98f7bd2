/* publish.h — a file written whole or not at all: every file exprun writes (results.h5,
 * checkpoints, LATEST, KEPT, status, resolved.yaml, a sweep's tables) goes through here.
 *
 * The bytes go to PATH.<pid>.tmp, are fsynced, renamed over PATH, and the directory is fsynced:
 * a reader sees the old file or the new one, never a torn one, and after a crash at most a
 * temporary file is left. The temporary name is the writing process's own, so two processes
 * publishing the same file (two starts racing on one run directory) never write into one
 * temporary; one whose writer was killed is recognised by publish_is_temp and removed by the
 * next holder of the run's lock (rundir.c). */
#ifndef EXPRUN_PUBLISH_H
#define EXPRUN_PUBLISH_H

#include <stddef.h>

#include "error.h"

/* Returns 0; or -1 with a message naming PATH, the step that failed and why, PATH left as it
 * was and no temporary left (unless only the final directory fsync failed: then PATH is new). */
int publish_file(const char *path, const void *bytes, size_t size, ExError *err);
/* The same for a text (a C string, written without its terminating NUL). */
int publish_text(const char *path, const char *text, ExError *err);
/* Whether a file name is a publish temporary, NAME.<pid>.tmp; *published_len (if given) is the
 * length of the NAME it stands for. */
int publish_is_temp(const char *name, size_t *published_len);

#endif
