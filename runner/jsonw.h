/* jsonw.h — writing JSON values to a stream: strings escaped per RFC 8259 (and "</" written as
 * "<\/", so the text can sit inside an HTML <script> element), numbers with NaN and infinities as
 * null (JSON has no word for them). */
#ifndef EXPRUN_JSONW_H
#define EXPRUN_JSONW_H

#include <stdio.h>

void json_string(FILE *out, const char *s);
/* A number with `digits` significant digits (7 keeps a float's), or null when not finite. */
void json_number(FILE *out, double v, int digits);

#endif
