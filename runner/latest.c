/* latest.c — publish and read checkpoints/LATEST (layout and rules in latest.h). */
#include "latest.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "checkpoint.h"
#include "rundir.h"
#include "sha256.h"

#define LATEST_MAX_BYTES 4096

int latest_publish(const char *dir, const char *name, ExError *err) {
    return latest_publish_as(dir, "LATEST", name, err);
}

int latest_publish_as(const char *dir, const char *which, const char *name, ExError *err) {
    char path[4400], sha[65], text[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (sha256_file_hex(sha, path) != 0)
        return ex_fail(err, "cannot read back %s to record its checksum: %s", path, strerror(errno));
    snprintf(text, sizeof text, "%s\nsha256 %s\n", name, sha);
    return write_file_atomic(dir, which, text, err);
}

/* epoch-E-step-S.h5 with E and S digits: the only names save_checkpoint writes. */
static int is_checkpoint_name(const char *s) {
    if (strncmp(s, "epoch-", 6) != 0) return 0;
    s += 6;
    if (!(*s >= '0' && *s <= '9')) return 0;
    while (*s >= '0' && *s <= '9') s++;
    if (strncmp(s, "-step-", 6) != 0) return 0;
    s += 6;
    if (!(*s >= '0' && *s <= '9')) return 0;
    while (*s >= '0' && *s <= '9') s++;
    return strcmp(s, ".h5") == 0;
}

static int is_hex64(const char *s) {
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

/* lstat path, which must be a directory (want_dir) or a plain file, never a symbolic link:
 * 0, 1 when it does not exist, -1 with err otherwise. */
static int look_at(const char *path, int want_dir, struct stat *st, ExError *err) {
    if (lstat(path, st) != 0) {
        if (errno == ENOENT) return 1;
        return ex_fail(err, "cannot look at %s: %s", path, strerror(errno));
    }
    if (want_dir && !S_ISDIR(st->st_mode))
        return ex_fail(err, "%s is %s, not a directory of the run: refusing to read checkpoints through it", path,
                       S_ISLNK(st->st_mode) ? "a symbolic link" : "a file");
    if (!want_dir && !S_ISREG(st->st_mode))
        return ex_fail(err, "%s is %s, not a plain file: refusing to follow it", path,
                       S_ISLNK(st->st_mode) ? "a symbolic link" : "not a regular file");
    return 0;
}

int latest_find(const char *run_dir, LatestCheckpoint *out, ExError *err) {
    return latest_find_as(run_dir, "LATEST", out, err);
}

int latest_find_as(const char *run_dir, const char *which, LatestCheckpoint *out, ExError *err) {
    memset(out, 0, sizeof *out);
    char dir[4200], latest[4300];
    snprintf(dir, sizeof dir, "%s/checkpoints", run_dir);
    snprintf(latest, sizeof latest, "%s/%s", dir, which);
    struct stat st;
    int found = look_at(dir, 1, &st, err);
    if (found == 0) found = look_at(latest, 0, &st, err);
    if (found != 0) return found;
    if (st.st_size > LATEST_MAX_BYTES)
        return ex_fail(err, "%s is %lld bytes; it holds one checkpoint name and its checksum (under %d bytes): "
                            "the file is damaged",
                       latest, (long long)st.st_size, LATEST_MAX_BYTES);
    size_t len = 0;
    char *text = read_file(latest, &len, err);
    if (!text) return -1;
    char shown[300];
    ex_printable(shown, sizeof shown, text, len);
    /* line 1: the name; line 2 (optional): "sha256 HEX"; nothing else */
    char *nl = memchr(text, '\n', len);
    size_t name_len = nl ? (size_t)(nl - text) : len;
    char *rest = nl ? nl + 1 : text + len;
    size_t rest_len = len - (size_t)(rest - text);
    int rc = 0;
    if (name_len == 0 || name_len >= sizeof out->name || memchr(text, '\0', name_len) ||
        (text[name_len] = '\0', !is_checkpoint_name(text)))
        rc = ex_fail(err, "%s holds \"%s\", which does not name a checkpoint of this run (a file epoch-E-step-S.h5 "
                          "in %s): refusing to open it. The file is damaged or was edited; name one of the files "
                          "checkpoints/KEPT lists in it",
                     latest, shown, dir);
    int has_digest = rest_len > 0;
    if (rc == 0 && has_digest &&
        !(rest_len == 7 + 64 + 1 && strncmp(rest, "sha256 ", 7) == 0 && is_hex64(rest + 7) && rest[71] == '\n'))
        rc = ex_fail(err, "%s holds \"%s\": after the checkpoint's name, expected one line \"sha256 <64 hex digits>\". "
                          "The file is damaged or was edited",
                     latest, shown);
    if (rc == 0) {
        snprintf(out->name, sizeof out->name, "%s", text);
        snprintf(out->path, sizeof out->path, "%s/%s", dir, out->name);
        if (lstat(out->path, &st) != 0)
            rc = ex_fail(err, "%s names %s: %s", latest, out->path, strerror(errno));
        else if (!S_ISREG(st.st_mode))
            rc = ex_fail(err, "%s names %s, which is %s, not a plain file: refusing to follow it", latest, out->path,
                         S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file");
    }
    if (rc == 0 && has_digest) {
        char want[65], got[65];
        memcpy(want, rest + 7, 64);
        want[64] = '\0';
        if (sha256_file_hex(got, out->path) != 0)
            rc = ex_fail(err, "cannot read %s: %s", out->path, strerror(errno));
        else if (strcmp(got, want) != 0)
            rc = ex_fail(err, "%s: its SHA-256 is %s, but checkpoints/%s recorded %s when it was written: the "
                              "file was damaged or changed since, and nothing of it was used. Name an earlier checkpoint "
                              "(checkpoints/KEPT lists them) in %s, or start the run again",
                         out->path, got, which, want, which);
        else out->verified = 1;
    }
    free(text);
    return rc;
}

void latest_warn_unverified(const LatestCheckpoint *lc, FILE *f) {
    if (lc->verified) return;
    fprintf(f, "exprun: warning: checkpoints/LATEST records no checksum for %s (an older exprun wrote it): the "
               "file cannot be checked against the one that was saved\n",
            lc->path);
}

int latest_resolve(const char *run_dir, const char *which, const char *purpose, LatestCheckpoint *lc, ExError *err) {
    if (!which || strcmp(which, "latest") == 0) which = "LATEST";
    else if (strcmp(which, "best") == 0) which = "BEST";
    else {
        /* a checkpoint file named outright (any run's; its own seal and checksums are checked by
         * the load) */
        memset(lc, 0, sizeof *lc);
        snprintf(lc->name, sizeof lc->name, "%.127s", which);
        snprintf(lc->path, sizeof lc->path, "%s", which);
        lc->verified = 1;
        return 0;
    }
    int found = latest_find_as(run_dir, which, lc, err);
    if (found == 1)
        return ex_fail(err, "no checkpoint %s: %s/checkpoints/%s does not exist%s", purpose, run_dir, which,
                       strcmp(which, "BEST") == 0 ? " (a run keeps one only when it has a validation split)" : "");
    if (found != 0) return -1;
    latest_warn_unverified(lc, stderr);
    return 0;
}

int latest_load_params(const char *run_dir, const char *which, Params *p, const char *purpose, LatestCheckpoint *lc,
                       ExError *err) {
    LatestCheckpoint own;
    if (!lc) lc = &own;
    if (latest_resolve(run_dir, which, purpose, lc, err) != 0) return -1;
    return checkpoint_load_params_only(lc->path, p, 1, NULL, err);
}

int latest_name_in(const char *dir, const char *which, char *name, size_t cap) {
    char path[4400];
    snprintf(path, sizeof path, "%s/%s", dir, which);
    char *text = read_file(path, NULL, NULL);
    if (!text) return -1;
    text[strcspn(text, "\n")] = '\0';
    int ok = is_checkpoint_name(text) && strlen(text) < cap;
    if (ok) snprintf(name, cap, "%s", text);
    free(text);
    return ok ? 0 : -1;
}
