/* sweep.c — expansion of a spec's sweep: block into trials, and applying a trial (sweep.h). */
#include "spec/sweep.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- expansion ------------------------------------------------------------------------------- */

static const CfgNode *map_child(const CfgNode *map, const char *key) {
    if (!map || map->kind != CFG_MAP) return NULL;
    for (int i = 0; i < map->count; i++)
        if (map->items[i]->key && strcmp(map->items[i]->key, key) == 0) return map->items[i];
    return NULL;
}

static void add_axis(SweepAxis **axes, int *n, const char *key, const char *section, const CfgNode *list,
                     const CfgNode *const *chain, int n_segs) {
    *axes = realloc(*axes, (size_t)(*n + 1) * sizeof **axes);
    SweepAxis *a = &(*axes)[*n];
    memset(a, 0, sizeof *a);
    a->key = strdup(key);
    a->section = section;
    a->list = list;
    a->n_segs = n_segs;
    for (int i = 0; i < n_segs; i++) a->seg_node[i] = chain[i];
    (*n)++;
}

/* Walk a grid: or zip: map down to its lists; nested maps spell dotted keys. chain[i] is the
 * sweep-block node whose key holds segment i of the key built so far (n_segs of them). */
static void collect_axes(const CfgNode *map, const char *prefix, const char *section, const CfgNode **chain,
                         int n_segs, SweepAxis **axes, int *n, CfgDiags *diags) {
    for (int i = 0; i < map->count; i++) {
        const CfgNode *item = map->items[i];
        char key[1024], where[1200];
        if (prefix[0]) snprintf(key, sizeof key, "%s.%s", prefix, item->key);
        else snprintf(key, sizeof key, "%s", item->key);
        snprintf(where, sizeof where, "sweep.%s.%s", section, key);
        int segs = n_segs + 1;
        for (const char *c = item->key; *c; c++) segs += *c == '.';
        if (segs > SWEEP_MAX_DEPTH) {
            cfg_diag_at_key(diags, item, where, "key deeper than %d levels", SWEEP_MAX_DEPTH);
            continue;
        }
        for (int k = n_segs; k < segs; k++) chain[k] = item;
        if (item->kind == CFG_MAP && item->count > 0) collect_axes(item, key, section, chain, segs, axes, n, diags);
        else if (item->kind == CFG_SEQ && item->count > 0) add_axis(axes, n, key, section, item, chain, segs);
        else if (item->kind == CFG_SEQ || item->kind == CFG_MAP)
            cfg_diag_at(diags, item, where, "an empty list: a swept key needs at least one value");
        else
            cfg_diag_at(diags, item, where, "expected a list of values to sweep, e.g. [%s, ...]",
                        item->value ? item->value : "");
    }
}

/* `sweep.grid.optimizer.lr=[...]` on the command line nests a new optimizer: {lr: ...} in the
 * grid, beside a key the spec may spell `optimizer.lr:`. The command line wins: its list
 * replaces the spec's, which keeps its place in the order (so trial numbers stay meaningful). */
static void merge_overridden(SweepAxis *axes, int *n) {
    for (int j = 1; j < *n; j++) {
        if (!axes[j].list->file || strncmp(axes[j].list->file, "override '", 10) != 0) continue;
        for (int i = 0; i < j; i++) {
            if (strcmp(axes[i].key, axes[j].key) != 0) continue;
            axes[i].list = axes[j].list;
            free(axes[j].key);
            memmove(&axes[j], &axes[j + 1], (size_t)(*n - j - 1) * sizeof *axes);
            (*n)--;
            j--;
            break;
        }
    }
}

/* "line 12", or "from the command line" for a list an override put in the sweep block. */
static const char *where_is(const CfgNode *list, char *buf, size_t cap) {
    if (list->key_line > 0) snprintf(buf, cap, "line %d", list->key_line);
    else snprintf(buf, cap, "from the command line");
    return buf;
}

/* Keys swept twice, or one inside another (model and model.code), would make a trial's value
 * depend on the order of its overrides. */
static void check_overlaps(const Sweep *s, CfgDiags *diags) {
    int n = s->n_grid + s->n_zip;
    for (int j = 1; j < n; j++) {
        for (int i = 0; i < j; i++) {
            const SweepAxis *a = i < s->n_grid ? &s->grid[i] : &s->zip[i - s->n_grid];
            const SweepAxis *b = j < s->n_grid ? &s->grid[j] : &s->zip[j - s->n_grid];
            /* report at the one further down the file */
            if (a->list->key_line > b->list->key_line ||
                (a->list->key_line == b->list->key_line && a->list->key_col > b->list->key_col)) {
                const SweepAxis *t = a;
                a = b;
                b = t;
            }
            size_t la = strlen(a->key), lb = strlen(b->key);
            int same = strcmp(a->key, b->key) == 0;
            int nested = (la < lb && strncmp(a->key, b->key, la) == 0 && b->key[la] == '.') ||
                         (lb < la && strncmp(a->key, b->key, lb) == 0 && a->key[lb] == '.');
            char at[64], path[1100];
            snprintf(path, sizeof path, "sweep.%s.%s", b->section, b->key);
            if (same)
                cfg_diag_at_key(diags, b->list, path, "is swept twice (also %s)", where_is(a->list, at, sizeof at));
            else if (nested)
                cfg_diag_at_key(diags, b->list, path, "overlaps '%s' (%s): sweep one or the other", a->key,
                                where_is(a->list, at, sizeof at));
        }
    }
}

static void free_axes(SweepAxis *axes, int n) {
    for (int i = 0; i < n; i++) free(axes[i].key);
    free(axes);
}

void sweep_free(Sweep *s) {
    for (int t = 0; t < s->n_trials; t++) {
        for (int k = 0; k < s->trials[t].n; k++) free(s->trials[t].overrides[k]);
        free(s->trials[t].overrides);
        free(s->trials[t].values);
    }
    free(s->trials);
    free_axes(s->grid, s->n_grid);
    free_axes(s->zip, s->n_zip);
    cfg_free(s->block);
    memset(s, 0, sizeof *s);
}

static char *override_text(const char *key, const CfgNode *value) {
    char *v = cfg_emit_flow_string(value);
    size_t len = strlen(key) + strlen(v) + 2;
    char *text = malloc(len);
    snprintf(text, len, "%s=%s", key, v);
    free(v);
    return text;
}

int sweep_expand(const CfgNode *root, Sweep *out, CfgDiags *diags) {
    memset(out, 0, sizeof *out);
    int before = diags->count;
    const CfgNode *block = map_child(root, "sweep");
    if (!block) {
        cfg_diag_add(diags, root && root->file ? root->file : "spec", 1, 1, "sweep",
                     "this spec has no sweep: block (add e.g. sweep: {grid: {optimizer.lr: [1.0e-3, 3.0e-4]}})");
        return -1;
    }
    out->block = cfg_clone(block);
    block = out->block;
    if (block->kind != CFG_MAP) {
        cfg_diag_at(diags, block, "sweep", "expected a map with grid: and/or zip:");
        sweep_free(out);
        return -1;
    }
    const CfgNode *grid = NULL, *zip = NULL;
    for (int i = 0; i < block->count; i++) {
        const CfgNode *item = block->items[i];
        char where[300];
        snprintf(where, sizeof where, "sweep.%s", item->key);
        if (strcmp(item->key, "grid") == 0) grid = item;
        else if (strcmp(item->key, "zip") == 0) zip = item;
        else {
            const char *hint = cfg_edit_distance(item->key, "grid") <= 2 ? " (did you mean 'grid'?)"
                             : cfg_edit_distance(item->key, "zip") <= 2  ? " (did you mean 'zip'?)"
                                                                         : "";
            cfg_diag_at_key(diags, item, where, "unknown key '%s' in sweep: expected grid or zip%s", item->key, hint);
            continue;
        }
        if (item->kind != CFG_MAP)
            cfg_diag_at(diags, item, where, "expected a map of keys to lists, e.g. {optimizer.lr: [1.0e-3, 3.0e-4]}");
    }
    const CfgNode *chain[SWEEP_MAX_DEPTH];
    if (grid && grid->kind == CFG_MAP) collect_axes(grid, "", "grid", chain, 0, &out->grid, &out->n_grid, diags);
    if (zip && zip->kind == CFG_MAP) collect_axes(zip, "", "zip", chain, 0, &out->zip, &out->n_zip, diags);
    merge_overridden(out->grid, &out->n_grid);
    merge_overridden(out->zip, &out->n_zip);
    if (diags->count == before && out->n_grid + out->n_zip == 0)
        cfg_diag_at(diags, block, "sweep", "nothing to sweep: give grid: and/or zip: lists");
    /* zip lists are read position by position, so they must be equally long */
    out->zip_len = out->n_zip ? out->zip[0].list->count : 1;
    char line_buf[64];
    for (int i = 1; i < out->n_zip; i++)
        if (out->zip[i].list->count != out->zip_len) {
            char path[1100];
            snprintf(path, sizeof path, "sweep.zip.%s", out->zip[i].key);
            int m = out->zip[i].list->count;
            cfg_diag_at_key(diags, out->zip[i].list, path,
                            "zip lists must have the same length: this one has %d value%s, '%s' (%s) has %d", m,
                            m == 1 ? "" : "s", out->zip[0].key, where_is(out->zip[0].list, line_buf, sizeof line_buf),
                            out->zip_len);
        }
    check_overlaps(out, diags);
    double count = out->zip_len;
    for (int i = 0; i < out->n_grid; i++) count *= out->grid[i].list->count;
    if (diags->count == before && count > SWEEP_MAX_TRIALS)
        cfg_diag_at(diags, block, "sweep", "%.0f trials is more than %d", count, SWEEP_MAX_TRIALS);
    if (diags->count > before) {
        sweep_free(out);
        return -1;
    }
    out->n_trials = (int)count;
    out->trials = calloc((size_t)out->n_trials, sizeof *out->trials);
    int n_axes = out->n_grid + out->n_zip;
    for (int t = 0; t < out->n_trials; t++) {
        SweepTrial *tr = &out->trials[t];
        tr->n = n_axes;
        tr->overrides = calloc((size_t)n_axes, sizeof *tr->overrides);
        tr->values = calloc((size_t)n_axes, sizeof *tr->values);
        /* t = g · zip_len + z; g in mixed radix, the last grid key fastest */
        int z = t % out->zip_len, g = t / out->zip_len;
        for (int a = out->n_grid - 1; a >= 0; a--) {
            int len = out->grid[a].list->count;
            tr->values[a] = out->grid[a].list->items[g % len];
            g /= len;
        }
        for (int a = 0; a < out->n_zip; a++) tr->values[out->n_grid + a] = out->zip[a].list->items[z];
        for (int a = 0; a < n_axes; a++) {
            const SweepAxis *ax = a < out->n_grid ? &out->grid[a] : &out->zip[a - out->n_grid];
            tr->overrides[a] = override_text(ax->key, tr->values[a]);
        }
    }
    return 0;
}

int sweep_strip(CfgNode *root) {
    if (!root || root->kind != CFG_MAP) return 0;
    for (int i = 0; i < root->count; i++) {
        if (!root->items[i]->key || strcmp(root->items[i]->key, "sweep") != 0) continue;
        cfg_free(root->items[i]);
        memmove(&root->items[i], &root->items[i + 1], (size_t)(root->count - i - 1) * sizeof *root->items);
        root->count--;
        return 1;
    }
    return 0;
}

/* ---- applying a trial -------------------------------------------------------------------------- */

static void set_position(CfgNode *n, const char *file, int line, int col) {
    free((void *)n->file);
    n->file = strdup(file ? file : "spec");
    n->line = line;
    n->col = col;
}

/* Give the nodes an override made the positions of the value it came from. */
static void relocate(CfgNode *dst, const CfgNode *src) {
    set_position(dst, src->file, src->line, src->col);
    if (dst->kind != src->kind || dst->count != src->count) return;
    for (int i = 0; i < dst->count; i++) {
        relocate(dst->items[i], src->items[i]);
        dst->items[i]->key_line = src->items[i]->key_line;
        dst->items[i]->key_col = src->items[i]->key_col;
    }
}

static CfgNode *child_of(CfgNode *node, const char *seg, size_t len) {
    if (node->kind == CFG_MAP) {
        for (int i = 0; i < node->count; i++)
            if (node->items[i]->key && strlen(node->items[i]->key) == len &&
                strncmp(node->items[i]->key, seg, len) == 0)
                return node->items[i];
        return NULL;
    }
    if (node->kind == CFG_SEQ) {
        long idx = strtol(seg, NULL, 10);
        return idx >= 0 && idx < node->count ? node->items[idx] : NULL;
    }
    return NULL;
}

int sweep_apply_trial(CfgNode *tree, const Sweep *s, int t, CfgDiags *diags) {
    const SweepTrial *tr = &s->trials[t];
    int rc = 0;
    for (int a = 0; a < tr->n; a++) {
        if (cfg_apply_override(tree, tr->overrides[a], diags) != 0) {
            rc = -1;
            continue;
        }
        const SweepAxis *ax = a < s->n_grid ? &s->grid[a] : &s->zip[a - s->n_grid];
        char made_by[2048];
        snprintf(made_by, sizeof made_by, "override '%s'", tr->overrides[a]);
        /* the maps the override created on the way (at the sweep key that spells them), then
         * the value itself (at the value in the list) */
        CfgNode *node = tree;
        const char *p = ax->key;
        for (int seg = 0; node; seg++) {
            const char *dot = strchr(p, '.');
            size_t len = dot ? (size_t)(dot - p) : strlen(p);
            node = child_of(node, p, len);
            if (!node) break;
            const CfgNode *spelled = seg < ax->n_segs ? ax->seg_node[seg] : ax->list;
            if (!dot) {
                relocate(node, tr->values[a]);
                node->key_line = ax->list->key_line;
                node->key_col = ax->list->key_col;
                break;
            }
            if (node->file && strcmp(node->file, made_by) == 0) {
                set_position(node, spelled->file, spelled->key_line, spelled->key_col);
                node->key_line = spelled->key_line;
                node->key_col = spelled->key_col;
            }
            p = dot + 1;
        }
    }
    return rc;
}
