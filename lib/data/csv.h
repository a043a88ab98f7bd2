/* csv.h — numeric tables and dated series from CSV files.
 *
 * Syntax accepted: one record per line (LF or CRLF), fields separated by one delimiter
 * character, a field may be double-quoted ("a, b" and "" for a quote inside; a quoted field
 * cannot span lines), a UTF-8 byte-order mark at the start is ignored, blank lines are skipped.
 * Numbers are what strtod reads (surrounding spaces allowed), finite.
 *
 * Every defect is an error naming file:line, and the column (by name when there is a header):
 * a ragged row ("4 fields, expected 5"), a non-numeric cell, a missing column, an empty file. */
#ifndef EXPRUN_CSV_H
#define EXPRUN_CSV_H

#include "dataset.h"
#include "error.h"

typedef struct CsvOptions {
    int header;                  /* 1: the first record names the columns */
    char delimiter;              /* 0 means ',' */
    const char *label_column;    /* a header name or a 0-based index ("4"); NULL: no labels */
    const char *const *columns;  /* feature columns, by name or index, in this order;
                                  * NULL: every column except the label column and the columns
                                  * of text (a date, a name: left out by themselves); a column
                                  * of numbers with text in some row is an error naming that cell */
    int n_columns;
} CsvOptions;

/* Table → out: x (n, 1, d) with d feature columns, T = 1; labels (n) when a label column is
 * given (cells must be integers ≥ 0; num_classes = max + 1), else labels NULL. */
int csv_load(const char *path, const CsvOptions *opt, Dataset *out, ExError *err);

/* ---- dated series (vega-datasets stocks.csv `symbol,date,price`, sp500.csv `date,price`) ---- */
typedef struct CsvSeries {
    char source[512];
    int n;
    float *values;               /* (n) the value column, in file order */
    char **dates;                /* (n) the date column's text, as written ("Jan 1 2000") */
} CsvSeries;

/* Read a numeric column and a date column (both by header name) from a comma-separated file
 * with a header. With filter_column non-NULL only records whose filter_column equals
 * filter_value are kept (stocks.csv: filter "symbol" = "MSFT"); none matching is an error
 * that lists the values present. */
int csv_load_series(const char *path, const char *date_column, const char *value_column,
                    const char *filter_column, const char *filter_value, CsvSeries *out, ExError *err);
void csv_series_free(CsvSeries *s);

/* Sliding windows over a series for next-value forecasting: window i is v[i .. i+T), so
 * n = len − T windows, x (n, T, 1). Targets: per_step = 0 → y (n, 1, 1) = v[i+T] (the value
 * after the window); per_step = 1 → y (n, T, 1) = v[i+1 .. i+T+1) (the next value at every step). */
int series_windows(const float *values, int len, int T, int per_step, const char *source, Dataset *out,
                   ExError *err);

#endif
