/* test_data.c — the data layer: file formats (IDX, CSV, HDF5, text), scaling, splits, the
 * Batcher (coverage, determinism, sharding, checkpoint state), BPTT streams and the generated
 * tasks. Every test makes its own small files in a temporary directory. */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "data/csv.h"
#include "data/dataset.h"
#include "data/h5data.h"
#include "data/idx.h"
#include "data/tasks.h"
#include "data/text.h"
#include "parallel.h"
#include "runcheck.h"
#include "testutil.h"

/* ---- helpers ------------------------------------------------------------------------------------ */

static char *g_dir;

static const char *tmp_path(const char *name) {
    static char buf[8][1024];
    static int slot;
    if (!g_dir) g_dir = make_temp_dir("data");
    char *p = buf[slot++ % 8];
    snprintf(p, sizeof buf[0], "%s/%s", g_dir, name);
    return p;
}

static void write_file(const char *path, const void *data, size_t len) {
    FILE *fp = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    if (len) CU_ASSERT_EQUAL(fwrite(data, 1, len, fp), len);
    fclose(fp);
}

static void write_gz(const char *path, const void *data, size_t len) {
    gzFile gz = gzopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(gz);
    CU_ASSERT_EQUAL(gzwrite(gz, data, (unsigned)len), (int)len);
    gzclose(gz);
}

/* The message must contain every given fragment; print it when it does not. */
static int msg_has(const ExError *err, const char *a, const char *b) {
    int ok = strstr(err->msg, a) != NULL && (!b || strstr(err->msg, b) != NULL);
    if (getenv("TEST_DATA_SHOW")) fprintf(stderr, "\n  [%s]", err->msg); /* to read the messages */
    if (!ok) fprintf(stderr, "\n  message was: %s\n  wanted: '%s'%s%s%s\n", err->msg, a, b ? " and '" : "",
                     b ? b : "", b ? "'" : "");
    return ok;
}

static void put_be32(unsigned char *p, uint32_t v) {
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

/* An IDX3 image file body: n images of rows x cols, pixel (i, k) = (7i + 3k) mod 256. */
static size_t make_idx_images(unsigned char *buf, int n, int rows, int cols) {
    put_be32(buf, 0x00000803);
    put_be32(buf + 4, (uint32_t)n);
    put_be32(buf + 8, (uint32_t)rows);
    put_be32(buf + 12, (uint32_t)cols);
    size_t len = 16;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < rows * cols; k++) buf[len++] = (unsigned char)((7 * i + 3 * k) % 256);
    return len;
}

static size_t make_idx_labels(unsigned char *buf, int n) {
    put_be32(buf, 0x00000801);
    put_be32(buf + 4, (uint32_t)n);
    for (int i = 0; i < n; i++) buf[8 + i] = (unsigned char)((i * 3) % 7);
    return 8 + (size_t)n;
}

static void check_idx_images(const Dataset *ds, int n, int rows, int cols) {
    CU_ASSERT_EQUAL(ds->n, n);
    CU_ASSERT_EQUAL(ds->T, 1);
    CU_ASSERT_EQUAL(ds->d, rows * cols);
    CU_ASSERT_EQUAL(ds->image_rows, rows);
    CU_ASSERT_EQUAL(ds->image_cols, cols);
    CU_ASSERT_PTR_NULL(ds->labels);
    int bad = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < rows * cols; k++)
            if (ds->x[i * rows * cols + k] != (float)((7 * i + 3 * k) % 256)) bad++;
    CU_ASSERT_EQUAL(bad, 0);
}

/* ---- IDX ---------------------------------------------------------------------------------------- */

static void test_idx_roundtrip(void) {
    enum { N = 6, R = 5, C = 7 };
    unsigned char img[16 + N * R * C], lab[8 + N];
    size_t ilen = make_idx_images(img, N, R, C), llen = make_idx_labels(lab, N);
    const char *plain = tmp_path("img-idx3-ubyte"), *gz = tmp_path("img-idx3-ubyte.gz");
    const char *lplain = tmp_path("lab-idx1-ubyte"), *lgz = tmp_path("lab-idx1-ubyte.gz");
    write_file(plain, img, ilen);
    write_gz(gz, img, ilen);
    write_file(lplain, lab, llen);
    write_gz(lgz, lab, llen);
    const char *paths[2] = {plain, gz};
    for (int p = 0; p < 2; p++) {
        Dataset ds;
        ExError err = {{0}};
        int rc = idx_load_images(paths[p], &ds, &err);
        CU_ASSERT_EQUAL_FATAL(rc, 0);
        check_idx_images(&ds, N, R, C);
        CU_ASSERT_PTR_NOT_NULL(strstr(ds.source, "img-idx3"));
        dataset_free(&ds);
    }
    const char *lpaths[2] = {lplain, lgz};
    for (int p = 0; p < 2; p++) {
        int32_t *labels = NULL;
        int n = 0, classes = 0;
        ExError err = {{0}};
        CU_ASSERT_EQUAL_FATAL(idx_load_labels(lpaths[p], &labels, &n, &classes, &err), 0);
        CU_ASSERT_EQUAL(n, N);
        int bad = 0, top = 0;
        for (int i = 0; i < N; i++) {
            if (labels[i] != (i * 3) % 7) bad++;
            if (labels[i] > top) top = labels[i];
        }
        CU_ASSERT_EQUAL(bad, 0);
        CU_ASSERT_EQUAL(classes, top + 1);
        free(labels);
    }
    Dataset both;
    ExError err = {{0}};
    CU_ASSERT_EQUAL_FATAL(idx_load(gz, lplain, &both, &err), 0);
    CU_ASSERT_PTR_NOT_NULL(both.labels);
    CU_ASSERT_EQUAL(both.labels[2], 6);
    CU_ASSERT_EQUAL(both.num_classes, 7);
    dataset_free(&both);
    CU_ASSERT_EQUAL_FATAL(idx_load(plain, NULL, &both, &err), 0);
    CU_ASSERT_PTR_NULL(both.labels);
    check_idx_images(&both, N, R, C);
    dataset_free(&both);
}

/* Load path as IDX images (want_labels: labels) in a child limited to 1 GiB of address space
 * (not under ASan or valgrind, which reserve more themselves): 0 if the load failed with an
 * error holding `want`, 1 if it failed otherwise or succeeded, 128 + signal if it died (an
 * abort on a huge allocation). */
static int load_limited(const char *path, int want_labels, const char *want) {
    fflush(stdout), fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        int sanitized = 0;
#ifdef __SANITIZE_ADDRESS__
        sanitized = 1;
#endif
        const char *preload = getenv("LD_PRELOAD");
        if (!sanitized && !(preload && strstr(preload, "vgpreload"))) {
            struct rlimit lim = {(rlim_t)1 << 30, (rlim_t)1 << 30};
            setrlimit(RLIMIT_AS, &lim);
        }
        alarm(20);   /* a read that hangs (a pipe opened twice) ends the child */
        ExError err = {{0}};
        Dataset ds;
        int32_t *labels = NULL;
        int n, k;
        int rc = want_labels ? idx_load_labels(path, &labels, &n, &k, &err) : idx_load_images(path, &ds, &err);
        if (rc == 0 && !want) _exit(0);
        if (rc == 0) _exit(1);
        if (!msg_has(&err, want, NULL)) _exit(1);
        _exit(0);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Headers that promise more than the file holds: refused from the file's size (plain) or from
 * what the stream holds (gzip), before any allocation of the promised size. */
static void test_idx_lying_headers(void) {
    unsigned char file[656];
    memset(file, 7, sizeof file);
    put_be32(file, 0x00000803);
    put_be32(file + 4, 1);
    put_be32(file + 8, 65536);
    put_be32(file + 12, 65536);   /* 1 x 65536 x 65536: 4 GiB of pixels, 16 GiB as floats */
    const char *plain = tmp_path("huge-idx3"), *gz = tmp_path("huge-idx3.gz");
    write_file(plain, file, sizeof file);
    write_gz(gz, file, sizeof file);
    CU_ASSERT_EQUAL(load_limited(plain, 0, "truncated: expected 4294967296 bytes of pixels"), 0);
    CU_ASSERT_EQUAL(load_limited(gz, 0, "truncated: expected 4294967296 bytes of pixels"), 0);
    unsigned char lab[100];
    memset(lab, 1, sizeof lab);
    put_be32(lab, 0x00000801);
    put_be32(lab + 4, 0x7fffffff);   /* 2^31 − 1 labels */
    const char *lplain = tmp_path("huge-idx1"), *lgz = tmp_path("huge-idx1.gz");
    write_file(lplain, lab, sizeof lab);
    write_gz(lgz, lab, sizeof lab);
    CU_ASSERT_EQUAL(load_limited(lplain, 1, "truncated: expected 2147483647 bytes of labels"), 0);
    CU_ASSERT_EQUAL(load_limited(lgz, 1, "truncated: expected 2147483647 bytes of labels"), 0);
}

/* IDX from a named pipe, plain and gzip-compressed: read once, as it streams. */
static void test_idx_pipe(void) {
    enum { N = 4, R = 3, C = 5 };
    unsigned char img[16 + N * R * C];
    size_t len = make_idx_images(img, N, R, C);
    const char *fifo = tmp_path("images.fifo");
    for (int zipped = 0; zipped < 2; zipped++) {
        unlink(fifo);
        CU_ASSERT_FATAL(mkfifo(fifo, 0600) == 0);
        fflush(stdout), fflush(stderr);
        pid_t writer = fork();
        if (writer == 0) {
            if (zipped) {
                gzFile gz = gzopen(fifo, "wb");
                gzwrite(gz, img, (unsigned)len);
                gzclose(gz);
            } else {
                FILE *fp = fopen(fifo, "wb");
                fwrite(img, 1, len, fp);
                fclose(fp);
            }
            _exit(0);
        }
        CU_ASSERT_EQUAL(load_limited(fifo, 0, NULL), 0);   /* loads (before: hung on the second open) */
        kill(writer, SIGKILL);
        waitpid(writer, NULL, 0);
    }
    unlink(fifo);
}

static void test_idx_errors(void) {
    enum { N = 5, R = 3, C = 4 };
    unsigned char img[16 + N * R * C], lab[8 + N];
    size_t ilen = make_idx_images(img, N, R, C), llen = make_idx_labels(lab, N);
    Dataset ds;
    ExError err = {{0}};

    /* Truncated pixels, plain: the header promises 60 bytes of pixels, 10 follow. */
    const char *trunc = tmp_path("trunc-idx3-ubyte");
    write_file(trunc, img, 16 + 10);
    CU_ASSERT_EQUAL(idx_load_images(trunc, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "trunc-idx3-ubyte: truncated: expected 60 bytes of pixels", "got 10"));

    /* Truncated, gzipped: a complete gzip stream of a short file. */
    const char *truncgz = tmp_path("trunc.gz");
    write_gz(truncgz, img, 16 + 10);
    CU_ASSERT_EQUAL(idx_load_images(truncgz, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "truncated: expected 60 bytes of pixels", "got 10"));

    /* A gzip file cut in the middle of its stream. */
    const char *full = tmp_path("full.gz"), *cut = tmp_path("cut.gz");
    unsigned char big[16 + 50 * 20 * 20];
    size_t blen = make_idx_images(big, 50, 20, 20);
    write_gz(full, big, blen);
    FILE *fp = fopen(full, "rb");
    unsigned char gzbytes[40000];
    size_t gzlen = fread(gzbytes, 1, sizeof gzbytes, fp);
    fclose(fp);
    write_file(cut, gzbytes, gzlen / 2);
    CU_ASSERT_EQUAL(idx_load_images(cut, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "cut.gz", "truncated"));

    /* Corrupt gzip: the payload bytes flipped. */
    const char *bad = tmp_path("bad.gz");
    for (size_t i = 20; i < gzlen - 8; i++) gzbytes[i] ^= 0x5a;
    write_file(bad, gzbytes, gzlen);
    CU_ASSERT_EQUAL(idx_load_images(bad, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "bad.gz", NULL));

    /* Bad magic. */
    unsigned char junk[64];
    memcpy(junk, img, sizeof junk);
    junk[0] = 0x12;
    junk[1] = 0x34;
    const char *magic = tmp_path("magic-idx3");
    write_file(magic, junk, sizeof junk);
    CU_ASSERT_EQUAL(idx_load_images(magic, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "magic-idx3: bad magic 0x1234", "not an IDX file"));

    /* Unsupported element type (0x0D = float). */
    memcpy(junk, img, sizeof junk);
    junk[2] = 0x0D;
    write_file(magic, junk, sizeof junk);
    CU_ASSERT_EQUAL(idx_load_images(magic, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "element type 0x0d", NULL));

    /* A label file given as images, and images as labels. */
    const char *labels = tmp_path("labels-idx1");
    write_file(labels, lab, llen);
    CU_ASSERT_EQUAL(idx_load_images(labels, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "1 dimensions, expected 3", "label file"));
    const char *images = tmp_path("images-idx3");
    write_file(images, img, ilen);
    int32_t *lp = NULL;
    int n, k;
    CU_ASSERT_EQUAL(idx_load_labels(images, &lp, &n, &k, &err), -1);
    CU_ASSERT(msg_has(&err, "3 dimensions, expected 1", "image file"));

    /* Truncated labels, trailing bytes, tiny file, zero samples, missing file. */
    const char *tl = tmp_path("tl-idx1");
    write_file(tl, lab, llen - 2);
    CU_ASSERT_EQUAL(idx_load_labels(tl, &lp, &n, &k, &err), -1);
    CU_ASSERT(msg_has(&err, "truncated: expected 5 bytes of labels", "got 3"));
    unsigned char longer[16 + N * R * C + 3];
    memcpy(longer, img, ilen);
    memset(longer + ilen, 1, 3);
    const char *trail = tmp_path("trail-idx3");
    write_file(trail, longer, sizeof longer);
    CU_ASSERT_EQUAL(idx_load_images(trail, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "3 bytes after the data", NULL));
    const char *tiny = tmp_path("tiny");
    write_file(tiny, img, 2);
    CU_ASSERT_EQUAL(idx_load_images(tiny, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "tiny: truncated", "4-byte IDX magic"));
    unsigned char zero[16];
    memcpy(zero, img, 16);
    put_be32(zero + 4, 0);
    write_file(tiny, zero, 16);
    CU_ASSERT_EQUAL(idx_load_images(tiny, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "0 samples", NULL));
    CU_ASSERT_EQUAL(idx_load_images(tmp_path("no-such-file.gz"), &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "no-such-file.gz: cannot open", "No such file"));

    /* Images and labels of different splits. */
    unsigned char lab4[8 + 4];
    size_t l4 = make_idx_labels(lab4, 4);
    const char *short_labels = tmp_path("lab4-idx1");
    write_file(short_labels, lab4, l4);
    CU_ASSERT_EQUAL(idx_load(images, short_labels, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "4 labels", "5 images"));
    CU_ASSERT_PTR_NULL(ds.x);
}

/* The real Fashion-MNIST test split (the Debian package), when installed. */
static void test_idx_fashion_mnist(void) {
    const char *images = "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz";
    const char *labels = "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz";
    if (access(images, R_OK) != 0 || access(labels, R_OK) != 0) {
        fprintf(stderr, "  (skipped: %s not installed)\n", images);
        return;
    }
    Dataset ds;
    ExError err = {{0}};
    CU_ASSERT_EQUAL_FATAL(idx_load(images, labels, &ds, &err), 0);
    CU_ASSERT_EQUAL(ds.n, 10000);
    CU_ASSERT_EQUAL(ds.d, 784);
    CU_ASSERT_EQUAL(ds.image_rows, 28);
    CU_ASSERT_EQUAL(ds.image_cols, 28);
    CU_ASSERT_EQUAL(ds.num_classes, 10);
    int count[10] = {0};
    for (int i = 0; i < ds.n; i++) count[ds.labels[i]]++;
    for (int c = 0; c < 10; c++) CU_ASSERT_EQUAL(count[c], 1000); /* the test split is balanced */
    float lo = 255, hi = 0;
    for (size_t i = 0; i < (size_t)ds.n * 784; i++) {
        if (ds.x[i] < lo) lo = ds.x[i];
        if (ds.x[i] > hi) hi = ds.x[i];
    }
    CU_ASSERT_EQUAL(lo, 0.0f);
    CU_ASSERT_EQUAL(hi, 255.0f);
    dataset_free(&ds);
}

/* ---- CSV ---------------------------------------------------------------------------------------- */

static void test_csv_good(void) {
    const char *path = tmp_path("good.csv");
    /* BOM, CRLF, a quoted field with the delimiter inside, a blank line, a name column. */
    rc_write_text(path, "\xEF\xBB\xBF" "name,a,b,class\r\n"
                     "\"x, y\",1.5,-2,0\r\n"
                     "\r\n"
                     "z, 3 ,4e1,2\r\n"
                     "w,5,6,1\n");
    CsvOptions opt = {.header = 1, .label_column = "class"};
    Dataset ds;
    ExError err = {{0}};
    CU_ASSERT_EQUAL_FATAL(csv_load(path, &opt, &ds, &err), 0);
    CU_ASSERT_EQUAL(ds.n, 3);
    CU_ASSERT_EQUAL(ds.T, 1);
    CU_ASSERT_EQUAL(ds.d, 2); /* "name" is not numeric, "class" is the label */
    float want[6] = {1.5f, -2.0f, 3.0f, 40.0f, 5.0f, 6.0f};
    for (int i = 0; i < 6; i++) CU_ASSERT_EQUAL(ds.x[i], want[i]);
    CU_ASSERT_PTR_NOT_NULL_FATAL(ds.labels);
    CU_ASSERT_EQUAL(ds.labels[0], 0);
    CU_ASSERT_EQUAL(ds.labels[1], 2);
    CU_ASSERT_EQUAL(ds.labels[2], 1);
    CU_ASSERT_EQUAL(ds.num_classes, 3);
    dataset_free(&ds);

    /* Chosen columns, by name and by index, in the order given; no labels. */
    const char *cols[] = {"b", "1"};
    CsvOptions pick = {.header = 1, .columns = cols, .n_columns = 2};
    CU_ASSERT_EQUAL_FATAL(csv_load(path, &pick, &ds, &err), 0);
    CU_ASSERT_EQUAL(ds.d, 2);
    CU_ASSERT_PTR_NULL(ds.labels);
    CU_ASSERT_EQUAL(ds.x[0], -2.0f);
    CU_ASSERT_EQUAL(ds.x[1], 1.5f);
    dataset_free(&ds);

    /* No header, another delimiter, label by index. */
    const char *semi = tmp_path("semi.csv");
    rc_write_text(semi, "1;2;3\n4;5;6\n");
    CsvOptions plain = {.header = 0, .delimiter = ';', .label_column = "0"};
    CU_ASSERT_EQUAL_FATAL(csv_load(semi, &plain, &ds, &err), 0);
    CU_ASSERT_EQUAL(ds.n, 2);
    CU_ASSERT_EQUAL(ds.d, 2);
    CU_ASSERT_EQUAL(ds.x[3], 6.0f);
    CU_ASSERT_EQUAL(ds.labels[1], 4);
    CU_ASSERT_EQUAL(ds.num_classes, 5);
    dataset_free(&ds);
}

static void test_csv_errors(void) {
    Dataset ds;
    ExError err = {{0}};
    CsvOptions opt = {.header = 1};

    const char *ragged = tmp_path("ragged.csv");
    rc_write_text(ragged, "a,b,c\n1,2,3\n4,5\n");
    CU_ASSERT_EQUAL(csv_load(ragged, &opt, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "ragged.csv:3:", "2 fields, expected 3"));

    const char *word = tmp_path("word.csv");
    rc_write_text(word, "a,b\n1,2\n\n3,oops\n");
    CU_ASSERT_EQUAL(csv_load(word, &opt, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "word.csv:4: column 'b'", "not a number: 'oops'"));

    /* A bad cell in the first data row does not make its column text: a column is numbers in
     * every row or left out, so 'nan', 'foo' or an overflow above numbers is the cell named. */
    const char *bad_first[] = {"nan", "foo", "1e999"};
    for (int k = 0; k < 3; k++) {
        char text[200];
        snprintf(text, sizeof text, "name,a,b,c\nx,1,%s,3\ny,4,5,6\nz,7,8,9\n", bad_first[k]);
        const char *first = tmp_path("first.csv");
        rc_write_text(first, text);
        CU_ASSERT_EQUAL(csv_load(first, &opt, &ds, &err), -1);
        char want[80];
        snprintf(want, sizeof want, "first.csv:2: column 'b': '%s' is not a number", bad_first[k]);
        CU_ASSERT(msg_has(&err, want, "line 3"));
    }
    /* A column of text in every row (the name) is still left out. */
    const char *named = tmp_path("named.csv");
    rc_write_text(named, "name,a,b\nx,1,2\ny,3,4\n");
    CU_ASSERT_EQUAL_FATAL(csv_load(named, &opt, &ds, &err), 0);
    CU_ASSERT(ds.n == 2 && ds.d == 2 && ds.x[3] == 4.0f);
    dataset_free(&ds);

    /* Line ends LF, CR LF and a lone CR all end a row. */
    const char *cr = tmp_path("cr.csv");
    rc_write_text(cr, "a,b\r1,2\r3,4\r\n5,6\n");
    CU_ASSERT_EQUAL_FATAL(csv_load(cr, &opt, &ds, &err), 0);
    CU_ASSERT(ds.n == 3 && ds.d == 2 && ds.x[4] == 5.0f);
    dataset_free(&ds);

    const char *hole = tmp_path("hole.csv");
    rc_write_text(hole, "a,b\n1,\n");
    CU_ASSERT_EQUAL(csv_load(hole, &opt, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "hole.csv:2: column 'b'", "empty cell"));

    const char *empty = tmp_path("empty.csv");
    rc_write_text(empty, "");
    CU_ASSERT_EQUAL(csv_load(empty, &opt, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "empty.csv", "empty file"));

    const char *only = tmp_path("only.csv");
    rc_write_text(only, "a,b\n\n");
    CU_ASSERT_EQUAL(csv_load(only, &opt, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "only.csv", "no data rows"));

    const char *good = tmp_path("ok.csv");
    rc_write_text(good, "a,b,label\n1,2,0\n3,4,1.5\n");
    CsvOptions lab = {.header = 1, .label_column = "lable"};
    CU_ASSERT_EQUAL(csv_load(good, &lab, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "no column 'lable'", "columns are: a, b, label"));
    lab.label_column = "label";
    CU_ASSERT_EQUAL(csv_load(good, &lab, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "ok.csv:3: label column 'label'", "'1.5' is not a class id"));
    lab.label_column = "7";
    CU_ASSERT_EQUAL(csv_load(good, &lab, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "index 7 is out of range", NULL));

    const char *quote = tmp_path("quote.csv");
    rc_write_text(quote, "a,b\n\"1,2\n");
    CU_ASSERT_EQUAL(csv_load(quote, &opt, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "quote.csv:2:", "unterminated"));

    CU_ASSERT_EQUAL(csv_load(tmp_path("absent.csv"), &opt, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "absent.csv: cannot open", NULL));
}

static void test_csv_series(void) {
    const char *path = tmp_path("stocks.csv");
    rc_write_text(path, "symbol,date,price\n"
                     "MSFT,Jan 1 2000,39.81\n"
                     "MSFT,Feb 1 2000,36.35\n"
                     "AMZN,Jan 1 2000,64.56\n"
                     "AMZN,Feb 1 2000,68.87\n"
                     "AMZN,Mar 1 2000,67\n"
                     "IBM,Jan 1 2000,100.52\n");
    CsvSeries s;
    ExError err = {{0}};
    CU_ASSERT_EQUAL_FATAL(csv_load_series(path, "date", "price", "symbol", "AMZN", &s, &err), 0);
    CU_ASSERT_EQUAL(s.n, 3);
    CU_ASSERT_STRING_EQUAL(s.dates[0], "Jan 1 2000");
    CU_ASSERT_STRING_EQUAL(s.dates[2], "Mar 1 2000");
    CU_ASSERT_EQUAL(s.values[1], 68.87f);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.source, "symbol = AMZN"));
    csv_series_free(&s);

    CU_ASSERT_EQUAL(csv_load_series(path, "date", "price", "symbol", "AAPL", &s, &err), -1);
    CU_ASSERT(msg_has(&err, "no rows with symbol = 'AAPL'", "values present: MSFT AMZN IBM"));
    CU_ASSERT_EQUAL(csv_load_series(path, "day", "price", NULL, NULL, &s, &err), -1);
    CU_ASSERT(msg_has(&err, "no column 'day'", NULL));

    const char *sp = tmp_path("sp500.csv");
    rc_write_text(sp, "date,price\nJan 1 2000,1394.46\nFeb 1 2000,1366.42\nMar 1 2000,1498.58\n"
                   "Apr 1 2000,1452.43\nMay 1 2000,1420.6\n");
    CU_ASSERT_EQUAL_FATAL(csv_load_series(sp, "date", "price", NULL, NULL, &s, &err), 0);
    CU_ASSERT_EQUAL(s.n, 5);

    /* Windows of 2: x = (v_i, v_{i+1}), y = v_{i+2}; per step: y = (v_{i+1}, v_{i+2}). */
    Dataset w;
    CU_ASSERT_EQUAL_FATAL(series_windows(s.values, s.n, 2, 0, s.source, &w, &err), 0);
    CU_ASSERT_EQUAL(w.n, 3);
    CU_ASSERT_EQUAL(w.T, 2);
    CU_ASSERT_EQUAL(w.d, 1);
    CU_ASSERT_EQUAL(w.Ty, 1);
    CU_ASSERT_EQUAL(w.x[2 * 1 + 0], s.values[1]);
    CU_ASSERT_EQUAL(w.x[2 * 1 + 1], s.values[2]);
    CU_ASSERT_EQUAL(w.y[1], s.values[3]);
    CU_ASSERT_EQUAL(w.y[2], s.values[4]);
    dataset_free(&w);
    CU_ASSERT_EQUAL_FATAL(series_windows(s.values, s.n, 2, 1, s.source, &w, &err), 0);
    CU_ASSERT_EQUAL(w.Ty, 2);
    CU_ASSERT_EQUAL(w.y[2 * 2 + 0], s.values[3]);
    CU_ASSERT_EQUAL(w.y[2 * 2 + 1], s.values[4]);
    dataset_free(&w);
    CU_ASSERT_EQUAL(series_windows(s.values, s.n, 5, 0, s.source, &w, &err), -1);
    CU_ASSERT(msg_has(&err, "too short", NULL));
    csv_series_free(&s);
}

/* ---- HDF5 --------------------------------------------------------------------------------------- */

static void h5_write(hid_t file, const char *name, hid_t type, int rank, const hsize_t *dims, const void *data) {
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t ds = H5Dcreate2(file, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT_FATAL(ds >= 0);
    CU_ASSERT(H5Dwrite(ds, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(ds);
    H5Sclose(space);
}

static void test_h5data(void) {
    const char *path = tmp_path("data.h5");
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT_FATAL(file >= 0);
    double x2[4][3];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++) x2[i][j] = i * 10 + j + 0.25;
    hsize_t d2[2] = {4, 3};
    h5_write(file, "x", H5T_NATIVE_DOUBLE, 2, d2, x2);
    int16_t x3[2][3][2];
    for (int i = 0; i < 12; i++) ((int16_t *)x3)[i] = (int16_t)(i - 5);
    hsize_t d3[3] = {2, 3, 2};
    H5Gclose(H5Gcreate2(file, "seq", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    h5_write(file, "seq/x", H5T_NATIVE_SHORT, 3, d3, x3);
    int64_t labels[4] = {2, 0, 4, 1};
    hsize_t d1[1] = {4};
    h5_write(file, "labels", H5T_NATIVE_INT64, 1, d1, labels);
    int32_t bad_labels[4] = {0, -1, 2, 3};
    h5_write(file, "bad_labels", H5T_NATIVE_INT32, 1, d1, bad_labels);
    float flabels[4] = {0, 1, 2, 3};
    h5_write(file, "float_labels", H5T_NATIVE_FLOAT, 1, d1, flabels);
    int64_t huge_labels[4] = {0, (int64_t)1 << 40, 2, 3};   /* as int32: clamped silently, before */
    h5_write(file, "huge_labels", H5T_NATIVE_INT64, 1, d1, huge_labels);
    int32_t max_labels[4] = {0, 1, 2147483647, 3};          /* top + 1 overflowed, before */
    h5_write(file, "max_labels", H5T_NATIVE_INT32, 1, d1, max_labels);
    int32_t many_labels[4] = {0, 1, 5000000, 3};            /* a 5M-class head, before */
    h5_write(file, "many_labels", H5T_NATIVE_INT32, 1, d1, many_labels);
    int32_t short_labels[3] = {0, 1, 2};
    hsize_t d13[1] = {3};
    h5_write(file, "short_labels", H5T_NATIVE_INT32, 1, d13, short_labels);
    h5_write(file, "flat", H5T_NATIVE_INT32, 1, d13, short_labels);
    H5Fclose(file);

    Dataset ds;
    ExError err = {{0}};
    CU_ASSERT_EQUAL_FATAL(h5data_load(path, "x", "labels", &ds, &err), 0);
    CU_ASSERT_EQUAL(ds.n, 4);
    CU_ASSERT_EQUAL(ds.T, 1);
    CU_ASSERT_EQUAL(ds.d, 3);
    CU_ASSERT_EQUAL(ds.x[2 * 3 + 1], 21.25f);
    CU_ASSERT_EQUAL(ds.labels[2], 4);
    CU_ASSERT_EQUAL(ds.num_classes, 5);
    dataset_free(&ds);

    CU_ASSERT_EQUAL_FATAL(h5data_load(path, "/seq/x", NULL, &ds, &err), 0);
    CU_ASSERT_EQUAL(ds.n, 2);
    CU_ASSERT_EQUAL(ds.T, 3);
    CU_ASSERT_EQUAL(ds.d, 2);
    CU_ASSERT_EQUAL(ds.x[0], -5.0f);
    CU_ASSERT_EQUAL(ds.x[11], 6.0f);
    CU_ASSERT_PTR_NULL(ds.labels);
    dataset_free(&ds);

    CU_ASSERT_EQUAL(h5data_load(path, "images", NULL, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "data.h5: no dataset 'images'", "labels"));
    CU_ASSERT_EQUAL(h5data_load(path, "nope/x", NULL, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "no dataset 'nope/x'", NULL));
    CU_ASSERT_EQUAL(h5data_load(path, "seq", NULL, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "'seq' exists but is not a dataset", NULL));
    CU_ASSERT_EQUAL(h5data_load(path, "flat", NULL, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "'flat' has rank 1, expected 2 to 3", NULL));
    CU_ASSERT_EQUAL(h5data_load(path, "x", "short_labels", &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "3 entries but x has 4 samples", NULL));
    CU_ASSERT_PTR_NULL(ds.x);
    CU_ASSERT_EQUAL(h5data_load(path, "x", "bad_labels", &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "holds -1 at index 1", NULL));
    CU_ASSERT_EQUAL(h5data_load(path, "x", "huge_labels", &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "data.h5: labels dataset 'huge_labels' holds 1099511627776 at index 1", "[0, 1000000]"));
    CU_ASSERT_EQUAL(h5data_load(path, "x", "max_labels", &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "data.h5: labels dataset 'max_labels' holds 2147483647 at index 2", NULL));
    CU_ASSERT_EQUAL(h5data_load(path, "x", "many_labels", &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "data.h5: labels dataset 'many_labels' holds 5000000 at index 2", NULL));
    CU_ASSERT_EQUAL(h5data_load(path, "x", "float_labels", &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "holds floats", NULL));
    CU_ASSERT_EQUAL(h5data_load(tmp_path("missing.h5"), "x", NULL, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "missing.h5: cannot open", NULL));
    const char *text = tmp_path("text.h5");
    rc_write_text(text, "not hdf5 at all\n");
    CU_ASSERT_EQUAL(h5data_load(text, "x", NULL, &ds, &err), -1);
    CU_ASSERT(msg_has(&err, "text.h5: not an HDF5 file", NULL));

    /* HDF5's automatic error printing is back as it was. */
    H5E_auto2_t func = NULL;
    void *data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &func, &data);
    CU_ASSERT_PTR_NOT_NULL(func);
}

/* ---- dataset operations ------------------------------------------------------------------------- */

/* n rows, T = 2, d = 3, with every field present and row i's values encoding i. */
static Dataset make_full(int n) {
    Dataset ds = {0};
    snprintf(ds.source, sizeof ds.source, "full");
    ds.n = n;
    ds.T = 2;
    ds.d = 3;
    ds.Ty = 2;
    ds.dy = 1;
    ds.vocab = 1000;
    ds.num_classes = n;
    ds.x = ex_malloc((size_t)n * 6 * sizeof(float));
    ds.x_tokens = ex_malloc((size_t)n * 2 * sizeof(int32_t));
    ds.labels = ex_malloc((size_t)n * sizeof(int32_t));
    ds.y = ex_malloc((size_t)n * 2 * sizeof(float));
    ds.y_tokens = ex_malloc((size_t)n * 2 * sizeof(int32_t));
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < 6; k++) ds.x[i * 6 + k] = (float)(i * 10 + k);
        for (int k = 0; k < 2; k++) {
            ds.x_tokens[i * 2 + k] = i * 2 + k;
            ds.y[i * 2 + k] = (float)(-i - k);
            ds.y_tokens[i * 2 + k] = i + 100 * k;
        }
        ds.labels[i] = i;
    }
    return ds;
}

static void test_slice_gather(void) {
    Dataset all = make_full(7);
    int32_t rows[3] = {5, 0, 5};
    Dataset s = dataset_slice(&all, rows, 3);
    CU_ASSERT_EQUAL(s.n, 3);
    CU_ASSERT_EQUAL(s.T, 2);
    CU_ASSERT_EQUAL(s.d, 3);
    CU_ASSERT_EQUAL(s.vocab, 1000);
    CU_ASSERT_EQUAL(s.x[0], 50.0f);
    CU_ASSERT_EQUAL(s.x[6 + 5], 5.0f);
    CU_ASSERT_EQUAL(s.x_tokens[2 * 2 + 1], 11);
    CU_ASSERT_EQUAL(s.labels[1], 0);
    CU_ASSERT_EQUAL(s.y[1], -6.0f);
    CU_ASSERT_EQUAL(s.y_tokens[1], 105);
    CU_ASSERT_NOT_EQUAL(s.x, all.x);
    dataset_free(&s);
    Dataset head = dataset_slice(&all, NULL, 2);
    CU_ASSERT_EQUAL(head.n, 2);
    CU_ASSERT_EQUAL(head.labels[1], 1);
    dataset_free(&head);

    float x[3 * 6], y[3 * 2];
    int32_t xt[3 * 2], lab[3], yt[3 * 2];
    dataset_gather(&all, rows, 3, x, xt, lab, y, yt);
    CU_ASSERT_EQUAL(x[6 + 1], 1.0f);
    CU_ASSERT_EQUAL(x[12 + 2], 52.0f);
    CU_ASSERT_EQUAL(xt[0], 10);
    CU_ASSERT_EQUAL(lab[2], 5);
    CU_ASSERT_EQUAL(y[3], -1.0f);
    CU_ASSERT_EQUAL(yt[5], 105);
    dataset_gather(&all, rows, 3, NULL, NULL, lab, NULL, NULL); /* only what is asked for */
    CU_ASSERT_EQUAL(lab[0], 5);
    /* shared between two threads (a big batch is), the same copy */
    float x2[3 * 6], y2[3 * 2];
    int32_t xt2[3 * 2], lab2[3], yt2[3 * 2];
    memset(x2, 0xff, sizeof x2), memset(y2, 0xff, sizeof y2), memset(xt2, 0xff, sizeof xt2);
    memset(lab2, 0xff, sizeof lab2), memset(yt2, 0xff, sizeof yt2);
    par_set_threads(2);
    par_set_min_flops(0.0);
    dataset_gather(&all, rows, 3, x2, xt2, lab2, y2, yt2);
    par_set_min_flops(PAR_MIN_FLOPS);
    CU_ASSERT(memcmp(x, x2, sizeof x) == 0 && memcmp(y, y2, sizeof y) == 0);
    CU_ASSERT(memcmp(xt, xt2, sizeof xt) == 0 && memcmp(yt, yt2, sizeof yt) == 0);
    CU_ASSERT(memcmp(lab, lab2, sizeof lab) == 0);
    dataset_free(&all);
    CU_ASSERT_PTR_NULL(all.x);
}

static void test_split(void) {
    Dataset all = make_full(10);
    Dataset tr, va, tr2, va2;
    Rng rng = rng_stream(7, "split"), rng2 = rng_stream(7, "split");
    dataset_split(&all, 0.3, &rng, &tr, &va);
    dataset_split(&all, 0.3, &rng2, &tr2, &va2);
    CU_ASSERT_EQUAL(tr.n, 7);
    CU_ASSERT_EQUAL(va.n, 3);
    int seen[10] = {0};
    for (int i = 0; i < tr.n; i++) seen[tr.labels[i]]++;
    for (int i = 0; i < va.n; i++) seen[va.labels[i]]++;
    for (int i = 0; i < 10; i++) CU_ASSERT_EQUAL(seen[i], 1);
    for (int i = 1; i < tr.n; i++) CU_ASSERT(tr.labels[i] > tr.labels[i - 1]); /* order kept */
    for (int i = 0; i < tr.n; i++) CU_ASSERT_EQUAL(tr.x[i * 6], (float)(tr.labels[i] * 10));
    CU_ASSERT_EQUAL(memcmp(tr.labels, tr2.labels, 7 * sizeof(int32_t)), 0); /* same seed, same split */
    CU_ASSERT_EQUAL(memcmp(va.labels, va2.labels, 3 * sizeof(int32_t)), 0);
    /* Some seed gives another split (the split really is random). */
    int differs = 0;
    for (uint64_t seed = 8; seed < 12 && !differs; seed++) {
        Rng r = rng_stream(seed, "split");
        Dataset t3, v3;
        dataset_split(&all, 0.3, &r, &t3, &v3);
        differs = memcmp(va.labels, v3.labels, 3 * sizeof(int32_t)) != 0;
        dataset_free(&t3);
        dataset_free(&v3);
    }
    CU_ASSERT(differs);
    /* the moving split: the same two parts, every array, with `all` consumed (none, some and
     * every row to validation) */
    const double fractions[] = {0.3, 0.0, 1.0, 0.55};
    for (int f = 0; f < 4; f++) {
        Dataset copy = dataset_slice(&all, NULL, all.n), mt, mv, ct, cv;
        Rng a = rng_stream(7, "split"), b = rng_stream(7, "split");
        dataset_split(&all, fractions[f], &a, &ct, &cv);
        dataset_split_moving(&copy, fractions[f], &b, &mt, &mv);
        CU_ASSERT_PTR_NULL(copy.x);
        CU_ASSERT_EQUAL(copy.n, 0);
        const Dataset *got[2] = {&mt, &mv}, *want[2] = {&ct, &cv};
        for (int k = 0; k < 2; k++) {
            const Dataset *g = got[k], *w = want[k];
            CU_ASSERT_EQUAL_FATAL(g->n, w->n);
            size_t n = (size_t)w->n;
            if (n == 0) continue;   /* (an empty part's arrays may be NULL) */
            CU_ASSERT(memcmp(g->x, w->x, n * w->T * w->d * sizeof(float)) == 0);
            CU_ASSERT(memcmp(g->x_tokens, w->x_tokens, n * w->T * sizeof(int32_t)) == 0);
            CU_ASSERT(memcmp(g->labels, w->labels, n * sizeof(int32_t)) == 0);
            CU_ASSERT(memcmp(g->y, w->y, n * w->Ty * w->dy * sizeof(float)) == 0);
            CU_ASSERT(memcmp(g->y_tokens, w->y_tokens, n * w->Ty * sizeof(int32_t)) == 0);
        }
        dataset_free(&mt), dataset_free(&mv), dataset_free(&ct), dataset_free(&cv);
    }
    dataset_free(&tr);
    dataset_free(&va);
    dataset_free(&tr2);
    dataset_free(&va2);

    dataset_split(&all, 0.0, &rng, &tr, &va);
    CU_ASSERT_EQUAL(tr.n, 10);
    CU_ASSERT_EQUAL(va.n, 0);
    dataset_free(&tr);
    dataset_free(&va);
    dataset_split(&all, 0.25, &rng, &tr, &va); /* round(2.5) = 3 (llround rounds half away) */
    CU_ASSERT_EQUAL(va.n, 3);
    dataset_free(&tr);
    dataset_free(&va);
    dataset_split_tail(&all, 0.2, &tr, &va);
    CU_ASSERT_EQUAL(tr.n, 8);
    CU_ASSERT_EQUAL(va.labels[0], 8);
    CU_ASSERT_EQUAL(va.labels[1], 9);
    dataset_free(&tr);
    dataset_free(&va);
    dataset_free(&all);
}

/* A flat dataset from a row-major (n, d) array. */
static Dataset flat(int n, int d, const float *v) {
    Dataset ds = {0};
    ds.n = n;
    ds.T = 1;
    ds.d = d;
    ds.x = ex_malloc((size_t)n * (size_t)d * sizeof(float));
    memcpy(ds.x, v, (size_t)n * (size_t)d * sizeof(float));
    return ds;
}

static void test_scaler(void) {
    /* Train: feature 0 = {0, 2, 4, 6} (μ 3, σ √5), feature 1 = {10, 10, 10, 10} (constant). */
    const float train_v[8] = {0, 10, 2, 10, 4, 10, 6, 10};
    const float val_v[4] = {3, 12, 8, 10};
    ScaleType t;
    CU_ASSERT_EQUAL(scale_from_name("standardize", &t), 0);
    CU_ASSERT_EQUAL(t, SCALE_STANDARDIZE);
    CU_ASSERT_EQUAL(scale_from_name("unit", &t), 0);
    CU_ASSERT_EQUAL(t, SCALE_UNIT);
    CU_ASSERT_EQUAL(scale_from_name("center", &t), 0);
    CU_ASSERT_EQUAL(t, SCALE_CENTER);
    CU_ASSERT_EQUAL(scale_from_name("none", &t), 0);
    CU_ASSERT_EQUAL(t, SCALE_NONE);
    CU_ASSERT_EQUAL(scale_from_name("normalize", &t), -1);

    /* unit: one min (0) and max (10) over the whole training set. */
    Dataset tr = flat(4, 2, train_v), va = flat(2, 2, val_v);
    Scaler s;
    scaler_fit(&s, SCALE_UNIT, &tr);
    scaler_apply(&s, &tr);
    scaler_apply(&s, &va);
    CU_ASSERT_DOUBLE_EQUAL(tr.x[2], 0.2, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(tr.x[1], 1.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(va.x[1], 1.2, 1e-6); /* fitted on train: val may leave [0, 1] */
    CU_ASSERT_DOUBLE_EQUAL(va.x[2], 0.8, 1e-6);
    float back[4] = {0.3f, 1.2f, 0.8f, 1.0f};
    scaler_invert(&s, back, 2);
    for (int i = 0; i < 4; i++) CU_ASSERT_DOUBLE_EQUAL(back[i], val_v[i], 1e-5);
    scaler_free(&s);
    dataset_free(&tr);
    dataset_free(&va);

    /* standardize: per feature; a constant feature is centred, not divided by zero. */
    tr = flat(4, 2, train_v);
    va = flat(2, 2, val_v);
    scaler_fit(&s, SCALE_STANDARDIZE, &tr);
    CU_ASSERT_DOUBLE_EQUAL(s.shift[0], 3.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(s.scale[0], 1.0 / sqrt(5.0), 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(s.shift[1], 10.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(s.scale[1], 1.0, 1e-6);
    scaler_apply(&s, &tr);
    double m = 0, v = 0;
    for (int i = 0; i < 4; i++) m += tr.x[2 * i];
    for (int i = 0; i < 4; i++) v += tr.x[2 * i] * tr.x[2 * i];
    CU_ASSERT_DOUBLE_EQUAL(m / 4, 0.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(v / 4, 1.0, 1e-5);
    CU_ASSERT_EQUAL(tr.x[1], 0.0f);
    scaler_apply(&s, &va);
    CU_ASSERT_DOUBLE_EQUAL(va.x[2], 5.0 / sqrt(5.0), 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(va.x[1], 2.0, 1e-5);
    scaler_free(&s);
    dataset_free(&tr);
    dataset_free(&va);

    /* center: x − μ; none: unchanged. T > 1 steps all count as draws of the features. */
    const float seq[6] = {1, 2, 3, 4, 5, 6};
    tr = flat(1, 2, seq);
    tr.T = 3;
    tr.n = 1;
    free(tr.x);
    tr.x = ex_malloc(6 * sizeof(float));
    memcpy(tr.x, seq, sizeof seq);
    scaler_fit(&s, SCALE_CENTER, &tr);
    scaler_apply(&s, &tr);
    CU_ASSERT_DOUBLE_EQUAL(tr.x[0], -2.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(tr.x[5], 2.0, 1e-6);
    scaler_free(&s);
    scaler_fit(&s, SCALE_NONE, &tr);
    scaler_apply(&s, &tr);
    CU_ASSERT_DOUBLE_EQUAL(tr.x[5], 2.0, 1e-6);
    scaler_free(&s);
    dataset_free(&tr);

    /* targets in the units of x (forecasting). */
    const float series[5] = {10, 20, 30, 40, 50};
    ExError err;
    Dataset w;
    CU_ASSERT_EQUAL_FATAL(series_windows(series, 5, 2, 0, "s", &w, &err), 0);
    scaler_fit(&s, SCALE_UNIT, &w);
    scaler_apply(&s, &w);
    scaler_apply_targets(&s, &w);
    CU_ASSERT_DOUBLE_EQUAL(w.x[0], 0.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(w.y[0], 2.0 / 3.0, 1e-6); /* 30 on the range [10, 40] of x */
    CU_ASSERT_DOUBLE_EQUAL(w.y[2], 4.0 / 3.0, 1e-6);
    scaler_free(&s);
    dataset_free(&w);

    const float px[4] = {0.2f, 0.5f, 0.51f, 0.9f};
    tr = flat(2, 2, px);
    dataset_binarize(&tr, 0.5f);
    CU_ASSERT_EQUAL(tr.x[0], 0.0f);
    CU_ASSERT_EQUAL(tr.x[1], 0.0f);
    CU_ASSERT_EQUAL(tr.x[2], 1.0f);
    CU_ASSERT_EQUAL(tr.x[3], 1.0f);
    dataset_free(&tr);
}

/* ---- batcher ------------------------------------------------------------------------------------ */

/* Collect one epoch of batches: concatenated rows into all, sizes into sizes; returns batches. */
static int run_epoch(Batcher *b, int32_t *all, int *sizes, int *total) {
    int32_t rows[64];
    int k = 0, m;
    *total = 0;
    batcher_begin_epoch(b);
    while ((m = batcher_next(b, rows)) > 0) {
        memcpy(all + *total, rows, (size_t)m * sizeof(int32_t));
        *total += m;
        sizes[k++] = m;
    }
    return k;
}

static void test_batcher_epochs(void) {
    Batcher b;
    batcher_init(&b, 23, 5, 1, 0, rng_stream(1, "shuffle"));
    CU_ASSERT_EQUAL(batcher_batches_per_epoch(&b), 5);
    int32_t e1[23], e2[23];
    int sizes[8], total;
    CU_ASSERT_EQUAL(run_epoch(&b, e1, sizes, &total), 5);
    CU_ASSERT_EQUAL(total, 23);
    CU_ASSERT_EQUAL(sizes[4], 3);
    int seen[23] = {0}, identity = 1;
    for (int i = 0; i < 23; i++) {
        seen[e1[i]]++;
        if (e1[i] != i) identity = 0;
    }
    for (int i = 0; i < 23; i++) CU_ASSERT_EQUAL(seen[i], 1); /* every row exactly once */
    CU_ASSERT(!identity);
    run_epoch(&b, e2, sizes, &total);
    CU_ASSERT_EQUAL(b.epoch, 2);
    CU_ASSERT(memcmp(e1, e2, sizeof e1) != 0); /* reshuffled each epoch */
    memset(seen, 0, sizeof seen);
    for (int i = 0; i < 23; i++) seen[e2[i]]++;
    for (int i = 0; i < 23; i++) CU_ASSERT_EQUAL(seen[i], 1);
    batcher_free(&b);

    /* Same seed, same batches; another seed, others. */
    Batcher c, d;
    batcher_init(&c, 23, 5, 1, 0, rng_stream(1, "shuffle"));
    batcher_init(&d, 23, 5, 1, 0, rng_stream(2, "shuffle"));
    int32_t c1[23], d1[23];
    run_epoch(&c, c1, sizes, &total);
    run_epoch(&d, d1, sizes, &total);
    CU_ASSERT_EQUAL(memcmp(c1, e1, sizeof e1), 0);
    CU_ASSERT(memcmp(d1, e1, sizeof e1) != 0);
    batcher_free(&c);
    batcher_free(&d);

    /* drop_last: 4 full batches, 20 rows; shuffle off: the identity order. */
    batcher_init(&b, 23, 5, 0, 1, rng_stream(1, "shuffle"));
    CU_ASSERT_EQUAL(batcher_batches_per_epoch(&b), 4);
    CU_ASSERT_EQUAL(run_epoch(&b, e1, sizes, &total), 4);
    CU_ASSERT_EQUAL(total, 20);
    for (int i = 0; i < 20; i++) CU_ASSERT_EQUAL(e1[i], i);
    batcher_free(&b);

    /* batcher_next before any begin_epoch begins the first epoch. */
    batcher_init(&b, 4, 4, 1, 0, rng_stream(3, "shuffle"));
    int32_t rows[4];
    CU_ASSERT_EQUAL(batcher_next(&b, rows), 4);
    CU_ASSERT_EQUAL(b.epoch, 1);
    CU_ASSERT_EQUAL(batcher_next(&b, rows), 0);
    batcher_free(&b);
}

static void test_batcher_sharding(void) {
    /* n = 23, B = 6: global batches 6, 6, 6, 5. Two ranks: 3 + 3 and, last, 2 + 3. */
    Batcher g, r0, r1;
    ExError err;
    batcher_init(&g, 23, 6, 1, 0, rng_stream(5, "shuffle"));
    batcher_init(&r0, 23, 6, 1, 0, rng_stream(5, "shuffle"));
    batcher_init(&r1, 23, 6, 1, 0, rng_stream(5, "shuffle"));
    CU_ASSERT_EQUAL(batcher_set_shard(&r0, 0, 2, &err), 0);
    CU_ASSERT_EQUAL(batcher_set_shard(&r1, 1, 2, &err), 0);
    CU_ASSERT_EQUAL(batcher_batches_per_epoch(&r0), 4);
    for (int epoch = 0; epoch < 2; epoch++) {
        batcher_begin_epoch(&g);
        batcher_begin_epoch(&r0);
        batcher_begin_epoch(&r1);
        int32_t gb[6], a[6], c[6];
        int batches = 0, m;
        while ((m = batcher_next(&g, gb)) > 0) {
            int ma = batcher_next(&r0, a), mc = batcher_next(&r1, c);
            CU_ASSERT_EQUAL(ma, m / 2);
            CU_ASSERT_EQUAL(ma + mc, m);
            CU_ASSERT_EQUAL(memcmp(gb, a, (size_t)ma * sizeof(int32_t)), 0);
            CU_ASSERT_EQUAL(memcmp(gb + ma, c, (size_t)mc * sizeof(int32_t)), 0);
            batches++;
        }
        CU_ASSERT_EQUAL(batches, 4);
        int32_t rest[6];
        CU_ASSERT_EQUAL(batcher_next(&r0, rest), 0);
        CU_ASSERT_EQUAL(batcher_next(&r1, rest), 0);
    }
    batcher_free(&g);
    batcher_free(&r0);
    batcher_free(&r1);

    /* Four ranks: full batches of 6 split 1, 2, 1, 2 (rows [r·6/4, (r+1)·6/4)), the last batch
     * of 5 rows 1, 1, 1, 2. A last batch of 1 row is skipped by both of two ranks (n = 13, B = 6). */
    int32_t rows[6];
    int share[4];
    for (int r = 0; r < 4; r++) {
        Batcher s;
        batcher_init(&s, 23, 6, 0, 0, rng_stream(5, "shuffle"));
        CU_ASSERT_EQUAL(batcher_set_shard(&s, r, 4, &err), 0);
        batcher_begin_epoch(&s);
        for (int k = 0; k < 3; k++) CU_ASSERT_EQUAL(batcher_next(&s, rows), (r + 1) * 6 / 4 - r * 6 / 4);
        share[r] = batcher_next(&s, rows);
        CU_ASSERT_EQUAL(rows[0], 18 + (r * 5) / 4);
        batcher_free(&s);
    }
    CU_ASSERT_EQUAL(share[0] + share[1] + share[2] + share[3], 5);
    CU_ASSERT_EQUAL(share[3], 2);
    Batcher s;
    batcher_init(&s, 13, 6, 1, 0, rng_stream(5, "shuffle"));
    CU_ASSERT_EQUAL(batcher_set_shard(&s, 1, 2, &err), 0);
    CU_ASSERT_EQUAL(batcher_batches_per_epoch(&s), 2);
    batcher_begin_epoch(&s);
    CU_ASSERT_EQUAL(batcher_next(&s, rows), 3);
    CU_ASSERT_EQUAL(batcher_next(&s, rows), 3);
    CU_ASSERT_EQUAL(batcher_next(&s, rows), 0);
    CU_ASSERT_EQUAL(batcher_set_shard(&s, 2, 2, &err), -1);
    CU_ASSERT(msg_has(&err, "rank 2 is outside [0, 2)", NULL));
    CU_ASSERT_EQUAL(batcher_set_shard(&s, 0, 7, &err), -1);
    CU_ASSERT(msg_has(&err, "batch size 6 cannot be shared by 7 ranks", NULL));
    batcher_free(&s);
}

/* Record every remaining batch of the current epoch and all of the next into out. */
static int record_rest(Batcher *b, int32_t *out) {
    int32_t rows[16];
    int total = 0, m;
    for (int pass = 0; pass < 2; pass++) {
        while ((m = batcher_next(b, rows)) > 0) {
            memcpy(out + total, rows, (size_t)m * sizeof(int32_t));
            total += m;
            out[total++] = -1; /* batch boundary */
        }
        if (pass == 0) batcher_begin_epoch(b);
    }
    return total;
}

static void test_batcher_state(void) {
    Batcher a;
    batcher_init(&a, 37, 4, 1, 0, rng_stream(9, "shuffle"));
    int32_t rows[4];
    batcher_begin_epoch(&a);
    while (batcher_next(&a, rows) > 0) {
    }
    batcher_begin_epoch(&a);
    for (int k = 0; k < 3; k++) batcher_next(&a, rows); /* mid-epoch 2 */
    int64_t epoch;
    int cursor;
    Rng rng;
    batcher_get_state(&a, &epoch, &cursor, &rng);
    CU_ASSERT_EQUAL(epoch, 2);
    CU_ASSERT_EQUAL(cursor, 12);

    Batcher b;
    ExError err;
    batcher_init(&b, 37, 4, 1, 0, rng_stream(12345, "other"));
    CU_ASSERT_EQUAL_FATAL(batcher_set_state(&b, epoch, cursor, &rng, &err), 0);
    int32_t ra[200], rb[200];
    int na = record_rest(&a, ra), nb = record_rest(&b, rb);
    CU_ASSERT_EQUAL(na, nb);
    CU_ASSERT_EQUAL(memcmp(ra, rb, (size_t)na * sizeof(int32_t)), 0);
    CU_ASSERT(na > 37); /* the rest of epoch 2 and all of epoch 3 */

    /* Restoring at a different mid-epoch position reproduces only from there. */
    CU_ASSERT_EQUAL(batcher_set_state(&b, 2, 40, &rng, &err), -1);
    CU_ASSERT(msg_has(&err, "cursor 40 is outside [0, 37]", NULL));
    CU_ASSERT_EQUAL(batcher_set_state(&b, -1, 0, &rng, &err), -1);
    /* A state saved before any epoch began. */
    Batcher fresh, copy;
    batcher_init(&fresh, 10, 3, 1, 0, rng_stream(4, "shuffle"));
    batcher_get_state(&fresh, &epoch, &cursor, &rng);
    batcher_init(&copy, 10, 3, 1, 0, rng_stream(99, "shuffle"));
    CU_ASSERT_EQUAL(batcher_set_state(&copy, epoch, cursor, &rng, &err), 0);
    na = record_rest(&fresh, ra);
    nb = record_rest(&copy, rb);
    CU_ASSERT_EQUAL(na, nb);
    CU_ASSERT_EQUAL(memcmp(ra, rb, (size_t)na * sizeof(int32_t)), 0);
    batcher_free(&a);
    batcher_free(&b);
    batcher_free(&fresh);
    batcher_free(&copy);
}

/* ---- text --------------------------------------------------------------------------------------- */

static void test_text_vocab(void) {
    const char *text = "hello world";
    Vocab v;
    vocab_build(&v, (const uint8_t *)text, strlen(text));
    CU_ASSERT_EQUAL(v.size, 8); /* ' ' d e h l o r w */
    CU_ASSERT_EQUAL(v.byte_of[0], ' ');
    CU_ASSERT_EQUAL(v.byte_of[7], 'w');
    CU_ASSERT_EQUAL(v.id_of['h'], 3);
    CU_ASSERT_EQUAL(v.id_of['z'], -1);
    int32_t ids[11];
    CU_ASSERT_EQUAL(vocab_encode(&v, (const uint8_t *)text, 11, ids, -1, "t", NULL), 0);
    CU_ASSERT_EQUAL(ids[0], 3);
    CU_ASSERT_EQUAL(ids[5], 0);
    uint8_t back[12] = {0};
    vocab_decode(&v, ids, 11, back);
    CU_ASSERT_STRING_EQUAL((const char *)back, text);

    ExError err;
    const char *val = "held\x01 word!";
    CU_ASSERT_EQUAL(vocab_encode(&v, (const uint8_t *)val, 11, ids, -1, "val.txt", &err), -1);
    CU_ASSERT(msg_has(&err, "val.txt: byte 0x01 at offset 4", "does not occur in the training text"));
    CU_ASSERT_EQUAL(vocab_encode(&v, (const uint8_t *)val, 11, ids, v.id_of[' '], "val.txt", &err), 2);
    CU_ASSERT_EQUAL(ids[4], 0);
    CU_ASSERT_EQUAL(ids[10], 0);
    CU_ASSERT_EQUAL(vocab_encode(&v, (const uint8_t *)val, 11, ids, 8, "val.txt", &err), -1);

    Vocab w;
    CU_ASSERT_EQUAL(vocab_from_bytes(&w, v.byte_of, v.size, &err), 0);
    CU_ASSERT_EQUAL(memcmp(&w, &v, sizeof v), 0);
    uint8_t dup[2] = {'a', 'a'};
    CU_ASSERT_EQUAL(vocab_from_bytes(&w, dup, 2, &err), -1);

    /* text_load: max_bytes, empty file. */
    const char *path = tmp_path("text.txt");
    rc_write_text(path, "abcdefghij");
    uint8_t *bytes;
    size_t len;
    CU_ASSERT_EQUAL_FATAL(text_load(path, 4, &bytes, &len, &err), 0);
    CU_ASSERT_EQUAL(len, 4);
    CU_ASSERT_EQUAL(memcmp(bytes, "abcd", 4), 0);
    free(bytes);
    CU_ASSERT_EQUAL_FATAL(text_load(path, 0, &bytes, &len, &err), 0);
    CU_ASSERT_EQUAL(len, 10);
    free(bytes);
    const char *empty = tmp_path("empty.txt");
    rc_write_text(empty, "");
    CU_ASSERT_EQUAL(text_load(empty, 0, &bytes, &len, &err), -1);
    CU_ASSERT(msg_has(&err, "empty.txt: empty file", NULL));
}

static void test_text_stream(void) {
    /* A stream whose token at position p is p (mod 97): positions are visible in the batches. */
    enum { N = 61, B = 3, T = 4 };
    uint8_t text[N];
    for (int i = 0; i < N; i++) text[i] = (uint8_t)(i + 1);
    Vocab v;
    vocab_build(&v, text, N);
    TokenStream s;
    ExError err;
    CU_ASSERT_EQUAL_FATAL(stream_init(&s, &v, text, N, -1, "t", &err), 0);
    CU_ASSERT_EQUAL(s.tokens[17], 17);
    /* L = (61 − 1)/3 = 20 per track, 20/4 = 5 batches. */
    CU_ASSERT_EQUAL(stream_batches_per_epoch(&s, B, T), 5);
    int32_t x[5][B * T], y[5][B * T];
    for (int k = 0; k < 5; k++) CU_ASSERT_EQUAL(stream_batch(&s, B, T, k, x[k], y[k]), 0);
    for (int k = 0; k < 5; k++)
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++) {
                CU_ASSERT_EQUAL(x[k][b * T + t], b * 20 + k * T + t);
                CU_ASSERT_EQUAL(y[k][b * T + t], x[k][b * T + t] + 1);
            }
    /* Batch k continues batch k − 1 in every row: the next input is the last target. */
    for (int k = 1; k < 5; k++)
        for (int b = 0; b < B; b++) CU_ASSERT_EQUAL(x[k][b * T], y[k - 1][b * T + T - 1]);
    CU_ASSERT_EQUAL(stream_batch(&s, B, T, 5, x[0], y[0]), -1);
    CU_ASSERT_EQUAL(stream_batch(&s, B, T, -1, x[0], y[0]), -1);
    CU_ASSERT_EQUAL(stream_check(&s, B, T, "t", &err), 0);
    CU_ASSERT_EQUAL(stream_check(&s, 16, 4, "fortunes.txt", &err), -1);
    CU_ASSERT(msg_has(&err, "fortunes.txt: 61 characters are too few for 16 tracks of 4 steps", NULL));
    CU_ASSERT_EQUAL(stream_batches_per_epoch(&s, 16, 4), 0);

    /* Windows of 5 with stride 3: n = (61 − 1 − 5)/3 + 1 = 19. */
    Dataset w;
    CU_ASSERT_EQUAL_FATAL(text_windows(&s, 5, 3, "t", &w, &err), 0);
    CU_ASSERT_EQUAL(w.n, 19);
    CU_ASSERT_EQUAL(w.T, 5);
    CU_ASSERT_EQUAL(w.Ty, 5);
    CU_ASSERT_EQUAL(w.vocab, N);
    CU_ASSERT_EQUAL(w.x_tokens[4 * 5 + 2], 14);
    CU_ASSERT_EQUAL(w.y_tokens[4 * 5 + 2], 15);
    CU_ASSERT_EQUAL(w.x_tokens[18 * 5], 54);
    CU_ASSERT_EQUAL(w.y_tokens[18 * 5 + 4], 59); /* token 60 would need a 20th window */
    dataset_free(&w);
    CU_ASSERT_EQUAL(text_windows(&s, 61, 1, "t", &w, &err), -1);
    stream_free(&s);
}

/* ---- generated tasks ---------------------------------------------------------------------------- */

static void test_adding_problem(void) {
    enum { N = 20000, T = 30 };
    Rng rng = rng_stream(11, "data");
    Dataset ds;
    ExError err;
    CU_ASSERT_EQUAL_FATAL(task_adding(&ds, N, T, &rng, &err), 0);
    CU_ASSERT_EQUAL(ds.d, 2);
    CU_ASSERT_EQUAL(ds.Ty, 1);
    CU_ASSERT_EQUAL(ds.dy, 1);
    int layout_bad = 0;
    double sum = 0, sq = 0, mse1 = 0;
    for (int i = 0; i < N; i++) {
        const float *x = ds.x + (size_t)i * T * 2;
        int first = 0, second = 0;
        float target = 0;
        for (int t = 0; t < T; t++) {
            if (x[2 * t] < 0 || x[2 * t] >= 1) layout_bad++;
            if (x[2 * t + 1] == 1.0f) {
                target += x[2 * t];
                if (t < T / 2) first++;
                else second++;
            } else if (x[2 * t + 1] != 0.0f) {
                layout_bad++;
            }
        }
        if (first != 1 || second != 1 || target != ds.y[i]) layout_bad++;
        sum += ds.y[i];
        sq += (double)ds.y[i] * ds.y[i];
        mse1 += (ds.y[i] - 1.0) * (ds.y[i] - 1.0);
    }
    CU_ASSERT_EQUAL(layout_bad, 0);
    double mean = sum / N, var = sq / N - mean * mean;
    /* Standard errors at n = 20000: mean ~0.003, variance ~0.0015. */
    CU_ASSERT_DOUBLE_EQUAL(mean, 1.0, 0.015);
    CU_ASSERT_DOUBLE_EQUAL(var, 1.0 / 6.0, 0.008);
    CU_ASSERT_DOUBLE_EQUAL(mse1 / N, 1.0 / 6.0, 0.008);
    /* Same seed, same data. */
    Rng again = rng_stream(11, "data");
    Dataset d2;
    CU_ASSERT_EQUAL_FATAL(task_adding(&d2, N, T, &again, &err), 0);
    CU_ASSERT_EQUAL(memcmp(ds.x, d2.x, (size_t)N * T * 2 * sizeof(float)), 0);
    dataset_free(&ds);
    dataset_free(&d2);
    CU_ASSERT_EQUAL(task_adding(&ds, 5, 1, &rng, &err), -1);
    CU_ASSERT(msg_has(&err, "T = 1", NULL));
}

static void test_copy_task(void) {
    enum { N = 200, S = 3, DELAY = 4, K = 5 };
    Rng rng = rng_stream(13, "data");
    Dataset ds;
    ExError err;
    CU_ASSERT_EQUAL_FATAL(task_copy(&ds, N, S, DELAY, K, &rng, &err), 0);
    int T = 2 * S + DELAY + 1;
    CU_ASSERT_EQUAL(ds.T, T);
    CU_ASSERT_EQUAL(ds.Ty, T);
    CU_ASSERT_EQUAL(ds.vocab, K + 2);
    CU_ASSERT_PTR_NULL(ds.x);
    int bad = 0, hist[K] = {0};
    for (int i = 0; i < N; i++) {
        const int32_t *x = ds.x_tokens + i * T, *y = ds.y_tokens + i * T;
        for (int t = 0; t < S; t++) {
            if (x[t] < 0 || x[t] >= K) bad++;
            else hist[x[t]]++;
        }
        for (int t = S; t < T; t++) {
            int want = t == S + DELAY ? copy_delimiter(K) : copy_blank(K);
            if (x[t] != want) bad++;
        }
        for (int t = 0; t < S + DELAY + 1; t++)
            if (y[t] != -1) bad++;
        for (int t = 0; t < S; t++)
            if (y[S + DELAY + 1 + t] != x[t]) bad++;
    }
    CU_ASSERT_EQUAL(bad, 0);
    for (int k = 0; k < K; k++) CU_ASSERT(hist[k] > 60 && hist[k] < 180); /* all symbols used (~120 each) */
    dataset_free(&ds);
    CU_ASSERT_EQUAL(task_copy(&ds, N, 0, DELAY, K, &rng, &err), -1);
    CU_ASSERT(msg_has(&err, "S = 0", NULL));
}

static void cleanup(void) {
    if (!g_dir) return;
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
    run_command(cmd);
    free(g_dir);
}

int main(void) {
    atexit(cleanup);
    const TestCase cases[] = {
        {"idx round trip, plain and gzip", test_idx_roundtrip},
        {"idx errors: truncated, bad magic, corrupt", test_idx_errors},
        {"idx: headers promising more than the file holds, refused before allocating", test_idx_lying_headers},
        {"idx: read once from a named pipe, plain and gzip", test_idx_pipe},
        {"idx real fashion-mnist t10k", test_idx_fashion_mnist},
        {"csv good files", test_csv_good},
        {"csv errors with file:line", test_csv_errors},
        {"csv series and windows", test_csv_series},
        {"hdf5 load and errors", test_h5data},
        {"slice and gather", test_slice_gather},
        {"split sizes and determinism", test_split},
        {"scaler math fitted on train", test_scaler},
        {"batcher epochs cover every row", test_batcher_epochs},
        {"batcher sharding", test_batcher_sharding},
        {"batcher state restore", test_batcher_state},
        {"text vocab and encoding", test_text_vocab},
        {"text stream continues across batches", test_text_stream},
        {"adding problem statistics", test_adding_problem},
        {"copy task layout", test_copy_task},
        {NULL, NULL},
    };
    return run_tests("data", cases);
}
