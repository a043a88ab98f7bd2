/* checkpoint.h — everything needed to continue a run bit for bit, in one self-describing HDF5 file.
 *
 * A checkpoint holds the parameters (each ParamView as its own named dataset with its shape, as
 * Keras and Caffe do, so a file can be checked against the model and read from Python), the
 * optimizer state (moments and the update count t: losing t restarts Adam's bias correction, and
 * losing the moments is why resumed runs jump — TF#49208, distiller#145), the step and epoch, the
 * data position, any named extras (RNG streams, carried hidden state, early-stopping counters),
 * and the resolved spec with its SHA-256, so `exprun resume` can refuse a checkpoint of another
 * experiment. It is published atomically (h5doc_publish): a kill mid-save leaves the previous
 * checkpoint intact.
 *
 * Layout of a checkpoint file (runs keep them in RUN_DIR/checkpoints/; exprun_format 1). The
 * file is sealed (h5seal.h): its first 512 bytes, a user block HDF5 skips, hold the SHA-256 of
 * the rest, and every load checks it before HDF5 parses the file.
 *   /                    attrs: exprun_format int64 = 1, kind str = "checkpoint",
 *                               exprun_version str, step int64, epoch int64,
 *                               spec_sha256 str (64 hex digits of the /spec text, as sha256sum),
 *                               checksums str = "sha256" (every dataset below has attr sha256:
 *                               the SHA-256 of its values' little-endian bytes, checked on load;
 *                               files without it predate checksums and load unverified)
 *   /spec                scalar vlen UTF-8 string: the resolved spec YAML
 *   /model/<view>        float32, the view's shape, e.g. /model/enc0/W (64, 784);
 *                        attr layout str (what the axes mean, e.g. "out,in")
 *   /optimizer           group; attrs type str ("sgd", "adam", "rmsprop", "adagrad"), t int64
 *                        (updates done), lr, momentum, beta1, beta2, alpha, eps, weight_decay
 *                        float64, nesterov, decoupled_weight_decay int64
 *   /optimizer/m/<view>  float32, the view's shape: first moment / momentum buffer (when used)
 *   /optimizer/v/<view>  float32, the view's shape: second moment / sum of squares (when used)
 *   /state               group; attrs data_epoch int64, data_cursor int64 (the batcher position)
 *   /state/<extra>       1-D: uint64, float32, int64 or float64 per CkptKind, e.g.
 *                        /state/rng/shuffle uint64 (4), /state/rng/noise uint64 (4),
 *                        /state/hidden/lstm0 float32 (B*H)
 * In Python:
 *   import h5py
 *   with h5py.File("run/checkpoints/epoch-0012-step-00012000.h5", "r") as f:
 *       W = f["model/enc0/W"][()]                     # numpy float32 (64, 784)
 *       step, t = f.attrs["step"], f["optimizer"].attrs["t"]
 *       spec = f["spec"].asstr()[()]
 *       f.visit(print)                                 # every group and dataset
 */
#ifndef EXPRUN_CHECKPOINT_H
#define EXPRUN_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "optim.h"
#include "params.h"

#define CKPT_FORMAT 1
#define CKPT_MAX_EXTRA 16
#define CKPT_NAME_MAX 64

typedef enum CkptKind { CKPT_U64 = 0, CKPT_F32 = 1, CKPT_I64 = 2, CKPT_F64 = 3 } CkptKind;

/* A named 1-D array stored under /state/<name>. On save, data is read; on load, data is the
 * caller's buffer of count elements, filled from the file. */
typedef struct CkptExtra {
    char name[CKPT_NAME_MAX];     /* e.g. "rng/shuffle" */
    int kind;                     /* CkptKind */
    size_t count;
    void *data;
} CkptExtra;

typedef struct CheckpointState {
    int64_t step, epoch;          /* optimizer steps done; epochs done */
    int64_t data_epoch;           /* the batcher's epoch (its shuffle order) */
    int64_t data_cursor;          /* the batcher's position in that epoch */
    int n_extra;
    CkptExtra extra[CKPT_MAX_EXTRA];
} CheckpointState;

/* Append an extra to st (name copied, data referenced, not copied). */
int checkpoint_state_add(CheckpointState *st, const char *name, CkptKind kind, size_t count,
                         void *data, ExError *err);

/* Save to path atomically. opt may be NULL (no /optimizer); resolved_spec_yaml may be NULL (""). */
int checkpoint_save(const char *path, const Params *p, const Optimizer *opt,
                    const CheckpointState *st, const char *resolved_spec_yaml, ExError *err);

/* Load a checkpoint into a model and optimizer built from the same spec. Every view of p must be
 * in the file with the same shape, and the file must have no view p lacks; the optimizer type
 * must match and its m/v buffers must be present exactly when opt has them. Extras are matched
 * by name against st->extra[] (which the caller filled with names, kinds, counts and buffers);
 * a missing one, or one of another kind or size, is an error. Everything is checked before
 * anything is overwritten. opt, st and resolved_spec_out may be NULL to skip them;
 * *resolved_spec_out is malloc'd. The stored spec must match its spec_sha256. */
int checkpoint_load(const char *path, Params *p, Optimizer *opt, CheckpointState *st,
                    char **resolved_spec_out, ExError *err);

/* Parameters only, for fine-tuning (--init-from). Shapes must match where a view is loaded.
 * strict = 1: every view of p must be in the file (views the file has and p lacks are ignored).
 * strict = 0: views missing from the file keep their values. *n_loaded (may be NULL) counts
 * the views loaded. */
int checkpoint_load_params_only(const char *path, Params *p, int strict, int *n_loaded,
                                ExError *err);

/* The header of a checkpoint, checked: format, step, epoch, optimizer type (or "") and spec
 * hash, after verifying that the stored spec matches its hash — cheap enough to pick the newest
 * sound checkpoint and to compare spec_sha256 with the run's before loading. */
typedef struct CheckpointInfo {
    int64_t format, step, epoch;
    char spec_sha256[65];
    char optimizer[32];
    int checksummed;              /* root attr checksums = "sha256": every dataset has one */
    int sealed;                   /* the whole file's SHA-256 in its user block (h5seal.h), checked */
} CheckpointInfo;
int checkpoint_info(const char *path, CheckpointInfo *info, ExError *err);

#endif
