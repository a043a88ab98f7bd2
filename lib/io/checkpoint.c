/* checkpoint.c — save and load the whole training state (layout in checkpoint.h).
 *
 * Loading checks everything first — format, spec hash, every view's shape, the optimizer type
 * and buffers, every extra's type and size — and only then reads, so a checkpoint that does
 * not fit leaves the model, optimizer and state as they were. */
#include "checkpoint.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5doc.h"
#include "h5read.h"
#include "h5seal.h"
#include "sha256.h"

#ifndef EXPRUN_VERSION
#define EXPRUN_VERSION "unknown"
#endif

#define PATH_CAP 256

/* Checksums are over the values' bytes in little-endian order, which is how they are in memory
 * on the machines exprun builds for (and how numpy's tobytes() gives them from the file). */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "checkpoint checksums are defined over little-endian bytes: add a byte swap for this machine"
#endif

static const char *kind_name(int kind) {
    switch (kind) {
    case CKPT_U64: return "uint64";
    case CKPT_F32: return "float32";
    case CKPT_I64: return "int64";
    case CKPT_F64: return "float64";
    }
    return "?";
}

/* The numpy-style kind and size an extra of this CkptKind is stored as. */
static void kind_dtype(int kind, char *k, size_t *size) {
    switch (kind) {
    case CKPT_U64: *k = 'u'; *size = 8; return;
    case CKPT_F32: *k = 'f'; *size = 4; return;
    case CKPT_I64: *k = 'i'; *size = 8; return;
    case CKPT_F64: *k = 'f'; *size = 8; return;
    }
    *k = '?';
    *size = 0;
}

/* Bytes per element of an extra of this CkptKind (0 for an unknown kind). */
static size_t kind_size(int kind) {
    char k;
    size_t size;
    kind_dtype(kind, &k, &size);
    return size;
}

static const char *dtype_name(char k, size_t size) {
    if (k == 'u' && size == 8) return "uint64";
    if (k == 'i' && size == 8) return "int64";
    if (k == 'f' && size == 4) return "float32";
    if (k == 'f' && size == 8) return "float64";
    if (k == 'S') return "strings";
    if (k == 'V') return "a compound table";
    return k == 'u' || k == 'i' ? "another integer type" : k == 'f' ? "another float type"
                                                                    : "another type";
}

int checkpoint_state_add(CheckpointState *st, const char *name, CkptKind kind, size_t count,
                         void *data, ExError *err) {
    if (st->n_extra >= CKPT_MAX_EXTRA)
        return ex_fail(err, "checkpoint state: more than %d extras (adding '%s')", CKPT_MAX_EXTRA,
                       name);
    if (!name || !*name || strlen(name) >= CKPT_NAME_MAX)
        return ex_fail(err, "checkpoint state: extra name '%s' is empty or longer than %d",
                       name ? name : "", CKPT_NAME_MAX - 1);
    if (kind_name((int)kind)[0] == '?')
        return ex_fail(err, "checkpoint state: extra '%s' has unknown kind %d", name, (int)kind);
    CkptExtra *e = &st->extra[st->n_extra++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->kind = (int)kind;
    e->count = count;
    e->data = data;
    return 0;
}

/* --- save ------------------------------------------------------------------------------ */

/* The dataset's SHA-256 as its attribute sha256 (hex), checked on every load. */
static void add_checksum(H5Doc *doc, const char *path, const void *data, size_t bytes) {
    char sha[65];
    sha256_hex(sha, data, bytes);
    h5doc_attr_str(doc, path, "sha256", sha);
}

static void add_buffers(H5Doc *doc, const Params *p, const char *group, const float *base) {
    char path[PATH_CAP];
    for (int i = 0; i < p->count; i++) {
        const ParamView *v = &p->views[i];
        snprintf(path, sizeof path, "%s/%s", group, v->name);
        h5doc_floats(doc, path, v->rank, v->shape, base + v->offset);
        add_checksum(doc, path, base + v->offset, v->size * sizeof(float));
    }
}

static int add_extra(H5Doc *doc, const CkptExtra *e, ExError *err) {
    if (e->count > (size_t)INT_MAX)
        return ex_fail(err, "checkpoint extra '%s': %zu values is too many", e->name, e->count);
    if (e->count > 0 && !e->data)
        return ex_fail(err, "checkpoint extra '%s': %zu values but no data", e->name, e->count);
    char path[PATH_CAP];
    snprintf(path, sizeof path, "/state/%s", e->name);
    int shape[1] = {(int)e->count};
    size_t size = kind_size(e->kind);
    if (size) add_checksum(doc, path, e->data, e->count * size);
    switch (e->kind) {
    case CKPT_U64: return h5doc_uint64s(doc, path, 1, shape, e->data);
    case CKPT_F32: return h5doc_floats(doc, path, 1, shape, e->data);
    case CKPT_I64: return h5doc_int64s(doc, path, 1, shape, e->data);
    case CKPT_F64: return h5doc_doubles(doc, path, 1, shape, e->data);
    }
    return ex_fail(err, "checkpoint extra '%s' has unknown kind %d", e->name, e->kind);
}

int checkpoint_save(const char *path, const Params *p, const Optimizer *opt,
                    const CheckpointState *st, const char *resolved_spec_yaml, ExError *err) {
    if (!p || !p->value) return ex_fail(err, "cannot write %s: parameters not allocated", path);
    if (opt && opt->n != p->total)
        return ex_fail(err, "cannot write %s: the optimizer holds %zu values, the model %zu", path,
                       opt->n, p->total);
    const char *spec = resolved_spec_yaml ? resolved_spec_yaml : "";
    char sha[65];
    sha256_hex(sha, spec, strlen(spec));

    H5Doc *doc = h5doc_new();
    h5doc_seal(doc);   /* the whole file's SHA-256 in its user block, checked before HDF5 opens it */
    h5doc_attr_int(doc, "/", "exprun_format", CKPT_FORMAT);
    h5doc_attr_str(doc, "/", "kind", "checkpoint");
    h5doc_attr_str(doc, "/", "exprun_version", EXPRUN_VERSION);
    h5doc_attr_int(doc, "/", "step", st ? st->step : 0);
    h5doc_attr_int(doc, "/", "epoch", st ? st->epoch : 0);
    h5doc_attr_str(doc, "/", "spec_sha256", sha);
    h5doc_attr_str(doc, "/", "checksums", "sha256");   /* every dataset has its sha256 */
    h5doc_string(doc, "/spec", spec);

    char vpath[PATH_CAP];
    h5doc_group(doc, "/model");
    add_buffers(doc, p, "/model", p->value);
    for (int i = 0; i < p->count; i++) {
        snprintf(vpath, sizeof vpath, "/model/%s", p->views[i].name);
        h5doc_attr_str(doc, vpath, "layout", p->views[i].layout);
    }

    if (opt) {
        const OptimConfig *c = &opt->cfg;
        h5doc_attr_str(doc, "/optimizer", "type", optim_name(c->type));
        h5doc_attr_int(doc, "/optimizer", "t", opt->t);
        h5doc_attr_double(doc, "/optimizer", "lr", c->lr);
        h5doc_attr_double(doc, "/optimizer", "momentum", c->momentum);
        h5doc_attr_int(doc, "/optimizer", "nesterov", c->nesterov);
        h5doc_attr_double(doc, "/optimizer", "beta1", c->beta1);
        h5doc_attr_double(doc, "/optimizer", "beta2", c->beta2);
        h5doc_attr_double(doc, "/optimizer", "alpha", c->alpha);
        h5doc_attr_double(doc, "/optimizer", "eps", c->eps);
        h5doc_attr_double(doc, "/optimizer", "weight_decay", c->weight_decay);
        h5doc_attr_int(doc, "/optimizer", "decoupled_weight_decay", c->decoupled_weight_decay);
        if (opt->m) add_buffers(doc, p, "/optimizer/m", opt->m);
        if (opt->v) add_buffers(doc, p, "/optimizer/v", opt->v);
    }

    int rc = 0;
    h5doc_attr_int(doc, "/state", "data_epoch", st ? st->data_epoch : 0);
    h5doc_attr_int(doc, "/state", "data_cursor", st ? st->data_cursor : 0);
    for (int i = 0; st && i < st->n_extra && rc == 0; i++) {
        ExError tmp;
        if (add_extra(doc, &st->extra[i], &tmp) != 0) rc = ex_fail(err, "cannot write %s: %s",
                                                                   path, tmp.msg);
    }
    if (rc == 0) rc = h5doc_publish(doc, path, err);
    h5doc_free(doc);
    return rc;
}

/* --- load: checks ---------------------------------------------------------------------- */

/* Format and spec hash; the stored spec (malloc'd) into *spec_out if not NULL. */
static int check_header(H5Reader *r, CheckpointInfo *info, char **spec_out, ExError *err) {
    const char *path = h5r_path(r);
    memset(info, 0, sizeof *info);
    if (!h5r_has_attr(r, "/", "exprun_format"))
        return ex_fail(err, "%s: not an exprun checkpoint (no exprun_format attribute)", path);
    if (h5r_attr_int(r, "/", "exprun_format", &info->format, err)) return -1;
    if (info->format != CKPT_FORMAT)
        return ex_fail(err, "%s: checkpoint format %lld, but this exprun reads format %d%s", path,
                       (long long)info->format, CKPT_FORMAT,
                       info->format > CKPT_FORMAT ? " (written by a newer exprun)" : "");
    if (h5r_attr_int(r, "/", "step", &info->step, err) ||
        h5r_attr_int(r, "/", "epoch", &info->epoch, err))
        return -1;
    char *sha = NULL, *spec = NULL;
    if (h5r_attr_str(r, "/", "spec_sha256", &sha, err)) return -1;
    snprintf(info->spec_sha256, sizeof info->spec_sha256, "%s", sha);
    free(sha);
    if (h5r_read_string(r, "/spec", &spec, err)) return -1;
    char actual[65];
    sha256_hex(actual, spec, strlen(spec));
    if (strcmp(actual, info->spec_sha256) != 0) {
        free(spec);
        return ex_fail(err, "%s: the stored spec does not match its spec_sha256 (%s, computed %s): "
                       "the file is damaged or was edited", path, info->spec_sha256, actual);
    }
    if (spec_out) *spec_out = spec;
    else free(spec);
    info->checksummed = h5r_has_attr(r, "/", "checksums");
    if (h5r_has_attr(r, "/optimizer", "type")) {
        char *type = NULL;
        if (h5r_attr_str(r, "/optimizer", "type", &type, err)) return -1;
        snprintf(info->optimizer, sizeof info->optimizer, "%s", type);
        free(type);
    }
    return 0;
}

/* Dataset group/<view name> must be float with the view's shape. Returns 1 if it is missing
 * and may be (must_exist = 0), 0 if it fits, -1 otherwise. */
static int check_view(H5Reader *r, const char *group, const ParamView *v, int must_exist,
                      const char *what, ExError *err) {
    char dset[PATH_CAP];
    snprintf(dset, sizeof dset, "%s/%s", group, v->name);
    if (!h5r_exists(r, dset)) {
        if (!must_exist) return 1;
        return ex_fail(err, "%s: no %s for view %s (expected dataset %s): was the checkpoint "
                       "written for another model?", h5r_path(r), what, v->name, dset);
    }
    H5RInfo info;
    if (h5r_info(r, dset, &info, err)) return -1;
    int64_t want[TENSOR_MAX_RANK];
    for (int i = 0; i < v->rank; i++) want[i] = v->shape[i];
    int same = info.rank == v->rank;
    for (int i = 0; same && i < v->rank; i++) same = info.dims[i] == want[i];
    if (!same) {
        char found_s[128], want_s[128];
        return ex_fail(err, "%s: %s of view %s has shape %s in the checkpoint but %s in the "
                       "model", h5r_path(r), what, v->name,
                       h5r_shape_string(found_s, sizeof found_s, info.rank, info.dims),
                       h5r_shape_string(want_s, sizeof want_s, v->rank, want));
    }
    if (info.kind != 'f')
        return ex_fail(err, "%s: %s holds %s, expected float32", h5r_path(r), dset,
                       dtype_name(info.kind, info.elem_size));
    return 0;
}

/* Every view of p under group (parameters, or optimizer buffers). */
static int check_views(H5Reader *r, const Params *p, const char *group, const char *what,
                       ExError *err) {
    for (int i = 0; i < p->count; i++)
        if (check_view(r, group, &p->views[i], 1, what, err) < 0) return -1;
    return 0;
}

/* The file must not hold parameters the model does not have: that means another spec. */
static int check_no_unknown_views(H5Reader *r, const Params *p, ExError *err) {
    size_t n = 0;
    char **paths = NULL;
    if (h5r_list_datasets(r, "/model", &n, &paths, err)) return -1;
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        const char *name = paths[i] + strlen("/model/");
        if (params_find(p, name) < 0)
            rc = ex_fail(err, "%s: the checkpoint has parameter %s, which this model does not "
                         "have: was it written for another spec?", h5r_path(r), name);
    }
    h5r_free_strings(paths, n);
    return rc;
}

static int check_buffer_group(H5Reader *r, const Params *p, const char *group, int needed,
                              const char *what, ExError *err) {
    int present = h5r_exists(r, group);
    if (needed && !present)
        return ex_fail(err, "%s: the optimizer needs its %s, but the checkpoint has no %s",
                       h5r_path(r), what, group);
    if (!needed && present)
        return ex_fail(err, "%s: the checkpoint has %s (%s), but this optimizer keeps none: did "
                       "its settings (e.g. momentum) change?", h5r_path(r), group, what);
    return needed ? check_views(r, p, group, what, err) : 0;
}

static int check_optimizer(H5Reader *r, const Params *p, const Optimizer *opt,
                           const CheckpointInfo *info, ExError *err) {
    if (!info->optimizer[0])
        return ex_fail(err, "%s: the checkpoint has no optimizer state, so training cannot "
                       "resume from it (it can still initialise a model: --init-from)",
                       h5r_path(r));
    const char *want = optim_name(opt->cfg.type);
    if (strcmp(info->optimizer, want) != 0)
        return ex_fail(err, "%s: the checkpoint's optimizer is '%s' but the spec says '%s'",
                       h5r_path(r), info->optimizer, want);
    if (!h5r_has_attr(r, "/optimizer", "t"))
        return ex_fail(err, "%s: /optimizer has no update count t", h5r_path(r));
    if (check_buffer_group(r, p, "/optimizer/m", opt->m != NULL, "first moments", err)) return -1;
    return check_buffer_group(r, p, "/optimizer/v", opt->v != NULL, "second moments", err);
}

static int check_state(H5Reader *r, const CheckpointState *st, ExError *err) {
    const char *path = h5r_path(r);
    if (!h5r_has_attr(r, "/state", "data_epoch") || !h5r_has_attr(r, "/state", "data_cursor"))
        return ex_fail(err, "%s: /state lacks data_epoch or data_cursor", path);
    for (int i = 0; i < st->n_extra; i++) {
        const CkptExtra *e = &st->extra[i];
        char dset[PATH_CAP];
        snprintf(dset, sizeof dset, "/state/%s", e->name);
        if (!h5r_exists(r, dset))
            return ex_fail(err, "%s: no saved state '%s' (dataset %s)", path, e->name, dset);
        H5RInfo info;
        if (h5r_info(r, dset, &info, err)) return -1;
        char k;
        size_t size;
        kind_dtype(e->kind, &k, &size);
        if (k == '?') return ex_fail(err, "state '%s': unknown kind %d", e->name, e->kind);
        if (info.kind != k || info.elem_size != size)
            return ex_fail(err, "%s: state '%s' is %s in the checkpoint, expected %s", path,
                           e->name, dtype_name(info.kind, info.elem_size), kind_name(e->kind));
        if (info.rank != 1 || info.dims[0] != (int64_t)e->count) {
            char found_s[128];
            return ex_fail(err, "%s: state '%s' has shape %s in the checkpoint, expected %zu",
                           path, e->name,
                           h5r_shape_string(found_s, sizeof found_s, info.rank, info.dims),
                           e->count);
        }
    }
    return 0;
}

/* --- load: reads ----------------------------------------------------------------------- */

/* Everything is read into staging buffers and checked — each dataset against its sha256, the
 * floats for finite values — before any of it is copied over the model, optimizer and state:
 * a damaged file changes nothing. The price is a second copy of the parameters while loading. */

/* dset's values (bytes) against its attribute sha256, when the file has checksums. */
static int verify_checksum(H5Reader *r, const char *dset, const void *data, size_t bytes, int checksummed,
                           ExError *err) {
    if (!checksummed) return 0;
    if (!h5r_has_attr(r, dset, "sha256"))
        return ex_fail(err, "%s: %s has no sha256 attribute, though the file says every dataset has one: the "
                       "file is damaged or was edited, and nothing of it was used", h5r_path(r), dset);
    char *want = NULL, got[65];
    if (h5r_attr_str(r, dset, "sha256", &want, err)) return -1;
    sha256_hex(got, data, bytes);
    int same = strcmp(want, got) == 0;
    if (!same)
        ex_fail(err, "%s: the values of %s do not match their checksum (SHA-256 %s, recorded %.64s): the file is "
                "damaged or was edited, and nothing of it was used", h5r_path(r), dset, got, want);
    free(want);
    return same ? 0 : -1;
}

/* Parameters, moments and carried state are written from finite values only (a step that made
 * one NaN or Inf stops the run before its checkpoint); sums of squares are also never below 0. */
static int verify_finite(H5Reader *r, const char *dset, const float *x, size_t n, int nonnegative, ExError *err) {
    for (size_t i = 0; i < n; i++)
        if (!isfinite(x[i]) || (nonnegative && x[i] < 0))
            return ex_fail(err, "%s: %s[%zu] is %g%s; exprun writes checkpoints from finite values only, so the "
                           "file is damaged or was edited, and nothing of it was used", h5r_path(r), dset, i,
                           (double)x[i], isfinite(x[i]) ? ", below 0 in a sum of squares" : "");
    return 0;
}

static int read_views(H5Reader *r, const Params *p, const char *group, float *base, int strict,
                      int *n_loaded, int checksummed, int nonnegative, ExError *err) {
    char dset[PATH_CAP];
    for (int i = 0; i < p->count; i++) {
        const ParamView *v = &p->views[i];
        snprintf(dset, sizeof dset, "%s/%s", group, v->name);
        if (!strict && !h5r_exists(r, dset)) continue;
        float *x = base + v->offset;
        if (h5r_read_floats(r, dset, v->rank, v->shape, x, err) ||
            verify_checksum(r, dset, x, v->size * sizeof(float), checksummed, err) ||
            verify_finite(r, dset, x, v->size, nonnegative, err))
            return -1;
        if (n_loaded) (*n_loaded)++;
    }
    return 0;
}

/* An extra into data (a staging buffer of e->count elements). */
static int read_extra(H5Reader *r, const CkptExtra *e, void *data, int checksummed, ExError *err) {
    char dset[PATH_CAP];
    snprintf(dset, sizeof dset, "/state/%s", e->name);
    int shape[1] = {(int)e->count};
    size_t size = kind_size(e->kind);
    int rc;
    switch (e->kind) {
    case CKPT_U64: rc = h5r_read_uint64s(r, dset, 1, shape, data, err); break;
    case CKPT_F32: rc = h5r_read_floats(r, dset, 1, shape, data, err); break;
    case CKPT_I64: rc = h5r_read_int64s(r, dset, 1, shape, data, err); break;
    case CKPT_F64: rc = h5r_read_doubles(r, dset, 1, shape, data, err); break;
    default: return ex_fail(err, "state '%s': unknown kind %d", e->name, e->kind);
    }
    if (rc || verify_checksum(r, dset, data, e->count * size, checksummed, err)) return -1;
    return e->kind == CKPT_F32 ? verify_finite(r, dset, data, e->count, 0, err) : 0;
}

/* A staging copy of n floats at from: views may be padded apart in the arena (params.c), and
 * the padding must come back as it was. */
static float *staging_floats(const float *from, size_t n) {
    float *x = ex_malloc((n ? n : 1) * sizeof(float));
    if (n) memcpy(x, from, n * sizeof(float));
    return x;
}

int checkpoint_load(const char *path, Params *p, Optimizer *opt, CheckpointState *st,
                    char **resolved_spec_out, ExError *err) {
    if (resolved_spec_out) *resolved_spec_out = NULL;
    if (!p || !p->value) return ex_fail(err, "%s: the model's parameters are not allocated", path);
    if (opt && opt->n != p->total)
        return ex_fail(err, "%s: the optimizer holds %zu values, the model %zu", path, opt->n,
                       p->total);
    H5Reader *r = NULL;
    int sealed = h5seal_check(path, err);
    if (sealed < 0 || h5r_open_own(&r, path, err)) return -1;
    int rc = -1;
    char *spec = NULL;
    CheckpointInfo info;
    float *value = NULL, *m = NULL, *v = NULL;
    void *extra[CKPT_MAX_EXTRA] = {0};
    int64_t t = 0, data_epoch = 0, data_cursor = 0;
    /* Phase 1: does everything fit? */
    if (check_header(r, &info, &spec, err) || check_views(r, p, "/model", "parameters", err) ||
        check_no_unknown_views(r, p, err) || (opt && check_optimizer(r, p, opt, &info, err)) ||
        (st && check_state(r, st, err)))
        goto done;
    /* Phase 2: read into staging and verify. */
    const int sums = info.checksummed;
    value = staging_floats(p->value, p->total);
    if (read_views(r, p, "/model", value, 1, NULL, sums, 0, err)) goto done;
    if (opt) {
        if (h5r_attr_int(r, "/optimizer", "t", &t, err)) goto done;
        if (t < 0) {
            ex_fail(err, "%s: the optimizer's update count t is %lld, below 0: the file is damaged or was edited",
                    path, (long long)t);
            goto done;
        }
        if (opt->m && read_views(r, p, "/optimizer/m", m = staging_floats(opt->m, p->total), 1, NULL, sums, 0, err))
            goto done;
        if (opt->v && read_views(r, p, "/optimizer/v", v = staging_floats(opt->v, p->total), 1, NULL, sums, 1, err))
            goto done;
    }
    if (st) {
        if (h5r_attr_int(r, "/state", "data_epoch", &data_epoch, err) ||
            h5r_attr_int(r, "/state", "data_cursor", &data_cursor, err))
            goto done;
        for (int i = 0; i < st->n_extra; i++) {
            extra[i] = ex_malloc(st->extra[i].count * kind_size(st->extra[i].kind) + 1);
            if (read_extra(r, &st->extra[i], extra[i], sums, err)) goto done;
        }
    }
    /* Phase 3: all of it checked; copy it over. */
    memcpy(p->value, value, p->total * sizeof(float));
    if (opt) {
        opt->t = t;
        if (m) memcpy(opt->m, m, p->total * sizeof(float));
        if (v) memcpy(opt->v, v, p->total * sizeof(float));
    }
    if (st) {
        st->step = info.step;
        st->epoch = info.epoch;
        st->data_epoch = data_epoch;
        st->data_cursor = data_cursor;
        for (int i = 0; i < st->n_extra; i++) {
            if (st->extra[i].count)
                memcpy(st->extra[i].data, extra[i], st->extra[i].count * kind_size(st->extra[i].kind));
        }
    }
    rc = 0;
    if (resolved_spec_out) {
        *resolved_spec_out = spec;
        spec = NULL;
    }
done:
    free(spec);
    free(value);
    free(m);
    free(v);
    for (int i = 0; i < CKPT_MAX_EXTRA; i++) free(extra[i]);
    h5r_close(r);
    return rc;
}

int checkpoint_load_params_only(const char *path, Params *p, int strict, int *n_loaded,
                                ExError *err) {
    if (n_loaded) *n_loaded = 0;
    if (!p || !p->value) return ex_fail(err, "%s: the model's parameters are not allocated", path);
    H5Reader *r = NULL;
    int sealed = h5seal_check(path, err);
    if (sealed < 0 || h5r_open_own(&r, path, err)) return -1;
    int rc = -1, loaded = 0;
    CheckpointInfo info;
    /* Views the file lacks (strict = 0) keep their values. */
    float *value = staging_floats(p->value, p->total);
    if (check_header(r, &info, NULL, err)) goto done;
    for (int i = 0; i < p->count; i++)
        if (check_view(r, "/model", &p->views[i], strict, "parameters", err) < 0) goto done;
    if (read_views(r, p, "/model", value, strict, &loaded, info.checksummed, 0, err)) goto done;
    memcpy(p->value, value, p->total * sizeof(float));
    if (n_loaded) *n_loaded = loaded;
    rc = 0;
done:
    free(value);
    h5r_close(r);
    return rc;
}

int checkpoint_info(const char *path, CheckpointInfo *info, ExError *err) {
    H5Reader *r = NULL;
    memset(info, 0, sizeof *info);
    int sealed = h5seal_check(path, err);
    if (sealed < 0 || h5r_open_own(&r, path, err)) return -1;
    int rc = check_header(r, info, NULL, err);
    info->sealed = sealed;
    h5r_close(r);
    return rc;
}
