/* cfg_internal.h — helpers shared by the cfg_*.c files; not part of the public API. */
#ifndef EXPRUN_CFG_INTERNAL_H
#define EXPRUN_CFG_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>

#include "spec/cfg.h"
#include "strbuf.h"

/* Specs are small, hand-written files: these bounds keep hostile input cheap to reject. */
#define CFG_MAX_DEPTH 32
#define CFG_MAX_BYTES (1024 * 1024)
#define CFG_MAX_KEY 256

char *cfg_strdup(const char *s);
char *cfg_strndup(const char *s, size_t n);

/* Insert child at position index (0..count) of parent's items. */
void cfg_insert(CfgNode *parent, int index, CfgNode *child);

/* Child of a map by key, or NULL. */
CfgNode *cfg_map_find(const CfgNode *map, const char *key);

/* Scalar grammar shared by the validator, the getters and the emitter.
 * Integers: optional sign and decimal digits. Numbers: that, or a decimal with a '.' and/or an
 * exponent (1e-3, 1.0e-3, .5, 5.); no inf/nan, no hex. Return 1 when the text is well formed;
 * *overflow is set when it is well formed but does not fit. */
int cfg_scan_long(const char *text, long *out, int *overflow);
int cfg_scan_double(const char *text, double *out, int *overflow);
/* Would this text, written plainly, mean a number or a boolean to the validator? (Then quoting
 * it changes its meaning, and the emitter and cfg_equal must respect `quoted`.) */
int cfg_text_is_typed(const char *text);

/* Parse a YAML flow value ("512", "[1, 2]", "{a: 1}", "" → empty string) into a node whose
 * positions are offset by col0 and whose file is `file`. Used for overrides and defaults.
 * Returns NULL with a diagnostic (at file, line 0, col) on error. */
CfgNode *cfg_parse_flow_value(const char *text, const char *file, int col0, const char *path,
                              CfgDiags *diags);

void cfg_diag_vadd(CfgDiags *d, const char *file, int line, int col, const char *path,
                   const char *fmt, va_list ap);

/* Sort diags[from..count) by (line, col), keeping the order of equal positions. */
void cfg_diags_sort(CfgDiags *d, int from);

#endif
