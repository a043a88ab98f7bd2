/* h5read.c — checked reads of HDF5 datasets and attributes.
 *
 * Every public function silences HDF5's error printing for its duration and reports failures
 * as "FILE: what (HDF5: innermost reason)". */
#include "h5read.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "h5util.h"

struct H5Reader {
    hid_t file;
    char *path;
};

static char *dup_str(const char *s) {
    size_t n = strlen(s);
    char *d = ex_malloc(n + 1);
    memcpy(d, s, n + 1);
    return d;
}

const char *h5r_path(const H5Reader *r) { return r->path; }

int h5r_open(H5Reader **out, const char *path, ExError *err) {
    *out = NULL;
    /* Plain open() first: a missing or unreadable file gets the system's words for it. */
    int fd = open(path, O_RDONLY);
    if (fd < 0) return ex_fail(err, "%s: %s", path, strerror(errno));
    struct stat st;
    int is_dir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
    close(fd);
    if (is_dir) return ex_fail(err, "%s: is a directory, not an HDF5 file", path);

    H5Quiet q;
    h5_quiet_begin(&q);
    hid_t fapl = h5_fapl();
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, fapl);
    char reason[512] = "";
    if (file < 0) h5_reason(reason, sizeof reason);
    H5Pclose(fapl);
    h5_quiet_end(&q);
    if (file < 0) {
        if (strstr(reason, "unable to lock") || strstr(reason, "already open for write"))
            return ex_fail(err, "%s: cannot open: another process holds it open for writing "
                           "(HDF5: %s)", path, reason);
        return ex_fail(err, "%s: not an HDF5 file or truncated (HDF5: %s)", path, reason);
    }
    H5Reader *r = ex_calloc(1, sizeof *r);
    r->file = file;
    r->path = dup_str(path);
    *out = r;
    return 0;
}

void h5r_close(H5Reader *r) {
    if (!r) return;
    H5Quiet q;
    h5_quiet_begin(&q);
    H5Fclose(r->file);
    h5_quiet_end(&q);
    free(r->path);
    free(r);
}

int h5r_exists(const H5Reader *r, const char *obj_path) {
    H5Quiet q;
    h5_quiet_begin(&q);
    int e = h5_path_exists(r->file, obj_path);
    h5_quiet_end(&q);
    return e;
}

int h5r_has_attr(const H5Reader *r, const char *obj_path, const char *name) {
    H5Quiet q;
    h5_quiet_begin(&q);
    int e = h5_path_exists(r->file, obj_path) &&
            H5Aexists_by_name(r->file, obj_path, name, H5P_DEFAULT) > 0;
    h5_quiet_end(&q);
    return e;
}

/* --- shapes and classes ---------------------------------------------------------------- */

static const char *class_name(H5T_class_t c) {
    switch (c) {
    case H5T_INTEGER: return "integers";
    case H5T_FLOAT: return "floats";
    case H5T_STRING: return "strings";
    case H5T_COMPOUND: return "a compound table";
    default: return "another type";
    }
}

/* "784x64", "scalar" for rank 0. */
static const char *dims_string(char *buf, size_t cap, int rank, const hsize_t *dims) {
    if (rank == 0) {
        snprintf(buf, cap, "scalar");
        return buf;
    }
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < rank && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, i ? "x%llu" : "%llu",
                                 (unsigned long long)dims[i]);
    return buf;
}

/* Open dataset dset, checking it exists and is one; -1 after filling err. */
static hid_t open_dataset(const H5Reader *r, const char *dset, ExError *err) {
    if (!h5_path_exists(r->file, dset)) {
        ex_fail(err, "%s: no dataset %s", r->path, dset);
        return -1;
    }
    hid_t d = H5Dopen2(r->file, dset, H5P_DEFAULT);
    if (d < 0) {
        char reason[512];
        h5_reason(reason, sizeof reason);
        ex_fail(err, "%s: %s is not a readable dataset (HDF5: %s)", r->path, dset, reason);
    }
    return d;
}

/* Rank and dims of a dataspace; -1 if it is not simple or has more than H5R_MAX_RANK axes. */
static int space_dims(hid_t space, int *rank, hsize_t *dims) {
    int nd = H5Sget_simple_extent_ndims(space);
    if (nd < 0 || nd > H5R_MAX_RANK) return -1;
    if (H5Sget_simple_extent_dims(space, dims, NULL) < 0) return -1;
    *rank = nd;
    return 0;
}

const char *h5r_shape_string(char *buf, size_t cap, int rank, const int64_t *dims) {
    hsize_t hd[H5R_MAX_RANK] = {0};
    for (int i = 0; i < rank && i < H5R_MAX_RANK; i++) hd[i] = (hsize_t)dims[i];
    return dims_string(buf, cap, rank < H5R_MAX_RANK ? rank : H5R_MAX_RANK, hd);
}

int h5r_info(const H5Reader *r, const char *dset, H5RInfo *info, ExError *err) {
    memset(info, 0, sizeof *info);
    H5Quiet q;
    h5_quiet_begin(&q);
    int rc = -1;
    hid_t d = open_dataset(r, dset, err);
    if (d >= 0) {
        hid_t s = H5Dget_space(d), t = H5Dget_type(d);
        hsize_t hd[H5R_MAX_RANK];
        if (s >= 0 && t >= 0 && space_dims(s, &info->rank, hd) == 0) {
            for (int i = 0; i < info->rank; i++) info->dims[i] = (int64_t)hd[i];
            info->elem_size = H5Tget_size(t);
            switch (H5Tget_class(t)) {
            case H5T_FLOAT: info->kind = 'f'; break;
            case H5T_INTEGER: info->kind = H5Tget_sign(t) == H5T_SGN_NONE ? 'u' : 'i'; break;
            case H5T_STRING: info->kind = 'S'; break;
            case H5T_COMPOUND: info->kind = 'V'; break;
            default: info->kind = '?'; break;
            }
            rc = 0;
        } else {
            ex_fail(err, "%s: dataset %s has more than %d axes or no simple shape", r->path, dset,
                    H5R_MAX_RANK);
        }
        if (t >= 0) H5Tclose(t);
        if (s >= 0) H5Sclose(s);
        H5Dclose(d);
    }
    h5_quiet_end(&q);
    return rc;
}

int h5r_shape(const H5Reader *r, const char *dset, int *rank, int64_t *dims, ExError *err) {
    H5RInfo info;
    *rank = 0;
    if (h5r_info(r, dset, &info, err)) return -1;
    *rank = info.rank;
    for (int i = 0; i < info.rank; i++) dims[i] = info.dims[i];
    return 0;
}

static int read_numbers(const H5Reader *r, const char *dset, int rank, const int *shape,
                        hid_t mtype, H5T_class_t want, void *out, ExError *err) {
    H5Quiet q;
    h5_quiet_begin(&q);
    int rc = -1;
    hid_t t = -1, s = -1;
    hid_t d = open_dataset(r, dset, err);
    if (d < 0) goto done;
    t = H5Dget_type(d);
    H5T_class_t cls = H5Tget_class(t);
    if (cls != want) {
        ex_fail(err, "%s: dataset %s holds %s, expected %s", r->path, dset, class_name(cls),
                class_name(want));
        goto done;
    }
    s = H5Dget_space(d);
    int found_rank = 0;
    hsize_t found[H5R_MAX_RANK];
    if (s < 0 || space_dims(s, &found_rank, found) != 0) {
        ex_fail(err, "%s: dataset %s has no simple shape", r->path, dset);
        goto done;
    }
    int same = found_rank == rank;
    for (int i = 0; same && i < rank; i++) same = found[i] == (hsize_t)shape[i];
    if (!same) {
        char want_s[128], found_s[128];
        hsize_t wd[H5R_MAX_RANK] = {0};
        for (int i = 0; i < rank && i < H5R_MAX_RANK; i++) wd[i] = (hsize_t)shape[i];
        ex_fail(err, "%s: dataset %s has shape %s, expected %s", r->path, dset,
                dims_string(found_s, sizeof found_s, found_rank, found),
                dims_string(want_s, sizeof want_s, rank, wd));
        goto done;
    }
    if (H5Sget_simple_extent_npoints(s) > 0 &&
        H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0) {
        char reason[512];
        h5_reason(reason, sizeof reason);
        ex_fail(err, "%s: reading dataset %s failed (HDF5: %s)", r->path, dset, reason);
        goto done;
    }
    rc = 0;
done:
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
    if (d >= 0) H5Dclose(d);
    h5_quiet_end(&q);
    return rc;
}

int h5r_read_floats(const H5Reader *r, const char *dset, int rank, const int *shape, float *out,
                    ExError *err) {
    return read_numbers(r, dset, rank, shape, H5T_NATIVE_FLOAT, H5T_FLOAT, out, err);
}
int h5r_read_doubles(const H5Reader *r, const char *dset, int rank, const int *shape,
                     double *out, ExError *err) {
    return read_numbers(r, dset, rank, shape, H5T_NATIVE_DOUBLE, H5T_FLOAT, out, err);
}
int h5r_read_int32s(const H5Reader *r, const char *dset, int rank, const int *shape,
                    int32_t *out, ExError *err) {
    return read_numbers(r, dset, rank, shape, H5T_NATIVE_INT32, H5T_INTEGER, out, err);
}
int h5r_read_int64s(const H5Reader *r, const char *dset, int rank, const int *shape,
                    int64_t *out, ExError *err) {
    return read_numbers(r, dset, rank, shape, H5T_NATIVE_INT64, H5T_INTEGER, out, err);
}
int h5r_read_uint64s(const H5Reader *r, const char *dset, int rank, const int *shape,
                     uint64_t *out, ExError *err) {
    return read_numbers(r, dset, rank, shape, H5T_NATIVE_UINT64, H5T_INTEGER, out, err);
}

/* --- strings --------------------------------------------------------------------------- */

/* Read every string of a dataset (is_attr = 0) or attribute (1) id with file type t over space s
 * into a malloc'd array of n malloc'd strings. Variable- and fixed-length both work. */
static int read_string_values(hid_t id, int is_attr, hid_t t, hid_t s, size_t *n, char ***out) {
    hssize_t np = H5Sget_simple_extent_npoints(s);
    if (np < 0) return -1;
    size_t count = (size_t)np;
    char **res = ex_calloc(count ? count : 1, sizeof *res);
    int rc = -1;
    if (H5Tis_variable_str(t) > 0) {
        hid_t mt = h5_utf8_type();
        H5Tset_cset(mt, H5Tget_cset(t));
        char **raw = ex_calloc(count ? count : 1, sizeof *raw);
        herr_t e = count == 0 ? 0
                   : is_attr  ? H5Aread(id, mt, raw)
                              : H5Dread(id, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw);
        if (e >= 0) {
            for (size_t i = 0; i < count; i++) res[i] = dup_str(raw[i] ? raw[i] : "");
            if (count) h5_vlen_reclaim(mt, s, raw);
            rc = 0;
        }
        free(raw);
        H5Tclose(mt);
    } else {
        /* Fixed length: read with one more byte per string and NUL termination. */
        size_t size = H5Tget_size(t);
        hid_t mt = H5Tcopy(H5T_C_S1);
        H5Tset_size(mt, size + 1);
        H5Tset_strpad(mt, H5T_STR_NULLTERM);
        H5Tset_cset(mt, H5Tget_cset(t));
        char *raw = ex_calloc(count ? count : 1, size + 1);
        herr_t e = count == 0 ? 0
                   : is_attr  ? H5Aread(id, mt, raw)
                              : H5Dread(id, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, raw);
        if (e >= 0) {
            for (size_t i = 0; i < count; i++) res[i] = dup_str(raw + i * (size + 1));
            rc = 0;
        }
        free(raw);
        H5Tclose(mt);
    }
    if (rc != 0) {
        free(res);
        return -1;
    }
    *n = count;
    *out = res;
    return 0;
}

void h5r_free_strings(char **strings, size_t n) {
    if (!strings) return;
    for (size_t i = 0; i < n; i++) free(strings[i]);
    free(strings);
}

/* want_scalar: 1 for one string (scalar, or one element), 0 for a 1-D array. */
static int read_string_dataset(const H5Reader *r, const char *dset, int want_scalar, size_t *n,
                               char ***out, ExError *err) {
    H5Quiet q;
    h5_quiet_begin(&q);
    int rc = -1;
    hid_t t = -1, s = -1;
    hid_t d = open_dataset(r, dset, err);
    if (d < 0) goto done;
    t = H5Dget_type(d);
    s = H5Dget_space(d);
    if (H5Tget_class(t) != H5T_STRING) {
        ex_fail(err, "%s: dataset %s holds %s, expected strings", r->path, dset,
                class_name(H5Tget_class(t)));
        goto done;
    }
    int nd = H5Sget_simple_extent_ndims(s);
    hssize_t np = H5Sget_simple_extent_npoints(s);
    if (want_scalar ? np != 1 : nd != 1) {
        ex_fail(err, "%s: dataset %s holds %lld strings in %d axes, expected %s", r->path, dset,
                (long long)np, nd, want_scalar ? "a single string" : "a 1-D array of strings");
        goto done;
    }
    if (read_string_values(d, 0, t, s, n, out) != 0) {
        char reason[512];
        h5_reason(reason, sizeof reason);
        ex_fail(err, "%s: reading strings from %s failed (HDF5: %s)", r->path, dset, reason);
        goto done;
    }
    rc = 0;
done:
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
    if (d >= 0) H5Dclose(d);
    h5_quiet_end(&q);
    return rc;
}

int h5r_read_string(const H5Reader *r, const char *dset, char **out, ExError *err) {
    size_t n = 0;
    char **all = NULL;
    *out = NULL;
    if (read_string_dataset(r, dset, 1, &n, &all, err) != 0) return -1;
    *out = all[0];
    free(all);
    return 0;
}

int h5r_read_strings(const H5Reader *r, const char *dset, size_t *n, char ***out, ExError *err) {
    *n = 0;
    *out = NULL;
    return read_string_dataset(r, dset, 0, n, out, err);
}

/* --- attributes ------------------------------------------------------------------------ */

/* Open attribute name on obj_path, checking it is a single value; -1 after filling err. */
static hid_t open_attr(const H5Reader *r, const char *obj_path, const char *name, ExError *err) {
    if (!h5_path_exists(r->file, obj_path)) {
        ex_fail(err, "%s: no group or dataset %s (looking for its attribute '%s')", r->path,
                obj_path, name);
        return -1;
    }
    if (H5Aexists_by_name(r->file, obj_path, name, H5P_DEFAULT) <= 0) {
        ex_fail(err, "%s: %s has no attribute '%s'", r->path, obj_path, name);
        return -1;
    }
    hid_t a = H5Aopen_by_name(r->file, obj_path, name, H5P_DEFAULT, H5P_DEFAULT);
    if (a < 0) {
        char reason[512];
        h5_reason(reason, sizeof reason);
        ex_fail(err, "%s: cannot open attribute '%s' of %s (HDF5: %s)", r->path, name, obj_path,
                reason);
        return -1;
    }
    hid_t s = H5Aget_space(a);
    hssize_t np = s >= 0 ? H5Sget_simple_extent_npoints(s) : -1;
    if (s >= 0) H5Sclose(s);
    if (np != 1) {
        ex_fail(err, "%s: attribute '%s' of %s holds %lld values, expected one", r->path, name,
                obj_path, (long long)np);
        H5Aclose(a);
        return -1;
    }
    return a;
}

int h5r_attr_str(const H5Reader *r, const char *obj_path, const char *name, char **out,
                 ExError *err) {
    H5Quiet q;
    h5_quiet_begin(&q);
    *out = NULL;
    int rc = -1;
    hid_t a = open_attr(r, obj_path, name, err);
    if (a >= 0) {
        hid_t t = H5Aget_type(a), s = H5Aget_space(a);
        size_t n = 0;
        char **all = NULL;
        if (H5Tget_class(t) != H5T_STRING) {
            ex_fail(err, "%s: attribute '%s' of %s holds %s, expected a string", r->path, name,
                    obj_path, class_name(H5Tget_class(t)));
        } else if (read_string_values(a, 1, t, s, &n, &all) != 0) {
            char reason[512];
            h5_reason(reason, sizeof reason);
            ex_fail(err, "%s: reading attribute '%s' of %s failed (HDF5: %s)", r->path, name,
                    obj_path, reason);
        } else {
            *out = all[0];
            free(all);
            rc = 0;
        }
        H5Sclose(s);
        H5Tclose(t);
        H5Aclose(a);
    }
    h5_quiet_end(&q);
    return rc;
}

/* A scalar numeric attribute read as mtype; integers only where want_int. */
static int read_attr_number(const H5Reader *r, const char *obj_path, const char *name,
                            hid_t mtype, int want_int, void *out, ExError *err) {
    H5Quiet q;
    h5_quiet_begin(&q);
    int rc = -1;
    hid_t a = open_attr(r, obj_path, name, err);
    if (a >= 0) {
        hid_t t = H5Aget_type(a);
        H5T_class_t c = H5Tget_class(t);
        if (c != H5T_INTEGER && (want_int || c != H5T_FLOAT)) {
            ex_fail(err, "%s: attribute '%s' of %s holds %s, expected %s", r->path, name,
                    obj_path, class_name(c), want_int ? "an integer" : "a number");
        } else if (H5Aread(a, mtype, out) < 0) {
            char reason[512];
            h5_reason(reason, sizeof reason);
            ex_fail(err, "%s: reading attribute '%s' of %s failed (HDF5: %s)", r->path, name,
                    obj_path, reason);
        } else {
            rc = 0;
        }
        H5Tclose(t);
        H5Aclose(a);
    }
    h5_quiet_end(&q);
    return rc;
}

int h5r_attr_int(const H5Reader *r, const char *obj_path, const char *name, int64_t *out,
                 ExError *err) {
    return read_attr_number(r, obj_path, name, H5T_NATIVE_INT64, 1, out, err);
}

int h5r_attr_double(const H5Reader *r, const char *obj_path, const char *name, double *out,
                    ExError *err) {
    return read_attr_number(r, obj_path, name, H5T_NATIVE_DOUBLE, 0, out, err);
}

/* --- every numeric attribute of an object ---------------------------------------------- */

typedef struct AttrNumbers {
    char **names;
    double *values;
    size_t n;
} AttrNumbers;

static herr_t collect_number_attr(hid_t obj, const char *name, const H5A_info_t *info, void *data) {
    AttrNumbers *out = data;
    (void)info;
    hid_t a = H5Aopen(obj, name, H5P_DEFAULT);
    if (a < 0) return 0;
    hid_t t = H5Aget_type(a), s = H5Aget_space(a);
    H5T_class_t c = H5Tget_class(t);
    double v;
    if ((c == H5T_INTEGER || c == H5T_FLOAT) && H5Sget_simple_extent_npoints(s) == 1 &&
        H5Aread(a, H5T_NATIVE_DOUBLE, &v) >= 0) {
        out->names = realloc(out->names, (out->n + 1) * sizeof *out->names);
        out->values = realloc(out->values, (out->n + 1) * sizeof *out->values);
        out->names[out->n] = strdup(name);
        out->values[out->n++] = v;
    }
    H5Sclose(s);
    H5Tclose(t);
    H5Aclose(a);
    return 0;
}

int h5r_attr_numbers(const H5Reader *r, const char *obj_path, size_t *n, char ***names, double **values,
                     ExError *err) {
    AttrNumbers got = {0};
    *n = 0;
    *names = NULL;
    *values = NULL;
    H5Quiet q;
    h5_quiet_begin(&q);
    int rc = 0;
    if (!h5_path_exists(r->file, obj_path)) {
        rc = ex_fail(err, "%s: no object %s", r->path, obj_path);
    } else {
        hid_t obj = H5Oopen(r->file, obj_path, H5P_DEFAULT);
        if (obj < 0 || H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, NULL, collect_number_attr, &got) < 0) {
            h5r_free_strings(got.names, got.n);
            free(got.values);
            got = (AttrNumbers){0};
            rc = ex_fail(err, "%s: listing the attributes of %s failed", r->path, obj_path);
        }
        if (obj >= 0) H5Oclose(obj);
    }
    h5_quiet_end(&q);
    *n = got.n;
    *names = got.names;
    *values = got.values;
    return rc;
}

/* --- listing --------------------------------------------------------------------------- */

typedef struct ListCtx {
    hid_t group;
    const char *prefix;           /* the group path without a trailing "/" ("" for the root) */
    char **paths;
    size_t n, cap;
} ListCtx;

static herr_t collect_dataset(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    ListCtx *ctx = data;
    (void)g;
    if (info->type != H5L_TYPE_HARD) return 0;  /* soft and external links are not followed */
    hid_t obj = H5Oopen(ctx->group, name, H5P_DEFAULT);
    if (obj < 0) return 0;
    int is_dataset = H5Iget_type(obj) == H5I_DATASET;
    H5Oclose(obj);
    if (!is_dataset) return 0;
    if (ctx->n == ctx->cap) {
        ctx->cap = ctx->cap ? 2 * ctx->cap : 16;
        char **grown = realloc(ctx->paths, ctx->cap * sizeof *grown);
        if (!grown) return -1;
        ctx->paths = grown;
    }
    size_t len = strlen(ctx->prefix) + strlen(name) + 2;
    char *p = ex_malloc(len);
    snprintf(p, len, "%s/%s", ctx->prefix, name);
    ctx->paths[ctx->n++] = p;
    return 0;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int h5r_list_datasets(const H5Reader *r, const char *group, size_t *n, char ***paths,
                      ExError *err) {
    *n = 0;
    *paths = NULL;
    H5Quiet q;
    h5_quiet_begin(&q);
    int rc = -1;
    if (!h5_path_exists(r->file, group)) {
        ex_fail(err, "%s: no group %s", r->path, group);
        goto done;
    }
    hid_t g = H5Gopen2(r->file, group, H5P_DEFAULT);
    if (g < 0) {
        ex_fail(err, "%s: %s is not a group", r->path, group);
        goto done;
    }
    char prefix[1024];
    snprintf(prefix, sizeof prefix, "%s%s", group[0] == '/' ? "" : "/", group);
    size_t plen = strlen(prefix);
    while (plen > 0 && prefix[plen - 1] == '/') prefix[--plen] = '\0';
    ListCtx ctx = {g, prefix, NULL, 0, 0};
    herr_t e = H5Lvisit(g, H5_INDEX_NAME, H5_ITER_INC, collect_dataset, &ctx);
    H5Gclose(g);
    if (e < 0) {
        h5r_free_strings(ctx.paths, ctx.n);
        ex_fail(err, "%s: listing %s failed", r->path, group);
        goto done;
    }
    if (ctx.n > 1) qsort(ctx.paths, ctx.n, sizeof *ctx.paths, cmp_str);
    *n = ctx.n;
    *paths = ctx.paths;
    rc = 0;
done:
    h5_quiet_end(&q);
    return rc;
}

typedef struct LinkCtx {
    char first[512];              /* the first link that is not a hard link, escaped */
    int type;
} LinkCtx;

static herr_t find_non_hard_link(hid_t g, const char *name, const H5L_info_t *info, void *data) {
    LinkCtx *ctx = data;
    (void)g;
    if (info->type == H5L_TYPE_HARD) return 0;
    size_t o = 0;
    for (const unsigned char *c = (const unsigned char *)name; *c && o + 8 < sizeof ctx->first; c++)
        o += (size_t)snprintf(ctx->first + o, sizeof ctx->first - o, *c >= 32 && *c < 127 ? "%c" : "\\x%02x", *c);
    ctx->type = (int)info->type;
    return 1;   /* stop: one is enough to refuse the file */
}

int h5r_refuse_links(const H5Reader *r, ExError *err) {
    H5Quiet q;
    h5_quiet_begin(&q);
    LinkCtx ctx = {"", 0};
    herr_t e = H5Lvisit(r->file, H5_INDEX_NAME, H5_ITER_INC, find_non_hard_link, &ctx);
    h5_quiet_end(&q);
    if (e < 0) return ex_fail(err, "%s: its groups cannot be listed: the file is damaged", r->path);
    if (e == 0) return 0;
    return ex_fail(err, "%s: /%s is %s link, which exprun never writes: refusing a file whose reads could be sent "
                        "elsewhere (the file was edited or is not exprun's)",
                   r->path, ctx.first, ctx.type == H5L_TYPE_SOFT ? "a soft" : ctx.type == H5L_TYPE_EXTERNAL ? "an external" : "a user-defined");
}

int h5r_open_own(H5Reader **out, const char *path, ExError *err) {
    if (h5r_open(out, path, err)) return -1;
    if (h5r_refuse_links(*out, err) == 0) return 0;
    h5r_close(*out);
    *out = NULL;
    return -1;
}

/* --- tables ---------------------------------------------------------------------------- */

int h5r_read_table(const H5Reader *r, const char *dset, int *ncols, char ***names,
                   int64_t *nrows, double **rows, ExError *err) {
    *ncols = 0;
    *names = NULL;
    *nrows = 0;
    *rows = NULL;
    H5Quiet q;
    h5_quiet_begin(&q);
    int rc = -1, nm = 0;
    hid_t t = -1, s = -1, mt = -1;
    char **cols = NULL;
    double *buf = NULL;
    hid_t d = open_dataset(r, dset, err);
    if (d < 0) goto done;
    t = H5Dget_type(d);
    s = H5Dget_space(d);
    if (H5Tget_class(t) != H5T_COMPOUND || H5Sget_simple_extent_ndims(s) != 1) {
        ex_fail(err, "%s: dataset %s is not a 1-D table of named columns", r->path, dset);
        goto done;
    }
    nm = H5Tget_nmembers(t);
    if (nm < 1) {
        ex_fail(err, "%s: table %s has no columns", r->path, dset);
        goto done;
    }
    /* Read every field as a double by name: HDF5 converts int64 and float fields for us. */
    cols = ex_calloc((size_t)nm, sizeof *cols);
    mt = H5Tcreate(H5T_COMPOUND, sizeof(double) * (size_t)nm);
    for (int j = 0; j < nm; j++) {
        char *name = H5Tget_member_name(t, (unsigned)j);
        H5T_class_t c = H5Tget_member_class(t, (unsigned)j);
        cols[j] = dup_str(name ? name : "");
        H5free_memory(name);
        if (c != H5T_INTEGER && c != H5T_FLOAT) {
            ex_fail(err, "%s: table %s column '%s' holds %s, expected numbers", r->path, dset,
                    cols[j], class_name(c));
            goto done;
        }
        H5Tinsert(mt, cols[j], sizeof(double) * (size_t)j, H5T_NATIVE_DOUBLE);
    }
    hsize_t len = 0;
    H5Sget_simple_extent_dims(s, &len, NULL);
    buf = ex_malloc((size_t)len * (size_t)nm * sizeof(double));
    if (len > 0 && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        char reason[512];
        h5_reason(reason, sizeof reason);
        ex_fail(err, "%s: reading table %s failed (HDF5: %s)", r->path, dset, reason);
        goto done;
    }
    *ncols = nm;
    *names = cols;
    *nrows = (int64_t)len;
    *rows = buf;
    cols = NULL;
    buf = NULL;
    rc = 0;
done:
    h5r_free_strings(cols, (size_t)nm);
    free(buf);
    if (mt >= 0) H5Tclose(mt);
    if (s >= 0) H5Sclose(s);
    if (t >= 0) H5Tclose(t);
    if (d >= 0) H5Dclose(d);
    h5_quiet_end(&q);
    return rc;
}
