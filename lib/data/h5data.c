/* h5data.c — load x (and labels) from datasets in an HDF5 file (see h5data.h). */
#include "h5data.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define H5DATA_MAX_VALUES ((hsize_t)1 << 32)

/* The names at the file's root, for "no dataset 'x'; the file has: ..." messages. */
typedef struct NameList {
    char text[768];
} NameList;

#if H5_VERSION_GE(1, 12, 0)
static herr_t add_name(hid_t group, const char *name, const H5L_info2_t *info, void *op) {
#else
static herr_t add_name(hid_t group, const char *name, const H5L_info_t *info, void *op) {
#endif
    (void)group;
    (void)info;
    NameList *list = op;
    size_t used = strlen(list->text);
    if (used + strlen(name) + 8 >= sizeof list->text) return 1; /* full: stop iterating */
    snprintf(list->text + used, sizeof list->text - used, "%s%s", used ? ", " : "", name);
    return 0;
}

/* Whether every component of an HDF5 path exists (H5Lexists on "a/b" fails if "a" is absent). */
static int path_exists(hid_t file, const char *name) {
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", name);
    for (char *p = buf + (buf[0] == '/'); *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        htri_t ok = H5Lexists(file, buf, H5P_DEFAULT);
        *p = '/';
        if (ok <= 0) return 0;
    }
    return H5Lexists(file, buf, H5P_DEFAULT) > 0;
}

/* Open a dataset, check it is numeric and of rank in [min_rank, max_rank]; dims filled. */
static hid_t open_numeric(hid_t file, const char *path, const char *name, int min_rank, int max_rank,
                          int *rank, hsize_t *dims, H5T_class_t *cls, ExError *err) {
    if (!path_exists(file, name)) {
        NameList list = {{0}};
        H5Literate(file, H5_INDEX_NAME, H5_ITER_INC, NULL, add_name, &list);
        ex_fail(err, "%s: no dataset '%s'; the file's top level has: %s", path, name,
                list.text[0] ? list.text : "(nothing)");
        return -1;
    }
    hid_t ds = H5Dopen2(file, name, H5P_DEFAULT);
    if (ds < 0) {
        ex_fail(err, "%s: '%s' exists but is not a dataset (a group?)", path, name);
        return -1;
    }
    hid_t type = H5Dget_type(ds);
    *cls = H5Tget_class(type);
    H5Tclose(type);
    if (*cls != H5T_INTEGER && *cls != H5T_FLOAT) {
        H5Dclose(ds);
        ex_fail(err, "%s: dataset '%s' is not numeric (HDF5 type class %d); need integers or floats", path,
                name, (int)*cls);
        return -1;
    }
    hid_t space = H5Dget_space(ds);
    *rank = H5Sget_simple_extent_ndims(space);
    if (*rank >= min_rank && *rank <= max_rank) H5Sget_simple_extent_dims(space, dims, NULL);
    H5Sclose(space);
    if (*rank < min_rank || *rank > max_rank) {
        H5Dclose(ds);
        if (min_rank == max_rank)
            ex_fail(err, "%s: dataset '%s' has rank %d, expected %d", path, name, *rank, min_rank);
        else
            ex_fail(err, "%s: dataset '%s' has rank %d, expected %d to %d", path, name, *rank, min_rank,
                    max_rank);
        return -1;
    }
    return ds;
}

static int load_x(hid_t file, const char *path, const char *name, Dataset *out, ExError *err) {
    int rank;
    hsize_t dims[3] = {0, 0, 0};
    H5T_class_t cls;
    hid_t ds = open_numeric(file, path, name, 2, 3, &rank, dims, &cls, err);
    if (ds < 0) return -1;
    hsize_t n = dims[0], T = rank == 3 ? dims[1] : 1, d = rank == 3 ? dims[2] : dims[1];
    if (n == 0 || T == 0 || d == 0) {
        H5Dclose(ds);
        return ex_fail(err, "%s: dataset '%s' is empty (shape %llu x %llu x %llu)", path, name,
                       (unsigned long long)n, (unsigned long long)T, (unsigned long long)d);
    }
    if (n > 0x7fffffff || T > 0x7fffffff || d > 0x7fffffff || n * T * d > H5DATA_MAX_VALUES) {
        H5Dclose(ds);
        return ex_fail(err, "%s: dataset '%s' is too large to load (%llu x %llu x %llu values)", path, name,
                       (unsigned long long)n, (unsigned long long)T, (unsigned long long)d);
    }
    size_t count = (size_t)(n * T * d);
    float *x = ex_malloc(count * sizeof(float));
    herr_t rc = H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
    H5Dclose(ds);
    if (rc < 0) {
        free(x);
        return ex_fail(err, "%s: cannot read dataset '%s' as float", path, name);
    }
    if (cls == H5T_FLOAT)
        for (size_t i = 0; i < count; i++)
            if (!isfinite(x[i])) {
                free(x);
                return ex_fail(err, "%s: dataset '%s' holds a non-finite value (NaN or inf) at flat index %zu",
                               path, name, i);
            }
    out->n = (int)n;
    out->T = (int)T;
    out->d = (int)d;
    out->x = x;
    return 0;
}

static int load_labels(hid_t file, const char *path, const char *name, Dataset *out, ExError *err) {
    int rank;
    hsize_t dims[2] = {0, 0};
    H5T_class_t cls;
    hid_t ds = open_numeric(file, path, name, 1, 2, &rank, dims, &cls, err);
    if (ds < 0) return -1;
    if (cls != H5T_INTEGER) {
        H5Dclose(ds);
        return ex_fail(err, "%s: labels dataset '%s' holds floats; class ids must be integers", path, name);
    }
    if (rank == 2 && dims[1] != 1) {
        H5Dclose(ds);
        return ex_fail(err, "%s: labels dataset '%s' has shape %llu x %llu; expected (n) or (n, 1)", path,
                       name, (unsigned long long)dims[0], (unsigned long long)dims[1]);
    }
    if (dims[0] != (hsize_t)out->n) {
        H5Dclose(ds);
        return ex_fail(err, "%s: labels dataset '%s' has %llu entries but x has %d samples", path, name,
                       (unsigned long long)dims[0], out->n);
    }
    /* Read as int64, which every integer type converts to without loss but uint64 above 2^63
     * (clamped, still refused below): as int32 a 2^40 would be clamped silently. */
    int64_t *wide = ex_malloc((size_t)out->n * sizeof(int64_t));
    herr_t rc = H5Dread(ds, H5T_NATIVE_INT64, H5S_ALL, H5S_ALL, H5P_DEFAULT, wide);
    H5Dclose(ds);
    if (rc < 0) {
        free(wide);
        return ex_fail(err, "%s: cannot read labels dataset '%s' as integers", path, name);
    }
    int top = 0;
    for (int i = 0; i < out->n; i++) {
        if (wide[i] < 0 || wide[i] > DATA_MAX_CLASS_ID) {
            long long bad = (long long)wide[i];
            free(wide);
            return ex_fail(err, "%s: labels dataset '%s' holds %lld at index %d; class ids must be integers in "
                                "[0, %d]", path, name, bad, i, DATA_MAX_CLASS_ID);
        }
        if (wide[i] > top) top = (int)wide[i];
    }
    int32_t *labels = ex_malloc((size_t)out->n * sizeof(int32_t));
    for (int i = 0; i < out->n; i++) labels[i] = (int32_t)wide[i];
    free(wide);
    out->labels = labels;
    out->num_classes = top + 1;
    return 0;
}

int h5data_load(const char *path, const char *x_dataset, const char *labels_dataset, Dataset *out,
                ExError *err) {
    memset(out, 0, sizeof *out);
    if (access(path, R_OK) != 0) return ex_fail(err, "%s: cannot open: %s", path, strerror(errno));
    /* HDF5 prints its error stack to stderr by default; our message is the report instead. */
    H5E_auto2_t old_func = NULL;
    void *old_data = NULL;
    H5Eget_auto2(H5E_DEFAULT, &old_func, &old_data);
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
    int rc = -1;
    hid_t file = -1;
    htri_t is_h5 = H5Fis_hdf5(path);
    if (is_h5 <= 0) {
        ex_fail(err, "%s: not an HDF5 file", path);
        goto done;
    }
    file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) {
        ex_fail(err, "%s: HDF5 cannot open the file (corrupt, or locked by a writer?)", path);
        goto done;
    }
    if (load_x(file, path, x_dataset, out, err) != 0) goto done;
    if (labels_dataset && load_labels(file, path, labels_dataset, out, err) != 0) {
        dataset_free(out);
        goto done;
    }
    snprintf(out->source, sizeof out->source, "%s:%s", path, x_dataset);
    rc = 0;
done:
    if (file >= 0) H5Fclose(file);
    H5Eset_auto2(H5E_DEFAULT, old_func, old_data);
    return rc;
}
