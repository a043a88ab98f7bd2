/* predictgen.c — `exprun predict` for the families that write a sequence of their own
 * (predictgen.h): seq2seq decodes its inputs greedily, one_to_many generates from classes. */
#include "predictgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/tasks.h"
#include "h5read.h"
#include "onetomany.h"
#include "seq2seq.h"

/* Input rows as tokens (N, Tx): /tokens as they are, or /text through the task's characters,
 * each row's characters then PAD. */
static int read_s2s_inputs(const char *path, const Seq2SeqConfig *c, const char *chars, int32_t **tokens, int *N,
                           int *Tx, ExError *err) {
    H5Reader *r = NULL;
    if (h5r_open(&r, path, err) != 0) return -1;
    int rc = 0;
    *tokens = NULL;
    if (h5r_exists(r, "/tokens")) {
        int rank = 0;
        int64_t dims[H5R_MAX_RANK] = {0};
        rc = h5r_shape(r, "/tokens", &rank, dims, err);
        if (rc == 0 && rank != 2) rc = ex_fail(err, "%s: /tokens has rank %d, expected 2 (N, Tx)", path, rank);
        if (rc == 0 && (dims[1] < 1 || dims[1] > c->max_Tx))
            rc = ex_fail(err, "%s: /tokens has Tx = %lld steps; this run's encoder takes 1..%d", path,
                         (long long)dims[1], c->max_Tx);
        if (rc == 0) {
            *N = (int)dims[0], *Tx = (int)dims[1];
            *tokens = malloc(((size_t)*N * *Tx + 1) * sizeof **tokens);
            rc = h5r_read_int32s(r, "/tokens", 2, (int[]){*N, *Tx}, *tokens, err);
        }
        for (int i = 0; rc == 0 && i < *N; i++)
            for (int k = 0; rc == 0 && k < *Tx; k++) {
                int32_t t = (*tokens)[(size_t)i * *Tx + k];
                if (t < 0 || t >= c->vocab_in)
                    rc = ex_fail(err, "%s: /tokens[%d][%d] = %d is outside the vocabulary [0, %d)", path, i, k, t,
                                 c->vocab_in);
                else if (k == 0 && t == S2S_PAD)
                    rc = ex_fail(err, "%s: /tokens[%d] is empty (it starts with PAD, %d)", path, i, S2S_PAD);
            }
    } else if (h5r_exists(r, "/text")) {
        size_t n = 0;
        char **texts = NULL;
        rc = h5r_read_strings(r, "/text", &n, &texts, err);
        *N = (int)n, *Tx = c->max_Tx;
        if (rc == 0) *tokens = malloc(((size_t)*N * *Tx + 1) * sizeof **tokens);
        for (size_t i = 0; rc == 0 && i < n; i++) {
            size_t len = strlen(texts[i]);
            if (len < 1 || len > (size_t)*Tx)
                rc = ex_fail(err, "%s: /text[%zu] \"%s\" has %zu characters; this run's encoder takes 1..%d", path, i,
                             texts[i], len, *Tx);
            int n_chars = c->vocab_in - S2S_FIRST_CHAR;   /* the task's alphabet: the first n of chars */
            for (size_t k = 0; rc == 0 && k < (size_t)*Tx; k++) {
                const char *at = k < len ? strchr(chars, texts[i][k]) : NULL;
                if (k < len && (!at || at - chars >= n_chars))
                    rc = ex_fail(err, "%s: /text[%zu] \"%s\": '%c' at %zu is not one of the task's characters \"%.*s\"",
                                 path, i, texts[i], texts[i][k], k, n_chars, chars);
                else (*tokens)[i * *Tx + k] = k < len ? S2S_FIRST_CHAR + (int32_t)(at - chars) : S2S_PAD;
            }
        }
        h5r_free_strings(texts, n);
    } else {
        rc = ex_fail(err, "%s: no /tokens (N, Tx) integers and no /text (N strings): the encoder's inputs", path);
    }
    h5r_close(r);
    if (rc != 0) free(*tokens), *tokens = NULL;
    return rc;
}

int predict_seq2seq(Model *m, const char *chars, const char *input, H5Doc *doc, char *summary, size_t cap,
                    ExError *err) {
    const Seq2SeqConfig *c = seq2seq_config(m);
    int32_t *x = NULL;
    int N = 0, Tx = 0, Ty = c->max_Ty, V = c->vocab_out;
    if (read_s2s_inputs(input, c, chars, &x, &N, &Tx, err) != 0) return PREDICT_BAD_INPUT;
    int32_t *y = malloc(((size_t)N * Ty + 1) * sizeof *y);
    float *logits = malloc(((size_t)N * Ty * V + 1) * sizeof *logits);
    int rc = 0;
    for (int start = 0; rc == 0 && start < N; start += m->max_batch) {
        int count = N - start < m->max_batch ? N - start : m->max_batch;
        if (seq2seq_greedy(m, x + (size_t)start * Tx, count, Tx, Ty, y + (size_t)start * Ty,
                           logits + (size_t)start * Ty * V) != 0)
            rc = ex_fail(err, "%s: rows %d..%d: %s", input, start, start + count - 1, seq2seq_last_error(m));
    }
    if (rc == 0) {
        h5doc_int32s(doc, "/y", 2, (int[]){N, Ty}, y);
        h5doc_attr_str(doc, "/y", "description",
                       "greedy decoding: the argmax token at each step, END (2) from a row's first END on");
        h5doc_floats(doc, "/logits", 3, (int[]){N, Ty, V}, logits);
        h5doc_attr_str(doc, "/logits", "description",
                       "the decoder's z_t (before the softmax) at each greedy step; its input was GO (1), then the "
                       "token chosen at the step before");
        if (chars) {
            char **texts = calloc((size_t)N + 1, sizeof *texts);
            for (int i = 0; i < N; i++) {
                const int32_t *row = y + (size_t)i * Ty;
                int len = 0;   /* up to and with the first END, as results.h5's /examples */
                while (len < Ty && row[len++] != S2S_END) {}
                texts[i] = malloc((size_t)len + 1);
                s2s_tokens_text(texts[i], (size_t)len + 1, row, len, chars);
            }
            h5doc_strings(doc, "/text", (size_t)N, (const char *const *)texts);
            h5doc_attr_str(doc, "/text", "description", "/y as the task's characters, '$' = END");
            for (int i = 0; i < N; i++) free(texts[i]);
            free(texts);
        }
        snprintf(summary, cap, "%d input%s decoded, /y (%d, %d) tokens and /logits (%d, %d, %d)", N, N == 1 ? "" : "s",
                 N, Ty, N, Ty, V);
    }
    free(x), free(y), free(logits);
    return rc == 0 ? PREDICT_OK : PREDICT_FAILED;
}

int predict_onetomany(Model *m, const char *input, H5Doc *doc, char *summary, size_t cap, ExError *err) {
    const OneToManyConfig *c = onetomany_config(m);
    H5Reader *r = NULL;
    if (h5r_open(&r, input, err) != 0) return PREDICT_BAD_INPUT;
    int rank = 0, rc = 0;
    int64_t dims[H5R_MAX_RANK] = {0};
    int32_t *classes = NULL;
    if (!h5r_exists(r, "/classes")) rc = ex_fail(err, "%s: no /classes (N) integers: the classes to generate from", input);
    if (rc == 0) rc = h5r_shape(r, "/classes", &rank, dims, err);
    if (rc == 0 && rank != 1) rc = ex_fail(err, "%s: /classes has rank %d, expected 1 (N)", input, rank);
    int N = rc == 0 ? (int)dims[0] : 0;
    if (rc == 0) {
        classes = malloc(((size_t)N + 1) * sizeof *classes);
        rc = h5r_read_int32s(r, "/classes", 1, (int[]){N}, classes, err);
    }
    for (int i = 0; rc == 0 && i < N; i++)
        if (classes[i] < 0 || classes[i] >= c->n_classes)
            rc = ex_fail(err, "%s: /classes[%d] = %d is not a class of this run's model (0..%d)", input, i, classes[i],
                         c->n_classes - 1);
    h5r_close(r);
    if (rc != 0) {
        free(classes);
        return PREDICT_BAD_INPUT;
    }
    int T = c->steps, d = c->n_out;
    float *y = malloc(((size_t)N * T * d + 1) * sizeof *y);
    for (int start = 0; rc == 0 && start < N; start += m->max_batch) {
        int count = N - start < m->max_batch ? N - start : m->max_batch;
        if (onetomany_generate(m, classes + start, count, y + (size_t)start * T * d) != 0)
            rc = ex_fail(err, "%s: rows %d..%d: %s", input, start, start + count - 1, onetomany_last_error(m));
    }
    if (rc == 0) {
        h5doc_floats(doc, "/y", 3, (int[]){N, T, d}, y);
        h5doc_attr_str(doc, "/y", "description",
                       "generated from each class: y_t = the head's output at step t, fed back as the input of t + 1");
        h5doc_int32s(doc, "/classes", 1, (int[]){N}, classes);
        snprintf(summary, cap, "%d sequence%s generated, /y (%d, %d, %d)", N, N == 1 ? "" : "s", N, T, d);
    }
    free(classes), free(y);
    return rc == 0 ? PREDICT_OK : PREDICT_FAILED;
}
