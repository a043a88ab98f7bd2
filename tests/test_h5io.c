/* test_h5io.c — the HDF5 layer: H5Doc publishing, checked readers, checkpoints, SHA-256, and
 * that a user's h5py/pandas reads the files as documented. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "checkpoint.h"
#include "h5doc.h"
#include "h5read.h"
#include "publish.h"
#include "sha256.h"
#include "testutil.h"

/* --- helpers --------------------------------------------------------------------------- */

static char *tmpdir;  /* one per test program run */

static char *path_in(const char *name) {
    size_t n = strlen(tmpdir) + strlen(name) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", tmpdir, name);
    return p;
}

/* The temporary this process's publish of path writes (publish.h: PATH.<pid>.tmp). */
static char *temp_of(const char *path) {
    size_t n = strlen(path) + 32;
    char *p = malloc(n);
    snprintf(p, n, "%s.%ld.tmp", path, (long)getpid());
    return p;
}

static int file_exists(const char *path) { return access(path, F_OK) == 0; }

static int contains(const char *haystack, const char *needle) {
    return strstr(haystack, needle) != NULL;
}

/* Run fn(ctx) with stderr redirected to a file; return how many bytes it printed. The library
 * must never print, HDF5's error stack included. */
static long stderr_bytes_during(void (*fn)(void *), void *ctx) {
    char *cap = path_in("stderr.txt");
    fflush(stderr);
    int saved = dup(2);
    int fd = open(cap, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    close(fd);
    fn(ctx);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    struct stat st;
    long n = stat(cap, &st) == 0 ? (long)st.st_size : -1;
    unlink(cap);
    free(cap);
    return n;
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT(fwrite(data, 1, n, f) == n);
    fclose(f);
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* --- a document with every kind of item ------------------------------------------------ */

static const char *const COLS[] = {"step", "epoch", "loss", "lr", "nan_count"};
static const double ROWS[3 * 5] = {
    100, 0, 2.5, 1e-3, 0,
    200, 1, 1.25, 5e-4, 2,
    300, 2, 0.25, 2.5e-4, 0,
};
static const char *const UNITS[] = {"", "", "nats", "1", ""};
static const char *const NAMES[] = {"alpha", "βeta", ""};

static float F23[6];
static double D1[4];
static const int32_t I32[4] = {-1, 0, 1, INT32_MAX};
static const int64_t I64[3] = {INT64_MIN, 0, INT64_MAX};
static const uint64_t U64[4] = {0, 1, UINT64_MAX, 0x9E3779B97F4A7C15ull};

static void fill_specials(void) {
    /* Values whose bits a careless round trip would change: -0, a denormal, NaN with payload. */
    F23[0] = -0.0f;
    F23[1] = 1.401298464e-45f;
    uint32_t nan_bits = 0x7fc12345u;
    memcpy(&F23[2], &nan_bits, 4);
    F23[3] = 3.14159265f;
    F23[4] = -1e30f;
    F23[5] = 1.0f / 3.0f;
    D1[0] = 0.1;
    D1[1] = -0.0;
    D1[2] = 1e-310;
    D1[3] = 2.0 / 3.0;
}

static H5Doc *full_doc(void) {
    fill_specials();
    H5Doc *doc = h5doc_new();
    int shape23[2] = {2, 3}, shape4[1] = {4}, shape3[1] = {3}, shape03[2] = {0, 3};
    double scalar = 42.5;
    CU_ASSERT(h5doc_attr_str(doc, "/", "status", "finished") == 0);
    CU_ASSERT(h5doc_attr_str(doc, "/", "note", "naïve – ü ✓") == 0);
    CU_ASSERT(h5doc_attr_int(doc, "/", "seed", 42) == 0);
    CU_ASSERT(h5doc_attr_int(doc, "/", "big", INT64_MIN) == 0);
    CU_ASSERT(h5doc_attr_double(doc, "/", "pi", 3.141592653589793) == 0);
    CU_ASSERT(h5doc_attr_str(doc, "/", "status", "running") == 0);  /* replaced below */
    CU_ASSERT(h5doc_attr_str(doc, "/", "status", "finished") == 0);
    CU_ASSERT(h5doc_string(doc, "/config", "model:\n  type: lstm  # ü\n") == 0);
    CU_ASSERT(h5doc_strings(doc, "/names", 3, NAMES) == 0);
    CU_ASSERT(h5doc_floats(doc, "data/f", 2, shape23, F23) == 0);  /* no leading slash */
    CU_ASSERT(h5doc_doubles(doc, "/data/d", 1, shape4, D1) == 0);
    CU_ASSERT(h5doc_doubles(doc, "/data/scalar", 0, NULL, &scalar) == 0);
    CU_ASSERT(h5doc_int32s(doc, "/data/i32", 1, shape4, I32) == 0);
    CU_ASSERT(h5doc_int64s(doc, "/data/i64", 1, shape3, I64) == 0);
    CU_ASSERT(h5doc_uint64s(doc, "/data/deep/er/u64", 1, shape4, U64) == 0);
    CU_ASSERT(h5doc_floats(doc, "/data/empty", 2, shape03, NULL) == 0);
    CU_ASSERT(h5doc_table(doc, "/metrics/train", 5, COLS, 3, ROWS) == 0);
    CU_ASSERT(h5doc_table(doc, "/metrics/eval", 5, COLS, 0, NULL) == 0);
    CU_ASSERT(h5doc_attr_strs(doc, "/metrics/train", "units", 5, UNITS) == 0);
    CU_ASSERT(h5doc_attr_str(doc, "/data/f", "layout", "out,in") == 0);
    CU_ASSERT(h5doc_attr_int(doc, "/plain/group", "n", 7) == 0);  /* creates the group */
    CU_ASSERT(h5doc_group(doc, "/empty_group") == 0);
    CU_ASSERT(h5doc_group(doc, "/data") == 0);                    /* already implied: fine */
    return doc;
}

static void test_publish_and_read_all_kinds(void) {
    ExError err = {{0}};
    char *path = path_in("all.h5");
    H5Doc *doc = full_doc();
    int rc = h5doc_publish(doc, path, &err);
    h5doc_free(doc);
    CU_ASSERT_FATAL(rc == 0);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    char *tmp = temp_of(path);
    CU_ASSERT(!file_exists(tmp));
    free(tmp);

    H5Reader *r = NULL;
    CU_ASSERT_FATAL(h5r_open(&r, path, &err) == 0);
    char *s = NULL;
    CU_ASSERT(h5r_attr_str(r, "/", "status", &s, &err) == 0 && strcmp(s, "finished") == 0);
    free(s);
    CU_ASSERT(h5r_attr_str(r, "/", "note", &s, &err) == 0 && strcmp(s, "naïve – ü ✓") == 0);
    free(s);
    int64_t iv = 0;
    CU_ASSERT(h5r_attr_int(r, "/", "seed", &iv, &err) == 0 && iv == 42);
    CU_ASSERT(h5r_attr_int(r, "/", "big", &iv, &err) == 0 && iv == INT64_MIN);
    double dv = 0;
    CU_ASSERT(h5r_attr_double(r, "/", "pi", &dv, &err) == 0 && dv == 3.141592653589793);
    CU_ASSERT(h5r_attr_double(r, "/", "seed", &dv, &err) == 0 && dv == 42.0);  /* int as double */
    CU_ASSERT(h5r_attr_int(r, "/", "pi", &iv, &err) == -1);                    /* not as int */
    CU_ASSERT(contains(err.msg, "pi") && contains(err.msg, "expected an integer"));
    CU_ASSERT(h5r_attr_str(r, "/", "seed", &s, &err) == -1 && s == NULL);
    CU_ASSERT(h5r_attr_int(r, "/plain/group", "n", &iv, &err) == 0 && iv == 7);
    CU_ASSERT(h5r_attr_str(r, "/data/f", "layout", &s, &err) == 0 && strcmp(s, "out,in") == 0);
    free(s);
    CU_ASSERT(h5r_attr_str(r, "/", "missing", &s, &err) == -1);
    CU_ASSERT(contains(err.msg, path) && contains(err.msg, "no attribute 'missing'"));
    CU_ASSERT(h5r_has_attr(r, "/", "seed") == 1 && h5r_has_attr(r, "/", "nope") == 0);
    CU_ASSERT(h5r_has_attr(r, "/no/such", "seed") == 0);
    CU_ASSERT(h5r_exists(r, "/empty_group") == 1 && h5r_exists(r, "/a/b/c") == 0);

    CU_ASSERT(h5r_read_string(r, "/config", &s, &err) == 0 &&
              strcmp(s, "model:\n  type: lstm  # ü\n") == 0);
    free(s);
    size_t n = 0;
    char **list = NULL;
    CU_ASSERT_FATAL(h5r_read_strings(r, "/names", &n, &list, &err) == 0);
    CU_ASSERT(n == 3 && strcmp(list[0], "alpha") == 0 && strcmp(list[1], "βeta") == 0 &&
              strcmp(list[2], "") == 0);
    h5r_free_strings(list, n);

    int shape23[2] = {2, 3}, shape4[1] = {4}, shape3[1] = {3}, shape03[2] = {0, 3};
    float f[6];
    CU_ASSERT(h5r_read_floats(r, "/data/f", 2, shape23, f, &err) == 0);
    CU_ASSERT(memcmp(f, F23, sizeof f) == 0);  /* bit for bit, NaN payload and -0 included */
    double d[4];
    CU_ASSERT(h5r_read_doubles(r, "/data/d", 1, shape4, d, &err) == 0);
    CU_ASSERT(memcmp(d, D1, sizeof d) == 0);
    CU_ASSERT(h5r_read_doubles(r, "/data/scalar", 0, NULL, &dv, &err) == 0 && dv == 42.5);
    int32_t i32[4];
    CU_ASSERT(h5r_read_int32s(r, "/data/i32", 1, shape4, i32, &err) == 0);
    CU_ASSERT(memcmp(i32, I32, sizeof i32) == 0);
    int64_t i64[3];
    CU_ASSERT(h5r_read_int64s(r, "/data/i64", 1, shape3, i64, &err) == 0);
    CU_ASSERT(memcmp(i64, I64, sizeof i64) == 0);
    uint64_t u64[4];
    CU_ASSERT(h5r_read_uint64s(r, "/data/deep/er/u64", 1, shape4, u64, &err) == 0);
    CU_ASSERT(memcmp(u64, U64, sizeof u64) == 0);
    CU_ASSERT(h5r_read_floats(r, "/data/empty", 2, shape03, f, &err) == 0);

    H5RInfo info;
    CU_ASSERT(h5r_info(r, "/data/f", &info, &err) == 0);
    CU_ASSERT(info.rank == 2 && info.dims[0] == 2 && info.dims[1] == 3 && info.kind == 'f' &&
              info.elem_size == 4);
    CU_ASSERT(h5r_info(r, "/data/deep/er/u64", &info, &err) == 0 && info.kind == 'u');
    CU_ASSERT(h5r_info(r, "/data/i64", &info, &err) == 0 && info.kind == 'i' &&
              info.elem_size == 8);
    CU_ASSERT(h5r_info(r, "/metrics/train", &info, &err) == 0 && info.kind == 'V');
    CU_ASSERT(h5r_info(r, "/data", &info, &err) == -1);  /* a group */
    int rank = -1;
    int64_t dims[H5R_MAX_RANK];
    CU_ASSERT(h5r_shape(r, "/data/f", &rank, dims, &err) == 0);
    CU_ASSERT(rank == 2 && dims[0] == 2 && dims[1] == 3);
    CU_ASSERT(h5r_shape(r, "/data/scalar", &rank, dims, &err) == 0 && rank == 0);

    int ncols = 0;
    char **names = NULL;
    int64_t nrows = 0;
    double *rows = NULL;
    CU_ASSERT_FATAL(h5r_read_table(r, "/metrics/train", &ncols, &names, &nrows, &rows, &err) == 0);
    CU_ASSERT(ncols == 5 && nrows == 3);
    for (int j = 0; j < ncols; j++) CU_ASSERT(strcmp(names[j], COLS[j]) == 0);
    CU_ASSERT(memcmp(rows, ROWS, sizeof ROWS) == 0);
    h5r_free_strings(names, (size_t)ncols);
    free(rows);
    CU_ASSERT(h5r_read_table(r, "/metrics/eval", &ncols, &names, &nrows, &rows, &err) == 0);
    CU_ASSERT(ncols == 5 && nrows == 0);
    h5r_free_strings(names, (size_t)ncols);
    free(rows);
    CU_ASSERT(h5r_read_table(r, "/data/f", &ncols, &names, &nrows, &rows, &err) == -1);

    CU_ASSERT_FATAL(h5r_list_datasets(r, "/data", &n, &list, &err) == 0);
    const char *want[] = {"/data/d", "/data/deep/er/u64", "/data/empty", "/data/f",
                          "/data/i32", "/data/i64", "/data/scalar"};
    CU_ASSERT(n == 7);
    for (size_t i = 0; i < n && i < 7; i++) CU_ASSERT(strcmp(list[i], want[i]) == 0);
    h5r_free_strings(list, n);
    CU_ASSERT(h5r_list_datasets(r, "/", &n, &list, &err) == 0 && n == 11);
    h5r_free_strings(list, n);
    CU_ASSERT(h5r_list_datasets(r, "/nope", &n, &list, &err) == -1);
    h5r_close(r);
    free(path);
}

static void test_read_errors_name_everything(void) {
    ExError err = {{0}};
    char *path = path_in("shapes.h5");
    H5Doc *doc = h5doc_new();
    float x[6] = {1, 2, 3, 4, 5, 6};
    int32_t k[6] = {0};
    int shape23[2] = {2, 3};
    h5doc_floats(doc, "/model/enc0/W", 2, shape23, x);
    h5doc_int32s(doc, "/ints", 2, shape23, k);
    CU_ASSERT_FATAL(h5doc_publish(doc, path, &err) == 0);
    h5doc_free(doc);

    H5Reader *r = NULL;
    CU_ASSERT_FATAL(h5r_open(&r, path, &err) == 0);
    float y[6] = {9, 9, 9, 9, 9, 9};
    int shape32[2] = {3, 2}, shape6[1] = {6};
    CU_ASSERT(h5r_read_floats(r, "/model/enc0/W", 2, shape32, y, &err) == -1);
    CU_ASSERT(contains(err.msg, path));
    CU_ASSERT(contains(err.msg, "/model/enc0/W"));
    CU_ASSERT(contains(err.msg, "shape 2x3") && contains(err.msg, "expected 3x2"));
    CU_ASSERT(y[0] == 9);  /* nothing read */
    CU_ASSERT(h5r_read_floats(r, "/model/enc0/W", 1, shape6, y, &err) == -1);
    CU_ASSERT(contains(err.msg, "expected 6"));
    CU_ASSERT(h5r_read_floats(r, "/ints", 2, shape23, y, &err) == -1);
    CU_ASSERT(contains(err.msg, "/ints") && contains(err.msg, "holds integers"));
    CU_ASSERT(h5r_read_floats(r, "/model/enc1/W", 2, shape23, y, &err) == -1);
    CU_ASSERT(contains(err.msg, "no dataset /model/enc1/W"));
    CU_ASSERT(h5r_read_floats(r, "/model/enc0", 2, shape23, y, &err) == -1);
    CU_ASSERT(contains(err.msg, "/model/enc0"));
    char *s = NULL;
    CU_ASSERT(h5r_read_string(r, "/ints", &s, &err) == -1 && s == NULL);
    CU_ASSERT(contains(err.msg, "expected strings"));
    h5r_close(r);
    free(path);
}

static void test_second_publish_replaces_first(void) {
    ExError err = {{0}};
    char *path = path_in("replace.h5");
    for (int version = 1; version <= 2; version++) {
        H5Doc *doc = h5doc_new();
        h5doc_attr_int(doc, "/", "version", version);
        if (version == 1) h5doc_string(doc, "/only_in_first", "x");
        CU_ASSERT(h5doc_publish(doc, path, &err) == 0);
        h5doc_free(doc);
    }
    H5Reader *r = NULL;
    CU_ASSERT_FATAL(h5r_open(&r, path, &err) == 0);
    int64_t v = 0;
    CU_ASSERT(h5r_attr_int(r, "/", "version", &v, &err) == 0 && v == 2);
    CU_ASSERT(h5r_exists(r, "/only_in_first") == 0);  /* replaced, not merged */
    h5r_close(r);

    /* A reader holding the old file keeps reading it while a new one is published. */
    CU_ASSERT_FATAL(h5r_open(&r, path, &err) == 0);
    H5Doc *doc = h5doc_new();
    h5doc_attr_int(doc, "/", "version", 3);
    CU_ASSERT(h5doc_publish(doc, path, &err) == 0);
    h5doc_free(doc);
    CU_ASSERT(h5r_attr_int(r, "/", "version", &v, &err) == 0 && v == 2);
    h5r_close(r);
    CU_ASSERT_FATAL(h5r_open(&r, path, &err) == 0);
    CU_ASSERT(h5r_attr_int(r, "/", "version", &v, &err) == 0 && v == 3);
    h5r_close(r);
    free(path);
}

static void publish_small(void *ctx) {
    const char **a = ctx;  /* {path, out message} */
    ExError err = {{0}};
    H5Doc *doc = h5doc_new();
    h5doc_attr_int(doc, "/", "x", 1);
    int rc = h5doc_publish(doc, a[0], &err);
    h5doc_free(doc);
    snprintf((char *)a[1], 4096, "%d %.4000s", rc, err.msg);
}

static void test_failed_publish_leaves_nothing(void) {
    char msg[4096];
    /* (a) the directory cannot be created in: a path through a regular file (ENOTDIR) — works
     * for root too, who may write into any mode-0555 directory. */
    char *blocker = path_in("blocker");
    write_bytes(blocker, "x", 1);
    char *bad = path_in("blocker/out.h5");
    const char *a[2] = {bad, msg};
    long printed = stderr_bytes_during(publish_small, a);
    CU_ASSERT(printed == 0);  /* HDF5's error stack is not printed */
    CU_ASSERT(msg[0] == '-');  /* rc -1 */
    CU_ASSERT(contains(msg, bad));
    CU_ASSERT(contains(msg, "Not a directory"));
    CU_ASSERT(file_size(blocker) == 1);

    /* (b) the target is a non-empty directory: everything succeeds up to the rename, which
     * fails; the tmp file must be removed and the directory left alone. */
    char *dir = path_in("target.h5");
    CU_ASSERT_FATAL(mkdir(dir, 0755) == 0);
    char *inside = path_in("target.h5/keep");
    write_bytes(inside, "keep", 4);
    a[0] = dir;
    publish_small(a);
    CU_ASSERT(msg[0] == '-');
    CU_ASSERT(contains(msg, dir) && contains(msg, "renaming"));
    char *target_h5 = path_in("target.h5");
    char *tmp = temp_of(target_h5);
    free(target_h5);
    CU_ASSERT(!file_exists(tmp));
    CU_ASSERT(file_size(inside) == 4);

    /* (c) an unwritable directory, where permissions apply (not for root). */
    if (geteuid() != 0) {
        char *ro = path_in("readonly");
        CU_ASSERT_FATAL(mkdir(ro, 0555) == 0);
        char *target = path_in("readonly/out.h5");
        a[0] = target;
        publish_small(a);
        CU_ASSERT(msg[0] == '-' && contains(msg, target));
        CU_ASSERT(contains(msg, "Permission denied"));
        char *rtmp = temp_of(target);
        CU_ASSERT(!file_exists(rtmp) && !file_exists(target));
        chmod(ro, 0755);
        free(rtmp);
        free(target);
        free(ro);
    }
    free(tmp);
    free(inside);
    free(dir);
    free(bad);
    free(blocker);
}

/* A write that fails partway (as on a full disk) must be an error, remove the tmp file and
 * leave the old PATH intact. RLIMIT_FSIZE makes writes past 64 KiB fail with EFBIG, in a child
 * process so the limit does not outlive the test. */
static void test_write_failure_keeps_old_file(void) {
    ExError err = {{0}};
    char *path = path_in("full.h5");
    H5Doc *doc = h5doc_new();
    h5doc_attr_str(doc, "/", "generation", "old");
    CU_ASSERT_FATAL(h5doc_publish(doc, path, &err) == 0);
    h5doc_free(doc);
    long old_size = file_size(path);

    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        /* The child ends in exit(): it frees its copy of path first (valgrind would count it
         * as lost) and uses a copy on the stack. */
        char child_path[4000];
        snprintf(child_path, sizeof child_path, "%s", path);
        free(path);
        path = child_path;
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit lim = {64 * 1024, 64 * 1024};
        if (setrlimit(RLIMIT_FSIZE, &lim) != 0) exit(10);
        size_t n = 256 * 1024;  /* 1 MiB of floats */
        float *big = calloc(n, sizeof(float));
        int shape[1] = {(int)n};
        H5Doc *d = h5doc_new();
        h5doc_attr_str(d, "/", "generation", "new");
        h5doc_floats(d, "/big", 1, shape, big);
        ExError e = {{0}};
        int rc = h5doc_publish(d, path, &e);
        h5doc_free(d);
        free(big);
        if (rc == 0) exit(11);
        if (!strstr(e.msg, path)) exit(12);
        char tmp[4096];
        snprintf(tmp, sizeof tmp, "%s.%ld.tmp", path, (long)getpid());
        if (access(tmp, F_OK) == 0) exit(13);
        if (!strstr(e.msg, "File too large")) exit(14);
        /* The library is still sound: a small document publishes fine afterwards. */
        snprintf(tmp, sizeof tmp, "%s.after", path);
        d = h5doc_new();
        h5doc_attr_str(d, "/", "generation", "after");
        rc = h5doc_publish(d, tmp, &e);
        h5doc_free(d);
        if (rc != 0) exit(15);
        exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    CU_ASSERT(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fprintf(stderr, "child status %d\n", status);
    CU_ASSERT(file_size(path) == old_size);
    H5Reader *r = NULL;
    CU_ASSERT_FATAL(h5r_open(&r, path, &err) == 0);
    char *s = NULL;
    CU_ASSERT(h5r_attr_str(r, "/", "generation", &s, &err) == 0 && strcmp(s, "old") == 0);
    free(s);
    h5r_close(r);
    free(path);
}

static void test_builder_errors_fail_the_publish(void) {
    const char *cols[] = {"step", "loss"};
    const double rows[2] = {1.5, 0.1};  /* a step of 1.5 is not a whole number */
    const char *dup_cols[] = {"loss", "loss"};
    float x = 1;
    static const char *const expect[] = {"added twice", "is a dataset", "empty",
                                         "not a whole number", "appears twice",
                                         "cannot be a dataset"};
    for (int c = 0; c < 6; c++) {
        H5Doc *doc = h5doc_new();
        int rc = 0;
        switch (c) {
        case 0: h5doc_floats(doc, "/a", 0, NULL, &x); rc = h5doc_string(doc, "a", "again"); break;
        case 1: h5doc_floats(doc, "/a", 0, NULL, &x); rc = h5doc_floats(doc, "/a/b", 0, NULL, &x);
            break;
        case 2: rc = h5doc_floats(doc, "/a//b", 0, NULL, &x); break;
        case 3: rc = h5doc_table(doc, "/t", 2, cols, 1, rows); break;
        case 4: rc = h5doc_table(doc, "/t", 2, dup_cols, 1, rows); break;
        case 5: h5doc_floats(doc, "/g/x", 0, NULL, &x); rc = h5doc_floats(doc, "/g", 0, NULL, &x);
            break;
        }
        CU_ASSERT(rc == -1);
        h5doc_attr_int(doc, "/", "later", 1);  /* later good calls do not clear the error */
        char *path = path_in("builder.h5");
        ExError err = {{0}};
        CU_ASSERT(h5doc_publish(doc, path, &err) == -1);
        CU_ASSERT(contains(err.msg, path));
        CU_ASSERT(contains(err.msg, expect[c]));
        if (!contains(err.msg, expect[c])) fprintf(stderr, "case %d: %s\n", c, err.msg);
        CU_ASSERT(!file_exists(path));
        free(path);
        h5doc_free(doc);
    }
}

static void open_garbage(void *ctx) {
    const char **a = ctx;
    ExError err = {{0}};
    H5Reader *r = NULL;
    int rc = h5r_open(&r, a[0], &err);
    snprintf((char *)a[1], 4096, "%d %.4000s", rc, err.msg);
    if (r) h5r_close(r);
}

static void test_truncated_and_garbage_files(void) {
    ExError err = {{0}};
    char *good = path_in("good.h5");
    H5Doc *doc = h5doc_new();
    float big[4096];
    fill_uniform(big, 4096, -1, 1, 7);
    int shape[1] = {4096};
    h5doc_floats(doc, "/x", 1, shape, big);
    h5doc_attr_str(doc, "/", "status", "ok");
    CU_ASSERT_FATAL(h5doc_publish(doc, good, &err) == 0);
    h5doc_free(doc);

    /* Copy and cut to half. */
    long size = file_size(good);
    CU_ASSERT_FATAL(size > 16384);
    char *buf = malloc((size_t)size);
    FILE *f = fopen(good, "rb");
    CU_ASSERT_FATAL(f && fread(buf, 1, (size_t)size, f) == (size_t)size);
    fclose(f);
    char *cut = path_in("cut.h5");
    write_bytes(cut, buf, (size_t)size / 2);

    char msg[4096];
    const char *a[2] = {cut, msg};
    CU_ASSERT(stderr_bytes_during(open_garbage, a) == 0);
    CU_ASSERT(msg[0] == '-');
    CU_ASSERT(contains(msg, cut) && contains(msg, "not an HDF5 file or truncated"));
    if (!contains(msg, "not an HDF5 file or truncated")) fprintf(stderr, "%s\n", msg);
    CU_ASSERT(contains(msg, "truncated"));

    char *junk = path_in("junk.h5");
    write_bytes(junk, "this is not HDF5 at all, just some text\n", 40);
    a[0] = junk;
    CU_ASSERT(stderr_bytes_during(open_garbage, a) == 0);
    CU_ASSERT(msg[0] == '-' && contains(msg, junk) &&
              contains(msg, "not an HDF5 file or truncated"));

    char *empty = path_in("empty.h5");
    write_bytes(empty, "", 0);
    a[0] = empty;
    open_garbage(a);
    CU_ASSERT(msg[0] == '-' && contains(msg, "not an HDF5 file or truncated"));

    char *missing = path_in("missing.h5");
    a[0] = missing;
    open_garbage(a);
    CU_ASSERT(msg[0] == '-' && contains(msg, missing) && contains(msg, "No such file"));

    a[0] = tmpdir;
    open_garbage(a);
    CU_ASSERT(msg[0] == '-' && contains(msg, "is a directory"));

    /* The checkpoint loader says the same for a damaged checkpoint. */
    Params p = {0};
    int s2[2] = {2, 2};
    params_add(&p, "w", 2, s2, "");
    params_alloc(&p);
    CU_ASSERT(checkpoint_load(cut, &p, NULL, NULL, NULL, &err) == -1);
    CU_ASSERT(contains(err.msg, "not an HDF5 file or truncated"));
    /* …and a valid HDF5 file that is not a checkpoint is named as such. */
    CU_ASSERT(checkpoint_load(good, &p, NULL, NULL, NULL, &err) == -1);
    CU_ASSERT(contains(err.msg, "not an exprun checkpoint"));
    params_free(&p);

    free(missing);
    free(empty);
    free(junk);
    free(cut);
    free(buf);
    free(good);
}

/* --- checkpoints ----------------------------------------------------------------------- */

/* A small model: three views of an autoencoder-like net (sizes deliberately not multiples of
 * 16, so the arena has padding between views). */
static void build_params(Params *p, int enc_out) {
    memset(p, 0, sizeof *p);
    int w1[2] = {enc_out, 3}, b1[1] = {enc_out}, w2[2] = {3, enc_out};
    params_add(p, "enc0/W", 2, w1, "out,in");
    params_add(p, "enc0/b", 1, b1, "out");
    params_add(p, "dec0/W", 2, w2, "out,in");
    params_alloc(p);
}

static Optimizer build_adam(const Params *p) {
    OptimConfig cfg = optim_defaults(OPT_ADAM);
    cfg.lr = 0.01;
    Optimizer opt;
    optim_init(&opt, &cfg, p->total);
    return opt;
}

static const char *SPEC = "version: 1\nmodel:\n  type: autoencoder\n  hidden: [4]\n";

/* Train a few steps so that params, m, v and t all hold non-trivial values. */
static void train_steps(Params *p, Optimizer *opt, int steps, unsigned long long seed) {
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < p->count; i++)
            fill_uniform(params_grad(p, i), p->views[i].size, -1, 1, seed + 13u * (unsigned)s + i);
        optim_step(opt, p->value, p->grad, opt->cfg.lr);
    }
}

typedef struct Extras {
    uint64_t shuffle[4], noise[4];
    float hidden[6];
    double best[1];
    int64_t patience[1];
} Extras;

static void add_extras(CheckpointState *st, Extras *x) {
    ExError err;
    CU_ASSERT(checkpoint_state_add(st, "rng/shuffle", CKPT_U64, 4, x->shuffle, &err) == 0);
    CU_ASSERT(checkpoint_state_add(st, "rng/noise", CKPT_U64, 4, x->noise, &err) == 0);
    CU_ASSERT(checkpoint_state_add(st, "hidden/lstm0", CKPT_F32, 6, x->hidden, &err) == 0);
    CU_ASSERT(checkpoint_state_add(st, "best_val", CKPT_F64, 1, x->best, &err) == 0);
    CU_ASSERT(checkpoint_state_add(st, "patience", CKPT_I64, 1, x->patience, &err) == 0);
}

/* Saves a trained model to name; returns the path (caller frees). */
static char *save_trained(const char *name, Params *p, Optimizer *opt, Extras *x) {
    build_params(p, 4);
    for (int i = 0; i < p->count; i++)
        fill_uniform(params_value(p, i), p->views[i].size, -0.5f, 0.5f, 100 + (unsigned)i);
    *opt = build_adam(p);
    train_steps(p, opt, 5, 1);
    Extras e = {{1, 2, UINT64_MAX, 0x9E3779B97F4A7C15ull}, {5, 6, 7, 8},
                {0.5f, -0.25f, 1e-20f, -0.0f, 3, 4}, {0.125}, {-3}};
    *x = e;
    CheckpointState st = {0};
    st.step = 12000;
    st.epoch = 7;
    st.data_epoch = 8;
    st.data_cursor = 96;
    add_extras(&st, x);
    char *path = path_in(name);
    ExError err = {{0}};
    int rc = checkpoint_save(path, p, opt, &st, SPEC, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_FATAL(rc == 0);
    return path;
}

static void test_checkpoint_round_trip_bit_for_bit(void) {
    Params p;
    Optimizer opt;
    Extras x;
    char *path = save_trained("ckpt_00012000.h5", &p, &opt, &x);

    Params q;
    build_params(&q, 4);
    Optimizer qopt = build_adam(&q);
    Extras y;
    memset(&y, 0xAB, sizeof y);
    CheckpointState st = {0};
    add_extras(&st, &y);
    char *spec = NULL;
    ExError err = {{0}};
    int rc = checkpoint_load(path, &q, &qopt, &st, &spec, &err);
    if (rc) fprintf(stderr, "%s\n", err.msg);
    CU_ASSERT_FATAL(rc == 0);
    CU_ASSERT(memcmp(q.value, p.value, p.total * sizeof(float)) == 0);
    CU_ASSERT(memcmp(qopt.m, opt.m, p.total * sizeof(float)) == 0);
    CU_ASSERT(memcmp(qopt.v, opt.v, p.total * sizeof(float)) == 0);
    CU_ASSERT(qopt.t == 5 && opt.t == 5);
    CU_ASSERT(st.step == 12000 && st.epoch == 7 && st.data_epoch == 8 && st.data_cursor == 96);
    CU_ASSERT(memcmp(&x, &y, sizeof x) == 0);
    CU_ASSERT(spec && strcmp(spec, SPEC) == 0);
    free(spec);

    /* Resuming is exact: one more step from the original and from the loaded copy agree. */
    train_steps(&p, &opt, 1, 999);
    train_steps(&q, &qopt, 1, 999);
    CU_ASSERT(memcmp(q.value, p.value, p.total * sizeof(float)) == 0);

    /* The header and the hash. */
    CheckpointInfo info;
    CU_ASSERT(checkpoint_info(path, &info, &err) == 0);
    char sha[65];
    sha256_hex(sha, SPEC, strlen(SPEC));
    CU_ASSERT(info.format == 1 && info.step == 12000 && info.epoch == 7);
    CU_ASSERT(strcmp(info.spec_sha256, sha) == 0 && strcmp(info.optimizer, "adam") == 0);

    /* The layout, as documented in checkpoint.h. */
    H5Reader *r = NULL;
    CU_ASSERT_FATAL(h5r_open(&r, path, &err) == 0);
    size_t n = 0;
    char **list = NULL;
    CU_ASSERT(h5r_list_datasets(r, "/", &n, &list, &err) == 0);
    const char *want[] = {"/model/dec0/W", "/model/enc0/W", "/model/enc0/b",
                          "/optimizer/m/dec0/W", "/optimizer/m/enc0/W", "/optimizer/m/enc0/b",
                          "/optimizer/v/dec0/W", "/optimizer/v/enc0/W", "/optimizer/v/enc0/b",
                          "/spec", "/state/best_val", "/state/hidden/lstm0", "/state/patience",
                          "/state/rng/noise", "/state/rng/shuffle"};
    CU_ASSERT(n == 15);
    for (size_t i = 0; i < n && i < 15; i++) CU_ASSERT(strcmp(list[i], want[i]) == 0);
    h5r_free_strings(list, n);
    char *s = NULL;
    CU_ASSERT(h5r_attr_str(r, "/model/enc0/W", "layout", &s, &err) == 0 &&
              strcmp(s, "out,in") == 0);
    free(s);
    double lr = 0;
    CU_ASSERT(h5r_attr_double(r, "/optimizer", "lr", &lr, &err) == 0 && lr == 0.01);
    h5r_close(r);

    optim_free(&qopt);
    params_free(&q);
    optim_free(&opt);
    params_free(&p);
    free(path);
}

static void test_checkpoint_mismatches(void) {
    Params p;
    Optimizer opt;
    Extras x;
    char *path = save_trained("ckpt_mismatch.h5", &p, &opt, &x);
    ExError err = {{0}};

    /* A view of another shape: the error names the view and both shapes, and nothing changes. */
    Params q;
    build_params(&q, 5);
    Optimizer qopt = build_adam(&q);
    params_value(&q, 0)[0] = 7.0f;
    CU_ASSERT(checkpoint_load(path, &q, &qopt, NULL, NULL, &err) == -1);
    CU_ASSERT(contains(err.msg, path) && contains(err.msg, "enc0/W"));
    CU_ASSERT(contains(err.msg, "4x3") && contains(err.msg, "5x3"));
    CU_ASSERT(params_value(&q, 0)[0] == 7.0f);
    CU_ASSERT(checkpoint_load_params_only(path, &q, 0, NULL, &err) == -1);
    CU_ASSERT(contains(err.msg, "4x3") && contains(err.msg, "5x3"));
    optim_free(&qopt);
    params_free(&q);

    /* Another optimizer type. */
    build_params(&q, 4);
    OptimConfig sgd = optim_defaults(OPT_SGD);
    sgd.momentum = 0.9;
    optim_init(&qopt, &sgd, q.total);
    CU_ASSERT(checkpoint_load(path, &q, &qopt, NULL, NULL, &err) == -1);
    CU_ASSERT(contains(err.msg, "'adam'") && contains(err.msg, "'sgd'"));
    optim_free(&qopt);

    /* A missing extra, and an extra of the wrong size or kind. */
    qopt = build_adam(&q);
    uint64_t buf[8];
    float fbuf[4];
    CheckpointState st = {0};
    checkpoint_state_add(&st, "rng/other", CKPT_U64, 4, buf, &err);
    CU_ASSERT(checkpoint_load(path, &q, &qopt, &st, NULL, &err) == -1);
    CU_ASSERT(contains(err.msg, "rng/other"));
    memset(&st, 0, sizeof st);
    checkpoint_state_add(&st, "rng/shuffle", CKPT_U64, 8, buf, &err);
    CU_ASSERT(checkpoint_load(path, &q, &qopt, &st, NULL, &err) == -1);
    CU_ASSERT(contains(err.msg, "rng/shuffle") && contains(err.msg, "expected 8"));
    memset(&st, 0, sizeof st);
    checkpoint_state_add(&st, "rng/shuffle", CKPT_F32, 4, fbuf, &err);
    CU_ASSERT(checkpoint_load(path, &q, &qopt, &st, NULL, &err) == -1);
    CU_ASSERT(contains(err.msg, "uint64") && contains(err.msg, "float32"));
    optim_free(&qopt);
    params_free(&q);

    /* A model with one more view (strict: error; fine-tuning may allow it) and one fewer. */
    build_params(&q, 4);
    params_free(&q);
    memset(&q, 0, sizeof q);
    int w1[2] = {4, 3}, b1[1] = {4}, w2[2] = {3, 4}, h[2] = {2, 3};
    params_add(&q, "enc0/W", 2, w1, "out,in");
    params_add(&q, "enc0/b", 1, b1, "out");
    params_add(&q, "dec0/W", 2, w2, "out,in");
    params_add(&q, "head/W", 2, h, "out,in");
    params_alloc(&q);
    params_value(&q, 3)[0] = 42.0f;
    CU_ASSERT(checkpoint_load(path, &q, NULL, NULL, NULL, &err) == -1);
    CU_ASSERT(contains(err.msg, "head/W"));
    CU_ASSERT(checkpoint_load_params_only(path, &q, 1, NULL, &err) == -1);
    CU_ASSERT(contains(err.msg, "head/W"));
    int loaded = -1;
    CU_ASSERT(checkpoint_load_params_only(path, &q, 0, &loaded, &err) == 0);
    CU_ASSERT(loaded == 3);
    CU_ASSERT(memcmp(params_value(&q, 0), params_value(&p, 0), 12 * sizeof(float)) == 0);
    CU_ASSERT(memcmp(params_value(&q, 2), params_value(&p, 2), 12 * sizeof(float)) == 0);
    CU_ASSERT(params_value(&q, 3)[0] == 42.0f);
    params_free(&q);

    memset(&q, 0, sizeof q);
    params_add(&q, "enc0/W", 2, w1, "out,in");
    params_alloc(&q);
    CU_ASSERT(checkpoint_load(path, &q, NULL, NULL, NULL, &err) == -1);
    CU_ASSERT(contains(err.msg, "dec0/W") && contains(err.msg, "does not"));
    CU_ASSERT(checkpoint_load_params_only(path, &q, 1, &loaded, &err) == 0 && loaded == 1);
    params_free(&q);

    optim_free(&opt);
    params_free(&p);
    free(path);
}

/* Files that look like checkpoints but are from a newer format or damaged in the spec. */
static void test_checkpoint_header_checks(void) {
    ExError err = {{0}};
    char *path = path_in("fake_ckpt.h5");
    for (int c = 0; c < 2; c++) {
        H5Doc *doc = h5doc_new();
        h5doc_attr_int(doc, "/", "exprun_format", c == 0 ? 2 : 1);
        h5doc_attr_int(doc, "/", "step", 1);
        h5doc_attr_int(doc, "/", "epoch", 1);
        char zeros[65];
        memset(zeros, '0', 64);
        zeros[64] = '\0';
        h5doc_attr_str(doc, "/", "spec_sha256", zeros);
        h5doc_string(doc, "/spec", "version: 1\n");
        CU_ASSERT_FATAL(h5doc_publish(doc, path, &err) == 0);
        h5doc_free(doc);
        CheckpointInfo info;
        CU_ASSERT(checkpoint_info(path, &info, &err) == -1);
        CU_ASSERT(contains(err.msg, path));
        CU_ASSERT(contains(err.msg, c == 0 ? "newer exprun" : "does not match its spec_sha256"));
    }
    free(path);
}

static void test_checkpoint_sgd_without_state(void) {
    /* SGD without momentum keeps no buffers: no /optimizer/m or /v, and st may be NULL. */
    Params p;
    build_params(&p, 4);
    for (int i = 0; i < p.count; i++)  /* views only: the arena's padding stays zero */
        fill_uniform(params_value(&p, i), p.views[i].size, -1, 1, 5u + (unsigned)i);
    OptimConfig cfg = optim_defaults(OPT_SGD);
    cfg.lr = 0.1;
    Optimizer opt;
    optim_init(&opt, &cfg, p.total);
    train_steps(&p, &opt, 2, 3);
    char *path = path_in("sgd.h5");
    ExError err = {{0}};
    CU_ASSERT_FATAL(checkpoint_save(path, &p, &opt, NULL, NULL, &err) == 0);
    Params q;
    build_params(&q, 4);
    Optimizer qopt;
    optim_init(&qopt, &cfg, q.total);
    CheckpointState st = {0};
    CU_ASSERT(checkpoint_load(path, &q, &qopt, &st, NULL, &err) == 0);
    CU_ASSERT(memcmp(q.value, p.value, p.total * sizeof(float)) == 0 && qopt.t == 2);
    optim_free(&qopt);
    /* Momentum turned on since: the checkpoint lacks the buffers it needs. */
    cfg.momentum = 0.9;
    optim_init(&qopt, &cfg, q.total);
    CU_ASSERT(checkpoint_load(path, &q, &qopt, &st, NULL, &err) == -1);
    CU_ASSERT(contains(err.msg, "/optimizer/m"));
    optim_free(&qopt);
    /* A checkpoint saved without an optimizer cannot resume, only initialise. */
    CU_ASSERT_FATAL(checkpoint_save(path, &p, NULL, NULL, "", &err) == 0);
    optim_init(&qopt, &cfg, q.total);
    CU_ASSERT(checkpoint_load(path, &q, &qopt, NULL, NULL, &err) == -1);
    CU_ASSERT(contains(err.msg, "no optimizer state"));
    CU_ASSERT(checkpoint_load(path, &q, NULL, NULL, NULL, &err) == 0);
    optim_free(&qopt);
    params_free(&q);
    optim_free(&opt);
    params_free(&p);
    free(path);
}

/* --- SHA-256 against FIPS 180-4 examples ------------------------------------------------ */

/* The SHA extensions' rounds against the portable ones: every length from 0 to 300 bytes (the
 * tail of a block, whole blocks, both) and 1 MB fed in uneven pieces, each hashed both ways. */
static void test_sha256_paths_agree(void) {
    enum { BIG = 1 << 20 };
    unsigned char *data = malloc(BIG);
    CU_ASSERT_FATAL(data != NULL);
    uint32_t x = 12345;
    for (size_t i = 0; i < BIG; i++) data[i] = (unsigned char)((x = x * 1103515245u + 12345u) >> 24);
    char fast[65], portable[65];
    for (size_t len = 0; len <= 300; len++) {
        sha256_force_portable(0);
        sha256_hex(fast, data + len, len);
        sha256_force_portable(1);
        sha256_hex(portable, data + len, len);
        CU_ASSERT_STRING_EQUAL(fast, portable);
    }
    for (int way = 0; way < 2; way++) {
        sha256_force_portable(way);
        Sha256 s;
        sha256_init(&s);
        for (size_t at = 0, piece = 1; at < BIG; at += piece, piece = piece * 7 % 4093 + 1)
            sha256_update(&s, data + at, piece < BIG - at ? piece : BIG - at);
        sha256_final_hex(&s, way ? portable : fast);
    }
    CU_ASSERT_STRING_EQUAL(fast, portable);
    sha256_force_portable(0);
    free(data);
}

static void test_sha256_vectors(void) {
    char hex[65];
    sha256_hex(hex, "", 0);
    CU_ASSERT_STRING_EQUAL(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    sha256_hex(hex, "abc", 3);
    CU_ASSERT_STRING_EQUAL(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    sha256_hex(hex, m448, strlen(m448));
    CU_ASSERT_STRING_EQUAL(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    /* One million 'a', fed in uneven pieces to exercise the block buffering. */
    char chunk[997];
    memset(chunk, 'a', sizeof chunk);
    Sha256 s;
    sha256_init(&s);
    size_t left = 1000000;
    for (size_t piece = 1; left > 0; piece = piece % 997 + 1) {
        size_t take = piece < left ? piece : left;
        sha256_update(&s, chunk, take);
        left -= take;
    }
    uint8_t d[32];
    sha256_final(&s, d);
    static const uint8_t want[32] = {0xcd, 0xc7, 0x6e, 0x5c, 0x99, 0x14, 0xfb, 0x92,
                                     0x81, 0xa1, 0xc7, 0xe2, 0x84, 0xd7, 0x3e, 0x67,
                                     0xf1, 0x80, 0x9a, 0x48, 0xa4, 0x97, 0x20, 0x0e,
                                     0x04, 0x6d, 0x39, 0xcc, 0xc7, 0x11, 0x2c, 0xd0};
    CU_ASSERT(memcmp(d, want, 32) == 0);
}

static void test_publish_text(void) {
    ExError err = {{0}};
    char *path = path_in("LATEST");
    CU_ASSERT(publish_text(path, "ckpt_00000100.h5\n", &err) == 0);
    CU_ASSERT(publish_text(path, "ckpt_00000200.h5\n", &err) == 0);
    char buf[64] = {0};
    FILE *f = fopen(path, "r");
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT(fread(buf, 1, sizeof buf - 1, f) == 17);
    fclose(f);
    CU_ASSERT_STRING_EQUAL(buf, "ckpt_00000200.h5\n");
    char *tmp = temp_of(path);
    CU_ASSERT(!file_exists(tmp));
    char *bad = path_in("no/such/dir/LATEST");
    CU_ASSERT(publish_text(bad, "x", &err) == -1 && contains(err.msg, bad));
    /* the temporaries a killed writer leaves, and names that only look like them */
    size_t len = 0;
    CU_ASSERT(publish_is_temp("results.h5.4242.tmp", &len) && len == strlen("results.h5"));
    CU_ASSERT(publish_is_temp("LATEST.7.tmp", &len) && len == strlen("LATEST"));
    CU_ASSERT(!publish_is_temp("results.h5.tmp", NULL));
    CU_ASSERT(!publish_is_temp("notes.12a.tmp", NULL));
    CU_ASSERT(!publish_is_temp(".12.tmp", NULL));
    CU_ASSERT(!publish_is_temp("results.h5.4242.tmpx", NULL));
    free(bad);
    free(tmp);
    free(path);
}

/* --- what a user sees in Python --------------------------------------------------------- */

static int run_checker(const char *file, const char *args) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 '%s/tests/check_results.py' '%s' %s",
             source_dir(), file, args);
    fflush(stdout);
    return run_command(cmd);
}

static void test_python_reads_results(void) {
    if (access("/usr/bin/python3", X_OK) != 0) {
        printf("\n  note: /usr/bin/python3 missing; Python read-back not checked\n");
        return;
    }
    ExError err = {{0}};
    char *path = path_in("metrics.h5");
    H5Doc *doc = full_doc();
    CU_ASSERT_FATAL(h5doc_publish(doc, path, &err) == 0);
    h5doc_free(doc);
    int rc = run_checker(path,
                         "--table /metrics/train --columns step,epoch,loss,lr,nan_count "
                         "--int-columns step,epoch,nan_count --rows 3 "
                         "--value step:2=300 --value loss:1=1.25 --value lr:0=0.001 "
                         "--value nan_count:1=2 --attr status=finished "
                         "--attr 'note=naïve – ü ✓' --attr-int seed=42 "
                         "--obj-attr /data/f:layout=out,in --shape /data/f=2x3 "
                         "--shape /data/scalar=scalar --dtype /data/f=float32 "
                         "--dtype /data/deep/er/u64=uint64");
    if (rc == 3) {
        printf("\n  note: /usr/bin/python3 has no h5py; Python read-back not checked\n");
        free(path);
        return;
    }
    CU_ASSERT(rc == 0);
    /* The checker can fail: a wrong value, a wrong column list, a missing attribute. */
    CU_ASSERT(run_checker(path, "--table /metrics/train --value loss:1=1.5 > /dev/null") == 1);
    CU_ASSERT(run_checker(path, "--table /metrics/train --columns step,loss > /dev/null") == 1);
    CU_ASSERT(run_checker(path, "--attr status=running > /dev/null") == 1);
    CU_ASSERT(run_checker(path, "--table /metrics/train --int-columns step > /dev/null") == 1);

    /* A checkpoint read from Python: shapes, dtypes, the spec text. */
    Params p;
    Optimizer opt;
    Extras x;
    char *ckpt = save_trained("ckpt_py.h5", &p, &opt, &x);
    char args[1024];
    char sha[65];
    sha256_hex(sha, SPEC, strlen(SPEC));
    snprintf(args, sizeof args,
             "--attr-int step=12000 --attr-int exprun_format=1 --attr spec_sha256=%s "
             "--shape /model/enc0/W=4x3 --dtype /model/enc0/W=float32 "
             "--shape /optimizer/m/dec0/W=3x4 --dtype /state/rng/shuffle=uint64 "
             "--obj-attr /optimizer:type=adam --obj-attr /model/enc0/b:layout=out", sha);
    CU_ASSERT(run_checker(ckpt, args) == 0);
    optim_free(&opt);
    params_free(&p);
    free(ckpt);
    free(path);
}

int main(void) {
    tmpdir = make_temp_dir("h5io");
    if (!tmpdir) {
        fprintf(stderr, "cannot make a temporary directory\n");
        return 1;
    }
    static const TestCase cases[] = {
        {"publish and read back every kind of item", test_publish_and_read_all_kinds},
        {"read errors name file, dataset and shapes", test_read_errors_name_everything},
        {"a second publish replaces the first", test_second_publish_replaces_first},
        {"a failed publish leaves nothing behind", test_failed_publish_leaves_nothing},
        {"a write failure keeps the old file", test_write_failure_keeps_old_file},
        {"builder errors fail the publish", test_builder_errors_fail_the_publish},
        {"truncated and garbage files give clear errors", test_truncated_and_garbage_files},
        {"checkpoint round trip is bit for bit", test_checkpoint_round_trip_bit_for_bit},
        {"checkpoint mismatches are named", test_checkpoint_mismatches},
        {"checkpoint header checks", test_checkpoint_header_checks},
        {"checkpoint with sgd and no state", test_checkpoint_sgd_without_state},
        {"sha256 matches FIPS 180-4 examples", test_sha256_vectors},
        {"sha256: the SHA extensions and the portable rounds agree", test_sha256_paths_agree},
        {"publish a text file atomically", test_publish_text},
        {"h5py and pandas read the files", test_python_reads_results},
        {NULL, NULL},
    };
    int rc = run_tests("h5io", cases);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (rc == 0) run_command(cmd);
    free(tmpdir);
    return rc;
}
