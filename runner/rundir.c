#include "rundir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "publish.h"

/* A run directory's own files (checkpoints/epoch-…-step-….h5, results.h5.<pid>.tmp…) need room below
 * PATH_MAX; a longer path, or a component longer than a folder name can be, is refused before any
 * folder is made (a 4,096-character --out made some 2,000 nested folders before failing). */
enum { RUN_PATH_MAX = 3900, COMPONENT_MAX = 255 };

int make_dirs(const char *path, ExError *err) {
    char tmp[4096];
    size_t len = strlen(path), component = 0;
    if (len > RUN_PATH_MAX)
        return ex_fail(err, "the directory path is %zu bytes long; a run directory needs room for its files below the "
                            "system's limit: at most %d (%.60s…)", len, RUN_PATH_MAX, path);
    for (size_t i = 0; i <= len; i++) {
        if (path[i] == '/' || path[i] == '\0') component = 0;
        else if (++component > COMPONENT_MAX)
            return ex_fail(err, "a folder name in %.200s… is longer than %d bytes, more than a file system takes",
                           path, COMPONENT_MAX);
    }
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
            return ex_fail(err, "cannot create directory %s: %s", tmp, strerror(errno));
        *p = '/';
    }
    if (mkdir(tmp, 0777) != 0 && errno != EEXIST)
        return ex_fail(err, "cannot create directory %s: %s", tmp, strerror(errno));
    return 0;
}

/* Every entry of dir (but . and ..) is one that allowed(name, arg) accepts; 0 if dir cannot be read. */
static int dir_entries_all(const char *dir, int (*allowed)(const char *name, const char *arg), const char *arg) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int only = 1;
    while (only && (e = readdir(d)))
        only = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 || allowed(e->d_name, arg);
    closedir(d);
    return only;
}

static int is_name(const char *name, const char *wanted) { return wanted && strcmp(name, wanted) == 0; }

/* Nothing in dir but `except` (a name, or NULL). */
static int dir_holds_only(const char *dir, const char *except) { return dir_entries_all(dir, is_name, except); }

int dir_is_empty(const char *path) { return dir_holds_only(path, NULL); }

int rundir_lock_is_held(const char *dir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/.lock", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    int held = flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    close(fd);   /* closing releases a lock this look took */
    return held;
}

/* DIR is another run's: RUNDIR_LOCKED while its process runs, else RUNDIR_EXISTS. */
static int already_exists(const char *dir, ExError *err) {
    if (rundir_lock_is_held(dir)) {
        ex_fail(err, "run directory %s is in use by another exprun process (lock %s/.lock is held)", dir, dir);
        return RUNDIR_LOCKED;
    }
    ex_fail(err, "%s already exists and is not an empty directory; exprun never writes over another run (use "
                 "`exprun resume %s` to continue it)", dir, dir);
    return RUNDIR_EXISTS;
}

/* Open DIR/.lock (made if missing) and try to lock it; -1 with err, or RUNDIR_LOCKED when another
 * process holds it. Writes nothing into the file. A lock held for less than LOCK_PATIENCE_NS is
 * a look, not a run: rundir_lock_is_held and `exprun summarize` take it for a moment to see whether it
 * is free (flock has no test), and a start that gave up at once on such a look lost to a process
 * that itself then found the folder taken (tests/test_race.c: both exited, nothing ran). */
enum { LOCK_PATIENCE_NS = 100 * 1000 * 1000, LOCK_RETRY_NS = 2 * 1000 * 1000 };
static int try_lock(const char *dir, ExError *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) return ex_fail(err, "cannot open %s: %s", path, strerror(errno));
    for (long waited = 0; flock(fd, LOCK_EX | LOCK_NB) != 0; waited += LOCK_RETRY_NS) {
        if (errno != EWOULDBLOCK || waited >= LOCK_PATIENCE_NS) {
            close(fd);
            ex_fail(err, "run directory %s is in use by another exprun process (lock %s is held)", dir, path);
            return RUNDIR_LOCKED;
        }
        nanosleep(&(struct timespec){0, LOCK_RETRY_NS}, NULL);
    }
    return fd;
}

/* The lock is ours: leave our pid in it (only informative). */
static void note_pid(int fd) {
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) == 0 && write(fd, pid, (size_t)n) < 0) { /* the pid is only informative */ }
}

int rundir_create(const char *root, const char *name, const char *explicit_dir, char *out, size_t cap,
                  int *lock_fd, ExError *err) {
    *lock_fd = -1;
    if (explicit_dir) {
        /* Refused before anything is made; then made and locked; then looked at again under the
         * lock, since another process may have made it a run between the two looks. */
        struct stat st;
        if (stat(explicit_dir, &st) == 0 && !(S_ISDIR(st.st_mode) && dir_is_empty(explicit_dir)))
            return already_exists(explicit_dir, err);
        if (make_dirs(explicit_dir, err) != 0) return -1;
        int fd = try_lock(explicit_dir, err);
        if (fd < 0) return fd;
        if (!dir_holds_only(explicit_dir, ".lock")) {
            close(fd);
            return already_exists(explicit_dir, err);
        }
        note_pid(fd);
        *lock_fd = fd;
        snprintf(out, cap, "%s", explicit_dir);
        return 0;
    }
    char parent[4096], dir[4200];
    if (snprintf(parent, sizeof parent, "%s/%s", root, name) >= (int)sizeof parent)
        return ex_fail(err, "output folder name too long: %s/%s", root, name);
    if (make_dirs(parent, err) != 0 || make_stamped_dir(parent, "", dir, sizeof dir, err) != 0) return -1;
    int fd = rundir_lock(dir, err);   /* a new folder: nobody else has it */
    if (fd < 0) return -1;
    *lock_fd = fd;
    snprintf(out, cap, "%s", dir);
    return 0;
}

/* What a run's start writes before resolved.yaml (command_train; check_writable's probe), and
 * publish temporaries; a folder of nothing else was stopped while it was being made. */
static int written_before_resolved(const char *name, const char *unused) {
    (void)unused;
    static const char *const names[] = {".lock", ".write-test", "spec.yaml", "overrides.txt", "init_from.txt", "status"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(name, names[i]) == 0) return 1;
    return publish_is_temp(name, NULL);
}

int rundir_clear_unbegun(const char *dir) {
    if (!dir_entries_all(dir, written_before_resolved, NULL)) return 0;   /* looked at before anything is locked */
    char path[4400];
    snprintf(path, sizeof path, "%s/.lock", dir);
    int fd = open(path, O_RDWR | O_CLOEXEC);   /* never made here */
    if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) != 0) {   /* held: its process is still making it */
        close(fd);
        return 0;
    }
    /* under the lock (a new run on dir refuses it, as not empty, and takes no lock) */
    int unbegun = dir_entries_all(dir, written_before_resolved, NULL);
    DIR *d = unbegun ? opendir(dir) : NULL;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 && strcmp(e->d_name, ".lock") != 0) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    if (d) closedir(d);
    if (unbegun) {
        snprintf(path, sizeof path, "%s/.lock", dir);
        unlink(path);   /* last, while held */
    }
    if (fd >= 0) close(fd);
    return unbegun;
}

int make_stamped_dir(const char *parent, const char *prefix, char *out, size_t cap, ExError *err) {
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
    for (int k = 0; k < 10000; k++) {
        int len = k == 0 ? snprintf(out, cap, "%s/%s%s", parent, prefix, stamp)
                         : snprintf(out, cap, "%s/%s%s-%d", parent, prefix, stamp, k);
        if (len >= (int)cap) return ex_fail(err, "output folder name too long: %s", parent);
        if (mkdir(out, 0777) == 0) return 0;   /* mkdir is atomic: two never share a folder */
        if (errno != EEXIST) return ex_fail(err, "cannot create %s: %s", out, strerror(errno));
    }
    return ex_fail(err, "cannot find a free folder name under %s", parent);
}

/* Under the lock, a process's temporary file in dir is one a killed process left (the next
 * writer's own name differs, so nothing else replaces it): remove it. */
static void remove_stale_temps(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char path[4400];
    while ((e = readdir(d)))
        if (publish_is_temp(e->d_name, NULL)) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    closedir(d);
}

int rundir_lock(const char *dir, ExError *err) {
    int fd = try_lock(dir, err);
    if (fd < 0) return -1;
    note_pid(fd);
    char checkpoints[4300];
    snprintf(checkpoints, sizeof checkpoints, "%s/checkpoints", dir);
    remove_stale_temps(dir);
    remove_stale_temps(checkpoints);   /* LATEST, KEPT */
    return fd;
}

int write_file_atomic(const char *dir, const char *name, const char *text, ExError *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return publish_text(path, text, err);
}

char *read_file(const char *path, size_t *len, ExError *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        ex_fail(err, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (cap - n - 1 == 0) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

int rundir_set_status(const char *dir, const char *status, ExError *err) {
    char line[64];
    snprintf(line, sizeof line, "%s\n", status);
    return write_file_atomic(dir, "status", line, err);
}

int check_writable(const char *dir, ExError *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/.write-test", dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) return ex_fail(err, "cannot write in %s: %s", dir, strerror(errno));
    int ok = write(fd, "ok\n", 3) == 3;
    close(fd);
    unlink(path);
    return ok ? 0 : ex_fail(err, "cannot write in %s: %s", dir, strerror(errno));
}

static int is_run_dir(const char *dir) {
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/resolved.yaml", dir);
    if (access(path, F_OK) == 0) return 1;
    snprintf(path, sizeof path, "%s/.lock", dir);
    return access(path, F_OK) == 0;
}

int rundir_owns(const char *path, char *why, size_t cap) {
    static const struct { const char *name, *what; } OWNED[] = {
        {"spec.yaml", "the spec as given"},       {"overrides.txt", "the overrides"},
        {"resolved.yaml", "the resolved spec"},   {"init_from.txt", "the --init-from record"},
        {"status", "the status"},                 {"results.h5", "the metrics and results"},
        {"metrics.csv", "the metrics table"},     {".lock", "the lock"},
        {"steps.csv", "the per-step metrics"},
    };
    /* Where the bytes would land: through a symbolic link, at its target. */
    char target[PATH_MAX], dir[PATH_MAX], real_dir[PATH_MAX];
    if (!realpath(path, target)) snprintf(target, sizeof target, "%s", path);
    const char *slash = strrchr(target, '/');
    const char *base = slash ? slash + 1 : target;
    if (slash) snprintf(dir, sizeof dir, "%.*s", (int)(slash - target), target);
    else snprintf(dir, sizeof dir, ".");
    if (!dir[0]) snprintf(dir, sizeof dir, "/");
    if (!realpath(dir, real_dir)) return 0;   /* no such directory: nothing there to replace */
    char base_name[PATH_MAX];
    snprintf(base_name, sizeof base_name, "%s", base);
    size_t published = 0;
    if (publish_is_temp(base_name, &published)) base_name[published] = '\0';   /* NAME.<pid>.tmp */
    if (is_run_dir(real_dir))
        for (size_t i = 0; i < sizeof OWNED / sizeof OWNED[0]; i++)
            if (strcmp(base_name, OWNED[i].name) == 0) {
                snprintf(why, cap, "%s holds %s of run %s", path, OWNED[i].what, real_dir);
                return 1;
            }
    const char *last = strrchr(real_dir, '/');
    if (last && strcmp(last + 1, "checkpoints") == 0) {
        char run[PATH_MAX];
        snprintf(run, sizeof run, "%.*s", (int)(last - real_dir), real_dir);
        if (is_run_dir(run)) {
            snprintf(why, cap, "%s is in the checkpoints of run %s", path, run);
            return 1;
        }
    }
    return 0;
}

int rundir_point_latest(const char *run_dir, ExError *err) {
    char parent[PATH_MAX], link_tmp[PATH_MAX + 64], link_path[PATH_MAX + 16];
    const char *slash = strrchr(run_dir, '/');
    if (!slash || !slash[1]) return 0;   /* not ROOT/NAME/STAMP */
    snprintf(parent, sizeof parent, "%.*s", (int)(slash - run_dir), run_dir);
    snprintf(link_tmp, sizeof link_tmp, "%s/.latest.%ld.tmp", parent, (long)getpid());
    snprintf(link_path, sizeof link_path, "%s/latest", parent);
    unlink(link_tmp);
    /* a link holding the folder's own name, renamed over the old one: a reader sees the old run
     * or the new one, never no link or half a name */
    if (symlink(slash + 1, link_tmp) != 0 || rename(link_tmp, link_path) != 0) {
        int why = errno;
        unlink(link_tmp);
        return ex_fail(err, "cannot point %s at %s: %s", link_path, slash + 1, strerror(why));
    }
    return 0;
}

const char *rundir_resolve(const char *arg, char *buf, size_t cap) {
    if (!arg || is_run_dir(arg)) return arg;
    char link_path[PATH_MAX + 16], target[256];
    snprintf(link_path, sizeof link_path, "%s/latest", arg);
    struct stat st;
    if (lstat(link_path, &st) != 0 || !S_ISLNK(st.st_mode)) return arg;
    ssize_t n = readlink(link_path, target, sizeof target - 1);
    if (n <= 0) return arg;
    target[n] = '\0';
    if (strchr(target, '/') || strcmp(target, "..") == 0 || strcmp(target, ".") == 0) return arg;   /* a sibling only */
    size_t len = strlen(arg);
    while (len > 1 && arg[len - 1] == '/') len--;
    if (snprintf(buf, cap, "%.*s/%s", (int)len, arg, target) >= (int)cap || !is_run_dir(buf)) return arg;
    return buf;
}
