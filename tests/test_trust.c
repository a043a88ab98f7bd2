/* test_trust.c — what exprun reads back from its own run directories is checked before it is
 * used (docs/reliability.md, "Damaged files"). A small run is stopped mid-epoch with a
 * checkpoint; each case damages a copy of that run directory the way a flipped bit, an edited
 * file or a hostile user would, and resumes it. Every case must end in a clear refusal (exit 3,
 * the file and what was wrong named, nothing overwritten, status not left `running`) or, for
 * damage that changes nothing the run uses, in the same bits as the undamaged resume. */
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "h5seal.h"
#include "rng.h"
#include "runcheck.h"
#include "sha256.h"
#include "testutil.h"

static char *tmp;
static char spec_path[1024], ref_dir[1024], stopped_dir[1024];
static char *stopped_ckpt;     /* the checkpoint the stopped run wrote */

static const char *in_tmp(const char *name) { return rc_in_dir(tmp, name); }

/* 30 epochs of a small denoising autoencoder (23 steps each, after the validation split), stopped
 * after step 30 — epoch 1, batch 7 — with a checkpoint, and the same run never stopped as the reference. */
static void make_runs(void) {
    char data_path[1024];
    rc_write_small_ae(tmp, "trust", spec_path, data_path);
    snprintf(ref_dir, sizeof ref_dir, "%s/ref", tmp);
    snprintf(stopped_dir, sizeof stopped_dir, "%s/stopped", tmp);
    const char *ref[] = {spec_path, "--out", ref_dir, "--quiet", NULL};
    const char *stop[] = {spec_path, "--out", stopped_dir, "--quiet", NULL};
    int ref_rc = rc_run_logged(ref, in_tmp("ref.log"));
    setenv("EXPRUN_STOP_AFTER_STEPS", "30", 1);
    int stop_rc = rc_run_logged(stop, in_tmp("stopped.log"));
    unsetenv("EXPRUN_STOP_AFTER_STEPS");
    stopped_ckpt = rc_latest_checkpoint(stopped_dir);
    if (ref_rc != 0 || stop_rc != 128 + SIGTERM || !stopped_ckpt) {
        fprintf(stderr, "test_trust: the runs to damage could not be made (%d, %d)\n", ref_rc, stop_rc);
        exit(1);
    }
}

/* A fresh copy of the stopped run, as a SIGKILL would have left it (status `running`). */
static const char *fresh_copy(const char *name) {
    const char *dir = in_tmp(name);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "rm -rf '%s' && cp -a '%s' '%s'", dir, stopped_dir, dir);
    CU_ASSERT_FATAL(run_command(cmd) == 0);
    char status[1200];
    snprintf(status, sizeof status, "%s/status", dir);
    rc_write_text(status, "running\n");
    return dir;
}

/* ---- editing a checkpoint in place with HDF5 ---------------------------------------------- */

static void set_attr_i64(const char *file, const char *obj, const char *name, long long value) {
    hid_t f = H5Fopen(file, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    hid_t o = H5Oopen(f, obj, H5P_DEFAULT);
    CU_ASSERT_FATAL(o >= 0);
    hid_t a = H5Aopen(o, name, H5P_DEFAULT);
    CU_ASSERT_FATAL(a >= 0);
    int64_t v = value;
    CU_ASSERT(H5Awrite(a, H5T_NATIVE_INT64, &v) >= 0);
    H5Aclose(a);
    H5Oclose(o);
    H5Fclose(f);
}

static long long get_attr_i64(const char *file, const char *obj, const char *name) {
    hid_t f = H5Fopen(file, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t a = H5Aopen_by_name(f, obj, name, H5P_DEFAULT, H5P_DEFAULT);
    int64_t v = 0;
    H5Aread(a, H5T_NATIVE_INT64, &v);
    H5Aclose(a);
    H5Fclose(f);
    return (long long)v;
}

/* Dataset d's sha256 attribute made that of data (bytes), as if the file had been written so. */
static void reseal_dataset_sum(hid_t d, const void *data, size_t bytes) {
    char sha[65];
    sha256_hex(sha, data, bytes);
    CU_ASSERT(H5Adelete(d, "sha256") >= 0);
    hid_t t = H5Tcopy(H5T_C_S1), scalar = H5Screate(H5S_SCALAR);
    H5Tset_size(t, 64);
    hid_t a = H5Acreate2(d, "sha256", t, scalar, H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT(a >= 0 && H5Awrite(a, t, sha) >= 0);
    H5Aclose(a);
    H5Sclose(scalar);
    H5Tclose(t);
}

/* Element i of a 1-D dataset of mtype (elements of `size` bytes) changed by edit(element, arg);
 * with reseal_dataset, its sha256 attribute is recomputed, as if the file had been written so. */
static void edit_element(const char *file, const char *dset, hid_t mtype, size_t size, int i,
                         void (*edit)(void *element, const void *arg), const void *arg, int reseal_dataset) {
    hid_t f = H5Fopen(file, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    hid_t d = H5Dopen(f, dset, H5P_DEFAULT);
    CU_ASSERT_FATAL(d >= 0);
    hid_t space = H5Dget_space(d);
    hssize_t n = H5Sget_simple_extent_npoints(space);
    CU_ASSERT_FATAL(n > i);
    unsigned char *buf = calloc((size_t)n, size);
    H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    edit(buf + (size_t)i * size, arg);
    CU_ASSERT(H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0);
    if (reseal_dataset) reseal_dataset_sum(d, buf, (size_t)n * size);
    free(buf);
    H5Sclose(space);
    H5Dclose(d);
    H5Fclose(f);
}

typedef struct U64Edit {
    unsigned long long value, xor_mask;
} U64Edit;
static void apply_u64(void *element, const void *arg) {
    const U64Edit *e = arg;
    uint64_t *x = element;
    *x = e->xor_mask ? *x ^ e->xor_mask : e->value;
}
static void apply_f32(void *element, const void *arg) { *(float *)element = *(const float *)arg; }

/* Element i of a uint64 dataset (its sha256 resealed): set to value (xor_mask 0) or xor'ed with xor_mask. */
static void edit_u64(const char *file, const char *dset, int i, unsigned long long value, unsigned long long xor_mask) {
    U64Edit e = {value, xor_mask};
    edit_element(file, dset, H5T_NATIVE_UINT64, sizeof(uint64_t), i, apply_u64, &e, 1);
}

/* Element i of a float32 dataset set to value (its sha256 resealed with reseal_dataset). */
static void edit_f32(const char *file, const char *dset, int i, float value, int reseal_dataset) {
    edit_element(file, dset, H5T_NATIVE_FLOAT, sizeof(float), i, apply_f32, &value, reseal_dataset);
}

/* The bytes of a file, to show that a refusal overwrote nothing. */
static char *bytes_of(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}

static int same_bytes(const char *a_path, const char *b_path) {
    size_t na = 0, nb = 0;
    char *a = bytes_of(a_path, &na), *b = bytes_of(b_path, &nb);
    int same = a && b && na == nb && memcmp(a, b, na) == 0;
    free(a);
    free(b);
    return same;
}

/* The seal in a checkpoint's user block (h5seal.h) made that of its bytes now. */
static void restamp(const char *path) {
    size_t len = 0;
    char *bytes = bytes_of(path, &len);
    CU_ASSERT_FATAL(bytes && len > H5SEAL_BYTES && memcmp(bytes, H5SEAL_MAGIC, strlen(H5SEAL_MAGIC)) == 0);
    h5seal_stamp((unsigned char *)bytes, len);
    rc_write_bytes(path, bytes, len);
    free(bytes);
}

/* The checkpoint of dir resealed, and LATEST recorded again with its digest, as if whoever
 * changed the checkpoint had also redone both: the checks behind them must hold on their own. */
static void reseal(const char *dir) {
    char *ckpt = rc_latest_checkpoint(dir), sha[65], latest[1300], text[300];
    CU_ASSERT_FATAL(ckpt != NULL);
    restamp(ckpt);
    CU_ASSERT_FATAL(sha256_file_hex(sha, ckpt) == 0);
    snprintf(latest, sizeof latest, "%s/checkpoints/LATEST", dir);
    snprintf(text, sizeof text, "%s\nsha256 %s\n", strrchr(ckpt, '/') + 1, sha);
    rc_write_text(latest, text);
    free(ckpt);
}

/* Resume dir, whose checkpoint (the one the stopped run wrote) or LATEST was damaged: exit 3,
 * the log names `named` (the checkpoint if NULL) and holds `word`; the checkpoint, results.h5
 * and metrics.csv are as they were, and status is `failed` (it said `running`, which the held
 * lock proves false). */
static void expect_refused(const char *dir, const char *what, const char *named, const char *word) {
    char ckpt[1300], saved[1300], results[1300], saved_results[1300], status[1300];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoints/%s", dir, strrchr(stopped_ckpt, '/') + 1);
    snprintf(saved, sizeof saved, "%s/checkpoint.before", tmp);
    snprintf(results, sizeof results, "%s/results.h5", dir);
    snprintf(saved_results, sizeof saved_results, "%s/results.h5.before", tmp);
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cp -P '%s' '%s' && cp '%s' '%s'", ckpt, saved, results, saved_results);
    CU_ASSERT_FATAL(run_command(cmd) == 0);
    const char *args[] = {"resume", dir, "--quiet", NULL};
    const char *log = in_tmp("resume.log");
    int rc = rc_run_logged(args, log);
    if (rc != 3) fprintf(stderr, "\n  %s: resume exited %d, expected 3\n", what, rc);
    CU_ASSERT_EQUAL(rc, 3);
    CU_ASSERT(rc_log_has(log, named ? named : ckpt, word));
    CU_ASSERT(same_bytes(ckpt, saved));
    CU_ASSERT(same_bytes(results, saved_results));
    snprintf(status, sizeof status, "%s/status", dir);
    char *s = rc_slurp(status);
    CU_ASSERT(s && strcmp(s, "failed\n") == 0);
    free(s);
    unlink(saved);
}

/* ---- 1. loop state ------------------------------------------------------------------------ */

/* One edit of the stopped run's checkpoint: an int64 attribute set (obj, name), or element `index`
 * of a uint64 dataset (obj) set to value or, with xor_mask, xor'ed with it. */
typedef struct LoopEdit {
    const char *what, *obj, *attr;
    int index;
    long long value;
    unsigned long long xor_mask;
    const char *said;             /* what the refusal must say */
} LoopEdit;

static void test_loop_state(void) {
    static const LoopEdit EDITS[] = {
        {"epoch -3", "/", "epoch", 0, -3, 0, "epoch -3 is outside [0, 30]"},
        {"epoch bit 31", "/", "epoch", 0, 1LL ^ (1LL << 31), 0, "is outside [0, 30]"},
        {"epoch 1000", "/", "epoch", 0, 1000, 0, "epoch 1000 is outside [0, 30]"},
        {"step 31", "/", "step", 0, 31, 0, "step 31 is not epoch 1"},
        {"Adam t = 2^62", "/optimizer", "t", 0, 1LL << 62, 0, "update count t = 4611686018427387904"},
        {"data cursor", "/state", "data_cursor", 0, 96, 0, "is not where batch 7 of epoch 2 puts it"},
        /* /state/loop_sums: [loss, rows, grad norm, kept steps, skipped steps, batch position, …] */
        {"batch position flipped", "/state/loop_sums", NULL, 5, 0, 1ULL << 20,
         "batch position 1048583 is outside [0, 23]"},
        {"kept steps flipped", "/state/loop_sums", NULL, 3, 0, 1ULL << 1, "do not add up to its batch position 7"},
        {"zero RNG", "/state/rng_noise", NULL, -1, 0, 0, "all zeros"},
    };
    for (size_t k = 0; k < sizeof EDITS / sizeof EDITS[0]; k++) {
        const LoopEdit *e = &EDITS[k];
        char name[64];
        snprintf(name, sizeof name, "loop-%zu", k);
        const char *dir = fresh_copy(name);
        char *ckpt = rc_latest_checkpoint(dir);
        if (e->attr) CU_ASSERT_FATAL(k > 0 || get_attr_i64(ckpt, e->obj, e->attr) == 1);
        if (e->attr) set_attr_i64(ckpt, e->obj, e->attr, e->value);
        else if (e->index >= 0) edit_u64(ckpt, e->obj, e->index, (unsigned long long)e->value, e->xor_mask);
        else
            for (int i = 0; i < 4; i++) edit_u64(ckpt, e->obj, i, 0, 0);   /* the whole state */
        reseal(dir);
        expect_refused(dir, e->what, NULL, e->said);
        free(ckpt);
    }

    /* The undamaged copy resumes to the reference, bit for bit: the checks refuse no good file. */
    const char *dir = fresh_copy("undamaged");
    const char *args[] = {"resume", dir, "--quiet", NULL};
    CU_ASSERT_EQUAL(rc_run_logged(args, in_tmp("undamaged.log")), 0);
    CU_ASSERT(rc_same_run(ref_dir, dir, 1));
}

/* ---- 2. the whole file against LATEST's digest ------------------------------------------- */

/* A stop right after an epoch's last step, before the epoch's end (evaluation, metrics) was
 * recorded: the checkpoint holds batch position = steps per epoch, a state a run really reaches;
 * its resume records that epoch and goes on, the same bits as never stopped. */
static void test_stop_at_epoch_end(void) {
    const char *dir = in_tmp("epoch-end");
    const char *stop[] = {spec_path, "--out", dir, "--quiet", NULL};
    setenv("EXPRUN_STOP_AFTER_STEPS", "46", 1);   /* epoch 2's last step (23 per epoch) */
    CU_ASSERT(rc_run_logged(stop, in_tmp("epoch-end.log")) == 128 + SIGTERM);
    unsetenv("EXPRUN_STOP_AFTER_STEPS");
    char *ckpt = rc_latest_checkpoint(dir);
    CU_ASSERT_FATAL(ckpt != NULL);
    CU_ASSERT(rc_ends_with(ckpt, "epoch-0001-step-00000046.h5"));
    free(ckpt);
    const char *resume[] = {"resume", dir, "--quiet", NULL};
    CU_ASSERT(rc_run_logged(resume, in_tmp("epoch-end.log")) == 0);
    CU_ASSERT(rc_same_run(ref_dir, dir, 1));
}

static void test_digest(void) {
    /* One byte of the file changed and LATEST left alone: refused before HDF5 reads it. */
    const char *dir = fresh_copy("byte-changed");
    char *ckpt = rc_latest_checkpoint(dir);
    FILE *f = fopen(ckpt, "r+b");
    CU_ASSERT_FATAL(f != NULL);
    fseek(f, -100, SEEK_END);
    int c = fgetc(f);
    fseek(f, -100, SEEK_END);
    fputc(c ^ 0x10, f);
    fclose(f);
    expect_refused(dir, "a byte changed", NULL, "was damaged or changed since");
    free(ckpt);

    /* A LATEST of the name alone (as exprun 0.1 wrote): resumed, with a warning, to the reference. */
    dir = fresh_copy("legacy-latest");
    char latest[1300], line[300];
    snprintf(latest, sizeof latest, "%s/checkpoints/LATEST", dir);
    snprintf(line, sizeof line, "%s\n", strrchr(stopped_ckpt, '/') + 1);
    rc_write_text(latest, line);
    const char *args[] = {"resume", dir, NULL};
    const char *log = in_tmp("legacy.log");
    CU_ASSERT_EQUAL(rc_run_logged(args, log), 0);
    CU_ASSERT(rc_log_has(log, "warning: checkpoints/LATEST records no checksum", NULL));
    CU_ASSERT(rc_same_run(ref_dir, dir, 1));
}

/* ---- 2. every dataset against its own SHA-256; values finite ------------------------------ */

static void test_dataset_checksums(void) {
    /* One weight changed and LATEST resealed: the dataset's own checksum refuses it. */
    const char *dir = fresh_copy("weight-changed");
    char *ckpt = rc_latest_checkpoint(dir);
    edit_f32(ckpt, "/model/enc0/W", 17, 0.5f, 0);
    reseal(dir);
    expect_refused(dir, "a weight changed", "/model/enc0/W do not match their checksum", NULL);
    free(ckpt);

    /* NaN in the weights, in Adam's m, and a negative second moment, each fully resealed. */
    const struct { const char *dset; float value; const char *word; } planted[] = {
        {"/model/enc0/W", NAN, "/model/enc0/W[3] is nan"},
        {"/optimizer/m/enc0/b", INFINITY, "/optimizer/m/enc0/b[3] is inf"},
        {"/optimizer/v/dec0/W", -1.0f, "/optimizer/v/dec0/W[3] is -1, below 0 in a sum of squares"},
    };
    for (size_t k = 0; k < sizeof planted / sizeof planted[0]; k++) {
        char name[64];
        snprintf(name, sizeof name, "planted-%zu", k);
        dir = fresh_copy(name);
        ckpt = rc_latest_checkpoint(dir);
        edit_f32(ckpt, planted[k].dset, 3, planted[k].value, 1);
        reseal(dir);
        expect_refused(dir, planted[k].word, ckpt, planted[k].word);
        free(ckpt);
    }

    /* --init-from a checkpoint with a NaN or a changed value: refused before the run directory. */
    char *good = rc_latest_checkpoint(ref_dir);
    char cmd[4096];
    char bad[1100];   /* a copy: in_tmp's buffers rotate */
    snprintf(bad, sizeof bad, "%s", in_tmp("nan.h5"));
    for (int reseal_dataset = 1; reseal_dataset >= 0; reseal_dataset--) {
        snprintf(cmd, sizeof cmd, "cp '%s' '%s'", good, bad);
        CU_ASSERT_FATAL(run_command(cmd) == 0);
        edit_f32(bad, "/model/dec0/b", 0, reseal_dataset ? NAN : 0.25f, reseal_dataset);
        restamp(bad);
        const char *out = in_tmp("init-nan");
        const char *args[] = {spec_path, "--init-from", bad, "--out", out, "--quiet", NULL};
        const char *log = in_tmp("init.log");
        CU_ASSERT_EQUAL(rc_run_logged(args, log), 3);
        CU_ASSERT(rc_log_has(log, bad, reseal_dataset ? "/model/dec0/b[0] is nan" : "do not match their checksum"));
        CU_ASSERT(!rc_exists(out));
    }
    /* --init-from a file damaged anywhere: its seal refuses it before HDF5 parses it. */
    snprintf(cmd, sizeof cmd, "cp '%s' '%s' && printf '\\377' | dd of='%s' bs=1 seek=700 conv=notrunc status=none",
             good, bad, bad);
    CU_ASSERT_FATAL(run_command(cmd) == 0);
    const char *sealed_out = in_tmp("init-sealed");
    const char *sealed_args[] = {spec_path, "--init-from", bad, "--out", sealed_out, "--quiet", NULL};
    CU_ASSERT_EQUAL(rc_run_logged(sealed_args, in_tmp("init.log")), 3);
    CU_ASSERT(rc_log_has(in_tmp("init.log"), bad, "do not match its seal"));
    CU_ASSERT(!rc_exists(sealed_out));
    /* A checkpoint without seal and checksums (as exprun 0.1 wrote them) still initialises a run,
     * with a warning; its values are still checked. Without the user block, HDF5 finds the
     * superblock at byte 0 and moves its base address there. */
    snprintf(cmd, sizeof cmd, "tail -c +%d '%s' > '%s'", H5SEAL_BYTES + 1, good, bad);
    CU_ASSERT_FATAL(run_command(cmd) == 0);
    hid_t f = H5Fopen(bad, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT(f >= 0 && H5Adelete(f, "checksums") >= 0);
    H5Fclose(f);
    const char *out = in_tmp("init-legacy");
    const char *args[] = {spec_path, "train.epochs=1", "--init-from", bad, "--out", out, NULL};
    const char *log = in_tmp("init-legacy.log");
    CU_ASSERT_EQUAL(rc_run_logged(args, log), 0);
    CU_ASSERT(rc_log_has(log, "warning", "has no checksums"));
    free(good);
}

/* ---- 3. LATEST and links confined to the run ------------------------------------------------ */

static void write_latest(const char *dir, const char *text) {
    char latest[1300];
    snprintf(latest, sizeof latest, "%s/checkpoints/LATEST", dir);
    unlink(latest);
    rc_write_text(latest, text);
}

static void add_link(const char *file, int external) {
    hid_t f = H5Fopen(file, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    herr_t e = external ? H5Lcreate_external(stopped_ckpt, "/model", f, "/borrowed", H5P_DEFAULT, H5P_DEFAULT)
                        : H5Lcreate_soft("/model", f, "/alias", H5P_DEFAULT, H5P_DEFAULT);
    CU_ASSERT(e >= 0);
    H5Fclose(f);
}

static void test_confined(void) {
    char latest[1300], text[1300];
    const char *dir = fresh_copy("latest-other-run");
    snprintf(latest, sizeof latest, "%s/checkpoints/LATEST", dir);
    char *ref_ckpt = rc_latest_checkpoint(ref_dir);
    snprintf(text, sizeof text, "../../ref/checkpoints/%s\n", strrchr(ref_ckpt, '/') + 1);
    free(ref_ckpt);
    write_latest(dir, text);
    expect_refused(dir, "LATEST into another run", latest, "does not name a checkpoint of this run");

    dir = fresh_copy("latest-passwd");
    snprintf(latest, sizeof latest, "%s/checkpoints/LATEST", dir);
    write_latest(dir, "../../../../../../../../etc/passwd\n");
    expect_refused(dir, "LATEST = /etc/passwd", latest, "\"../../../../../../../../etc/passwd\\n\"");

    dir = fresh_copy("latest-bytes");
    snprintf(latest, sizeof latest, "%s/checkpoints/LATEST", dir);
    write_latest(dir, "epoch-\001\033[2J\377.h5\n");
    expect_refused(dir, "LATEST with control bytes", latest, "epoch-\\x01\\x1b[2J\\xff.h5\\n");

    dir = fresh_copy("latest-symlink");
    snprintf(latest, sizeof latest, "%s/checkpoints/LATEST", dir);
    unlink(latest);
    char target[1300];
    snprintf(target, sizeof target, "%s/checkpoints/LATEST", ref_dir);
    CU_ASSERT_FATAL(symlink(target, latest) == 0);
    expect_refused(dir, "LATEST a symbolic link", latest, "is a symbolic link");

    /* the checkpoint itself a symbolic link to the same file elsewhere */
    dir = fresh_copy("ckpt-symlink");
    char *ckpt = rc_latest_checkpoint(dir), cmd[8192];
    snprintf(cmd, sizeof cmd, "mv '%s' '%s/elsewhere.h5' && ln -s '%s/elsewhere.h5' '%s'", ckpt, tmp, tmp, ckpt);
    CU_ASSERT_FATAL(run_command(cmd) == 0);
    expect_refused(dir, "checkpoint a symbolic link", ckpt, "is a symbolic link, not a plain file");
    free(ckpt);

    /* soft and external links inside the checkpoint, LATEST resealed */
    for (int external = 0; external < 2; external++) {
        dir = fresh_copy(external ? "external-link" : "soft-link");
        ckpt = rc_latest_checkpoint(dir);
        add_link(ckpt, external);
        reseal(dir);
        expect_refused(dir, external ? "external link" : "soft link", ckpt,
                       external ? "/borrowed is an external link" : "/alias is a soft link");
        free(ckpt);
    }

    /* a soft link in results.h5 */
    dir = fresh_copy("results-link");
    char results[1300];
    snprintf(results, sizeof results, "%s/results.h5", dir);
    hid_t f = H5Fopen(results, H5F_ACC_RDWR, H5P_DEFAULT);
    CU_ASSERT_FATAL(f >= 0);
    CU_ASSERT(H5Lcreate_soft("/metrics", f, "/alias", H5P_DEFAULT, H5P_DEFAULT) >= 0);
    H5Fclose(f);
    /* expect_refused compares results.h5 with its copy taken after this edit */
    expect_refused(dir, "soft link in results.h5", results, "/alias is a soft link");
}

/* ---- 4. output options never replace a run's own files --------------------------------------- */

/* exprun with args: exit 2, the log names the path and says why; path has the same bytes. */
static void expect_kept(const char *const *args, const char *path, const char *word) {
    char saved[1300], cmd[4096];
    snprintf(saved, sizeof saved, "%s/kept.before", tmp);
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", path, saved);
    CU_ASSERT_FATAL(run_command(cmd) == 0);
    const char *log = in_tmp("output.log");
    CU_ASSERT_EQUAL(rc_run_logged(args, log), 2);
    CU_ASSERT(rc_log_has(log, "refusing to write", word));
    CU_ASSERT(same_bytes(path, saved));
    unlink(saved);
}

static void test_outputs_confined(void) {
    char latest[1300], results[1300], status[1300], link[1300];
    snprintf(latest, sizeof latest, "%s/checkpoints/LATEST", ref_dir);
    snprintf(results, sizeof results, "%s/results.h5", ref_dir);
    snprintf(status, sizeof status, "%s/status", ref_dir);
    const char *encode_latest[] = {"encode", ref_dir, "train", "--out", latest, "--quiet", NULL};
    expect_kept(encode_latest, latest, "is in the checkpoints of run");
    const char *encode_results[] = {"encode", ref_dir, "train", "--out", results, "--quiet", NULL};
    expect_kept(encode_results, results, "the metrics and results");
    const char *plot_results[] = {"plot", ref_dir, "-o", results, NULL};
    expect_kept(plot_results, results, "the metrics and results");
    const char *plot_status[] = {"plot", ref_dir, "-o", status, NULL};
    expect_kept(plot_status, status, "the status");
    /* through a symbolic link elsewhere */
    snprintf(link, sizeof link, "%s/innocent.png", tmp);
    unlink(link);
    CU_ASSERT_FATAL(symlink(results, link) == 0);
    const char *plot_link[] = {"plot", ref_dir, "-o", link, NULL};
    expect_kept(plot_link, results, "the metrics and results");
    /* A file of its own in the run directory is fine, as is encode's default. */
    char own[1300];
    snprintf(own, sizeof own, "%s/curves.png", ref_dir);
    const char *plot_own[] = {"plot", ref_dir, "-o", own, NULL};
    CU_ASSERT_EQUAL(rc_run_logged(plot_own, in_tmp("plot.log")), 0);
    CU_ASSERT(rc_exists(own));
    const char *encode_default[] = {"encode", ref_dir, "train", "--quiet", NULL};
    CU_ASSERT_EQUAL(rc_run_logged(encode_default, in_tmp("encode.log")), 0);
}

/* ---- randomized damage ---------------------------------------------------------------------- */

typedef struct Outcomes {
    int refused, identical, crashed, hung, diverged, other;
} Outcomes;

/* Wait for pid up to `seconds`; kill it after. Its exit status, 128 + signal, or -1 if it hung. */
static int wait_bounded(pid_t pid, double seconds) {
    double until = rc_now() + seconds;
    for (;;) {
        int st = 0;
        pid_t got = waitpid(pid, &st, WNOHANG);
        if (got == pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (rc_now() > until) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        rc_sleep(0.005);
    }
}

typedef enum DamagePath { BY_RESUME, BY_RESUME_RESEALED, BY_INIT_FROM } DamagePath;
static const char *const PATH_NAME[] = {"resume", "resume, file and LATEST resealed", "--init-from"};

/* Damage a fresh copy of the stopped run's checkpoint — one random bit, or (one time in four) a
 * random range of 1 to 64 bytes made random — and use it: resume the run; or resume it after
 * resealing the file and LATEST, so that the damage meets HDF5's parser and the file's own
 * checks instead of the digests; or start a new run --init-from it. Every outcome must be a
 * refusal (exit 3, naming the file; for --init-from, no run directory made) or the same result
 * as with the undamaged file: a resume bit-identical to the run never stopped, an --init-from
 * run that starts only when the damage fell in the seal's zero padding, which nothing reads. */
static void damage_and_use(Rng *rng, DamagePath how, Outcomes *o, int verbose) {
    const char *dir = fresh_copy("damaged");
    char *ckpt = rc_latest_checkpoint(dir);
    size_t len = 0;
    unsigned char *bytes = (unsigned char *)bytes_of(ckpt, &len);
    CU_ASSERT_FATAL(bytes && len > 0);
    char what[128];
    size_t lo, hi;   /* the damaged bytes [lo, hi) */
    if (rng_below(rng, 4) == 0) {
        size_t n = 1 + (size_t)rng_below(rng, 64), at = (size_t)rng_below(rng, len);
        if (at + n > len) n = len - at;
        for (size_t i = 0; i < n; i++) bytes[at + i] = (unsigned char)rng_below(rng, 256);
        snprintf(what, sizeof what, "%zu random bytes at %zu", n, at);
        lo = at, hi = at + n;
    } else {
        size_t at = (size_t)rng_below(rng, len);
        int bit = (int)rng_below(rng, 8);
        bytes[at] ^= (unsigned char)(1u << bit);
        snprintf(what, sizeof what, "bit %d of byte %zu", bit, at);
        lo = at, hi = at + 1;
    }
    rc_write_bytes(ckpt, bytes, len);
    free(bytes);
    if (how == BY_RESUME_RESEALED) reseal(dir);
    const char *log = in_tmp("damaged.log");
    char out[1300];
    snprintf(out, sizeof out, "%s-init", dir);
    unlink(log);
    const char *resume_args[] = {"resume", dir, "--quiet", NULL};
    const char *init_args[] = {spec_path, "train.epochs=1", "--init-from", ckpt, "--out", out, "--quiet", NULL};
    int rc = wait_bounded(rc_spawn(how == BY_INIT_FROM ? init_args : resume_args, log), 120);
    char *text = rc_slurp(log);
    const char *kind = "other";
    const size_t seal_line = strlen(H5SEAL_MAGIC) + 7 + 64 + 1;
    int same = how == BY_INIT_FROM ? lo >= seal_line && hi <= H5SEAL_BYTES : rc == 0 && rc_same_run(ref_dir, dir, 0);
    if (rc == 3 && text && (strstr(text, ckpt) || strstr(text, "LATEST")) && !(how == BY_INIT_FROM && rc_exists(out)))
        o->refused++, kind = "refused";
    else if (rc == 0 && same) o->identical++, kind = "identical";
    else if (rc == 0) o->diverged++, kind = "SILENTLY DIFFERENT";
    else if (rc == -1) o->hung++, kind = "HUNG";
    else if (rc >= 128) o->crashed++, kind = "CRASHED";
    else o->other++;
    if (strcmp(kind, "refused") && strcmp(kind, "identical")) {
        char cmd[4096];   /* kept for a look: the run directory as damaged */
        snprintf(cmd, sizeof cmd, "cp -a '%s' '%s-%d'", dir, dir, o->crashed + o->hung + o->diverged + o->other);
        run_command(cmd);
    }
    if (verbose || (strcmp(kind, "refused") && strcmp(kind, "identical")))
        fprintf(stderr, "\n  %s (%s): exit %d, %s%s%.300s", what, PATH_NAME[how], rc, kind, text && *text ? ": " : "",
                text ? text : "");
    char cmd[1400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", out);
    run_command(cmd);
    free(text);
    free(ckpt);
}

/* EXPRUN_DAMAGE_FLIPS damaged files (default 60), alternately resumed and given to --init-from;
 * with EXPRUN_DAMAGE_RESEAL=1, all resumed past the digests instead (the parser's own test). */
static void test_random_damage(void) {
    const char *n_env = getenv("EXPRUN_DAMAGE_FLIPS"), *seed_env = getenv("EXPRUN_DAMAGE_SEED");
    int flips = n_env ? atoi(n_env) : 60;
    uint64_t seed = seed_env ? strtoull(seed_env, NULL, 10) : 20261204;
    int verbose = getenv("EXPRUN_DAMAGE_VERBOSE") != NULL;
    int resealed = getenv("EXPRUN_DAMAGE_RESEAL") && atoi(getenv("EXPRUN_DAMAGE_RESEAL")) != 0;
    Rng rng;
    rng_seed(&rng, seed);
    Outcomes o[3];
    memset(o, 0, sizeof o);
    for (int i = 0; i < flips; i++) {
        DamagePath how = resealed ? BY_RESUME_RESEALED : i % 2 ? BY_INIT_FROM : BY_RESUME;
        damage_and_use(&rng, how, &o[how], verbose);
    }
    for (int k = 0; k < 3; k++) {
        if (o[k].refused + o[k].identical + o[k].crashed + o[k].hung + o[k].diverged + o[k].other == 0) continue;
        printf("[%s: %d refused, %d identical, %d crashed, %d hung, %d silently different, %d other] ", PATH_NAME[k],
               o[k].refused, o[k].identical, o[k].crashed, o[k].hung, o[k].diverged, o[k].other);
        CU_ASSERT_EQUAL(o[k].crashed + o[k].hung + o[k].diverged + o[k].other, 0);
    }
    printf("[%d damaged checkpoints, seed %llu] ", flips, (unsigned long long)seed);
}

int main(void) {
    tmp = make_temp_dir("trust");
    if (!tmp) return 1;
    unsetenv("EXPRUN_STOP_AFTER_STEPS");
    unsetenv("EXPRUN_TEST_PUBLISH_PAUSE_US");
    make_runs();
    TestCase cases[] = {
        {"loop state out of range (epoch, step, batch, t, RNG, cursor): exit 3, nothing changed", test_loop_state},
        {"stopped after an epoch's last step: resumes to the same bits", test_stop_at_epoch_end},
        {"the checkpoint's bytes against LATEST's SHA-256; a LATEST without one warns", test_digest},
        {"every dataset against its own SHA-256, values finite; --init-from checked first", test_dataset_checksums},
        {"LATEST, the checkpoint and HDF5 links confined to the run: exit 3, bytes escaped", test_confined},
        {"encode --out and plot -o never replace a run's own files: exit 2", test_outputs_confined},
        {"random damage to the checkpoint: refused or bit-identical, never a crash or a hang", test_random_damage},
        {NULL, NULL}};
    int rc = run_tests_in("trust", cases, tmp);
    free(stopped_ckpt);
    return rc;
}
