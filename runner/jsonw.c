/* jsonw.c — JSON strings and numbers (jsonw.h). */
#include "jsonw.h"

#include <math.h>

void json_string(FILE *out, const char *s) {
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(out, "\\%c", *p);
        else if (*p == '/' && p > (const unsigned char *)s && p[-1] == '<') fputs("\\/", out);
        else if (*p == '\n') fputs("\\n", out);
        else if (*p == '\t') fputs("\\t", out);
        else if (*p < 0x20 || *p == 0x7f) fprintf(out, "\\u%04x", *p);
        else fputc(*p, out);
    }
    fputc('"', out);
}

void json_number(FILE *out, double v, int digits) {
    if (!isfinite(v)) fputs("null", out);
    else fprintf(out, "%.*g", digits, v);
}
