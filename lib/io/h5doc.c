/* h5doc.c — an HDF5 file described in memory, published by tmp + fsync + rename + fsync(dir).
 *
 * Building never touches the disk: each builder validates its path and copies its data into an
 * Item (a dataset or group) or an Attr. h5doc_publish() then lets HDF5 build the whole file in
 * memory (the core driver), items in the order they were added and then the attributes, takes
 * the finished image, and publishes it (publish.h: PATH.<pid>.tmp with plain write() calls,
 * renamed over PATH only after fsync() succeeded). Any failure on the way removes the
 * temporary, so an existing PATH is never touched by a failed publish. */
#include "h5doc.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "h5seal.h"
#include "publish.h"
#include "h5util.h"

typedef enum ItemKind { ITEM_GROUP, ITEM_NUMBERS, ITEM_STRING, ITEM_STRINGS, ITEM_TABLE } ItemKind;
typedef enum NumKind { NUM_F32, NUM_F64, NUM_I32, NUM_I64, NUM_U64 } NumKind;

typedef struct Item {
    ItemKind kind;
    char *path;                   /* canonical: "/a/b" */
    NumKind num;                  /* ITEM_NUMBERS */
    int rank;                     /* ITEM_NUMBERS; ITEM_STRINGS and ITEM_TABLE are rank 1 */
    hsize_t dims[H5DOC_MAX_RANK];
    void *data;                   /* numbers, or packed table rows (nrows, ncols) of 8-byte slots */
    char **texts;                 /* ITEM_STRING (1), ITEM_STRINGS (dims[0]) */
    int ncols;                    /* ITEM_TABLE */
    char **cols;
    unsigned char *col_int;       /* 1 = int64 column, 0 = float64 */
} Item;

typedef enum AttrKind { ATTR_STR, ATTR_INT, ATTR_DOUBLE, ATTR_STRS } AttrKind;

typedef struct Attr {
    char *obj, *name;
    AttrKind kind;
    int64_t i;
    double d;
    char **strs;                  /* ATTR_STR (n = 1) and ATTR_STRS */
    size_t n;
} Attr;

struct H5Doc {
    Item *items;
    size_t n_items, cap_items;
    Attr *attrs;
    size_t n_attrs, cap_attrs;
    int sealed;                   /* h5doc_seal: a user block with the file's SHA-256 */
    int failed;                   /* the first builder error, reported by h5doc_publish */
    char error[1024];
};

/* --- building -------------------------------------------------------------------------- */

static char *dup_str(const char *s) {
    size_t n = strlen(s ? s : "");
    char *d = ex_malloc(n + 1);
    memcpy(d, s ? s : "", n + 1);
    return d;
}

static char **dup_strs(size_t n, const char *const *src) {
    char **d = ex_calloc(n ? n : 1, sizeof *d);
    for (size_t i = 0; i < n; i++) d[i] = dup_str(src ? src[i] : "");
    return d;
}

static void free_strs(char **s, size_t n) {
    if (!s) return;
    for (size_t i = 0; i < n; i++) free(s[i]);
    free(s);
}

__attribute__((format(printf, 2, 3))) static int doc_fail(H5Doc *doc, const char *fmt, ...) {
    if (doc && !doc->failed) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(doc->error, sizeof doc->error, fmt, ap);
        va_end(ap);
        doc->failed = 1;
    }
    return -1;
}

/* "/a/b" from "a/b" or "/a/b"; NULL (and a recorded error) for an empty component, ".", "..",
 * a trailing "/", or the root where allow_root is 0. */
static char *canonical_path(H5Doc *doc, const char *path, int allow_root) {
    if (!path || !*path) {
        doc_fail(doc, "an empty HDF5 path");
        return NULL;
    }
    size_t len = strlen(path);
    char *c = ex_malloc(len + 2);
    snprintf(c, len + 2, "%s%s", path[0] == '/' ? "" : "/", path);
    if (strcmp(c, "/") == 0) {
        if (allow_root) return c;
        doc_fail(doc, "'/' is the root group and cannot be a dataset");
        free(c);
        return NULL;
    }
    /* Every component between slashes must be a real name. */
    for (const char *p = c; *p;) {
        const char *start = p + 1, *end = strchr(start, '/');
        size_t n = end ? (size_t)(end - start) : strlen(start);
        int dots = (n == 1 && start[0] == '.') || (n == 2 && start[0] == '.' && start[1] == '.');
        if (n == 0 || dots) {
            doc_fail(doc, "bad HDF5 path '%s': empty, '.' or '..' component", path);
            free(c);
            return NULL;
        }
        p = start + n;
    }
    return c;
}

static int is_below(const char *path, const char *ancestor) {
    size_t n = strlen(ancestor);
    return strncmp(path, ancestor, n) == 0 && path[n] == '/';
}

/* 1 if path is already an explicit group and a group is being added (nothing to do), 0 if it
 * may be added, -1 (recorded) if it clashes with an existing item. */
static int check_clash(H5Doc *doc, const char *path, ItemKind kind) {
    for (size_t i = 0; i < doc->n_items; i++) {
        const Item *it = &doc->items[i];
        if (strcmp(it->path, path) == 0) {
            if (it->kind == ITEM_GROUP && kind == ITEM_GROUP) return 1;
            return doc_fail(doc, "%s added twice", path);
        }
        if (it->kind != ITEM_GROUP && is_below(path, it->path))
            return doc_fail(doc, "%s cannot be created: %s is a dataset, not a group", path,
                            it->path);
        if (kind != ITEM_GROUP && is_below(it->path, path))
            return doc_fail(doc, "%s cannot be a dataset: it is the group holding %s", path,
                            it->path);
    }
    return 0;
}

/* A new zeroed item for path, or NULL after recording why not. */
static Item *new_item(H5Doc *doc, const char *path, ItemKind kind) {
    if (!doc) return NULL;
    char *c = canonical_path(doc, path, 0);
    if (!c) return NULL;
    if (check_clash(doc, c, kind) != 0) {
        free(c);
        return NULL;
    }
    if (doc->n_items == doc->cap_items) {
        doc->cap_items = doc->cap_items ? 2 * doc->cap_items : 16;
        Item *grown = realloc(doc->items, doc->cap_items * sizeof *grown);
        if (!grown) {
            fprintf(stderr, "exprun: out of memory in h5doc\n");
            abort();
        }
        doc->items = grown;
    }
    Item *it = &doc->items[doc->n_items++];
    memset(it, 0, sizeof *it);
    it->kind = kind;
    it->path = c;
    return it;
}

H5Doc *h5doc_new(void) { return ex_calloc(1, sizeof(H5Doc)); }

void h5doc_free(H5Doc *doc) {
    if (!doc) return;
    for (size_t i = 0; i < doc->n_items; i++) {
        Item *it = &doc->items[i];
        free(it->path);
        free(it->data);
        free_strs(it->texts, it->kind == ITEM_STRING ? 1 : (size_t)it->dims[0]);
        free_strs(it->cols, (size_t)it->ncols);
        free(it->col_int);
    }
    for (size_t i = 0; i < doc->n_attrs; i++) {
        free(doc->attrs[i].obj);
        free(doc->attrs[i].name);
        free_strs(doc->attrs[i].strs, doc->attrs[i].n);
    }
    free(doc->items);
    free(doc->attrs);
    free(doc);
}

int h5doc_group(H5Doc *doc, const char *path) {
    if (!doc) return -1;
    char *c = canonical_path(doc, path, 1);
    if (!c) return -1;
    /* The root always exists; an explicit group given twice is harmless. */
    int clash = strcmp(c, "/") == 0 ? 1 : check_clash(doc, c, ITEM_GROUP);
    free(c);
    if (clash != 0) return clash > 0 ? 0 : -1;
    return new_item(doc, path, ITEM_GROUP) ? 0 : -1;
}

int h5doc_string(H5Doc *doc, const char *path, const char *text) {
    Item *it = new_item(doc, path, ITEM_STRING);
    if (!it) return -1;
    it->texts = dup_strs(1, (const char *const[]){text});
    return 0;
}

int h5doc_strings(H5Doc *doc, const char *path, size_t n, const char *const *texts) {
    if (n > 0 && !texts) return doc_fail(doc, "%s: %zu strings but no array", path, n);
    Item *it = new_item(doc, path, ITEM_STRINGS);
    if (!it) return -1;
    it->rank = 1;
    it->dims[0] = n;
    it->texts = dup_strs(n, texts);
    return 0;
}

static int add_numbers(H5Doc *doc, const char *path, int rank, const int *shape, const void *data,
                       NumKind num, size_t elem) {
    if (rank < 0 || rank > H5DOC_MAX_RANK)
        return doc_fail(doc, "%s: rank %d outside 0..%d", path ? path : "?", rank, H5DOC_MAX_RANK);
    if (rank > 0 && !shape) return doc_fail(doc, "%s: rank %d but no shape", path, rank);
    size_t count = 1;
    for (int i = 0; i < rank; i++) {
        if (shape[i] < 0) return doc_fail(doc, "%s: negative extent %d", path, shape[i]);
        count *= (size_t)shape[i];
    }
    if (count > 0 && !data) return doc_fail(doc, "%s: %zu values but no data", path, count);
    Item *it = new_item(doc, path, ITEM_NUMBERS);
    if (!it) return -1;
    it->num = num;
    it->rank = rank;
    for (int i = 0; i < rank; i++) it->dims[i] = (hsize_t)shape[i];
    it->data = ex_malloc(count * elem);
    if (count > 0) memcpy(it->data, data, count * elem);
    return 0;
}

int h5doc_floats(H5Doc *doc, const char *path, int rank, const int *shape, const float *data) {
    return add_numbers(doc, path, rank, shape, data, NUM_F32, sizeof(float));
}
int h5doc_doubles(H5Doc *doc, const char *path, int rank, const int *shape, const double *data) {
    return add_numbers(doc, path, rank, shape, data, NUM_F64, sizeof(double));
}
int h5doc_int32s(H5Doc *doc, const char *path, int rank, const int *shape, const int32_t *data) {
    return add_numbers(doc, path, rank, shape, data, NUM_I32, sizeof(int32_t));
}
int h5doc_int64s(H5Doc *doc, const char *path, int rank, const int *shape, const int64_t *data) {
    return add_numbers(doc, path, rank, shape, data, NUM_I64, sizeof(int64_t));
}
int h5doc_uint64s(H5Doc *doc, const char *path, int rank, const int *shape,
                  const uint64_t *data) {
    return add_numbers(doc, path, rank, shape, data, NUM_U64, sizeof(uint64_t));
}

int h5doc_column_is_int(const char *name) {
    size_t n = strlen(name);
    return strcmp(name, "epoch") == 0 || strcmp(name, "step") == 0 || strcmp(name, "skipped_steps") == 0 ||
           (n >= 6 && strcmp(name + n - 6, "_count") == 0);
}

int h5doc_table(H5Doc *doc, const char *path, int ncols, const char *const *names, int64_t nrows,
                const double *rows) {
    if (ncols < 1 || !names) return doc_fail(doc, "table %s: no columns", path ? path : "?");
    if (nrows < 0) return doc_fail(doc, "table %s: negative row count", path);
    if (nrows > 0 && !rows) return doc_fail(doc, "table %s: %lld rows but no data", path,
                                            (long long)nrows);
    for (int j = 0; j < ncols; j++) {
        if (!names[j] || !names[j][0]) return doc_fail(doc, "table %s: column %d has no name",
                                                        path, j);
        for (int k = 0; k < j; k++)
            if (strcmp(names[j], names[k]) == 0)
                return doc_fail(doc, "table %s: column '%s' appears twice", path, names[j]);
    }
    /* Integer columns must hold whole numbers that survive the trip through double. */
    for (int j = 0; j < ncols; j++) {
        if (!h5doc_column_is_int(names[j])) continue;
        for (int64_t r = 0; r < nrows; r++) {
            double v = rows[r * ncols + j];
            if (!(fabs(v) <= 9007199254740992.0) || v != floor(v))
                return doc_fail(doc, "table %s: integer column '%s' row %lld holds %g, not a "
                                "whole number", path, names[j], (long long)r, v);
        }
    }
    Item *it = new_item(doc, path, ITEM_TABLE);
    if (!it) return -1;
    it->rank = 1;
    it->dims[0] = (hsize_t)nrows;
    it->ncols = ncols;
    it->cols = dup_strs((size_t)ncols, names);
    it->col_int = ex_malloc((size_t)ncols);
    for (int j = 0; j < ncols; j++) it->col_int[j] = (unsigned char)h5doc_column_is_int(names[j]);
    /* Pack each row as ncols 8-byte slots, int64 or double, matching the compound type. */
    size_t n = (size_t)nrows * (size_t)ncols;
    unsigned char *packed = ex_malloc(n * 8);
    for (size_t k = 0; k < n; k++) {
        double v = rows[k];
        if (it->col_int[k % (size_t)ncols]) {
            int64_t iv = (int64_t)v;
            memcpy(packed + 8 * k, &iv, 8);
        } else {
            memcpy(packed + 8 * k, &v, 8);
        }
    }
    it->data = packed;
    return 0;
}

/* The attribute slot for (obj, name): the existing one (value freed, to be replaced) or a new
 * one. NULL after recording a bad path. */
static Attr *attr_slot(H5Doc *doc, const char *obj_path, const char *name) {
    if (!doc) return NULL;
    if (!name || !*name) {
        doc_fail(doc, "attribute on %s has no name", obj_path ? obj_path : "?");
        return NULL;
    }
    char *c = canonical_path(doc, obj_path, 1);
    if (!c) return NULL;
    for (size_t i = 0; i < doc->n_attrs; i++) {
        Attr *a = &doc->attrs[i];
        if (strcmp(a->obj, c) == 0 && strcmp(a->name, name) == 0) {
            free(c);
            free_strs(a->strs, a->n);
            a->strs = NULL;
            a->n = 0;
            return a;
        }
    }
    if (doc->n_attrs == doc->cap_attrs) {
        doc->cap_attrs = doc->cap_attrs ? 2 * doc->cap_attrs : 16;
        Attr *grown = realloc(doc->attrs, doc->cap_attrs * sizeof *grown);
        if (!grown) {
            fprintf(stderr, "exprun: out of memory in h5doc\n");
            abort();
        }
        doc->attrs = grown;
    }
    Attr *a = &doc->attrs[doc->n_attrs++];
    memset(a, 0, sizeof *a);
    a->obj = c;
    a->name = dup_str(name);
    return a;
}

int h5doc_attr_str(H5Doc *doc, const char *obj_path, const char *name, const char *value) {
    Attr *a = attr_slot(doc, obj_path, name);
    if (!a) return -1;
    a->kind = ATTR_STR;
    a->strs = dup_strs(1, (const char *const[]){value});
    a->n = 1;
    return 0;
}

int h5doc_attr_strs(H5Doc *doc, const char *obj_path, const char *name, size_t n,
                    const char *const *values) {
    if (n > 0 && !values) return doc_fail(doc, "attribute %s: %zu strings but no array",
                                          name ? name : "?", n);
    Attr *a = attr_slot(doc, obj_path, name);
    if (!a) return -1;
    a->kind = ATTR_STRS;
    a->strs = dup_strs(n, values);
    a->n = n;
    return 0;
}

int h5doc_attr_int(H5Doc *doc, const char *obj_path, const char *name, int64_t value) {
    Attr *a = attr_slot(doc, obj_path, name);
    if (!a) return -1;
    a->kind = ATTR_INT;
    a->i = value;
    return 0;
}

int h5doc_attr_double(H5Doc *doc, const char *obj_path, const char *name, double value) {
    Attr *a = attr_slot(doc, obj_path, name);
    if (!a) return -1;
    a->kind = ATTR_DOUBLE;
    a->d = value;
    return 0;
}

/* --- writing --------------------------------------------------------------------------- */

/* The context of one publish: the open tmp file and the names errors mention. */
typedef struct Writer {
    hid_t file;
    hid_t lcpl;                   /* link creation: intermediate groups, UTF-8 names */
    const char *path;             /* the published name, for messages */
    ExError *err;
} Writer;

static int write_fail(const Writer *w, const char *what, const char *obj) {
    char reason[512];
    h5_reason(reason, sizeof reason);
    return ex_fail(w->err, "cannot write %s: %s %s failed (HDF5: %s)", w->path, what, obj, reason);
}

static hid_t num_file_type(NumKind k) {
    switch (k) {
    case NUM_F32: return H5T_IEEE_F32LE;
    case NUM_F64: return H5T_IEEE_F64LE;
    case NUM_I32: return H5T_STD_I32LE;
    case NUM_I64: return H5T_STD_I64LE;
    case NUM_U64: return H5T_STD_U64LE;
    }
    return -1;
}

static hid_t num_mem_type(NumKind k) {
    switch (k) {
    case NUM_F32: return H5T_NATIVE_FLOAT;
    case NUM_F64: return H5T_NATIVE_DOUBLE;
    case NUM_I32: return H5T_NATIVE_INT32;
    case NUM_I64: return H5T_NATIVE_INT64;
    case NUM_U64: return H5T_NATIVE_UINT64;
    }
    return -1;
}

/* Create dataset it->path of file type ftype over space with dcpl, write buf as mtype. */
static int write_dataset(const Writer *w, const Item *it, hid_t ftype, hid_t mtype, hid_t space,
                         hid_t dcpl, const void *buf, size_t count) {
    hid_t d = H5Dcreate2(w->file, it->path, ftype, space, w->lcpl, dcpl, H5P_DEFAULT);
    if (d < 0) return write_fail(w, "creating dataset", it->path);
    if (count > 0 && H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0) {
        write_fail(w, "writing dataset", it->path);
        H5Dclose(d);
        return -1;
    }
    if (H5Dclose(d) < 0) return write_fail(w, "closing dataset", it->path);
    return 0;
}

static int write_numbers(const Writer *w, const Item *it) {
    hid_t space = it->rank == 0 ? H5Screate(H5S_SCALAR)
                                : H5Screate_simple(it->rank, it->dims, NULL);
    if (space < 0) return write_fail(w, "making the dataspace of", it->path);
    size_t count = 1;
    for (int i = 0; i < it->rank; i++) count *= (size_t)it->dims[i];
    int rc = write_dataset(w, it, num_file_type(it->num), num_mem_type(it->num), space,
                           H5P_DEFAULT, it->data, count);
    H5Sclose(space);
    return rc;
}

static int write_strings(const Writer *w, const Item *it) {
    hid_t space = it->kind == ITEM_STRING ? H5Screate(H5S_SCALAR)
                                          : H5Screate_simple(1, it->dims, NULL);
    if (space < 0) return write_fail(w, "making the dataspace of", it->path);
    hid_t st = h5_utf8_type();
    size_t count = it->kind == ITEM_STRING ? 1 : (size_t)it->dims[0];
    int rc = write_dataset(w, it, st, st, space, H5P_DEFAULT, it->texts, count);
    H5Tclose(st);
    H5Sclose(space);
    return rc;
}

/* A compound type of the table's columns, 8-byte slots, with file (LE) or native members. */
static hid_t table_type(const Item *it, int native) {
    hid_t t = H5Tcreate(H5T_COMPOUND, 8 * (size_t)it->ncols);
    if (t < 0) return -1;
    for (int j = 0; j < it->ncols; j++) {
        hid_t m = it->col_int[j] ? (native ? H5T_NATIVE_INT64 : H5T_STD_I64LE)
                                 : (native ? H5T_NATIVE_DOUBLE : H5T_IEEE_F64LE);
        if (H5Tinsert(t, it->cols[j], 8 * (size_t)j, m) < 0) {
            H5Tclose(t);
            return -1;
        }
    }
    return t;
}

static int write_table(const Writer *w, const Item *it) {
    /* Chunked with an unlimited extent, so a later writer (resume, SWMR) can extend or shrink
     * the table in place with H5Dset_extent. */
    hsize_t maxdims[1] = {H5S_UNLIMITED};
    hsize_t chunk[1] = {it->dims[0] < 16 ? 16 : it->dims[0] > 1024 ? 1024 : it->dims[0]};
    int rc = -1;
    hid_t space = H5Screate_simple(1, it->dims, maxdims);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t ftype = table_type(it, 0), mtype = table_type(it, 1);
    if (space < 0 || dcpl < 0 || ftype < 0 || mtype < 0 || H5Pset_chunk(dcpl, 1, chunk) < 0) {
        write_fail(w, "preparing table", it->path);
        goto done;
    }
    if (H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
        H5Pset_shuffle(dcpl);     /* byte-shuffling first makes doubles compress far better */
        H5Pset_deflate(dcpl, 4);
    }
    rc = write_dataset(w, it, ftype, mtype, space, dcpl, it->data, (size_t)it->dims[0]);
done:
    if (mtype >= 0) H5Tclose(mtype);
    if (ftype >= 0) H5Tclose(ftype);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    return rc;
}

static int write_group(const Writer *w, const Item *it) {
    if (h5_path_exists(w->file, it->path)) return 0;  /* made on the way to a dataset */
    hid_t g = H5Gcreate2(w->file, it->path, w->lcpl, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0) return write_fail(w, "creating group", it->path);
    H5Gclose(g);
    return 0;
}

static int write_attr(const Writer *w, const Attr *a) {
    char where[1024];
    snprintf(where, sizeof where, "%s on %s", a->name, a->obj);
    if (!h5_path_exists(w->file, a->obj)) {
        hid_t g = H5Gcreate2(w->file, a->obj, w->lcpl, H5P_DEFAULT, H5P_DEFAULT);
        if (g < 0) return write_fail(w, "creating group", a->obj);
        H5Gclose(g);
    }
    hid_t obj = H5Oopen(w->file, a->obj, H5P_DEFAULT);
    if (obj < 0) return write_fail(w, "opening", a->obj);
    hid_t type = -1, space = -1, acpl = -1, at = -1;
    int owned_type = 0, rc = -1;
    const void *buf = NULL;
    hsize_t n = a->n;
    switch (a->kind) {
    case ATTR_STR:
    case ATTR_STRS:
        type = h5_utf8_type();
        owned_type = 1;
        space = a->kind == ATTR_STR ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
        buf = a->strs;
        break;
    case ATTR_INT:
        type = H5T_STD_I64LE;
        space = H5Screate(H5S_SCALAR);
        buf = &a->i;
        break;
    case ATTR_DOUBLE:
        type = H5T_IEEE_F64LE;
        space = H5Screate(H5S_SCALAR);
        buf = &a->d;
        break;
    }
    hid_t mtype = a->kind == ATTR_INT ? H5T_NATIVE_INT64
                  : a->kind == ATTR_DOUBLE ? H5T_NATIVE_DOUBLE : type;
    acpl = H5Pcreate(H5P_ATTRIBUTE_CREATE);
    if (acpl >= 0) H5Pset_char_encoding(acpl, H5T_CSET_UTF8);
    at = H5Acreate2(obj, a->name, type, space, acpl, H5P_DEFAULT);
    if (at < 0) {
        write_fail(w, "creating attribute", where);
    } else if ((a->kind != ATTR_STRS || a->n > 0) && H5Awrite(at, mtype, buf) < 0) {
        write_fail(w, "writing attribute", where);
    } else {
        rc = 0;
    }
    if (at >= 0) H5Aclose(at);
    if (acpl >= 0) H5Pclose(acpl);
    if (space >= 0) H5Sclose(space);
    if (owned_type) H5Tclose(type);
    H5Oclose(obj);
    return rc;
}

static int write_items(const Writer *w, const H5Doc *doc) {
    for (size_t i = 0; i < doc->n_items; i++) {
        const Item *it = &doc->items[i];
        int rc = 0;
        switch (it->kind) {
        case ITEM_GROUP: rc = write_group(w, it); break;
        case ITEM_NUMBERS: rc = write_numbers(w, it); break;
        case ITEM_STRING:
        case ITEM_STRINGS: rc = write_strings(w, it); break;
        case ITEM_TABLE: rc = write_table(w, it); break;
        }
        if (rc) return -1;
    }
    for (size_t i = 0; i < doc->n_attrs; i++)
        if (write_attr(w, &doc->attrs[i])) return -1;
    return 0;
}

/* Build the whole file in memory with HDF5's core driver and return its image (malloc'd).
 * HDF5 never touches the disk: a full disk then surfaces as a plain write() error in
 * write_image, instead of inside HDF5, whose library state after a failed flush is not safe
 * (HDF5 1.10.8 crashes at exit on a file whose close failed with EFBIG). The price is memory:
 * the file exists twice in memory while it is published. */
static int build_image(const H5Doc *doc, const char *path, unsigned char **image, size_t *size,
                       ExError *err) {
    char reason[512];
    hid_t fapl = h5_fapl();
    H5Pset_fapl_core(fapl, (size_t)1 << 20, 0);  /* grow in 1 MiB steps, no backing file */
    hid_t fcpl = H5Pcreate(H5P_FILE_CREATE);
    if (doc->sealed) H5Pset_userblock(fcpl, H5SEAL_BYTES);
    hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, fcpl, fapl);
    H5Pclose(fcpl);
    if (file < 0) {
        h5_reason(reason, sizeof reason);
        H5Pclose(fapl);
        return ex_fail(err, "cannot write %s: cannot create the HDF5 file in memory (HDF5: %s)",
                       path, reason);
    }
    H5Pclose(fapl);
    Writer w = {file, H5Pcreate(H5P_LINK_CREATE), path, err};
    H5Pset_create_intermediate_group(w.lcpl, 1);
    H5Pset_char_encoding(w.lcpl, H5T_CSET_UTF8);
    int rc = write_items(&w, doc);
    H5Pclose(w.lcpl);
    if (rc == 0) {
        /* Flush the metadata cache into the core image first, or the image lacks it. */
        ssize_t n = H5Fflush(file, H5F_SCOPE_GLOBAL) < 0 ? -1 : H5Fget_file_image(file, NULL, 0);
        unsigned char *buf = n > 0 ? malloc((size_t)n) : NULL;
        if (n <= 0 || !buf || H5Fget_file_image(file, buf, (size_t)n) != n) {
            h5_reason(reason, sizeof reason);
            rc = ex_fail(err, "cannot write %s: cannot take the file image (HDF5: %s)", path,
                         reason);
            free(buf);
        } else {
            if (doc->sealed) {
                /* The core driver's image starts at the superblock: the user block, which the
                 * superblock's base address (512) leaves room for, goes in front of it. */
                unsigned char *sealed = malloc((size_t)n + H5SEAL_BYTES);
                if (!sealed) {
                    free(buf);
                    H5Fclose(file);
                    return ex_fail(err, "cannot write %s: out of memory sealing the file", path);
                }
                memcpy(sealed + H5SEAL_BYTES, buf, (size_t)n);
                free(buf);
                buf = sealed;
                n += H5SEAL_BYTES;
                h5seal_stamp(buf, (size_t)n);
            }
            *image = buf;
            *size = (size_t)n;
        }
    }
    H5Fclose(file);
    return rc;
}

void h5doc_seal(H5Doc *doc) {
    if (doc) doc->sealed = 1;
}

int h5doc_publish(const H5Doc *doc, const char *path, ExError *err) {
    if (!doc || !path || !*path) return ex_fail(err, "h5doc_publish: no document or no path");
    if (doc->failed) return ex_fail(err, "cannot write %s: %s", path, doc->error);
    unsigned char *image = NULL;
    size_t size = 0;
    H5Quiet q;
    h5_quiet_begin(&q);
    int rc = build_image(doc, path, &image, &size, err);
    h5_quiet_end(&q);
    if (rc == 0) rc = publish_file(path, image, size, err);
    free(image);
    return rc;
}
