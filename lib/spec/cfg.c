/* cfg.c — the CfgNode tree itself: nodes, diagnostics, typed getters, the scalar grammar and
 * the edit distance behind "did you mean". Parsing, validation, overrides and emitting live in
 * cfg_parse.c, cfg_validate.c, cfg_override.c and cfg_emit.c. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/cfg_internal.h"

/* ---- strings ------------------------------------------------------------------------------ */

char *cfg_strndup(const char *s, size_t n) {
    char *p = ex_malloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *cfg_strdup(const char *s) { return s ? cfg_strndup(s, strlen(s)) : NULL; }

/* ---- nodes -------------------------------------------------------------------------------- */

CfgNode *cfg_new(CfgKind kind, const char *key, const char *value, const char *file, int line,
                 int col) {
    CfgNode *n = ex_calloc(1, sizeof *n);
    n->kind = kind;
    n->key = cfg_strdup(key);
    n->value = kind == CFG_SCALAR ? cfg_strdup(value ? value : "") : NULL;
    n->file = cfg_strdup(file ? file : "");
    n->line = line;
    n->col = col;
    return n;
}

/* Capacity of an items array holding n children: powers of two, so that appending one child
 * at a time costs amortised O(1) without a capacity field in the public struct. */
static int items_cap(int n) {
    int cap = 4;
    while (cap < n) cap *= 2;
    return cap;
}

void cfg_append(CfgNode *parent, CfgNode *child) {
    if (parent->count == 0 || parent->count == items_cap(parent->count)) {
        int cap = items_cap(parent->count + 1);
        CfgNode **items = realloc(parent->items, (size_t)cap * sizeof *items);
        if (!items) {
            fprintf(stderr, "exprun: out of memory growing a spec node to %d items\n", cap);
            abort();
        }
        parent->items = items;
    }
    parent->items[parent->count++] = child;
}

void cfg_insert(CfgNode *parent, int index, CfgNode *child) {
    cfg_append(parent, child);
    memmove(parent->items + index + 1, parent->items + index,
            (size_t)(parent->count - 1 - index) * sizeof *parent->items);
    parent->items[index] = child;
}

void cfg_free(CfgNode *node) {
    if (!node) return;
    for (int i = 0; i < node->count; i++) cfg_free(node->items[i]);
    free(node->items);
    free(node->key);
    free(node->value);
    free((char *)node->file);
    free(node);
}

CfgNode *cfg_clone(const CfgNode *node) {
    if (!node) return NULL;
    CfgNode *c = cfg_new(node->kind, node->key, node->value, node->file, node->line, node->col);
    c->quoted = node->quoted;
    c->key_line = node->key_line;
    c->key_col = node->key_col;
    for (int i = 0; i < node->count; i++) cfg_append(c, cfg_clone(node->items[i]));
    return c;
}

static int str_eq(const char *a, const char *b) {
    if (!a || !b) return a == b;
    return strcmp(a, b) == 0;
}

int cfg_equal(const CfgNode *a, const CfgNode *b) {
    if (!a || !b) return a == b;
    if (a->kind != b->kind || a->count != b->count || !str_eq(a->key, b->key)) return 0;
    if (a->kind == CFG_SCALAR) {
        int null_a = !a->quoted && cfg_text_is_null(a->value), null_b = !b->quoted && cfg_text_is_null(b->value);
        if (null_a || null_b) return null_a && null_b;   /* `x:`, `x: ~` and `x: null` are one null */
        if (!str_eq(a->value, b->value)) return 0;
        if ((cfg_text_is_typed(a->value) || cfg_text_is_null(a->value)) && !a->quoted != !b->quoted) return 0;
    }
    for (int i = 0; i < a->count; i++)
        if (!cfg_equal(a->items[i], b->items[i])) return 0;
    return 1;
}

CfgNode *cfg_map_find(const CfgNode *map, const char *key) {
    if (!map || map->kind != CFG_MAP) return NULL;
    for (int i = 0; i < map->count; i++)
        if (map->items[i]->key && strcmp(map->items[i]->key, key) == 0) return map->items[i];
    return NULL;
}

/* ---- diagnostics -------------------------------------------------------------------------- */

void cfg_diag_vadd(CfgDiags *d, const char *file, int line, int col, const char *path,
                      const char *fmt, va_list ap) {
    if (!d) return;
    if (d->count == d->cap) {
        int cap = d->cap ? d->cap * 2 : 8;
        CfgDiag *items = realloc(d->items, (size_t)cap * sizeof *items);
        if (!items) {
            fprintf(stderr, "exprun: out of memory growing the diagnostics to %d\n", cap);
            abort();
        }
        d->items = items;
        d->cap = cap;
    }
    StrBuf msg = {0};
    strbuf_vprintf(&msg, fmt, ap);
    CfgDiag *g = &d->items[d->count++];
    g->file = cfg_strdup(file ? file : "");
    g->line = line;
    g->col = col;
    g->path = cfg_strdup(path ? path : "");
    g->message = msg.s ? msg.s : cfg_strdup("");
}

void cfg_diag_add(CfgDiags *d, const char *file, int line, int col, const char *path,
                  const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    cfg_diag_vadd(d, file, line, col, path, fmt, ap);
    va_end(ap);
}

void cfg_diag_at(CfgDiags *d, const CfgNode *node, const char *path, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    cfg_diag_vadd(d, node->file, node->line, node->col, path, fmt, ap);
    va_end(ap);
}

void cfg_diag_at_key(CfgDiags *d, const CfgNode *node, const char *path, const char *fmt, ...) {
    int keyed = node->key_line > 0 || node->key_col > 0; /* overrides: line 0, a column */
    va_list ap;
    va_start(ap, fmt);
    cfg_diag_vadd(d, node->file, keyed ? node->key_line : node->line, keyed ? node->key_col : node->col,
              path, fmt, ap);
    va_end(ap);
}

static void diag_format(StrBuf *b, const CfgDiag *g) {
    if (g->file && *g->file) strbuf_puts(b, g->file);
    if (g->line > 0) strbuf_printf(b, ":%d:%d", g->line, g->col);
    if ((g->file && *g->file) || g->line > 0) strbuf_puts(b, ": ");
    if (g->path && *g->path) strbuf_printf(b, "%s: ", g->path);
    strbuf_puts(b, g->message);
}

void cfg_diags_print(const CfgDiags *d, FILE *out) {
    for (int i = 0; i < d->count; i++) {
        StrBuf b = {0};
        diag_format(&b, &d->items[i]);
        fprintf(out, "%s\n", b.s);
        strbuf_free(&b);
    }
}

int cfg_diags_to_error(const CfgDiags *d, ExError *err) {
    if (!d || d->count == 0) return 0;
    StrBuf b = {0};
    for (int i = 0; i < d->count; i++) {
        if (i) strbuf_putc(&b, '\n');
        diag_format(&b, &d->items[i]);
    }
    ex_fail(err, "%s", b.s);
    strbuf_free(&b);
    return -1;
}

void cfg_diags_free(CfgDiags *d) {
    if (!d) return;
    for (int i = 0; i < d->count; i++) {
        free(d->items[i].file);
        free(d->items[i].path);
        free(d->items[i].message);
    }
    free(d->items);
    d->items = NULL;
    d->count = d->cap = 0;
}

static int diag_before(const CfgDiag *a, const CfgDiag *b) {
    if (a->line != b->line) return a->line < b->line;
    return a->col < b->col;
}

/* Merge sort: stable, so ties keep the order the checks found them in (parent before child). */
static void merge_sort(CfgDiag *v, CfgDiag *tmp, int n) {
    if (n < 2) return;
    int h = n / 2;
    merge_sort(v, tmp, h);
    merge_sort(v + h, tmp, n - h);
    int i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = diag_before(&v[j], &v[i]) ? v[j++] : v[i++];
    while (i < h) tmp[k++] = v[i++];
    while (j < n) tmp[k++] = v[j++];
    memcpy(v, tmp, (size_t)n * sizeof *v);
}

void cfg_diags_sort(CfgDiags *d, int from) {
    int n = d->count - from;
    if (n < 2) return;
    CfgDiag *tmp = ex_malloc((size_t)n * sizeof *tmp);
    merge_sort(d->items + from, tmp, n);
    free(tmp);
}

/* ---- the scalar grammar --------------------------------------------------------------------- */

static const char *skip_digits(const char *p) {
    while (*p >= '0' && *p <= '9') p++;
    return p;
}

/* [+-]? digits */
static int is_int_text(const char *s) {
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    const char *q = skip_digits(p);
    return q > p && *q == '\0';
}

/* [+-]? (digits ('.' digits?)? | '.' digits) ([eE] [+-]? digits)? */
static int is_number_text(const char *s) {
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    const char *q = skip_digits(p);
    int mantissa = q > p;
    if (*q == '.') {
        const char *r = skip_digits(q + 1);
        mantissa = mantissa || r > q + 1;
        q = r;
    }
    if (!mantissa) return 0;
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-') q++;
        const char *r = skip_digits(q);
        if (r == q) return 0;
        q = r;
    }
    return *q == '\0';
}

int cfg_scan_long(const char *text, long *out, int *overflow) {
    *overflow = 0;
    if (!text || !is_int_text(text)) return 0;
    errno = 0;
    long v = strtol(text, NULL, 10);
    if (errno == ERANGE) *overflow = 1;
    *out = v;
    return 1;
}

int cfg_scan_double(const char *text, double *out, int *overflow) {
    *overflow = 0;
    if (!text || !is_number_text(text)) return 0;
    double v = strtod(text, NULL);
    if (!isfinite(v)) *overflow = 1; /* 1e999: well formed, but not a usable number */
    *out = v;
    return 1;
}

int cfg_text_is_typed(const char *text) {
    if (!text) return 0;
    return is_number_text(text) || strcmp(text, "true") == 0 || strcmp(text, "false") == 0;
}

int cfg_text_is_null(const char *text) {
    return !text || !text[0] || strcmp(text, "~") == 0 || strcmp(text, "null") == 0 || strcmp(text, "Null") == 0 ||
           strcmp(text, "NULL") == 0;
}

/* ---- typed getters ------------------------------------------------------------------------ */

/* Follow one path segment: a key in a map, a decimal index in a list. */
static const CfgNode *step(const CfgNode *node, const char *seg, size_t n) {
    if (node->kind == CFG_MAP) {
        for (int i = 0; i < node->count; i++) {
            const char *k = node->items[i]->key;
            if (k && strlen(k) == n && memcmp(k, seg, n) == 0) return node->items[i];
        }
        return NULL;
    }
    if (node->kind == CFG_SEQ) {
        if (n == 0 || n > 9) return NULL;
        long idx = 0;
        for (size_t i = 0; i < n; i++) {
            if (seg[i] < '0' || seg[i] > '9') return NULL;
            idx = idx * 10 + (seg[i] - '0');
        }
        return idx < node->count ? node->items[idx] : NULL;
    }
    return NULL;
}

const CfgNode *cfg_get(const CfgNode *root, const char *path) {
    if (!root || !path) return NULL;
    const CfgNode *node = root;
    const char *p = path;
    if (*p == '\0') return root;
    for (;;) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        node = step(node, p, n);
        if (!node || !dot) return node;
        p = dot + 1;
    }
}

const char *cfg_str(const CfgNode *root, const char *path) {
    const CfgNode *n = cfg_get(root, path);
    return n && n->kind == CFG_SCALAR ? n->value : NULL;
}

long cfg_int(const CfgNode *root, const char *path, long fallback) {
    long v;
    int overflow;
    const char *s = cfg_str(root, path);
    return s && cfg_scan_long(s, &v, &overflow) && !overflow ? v : fallback;
}

double cfg_float(const CfgNode *root, const char *path, double fallback) {
    double v;
    int overflow;
    const char *s = cfg_str(root, path);
    return s && cfg_scan_double(s, &v, &overflow) && !overflow ? v : fallback;
}

int cfg_bool(const CfgNode *root, const char *path, int fallback) {
    const char *s = cfg_str(root, path);
    if (s && strcmp(s, "true") == 0) return 1;
    if (s && strcmp(s, "false") == 0) return 0;
    return fallback;
}

int cfg_len(const CfgNode *root, const char *path) {
    const CfgNode *n = cfg_get(root, path);
    return n && n->kind != CFG_SCALAR ? n->count : 0;
}

int cfg_has(const CfgNode *root, const char *path) { return cfg_get(root, path) != NULL; }

/* ---- edit distance ------------------------------------------------------------------------ */

/* Damerau–Levenshtein in its optimal-string-alignment form: insertions, deletions,
 * substitutions and swaps of two adjacent characters each cost 1 ("optimsier" → "optimiser"
 * is one typo, not two). Three rolling rows of the usual DP table. */
int cfg_edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    int *prev2 = ex_malloc((lb + 1) * sizeof(int));
    int *prev = ex_malloc((lb + 1) * sizeof(int));
    int *cur = ex_malloc((lb + 1) * sizeof(int));
    for (size_t j = 0; j <= lb; j++) prev[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int cost = a[i - 1] != b[j - 1];
            int best = prev[j] + 1;                                 /* delete */
            if (cur[j - 1] + 1 < best) best = cur[j - 1] + 1;       /* insert */
            if (prev[j - 1] + cost < best) best = prev[j - 1] + cost; /* substitute */
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < best)
                best = prev2[j - 2] + 1; /* swap */
            cur[j] = best;
        }
        int *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    int d = prev[lb];
    free(prev2);
    free(prev);
    free(cur);
    return d;
}

/* The closest candidate within edit distance 2 (and closer than the word's own length, so "x"
 * does not suggest "lr"), or NULL. */
const char *cfg_closest(const char *word, const char *const *cands, int n) {
    const char *best = NULL;
    int best_d = 3;
    size_t lw = strlen(word);
    for (int i = 0; i < n; i++) {
        size_t lc = strlen(cands[i]);
        if (lc > lw + 2 || lw > lc + 2) continue; /* too far apart to be a typo */
        int d = cfg_edit_distance(word, cands[i]);
        if (d < best_d && (size_t)d < lw) {
            best = cands[i];
            best_d = d;
        }
    }
    return best;
}
