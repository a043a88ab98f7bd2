/* cfg_base.c — specs that compose: `base: PATH` (cfg.h).
 *
 * A spec may name one base spec; the base is read first (its own base before it, and so on) and
 * the spec merged over it: maps key by key, everything else — scalars, lists — replaced whole,
 * so `units: [64]` over a base's `[256, 128]` is [64], not a mix. A key's node keeps the file
 * and line it was written at, so errors and `exprun show --origin` point into the file that holds
 * the value. The path is relative to the spec that names it; a chain that comes back to a spec
 * already in it is refused, naming the chain. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "spec/cfg_internal.h"

enum { BASE_MAX_DEPTH = 16 };

/* Remove and return the child of map with this key (NULL if none). */
static CfgNode *take_child(CfgNode *map, const char *key) {
    for (int i = 0; i < map->count; i++)
        if (map->items[i]->key && strcmp(map->items[i]->key, key) == 0) {
            CfgNode *child = map->items[i];
            memmove(map->items + i, map->items + i + 1, (size_t)(map->count - i - 1) * sizeof *map->items);
            map->count--;
            return child;
        }
    return NULL;
}

void cfg_merge_over(CfgNode *base, CfgNode *over) {
    while (over->count > 0) {
        CfgNode *child = over->items[0];
        memmove(over->items, over->items + 1, (size_t)(over->count - 1) * sizeof *over->items);
        over->count--;
        CfgNode *mine = NULL;
        int at = -1;
        for (int i = 0; i < base->count; i++)
            if (base->items[i]->key && strcmp(base->items[i]->key, child->key) == 0) mine = base->items[at = i];
        if (mine && mine->kind == CFG_MAP && child->kind == CFG_MAP) {
            cfg_merge_over(mine, child);   /* frees child */
        } else if (mine) {
            base->items[at] = child;   /* replaced where the base had it: the base's order of keys */
            cfg_free(mine);
        } else {
            cfg_append(base, child);
        }
    }
    cfg_free(over);
}

/* The spec `tree` over its composed base `parent` (both maps; both consumed): the spec's keys
 * in its own order, a key both hold merged (cfg_merge_over), and the base's other keys where the
 * spec wrote `base:` (item base_at) — so a spec that keeps its keys where they were and moves a
 * block into a base resolves to the same tree, in the same order. */
static CfgNode *merge_at_base(CfgNode *parent, CfgNode *tree, int base_at) {
    CfgNode *out = cfg_new(CFG_MAP, NULL, NULL, tree->file, tree->line, tree->col);
    for (int i = 0; i < tree->count; i++) {
        CfgNode *c = tree->items[i];
        if (i == base_at) {
            int kept = 0;
            for (int j = 0; j < parent->count; j++) {
                CfgNode *b = parent->items[j];
                if (cfg_map_find(tree, b->key)) parent->items[kept++] = b;   /* merged where the spec has it */
                else cfg_append(out, b);
            }
            parent->count = kept;
            cfg_free(c);
            continue;
        }
        CfgNode *b = take_child(parent, c->key);
        if (b && b->kind == CFG_MAP && c->kind == CFG_MAP) {
            cfg_merge_over(b, c);
            cfg_append(out, b);
        } else {
            cfg_free(b);
            cfg_append(out, c);
        }
    }
    tree->count = 0;
    cfg_free(tree);
    cfg_free(parent);
    return out;
}

/* The spec at path with its bases merged under it; chain holds the real paths of the specs that
 * named this one (depth of them). */
static CfgNode *compose(const char *path, char chain[][PATH_MAX], int depth, CfgDiags *diags) {
    CfgNode *tree = cfg_parse_file(path, diags);
    if (!tree) return NULL;
    if (tree->kind != CFG_MAP) return tree;   /* the validator says what a spec must be */
    int base_at = -1;
    for (int i = 0; i < tree->count; i++)
        if (tree->items[i]->key && strcmp(tree->items[i]->key, "base") == 0) base_at = i;
    if (base_at < 0) return tree;
    const CfgNode *base = tree->items[base_at];
    char dir[PATH_MAX], base_path[PATH_MAX + 256], real[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", path);
    if (base->kind != CFG_SCALAR || !base->value || !base->value[0] || cfg_text_is_null(base->value)) {
        cfg_diag_at(diags, base, "base", "expected the path of a spec file (relative to this one)");
        goto fail;
    }
    if (base->value[0] == '/') snprintf(base_path, sizeof base_path, "%s", base->value);
    else snprintf(base_path, sizeof base_path, "%s/%s", dirname(dir), base->value);
    if (!realpath(base_path, real)) {
        cfg_diag_at(diags, base, "base", "no spec file %s (%s; a relative path is taken from the folder of %s)",
                    base_path, strerror(errno), path);
        goto fail;
    }
    for (int i = 0; i < depth; i++)
        if (strcmp(chain[i], real) == 0) {
            StrBuf cycle = {0};
            for (int k = i; k < depth; k++) strbuf_printf(&cycle, "%s → ", chain[k]);
            strbuf_puts(&cycle, real);
            cfg_diag_at(diags, base, "base", "the bases come back to a spec already in the chain: %s", cycle.s);
            strbuf_free(&cycle);
            goto fail;
        }
    if (depth + 1 >= BASE_MAX_DEPTH) {
        cfg_diag_at(diags, base, "base", "more than %d specs in a chain of bases", BASE_MAX_DEPTH);
        goto fail;
    }
    snprintf(chain[depth], PATH_MAX, "%s", real);
    CfgNode *parent = compose(base_path, chain, depth + 1, diags);   /* named as written, for messages */
    if (!parent) goto fail;
    if (parent->kind != CFG_MAP) {
        cfg_diag_at(diags, parent, "", "a base spec must be a map of keys, as a spec is");
        cfg_free(parent);
        goto fail;
    }
    return merge_at_base(parent, tree, base_at);
fail:
    cfg_free(tree);
    return NULL;
}

CfgNode *cfg_parse_composed(const char *path, CfgDiags *diags) {
    static char chain[BASE_MAX_DEPTH][PATH_MAX];
    if (!realpath(path, chain[0])) return cfg_parse_file(path, diags);   /* it says why */
    return compose(path, chain, 1, diags);
}

int cfg_section_from_file(CfgNode *root, const char *key, const char *path, CfgDiags *diags) {
    char origin[PATH_MAX + 300];
    snprintf(origin, sizeof origin, "override '%s=%s'", key, path);
    if (access(path, F_OK) != 0) {
        cfg_diag_add(diags, origin, 0, (int)strlen(key) + 2, key, "no spec file %s: %s (a relative path is taken from the "
                     "current folder)", path, strerror(errno));
        return -1;
    }
    CfgNode *file = cfg_parse_composed(path, diags);
    if (!file) return -1;
    CfgNode *section = file;
    /* the file holds the section's keys, or the section itself (data: {...}), as a base would */
    if (file->kind == CFG_MAP && file->count == 1 && file->items[0]->key && strcmp(file->items[0]->key, key) == 0) {
        section = take_child(file, key);
        cfg_free(file);
    }
    if (section->kind != CFG_MAP) {
        cfg_diag_at(diags, section, key, "expected a map of %s's keys in this file (for the override %s=%s)", key, key, path);
        cfg_free(section);
        return -1;
    }
    free(section->key);
    section->key = cfg_strdup(key);
    if (root->kind != CFG_MAP) {
        cfg_free(section);
        return -1;
    }
    /* replaced whole, in its place, not merged: another data source's keys would not apply */
    for (int i = 0; i < root->count; i++)
        if (root->items[i]->key && strcmp(root->items[i]->key, key) == 0) {
            cfg_free(root->items[i]);
            root->items[i] = section;
            return 0;
        }
    cfg_append(root, section);
    return 0;
}
