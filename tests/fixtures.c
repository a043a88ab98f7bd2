#include "fixtures.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5doc.h"
#include "rng.h"

SeqModelConfig fixture_seqmodel(void) {
    SeqModelConfig c;
    memset(&c, 0, sizeof c);
    c.cell = CELL_LSTM;
    c.rnn_form = RNN_LECTURE;
    c.rnn_act = ACT_TANH;
    c.gru_variant = GRU_CHO;
    c.num_layers = 1;
    c.hidden[0] = 128;
    c.forget_bias = 1.0f;
    c.init_state = SEQ_INIT_ZERO;
    c.input = SEQ_INPUT_EMBED;
    c.head = SEQ_HEAD_PER_STEP;
    c.loss = LOSS_SOFTMAX_CROSS_ENTROPY;
    return c;
}

Seq2SeqConfig fixture_seq2seq(void) {
    Seq2SeqConfig c;
    memset(&c, 0, sizeof c);
    c.cell = CELL_GRU;
    c.gru_variant = GRU_PYTORCH;
    c.num_layers = 1;
    c.hidden[0] = 128;
    c.forget_bias = 1.0f;
    c.recurrent_gain = 1.0f;
    c.embed_dim = 32;
    c.beam_width = 1;
    c.pad_token = c.go_token = c.end_token = -1;
    return c;
}

OneToManyConfig fixture_onetomany(void) {
    OneToManyConfig c;
    memset(&c, 0, sizeof c);
    c.cell = CELL_LSTM;
    c.gru_variant = GRU_PYTORCH;
    c.num_layers = 1;
    c.hidden[0] = 128;
    c.forget_bias = 1.0f;
    c.recurrent_gain = 1.0f;
    c.loss = LOSS_CROSS_ENTROPY;
    return c;
}

static void write_be32(FILE *f, uint32_t v) {
    unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16), (unsigned char)(v >> 8), (unsigned char)v};
    fwrite(b, 1, 4, f);
}

int fixture_write_idx(const char *images, const char *labels, int n, int rows, int cols, int classes) {
    FILE *fi = fopen(images, "wb"), *fl = fopen(labels, "wb");
    if (!fi || !fl) {
        if (fi) fclose(fi);
        if (fl) fclose(fl);
        return -1;
    }
    write_be32(fi, 0x803), write_be32(fi, (uint32_t)n), write_be32(fi, (uint32_t)rows), write_be32(fi, (uint32_t)cols);
    write_be32(fl, 0x801), write_be32(fl, (uint32_t)n);
    Rng rng;
    rng_seed(&rng, 12);
    for (int i = 0; i < n; i++) {
        int k = i % classes;
        unsigned char label = (unsigned char)k;
        fwrite(&label, 1, 1, fl);
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) {
                unsigned char v = (unsigned char)(r % classes == k ? 200 + rng_below(&rng, 50) : rng_below(&rng, 30));
                fwrite(&v, 1, 1, fi);
            }
    }
    int bad = ferror(fi) || ferror(fl);
    bad |= fclose(fi) != 0;
    bad |= fclose(fl) != 0;
    return bad ? -1 : 0;
}

void fixture_write_h5(const char *path, const float *x, const int32_t *labels, int n, int d) {
    H5Doc *doc = h5doc_new();
    int shape[2] = {n, d};
    h5doc_floats(doc, "/x", 2, shape, x);
    if (labels) h5doc_int32s(doc, "/y", 1, shape, labels);
    ExError err;
    if (h5doc_publish(doc, path, &err) != 0) {
        fprintf(stderr, "fixture_write_h5: %s\n", err.msg);
        exit(1);
    }
    h5doc_free(doc);
}

void fixture_write_idx_squares(const char *path, Rng *r) {
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    unsigned char head[16] = {0, 0, 8, 3, 0, 0, 0, 120, 0, 0, 0, 8, 0, 0, 0, 8};
    fwrite(head, 1, 16, f);
    for (int i = 0; i < 120; i++) {
        unsigned char img[64] = {0};
        int a = (int)(rng_uniform(r) * 5), b = (int)(rng_uniform(r) * 5);
        for (int u = 0; u < 3; u++)
            for (int v = 0; v < 3; v++) img[(a + u) * 8 + b + v] = 255;
        fwrite(img, 1, 64, f);
    }
    if (fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

void fixture_write_uniform_h5(const char *path, int n, int d, Rng *r) {
    float *x = malloc((size_t)n * (size_t)d * sizeof *x);
    for (size_t i = 0; i < (size_t)n * (size_t)d; i++) x[i] = rng_uniform(r);
    fixture_write_h5(path, x, NULL, n, d);
    free(x);
}
