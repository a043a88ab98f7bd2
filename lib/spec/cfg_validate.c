/* cfg_validate.c — check a CfgNode tree against a flat Schema table, fill defaults.
 *
 * Two passes, both reporting every problem they meet rather than stopping at the first:
 *  1. Schema order. For each schema key, for every place it can occur (a "*" in its path
 *     stands for each item of a list that is present), decide whether its `when` holds, then
 *     demand it, default it, forbid it or type-check it. Order matters: a discriminator such
 *     as model.type is listed (and defaulted) before the keys whose `when` reads it.
 *  2. Tree order. Every map key in the tree must name a schema key at that level; otherwise
 *     "unknown key", with a did-you-mean when a real key is a typo away. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/cfg_internal.h"

/* The file name given to default nodes: a bad default is the schema's fault, not the user's. */
static const char DEFAULT_FILE[] = "schema default";

typedef struct Validator {
    const Schema *schema;
    CfgNode *root;
    CfgDiags *diags;
} Validator;

typedef enum Cond { COND_TRUE, COND_FALSE, COND_UNKNOWN } Cond;

/* ---- dotted paths ------------------------------------------------------------------------- */

/* Segments of a dotted path, as pointers into it (not NUL-terminated). */
typedef struct Segs {
    int n;
    const char *p[CFG_MAX_DEPTH + 1];
    size_t len[CFG_MAX_DEPTH + 1];
} Segs;

/* Returns -1 for a path with more segments than any tree can have. */
static int split_path(const char *path, Segs *s) {
    s->n = 0;
    for (const char *p = path;;) {
        if (s->n == CFG_MAX_DEPTH + 1) return -1;
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        s->p[s->n] = p;
        s->len[s->n++] = n;
        if (!dot) return 0;
        p = dot + 1;
    }
}

static int seg_is(const Segs *s, int i, const char *text) {
    return s->len[i] == strlen(text) && memcmp(s->p[i], text, s->len[i]) == 0;
}

static CfgNode *map_find_n(const CfgNode *map, const char *key, size_t n) {
    if (!map || map->kind != CFG_MAP) return NULL;
    for (int i = 0; i < map->count; i++) {
        const char *k = map->items[i]->key;
        if (k && strlen(k) == n && memcmp(k, key, n) == 0) return map->items[i];
    }
    return NULL;
}

/* Append one segment to a dotted path; returns the old length for path_cut(). */
static size_t path_push(StrBuf *b, const char *seg, size_t n) {
    size_t old = b->len;
    if (b->len) strbuf_putc(b, '.');
    strbuf_putn(b, seg, n);
    return old;
}

static size_t path_push_index(StrBuf *b, int index) {
    size_t old = b->len;
    strbuf_printf(b, b->len ? ".%d" : "%d", index);
    return old;
}

static void path_cut(StrBuf *b, size_t len) {
    b->len = len;
    if (b->s) b->s[len] = '\0';
}

static const SchemaKey *schema_find(const Schema *s, const char *path) {
    for (int i = 0; i < s->count; i++)
        if (strcmp(s->keys[i].path, path) == 0) return &s->keys[i];
    return NULL;
}

/* ---- message pieces ----------------------------------------------------------------------- */

/* A bound as people write it: 1000000 rather than 1e+06, 0.001 rather than 0.0010000000000000002. */
static void fmt_number(char *out, size_t cap, double v) {
    if (v == floor(v) && fabs(v) < 1e15) {
        snprintf(out, cap, "%.0f", v);
        return;
    }
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, cap, "%.*g", prec, v);
        if (strtod(out, NULL) == v) return;
    }
}

/* "got 'abc'", "got a map": what the user wrote, briefly. */
static void describe(StrBuf *b, const CfgNode *n) {
    if (n->kind == CFG_MAP) {
        strbuf_puts(b, "a map");
    } else if (n->kind == CFG_SEQ) {
        strbuf_puts(b, "a list");
    } else {
        size_t len = strlen(n->value), cut = len;
        if (cut > 60) { /* long text: cut at a character boundary, mark the cut */
            cut = 60;
            while (cut > 0 && ((unsigned char)n->value[cut] & 0xC0) == 0x80) cut--;
        }
        strbuf_puts(b, n->quoted ? "the quoted string \"" : "'");
        strbuf_putn(b, n->value, cut);
        strbuf_puts(b, cut < len ? "..." : "");
        strbuf_putc(b, n->quoted ? '"' : '\'');
    }
}

/* ---- type checks -------------------------------------------------------------------------- */

/* Each check returns 1 when the node is valid; otherwise it adds a diagnostic to `out` (NULL =
 * just asking, as conditions do) and returns 0. */

static void range_error(CfgDiags *out, const CfgNode *n, const char *path, const SchemaKey *k) {
    char lo[40], hi[40];
    fmt_number(lo, sizeof lo, k->min);
    fmt_number(hi, sizeof hi, k->max);
    if (k->max >= 1e308)
        cfg_diag_at(out, n, path, "must be at least %s, got %s", lo, n->value);
    else if (k->min <= -1e308)
        cfg_diag_at(out, n, path, "must be at most %s, got %s", hi, n->value);
    else
        cfg_diag_at(out, n, path, "must be between %s and %s, got %s", lo, hi, n->value);
}

static int in_range(double v, const SchemaKey *k) {
    if (k->min > k->max) return 1;
    return v >= k->min && v <= k->max;
}

static int expected(CfgDiags *out, const CfgNode *n, const char *path, const char *what) {
    StrBuf got = {0};
    describe(&got, n);
    int typed_string = n->kind == CFG_SCALAR && n->quoted && cfg_text_is_typed(n->value);
    cfg_diag_at(out, n, path, "expected %s, got %s%s", what, got.s,
                typed_string ? " (remove the quotes)" : "");
    strbuf_free(&got);
    return 0;
}

static int check_int(CfgDiags *out, const CfgNode *n, const char *path, const SchemaKey *k) {
    long v;
    int overflow;
    if (n->kind != CFG_SCALAR || n->quoted || !cfg_scan_long(n->value, &v, &overflow))
        return expected(out, n, path, "an integer");
    if (overflow) {
        cfg_diag_at(out, n, path, "integer %s is too large", n->value);
        return 0;
    }
    if (!in_range((double)v, k)) {
        range_error(out, n, path, k);
        return 0;
    }
    return 1;
}

static int check_float(CfgDiags *out, const CfgNode *n, const char *path, const SchemaKey *k) {
    double v;
    int overflow;
    if (n->kind != CFG_SCALAR || n->quoted || !cfg_scan_double(n->value, &v, &overflow))
        return expected(out, n, path, "a number");
    if (overflow) {
        cfg_diag_at(out, n, path, "number %s is too large", n->value);
        return 0;
    }
    if (!in_range(v, k)) {
        range_error(out, n, path, k);
        return 0;
    }
    return 1;
}

static int check_bool(CfgDiags *out, const CfgNode *n, const char *path) {
    if (n->kind == CFG_SCALAR && !n->quoted &&
        (strcmp(n->value, "true") == 0 || strcmp(n->value, "false") == 0))
        return 1;
    /* YAML 1.1 also reads yes/no/on/off as booleans; we do not, and say so. */
    static const char *const yaml11[] = {"yes", "no", "on", "off", "y", "n", "True", "False",
                                         "TRUE", "FALSE", "Yes", "No", "YES", "NO", "On", "Off"};
    int spelled = 0;
    for (size_t i = 0; n->kind == CFG_SCALAR && i < sizeof yaml11 / sizeof *yaml11; i++)
        spelled |= strcmp(n->value, yaml11[i]) == 0;
    if (!spelled) return expected(out, n, path, "true or false");
    cfg_diag_at(out, n, path, "expected true or false, got '%s' (only true and false are accepted)",
                n->value);
    return 0;
}

/* Split "a|b|c" into at most max pointers into buf. */
static int split_choices(const char *choices, char *buf, size_t cap, const char **v, int max) {
    snprintf(buf, cap, "%s", choices ? choices : "");
    int n = 0;
    for (char *p = buf; n < max;) {
        v[n++] = p;
        char *bar = strchr(p, '|');
        if (!bar) break;
        *bar = '\0';
        p = bar + 1;
    }
    return n;
}

static int check_enum(CfgDiags *out, const CfgNode *n, const char *path, const SchemaKey *k) {
    if (n->kind != CFG_SCALAR) {
        StrBuf what = {0};
        strbuf_printf(&what, "one of: %s", k->choices ? k->choices : "");
        expected(out, n, path, what.s);
        strbuf_free(&what);
        return 0;
    }
    char buf[1024];
    const char *v[64] = {0};
    int nc = split_choices(k->choices, buf, sizeof buf, v, 64);
    for (int i = 0; i < nc; i++)
        if (strcmp(n->value, v[i]) == 0) return 1;
    if (!out) return 0;
    const char *hint = cfg_closest(n->value, v, nc);
    if (hint)
        cfg_diag_at(out, n, path, "unknown value '%s' (expected one of: %s); did you mean '%s'?",
                    n->value, k->choices, hint);
    else
        cfg_diag_at(out, n, path, "unknown value '%s' (expected one of: %s)", n->value, k->choices);
    return 0;
}

/* Each item of a list of scalars, with the item's index in the path. */
static int check_items(CfgDiags *out, const CfgNode *n, StrBuf *path, const SchemaKey *k, int ints) {
    if (n->kind != CFG_SEQ) return expected(out, n, path->s, "a list");
    int ok = 1;
    for (int i = 0; i < n->count; i++) {
        size_t old = path_push_index(path, i);
        ok &= ints ? check_int(out, n->items[i], path->s, k) : check_float(out, n->items[i], path->s, k);
        path_cut(path, old);
    }
    return ok;
}

/* A list of maps: unless the schema describes the items themselves ("path.*"), each must be a
 * map whose keys are "path.*.key". */
static int check_list(const Validator *v, CfgDiags *out, const CfgNode *n, StrBuf *path,
                      const SchemaKey *k) {
    if (n->kind != CFG_SEQ) return expected(out, n, path->s, "a list");
    StrBuf star = {0};
    strbuf_printf(&star, "%s.*", k->path);
    int items_described = schema_find(v->schema, star.s) != NULL;
    strbuf_free(&star);
    if (items_described) return 1;
    int ok = 1;
    for (int i = 0; i < n->count; i++) {
        if (n->items[i]->kind == CFG_MAP) continue;
        size_t old = path_push_index(path, i);
        ok = expected(out, n->items[i], path->s, "a map");
        path_cut(path, old);
    }
    return ok;
}

static int check_value(const Validator *v, CfgDiags *out, const CfgNode *n, StrBuf *path,
                       const SchemaKey *k) {
    switch (k->kind) {
    case SK_MAP:
        return n->kind == CFG_MAP ? 1 : expected(out, n, path->s, "a map");
    case SK_LIST:
        return check_list(v, out, n, path, k);
    case SK_INT:
        return check_int(out, n, path->s, k);
    case SK_FLOAT:
        return check_float(out, n, path->s, k);
    case SK_BOOL:
        return check_bool(out, n, path->s);
    case SK_STRING:
        return n->kind == CFG_SCALAR ? 1 : expected(out, n, path->s, "a string");
    case SK_ENUM:
        return check_enum(out, n, path->s, k);
    case SK_INT_LIST:
        return check_items(out, n, path, k, 1);
    case SK_FLOAT_LIST:
        return check_items(out, n, path, k, 0);
    case SK_ANY:
        return 1;
    }
    return 1;
}

/* ---- conditions --------------------------------------------------------------------------- */

/* Evaluate "path=v1|v2" with each "*" in path replaced by the next bound list index. `desc`
 * receives "model.type is lstm" for the "does not apply when ..." message. */
static Cond eval_when(const Validator *v, const char *when, const int *idx, int nidx, StrBuf *desc) {
    const char *eq = strchr(when, '=');
    if (!eq) return COND_UNKNOWN; /* malformed; cfg_schema_check reports it */
    StrBuf pattern = {0}, concrete = {0};
    strbuf_putn(&pattern, when, (size_t)(eq - when));
    Segs s;
    Cond result = COND_UNKNOWN;
    if (split_path(pattern.s, &s) == 0) {
        int used = 0;
        for (int i = 0; i < s.n; i++) {
            if (seg_is(&s, i, "*")) {
                if (used == nidx) goto done; /* more "*" than the key being checked has */
                path_push_index(&concrete, idx[used++]);
            } else {
                path_push(&concrete, s.p[i], s.len[i]);
            }
        }
        const CfgNode *n = cfg_get(v->root, concrete.s);
        const SchemaKey *ref = schema_find(v->schema, pattern.s);
        if (!n) {
            /* A missing required discriminator was reported already: do not pile on. */
            result = ref && !ref->default_value ? COND_UNKNOWN : COND_FALSE;
            strbuf_printf(desc, "%s is not set", concrete.s);
            goto done;
        }
        StrBuf p = {0};
        strbuf_puts(&p, concrete.s);
        int valid = n->kind == CFG_SCALAR && (!ref || check_value(v, NULL, n, &p, ref));
        strbuf_free(&p);
        if (!valid) goto done; /* an invalid discriminator was reported already */
        result = COND_FALSE;
        strbuf_printf(desc, "%s is %s", concrete.s, n->value);
        char buf[1024];
        const char *alts[64];
        int na = split_choices(eq + 1, buf, sizeof buf, alts, 64);
        for (int i = 0; i < na; i++)
            if (strcmp(alts[i], n->value) == 0) result = COND_TRUE;
    }
done:
    strbuf_free(&pattern);
    strbuf_free(&concrete);
    return result;
}

/* ---- pass 1: schema order ----------------------------------------------------------------- */

static void zero_positions(CfgNode *n) {
    n->line = n->col = n->key_line = n->key_col = 0;
    for (int i = 0; i < n->count; i++) zero_positions(n->items[i]);
}

/* Where to report a key missing from `parent`: the parent's key (or the map itself), unless the
 * parent was itself filled in as a default, which has no position of its own in the file. */
static void report_missing(const Validator *v, const CfgNode *parent, const StrBuf *path,
                           const SchemaKey *k, const char *name) {
    char extra[1100] = "";
    if (k->kind == SK_ENUM) snprintf(extra, sizeof extra, " (one of: %s)", k->choices);
    if (strcmp(parent->file, DEFAULT_FILE) == 0)
        cfg_diag_add(v->diags, v->root->file, 0, 0, path->s, "missing required key '%s'%s", name,
                     extra);
    else
        cfg_diag_at_key(v->diags, parent, path->s, "missing required key '%s'%s", name, extra);
}

/* Where a default for k goes among parent's entries: before the first sibling the schema lists
 * after k, so the resolved spec reads in schema order where the file did not say otherwise. */
static int default_slot(const Validator *v, const CfgNode *parent, const SchemaKey *k) {
    const char *dot = strrchr(k->path, '.');
    size_t plen = dot ? (size_t)(dot - k->path) + 1 : 0;
    int self = (int)(k - v->schema->keys);
    StrBuf sib = {0};
    int slot = parent->count;
    for (int i = 0; i < parent->count && slot == parent->count; i++) {
        path_cut(&sib, 0);
        strbuf_putn(&sib, k->path, plen);
        strbuf_puts(&sib, parent->items[i]->key);
        const SchemaKey *s = schema_find(v->schema, sib.s);
        if (s && s - v->schema->keys > self) slot = i;
    }
    strbuf_free(&sib);
    return slot;
}

static void fill_default(const Validator *v, CfgNode *parent, StrBuf *path, const SchemaKey *k,
                         const char *name) {
    CfgNode *n = cfg_parse_flow_value(k->default_value, DEFAULT_FILE, 0, path->s, v->diags);
    if (!n) return;
    zero_positions(n);
    n->key = cfg_strdup(name);
    cfg_insert(parent, default_slot(v, parent, k), n);
    check_value(v, v->diags, n, path, k); /* a schema bug if this complains */
}

/* Schema key k at one concrete place: `parent` is the map that should hold it. */
static void check_key_in(const Validator *v, const SchemaKey *k, CfgNode *parent, const char *name,
                         size_t name_len, const int *idx, int nidx, StrBuf *path) {
    size_t old = path_push(path, name, name_len);
    CfgNode *n = map_find_n(parent, name, name_len);
    StrBuf desc = {0};
    Cond c = k->when ? eval_when(v, k->when, idx, nidx, &desc) : COND_TRUE;
    if (c == COND_FALSE) {
        if (n) {
            /* and when it would: "data.source=idx|csv|hdf5" read as words, and where its meaning is */
            const char *eq = strchr(k->when, '=');
            cfg_diag_at_key(v->diags, n, path->s, "does not apply when %s (only when %.*s is %s; exprun keys %s)", desc.s,
                            eq ? (int)(eq - k->when) : 0, k->when, eq ? eq + 1 : k->when, k->path);
        }
    } else if (n) {
        check_value(v, v->diags, n, path, k);
    } else if (c == COND_TRUE && !k->default_value) {
        char *key = cfg_strndup(name, name_len);
        report_missing(v, parent, path, k, key);
        free(key);
    } else if (c == COND_TRUE && strcmp(k->default_value, "~") != 0) {
        char *key = cfg_strndup(name, name_len);
        fill_default(v, parent, path, k, key);
        free(key);
    }
    strbuf_free(&desc);
    path_cut(path, old);
}

/* Schema "list.*" of a scalar kind: check each item of the list. */
static void check_items_in(const Validator *v, const SchemaKey *k, CfgNode *list, int *idx, int nidx,
                           StrBuf *path) {
    for (int i = 0; i < list->count; i++) {
        size_t old = path_push_index(path, i);
        idx[nidx] = i;
        StrBuf desc = {0};
        if (!k->when || eval_when(v, k->when, idx, nidx + 1, &desc) != COND_FALSE)
            check_value(v, v->diags, list->items[i], path, k);
        strbuf_free(&desc);
        path_cut(path, old);
    }
}

/* Keys inside a map that does not apply (reported once, as "does not apply") are neither
 * demanded nor defaulted: one mistake, one message. */
static int ancestor_applies(const Validator *v, const SchemaKey *k, const Segs *s, int level,
                            const int *idx, int nidx) {
    size_t len = (size_t)(s->p[level] + s->len[level] - k->path);
    char *prefix = cfg_strndup(k->path, len);
    const SchemaKey *a = schema_find(v->schema, prefix);
    free(prefix);
    if (!a || !a->when) return 1;
    StrBuf desc = {0};
    Cond c = eval_when(v, a->when, idx, nidx, &desc);
    strbuf_free(&desc);
    return c != COND_FALSE;
}

/* Walk the segments of k's path from `node`, binding each "*" to every list index present. */
static void visit(const Validator *v, const SchemaKey *k, const Segs *s, int level, CfgNode *node,
                  int *idx, int nidx, StrBuf *path) {
    if (level == s->n - 1) {
        if (seg_is(s, level, "*")) {
            if (node->kind == CFG_SEQ) check_items_in(v, k, node, idx, nidx, path);
        } else if (node->kind == CFG_MAP) {
            check_key_in(v, k, node, s->p[level], s->len[level], idx, nidx, path);
        }
        return;
    }
    if (seg_is(s, level, "*")) {
        if (node->kind != CFG_SEQ) return;
        for (int i = 0; i < node->count; i++) {
            size_t old = path_push_index(path, i);
            idx[nidx] = i;
            visit(v, k, s, level + 1, node->items[i], idx, nidx + 1, path);
            path_cut(path, old);
        }
        return;
    }
    CfgNode *child = map_find_n(node, s->p[level], s->len[level]);
    if (!child) return; /* its parent is absent: reported (or optional) one level up */
    if (!ancestor_applies(v, k, s, level, idx, nidx)) return;
    size_t old = path_push(path, s->p[level], s->len[level]);
    visit(v, k, s, level + 1, child, idx, nidx, path);
    path_cut(path, old);
}

/* ---- pass 2: unknown keys ------------------------------------------------------------------ */

/* Names of the schema keys directly under schema path `level` ("" = top level). */
static int names_at(const Schema *s, const char *level, const char **out, int max) {
    size_t ll = strlen(level);
    int n = 0;
    for (int i = 0; i < s->count && n < max; i++) {
        const char *p = s->keys[i].path;
        if (ll && (strncmp(p, level, ll) != 0 || p[ll] != '.')) continue;
        const char *name = ll ? p + ll + 1 : p;
        if (!strchr(name, '.') && strcmp(name, "*") != 0) out[n++] = name;
    }
    return n;
}

static void report_unknown(const Validator *v, const CfgNode *n, const char *level, const StrBuf *path) {
    const char *names[256] = {0};
    int count = names_at(v->schema, level, names, 256);
    const char *hint = cfg_closest(n->key, names, count);
    if (hint) {
        cfg_diag_at_key(v->diags, n, path->s, "unknown key '%s' (did you mean '%s'?)", n->key, hint);
        return;
    }
    StrBuf allowed = {0};
    for (int i = 0; i < count; i++) strbuf_printf(&allowed, "%s%s", i ? ", " : "", names[i]);
    if (count)
        cfg_diag_at_key(v->diags, n, path->s, "unknown key '%s' (allowed here: %s)", n->key,
                        allowed.s);
    else
        cfg_diag_at_key(v->diags, n, path->s, "unknown key '%s' (no keys are allowed here)", n->key);
    strbuf_free(&allowed);
}

static void walk_unknown(const Validator *v, const CfgNode *node, StrBuf *level, StrBuf *path) {
    if (node->kind != CFG_MAP) return;
    for (int i = 0; i < node->count; i++) {
        const CfgNode *c = node->items[i];
        size_t old_level = path_push(level, c->key, strlen(c->key));
        size_t old_path = path_push(path, c->key, strlen(c->key));
        const SchemaKey *k = schema_find(v->schema, level->s);
        if (!k) {
            path_cut(level, old_level);
            report_unknown(v, c, level->s, path);
            path_cut(path, old_path);
            continue;
        }
        if (k->kind == SK_MAP) walk_unknown(v, c, level, path);
        if (k->kind == SK_LIST && c->kind == CFG_SEQ) {
            size_t star = path_push(level, "*", 1);
            for (int j = 0; j < c->count; j++) {
                size_t old = path_push_index(path, j);
                walk_unknown(v, c->items[j], level, path);
                path_cut(path, old);
            }
            path_cut(level, star);
        }
        path_cut(level, old_level);
        path_cut(path, old_path);
    }
}

/* ---- entry points ------------------------------------------------------------------------- */

int cfg_validate(CfgNode *root, const Schema *schema, CfgDiags *diags) {
    CfgDiags local = {0};
    CfgDiags *out = diags ? diags : &local;
    int from = out->count;
    Validator v = {schema, root, out};
    if (!root) {
        cfg_diag_add(out, NULL, 0, 0, "", "no spec to validate");
    } else if (root->kind != CFG_MAP) {
        StrBuf got = {0};
        describe(&got, root);
        cfg_diag_at(out, root, "", "a spec must be a map of keys, got %s", got.s);
        strbuf_free(&got);
    } else {
        StrBuf path = {0};
        for (int i = 0; i < schema->count; i++) {
            Segs s;
            int idx[CFG_MAX_DEPTH + 1];
            if (split_path(schema->keys[i].path, &s) == 0)
                visit(&v, &schema->keys[i], &s, 0, root, idx, 0, &path);
            path_cut(&path, 0);
        }
        StrBuf level = {0};
        walk_unknown(&v, root, &level, &path);
        strbuf_free(&level);
        strbuf_free(&path);
    }
    int errors = out->count - from;
    cfg_diags_sort(out, from);
    cfg_diags_free(&local);
    return errors ? -1 : 0;
}

/* ---- checking the schema itself -------------------------------------------------------------- */

static int schema_index(const Schema *s, const char *path) {
    for (int i = 0; i < s->count; i++)
        if (strcmp(s->keys[i].path, path) == 0) return i;
    return -1;
}

static int count_stars(const Segs *s) {
    int n = 0;
    for (int i = 0; i < s->n; i++) n += seg_is(s, i, "*");
    return n;
}

/* The parent of "a.b" is the map "a"; of "a.*" and "a.*.b", the list "a" (or a listed "a.*"). */
static void check_parent(const Schema *schema, int i, const Segs *s, CfgDiags *out) {
    const SchemaKey *k = &schema->keys[i];
    if (s->n == 1) {
        if (seg_is(s, 0, "*")) cfg_diag_add(out, "schema", 0, 0, k->path, "'*' needs a list before it");
        return;
    }
    size_t plen = (size_t)(s->p[s->n - 1] - k->path) - 1;
    char *parent = cfg_strndup(k->path, plen);
    int j = schema_index(schema, parent);
    SchemaKind want = seg_is(s, s->n - 1, "*") ? SK_LIST : SK_MAP;
    if (j < 0 && seg_is(s, s->n - 2, "*") && plen >= 2) {
        parent[plen - 2] = '\0'; /* "a.*.b": the list "a" stands for "a.*" */
        j = schema_index(schema, parent);
        want = SK_LIST;
    }
    if (j < 0 || j > i)
        cfg_diag_add(out, "schema", 0, 0, k->path, "parent '%s' must be listed before it", parent);
    else if (schema->keys[j].kind != want)
        cfg_diag_add(out, "schema", 0, 0, k->path, "parent '%s' must be %s", parent,
                     want == SK_LIST ? "an SK_LIST" : "an SK_MAP");
    free(parent);
}

static void check_when(const Schema *schema, int i, const Segs *s, CfgDiags *out) {
    const SchemaKey *k = &schema->keys[i];
    const char *eq = strchr(k->when, '=');
    if (!eq || eq == k->when || eq[1] == '\0') {
        cfg_diag_add(out, "schema", 0, 0, k->path, "condition '%s' is not of the form path=v1|v2",
                     k->when);
        return;
    }
    char *ref_path = cfg_strndup(k->when, (size_t)(eq - k->when));
    int j = schema_index(schema, ref_path);
    Segs rs;
    if (j < 0 || j >= i) {
        cfg_diag_add(out, "schema", 0, 0, k->path, "condition refers to '%s', which is not listed before it",
                     ref_path);
    } else if (split_path(ref_path, &rs) != 0 || count_stars(&rs) > count_stars(s)) {
        cfg_diag_add(out, "schema", 0, 0, k->path, "condition '%s' has more '*' than the key", k->when);
    } else if (schema->keys[j].kind == SK_ENUM) {
        char buf[1024];
        const char *alts[64];
        int na = split_choices(eq + 1, buf, sizeof buf, alts, 64);
        CfgNode probe = {.kind = CFG_SCALAR};
        for (int a = 0; a < na; a++) {
            probe.value = (char *)alts[a];
            if (!check_enum(NULL, &probe, "", &schema->keys[j]))
                cfg_diag_add(out, "schema", 0, 0, k->path, "condition value '%s' is not one of %s",
                             alts[a], schema->keys[j].choices);
        }
    }
    free(ref_path);
}

/* A default must parse and pass its own key's checks. */
static void check_default(const Schema *schema, const SchemaKey *k, CfgDiags *out) {
    if (!k->default_value || strcmp(k->default_value, "~") == 0) return;
    CfgDiags tmp = {0};
    CfgNode *n = cfg_parse_flow_value(k->default_value, "schema", 0, k->path, &tmp);
    if (n) {
        Validator v = {schema, n, &tmp};
        StrBuf path = {0};
        strbuf_puts(&path, k->path);
        check_value(&v, &tmp, n, &path, k);
        strbuf_free(&path);
        cfg_free(n);
    }
    for (int d = 0; d < tmp.count; d++)
        cfg_diag_add(out, "schema", 0, 0, k->path, "default '%s' is invalid: %s", k->default_value,
                     tmp.items[d].message);
    cfg_diags_free(&tmp);
}

int cfg_schema_check(const Schema *schema, CfgDiags *diags) {
    CfgDiags local = {0};
    CfgDiags *out = diags ? diags : &local;
    int from = out->count;
    for (int i = 0; i < schema->count; i++) {
        const SchemaKey *k = &schema->keys[i];
        Segs s;
        int empty_seg = 0;
        if (!k->path || split_path(k->path, &s) != 0) {
            cfg_diag_add(out, "schema", 0, 0, k->path ? k->path : "(null)", "path is too deep");
            continue;
        }
        for (int j = 0; j < s.n; j++) empty_seg |= s.len[j] == 0;
        if (empty_seg) {
            cfg_diag_add(out, "schema", 0, 0, k->path, "path has an empty segment");
            continue;
        }
        if (schema_index(schema, k->path) != i)
            cfg_diag_add(out, "schema", 0, 0, k->path, "listed twice");
        check_parent(schema, i, &s, out);
        if (k->when) check_when(schema, i, &s, out);
        if (k->kind == SK_ENUM && (!k->choices || !*k->choices || strstr(k->choices, "||") ||
                                   k->choices[0] == '|' || k->choices[strlen(k->choices) - 1] == '|'))
            cfg_diag_add(out, "schema", 0, 0, k->path, "enum needs choices like \"a|b|c\"");
        check_default(schema, k, out);
    }
    int errors = out->count - from;
    cfg_diags_free(&local);
    return errors ? -1 : 0;
}
