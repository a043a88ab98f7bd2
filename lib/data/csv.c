/* csv.c — CSV tables and series (syntax in csv.h).
 *
 * The file is read whole, then walked record by record; each record is split in place into
 * fields (quotes removed), so a cell is a NUL-terminated string inside the buffer. */
#include "csv.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct CsvReader {
    const char *path;
    char *buf;          /* the whole file, NUL-terminated */
    size_t len;
    size_t pos;         /* start of the next line */
    int line;           /* 1-based number of the record last returned */
    char delim;
    char **fields;      /* the current record's cells */
    int nfields, cap;
} CsvReader;

static int reader_open(CsvReader *r, const char *path, char delim, ExError *err) {
    memset(r, 0, sizeof *r);
    r->path = path;
    r->delim = delim ? delim : ',';
    FILE *fp = fopen(path, "rb");
    if (!fp) return ex_fail(err, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, len = 0;
    char *buf = ex_malloc(cap);
    for (;;) {
        if (len + 1 >= cap) {
            cap *= 2;
            char *grown = realloc(buf, cap);
            if (!grown) {
                free(buf);
                fclose(fp);
                return ex_fail(err, "%s: out of memory reading the file", path);
            }
            buf = grown;
        }
        size_t got = fread(buf + len, 1, cap - 1 - len, fp);
        len += got;
        if (got == 0) break;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        return ex_fail(err, "%s: read error", path);
    }
    buf[len] = '\0';
    r->buf = buf;
    r->len = len;
    /* A UTF-8 byte-order mark (written by some spreadsheets) is not part of the first name. */
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
        (unsigned char)buf[2] == 0xBF)
        r->pos = 3;
    return 0;
}

static void reader_close(CsvReader *r) {
    free(r->buf);
    free(r->fields);
    memset(r, 0, sizeof *r);
}

static void push_field(CsvReader *r, char *cell) {
    if (r->nfields == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        r->fields = realloc(r->fields, (size_t)r->cap * sizeof(char *));
        if (!r->fields) abort(); /* out of memory while splitting a line: nothing to recover */
    }
    r->fields[r->nfields++] = cell;
}

/* Split one line (already NUL-terminated, without its newline) into r->fields in place. */
static int split_line(CsvReader *r, char *s, ExError *err) {
    r->nfields = 0;
    for (;;) {
        char *cell = s, *out = s;
        /* Leading spaces before an opening quote are allowed ( "a" ). */
        char *q = s;
        while (*q == ' ' || *q == '\t') q++;
        if (*q == '"') {
            s = q + 1;
            cell = out = q;
            for (;;) {
                if (*s == '\0')
                    return ex_fail(err, "%s:%d: unterminated quoted field (quoted fields cannot span lines)",
                                   r->path, r->line);
                if (*s == '"') {
                    if (s[1] == '"') {
                        *out++ = '"';
                        s += 2;
                        continue;
                    }
                    s++;
                    break;
                }
                *out++ = *s++;
            }
            while (*s == ' ' || *s == '\t') s++;
            if (*s != '\0' && *s != r->delim)
                return ex_fail(err, "%s:%d: text after the closing quote of field %d", r->path, r->line,
                               r->nfields + 1);
        } else {
            while (*s != '\0' && *s != r->delim) s++;
            out = s;
        }
        char next = *s;
        *out = '\0';
        push_field(r, cell);
        if (next == '\0') return 0;
        s++; /* past the delimiter */
    }
}

/* Next non-blank record into r->fields; returns 1, 0 at end of file, -1 on a syntax error. A
 * line ends at LF, CR LF or a lone CR (old Mac files: before, a CR-only file was one line). */
static int reader_next(CsvReader *r, ExError *err) {
    while (r->pos < r->len) {
        char *start = r->buf + r->pos;
        size_t rest = r->len - r->pos, n = 0;
        while (n < rest && start[n] != '\n' && start[n] != '\r') n++;
        size_t eol = n == rest ? 0 : start[n] == '\r' && n + 1 < rest && start[n + 1] == '\n' ? 2 : 1;
        r->pos += n + eol;
        r->line++;
        start[n] = '\0';
        int blank = 1;
        for (size_t i = 0; i < n && blank; i++)
            if (!isspace((unsigned char)start[i])) blank = 0;
        if (blank) continue;
        if (memchr(start, '\0', n) != NULL)
            return ex_fail(err, "%s:%d: NUL byte in the line: not a text file?", r->path, r->line);
        if (split_line(r, start, err) != 0) return -1;
        return 1;
    }
    return 0;
}

static int parse_float(const char *cell, float *v) {
    const char *s = cell;
    while (isspace((unsigned char)*s)) s++;
    if (*s == '\0') return -1;
    char *end;
    errno = 0;
    double x = strtod(s, &end);
    while (isspace((unsigned char)*end)) end++;
    if (*end != '\0' || end == s || !isfinite(x) || fabs(x) > 3.4e38) return -1;
    *v = (float)x;
    return 0;
}

static int parse_label(const char *cell, int32_t *v) {
    const char *s = cell;
    while (isspace((unsigned char)*s)) s++;
    if (!isdigit((unsigned char)*s)) return -1;
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    while (isspace((unsigned char)*end)) end++;
    if (*end != '\0' || errno || x > DATA_MAX_CLASS_ID) return -1;
    *v = (int32_t)x;
    return 0;
}

/* Column names for messages: from the header, or "column 3" without one. */
typedef struct Header {
    int count;
    char **names;       /* (count) malloc'd copies, or NULL without a header */
} Header;

static void header_free(Header *h) {
    for (int i = 0; h->names && i < h->count; i++) free(h->names[i]);
    free(h->names);
    memset(h, 0, sizeof *h);
}

static const char *col_name(const Header *h, int j, char *buf, size_t cap) {
    if (h->names) snprintf(buf, cap, "'%s'", h->names[j]);
    else snprintf(buf, cap, "%d", j);
    return buf;
}

static char *dup_trimmed(const char *s) {
    while (isspace((unsigned char)*s)) s++;
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1])) n--;
    char *out = ex_malloc(n + 1);
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

/* A column named by header name, or by a 0-based index written in decimal. */
static int resolve_column(const CsvReader *r, const Header *h, const char *spec, int *col, ExError *err) {
    if (h->names)
        for (int j = 0; j < h->count; j++)
            if (strcmp(h->names[j], spec) == 0) {
                *col = j;
                return 0;
            }
    const char *s = spec;
    int digits = *s != '\0';
    for (; *s; s++)
        if (!isdigit((unsigned char)*s)) digits = 0;
    if (digits) {
        long j = strtol(spec, NULL, 10);
        if (j < h->count) {
            *col = (int)j;
            return 0;
        }
        return ex_fail(err, "%s: column index %ld is out of range: the file has %d columns (0..%d)",
                       r->path, j, h->count, h->count - 1);
    }
    if (!h->names)
        return ex_fail(err, "%s: column '%s' named, but the file has no header (use a 0-based index)",
                       r->path, spec);
    char list[1024] = "";
    size_t used = 0;
    for (int j = 0; j < h->count && used + 4 < sizeof list; j++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", j ? ", " : "", h->names[j]);
    return ex_fail(err, "%s: no column '%s' in the header; columns are: %s", r->path, spec, list);
}

/* Read the first record: the header names, or (without a header) just the column count, in
 * which case the record is left in r->fields as the first data row (*pending = 1). */
static int read_header(CsvReader *r, int has_header, Header *h, int *pending, ExError *err) {
    memset(h, 0, sizeof *h);
    *pending = 0;
    int got = reader_next(r, err);
    if (got < 0) return -1;
    if (got == 0) return ex_fail(err, "%s: empty file: no %s", r->path, has_header ? "header" : "data");
    h->count = r->nfields;
    if (has_header) {
        h->names = ex_malloc((size_t)h->count * sizeof(char *));
        for (int j = 0; j < h->count; j++) h->names[j] = dup_trimmed(r->fields[j]);
    } else {
        *pending = 1;
    }
    return 0;
}

static int check_width(const CsvReader *r, const Header *h, int has_header, ExError *err) {
    if (r->nfields == h->count) return 0;
    return ex_fail(err, "%s:%d: %d fields, expected %d (as in %s)", r->path, r->line, r->nfields,
                   h->count, has_header ? "the header" : "the first line");
}

typedef struct Grow {
    void *data;
    size_t count, cap, size;
} Grow;

static void *grow_push(Grow *g, size_t k) {
    if (g->count + k > g->cap) {
        size_t cap = g->cap ? g->cap : 1024;
        while (cap < g->count + k) cap *= 2;
        void *p = realloc(g->data, cap * g->size);
        if (!p) abort(); /* out of memory while loading: nothing to recover */
        g->data = p;
        g->cap = cap;
    }
    void *slot = (char *)g->data + g->count * g->size;
    g->count += k;
    return slot;
}

int csv_load(const char *path, const CsvOptions *opt, Dataset *out, ExError *err) {
    memset(out, 0, sizeof *out);
    CsvOptions none = {0};
    if (!opt) opt = &none;
    CsvReader r;
    if (reader_open(&r, path, opt->delimiter, err) != 0) return -1;
    Header h;
    int pending, rc = -1;
    int *cols = NULL, d = 0, label_col = -1, *text_line = NULL;
    char **text_cell = NULL;
    Grow xs = {.size = sizeof(float)}, ls = {.size = sizeof(int32_t)};
    if (read_header(&r, opt->header, &h, &pending, err) != 0) goto done;
    if (opt->label_column && resolve_column(&r, &h, opt->label_column, &label_col, err) != 0) goto done;

    cols = ex_malloc((size_t)(h.count + opt->n_columns + 1) * sizeof(int));
    if (opt->columns) {
        for (int k = 0; k < opt->n_columns; k++)
            if (resolve_column(&r, &h, opt->columns[k], &cols[d++], err) != 0) goto done;
    }
    int n = 0, top = -1;
    char name[300];
    /* Default features: the columns whose cells are numbers; a column of text (a date, a name)
     * is left out. Which is which is decided by every row, not the first: text_cell[j] holds
     * the first cell of a left-out column, and a number below it is an error naming that cell. */
    text_cell = ex_calloc((size_t)h.count + 1, sizeof *text_cell);
    text_line = ex_calloc((size_t)h.count + 1, sizeof *text_line);
    for (;;) {
        if (!pending) {
            int got = reader_next(&r, err);
            if (got < 0) goto done;
            if (got == 0) break;
        }
        pending = 0;
        if (check_width(&r, &h, opt->header, err) != 0) goto done;
        if (n == 0 && !opt->columns) {
            /* Default features: every column but those whose first data cell is text (a date,
             * a name). An empty first cell does not exclude its column: it is reported below. */
            float v;
            for (int j = 0; j < h.count; j++) {
                const char *c = r.fields[j];
                while (isspace((unsigned char)*c)) c++;
                if (j == label_col) continue;
                if (*c == '\0' || parse_float(c, &v) == 0) {
                    cols[d++] = j;
                } else {
                    text_cell[j] = strdup(r.fields[j]);
                    text_line[j] = r.line;
                }
            }
        } else if (!opt->columns) {
            float v;
            for (int j = 0; j < h.count; j++)
                if (text_cell[j] && parse_float(r.fields[j], &v) == 0) {
                    ex_fail(err, "%s:%d: column %s: '%.200s' is not a number, but the column holds numbers (line %d: "
                                 "'%.40s'): a column is numbers in every row, or text left out of the features",
                            path, text_line[j], col_name(&h, j, name, sizeof name), text_cell[j], r.line, r.fields[j]);
                    goto done;
                }
        }
        if (n == 0 && d == 0) {
            ex_fail(err, "%s:%d: no numeric column to use as features%s", path, r.line,
                    label_col >= 0 ? " besides the label column" : "");
            goto done;
        }
        float *row = grow_push(&xs, (size_t)d);
        for (int k = 0; k < d; k++) {
            const char *cell = r.fields[cols[k]];
            if (parse_float(cell, &row[k]) != 0) {
                ex_fail(err, "%s:%d: column %s: %s", path, r.line, col_name(&h, cols[k], name, sizeof name),
                        *cell ? "not a number: " : "empty cell");
                if (*cell) {
                    size_t len = strlen(err->msg);
                    snprintf(err->msg + len, sizeof err->msg - len, "'%.200s'", cell);
                }
                goto done;
            }
        }
        if (label_col >= 0) {
            int32_t *lab = grow_push(&ls, 1);
            if (parse_label(r.fields[label_col], lab) != 0) {
                ex_fail(err, "%s:%d: label column %s: '%.200s' is not a class id (an integer in [0, 1000000])", path,
                        r.line, col_name(&h, label_col, name, sizeof name), r.fields[label_col]);
                goto done;
            }
            if (*lab > top) top = *lab;
        }
        n++;
    }
    if (n == 0) {
        ex_fail(err, "%s: no data rows%s", path, opt->header ? " after the header" : "");
        goto done;
    }
    snprintf(out->source, sizeof out->source, "%s", path);
    out->n = n;
    out->T = 1;
    out->d = d;
    out->x = xs.data;
    xs.data = NULL;
    if (label_col >= 0) {
        out->labels = ls.data;
        ls.data = NULL;
        out->num_classes = top + 1;
    }
    rc = 0;
done:
    for (int j = 0; text_cell && j < h.count; j++) free(text_cell[j]);
    free(text_cell);
    free(text_line);
    free(xs.data);
    free(ls.data);
    free(cols);
    header_free(&h);
    reader_close(&r);
    return rc;
}

/* ---- series --------------------------------------------------------------------------------- */

void csv_series_free(CsvSeries *s) {
    if (!s) return;
    for (int i = 0; s->dates && i < s->n; i++) free(s->dates[i]);
    free(s->dates);
    free(s->values);
    memset(s, 0, sizeof *s);
}

int csv_load_series(const char *path, const char *date_column, const char *value_column,
                    const char *filter_column, const char *filter_value, CsvSeries *out, ExError *err) {
    memset(out, 0, sizeof *out);
    CsvReader r;
    if (reader_open(&r, path, ',', err) != 0) return -1;
    Header h;
    int pending, rc = -1, date_col, value_col, filter_col = -1;
    Grow vs = {.size = sizeof(float)}, ds = {.size = sizeof(char *)};
    char seen[1024] = "";
    if (read_header(&r, 1, &h, &pending, err) != 0) goto done;
    if (resolve_column(&r, &h, date_column, &date_col, err) != 0) goto done;
    if (resolve_column(&r, &h, value_column, &value_col, err) != 0) goto done;
    if (filter_column && resolve_column(&r, &h, filter_column, &filter_col, err) != 0) goto done;
    for (;;) {
        int got = reader_next(&r, err);
        if (got < 0) goto done;
        if (got == 0) break;
        if (check_width(&r, &h, 1, err) != 0) goto done;
        if (filter_col >= 0) {
            const char *key = r.fields[filter_col];
            if (strcmp(key, filter_value) != 0) {
                /* Remember the distinct keys (they come grouped) for the no-match message. */
                size_t used = strlen(seen), klen = strlen(key);
                char *last = strrchr(seen, ' ');
                const char *prev = last ? last + 1 : seen;
                if (strcmp(prev, key) != 0 && used + klen + 2 < sizeof seen) {
                    if (used) strcat(seen, " ");
                    strcat(seen, key);
                }
                continue;
            }
        }
        float *v = grow_push(&vs, 1);
        if (parse_float(r.fields[value_col], v) != 0) {
            ex_fail(err, "%s:%d: column '%s': not a number: '%.200s'", path, r.line, value_column,
                    r.fields[value_col]);
            goto done;
        }
        char **date = grow_push(&ds, 1);
        *date = dup_trimmed(r.fields[date_col]);
    }
    if (vs.count == 0) {
        if (filter_col >= 0)
            ex_fail(err, "%s: no rows with %s = '%s'; values present: %s", path, filter_column, filter_value,
                    seen[0] ? seen : "(none)");
        else
            ex_fail(err, "%s: no data rows after the header", path);
        goto done;
    }
    if (filter_col >= 0)
        snprintf(out->source, sizeof out->source, "%s (%s = %s)", path, filter_column, filter_value);
    else
        snprintf(out->source, sizeof out->source, "%s", path);
    out->n = (int)vs.count;
    out->values = vs.data;
    out->dates = ds.data;
    vs.data = ds.data = NULL;
    rc = 0;
done:
    free(vs.data);
    for (size_t i = 0; ds.data && i < ds.count; i++) free(((char **)ds.data)[i]);
    free(ds.data);
    header_free(&h);
    reader_close(&r);
    return rc;
}

int series_windows(const float *values, int len, int T, int per_step, const char *source, Dataset *out,
                   ExError *err) {
    memset(out, 0, sizeof *out);
    if (T < 1) return ex_fail(err, "window length must be at least 1, got %d", T);
    if (len <= T)
        return ex_fail(err, "%s: a series of %d values is too short for windows of %d steps plus a target",
                       source ? source : "series", len, T);
    int n = len - T;
    snprintf(out->source, sizeof out->source, "%s (windows of %d)", source ? source : "series", T);
    out->n = n;
    out->T = T;
    out->d = 1;
    out->Ty = per_step ? T : 1;
    out->dy = 1;
    out->x = ex_malloc((size_t)n * (size_t)T * sizeof(float));
    out->y = ex_malloc((size_t)n * (size_t)out->Ty * sizeof(float));
    for (int i = 0; i < n; i++) {
        memcpy(out->x + (size_t)i * (size_t)T, values + i, (size_t)T * sizeof(float));
        if (per_step)
            memcpy(out->y + (size_t)i * (size_t)T, values + i + 1, (size_t)T * sizeof(float));
        else
            out->y[i] = values[i + T];
    }
    return 0;
}
