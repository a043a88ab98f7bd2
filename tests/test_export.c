/* test_export.c — `exprun export` and `exprun predict`: files PyTorch loads under its own names
 * and that give exprun's answers there. Small runs of every recurrent cell torch.nn has (LSTM,
 * PyTorch's GRU, the Elman RNN; a character model each, stacked, one with a one-hot input) and
 * of autoencoders (deep, tied and untied) are exported; scripts/check_export.py reads each file
 * with its own reader (the format: header length, JSON, 8-byte alignment, contiguous tensors),
 * loads it into the torch.nn modules the file's metadata names (load_state_dict, strict: every
 * name and shape) and compares: the greedy text with `exprun sample --temperature 0`, the codes
 * and reconstructions with `exprun encode` (1e-5). A doctored file must fail the same check, and
 * the command's bad uses fail with their statuses. Autoencoders go to ONNX as well
 * (scripts/check_onnx.py: ONNX's checker, then onnxruntime from npm against exprun encode). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "latest.h"
#include "runcheck.h"
#include "testutil.h"

static char *tmp;
static char exe[4096];

/* Whether the bytes of path (binary: NULs and all) hold needle. */
static int file_has(const char *path, const char *needle) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    size_t k = strlen(needle);
    for (size_t at = 0; at + k <= n; at++)
        if (memcmp(buf + at, needle, k) == 0) return 1;
    return 0;
}

/* A text of 5,000 words from a small vocabulary: a character model learns to spell them within
 * a few epochs, so its greedy text is words, not one repeated character. */
static void write_text(const char *path) {
    static const char *const words[] = {"the", "quick", "brown", "fox", "jumps", "over", "a", "lazy", "dog",
                                        "while", "cats", "sleep", "and", "birds", "sing"};
    FILE *f = fopen(path, "w");
    if (!f) exit(1);
    unsigned s = 7;
    for (int i = 0; i < 5000; i++) {
        s = s * 1103515245u + 12345u;
        fprintf(f, "%s%s", i ? " " : "", words[(s >> 16) % 15]);
    }
    fclose(f);
}

/* Train NAME from the spec text, export it, and check it with check_export.py against EXPECT
 * (made by the command `make`, run in tmp). */
static int train_export_check(const char *name, const char *spec, const char *make, const char *check_args) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.yaml", tmp, name);
    rc_write_text(path, spec);
    if (rc_sh(tmp, "%s %s.yaml --out %s -q > %s.log 2>&1", exe, name, name, name) != 0) return -1;
    if (rc_sh(tmp, "%s export %s -o %s.safetensors > %s.export.txt 2>&1", exe, name, name, name) != 0) return -2;
    if (rc_sh(tmp, "%s", make) != 0) return -3;
    return rc_sh(tmp, "/usr/bin/python3 %s/scripts/check_export.py %s %s.safetensors %s > %s.check.txt 2>&1", EXPRUN_SOURCE_DIR,
              name, name, check_args, name) == 0 ? 0 : -4;
}

static void check_text_model(const char *name, const char *model) {
    char spec[2048], make[4400], args[256];
    snprintf(spec, sizeof spec,
             "version: 1\nthreads: 1\nseed: 3\ndata: {source: text, path: text.txt, seq_len: 32}\n"
             "model: %s\nloss: softmax_cross_entropy\noptimizer: {type: adam, lr: 0.01}\n"
             "train: {epochs: 6, batch_size: 16}\n",
             model);
    snprintf(make, sizeof make, "%s sample %s --temperature 0 --length 120 --prime 'the ' > %s.greedy.txt", exe, name,
             name);
    snprintf(args, sizeof args, "%s.greedy.txt --prime 'the '", name);
    int rc = train_export_check(name, spec, make, args);
    if (rc != 0) {
        fprintf(stderr, "\n    %s: step %d failed; see %s/%s.*\n", name, -rc, tmp, name);
        rc_sh(tmp, "cat %s.check.txt %s.export.txt %s.log 1>&2", name, name, name);
    }
    CU_ASSERT_EQUAL(rc, 0);
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.greedy.txt", tmp, name);
    char *text = rc_slurp_text(path);
    /* words, not one repeated character: at least 4 different ones after the prime */
    int seen[256] = {0}, distinct = 0;
    for (const char *c = text + (strlen(text) > 4 ? 4 : strlen(text)); *c; c++)
        if (!seen[(unsigned char)*c]++) distinct++;
    CU_ASSERT(distinct >= 4);
    free(text);
}

static void test_lstm(void) {
    check_text_model("lstm", "{type: lstm, units: [32, 32], input: embedding, embed_dim: 16, head: per_step}");
}

static void test_gru_pytorch(void) {
    check_text_model("gru", "{type: gru, variant: pytorch, units: [32, 32], input: onehot, head: per_step}");
}

static void test_rnn_elman(void) {
    check_text_model("rnn", "{type: rnn, form: elman, units: [48], input: embedding, embed_dim: 16, head: per_step}");
}

/* Layers of different widths: one torch.nn module per layer (lstm0, lstm1), run in turn. */
static void test_lstm_two_widths(void) {
    check_text_model("lstm_2w", "{type: lstm, units: [32, 16], input: embedding, embed_dim: 16, head: per_step}");
    char path[1200];
    snprintf(path, sizeof path, "%s/lstm_2w.export.txt", tmp);
    CU_ASSERT(rc_log_has(path, "lstm0: torch.nn.LSTM(input_size=16, hidden_size=32)",
                         "lstm1: torch.nn.LSTM(input_size=32, hidden_size=16)"));
}

static void test_gru_cho(void) {
    check_text_model("gru_cho", "{type: gru, variant: cho, units: [32, 32], input: embedding, embed_dim: 16, head: per_step}");
}

/* The sequence family to ONNX (LSTM, GRU in both variants, Elman RNN; embedding, one-hot and
 * feature inputs; per-step and last-step heads; learned initial states): ONNX's checker, then
 * onnxruntime's y against `exprun predict`'s on the same sequences, and against the torch.nn
 * modules of the same run's safetensors file (which the tests above hold to exprun's own greedy
 * text); the lecture's RNN, a Scan, against exprun predict. */
static void test_sequence_onnx(void) {
    char path[1200];
    snprintf(path, sizeof path, "%s/adding.yaml", tmp);
    rc_write_text(path, "version: 1\nthreads: 1\ndata: {source: adding, length: 12, train_size: 300, test_size: 40}\n"
                        "model: {type: lstm, units: [16, 16], input: features, head: last_step, initial_state: learned}\n"
                        "loss: squared_error\ntrain: {epochs: 2, batch_size: 30}\n");
    CU_ASSERT_EQUAL_FATAL(rc_sh(tmp, "%s adding.yaml --out adding -q && %s export adding -o adding.safetensors > /dev/null", exe, exe), 0);
    static const char *const runs[] = {"lstm", "gru", "rnn", "gru_cho", "adding", "lstm_2w"};
    for (int k = 0; k < 6; k++) {
        int rc = rc_sh(tmp, "%s export %s -o %s.onnx > %s.onnx.txt 2>&1 && /usr/bin/python3 %s/scripts/check_onnx.py %s.onnx "
                    "--predict %s --exprun %s --torch %s.safetensors > %s.onnx.check.txt 2>&1",
                    exe, runs[k], runs[k], runs[k], EXPRUN_SOURCE_DIR, runs[k], runs[k], exe, runs[k], runs[k]);
        if (rc != 0) rc_sh(tmp, "cat %s.onnx.txt %s.onnx.check.txt 1>&2", runs[k], runs[k]);
        CU_ASSERT_EQUAL(rc, 0);
    }
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "adding.onnx.check.txt"), "Expand", "ok onnxruntime y (4, 1)"));
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "adding.onnx.check.txt"), "ok onnxruntime y (6, 1) against exprun predict", NULL));
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "lstm.onnx.check.txt"), "ok onnxruntime y (6, 10, ", "against exprun predict"));
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "gru_cho.onnx.check.txt"), "Cho", "ok onnxruntime y (17, 4, "));
    /* crossed: the LSTM's ONNX file against the GRU's modules fails */
    CU_ASSERT_NOT_EQUAL(rc_sh(tmp, "/usr/bin/python3 %s/scripts/check_onnx.py lstm.onnx --torch rnn.safetensors > crossed2.txt 2>&1",
                           EXPRUN_SOURCE_DIR), 0);
    /* the lecture's RNN: a Scan over its step, against exprun predict (torch.nn has no such module) */
    snprintf(path, sizeof path, "%s/lecture.yaml", tmp);
    rc_write_text(path, "version: 1\nthreads: 1\ndata: {source: text, path: text.txt, seq_len: 16}\n"
                        "model: {type: rnn, form: lecture, activation: sigmoid, units: [12, 12], input: onehot, "
                        "head: per_step, initial_state: learned}\n"
                        "loss: softmax_cross_entropy\ntrain: {epochs: 1, batch_size: 16, max_steps_per_epoch: 6}\n");
    CU_ASSERT_EQUAL_FATAL(rc_sh(tmp, "%s lecture.yaml --out lecture -q", exe), 0);
    int rc = rc_sh(tmp, "%s export lecture -o lecture.onnx > lecture.onnx.txt 2>&1 && /usr/bin/python3 %s/scripts/check_onnx.py "
                "lecture.onnx --predict lecture --exprun %s > lecture.onnx.check.txt 2>&1",
                exe, EXPRUN_SOURCE_DIR, exe);
    if (rc != 0) rc_sh(tmp, "cat lecture.onnx.txt lecture.onnx.check.txt 1>&2");
    CU_ASSERT_EQUAL(rc, 0);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "lecture.onnx.check.txt"), "Scan", "ok onnxruntime y (6, 10, "));
}

/* Train NAME from spec, export it to ONNX and check it with check_onnx.py against exprun
 * predict (its graph is teacher-forced: predict's own outputs are fed back in). */
static void check_generating_onnx(const char *name, const char *spec, const char *expect) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s.yaml", tmp, name);
    rc_write_text(path, spec);
    int rc = rc_sh(tmp, "%s %s.yaml --out %s -q > %s.log 2>&1 && %s export %s -o %s.onnx > %s.onnx.txt 2>&1 && "
                   "/usr/bin/python3 %s/scripts/check_onnx.py %s.onnx --predict %s --exprun %s > %s.onnx.check.txt 2>&1",
                   exe, name, name, name, exe, name, name, name, EXPRUN_SOURCE_DIR, name, name, exe, name);
    if (rc != 0) rc_sh(tmp, "cat %s.log %s.onnx.txt %s.onnx.check.txt 1>&2", name, name, name);
    CU_ASSERT_EQUAL(rc, 0);
    snprintf(path, sizeof path, "%s.onnx.check.txt", name);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, path), expect, "against exprun predict"));
}

/* seq2seq to ONNX: the encoder reads each row up to its first PAD (sequence_lens computed in the
 * graph; check_onnx.py puts a character after one row's PAD), its final states start the
 * decoder; logits within 1e-5 of exprun predict's and the same greedy tokens. LSTM of two
 * layers, PyTorch's GRU of two, Cho's GRU. The safetensors export names both modules. */
static void test_seq2seq_onnx(void) {
    static const char *const models[][2] = {{"s2s_lstm", "cell: lstm, units: [8, 8]"},
                                            {"s2s_gru", "cell: gru, units: [8, 8]"},
                                            {"s2s_cho", "cell: gru, variant: cho, units: [8]"}};
    for (int k = 0; k < 3; k++) {
        char spec[1024];
        snprintf(spec, sizeof spec,
                 "version: 1\nthreads: 1\n"
                 "data: {source: reverse, alphabet: 5, min_length: 3, max_length: 6, train_size: 200, test_size: 20}\n"
                 "model: {type: seq2seq, %s, embed_dim: 4}\nloss: softmax_cross_entropy\n"
                 "train: {epochs: 1, batch_size: 20}\n",
                 models[k][1]);
        check_generating_onnx(models[k][0], spec, "ok onnxruntime logits (6, 7, ");
    }
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "s2s_lstm.onnx.check.txt"), "CumSum", "greedy tokens agree at 42 of 42"));
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s export s2s_gru -o s2s.safetensors > s2s.st.txt", exe), 0);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "s2s.st.txt"), "enc_gru: torch.nn.GRU", "dec_gru: torch.nn.GRU"));
}

/* one_to_many to ONNX: each layer's initial state gathered from its class table; outputs within
 * 1e-5 of exprun predict's generated ones. An LSTM of two widths with a sigmoid head
 * (cross-entropy), a GRU with a linear head (squared error). */
static void test_onetomany_onnx(void) {
    char images[1200], labels[1200];
    snprintf(images, sizeof images, "%s/img.idx", tmp);
    snprintf(labels, sizeof labels, "%s/lab.idx", tmp);
    CU_ASSERT_EQUAL_FATAL(fixture_write_idx(images, labels, 120, 8, 6, 3), 0);
    static const char *const models[][2] = {{"otm_lstm", "cell: lstm, units: [8, 6]}\nloss: cross_entropy"},
                                            {"otm_gru", "cell: gru, units: [8]}\nloss: squared_error"}};
    for (int k = 0; k < 2; k++) {
        char spec[1024];
        snprintf(spec, sizeof spec,
                 "version: 1\nthreads: 1\n"
                 "data: {source: idx, path: img.idx, labels: lab.idx, as_sequence: true, scale: unit}\n"
                 "model: {type: one_to_many, %s\ntrain: {epochs: 1, batch_size: 20}\n",
                 models[k][1]);
        check_generating_onnx(models[k][0], spec, "ok onnxruntime y (5, 8, 6)");
    }
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "otm_lstm.onnx.check.txt"), "Sigmoid", "Unsqueeze"));
}

static void write_table(void) {
    char path[1200];
    snprintf(path, sizeof path, "%s/table.h5", tmp);
    rc_make_table(path, 300, 5);
}

static void check_autoencoder(const char *name, const char *tied) {
    char spec[2048], make[4400];
    snprintf(spec, sizeof spec,
             "version: 1\nthreads: 1\ndata: {source: hdf5, path: table.h5, scale: none}\n"
             "model: {type: autoencoder, code: 4, hidden: [{units: 12, activation: relu}], g: tanh, tied: %s}\n"
             "loss: squared_error\noptimizer: {lr: 0.01}\ntrain: {epochs: 4, batch_size: 32}\n",
             tied);
    snprintf(make, sizeof make, "%s encode %s table.h5 --out %s.codes.h5 -q", exe, name, name);
    char args[256];
    snprintf(args, sizeof args, "%s.codes.h5 --data table.h5", name);
    int rc = train_export_check(name, spec, make, args);
    if (rc != 0) {
        fprintf(stderr, "\n    %s: step %d failed\n", name, -rc);
        rc_sh(tmp, "cat %s.check.txt %s.export.txt %s.log 1>&2", name, name, name);
    }
    CU_ASSERT_EQUAL(rc, 0);
}

static void test_autoencoder_untied(void) { check_autoencoder("ae", "false"); }
static void test_autoencoder_tied(void) { check_autoencoder("ae_tied", "true"); }

/* ONNX: the checker's full check, then onnxruntime's h and x̂ against exprun encode's (1e-5);
 * checked against the other run's codes, the same script fails. */
static void test_autoencoder_onnx(void) {
    static const char *const runs[] = {"ae", "ae_tied"};
    for (int k = 0; k < 2; k++) {
        int rc = rc_sh(tmp, "%s export %s -o %s.onnx > %s.onnx.txt 2>&1", exe, runs[k], runs[k], runs[k]);
        CU_ASSERT_EQUAL(rc, 0);
        rc = rc_sh(tmp, "/usr/bin/python3 %s/scripts/check_onnx.py %s.onnx %s.codes.h5 --data table.h5 > %s.onnx.check.txt 2>&1",
                EXPRUN_SOURCE_DIR, runs[k], runs[k], runs[k]);
        if (rc != 0) rc_sh(tmp, "cat %s.onnx.check.txt %s.onnx.txt 1>&2", runs[k], runs[k]);
        CU_ASSERT_EQUAL(rc, 0);
    }
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "ae.onnx.check.txt"), "ok checker", "ok onnxruntime x_hat"));
    CU_ASSERT_NOT_EQUAL(rc_sh(tmp, "/usr/bin/python3 %s/scripts/check_onnx.py ae.onnx ae_tied.codes.h5 --data table.h5 "
                           "> crossed.txt 2>&1",
                           EXPRUN_SOURCE_DIR),
                        0);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "crossed.txt"), "FAIL", NULL));
}

/* The check can fail: one weight of the exported autoencoder changed, and the codes or the
 * reconstructions no longer agree. */
static void test_doctored_file_fails(void) {
    char path[1200];
    snprintf(path, sizeof path, "%s/ae.safetensors", tmp);
    size_t len = 0;
    char *bytes = rc_slurp(path);
    FILE *f = fopen(path, "rb");
    if (f) {
        fseek(f, 0, SEEK_END);
        len = (size_t)ftell(f);
        fclose(f);
    }
    CU_ASSERT_FATAL(bytes != NULL && len > 16);
    float last;
    memcpy(&last, bytes + len - 4, 4);   /* the last value of the last tensor */
    last += 0.5f;
    memcpy(bytes + len - 4, &last, 4);
    snprintf(path, sizeof path, "%s/doctored.safetensors", tmp);
    rc_write_bytes(path, bytes, len);
    free(bytes);
    CU_ASSERT_NOT_EQUAL(rc_sh(tmp, "/usr/bin/python3 %s/scripts/check_export.py ae doctored.safetensors ae.codes.h5 "
                           "--data table.h5 > doctored.txt 2>&1",
                           EXPRUN_SOURCE_DIR),
                        0);
    snprintf(path, sizeof path, "%s/doctored.txt", tmp);
    CU_ASSERT(rc_log_has(path, "FAIL", NULL));
}

/* exprun predict's bad uses: an autoencoder run, sequences longer than the model's, the wrong
 * dataset, a token outside the vocabulary — exit 2, nothing written. */
static void test_predict_bad_uses(void) {
    char path[1200];
    snprintf(path, sizeof path, "%s/long.h5", tmp);
    float *x = calloc(2 * 40 * 1, sizeof *x);
    int32_t labels[2] = {0, 0};
    fixture_write_h5(path, x, labels, 2, 40);   /* /x (2, 40): rank 2, not (N, T, d) */
    free(x);
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s predict ae long.h5 2> p1.txt", exe), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "p1.txt"), "exprun encode", NULL));
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s predict adding long.h5 2> p2.txt", exe), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "p2.txt"), "rank 2", NULL));
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s predict lstm long.h5 2> p3.txt", exe), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "p3.txt"), "/tokens", NULL));
    CU_ASSERT_EQUAL(rc_sh(tmp, "/usr/bin/python3 -c \"import h5py, numpy as np; f = h5py.File('toks.h5', 'w'); "
                       "f['tokens'] = np.full((2, 200), 1, np.int32); g = h5py.File('bad.h5', 'w'); "
                       "g['tokens'] = np.full((2, 5), 999, np.int32)\""), 0);
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s predict lstm toks.h5 2> p4.txt", exe), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "p4.txt"), "T = 200", NULL));
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s predict lstm bad.h5 2> p5.txt", exe), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "p5.txt"), "vocabulary", NULL));
    CU_ASSERT_EQUAL(rc_count_files(rc_in_dir(tmp, "lstm"), "predictions-toks.h5"), 0);
    CU_ASSERT_EQUAL(rc_count_files(rc_in_dir(tmp, "lstm"), "predictions-bad.h5"), 0);
    /* seq2seq: text decoded (the default output in the run); a character outside the task's
     * alphabet, an empty row, a token outside the vocabulary: exit 2 */
    CU_ASSERT_EQUAL(rc_sh(tmp, "/usr/bin/python3 -c \"import h5py, numpy as np; "
                       "h5py.File('words.h5', 'w')['text'] = np.array([b'abc', b'edcba'], dtype=object); "
                       "h5py.File('zed.h5', 'w')['text'] = np.array([b'abz'], dtype=object); "
                       "h5py.File('empty.h5', 'w')['tokens'] = np.array([[3, 4], [0, 3]], np.int32); "
                       "h5py.File('classes.h5', 'w')['classes'] = np.array([0, 3], np.int32)\""), 0);
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s predict s2s_gru words.h5 > p6.txt && h5dump -d /text s2s_gru/predictions-words.h5 "
                       ">> p6.txt", exe), 0);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "p6.txt"), "2 inputs decoded", "(0): \""));
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s predict s2s_gru zed.h5 2> p7.txt", exe), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "p7.txt"), "'z' at 2", "\"abcde\""));
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s predict s2s_gru empty.h5 2> p8.txt", exe), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "p8.txt"), "/tokens[1] is empty", NULL));
    /* one_to_many: a class the model does not have */
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s predict otm_gru classes.h5 2> p9.txt", exe), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "p9.txt"), "/classes[1] = 3", "0..2"));
    CU_ASSERT_EQUAL(rc_count_files(rc_in_dir(tmp, "s2s_gru"), "predictions-zed.h5"), 0);
    CU_ASSERT_EQUAL(rc_count_files(rc_in_dir(tmp, "otm_gru"), "predictions-classes.h5"), 0);
}

/* Bad uses: the documented statuses, and nothing written. */
static void test_bad_uses(void) {
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s export ae -o out.onnx2 2> e1.txt", exe), 2);            /* no format from the name */
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s export ae -o x.st --format tflite 2> e2.txt", exe), 2);  /* an unknown format */
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s export ae 2> e3.txt", exe), 2);                          /* no -o */
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s export nowhere -o x.safetensors 2> e4.txt", exe), 2);   /* not a run */
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s export ae -o ae/results.h5 --format safetensors 2> e5.txt", exe), 2);   /* a run file */
    CU_ASSERT(!rc_exists(rc_in_dir(tmp, "out.onnx2")) && !rc_exists(rc_in_dir(tmp, "x.safetensors")));
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "e1.txt"), ".safetensors", NULL));
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "e5.txt"), "never writes over", NULL));
    /* --checkpoint: best is the run's BEST (named in the file's metadata); a missing FILE fails */
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s export ae -o best.safetensors --checkpoint best > o6.txt", exe), 0);
    char best[1200];
    CU_ASSERT(latest_name_in(rc_in_dir(tmp, "ae/checkpoints"), "BEST", best, sizeof best) == 0);
    CU_ASSERT(file_has(rc_in_dir(tmp, "best.safetensors"), best));
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s export ae -o x.safetensors --checkpoint nowhere.h5 2> e7.txt", exe), 3);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "e7.txt"), "nowhere.h5", NULL));
    CU_ASSERT(!rc_exists(rc_in_dir(tmp, "x.safetensors")));
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s export ae --help > h.txt", exe), 0);
}

int main(void) {
    tmp = make_temp_dir("export");
    if (!realpath(exprun_bin(), exe)) {
        perror(exprun_bin());
        return 1;
    }
    char path[1200];
    snprintf(path, sizeof path, "%s/text.txt", tmp);
    write_text(path);
    write_table();
    TestCase cases[] = {{"LSTM: torch.nn.LSTM gives exprun's greedy text", test_lstm},
                        {"GRU (pytorch variant): torch.nn.GRU gives it too", test_gru_pytorch},
                        {"Elman RNN: torch.nn.RNN gives it too", test_rnn_elman},
                        {"Cho's GRU: the script's torch reference gives it too", test_gru_cho},
                        {"LSTM layers of two widths: a module per layer", test_lstm_two_widths},
                        {"autoencoder: codes and reconstructions in torch.nn.Linear", test_autoencoder_untied},
                        {"tied autoencoder: the decoder's weights transposed", test_autoencoder_tied},
                        {"autoencoders to ONNX: checker, onnxruntime = exprun encode", test_autoencoder_onnx},
                        {"sequence models to ONNX: checker, onnxruntime = torch.nn", test_sequence_onnx},
                        {"seq2seq to ONNX: onnxruntime's logits = exprun predict's", test_seq2seq_onnx},
                        {"one_to_many to ONNX: onnxruntime's outputs = exprun predict's", test_onetomany_onnx},
                        {"a doctored file fails the check", test_doctored_file_fails},
                        {"predict: bad uses", test_predict_bad_uses},
                        {"bad uses", test_bad_uses},
                        {NULL, NULL}};
    int rc = run_tests("export", cases);
    char cmd[1300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (rc == 0) run_command(cmd);
    else fprintf(stderr, "test_export: the runs are left in %s\n", tmp);
    free(tmp);
    return rc;
}
