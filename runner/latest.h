/* latest.h — checkpoints/LATEST: which checkpoint of a run is the newest complete one, and the
 * SHA-256 of that file's bytes, so that a resume refuses a checkpoint damaged or changed since.
 *
 *   RUN_DIR/checkpoints/LATEST   epoch-0003-step-00000420.h5
 *                                sha256 3f1c…   (64 hex digits of the whole file, as sha256sum)
 *
 * What LATEST names is confined to the run: a plain file name of the form epoch-E-step-S.h5 in
 * RUN_DIR/checkpoints, a regular file and not a symbolic link (nor is checkpoints/ one), so a
 * damaged or hostile LATEST can open neither another run's checkpoint nor /etc/passwd. Its bytes
 * are printed escaped in errors. A LATEST of the first line alone (exprun 0.1 wrote those) is
 * still read, unverified: callers say so with latest_warn_unverified. */
#ifndef EXPRUN_LATEST_H
#define EXPRUN_LATEST_H

#include <stdio.h>

#include "error.h"
#include "params.h"

typedef struct LatestCheckpoint {
    char name[128];       /* epoch-E-step-S.h5 */
    char path[4400];      /* RUN_DIR/checkpoints/NAME */
    int verified;         /* LATEST recorded a digest and the file matches it */
} LatestCheckpoint;

/* Record dir/name (a checkpoint just published in dir = RUN_DIR/checkpoints) in dir/LATEST with
 * its digest, atomically. */
int latest_publish(const char *dir, const char *name, ExError *err);

/* The same for another name in the same format: checkpoints/BEST, the checkpoint of the best
 * value of the run's monitor (monitor.h), which pruning never removes. */
int latest_publish_as(const char *dir, const char *which, const char *name, ExError *err);
int latest_find_as(const char *run_dir, const char *which, LatestCheckpoint *out, ExError *err);
/* The checkpoint name on the first line of dir/which, unchecked beyond its form (for pruning):
 * 0, or -1 when there is none. */
int latest_name_in(const char *dir, const char *which, char *name, size_t cap);

/* The checkpoint RUN_DIR/checkpoints/LATEST names, checked as above. Returns 0 when found and
 * sound, 1 when the run has no LATEST (no checkpoint yet), -1 with an error otherwise. */
int latest_find(const char *run_dir, LatestCheckpoint *out, ExError *err);

/* One line on f saying that lc's checkpoint could not be verified, if it could not. */
void latest_warn_unverified(const LatestCheckpoint *lc, FILE *f);

/* Which file `--checkpoint best|latest|FILE` (`which`, NULL: latest) names, into lc: LATEST's or
 * BEST's after latest_find's checks (and its warning when unverified), or FILE as given. */
int latest_resolve(const char *run_dir, const char *which, const char *purpose, LatestCheckpoint *lc, ExError *err);

/* The parameters of one of the run's checkpoints into p (every view of p must be in it): `which`
 * is "latest" (or NULL: the one LATEST names), "best" (BEST's) — after latest_find's checks and
 * its warning — or the path of a checkpoint file (`--checkpoint best|latest|FILE`). `purpose`
 * ("to encode with") completes the error when there is none. lc (may be NULL) gets which file. */
int latest_load_params(const char *run_dir, const char *which, Params *p, const char *purpose, LatestCheckpoint *lc,
                       ExError *err);

#endif
