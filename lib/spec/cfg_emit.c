/* cfg_emit.c — a CfgNode tree back to YAML: the resolved spec a run records.
 *
 * Block style with two-space indents; lists of scalars in flow style ([128, 64]) because that
 * is how people write them in specs. Scalars are written exactly as their text (so "1e-3" stays
 * "1e-3"). The one rule that matters for round trips: quoting must not change what the
 * validator reads. A scalar is quoted when
 *   - it was quoted and, written plainly, would read as a number or true/false ("0.1" stays a
 *     string), or
 *   - it is not obviously safe as a plain scalar (special characters, empty, non-ASCII, ...),
 * and never when it is a plain number or boolean. Quoting uses double quotes with escapes, which
 * can represent any text on one line. Property: cfg_equal(t, parse(emit(t))) — the tests and
 * the fuzzer check it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec/cfg_internal.h"

/* ---- scalars ------------------------------------------------------------------------------ */

static int is_alnum(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

/* A conservative subset of YAML plain scalars, valid in block and flow context alike: words,
 * paths and numbers with single inner spaces. Anything else gets quoted. */
static int plain_safe(const char *s) {
    size_t n = strlen(s);
    if (n == 0) return 0;
    int lead_ok = is_alnum(s[0]) || s[0] == '/' || s[0] == '(' ||
                  ((s[0] == '-' || s[0] == '+' || s[0] == '.') && is_alnum(s[1]));
    if (!lead_ok || s[n - 1] == ' ') return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = is_alnum(c) || strchr("./+-()", c) != NULL || (c == ' ' && s[i + 1] != ' ');
        if (!ok) return 0;
    }
    return 1;
}

/* Decode one UTF-8 character at s; returns its length, or 0 if the bytes are not valid UTF-8
 * (overlong forms and surrogates included). */
static int utf8_decode(const unsigned char *s, unsigned *cp) {
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    int len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 0;
    if (len == 0 || s[0] > 0xF4) return 0;
    unsigned v = s[0] & (0x7F >> len);
    for (int i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        v = (v << 6) | (s[i] & 0x3F);
    }
    static const unsigned min_for_len[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (v < min_for_len[len] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF)) return 0;
    *cp = v;
    return len;
}

/* Characters libyaml reads back unchanged inside double quotes: printable, and not one of
 * YAML 1.1's extra line breaks (U+0085, U+2028, U+2029), which would be folded. */
static int raw_ok(unsigned cp) {
    if (cp >= 0x20 && cp <= 0x7E) return cp != '"' && cp != '\\';
    if (cp == 0x2028 || cp == 0x2029 || cp == 0xFEFF) return 0;
    return (cp >= 0xA0 && cp <= 0xD7FF) || (cp >= 0xE000 && cp <= 0xFFFD) ||
           (cp >= 0x10000 && cp <= 0x10FFFF);
}

static void emit_quoted(StrBuf *b, const char *text) {
    const unsigned char *s = (const unsigned char *)text;
    strbuf_putc(b, '"');
    while (*s) {
        unsigned cp;
        int len = utf8_decode(s, &cp);
        if (len == 0) { /* not UTF-8: cannot come from the parser; keep the byte's value */
            strbuf_printf(b, "\\x%02X", *s++);
            continue;
        }
        if (raw_ok(cp))
            strbuf_putn(b, (const char *)s, (size_t)len);
        else if (cp == '"' || cp == '\\')
            strbuf_printf(b, "\\%c", (char)cp);
        else if (cp == '\n')
            strbuf_puts(b, "\\n");
        else if (cp == '\t')
            strbuf_puts(b, "\\t");
        else if (cp <= 0xFF)
            strbuf_printf(b, "\\x%02X", cp);
        else
            strbuf_printf(b, "\\u%04X", cp);
        s += len;
    }
    strbuf_putc(b, '"');
}

static void emit_scalar(StrBuf *b, const CfgNode *n) {
    if (cfg_text_is_null(n->value)) {   /* the quotes decide between null and a string */
        if (n->quoted) emit_quoted(b, n->value ? n->value : "");
        else strbuf_puts(b, n->value && n->value[0] ? n->value : "~");
        return;
    }
    int typed = cfg_text_is_typed(n->value);
    int plain = typed ? !n->quoted : plain_safe(n->value);
    if (plain)
        strbuf_puts(b, n->value);
    else
        emit_quoted(b, n->value);
}

/* Keys have no `quoted` flag: they are always strings, so only safety decides. */
static void emit_key(StrBuf *b, const char *key) {
    if (plain_safe(key) || cfg_text_is_typed(key))
        strbuf_puts(b, key);
    else
        emit_quoted(b, key);
    strbuf_putc(b, ':');
}

/* ---- collections -------------------------------------------------------------------------- */

static void indent_to(StrBuf *b, int indent) {
    for (int i = 0; i < indent; i++) strbuf_putc(b, ' ');
}

static int is_flow_list(const CfgNode *n) {
    if (n->kind != CFG_SEQ) return 0;
    for (int i = 0; i < n->count; i++)
        if (n->items[i]->kind != CFG_SCALAR) return 0;
    return 1;
}

static void emit_flow_list(StrBuf *b, const CfgNode *n) {
    strbuf_putc(b, '[');
    for (int i = 0; i < n->count; i++) {
        if (i) strbuf_puts(b, ", ");
        emit_scalar(b, n->items[i]);
    }
    strbuf_putc(b, ']');
}

/* Anything that fits on the current line: a scalar, [a, b], {} — else 0. */
static int emit_inline(StrBuf *b, const CfgNode *n) {
    if (n->kind == CFG_SCALAR)
        emit_scalar(b, n);
    else if (n->kind == CFG_MAP && n->count == 0)
        strbuf_puts(b, "{}");
    else if (is_flow_list(n))
        emit_flow_list(b, n);
    else
        return 0;
    return 1;
}

static void emit_seq(StrBuf *b, const CfgNode *seq, int indent, int first_inline, int origins);

/* The end of a value's line: with origins, "  # FILE:LINE" (or the node's file alone — "schema
 * default", "override 'k=v'" — where it has no line), then the newline. */
static void end_line(StrBuf *b, const CfgNode *n, int origins) {
    if (origins && n->file) {
        if (n->line > 0) strbuf_printf(b, "  # %s:%d", n->file, n->line);
        else strbuf_printf(b, "  # %s", n->file);
    }
    strbuf_putc(b, '\n');
}

/* Entries of a map at `indent`; the first one goes on the current line when first_inline (a
 * map as a list item: "- units: 64"). */
static void emit_map(StrBuf *b, const CfgNode *map, int indent, int first_inline, int origins) {
    for (int i = 0; i < map->count; i++) {
        const CfgNode *c = map->items[i];
        if (i > 0 || !first_inline) indent_to(b, indent);
        emit_key(b, c->key ? c->key : "");
        strbuf_putc(b, ' ');
        if (emit_inline(b, c)) {
            end_line(b, c, origins);
            continue;
        }
        b->s[--b->len] = '\0'; /* no trailing space before a nested block */
        strbuf_putc(b, '\n');
        if (c->kind == CFG_MAP)
            emit_map(b, c, indent + 2, 0, origins);
        else
            emit_seq(b, c, indent + 2, 0, origins);
    }
}

static void emit_seq(StrBuf *b, const CfgNode *seq, int indent, int first_inline, int origins) {
    for (int i = 0; i < seq->count; i++) {
        const CfgNode *c = seq->items[i];
        if (i > 0 || !first_inline) indent_to(b, indent);
        strbuf_puts(b, "- ");
        if (emit_inline(b, c))
            end_line(b, c, origins);
        else if (c->kind == CFG_MAP)
            emit_map(b, c, indent + 2, 1, origins);
        else
            emit_seq(b, c, indent + 2, 1, origins);
    }
}

static char *emit_yaml(const CfgNode *root, int origins) {
    StrBuf b = {0};
    if (!root) return cfg_strdup("");
    if (emit_inline(&b, root))
        strbuf_putc(&b, '\n');
    else if (root->kind == CFG_MAP)
        emit_map(&b, root, 0, 0, origins);
    else
        emit_seq(&b, root, 0, 0, origins);
    return b.s ? b.s : cfg_strdup("");
}

char *cfg_emit_yaml_string(const CfgNode *root) { return emit_yaml(root, 0); }

char *cfg_emit_yaml_origins(const CfgNode *root) { return emit_yaml(root, 1); }

void cfg_emit_yaml(const CfgNode *root, FILE *out) {
    char *s = cfg_emit_yaml_string(root);
    fputs(s, out);
    free(s);
}

/* ---- flow text ---------------------------------------------------------------------------- */

static void emit_flow(StrBuf *b, const CfgNode *n) {
    if (n->kind == CFG_SCALAR) {
        emit_scalar(b, n);
        return;
    }
    strbuf_putc(b, n->kind == CFG_SEQ ? '[' : '{');
    for (int i = 0; i < n->count; i++) {
        if (i) strbuf_puts(b, ", ");
        if (n->kind == CFG_MAP) {
            emit_key(b, n->items[i]->key ? n->items[i]->key : "");
            strbuf_putc(b, ' ');
        }
        emit_flow(b, n->items[i]);
    }
    strbuf_putc(b, n->kind == CFG_SEQ ? ']' : '}');
}

char *cfg_emit_flow_string(const CfgNode *value) {
    StrBuf b = {0};
    if (value) emit_flow(&b, value);
    return b.s ? b.s : cfg_strdup("");
}
