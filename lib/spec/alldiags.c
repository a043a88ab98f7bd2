/* alldiags.c — every problem of a spec at once, across phases (spec.h: spec_more_diags).
 *
 * The schema's checks (types, ranges, unknown keys) run over the whole file; the checks of
 * combinations (cross-entropy with an identity f, head: per_step on the adding task) need typed
 * values, so they could only run once the schema's checks passed, and a user fixed one round of
 * errors to meet the next. Here, after schema errors, the keys they name are taken out of a copy
 * of the tree — the schema's defaults take their place — and the combinations are checked on
 * that copy; what they find is added unless it is about a key already reported. A spec that lacks
 * a required key gets no second look: there is nothing to combine. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"
#include "spec/schema.h"
#include "spec/cfg_internal.h"

/* A valid stand-in for a required key reported wrong (it has no default to fall back on): the
 * least value of its range, or its first choice; NULL where there is none. */
static const char *stand_in(const SchemaKey *k, char *buf, size_t cap) {
    if (!k || k->default_value) return NULL;
    if (k->kind == SK_INT) snprintf(buf, cap, "%.0f", k->min <= k->max && k->min > 1 ? k->min : 1.0);
    else if (k->kind == SK_FLOAT) snprintf(buf, cap, "%.17g", k->min <= k->max ? k->min : 1.0);
    else if (k->kind == SK_ENUM && k->choices) snprintf(buf, cap, "%.*s", (int)strcspn(k->choices, "|"), k->choices);
    else return NULL;
    return buf;
}

/* Take the node at a dotted path out of the tree (a list item: its whole list), or give a
 * required scalar a valid stand-in. */
static void take_out(CfgNode *root, const char *path) {
    char buf[64];
    const char *value = stand_in(spec_schema_key(path), buf, sizeof buf);
    CfgNode *node = (CfgNode *)cfg_get(root, path);
    if (value && node && node->kind == CFG_SCALAR) {
        free(node->value);
        node->value = cfg_strdup(value);
        node->quoted = 0;
        return;
    }
    char parent_path[512];
    snprintf(parent_path, sizeof parent_path, "%s", path);
    char *dot = strrchr(parent_path, '.');
    const char *key = dot ? dot + 1 : parent_path;
    if (dot) *dot = '\0';
    CfgNode *parent = dot ? (CfgNode *)cfg_get(root, parent_path) : root;
    if (parent && parent->kind == CFG_SEQ && dot) {   /* model.units.1: drop model.units */
        take_out(root, parent_path);
        return;
    }
    if (!parent || parent->kind != CFG_MAP) return;
    for (int i = 0; i < parent->count; i++)
        if (parent->items[i]->key && strcmp(parent->items[i]->key, key) == 0) {
            cfg_free(parent->items[i]);
            memmove(parent->items + i, parent->items + i + 1, (size_t)(parent->count - i - 1) * sizeof *parent->items);
            parent->count--;
            return;
        }
}

static int reported(const CfgDiags *d, int from, const char *path) {
    for (int i = from; i < d->count; i++)
        if (d->items[i].path && strcmp(d->items[i].path, path) == 0) return 1;
    return 0;
}

void spec_more_diags(const CfgNode *tree, const char *path, CfgDiags *diags, int from) {
    static int looking = 0;   /* the copy's own errors get no look of their own */
    if (looking) return;
    for (int i = from; i < diags->count; i++)
        if (strstr(diags->items[i].message, "missing required key")) return;
    looking = 1;
    CfgNode *copy = cfg_clone(tree);
    for (int i = from; i < diags->count; i++)
        if (diags->items[i].path && diags->items[i].path[0]) take_out(copy, diags->items[i].path);
    CfgDiags more = {0};
    Spec s;
    int n_first = diags->count;
    if (spec_from_tree(copy, path, &s, &more) != 0) {   /* copy is the spec's now */
        for (int i = 0; i < more.count; i++) {
            const CfgDiag *g = &more.items[i];
            if (!g->path || reported(diags, from, g->path)) continue;
            cfg_diag_add(diags, g->file, g->line, g->col, g->path, "%s", g->message);
        }
        if (diags->count > n_first) cfg_diags_sort(diags, from);
    }
    spec_free(&s);
    cfg_diags_free(&more);
    looking = 0;
}
