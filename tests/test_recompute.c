/* test_recompute.c — train.recompute, run for real through `exprun`: with it on, a recurrent
 * model keeps only each layer's outputs and the states at its segments' boundaries, and backward
 * replays each segment's forward (lib/nn/recurrent.h). The run must be the same bits as the
 * default one: checkpoints, optimizer state, every metric, the text samples and the ‖∂L/∂h_t‖
 * diagnostics (rc_same_run). The shapes make several segments (≈1024 rows each), so the
 * replay crosses boundaries:
 *   - LSTM 2 × 32 with dropout between the layers, the adding problem over 100 steps, batch 32
 *     (segments of 32 steps: 4 per sequence), many-to-one;
 *   - GRU 48 on a text stream, truncated BPTT with the state carried, seq_len 96, batch 16
 *     (segments of 64 steps: 2), per-step head, a sample every epoch;
 *   - the lecture's RNN with learned initial states (their gradients come out of the replay).
 * The key does not apply to the families that keep their caches (seq2seq, one_to_many): refused
 * there (seq2seq is tried). The stack itself is checked bit for bit on every cell in
 * test_recurrent.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runcheck.h"
#include "strbuf.h"
#include "testutil.h"

static char *tmp;

/* Trains spec with train.recompute=VALUE into tmp/NAME; returns exprun's exit status. */
static int train(const char *spec, const char *name, const char *value, char *out, size_t cap) {
    snprintf(out, cap, "%s", rc_in_dir(tmp, name));
    char setting[64], log[1100];
    snprintf(setting, sizeof setting, "train.recompute=%s", value);
    snprintf(log, sizeof log, "%s.log", out);
    const char *args[] = {spec, setting, "--out", out, NULL};
    return rc_run_logged(args, log);
}

/* The spec in tmp/NAME.yaml, written from text. */
static const char *write_spec(const char *name, const char *text, char *path, size_t cap) {
    char file[128];
    snprintf(file, sizeof file, "%s.yaml", name);
    snprintf(path, cap, "%s", rc_in_dir(tmp, file));
    rc_write_text(path, text);
    return path;
}

static void check_same(const char *spec, const char *tag) {
    char keep[1100], replay[1100], name[64];
    snprintf(name, sizeof name, "%s_keep", tag);
    CU_ASSERT_EQUAL_FATAL(train(spec, name, "false", keep, sizeof keep), 0);
    snprintf(name, sizeof name, "%s_recompute", tag);
    CU_ASSERT_EQUAL_FATAL(train(spec, name, "true", replay, sizeof replay), 0);
    CU_ASSERT(rc_same_run(keep, replay, 1));
    double loss[16], seconds[16];
    CU_ASSERT(rc_metrics_column(replay, "val_loss", loss, 16) >= 2);   /* it did train and evaluate */
    /* the evaluation's own clock, apart from the training steps' (epoch_time) */
    CU_ASSERT(rc_metrics_column(replay, "eval_time", seconds, 16) >= 2 && seconds[0] > 0.0);
}

/* A spec on the adding problem over `length` steps (squared error, many-to-one), model.* as given. */
static const char *adding_spec(const char *name, int seed, int length, int train_size, const char *model, char *path,
                               size_t cap) {
    char text[1024];
    snprintf(text, sizeof text,
             "version: 1\nname: recompute_%s\nseed: %d\n"
             "data: {source: adding, length: %d, train_size: %d, test_size: 64, validation_fraction: 0.25}\n"
             "model: {%s, input: features, head: last_step}\n"
             "loss: squared_error\noptimizer: {type: adam, lr: 3.0e-3}\n"
             "clip: {type: global_norm, threshold: 1.0}\ntrain: {epochs: 2, batch_size: 32}\n"
             "output: {root: %s/results}\n",
             name, seed, length, train_size, model, tmp);
    return write_spec(name, text, path, cap);
}

static void test_lstm_dropout(void) {
    char path[1100];
    check_same(adding_spec("lstm", 3, 100, 256, "type: lstm, units: [32, 32], dropout: 0.2", path, sizeof path), "lstm");
}

static void test_gru_text(void) {
    char corpus[1100], text[2048], path[1100];
    snprintf(corpus, sizeof corpus, "%s", rc_in_dir(tmp, "corpus.txt"));
    StrBuf words = {0};
    for (int k = 0; k < 700; k++)
        strbuf_printf(&words, "%s %d the quick brown fox; ", k % 3 ? "jumps" : "naps", k * 7 % 31);
    rc_write_text(corpus, words.s);
    strbuf_free(&words);
    snprintf(text, sizeof text,
             "version: 1\nname: recompute_gru\nseed: 4\n"
             "data: {source: text, path: %s, seq_len: 96, bptt: truncated, validation_fraction: 0.1}\n"
             "model: {type: gru, units: [48], input: embedding, embed_dim: 16, head: per_step}\n"
             "loss: softmax_cross_entropy\noptimizer: {type: adam, lr: 3.0e-3}\n"
             "clip: {type: global_norm, threshold: 5.0}\ntrain: {epochs: 2, batch_size: 16}\n"
             "sample: {every: 1, length: 40}\noutput: {root: %s/results}\n",
             corpus, tmp);
    check_same(write_spec("gru", text, path, sizeof path), "gru");
    char run[1100];
    double seconds[16];
    snprintf(run, sizeof run, "%s", rc_in_dir(tmp, "gru_recompute"));
    CU_ASSERT(rc_metrics_column(run, "sample_time", seconds, 16) == 2 && seconds[0] > 0.0);   /* samples' own clock */
}

static void test_rnn_learned_state(void) {
    char path[1100];
    check_same(adding_spec("rnn", 6, 80, 192, "type: rnn, form: lecture, units: [24, 24], initial_state: learned", path,
                           sizeof path),
               "rnn");
}

/* seq2seq keeps its caches (its encoder's states are read at each row's own length): the key
 * does not apply there, and says so where it stands. */
static void test_refused_for_seq2seq(void) {
    char text[1024], path[1100], log[1100];
    snprintf(text, sizeof text,
             "version: 1\nname: recompute_s2s\nseed: 1\n"
             "data: {source: reverse, train_size: 64, test_size: 16}\n"
             "model: {type: seq2seq, cell: gru, units: [16], embed_dim: 8}\n"
             "loss: softmax_cross_entropy\noptimizer: {type: adam, lr: 1.0e-3}\n"
             "train: {epochs: 1, batch_size: 16, recompute: true}\noutput: {root: %s/results}\n",
             tmp);
    write_spec("s2s", text, path, sizeof path);
    snprintf(log, sizeof log, "%s", rc_in_dir(tmp, "s2s.log"));
    const char *args[] = {"validate", path, NULL};
    CU_ASSERT_EQUAL(rc_run_logged(args, log), 2);
    CU_ASSERT(rc_log_has(log, "train.recompute", "does not apply when model.type is seq2seq"));
}

int main(void) {
    const TestCase cases[] = {
        {"LSTM with dropout: recompute gives the same run, bit for bit", test_lstm_dropout},
        {"GRU on text with carried state and samples: the same", test_gru_text},
        {"the lecture's RNN with learned initial states: the same", test_rnn_learned_state},
        {"seq2seq: train.recompute does not apply", test_refused_for_seq2seq},
        {NULL, NULL},
    };
    tmp = make_temp_dir("recompute");
    return run_tests_in("recompute", cases, tmp);
}
