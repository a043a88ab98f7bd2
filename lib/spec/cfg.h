/* cfg.h — the spec as a tree: YAML read with libyaml, checked against a schema, with
 * overrides, defaults and error reporting. (The typed view the models use lives in spec.h.)
 *
 * Flow: cfg_parse_file() reads YAML into a CfgNode tree that remembers file:line:col of every
 * node; cfg_apply_override() applies "a.b.0.c=value" overrides from the command line;
 * cfg_validate() checks the tree against a Schema, collects *all* errors in one pass, and fills
 * in every default, so that afterwards every typed getter below succeeds; cfg_emit_yaml() writes
 * the resolved tree back out as YAML (the resolved spec a run records and `exprun show` prints). */
#ifndef EXPRUN_CFG_H
#define EXPRUN_CFG_H

#include <stddef.h>
#include <stdio.h>

#include "error.h"

typedef enum CfgKind { CFG_SCALAR, CFG_MAP, CFG_SEQ } CfgKind;

typedef struct CfgNode CfgNode;
struct CfgNode {
    CfgKind kind;
    char *key;           /* key in the parent map, or NULL for sequence items and the root */
    char *value;         /* scalar text (CFG_SCALAR), else NULL */
    int quoted;          /* scalar was quoted in the YAML ("123" is a string, not a number) */
    CfgNode **items;     /* children: map entries in file order, or sequence items */
    int count;
    const char *file;    /* where the node came from: a spec file name or "override 'k=v'" */
    int line, col;       /* 1-based; 0 when the node was created as a default */
    int key_line, key_col; /* position of `key` in its map (so "unknown key" points at the key,
                              "expected an integer" at the value); 0 for items and the root */
};
/* Ownership: a node owns key, value, file (each its own malloc'd copy) and its items; build
 * trees with cfg_new/cfg_append so cfg_free and cfg_append's growth rule stay valid. */

/* One reported problem: where it is, which key, and what was wrong. */
typedef struct CfgDiag {
    char *file;
    int line, col;
    char *path;          /* dotted key path, e.g. "model.encoder.0.units" */
    char *message;       /* e.g. "unknown key 'optimiser' (did you mean 'optimizer'?)" */
} CfgDiag;

typedef struct CfgDiags {
    CfgDiag *items;
    int count, cap;
} CfgDiags;

/* "file:line:col: path: message" per diagnostic, one per line, into out. */
void cfg_diags_print(const CfgDiags *d, FILE *out);
void cfg_diags_free(CfgDiags *d);
/* Append a diagnostic (file may be NULL; path may be NULL or ""). For checks outside this
 * module, e.g. cross-key constraints in spec.c: cfg_diag_at() takes the position of a node's
 * value, cfg_diag_at_key() that of its key (falling back to the value for list items). */
void cfg_diag_add(CfgDiags *d, const char *file, int line, int col, const char *path,
                  const char *fmt, ...) __attribute__((format(printf, 6, 7)));
void cfg_diag_at(CfgDiags *d, const CfgNode *node, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
void cfg_diag_at_key(CfgDiags *d, const CfgNode *node, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* All diagnostics, one per line as cfg_diags_print writes them, into err (truncated to fit);
 * returns -1 if there were any, else 0 (err untouched). */
int cfg_diags_to_error(const CfgDiags *d, ExError *err);

/* Parse YAML. Syntax errors become diagnostics with the libyaml mark; returns NULL then.
 * Aliases and anchors are rejected (they make alias bombs possible and specs hard to read);
 * nesting deeper than 32 levels and documents over 1 MiB are rejected. */
CfgNode *cfg_parse_file(const char *path, CfgDiags *diags);
CfgNode *cfg_parse_string(const char *text, size_t len, const char *name, CfgDiags *diags);
/* cfg_parse_file, then its `base: PATH` (relative to the file) read the same way, down the
 * chain, and the file merged over it: the file's keys in its own order (a key both hold merged
 * by cfg_merge_over), the base's other keys where `base:` stands; the key `base` is gone from
 * the result. A base that is missing, not a map, or already in the chain is a diagnostic at the
 * `base` key; returns NULL then (cfg_base.c). */
CfgNode *cfg_parse_composed(const char *path, CfgDiags *diags);
/* Merge the map `over` into the map `base` and free `over`: a key both have as maps merges
 * key by key, any other value of `over` replaces the base's (in the base's place), a key only
 * `over` has is appended. Nodes keep their own file:line. */
void cfg_merge_over(CfgNode *base, CfgNode *over);
/* The override `key=path` for a section (a top-level map, `data=configs/data/fashion.yaml`):
 * root's section `key` replaced whole by the file's map — the file holds the section's keys, or
 * one key `key:` holding them, as a base spec would. Returns 0, or -1 with a diagnostic. */
int cfg_section_from_file(CfgNode *root, const char *key, const char *path, CfgDiags *diags);
void cfg_free(CfgNode *node);
CfgNode *cfg_clone(const CfgNode *node);
/* A new node (key, value, file copied; any may be NULL) and appending a child to a map or list. */
CfgNode *cfg_new(CfgKind kind, const char *key, const char *value, const char *file, int line,
                 int col);
void cfg_append(CfgNode *parent, CfgNode *child);
/* Same structure, keys and scalar text; positions are ignored, and so is `quoted` unless the
 * text would otherwise read as a number, true/false or null (where quoting changes the meaning).
 * The plain nulls (nothing, ~, null) are equal to each other. */
int cfg_equal(const CfgNode *a, const CfgNode *b);

/* ---- schema ----------------------------------------------------------------------------
 * A flat table of dotted paths. "*" stands for any index of a list:
 *   {"model.encoder", SK_LIST, ...}  {"model.encoder.*.units", SK_INT, "64", 1, 1e9, ...}
 * A key whose `when` condition ("model.type=autoencoder", alternatives with '|':
 * "data.source=idx|csv") is false must be absent (an error if present: "does not apply when
 * model.type is lstm") and gets no default. Conditions refer to already-resolved keys, so the
 * table lists a discriminator before the keys that depend on it. */
typedef enum SchemaKind {
    SK_MAP,        /* a nested map; its keys are listed separately */
    SK_LIST,       /* a list of maps; item keys listed as path.*.key */
    SK_INT,        /* integer (decimal), range [min, max] */
    SK_FLOAT,      /* number, range [min, max]; "1e-3" and ".5" accepted */
    SK_BOOL,       /* true/false */
    SK_STRING,     /* any scalar */
    SK_ENUM,       /* one of choices "a|b|c" */
    SK_INT_LIST,   /* flow or block list of ints: [128, 128] */
    SK_FLOAT_LIST, /* list of numbers */
    SK_ANY         /* any subtree, not checked (e.g. the sweep block) */
} SchemaKind;

typedef struct SchemaKey {
    const char *path;
    SchemaKind kind;
    const char *default_value;   /* YAML text of the default; NULL = required; "~" = optional, no default */
    double min, max;             /* for SK_INT / SK_FLOAT / lists (each element); ignored if min > max */
    const char *choices;         /* SK_ENUM */
    const char *when;            /* condition, or NULL */
    const char *doc;             /* one line for `exprun show --doc` and the README table */
} SchemaKey;

typedef struct Schema {
    const SchemaKey *keys;
    int count;
} Schema;

/* Check root against schema; fill defaults; append every problem to diags (sorted by
 * position). Returns 0 when there were no errors.
 * Defaults are parsed as YAML flow text, so an SK_MAP with default "{}" is created empty and its
 * children's defaults are filled in; "[]" gives an empty SK_LIST. Parents must be listed before
 * their children, and a `when` may name only keys listed earlier; a "*" in a `when` path stands
 * for the index of the list item being checked ("model.encoder.*.kind=dense"). A `when` whose
 * key is itself invalid, or required and missing, is treated as unknown: the dependent key is
 * type-checked if present but neither demanded nor defaulted (one mistake, one message). */
int cfg_validate(CfgNode *root, const Schema *schema, CfgDiags *diags);
/* Check the schema table itself (order, parents, conditions, choices, defaults); a test for
 * every schema should call it. Returns 0 when the table is sound. */
int cfg_schema_check(const Schema *schema, CfgDiags *diags);

/* Apply one "dotted.path=value" override (value is parsed as a YAML flow scalar or list, e.g.
 * "[128,128]"). The path may create a key the file omitted if the schema knows it (validation
 * checks that afterwards). Errors name the override. Returns 0 or -1 with a diagnostic.
 * Only `key=value` is supported (no deletion syntax). Numeric segments index lists (an index
 * past the end is an error); missing map keys along the path are created as maps; a path
 * through a scalar is an error. `x=` sets x to the empty string. A value that parses as a block
 * collection (e.g. "a: b") is rejected: write {a: b} or quote it. */
int cfg_apply_override(CfgNode *root, const char *assignment, CfgDiags *diags);

/* Write the tree as block YAML (keys in file order, defaults where they were filled). */
void cfg_emit_yaml(const CfgNode *root, FILE *out);
/* The same into a malloc'd string. */
char *cfg_emit_yaml_string(const CfgNode *root);
/* The same with where each value came from after it: "  # FILE:LINE", "  # schema default",
 * "  # override 'k=v'" (`exprun show --origin`). Comments: it reads back as the same tree. */
char *cfg_emit_yaml_origins(const CfgNode *root);
/* A value as one line of YAML flow text that cfg_apply_override reads back to an equal node:
 * 1.0e-3, relu, "0.1" (a string), ~, [128, 64], {type: masking, rate: 0.3}. malloc'd. */
char *cfg_emit_flow_string(const CfgNode *value);

/* ---- typed access after validation: path is dotted with numeric list indices -------------- */
const CfgNode *cfg_get(const CfgNode *root, const char *path);     /* NULL if absent */
/* YAML's null when written plainly: nothing, ~, null, Null, NULL (quoted, they are strings). */
int cfg_text_is_null(const char *text);
const char *cfg_str(const CfgNode *root, const char *path);        /* NULL if absent */
long cfg_int(const CfgNode *root, const char *path, long fallback);
double cfg_float(const CfgNode *root, const char *path, double fallback);
int cfg_bool(const CfgNode *root, const char *path, int fallback);
int cfg_len(const CfgNode *root, const char *path);                /* list length, 0 if absent */
int cfg_has(const CfgNode *root, const char *path);

/* Damerau–Levenshtein distance, for did-you-mean (≤ 2 → suggest). */
int cfg_edit_distance(const char *a, const char *b);
/* The candidate closest to word within edit distance 2 (and closer than word's own length, so
 * "x" does not suggest "lr"), or NULL: every did-you-mean. */
const char *cfg_closest(const char *word, const char *const *cands, int n);

#endif
