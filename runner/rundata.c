#include "rundata.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/csv.h"
#include "data/h5data.h"
#include "data/idx.h"
#include "data/tasks.h"

/* One tabular file (IDX, CSV or HDF5) into a Dataset. */
static int load_table(const DataSpec *d, const char *path, const char *labels, Dataset *out,
                      ExError *err) {
    switch (d->source) {
    case DATA_IDX: return idx_load(path, labels && *labels ? labels : NULL, out, err);
    case DATA_CSV: {
        CsvOptions opt = {0};
        opt.header = d->header;
        opt.label_column = d->label_column[0] ? d->label_column : NULL;
        return csv_load(path, &opt, out, err);
    }
    case DATA_HDF5:
        return h5data_load(path, d->dataset, d->labels_dataset[0] ? d->labels_dataset : NULL, out, err);
    default: return ex_fail(err, "internal: not a tabular source");
    }
}

/* Keep only the first `limit` rows (data.limit), for quick runs on big files. */
static void apply_limit(Dataset *ds, int limit) {
    if (limit <= 0 || limit >= ds->n) return;
    int32_t *rows = malloc((size_t)limit * sizeof *rows);
    for (int i = 0; i < limit; i++) rows[i] = i;
    Dataset cut = dataset_slice(ds, rows, limit);
    free(rows);
    dataset_free(ds);
    *ds = cut;
}

/* data.exclude_class: drop every row of that class (the anomaly detector's normal data). */
static int exclude_class(Dataset *ds, int cls, ExError *err) {
    if (cls < 0) return 0;
    if (!ds->labels)
        return ex_fail(err, "%s: data.exclude_class needs labels (data.labels, data.label_column or "
                            "data.labels_dataset)", ds->source);
    int32_t *rows = malloc((size_t)(ds->n > 0 ? ds->n : 1) * sizeof *rows);
    int keep = 0;
    for (int i = 0; i < ds->n; i++)
        if (ds->labels[i] != cls) rows[keep++] = i;
    if (keep == ds->n || keep == 0) {
        free(rows);
        return ex_fail(err, "%s: data.exclude_class %d %s (classes 0..%d)", ds->source, cls,
                       keep == 0 ? "would leave no training examples" : "does not occur in the labels",
                       ds->num_classes - 1);
    }
    Dataset cut = dataset_slice(ds, rows, keep);
    free(rows);
    dataset_free(ds);
    *ds = cut;
    return 0;
}

/* Cross-entropy compares x̂ in (0,1) with targets that must lie in [0,1] too. */
static int check_unit_range(const Dataset *ds, const char *which, ExError *err) {
    size_t n = (size_t)ds->n * ds->T * ds->d;
    for (size_t i = 0; i < n; i++)
        if (!(ds->x[i] >= 0.0f && ds->x[i] <= 1.0f))
            return ex_fail(err,
                           "%s: %s value %g (row %zu) is outside [0,1], but loss cross_entropy needs "
                           "targets in [0,1] (set data.scale: unit, or data.binarize: true)",
                           ds->source, which, (double)ds->x[i], i / ((size_t)ds->T * ds->d));
    return 0;
}

static int load_tabular(const Spec *spec, RunData *rd, ExError *err) {
    const DataSpec *d = &spec->data;
    Dataset all = {0};
    if (load_table(d, d->path, d->labels, &all, err) != 0) return -1;
    if (exclude_class(&all, d->exclude_class, err) != 0) {
        dataset_free(&all);
        return -1;
    }
    apply_limit(&all, d->limit);
    Rng split_rng = rng_stream(spec->seed, "split");
    dataset_split_moving(&all, d->validation_fraction, &split_rng, &rd->train, &rd->val);
    if (d->test_path[0] && load_table(d, d->test_path, d->test_labels, &rd->test, err) != 0) return -1;
    if (rd->test.n > 0 && rd->test.d != rd->train.d)
        return ex_fail(err, "%s has %d features per example but %s has %d", d->test_path, rd->test.d,
                       d->path, rd->train.d);
    scaler_fit(&rd->scaler, d->scale, &rd->train);
    Dataset *sets[3] = {&rd->train, &rd->val, &rd->test};
    for (int i = 0; i < 3; i++) {
        if (sets[i]->n == 0) continue;
        scaler_apply(&rd->scaler, sets[i]);
        if (d->binarize) dataset_binarize(sets[i], (float)d->binarize_threshold);
    }
    if (d->as_sequence) {
        /* Sequential images: row r of an image is time step r, its pixels the features. The
         * scaling above was per pixel; this only changes how the same numbers are read. */
        if (rd->train.image_rows <= 0)
            return ex_fail(err, "%s: data.as_sequence needs image files (IDX with rows and columns)", d->path);
        for (int i = 0; i < 3; i++) {
            if (sets[i]->n == 0) continue;
            int rows = rd->train.image_rows, cols = rd->train.image_cols;
            sets[i]->T = rows;
            sets[i]->d = cols;
        }
        if (!rd->train.labels)
            return ex_fail(err, "%s: classifying image sequences needs labels (data.labels)", d->path);
    }
    /* Binary cross-entropy's targets are the inputs x (the families that take it rebuild x). */
    if (spec->loss == LOSS_CROSS_ENTROPY) {
        if (check_unit_range(&rd->train, "training", err) != 0) return -1;
        if (rd->test.n && check_unit_range(&rd->test, "test", err) != 0) return -1;
    }
    rd->n_input = rd->train.T * rd->train.d;
    rd->n_classes = rd->train.num_classes;
    if (rd->test.n > 0 && rd->train.labels && rd->test.labels && rd->test.num_classes > rd->train.num_classes)
        rd->train.num_classes = rd->n_classes = rd->test.num_classes;
    return 0;
}

int rundata_load_file(const Spec *spec, const RunData *rd, const char *path, const char *labels, Dataset *out,
                      ExError *err) {
    const DataSpec *d = &spec->data;
    memset(out, 0, sizeof *out);
    if (d->source != DATA_IDX && d->source != DATA_CSV && d->source != DATA_HDF5)
        return ex_fail(err, "%s: only runs on idx, csv or hdf5 data can read another file", path);
    if (load_table(d, path, labels, out, err) != 0) return -1;
    if (out->T != rd->train.T || out->d != rd->train.d) {
        ex_fail(err, "%s has %d x %d values per example but the run's data %s has %d x %d", path, out->T, out->d,
                d->path, rd->train.T, rd->train.d);
        dataset_free(out);
        return -1;
    }
    if (out->n == 0) return 0;
    scaler_apply(&rd->scaler, out);
    if (d->binarize) dataset_binarize(out, (float)d->binarize_threshold);
    if (spec->loss == LOSS_CROSS_ENTROPY && check_unit_range(out, "input", err) != 0) {
        dataset_free(out);
        return -1;
    }
    return 0;
}

/* Character text: the vocabulary comes from the training part (the text minus its final
 * validation_fraction); validation characters training never saw become a space (or id 0). */
static int load_text(const Spec *spec, RunData *rd, ExError *err) {
    const DataSpec *d = &spec->data;
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (text_load(d->path, (size_t)d->max_bytes, &bytes, &len, err) != 0) return -1;
    size_t n_val = (size_t)floor((double)len * d->validation_fraction);
    size_t n_train = len - n_val;
    vocab_build(&rd->vocab, bytes, n_train);
    rd->has_vocab = 1;
    if (rd->vocab.size < 2) {
        free(bytes);
        return ex_fail(err, "%s: the training text has %d distinct byte%s: a model that predicts the next one "
                            "needs at least 2", d->path, rd->vocab.size, rd->vocab.size == 1 ? "" : "s");
    }
    int unknown = rd->vocab.id_of[' '] >= 0 ? rd->vocab.id_of[' '] : 0;
    int rc = stream_init(&rd->train_stream, &rd->vocab, bytes, n_train, unknown, d->path, err);
    if (rc == 0 && n_val > 1)
        rc = stream_init(&rd->val_stream, &rd->vocab, bytes + n_train, n_val, unknown, d->path, err) < 0 ? -1 : 0;
    free(bytes);
    if (rc < 0) return -1;
    int B = spec->train.batch_size, T = d->seq_len;
    if (stream_check(&rd->train_stream, B, T, d->path, err) != 0) return -1;
    rd->n_classes = rd->vocab.size;
    if (d->bptt == BPTT_TRUNCATED) {
        rd->is_stream = 1;
        return 0;
    }
    /* Full BPTT: independent windows, shuffled by the batcher. */
    if (text_windows(&rd->train_stream, T, T, d->path, &rd->train, err) != 0) return -1;
    if (rd->val_stream.len > (size_t)T + 1 &&
        text_windows(&rd->val_stream, T, T, d->path, &rd->val, err) != 0)
        return -1;
    return 0;
}

/* Forecasting windows from one dated CSV series, or several (data.filter_value "A,B,C"): each
 * value of the filter is its own series; they must end on the same date, because they share
 * one final test period (series.h). */
static int load_series(const Spec *spec, RunData *rd, ExError *err) {
    const DataSpec *d = &spec->data;
    SeriesOptions opt = {.window = d->window, .horizon = d->horizon, .test_fraction = d->test_fraction,
                         .validation_fraction = d->validation_fraction};
    opt.transform = d->transform;
    opt.scale = d->scale;
    char names[sizeof d->filter_value];
    snprintf(names, sizeof names, "%s", d->filter_value);
    enum { MAX_SERIES = 256 };
    const char *keys[MAX_SERIES];
    int n = 0;
    if (!d->filter_column[0]) keys[n++] = NULL;
    else
        for (char *save = NULL, *tok = strtok_r(names, ",", &save); tok && n < MAX_SERIES;
             tok = strtok_r(NULL, ",", &save)) {
            while (*tok == ' ') tok++;
            size_t len = strlen(tok);
            while (len > 0 && tok[len - 1] == ' ') tok[--len] = '\0';
            if (len) keys[n++] = tok;
        }
    if (n == 0) return ex_fail(err, "data.filter_value names no series");
    CsvSeries *loaded = calloc((size_t)n, sizeof *loaded);
    SeriesInput *inputs = calloc((size_t)n, sizeof *inputs);
    int rc = 0, got = 0;
    for (; got < n && rc == 0; got++) {
        rc = csv_load_series(d->path, d->date_column, d->value_column, keys[got] ? d->filter_column : NULL,
                             keys[got], &loaded[got], err);
        if (rc != 0) break;
        inputs[got] = (SeriesInput){loaded[got].values, loaded[got].n, (const char *const *)loaded[got].dates};
        const CsvSeries *a = &loaded[0], *b = &loaded[got];
        if (got > 0 && strcmp(a->dates[a->n - 1], b->dates[b->n - 1]) != 0)
            rc = ex_fail(err, "%s: %s ends on %s but %s on %s: series that share one test period must end on "
                              "the same date", d->path, keys[0], a->dates[a->n - 1], keys[got], b->dates[b->n - 1]);
    }
    char source[600];
    if (n == 1) snprintf(source, sizeof source, "%s", loaded[0].source);
    else snprintf(source, sizeof source, "%.300s (%.100s = %.150s)", d->path, d->filter_column, d->filter_value);
    if (rc == 0)
        rc = series_prepare(inputs, n, &opt, source, &rd->train, &rd->val, &rd->test, &rd->series, err);
    for (int i = 0; i < got; i++) csv_series_free(&loaded[i]);
    free(loaded);
    free(inputs);
    if (rc != 0) return -1;
    rd->is_series = 1;
    rd->n_input = 1;
    return 0;
}

static int generate_task(const DataSpec *d, Dataset *out, int n, Rng *rng, ExError *err) {
    switch (d->source) {
    case DATA_ADDING: return task_adding(out, n, d->length, rng, err);
    case DATA_COPY: return task_copy(out, n, d->copy_length, d->length, d->alphabet, rng, err);
    default: return task_parity(out, n, d->length, rng, err);
    }
}

static int load_task(const Spec *spec, RunData *rd, ExError *err) {
    const DataSpec *d = &spec->data;
    Rng rng = rng_stream(spec->seed, "data");
    Dataset all = {0};
    int n_val = (int)floor(d->train_size * d->validation_fraction);
    int n_all = d->train_size;
    int rc = generate_task(d, &all, n_all, &rng, err);
    if (rc != 0) return -1;
    int32_t *rows = malloc((size_t)n_all * sizeof *rows);
    for (int i = 0; i < n_all; i++) rows[i] = i;
    rd->train = dataset_slice(&all, rows, n_all - n_val);
    if (n_val > 0) rd->val = dataset_slice(&all, rows + (n_all - n_val), n_val);
    free(rows);
    dataset_free(&all);
    rc = generate_task(d, &rd->test, d->test_size, &rng, err);
    if (rc != 0) return -1;
    rd->n_input = rd->train.d;
    rd->n_classes = rd->train.vocab;
    return 0;
}

/* Sequence to sequence: training, validation and test examples are drawn in ONE call, all
 * distinct (tasks.h), and cut in that order — so no test input ever occurs in training. */
static int load_seq2seq_task(const Spec *spec, RunData *rd, ExError *err) {
    const DataSpec *d = &spec->data;
    Rng rng = rng_stream(spec->seed, "data");
    Dataset all = {0};
    int n_all = d->train_size + d->test_size;
    int n_val = (int)floor(d->train_size * d->validation_fraction);
    int rc = d->source == DATA_REVERSE
                 ? task_reverse(&all, n_all, d->alphabet, d->min_length, d->max_length, &rng, err)
                 : task_addition(&all, n_all, d->digits, d->reversed_digits, &rng, err);
    if (rc != 0) return ex_prefix(err, "data (train_size + test_size = %d): ", n_all);
    int32_t *rows = malloc((size_t)n_all * sizeof *rows);
    for (int i = 0; i < n_all; i++) rows[i] = i;
    int n_train = d->train_size - n_val;
    rd->train = dataset_slice(&all, rows, n_train);
    if (n_val > 0) rd->val = dataset_slice(&all, rows + n_train, n_val);
    rd->test = dataset_slice(&all, rows + d->train_size, d->test_size);
    free(rows);
    dataset_free(&all);
    rd->n_input = 0;
    rd->n_classes = rd->train.vocab;
    rd->token_chars = d->source == DATA_REVERSE ? REVERSE_CHARS : ADDITION_CHARS;
    return 0;
}

int rundata_load(const Spec *spec, RunData *rd, ExError *err) {
    memset(rd, 0, sizeof *rd);
    int rc = -1;
    switch (spec->data.source) {
    case DATA_IDX:
    case DATA_CSV:
    case DATA_HDF5: rc = load_tabular(spec, rd, err); break;
    case DATA_TEXT: rc = load_text(spec, rd, err); break;
    case DATA_ADDING:
    case DATA_COPY:
    case DATA_PARITY: rc = load_task(spec, rd, err); break;
    case DATA_SERIES: rc = load_series(spec, rd, err); break;
    case DATA_REVERSE:
    case DATA_ADDITION: rc = load_seq2seq_task(spec, rd, err); break;
    default: rc = ex_fail(err, "internal: unknown data source");
    }
    if (rc != 0) rundata_free(rd);   /* what loaded before the failure (valgrind found it) */
    return rc;
}

void rundata_free(RunData *rd) {
    dataset_free(&rd->train);
    dataset_free(&rd->val);
    dataset_free(&rd->test);
    stream_free(&rd->train_stream);
    stream_free(&rd->val_stream);
    scaler_free(&rd->scaler);
    series_meta_free(&rd->series);
    memset(rd, 0, sizeof *rd);
}
