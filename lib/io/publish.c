/* publish.c — tmp → fsync → rename → fsync(dir) (publish.h). */
#include "publish.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Write size bytes to a new file tmp and fsync it: short writes, EINTR and errors at fsync or
 * close (ENOSPC, EIO, EDQUOT) are all caught here. */
static int write_whole(const unsigned char *bytes, size_t size, const char *tmp, const char *path, ExError *err) {
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) return ex_fail(err, "cannot write %s: cannot create %s: %s", path, tmp, strerror(errno));
    /* Test hook (tests/test_kill.c): with EXPRUN_TEST_PUBLISH_PAUSE_US=N set, the first half
     * is written, then a pause of N µs, so that a SIGKILL can land while the temporary is torn. */
    const char *pause = getenv("EXPRUN_TEST_PUBLISH_PAUSE_US");
    size_t half = pause ? size / 2 : 0;
    size_t done = 0;
    while (done < size) {
        ssize_t k = write(fd, bytes + done, (done < half ? half : size) - done);
        if (k > 0 && half && done + (size_t)k == half) {
            long us = atol(pause);
            nanosleep(&(struct timespec){us / 1000000, us % 1000000 * 1000}, NULL);
            half = 0;
        }
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) {
            int saved = k < 0 ? errno : ENOSPC;
            close(fd);
            return ex_fail(err, "cannot write %s: writing %s failed after %zu of %zu bytes: %s", path, tmp, done,
                           size, strerror(saved));
        }
        done += (size_t)k;
    }
    if (fsync(fd) != 0) {
        int saved = errno;
        close(fd);
        return ex_fail(err, "cannot write %s: fsync of %s failed: %s", path, tmp, strerror(saved));
    }
    if (close(fd) != 0) return ex_fail(err, "cannot write %s: closing %s failed: %s", path, tmp, strerror(errno));
    return 0;
}

static int fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return rc;
}

/* tmp is complete and fsynced: rename it over path, make the rename durable. */
static int commit(const char *tmp, const char *path, ExError *err) {
    if (rename(tmp, path) != 0)
        return ex_fail(err, "cannot write %s: renaming %s over it failed: %s", path, tmp, strerror(errno));
    /* A rename is atomic but only durable once the directory entry is on disk. Some file
     * systems cannot fsync a directory (EINVAL); there is nothing more to do on those. */
    const char *slash = strrchr(path, '/');
    size_t n = slash ? (size_t)(slash - path) : 0;
    char *dir = malloc(n + 2);
    if (!dir) return ex_fail(err, "wrote %s, but out of memory to fsync its directory", path);
    if (!slash) snprintf(dir, 2, ".");
    else if (n == 0) snprintf(dir, 2, "/");
    else {
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int rc = 0;
    if (fsync_dir(dir) != 0 && errno != EINVAL && errno != ENOTSUP)
        rc = ex_fail(err, "wrote %s, but fsync of its directory %s failed: %s (the new file may not survive a "
                          "power failure)", path, dir, strerror(errno));
    free(dir);
    return rc;
}

int publish_file(const char *path, const void *bytes, size_t size, ExError *err) {
    if (!path || !*path) return ex_fail(err, "publish_file: no path");
    size_t cap = strlen(path) + 32;
    char *tmp = malloc(cap);
    if (!tmp) return ex_fail(err, "cannot write %s: out of memory", path);
    snprintf(tmp, cap, "%s.%ld.tmp", path, (long)getpid());
    int rc = write_whole(bytes, size, tmp, path, err);
    if (rc == 0) {
        rc = commit(tmp, path, err);
        if (rc != 0 && access(tmp, F_OK) != 0) {   /* renamed: only the directory fsync failed */
            free(tmp);
            return -1;
        }
    }
    if (rc != 0) unlink(tmp);
    free(tmp);
    return rc;
}

int publish_text(const char *path, const char *text, ExError *err) {
    return publish_file(path, text ? text : "", text ? strlen(text) : 0, err);
}

int publish_is_temp(const char *name, size_t *published_len) {
    size_t len = strlen(name);
    if (len < 7 || strcmp(name + len - 4, ".tmp") != 0) return 0;
    size_t end = len - 4, start = end;
    while (start > 0 && name[start - 1] >= '0' && name[start - 1] <= '9') start--;
    if (!(start < end && start > 1 && name[start - 1] == '.')) return 0;
    if (published_len) *published_len = start - 1;
    return 1;
}
