/* rundata.h — the data of one run, loaded as the spec says: training, validation and test sets
 * (or, for truncated BPTT over text, token streams), scaled with statistics of the training
 * split only. */
#ifndef EXPRUN_RUNDATA_H
#define EXPRUN_RUNDATA_H

#include "data/dataset.h"
#include "data/series.h"
#include "data/text.h"
#include "spec/spec.h"

typedef struct RunData {
    Dataset train, val, test;        /* val/test have n = 0 when absent */
    int is_stream;                   /* text with truncated BPTT: use the streams below */
    TokenStream train_stream, val_stream;
    int has_vocab;
    Vocab vocab;
    Scaler scaler;
    int n_input;                     /* features per example (autoencoders) or per step */
    int n_classes;                   /* labels' classes, or the vocabulary size for tokens */
    int is_series;                   /* forecasting windows: series below maps outputs to values */
    SeriesMeta series;
    const char *token_chars;         /* the characters of token ids (generated seq2seq tasks), or NULL */
} RunData;

int rundata_load(const Spec *spec, RunData *rd, ExError *err);
/* Another file in the run's tabular format (labels: an IDX labels file, or NULL), prepared as the
 * run's test set is: scaled with the training split's scaler, binarized if the spec says so, and
 * checked to have the run's shape (for `exprun encode`). */
int rundata_load_file(const Spec *spec, const RunData *rd, const char *path, const char *labels, Dataset *out,
                      ExError *err);
void rundata_free(RunData *rd);

#endif
