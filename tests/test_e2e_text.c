/* test_e2e_text.c — a character-level LSTM through the exprun program on a small text the test
 * writes: the loss falls, the vocabulary and samples land in results.h5, `exprun sample`
 * generates from the checkpoint, and a run stopped mid-epoch (carried hidden state included)
 * resumes bit for bit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "h5read.h"
#include "runcheck.h"
#include "testutil.h"

static char *tmp;
static char spec_path[1024];

static void make_inputs(void) {
    char path[1024];
    snprintf(path, sizeof path, "%s/text.txt", tmp);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    const char *lines[] = {"the cat sat on the mat. ", "a dog ran in the fog. ", "the sun is up. "};
    for (int i = 0; i < 400; i++) fputs(lines[(i * 7) % 3], f);
    fclose(f);
    char spec[2048];
    snprintf(spec, sizeof spec,
             "version: 1\nname: text\nseed: 3\nthreads: 1\n"
             "data: {source: text, path: text.txt, seq_len: 16, validation_fraction: 0.1}\n"
             "model: {type: lstm, units: [32, 32], input: embedding, embed_dim: 8, dropout: 0.1}\n"
             "loss: softmax_cross_entropy\n"
             "optimizer: {type: adam, lr: 0.01}\n"
             "clip: {type: global_norm, threshold: 5.0}\n"
             "train: {epochs: 4, batch_size: 8}\n"
             "sample: {every: 2, length: 40, temperature: 0.5, prime: \"the \"}\n"
             "output: {root: %s/results}\n",
             tmp);
    snprintf(spec_path, sizeof spec_path, "%s/text.yaml", tmp);
    rc_write_text(spec_path, spec);
}

static int run(const char *args) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s > %s/out.txt 2> %s/err.txt", exprun_bin(), args, tmp, tmp);
    return run_command(cmd);
}

static void test_trains_samples_and_resumes(void) {
    char args[4096], a[1024], b[1024];
    snprintf(a, sizeof a, "%s/run_a", tmp);
    snprintf(b, sizeof b, "%s/run_b", tmp);
    snprintf(args, sizeof args, "%s --out %s", spec_path, a);
    CU_ASSERT_EQUAL_FATAL(run(args), 0);
    double loss[8], acc[8];
    CU_ASSERT_EQUAL_FATAL(rc_metrics_column(a, "train_loss", loss, 8), 4);
    CU_ASSERT(loss[3] < 0.6 * loss[0]);
    CU_ASSERT_EQUAL(rc_metrics_column(a, "val_accuracy", acc, 8), 4);
    CU_ASSERT(acc[3] > 0.5);

    /* vocabulary and samples in the results */
    char path[1200];
    snprintf(path, sizeof path, "%s/results.h5", a);
    H5Reader *r;
    ExError err;
    CU_ASSERT_FATAL(h5r_open(&r, path, &err) == 0);
    int rank;
    int64_t dims[8];
    CU_ASSERT(h5r_shape(r, "/vocab/bytes", &rank, dims, &err) == 0 && rank == 1 && dims[0] == 18);
    size_t n = 0;
    char **texts = NULL;
    CU_ASSERT_FATAL(h5r_read_strings(r, "/samples/text", &n, &texts, &err) == 0);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT(strncmp(texts[0], "the ", 4) == 0 && strlen(texts[0]) == 44);
    h5r_free_strings(texts, n);
    CU_ASSERT(h5r_exists(r, "/diagnostics/grad_norm_by_time"));
    h5r_close(r);

    /* exprun sample: deterministic for a seed */
    snprintf(args, sizeof args, "sample %s --length 30 --seed 5 --prime \"the \"", a);
    CU_ASSERT_EQUAL(run(args), 0);
    char out1[256] = "", out2[256] = "";
    snprintf(path, sizeof path, "%s/out.txt", tmp);
    FILE *f = fopen(path, "r");
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT(fgets(out1, sizeof out1, f) != NULL);
    fclose(f);
    CU_ASSERT_EQUAL(run(args), 0);
    f = fopen(path, "r");
    CU_ASSERT(fgets(out2, sizeof out2, f) != NULL);
    fclose(f);
    CU_ASSERT_STRING_EQUAL(out1, out2);
    CU_ASSERT_EQUAL(strlen(out1), 4 + 30 + 1);

    /* stopped mid-epoch (the hidden state carried across batches), resumed: bit for bit */
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "EXPRUN_STOP_AFTER_STEPS=9 %s %s --out %s > /dev/null 2>&1", exprun_bin(),
             spec_path, b);
    CU_ASSERT_EQUAL(run_command(cmd), 128 + 15);
    snprintf(args, sizeof args, "resume %s", b);
    CU_ASSERT_EQUAL_FATAL(run(args), 0);
    const char *cols[] = {"train_loss", "val_loss", "grad_norm", "val_accuracy"};
    for (int c = 0; c < 4; c++) {
        double x[8], y[8];
        CU_ASSERT_EQUAL(rc_metrics_column(a, cols[c], x, 8), 4);
        CU_ASSERT_EQUAL(rc_metrics_column(b, cols[c], y, 8), 4);
        CU_ASSERT(memcmp(x, y, 4 * sizeof(double)) == 0);
    }
    /* all of it: parameters, optimizer, loop state, every metric, the samples and the
     * ∂L/∂h_t diagnostic of the epoch the stop fell in */
    CU_ASSERT(rc_same_run(a, b, 1));
}

int main(void) {
    tmp = make_temp_dir("text");
    make_inputs();
    TestCase cases[] = {{"char LSTM: trains, samples, resumes bit for bit", test_trains_samples_and_resumes},
                        {NULL, NULL}};
    int rc = run_tests("e2e_text", cases);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (rc == 0) run_command(cmd);
    free(tmp);
    return rc;
}
