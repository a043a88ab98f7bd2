#include "runcheck.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "fixtures.h"
#include "publish.h"
#include "h5read.h"
#include "rng.h"
#include "testutil.h"

/* ---- processes ---------------------------------------------------------------------------- */

static pid_t spawn(const char *const *args, const char *log, long max_file_bytes, int new_session);

pid_t rc_spawn(const char *const *args, const char *log) { return spawn(args, log, 0, 0); }

pid_t rc_spawn_limited(const char *const *args, const char *log, long max_file_bytes) {
    return spawn(args, log, max_file_bytes, 0);
}

pid_t rc_spawn_session(const char *const *args, const char *log) { return spawn(args, log, 0, 1); }

static pid_t spawn(const char *const *args, const char *log, long max_file_bytes, int new_session) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid != 0) return pid;
    if (new_session) setsid();
    if (max_file_bytes > 0) {
        /* A write past the limit fails with EFBIG, as on a full disk (ENOSPC); SIGXFSZ, which
         * would kill the process instead, is ignored — and stays ignored across exec. */
        signal(SIGXFSZ, SIG_IGN);
        struct rlimit lim = {(rlim_t)max_file_bytes, (rlim_t)max_file_bytes};
        if (setrlimit(RLIMIT_FSIZE, &lim) != 0) _exit(126);
    }
    int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0666);
    if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
    const char *argv[32] = {"exprun"};
    int n = 1;
    for (; args[n - 1] && n < 31; n++) argv[n] = args[n - 1];
    argv[n] = NULL;
    execv(exprun_bin(), (char *const *)argv);
    _exit(127);
}

int rc_wait(pid_t pid) {
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {}
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int rc_run(const char *const *args, const char *log) { return rc_wait(rc_spawn(args, log)); }

int rc_run_logged(const char *const *args, const char *log) {
    unlink(log);
    return rc_run(args, log);
}

int rc_log_has(const char *log, const char *a, const char *b) {
    char *text = rc_slurp(log);
    int ok = text && strstr(text, a) && (!b || strstr(text, b));
    if (!ok) fprintf(stderr, "\n  %s lacks '%s'%s%s: %s\n", log, a, b ? " / " : "", b ? b : "", text ? text : "(none)");
    free(text);
    return ok;
}

const char *rc_in_dir(const char *dir, const char *name) {
    static char bufs[8][1100];
    static int k = 0;
    char *b = bufs[k++ % 8];
    snprintf(b, sizeof bufs[0], "%s/%s", dir, name);
    return b;
}

int rc_wait_for_file(pid_t pid, const char *dir, const char *after, const char *suffix) {
    char ckpt[4200], path[4400];
    snprintf(ckpt, sizeof ckpt, "%s/checkpoints", dir);
    for (int i = 0; i < 40000; i++) {
        siginfo_t info;
        memset(&info, 0, sizeof info);
        if (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0 && info.si_pid == pid) return 0;
        snprintf(path, sizeof path, "%s/%s", ckpt, after ? after : "");
        if (!after || rc_exists(path)) {
            const char *dirs[2] = {dir, ckpt};
            for (int k = after ? 1 : 0; k < 2; k++)
                if (rc_count_files(dirs[k], suffix) > 0) return 1;
        }
        rc_sleep(0.0005);
    }
    return 0;
}

/* ---- files ------------------------------------------------------------------------------- */

double rc_now(void) { return now_seconds(); }

void rc_sleep(double s) {
    if (s <= 0) return;
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

char *rc_slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap);
    while ((got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    buf[n] = '\0';
    fclose(f);
    return buf;
}

char *rc_slurp_text(const char *path) {
    char *text = rc_slurp(path);
    return text ? text : strdup("");
}

void rc_write_bytes(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len) {
        perror(path);
        exit(1);
    }
    fclose(f);
}

void rc_write_text(const char *path, const char *text) { rc_write_bytes(path, text, strlen(text)); }

int rc_exists(const char *path) { return access(path, F_OK) == 0; }

int rc_ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

const char *rc_plain_name(const char *name, char *buf, size_t cap) {
    size_t len = 0;
    if (!publish_is_temp(name, &len)) return name;
    snprintf(buf, cap, "%.*s.tmp", (int)len, name);
    return buf;
}

int rc_count_files(const char *dir, const char *suffix) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    int n = 0;
    struct dirent *e;
    char plain[512];
    while ((e = readdir(d)))
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
             rc_ends_with(rc_plain_name(e->d_name, plain, sizeof plain), suffix);
    closedir(d);
    return n;
}

void rc_make_table(const char *path, int n, uint64_t seed) {
    enum { D = 24 };
    float *x = malloc((size_t)n * D * sizeof *x);
    Rng r;
    rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        float z[3] = {rng_uniform(&r), rng_uniform(&r), rng_uniform(&r)};
        for (int j = 0; j < D; j++) {
            float v = 0.5f * z[j % 3] + 0.3f * z[(j / 3) % 3] + 0.1f * rng_uniform(&r);
            x[i * D + j] = v > 1.0f ? 1.0f : v;
        }
    }
    fixture_write_h5(path, x, NULL, n, D);
    free(x);
}

/* ---- run directories ------------------------------------------------------------------------ */

void rc_write_small_ae(const char *dir, const char *name, char *spec_path, char *data_path) {
    snprintf(data_path, 1024, "%s/data.h5", dir);
    rc_make_table(data_path, 400, 5);
    char text[2400];
    snprintf(text, sizeof text,
             "version: 1\nname: %s\nseed: 7\nthreads: 1\n"
             "data: {source: hdf5, path: %s, dataset: x}\n"
             "model:\n  type: autoencoder\n  code: 6\n  hidden: [{units: 16, activation: tanh}]\n"
             "  noise: {type: masking, rate: 0.2}\n"
             "loss: squared_error\noptimizer: {type: adam, lr: 0.01}\nschedule: {type: cosine}\n"
             "train: {epochs: 30, batch_size: 16}\noutput: {root: %s/results}\n",
             name, data_path, dir);
    snprintf(spec_path, 1024, "%s/spec.yaml", dir);
    rc_write_text(spec_path, text);
}

char *rc_latest_checkpoint(const char *dir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/checkpoints/LATEST", dir);
    char *latest = rc_slurp(path);
    if (!latest) return NULL;
    latest[strcspn(latest, "\n")] = '\0';
    size_t len = strlen(dir) + strlen(latest) + 16;
    char *full = malloc(len);
    snprintf(full, len, "%s/checkpoints/%s", dir, latest);
    free(latest);
    return full;
}

static int verbose_compare = 1;

/* What differs, for the test's output (rc_same_run's verbose). */
__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...) {
    if (!verbose_compare) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("\n  ", stderr);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

int rc_is_wall_time_column(const char *name) {
    return strcmp(name, "epoch_time") == 0 || strcmp(name, "eval_time") == 0 || strcmp(name, "sample_time") == 0 ||
           rc_ends_with(name, "_per_sec");
}

/* Every dataset under group in both files: same shape and type, the same bytes. */
static int same_datasets(H5Reader *a, H5Reader *b, const char *group) {
    ExError err;
    size_t na = 0, nb = 0;
    char **pa = NULL, **pb = NULL;
    if (h5r_list_datasets(a, group, &na, &pa, &err) != 0 || h5r_list_datasets(b, group, &nb, &pb, &err) != 0) {
        say("%s: %s\n", group, err.msg);
        return 0;
    }
    int same = na == nb && na > 0;
    if (!same) say("%s: %zu datasets, the reference has %zu\n", group, nb, na);
    for (size_t i = 0; same && i < na; i++) {
        H5RInfo ia, ib;
        same = strcmp(pa[i], pb[i]) == 0 && h5r_info(a, pa[i], &ia, &err) == 0 && h5r_info(b, pb[i], &ib, &err) == 0 &&
               ia.rank == ib.rank && ia.kind == ib.kind && ia.elem_size == ib.elem_size &&
               memcmp(ia.dims, ib.dims, sizeof ia.dims) == 0;
        if (!same) {
            say("%s: not the dataset of the reference\n", pb[i]);
            break;
        }
        if (strstr(pa[i], "/clock_")) continue;   /* a clock (seconds): not part of the bits */
        int shape[H5R_MAX_RANK];
        size_t count = 1;
        for (int k = 0; k < ia.rank; k++) {
            shape[k] = (int)ia.dims[k];
            count *= (size_t)ia.dims[k];
        }
        size_t bytes = count * 8;
        void *xa = calloc(count ? count : 1, 8), *xb = calloc(count ? count : 1, 8);
        int ra, rb;
        if (ia.kind == 'f' && ia.elem_size == 4) {
            ra = h5r_read_floats(a, pa[i], ia.rank, shape, xa, &err);
            rb = h5r_read_floats(b, pb[i], ia.rank, shape, xb, &err);
            bytes = count * 4;
        } else if (ia.kind == 'f') {
            ra = h5r_read_doubles(a, pa[i], ia.rank, shape, xa, &err);
            rb = h5r_read_doubles(b, pb[i], ia.rank, shape, xb, &err);
        } else if (ia.kind == 'u') {
            ra = h5r_read_uint64s(a, pa[i], ia.rank, shape, xa, &err);
            rb = h5r_read_uint64s(b, pb[i], ia.rank, shape, xb, &err);
        } else {
            ra = h5r_read_int64s(a, pa[i], ia.rank, shape, xa, &err);
            rb = h5r_read_int64s(b, pb[i], ia.rank, shape, xb, &err);
        }
        same = ra == 0 && rb == 0 && memcmp(xa, xb, bytes) == 0;
        if (!same) say("%s differs from the reference\n", pa[i]);
        free(xa);
        free(xb);
    }
    h5r_free_strings(pa, na);
    h5r_free_strings(pb, nb);
    return same;
}

static int same_metrics(H5Reader *a, H5Reader *b, const char *table) {
    if (strcmp(table, "/metrics/steps") == 0 && !h5r_exists(a, table) && !h5r_exists(b, table)) return 1;
    ExError err;
    int na = 0, nb = 0;
    char **names_a = NULL, **names_b = NULL;
    int64_t ra = 0, rb = 0;
    double *rows_a = NULL, *rows_b = NULL;
    int same = h5r_read_table(a, table, &na, &names_a, &ra, &rows_a, &err) == 0 &&
               h5r_read_table(b, table, &nb, &names_b, &rb, &rows_b, &err) == 0 && na == nb && ra == rb && ra > 0;
    if (!same) say("%s: %d columns x %lld rows, the reference %d x %lld\n", table, nb, (long long)rb, na, (long long)ra);
    for (int c = 0; same && c < na; c++) {
        same = strcmp(names_a[c], names_b[c]) == 0;
        if (!same || rc_is_wall_time_column(names_a[c])) continue;
        for (int64_t r = 0; same && r < ra; r++)
            same = memcmp(&rows_a[r * na + c], &rows_b[r * nb + c], sizeof(double)) == 0;
        if (!same) say("%s: column %s differs from the reference\n", table, names_a[c]);
    }
    h5r_free_strings(names_a, (size_t)na);
    h5r_free_strings(names_b, (size_t)nb);
    free(rows_a);
    free(rows_b);
    return same;
}

static int same_strings(H5Reader *a, H5Reader *b, const char *dset) {
    if (!h5r_exists(a, dset) && !h5r_exists(b, dset)) return 1;
    ExError err;
    size_t na = 0, nb = 0;
    char **ta = NULL, **tb = NULL;
    int same = h5r_read_strings(a, dset, &na, &ta, &err) == 0 && h5r_read_strings(b, dset, &nb, &tb, &err) == 0 &&
               na == nb;
    for (size_t i = 0; same && i < na; i++) same = strcmp(ta[i], tb[i]) == 0;
    if (!same) say("%s differs from the reference\n", dset);
    h5r_free_strings(ta, na);
    h5r_free_strings(tb, nb);
    return same;
}

/* metrics.csv is rebuilt from the same table: equal but for the wall-time columns. */
static int same_csv(const char *dir_a, const char *dir_b, const char *name) {
    char pa[4200], pb[4200];
    snprintf(pa, sizeof pa, "%s/%s", dir_a, name);
    snprintf(pb, sizeof pb, "%s/%s", dir_b, name);
    char *a = rc_slurp(pa), *b = rc_slurp(pb);
    if (!a && !b && strcmp(name, "steps.csv") == 0) return 1;   /* train.log_every 0, or an older build */
    int same = a && b;
    char *sa = NULL, *sb = NULL;
    int wall[64] = {0}, line = 0;
    char *la = same ? strtok_r(a, "\n", &sa) : NULL, *lb = same ? strtok_r(b, "\n", &sb) : NULL;
    for (; same && (la || lb); la = strtok_r(NULL, "\n", &sa), lb = strtok_r(NULL, "\n", &sb), line++) {
        if (!la || !lb) {
            same = 0;
            break;
        }
        char *fa = NULL, *fb = NULL;
        char *xa = strtok_r(la, ",", &fa), *xb = strtok_r(lb, ",", &fb);
        for (int col = 0; same && (xa || xb); xa = strtok_r(NULL, ",", &fa), xb = strtok_r(NULL, ",", &fb), col++) {
            if (!xa || !xb || col >= 64) {
                same = 0;
                break;
            }
            if (line == 0) wall[col] = rc_is_wall_time_column(xa);
            if (!wall[col]) same = strcmp(xa, xb) == 0;
        }
    }
    if (!same) say("%s differs from the reference (line %d)\n", pb, line + 1);
    free(a);
    free(b);
    return same;
}

int rc_same_run(const char *dir_a, const char *dir_b, int verbose) {
    verbose_compare = verbose;
    char *ca = rc_latest_checkpoint(dir_a), *cb = rc_latest_checkpoint(dir_b);
    int same = ca && cb && strcmp(strrchr(ca, '/'), strrchr(cb, '/')) == 0;
    if (!same) say("LATEST: %s, the reference %s\n", cb ? cb : "(none)", ca ? ca : "(none)");
    H5Reader *a = NULL, *b = NULL;
    ExError err;
    if (same && h5r_open(&a, ca, &err) == 0 && h5r_open(&b, cb, &err) == 0) {
        same = same_datasets(a, b, "/model") && same_datasets(a, b, "/optimizer") && same_datasets(a, b, "/state");
        int64_t sa = -1, sb = -2, ea = -1, eb = -2;
        h5r_attr_int(a, "/", "step", &sa, &err);
        h5r_attr_int(b, "/", "step", &sb, &err);
        h5r_attr_int(a, "/", "epoch", &ea, &err);
        h5r_attr_int(b, "/", "epoch", &eb, &err);
        same = same && sa == sb && ea == eb;
    } else {
        same = 0;
    }
    h5r_close(a);
    h5r_close(b);
    a = b = NULL;
    free(ca);
    free(cb);

    char pa[4200], pb[4200];
    snprintf(pa, sizeof pa, "%s/results.h5", dir_a);
    snprintf(pb, sizeof pb, "%s/results.h5", dir_b);
    if (same && h5r_open(&a, pa, &err) == 0 && h5r_open(&b, pb, &err) == 0) {
        same = same_metrics(a, b, "/metrics/epochs") && same_metrics(a, b, "/metrics/steps") &&
               same_strings(a, b, "/samples/text");
        if (same && h5r_exists(a, "/diagnostics")) same = same_datasets(a, b, "/diagnostics");
    } else {
        same = 0;
    }
    h5r_close(a);
    h5r_close(b);
    return same && same_csv(dir_a, dir_b, "metrics.csv") && same_csv(dir_a, dir_b, "steps.csv");
}

int rc_h5_files_open(const char *dir) {
    char sub[4200];
    snprintf(sub, sizeof sub, "%s/checkpoints", dir);
    const char *dirs[2] = {dir, sub};
    int n = 0;
    for (int k = 0; k < 2; k++) {
        DIR *d = opendir(dirs[k]);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (!rc_ends_with(e->d_name, ".h5")) continue;
            char path[4400];
            snprintf(path, sizeof path, "%s/%s", dirs[k], e->d_name);
            H5Reader *r = NULL;
            ExError err;
            if (h5r_open(&r, path, &err) != 0) {
                fprintf(stderr, "\n  %s does not open: %s\n", path, err.msg);
                closedir(d);
                return -1;
            }
            h5r_close(r);
            n++;
        }
        if (d) closedir(d);
    }
    return n;
}

int rc_metrics_column(const char *run, const char *col, double *out, int cap) {
    char path[4200];
    snprintf(path, sizeof path, "%s/results.h5", run);
    H5Reader *r = NULL;
    ExError err;
    if (h5r_open(&r, path, &err) != 0) return -1;
    int ncols = 0, found = -1;
    char **names = NULL;
    int64_t nrows = 0;
    double *rows = NULL;
    if (h5r_read_table(r, "/metrics/epochs", &ncols, &names, &nrows, &rows, &err) == 0) {
        for (int c = 0; c < ncols; c++)
            if (strcmp(names[c], col) == 0) found = c;
        for (int64_t i = 0; i < nrows && i < cap && found >= 0; i++) out[i] = rows[i * ncols + found];
        h5r_free_strings(names, (size_t)ncols);
        free(rows);
    }
    h5r_close(r);
    return found < 0 ? -1 : (int)nrows;
}

int rc_sh(const char *dir, const char *fmt, ...) {
    char cmd[16384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    char full[17000];
    snprintf(full, sizeof full, "cd %s && %s", dir, cmd);
    return run_command(full);
}
