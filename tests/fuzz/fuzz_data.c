/* fuzz_data.c — libFuzzer target for the data readers: IDX images and labels (plain and gzip),
 * CSV (with and without a header, with a label column) and text (with its vocabulary and token
 * stream). The first byte picks the reader, the rest is the file. (HDF5 files are left out: a
 * crafted file can crash the HDF5 1.10 library's own parser, which is not exprun's to fix.) Every input
 * must end in a dataset or a clear error: no crash, no leak, no hang, and no allocation the file
 * does not justify (run with -rss_limit_mb and -malloc_limit_mb). Built by tests/fuzz/build.sh. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/csv.h"
#include "data/dataset.h"
#include "data/idx.h"
#include "data/text.h"

static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    if (!path[0]) snprintf(path, sizeof path, "/tmp/fuzz-data-%d", (int)getpid());
    FILE *f = fopen(path, "wb");
    if (!f) return 0;
    fwrite(data + 1, 1, size - 1, f);
    fclose(f);
    ExError err;
    Dataset ds;
    switch (data[0] % 5) {
    case 0:
        if (idx_load_images(path, &ds, &err) == 0) dataset_free(&ds);
        break;
    case 1: {
        int32_t *labels = NULL;
        int n, k;
        if (idx_load_labels(path, &labels, &n, &k, &err) == 0) free(labels);
        break;
    }
    case 2: {
        CsvOptions opt = {.header = 1, .label_column = "label"};
        if (csv_load(path, &opt, &ds, &err) == 0) dataset_free(&ds);
        break;
    }
    case 3: {
        CsvOptions opt = {.header = 0};
        if (csv_load(path, &opt, &ds, &err) == 0) dataset_free(&ds);
        break;
    }
    case 4: {
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (text_load(path, 0, &bytes, &len, &err) == 0) {
            Vocab v;
            vocab_build(&v, bytes, len);
            TokenStream s;
            if (stream_init(&s, &v, bytes, len, 0, path, &err) >= 0) {
                if (stream_check(&s, 2, 4, path, &err) == 0 && stream_batches_per_epoch(&s, 2, 4) > 0) {
                    int32_t x[8], y[8];
                    stream_batch(&s, 2, 4, 0, x, y);
                }
                stream_free(&s);
            }
            free(bytes);
        }
        break;
    }
    }
    return 0;
}
