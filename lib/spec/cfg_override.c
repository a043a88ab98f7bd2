/* cfg_override.c — "model.encoder.1.units=512" from the command line, applied to the tree.
 *
 * The value is YAML flow text ("512", "[128, 64]", "{kind: noise}"), parsed by the same parser
 * as files, so an override means exactly what the same text would mean in the spec. Nodes it
 * creates are named after the override ("override 'lr=0.1'") with line 0 and the column inside
 * the assignment, so validation errors point back at the command line. The tree is changed
 * only once the whole assignment is known to be valid: a failed override leaves it untouched. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/cfg_internal.h"

typedef struct Seg {
    const char *p;
    size_t len;
    int col; /* 1-based column in the assignment */
} Seg;

typedef struct Override {
    const char *file;   /* "override 'ASSIGNMENT'" */
    CfgDiags *diags;
    Seg segs[CFG_MAX_DEPTH];
    int n;
    StrBuf path;           /* dotted path walked so far, for messages */
} Override;

static int fail(Override *o, int col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(Override *o, int col, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    cfg_diag_vadd(o->diags, o->file, 0, col, o->path.s, fmt, ap);
    va_end(ap);
    return -1;
}

/* Keys on the command line are restricted to printable ASCII without spaces: anything else is
 * more likely a quoting accident in the shell than a real key. */
static int key_char_ok(char c) { return c > ' ' && c < 127; }

/* Split "a.b.0.c" (the text before '=') into segments with their columns. */
static int split_key(Override *o, const char *assignment, const char *eq) {
    const char *start = assignment, *end = eq;
    while (start < end && (*start == ' ' || *start == '\t')) start++;
    while (end > start && (end[-1] == ' ' || end[-1] == '\t')) end--;
    if (start == end) return fail(o, 1, "expected key=value (the key is empty)");
    o->n = 0;
    for (const char *p = start;;) {
        const char *dot = memchr(p, '.', (size_t)(end - p));
        const char *stop = dot ? dot : end;
        int col = (int)(p - assignment) + 1;
        if (o->n == CFG_MAX_DEPTH) return fail(o, col, "path is deeper than %d levels", CFG_MAX_DEPTH);
        if (stop == p) return fail(o, col, "empty key in the path");
        if ((size_t)(stop - p) > CFG_MAX_KEY) return fail(o, col, "key longer than %d characters", CFG_MAX_KEY);
        for (const char *c = p; c < stop; c++)
            if (!key_char_ok(*c))
                return fail(o, (int)(c - assignment) + 1, "invalid character in a key");
        o->segs[o->n++] = (Seg){p, (size_t)(stop - p), col};
        if (!dot) return 0;
        p = dot + 1;
    }
}

/* A list index: decimal digits only, so "01" and "-1" are not indices. */
static long seg_index(const Seg *s) {
    if (s->len == 0 || s->len > 9) return -1;
    long v = 0;
    for (size_t i = 0; i < s->len; i++) {
        if (s->p[i] < '0' || s->p[i] > '9') return -1;
        v = v * 10 + (s->p[i] - '0');
    }
    return (s->len > 1 && s->p[0] == '0') ? -1 : v;
}

static void push_seg(Override *o, const Seg *s) {
    if (o->path.len) strbuf_putc(&o->path, '.');
    strbuf_putn(&o->path, s->p, s->len);
}

/* Follow segment s from node without creating anything. *found is NULL when a map lacks the
 * key (the rest of the path will be created). Returns -1 on an error. */
static int step(Override *o, CfgNode *node, const Seg *s, CfgNode **found) {
    *found = NULL;
    if (node->kind == CFG_MAP) {
        for (int i = 0; i < node->count; i++) {
            const char *k = node->items[i]->key;
            if (k && strlen(k) == s->len && memcmp(k, s->p, s->len) == 0) *found = node->items[i];
        }
        return 0;
    }
    if (node->kind == CFG_SCALAR)
        return fail(o, s->col, "is a value, not a map or a list: cannot set '%.*s' inside it",
                    (int)s->len, s->p);
    long idx = seg_index(s);
    if (idx < 0 && node->count == 0)
        return fail(o, s->col, "is an empty list: '%.*s' is not an item of it", (int)s->len, s->p);
    if (idx < 0)
        return fail(o, s->col, "is a list: use an item index from 0 to %d, not '%.*s'",
                    node->count - 1, (int)s->len, s->p);
    if (idx >= node->count)
        return fail(o, s->col, "index %ld is past the end of the list (%d items)", idx, node->count);
    *found = node->items[idx];
    return 0;
}

/* Maps for segs[from..n-2], the value under the last: the part of the path the spec lacked. */
static CfgNode *build_chain(Override *o, int from, CfgNode *value) {
    CfgNode *top = NULL, *bottom = NULL;
    for (int i = from; i < o->n; i++) {
        CfgNode *n = i == o->n - 1 ? value : cfg_new(CFG_MAP, NULL, NULL, o->file, 0, o->segs[i].col);
        n->key = cfg_strndup(o->segs[i].p, o->segs[i].len);
        n->key_col = o->segs[i].col;
        if (bottom)
            cfg_append(bottom, n);
        else
            top = n;
        bottom = n;
    }
    return top;
}

/* Put `value` at the last segment under `parent` (a map or a list, checked by step()). */
static void place(CfgNode *parent, const Seg *last, CfgNode *value) {
    if (parent->kind == CFG_SEQ) {
        long idx = seg_index(last);
        cfg_free(parent->items[idx]);
        parent->items[idx] = value;
        return;
    }
    value->key = cfg_strndup(last->p, last->len);
    value->key_col = last->col;
    for (int i = 0; i < parent->count; i++) {
        if (strcmp(parent->items[i]->key, value->key) == 0) {
            cfg_free(parent->items[i]); /* replace in place: keys keep their file order */
            parent->items[i] = value;
            return;
        }
    }
    cfg_append(parent, value);
}

/* Nested collections in a value: 0 for a scalar, 1 for [1, 2], 2 for [[1]]. */
static int value_depth(const CfgNode *n) {
    int deepest = 0;
    for (int i = 0; i < n->count; i++) {
        int d = value_depth(n->items[i]);
        if (d > deepest) deepest = d;
    }
    return n->kind == CFG_SCALAR ? 0 : 1 + deepest;
}

static int apply(Override *o, CfgNode *root, const char *assignment, const char *eq) {
    if (split_key(o, assignment, eq)) return -1;
    if (!root || root->kind != CFG_MAP) return fail(o, 1, "the spec is not a map");
    /* Walk what exists, checking every step before changing anything. */
    CfgNode *node = root;
    int i = 0;
    for (; i < o->n - 1; i++) {
        CfgNode *next;
        if (step(o, node, &o->segs[i], &next)) return -1;
        if (!next) break;
        node = next;
        push_seg(o, &o->segs[i]);
    }
    CfgNode *probe;
    if (i == o->n - 1 && step(o, node, &o->segs[i], &probe)) return -1;
    for (int j = i; j < o->n; j++) push_seg(o, &o->segs[j]);
    int col0 = (int)(eq + 1 - assignment);
    CfgNode *value = cfg_parse_flow_value(eq + 1, o->file, col0, o->path.s, o->diags);
    if (!value) return -1;
    /* The path's n segments sit in n collections (the root map first); the value adds its
     * own. A tree deeper than a file may be could not be written out and read back. */
    if (o->n + value_depth(value) > CFG_MAX_DEPTH) {
        cfg_free(value);
        return fail(o, col0 + 1, "the override nests deeper than %d levels", CFG_MAX_DEPTH);
    }
    if (i == o->n - 1)
        place(node, &o->segs[i], value);
    else
        cfg_append(node, build_chain(o, i, value)); /* node is a map lacking segs[i] */
    return 0;
}

int cfg_apply_override(CfgNode *root, const char *assignment, CfgDiags *diags) {
    Override o = {.diags = diags};
    StrBuf file = {0};
    strbuf_printf(&file, "override '%s'", assignment);
    o.file = file.s;
    strbuf_puts(&o.path, "");
    const char *eq = strchr(assignment, '=');
    int rc = eq ? apply(&o, root, assignment, eq) : fail(&o, 0, "expected key=value");
    strbuf_free(&o.path);
    strbuf_free(&file);
    return rc;
}
