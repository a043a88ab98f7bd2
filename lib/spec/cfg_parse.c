/* cfg_parse.c — YAML text → CfgNode tree, with libyaml's event API.
 *
 * Events arrive in document order (MAPPING-START, SCALAR key, SCALAR value, ...); a stack of
 * open collections turns them into a tree. The event API (rather than yaml_document_t) lets us
 * stop at the first anchor, tag or too-deep collection before building anything large, and
 * gives every node its start mark, which becomes the node's line:col (libyaml counts from 0,
 * we count from 1 like editors and compilers do). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "spec/cfg_internal.h"

typedef struct Frame {
    CfgNode *node;        /* an open map or list */
    char *key;            /* map only: a key read, waiting for its value */
    int key_line, key_col;
} Frame;

typedef struct Builder {
    const char *name;     /* file name for nodes and diagnostics */
    CfgDiags *diags;
    int flat;             /* override/default text: line 0, columns offset by col0 */
    int col0;
    const char *path;     /* flat mode: the dotted path the value is for, for diagnostics */
    Frame stack[CFG_MAX_DEPTH];
    int depth;
    CfgNode *root;
    int documents;
    int errors;           /* diagnostics added (duplicate keys do not stop the parse) */
} Builder;

static void mark_pos(const Builder *b, yaml_mark_t m, int *line, int *col) {
    if (b->flat) {
        /* One-line text: the character index is the column, also for marks libyaml puts
         * on a line after the end of the text. */
        *line = 0;
        *col = b->col0 + (int)m.index + 1;
    } else {
        *line = (int)m.line + 1;
        *col = (int)m.column + 1;
    }
}

static void fail_at(Builder *b, yaml_mark_t m, const char *msg) {
    int line, col;
    mark_pos(b, m, &line, &col);
    cfg_diag_add(b->diags, b->name, line, col, b->flat ? b->path : "", "%s", msg);
    b->errors++;
}

/* Dotted path of the innermost open collection, for duplicate-key messages. */
static void stack_path(const Builder *b, StrBuf *out) {
    if (b->flat && b->path) strbuf_puts(out, b->path);
    for (int i = 1; i < b->depth; i++) {
        const CfgNode *n = b->stack[i].node;
        if (out->len) strbuf_putc(out, '.');
        if (n->key)
            strbuf_puts(out, n->key);
        else
            strbuf_printf(out, "%d", b->stack[i - 1].node->count - 1);
    }
}

/* ---- attaching nodes ---------------------------------------------------------------------- */

static int expecting_key(const Builder *b) {
    return b->depth > 0 && b->stack[b->depth - 1].node->kind == CFG_MAP &&
           b->stack[b->depth - 1].key == NULL;
}

/* Give a new value node its place: the root, the next item of a list, or the value of the
 * pending key of a map. */
static void attach(Builder *b, CfgNode *node) {
    if (b->depth == 0) {
        b->root = node;
        return;
    }
    Frame *top = &b->stack[b->depth - 1];
    if (top->node->kind == CFG_MAP) {
        node->key = top->key;
        node->key_line = top->key_line;
        node->key_col = top->key_col;
        top->key = NULL;
    }
    cfg_append(top->node, node);
}

static CfgNode *new_node(Builder *b, CfgKind kind, const char *value, yaml_mark_t m) {
    int line, col;
    mark_pos(b, m, &line, &col);
    return cfg_new(kind, NULL, value, b->name, line, col);
}

/* ---- checks every node passes --------------------------------------------------------------- */

/* Anchors/aliases allow "billion laughs" expansion and make a spec hard to read at a glance;
 * tags could turn "5" into something the schema never sees. Specs use neither. */
static int check_plain_node(Builder *b, const yaml_char_t *anchor, const yaml_char_t *tag,
                            yaml_mark_t m) {
    if (anchor) {
        fail_at(b, m, "anchors and aliases are not supported in specs");
        return -1;
    }
    if (tag) {
        StrBuf msg = {0};
        strbuf_printf(&msg, "tags ('%s') are not supported in specs; quote a value to make it a string",
                   (const char *)tag);
        fail_at(b, m, msg.s);
        strbuf_free(&msg);
        return -1;
    }
    return 0;
}

/* A collection as a map key ("? [a, b]: 1") has no dotted path; reject it. */
static int check_not_key(Builder *b, yaml_mark_t m) {
    if (!expecting_key(b)) return 0;
    fail_at(b, m, "map keys must be scalars");
    return -1;
}

/* ---- events ------------------------------------------------------------------------------- */

static int on_scalar(Builder *b, const yaml_event_t *ev) {
    const char *text = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    if (check_plain_node(b, ev->data.scalar.anchor, ev->data.scalar.tag, ev->start_mark)) return -1;
    if (memchr(text, '\0', len)) {
        fail_at(b, ev->start_mark, "NUL characters are not allowed in specs");
        return -1;
    }
    if (expecting_key(b)) {
        if (len > CFG_MAX_KEY) {
            StrBuf msg = {0};
            strbuf_printf(&msg, "key longer than %d characters", CFG_MAX_KEY);
            fail_at(b, ev->start_mark, msg.s);
            strbuf_free(&msg);
            return -1;
        }
        Frame *top = &b->stack[b->depth - 1];
        top->key = cfg_strndup(text, len);
        mark_pos(b, ev->start_mark, &top->key_line, &top->key_col);
        return 0;
    }
    CfgNode *node = new_node(b, CFG_SCALAR, text, ev->start_mark);
    yaml_scalar_style_t st = ev->data.scalar.style;
    /* Quoted and block (| >) scalars are strings by the author's choice: "123" stays text. */
    node->quoted = st == YAML_SINGLE_QUOTED_SCALAR_STYLE || st == YAML_DOUBLE_QUOTED_SCALAR_STYLE ||
                   st == YAML_LITERAL_SCALAR_STYLE || st == YAML_FOLDED_SCALAR_STYLE;
    attach(b, node);
    return 0;
}

static int on_start(Builder *b, CfgKind kind, const yaml_char_t *anchor, const yaml_char_t *tag,
                    yaml_mark_t m) {
    if (check_plain_node(b, anchor, tag, m) || check_not_key(b, m)) return -1;
    if (b->depth == CFG_MAX_DEPTH) {
        StrBuf msg = {0};
        strbuf_printf(&msg, "nesting deeper than %d levels", CFG_MAX_DEPTH);
        fail_at(b, m, msg.s);
        strbuf_free(&msg);
        return -1;
    }
    CfgNode *node = new_node(b, kind, NULL, m);
    attach(b, node);
    b->stack[b->depth++] = (Frame){node, NULL, 0, 0};
    return 0;
}

static int by_key_then_position(const void *pa, const void *pb) {
    const CfgNode *a = *(const CfgNode *const *)pa, *b = *(const CfgNode *const *)pb;
    int c = strcmp(a->key, b->key);
    if (c) return c;
    if (a->key_line != b->key_line) return a->key_line < b->key_line ? -1 : 1;
    return (a->key_col > b->key_col) - (a->key_col < b->key_col);
}

/* Duplicate keys are legal for libyaml but ambiguous for us (which one wins?): report every
 * repeat. Sorting a copy of the entries keeps this O(n log n) for large maps. */
static void check_duplicates(Builder *b, const CfgNode *map) {
    if (map->count < 2) return;
    CfgNode **v = ex_malloc((size_t)map->count * sizeof *v);
    memcpy(v, map->items, (size_t)map->count * sizeof *v);
    qsort(v, (size_t)map->count, sizeof *v, by_key_then_position);
    for (int i = 1, first = 0; i < map->count; i++) {
        if (strcmp(v[i]->key, v[first]->key) != 0) {
            first = i;
            continue;
        }
        StrBuf path = {0};
        stack_path(b, &path);
        if (path.len) strbuf_putc(&path, '.');
        strbuf_puts(&path, v[i]->key);
        cfg_diag_add(b->diags, b->name, v[i]->key_line, v[i]->key_col, path.s,
                     "duplicate key '%s' (first at line %d)", v[i]->key, v[first]->key_line);
        b->errors++;
        strbuf_free(&path);
    }
    free(v);
}

static int on_event(Builder *b, const yaml_event_t *ev) {
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++b->documents > 1) {
            fail_at(b, ev->start_mark, "multiple documents in one spec are not supported");
            return -1;
        }
        return 0;
    case YAML_ALIAS_EVENT:
        fail_at(b, ev->start_mark, "anchors and aliases are not supported in specs");
        return -1;
    case YAML_SCALAR_EVENT:
        return on_scalar(b, ev);
    case YAML_MAPPING_START_EVENT:
        return on_start(b, CFG_MAP, ev->data.mapping_start.anchor, ev->data.mapping_start.tag,
                        ev->start_mark);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(b, CFG_SEQ, ev->data.sequence_start.anchor, ev->data.sequence_start.tag,
                        ev->start_mark);
    case YAML_MAPPING_END_EVENT:
        check_duplicates(b, b->stack[b->depth - 1].node);
        b->depth--;
        return 0;
    case YAML_SEQUENCE_END_EVENT:
        b->depth--;
        return 0;
    default: /* stream start/end, document end */
        return 0;
    }
}

/* ---- libyaml errors ----------------------------------------------------------------------- */

/* Reader errors (bad UTF-8, control characters) carry a byte offset, not a mark. */
static yaml_mark_t offset_mark(const char *text, size_t len, size_t offset) {
    yaml_mark_t m = {0, 0, 0};
    for (size_t i = 0; i < offset && i < len; i++) {
        if (text[i] == '\n') {
            m.line++;
            m.column = 0;
        } else if (((unsigned char)text[i] & 0xC0) != 0x80) {
            m.column++; /* count characters, not UTF-8 continuation bytes */
        }
    }
    m.index = offset;
    return m;
}

static void report_yaml_error(Builder *b, const yaml_parser_t *p, const char *text, size_t len) {
    StrBuf msg = {0};
    yaml_mark_t m = p->problem_mark;
    if (p->error == YAML_MEMORY_ERROR) {
        strbuf_puts(&msg, "out of memory while parsing");
    } else if (p->error == YAML_READER_ERROR) {
        m = offset_mark(text, len, p->problem_offset);
        strbuf_puts(&msg, p->problem ? p->problem : "cannot read the text");
        if (p->problem_value != -1) strbuf_printf(&msg, " (#%X)", (unsigned)p->problem_value);
    } else {
        strbuf_puts(&msg, p->problem ? p->problem : "syntax error");
        if (p->context) {
            int line, col;
            mark_pos(b, p->context_mark, &line, &col);
            if (b->flat)
                strbuf_printf(&msg, " (%s)", p->context);
            else
                strbuf_printf(&msg, " (%s at line %d)", p->context, line);
        }
        /* libyaml's words for a tab in the indentation do not say so: "found character that
         * cannot start any token" */
        if (m.index < len) {
            size_t start = m.index;
            while (start > 0 && text[start - 1] != '\n') start--;
            int tab = 0;
            for (size_t k = start; k < len && (text[k] == ' ' || text[k] == '\t'); k++) tab |= text[k] == '\t';
            if (tab) strbuf_puts(&msg, ": a tab in the indentation — YAML forbids tabs there; indent with spaces");
        }
    }
    fail_at(b, m, msg.s);
    strbuf_free(&msg);
}

/* ---- the parse loop ----------------------------------------------------------------------- */

static void builder_cleanup(Builder *b) {
    for (int i = 0; i < b->depth; i++) free(b->stack[i].key);
    b->depth = 0;
    cfg_free(b->root);
    b->root = NULL;
}

/* Run libyaml over text and build b->root; returns 0, or -1 with diagnostics added. */
static int build(Builder *b, const char *text, size_t len) {
    yaml_parser_t parser;
    if (!yaml_parser_initialize(&parser)) {
        cfg_diag_add(b->diags, b->name, 0, 0, b->path, "cannot initialise the YAML parser");
        return -1;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    int done = 0, rc = 0;
    while (!done) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&parser, &ev)) {
            report_yaml_error(b, &parser, text, len);
            rc = -1;
            break;
        }
        rc = on_event(b, &ev);
        done = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
        if (rc) break;
    }
    yaml_parser_delete(&parser);
    if (rc || b->errors) {
        builder_cleanup(b);
        return -1;
    }
    return 0;
}

CfgNode *cfg_parse_string(const char *text, size_t len, const char *name, CfgDiags *diags) {
    if (!name) name = "<spec>";
    if (len > CFG_MAX_BYTES) {
        cfg_diag_add(diags, name, 0, 0, "", "spec is larger than 1 MiB (%zu bytes)", len);
        return NULL;
    }
    Builder b = {.name = name, .diags = diags, .path = ""};
    int from = diags ? diags->count : 0;
    if (build(&b, text, len)) {
        if (diags) cfg_diags_sort(diags, from);
        return NULL;
    }
    /* No document, or a document that is just an empty scalar ("---" alone, only comments). */
    if (!b.root || (b.root->kind == CFG_SCALAR && !b.root->quoted && b.root->value[0] == '\0')) {
        cfg_free(b.root);
        cfg_diag_add(diags, name, 0, 0, "", "spec is empty");
        return NULL;
    }
    return b.root;
}

/* First non-blank character, to tell "{...}"/"[...]" from a block collection like "a: b". */
static char first_char(const char *s) {
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    return *s;
}

CfgNode *cfg_parse_flow_value(const char *text, const char *file, int col0, const char *path,
                              CfgDiags *diags) {
    size_t len = strlen(text);
    Builder b = {.name = file, .diags = diags, .flat = 1, .col0 = col0, .path = path};
    if (len > CFG_MAX_BYTES) {
        cfg_diag_add(diags, file, 0, col0 + 1, path, "value is larger than 1 MiB");
        return NULL;
    }
    if (build(&b, text, len)) return NULL;
    if (!b.root) /* empty text: the empty string, as "x:" would give in a file */
        return cfg_new(CFG_SCALAR, NULL, "", file, 0, col0 + 1);
    char c = first_char(text);
    if ((b.root->kind == CFG_MAP && c != '{') || (b.root->kind == CFG_SEQ && c != '[')) {
        cfg_free(b.root);
        cfg_diag_add(diags, file, 0, col0 + 1, path,
                     "'%s' is a block collection; write a flow value like [1, 2] or {a: 1}, "
                     "or quote it",
                     text);
        return NULL;
    }
    return b.root;
}

/* Read a whole file (at most CFG_MAX_BYTES + 1 bytes, to detect an oversized one). */
CfgNode *cfg_parse_file(const char *path, CfgDiags *diags) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        int why = errno;
        size_t n = strlen(path);
        char with_ext[4096];
        snprintf(with_ext, sizeof with_ext, "%s.yaml", path);
        FILE *g = n < 4000 ? fopen(with_ext, "rb") : NULL;   /* `exprun validate configs/lstm_text` */
        if (g) {
            fclose(g);
            cfg_diag_add(diags, path, 0, 0, "", "cannot open: %s (did you mean %s?)", strerror(why), with_ext);
        } else {
            cfg_diag_add(diags, path, 0, 0, "", "cannot open: %s", strerror(why));
        }
        return NULL;
    }
    size_t cap = CFG_MAX_BYTES + 1;
    char *text = ex_malloc(cap);
    size_t len = fread(text, 1, cap, f);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(text);
        cfg_diag_add(diags, path, 0, 0, "", "cannot read the file");
        return NULL;
    }
    CfgNode *root = cfg_parse_string(text, len, path, diags);
    free(text);
    return root;
}
