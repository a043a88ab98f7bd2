/* spec/sweep.h — a spec's `sweep:` block expanded into trials (the `exprun sweep` command that
 * runs them: runner/sweep.h).
 *
 *   sweep:
 *     grid:                       # Cartesian product, keys in file order, the LAST key fastest
 *       optimizer.lr: [1.0e-3, 3.0e-4]
 *       model.code: [32, 64]
 *     zip:                        # lists of equal length, taken position by position
 *       model.noise.type: [none, masking]
 *       model.noise.rate: [0.0, 0.3]
 *
 * gives product(grid) × zip = 2 · 2 · 2 = 8 trials. Trial i = g · n_zip + z, where z (the zip
 * position) runs fastest and g counts the grid combinations with the last grid key fastest:
 *   0: optimizer.lr=1.0e-3 model.code=32 model.noise.type=none model.noise.rate=0.0
 *   1: optimizer.lr=1.0e-3 model.code=32 model.noise.type=masking model.noise.rate=0.3
 *   2: optimizer.lr=1.0e-3 model.code=64 model.noise.type=none ...
 * A grid or zip key may also be written nested (`optimizer: {lr: [...]}`); maps are walked in
 * file order down to the lists. The order never depends on anything but the spec text, so
 * `--index I` means the same trial on every machine (a Slurm array runs trial
 * $SLURM_ARRAY_TASK_ID).
 *
 * A trial is a plain run: the spec, then the command-line overrides, then the trial's overrides
 * (applied with cfg_apply_override, exactly as if typed on the command line), with the sweep
 * block removed from its resolved spec. */
#ifndef EXPRUN_SPEC_SWEEP_H
#define EXPRUN_SPEC_SWEEP_H

#include "spec/cfg.h"

/* One swept key: its list of values in the spec. */
#define SWEEP_MAX_DEPTH 32

typedef struct SweepAxis {
    char *key;                  /* dotted spec path, e.g. "optimizer.lr" */
    const char *section;        /* "grid" or "zip" */
    const CfgNode *list;        /* the list node (positions for messages), inside Sweep.block */
    int n_segs;                 /* segments of key */
    const CfgNode *seg_node[SWEEP_MAX_DEPTH]; /* the sweep-block key that spells each segment */
} SweepAxis;

typedef struct SweepTrial {
    int n;                      /* overrides: one per axis, grid axes first, then zip axes */
    char **overrides;           /* "optimizer.lr=1.0e-3" (value as YAML flow text) */
    const CfgNode **values;     /* the value node in the spec of each override */
} SweepTrial;

typedef struct Sweep {
    CfgNode *block;             /* a copy of the sweep block (owned); axes point into it */
    int n_grid, n_zip;
    SweepAxis *grid, *zip;
    int zip_len;                /* values in each zip list (1 without zip) */
    int n_trials;
    SweepTrial *trials;
} Sweep;

#define SWEEP_MAX_TRIALS 100000

/* Expand root's `sweep` block. Every problem (no block, a value that is not a list, an empty
 * list, zip lists of unequal length, a key swept twice) becomes a diagnostic at its
 * file:line:col. Returns 0, or -1 with diagnostics (out is then empty). */
int sweep_expand(const CfgNode *root, Sweep *out, CfgDiags *diags);
void sweep_free(Sweep *s);

/* Remove the `sweep` key from a spec's root map. Returns 1 if there was one. */
int sweep_strip(CfgNode *root);

/* Apply trial t's overrides to tree (a spec whose sweep block is stripped). The nodes they
 * create take the positions of the values in the sweep block, so a validation error in a
 * trial points at the sweep block's line and column. Returns 0 or -1 with diagnostics. */
int sweep_apply_trial(CfgNode *tree, const Sweep *s, int t, CfgDiags *diags);

#endif
