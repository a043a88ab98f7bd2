/* test_aeeval.c — the autoencoder evaluations end to end on small labelled data the test makes:
 * `evaluate:` writes /evaluation into results.h5 with numbers that agree with each other (the
 * PCA optimum is the eigenvalue tail and a linear autoencoder cannot beat it; anomalies get
 * high AUC; k-means counts add up; corruption hurts), data.exclude_class keeps the class out of
 * training, `exprun encode` writes codes whose errors match the run's own evaluation, and specs
 * that ask for an evaluation that cannot run fail before training, with the fix in the message. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/dataset.h"
#include "fixtures.h"
#include "h5read.h"
#include "rng.h"
#include "testutil.h"

enum { D = 16, N_TRAIN = 600, N_TEST = 300, CLASSES = 3 };

static char *tmp;
static char train_path[1024], test_path[1024], narrow_path[1024];
static int32_t test_labels[N_TEST];

/* Class c lives near its own 2-dimensional affine subspace of R^16: x = m_c + z V_c + 0.1 ε. Classes 0
 * and 1 (the training data) span a 5-dimensional affine subspace: code 5 leaves only the noise. */
static void make_split(const char *path, int n, Rng *r, const double *means, const double *bases, int32_t *labels_out) {
    float *x = malloc((size_t)n * D * sizeof *x);
    int32_t *y = malloc((size_t)n * sizeof *y);
    for (int i = 0; i < n; i++) {
        int c = i % CLASSES;
        y[i] = c;
        double z0 = rng_normal(r), z1 = rng_normal(r);
        for (int j = 0; j < D; j++)
            x[i * D + j] = (float)(means[c * D + j] + z0 * bases[(c * 2) * D + j] + z1 * bases[(c * 2 + 1) * D + j] +
                                   0.1 * rng_normal(r));
    }
    if (labels_out) memcpy(labels_out, y, (size_t)n * sizeof *y);
    fixture_write_h5(path, x, y, n, D);
    free(x);
    free(y);
}

static void make_data(void) {
    Rng r;
    rng_seed(&r, 17);
    double means[CLASSES * D], bases[CLASSES * 2 * D];
    for (int i = 0; i < CLASSES * D; i++) means[i] = 0.8 * rng_normal(&r);
    for (int i = 0; i < CLASSES * 2 * D; i++) bases[i] = 0.5 * rng_normal(&r);
    snprintf(train_path, sizeof train_path, "%s/train.h5", tmp);
    snprintf(test_path, sizeof test_path, "%s/test.h5", tmp);
    make_split(train_path, N_TRAIN, &r, means, bases, NULL);
    make_split(test_path, N_TEST, &r, means, bases, test_labels);
    /* a file of the wrong width, for encode's error */
    float x[4 * 3] = {0};
    int32_t y[4] = {0, 1, 0, 1};
    snprintf(narrow_path, sizeof narrow_path, "%s/narrow.h5", tmp);
    fixture_write_h5(narrow_path, x, y, 4, 3);
}

static void write_spec(const char *path, const char *model_extra, const char *evaluate) {
    FILE *f = fopen(path, "w");
    if (!f) exit(1);
    fprintf(f,
            "version: 1\nname: aeeval\nseed: 3\nthreads: 1\n"
            "data: {source: hdf5, path: %s, test_path: %s, dataset: x, labels_dataset: y, exclude_class: 2}\n"
            "model: {type: autoencoder, code: 5, g: identity, f: identity%s}\n"
            "loss: squared_error\n"
            "optimizer: {type: adam, lr: 0.01}\n"
            "schedule: {type: cosine}\n"
            "train: {epochs: 80, batch_size: 8, checkpoint_every: 0}\n"
            "evaluate: %s\n"
            "output: {root: %s/results}\n",
            train_path, test_path, model_extra, evaluate, tmp);
    fclose(f);
}

static int run(const char *args, const char *out_name) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s > %s/%s.out 2> %s/%s.err", exprun_bin(), args, tmp, out_name, tmp, out_name);
    return run_command(cmd);
}

static int file_contains(const char *name, const char *needle) {
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    static char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return strstr(buf, needle) != NULL;
}

static double attr(H5Reader *r, const char *name) {
    double v = NAN;
    ExError err;
    if (h5r_attr_double(r, "/evaluation", name, &v, &err) != 0) printf("\n  missing /evaluation attr %s: %s\n", name, err.msg);
    return v;
}

static char run_dir[1024];

static void test_evaluations_in_results(void) {
    char spec[1100], args[4096];
    snprintf(spec, sizeof spec, "%s/eval.yaml", tmp);
    write_spec(spec, "", "{pca: true, anomaly_class: 2, kmeans: 3, corrupted_test: true, "
                         "noise: {type: gaussian, sigma: 0.3}}");
    snprintf(run_dir, sizeof run_dir, "%s/run_eval", tmp);
    snprintf(args, sizeof args, "%s --out %s", spec, run_dir);
    CU_ASSERT_EQUAL_FATAL(run(args, "eval"), 0);
    CU_ASSERT(file_contains("eval.out", "evaluation (test split"));
    CU_ASSERT(file_contains("eval.out", "ROC AUC"));

    char path[1200];
    snprintf(path, sizeof path, "%s/results.h5", run_dir);
    H5Reader *r;
    ExError err;
    CU_ASSERT_FATAL(h5r_open(&r, path, &err) == 0);
    char *split = NULL;
    CU_ASSERT(h5r_attr_str(r, "/evaluation", "split", &split, &err) == 0);
    CU_ASSERT(split && strcmp(split, "test") == 0);
    free(split);
    CU_ASSERT_EQUAL(attr(r, "split_examples"), N_TEST);

    /* the PCA optimum is the tail of the stored eigenvalues, and a linear autoencoder trained on
     * the same rows lands just above it — never below */
    double eig[D];
    int shape[1] = {D};
    CU_ASSERT_FATAL(h5r_read_doubles(r, "/evaluation/pca/eigenvalues", 1, shape, eig, &err) == 0);
    double tail = 0;
    for (int j = 5; j < D; j++) tail += eig[j];
    CU_ASSERT_DOUBLE_EQUAL(attr(r, "pca_train_error"), tail, 1e-9 * (tail + 1));
    double ratio = attr(r, "ae_over_pca_train");
    CU_ASSERT(ratio >= 1 - 1e-4);
    CU_ASSERT(ratio < 1.05);
    CU_ASSERT(attr(r, "ae_over_pca_test") > 0.9);
    /* the decoder spans the top components (a shallow linear autoencoder gets the angles) */
    CU_ASSERT(attr(r, "pca_principal_angle_max_deg") < 3.0);
    CU_ASSERT(h5r_exists(r, "/evaluation/pca/component_angles_deg"));

    /* class 2 was never trained on: its reconstruction error ranks it apart */
    CU_ASSERT_EQUAL(attr(r, "anomaly_class"), 2);
    CU_ASSERT_EQUAL(attr(r, "anomaly_count"), N_TEST / CLASSES);
    CU_ASSERT(attr(r, "anomaly_auc") > 0.95);
    CU_ASSERT(attr(r, "anomaly_error_mean_class") > attr(r, "anomaly_error_mean_rest"));
    double auc_pca = attr(r, "anomaly_auc_pca");
    CU_ASSERT(auc_pca >= 0.0 && auc_pca <= 1.0);

    /* k-means: scores in range, the contingency table counts every test example once */
    double purity = attr(r, "kmeans_purity"), nmi = attr(r, "kmeans_nmi");
    CU_ASSERT(purity >= 1.0 / 3 && purity <= 1.0);
    CU_ASSERT(nmi >= 0.0 && nmi <= 1.0);
    CU_ASSERT(attr(r, "kmeans_input_purity") > 0);
    double table[CLASSES * CLASSES];
    int tshape[2] = {CLASSES, CLASSES};
    CU_ASSERT_FATAL(h5r_read_doubles(r, "/evaluation/kmeans/contingency", 2, tshape, table, &err) == 0);
    double sum = 0;
    for (int i = 0; i < CLASSES * CLASSES; i++) sum += table[i];
    CU_ASSERT_EQUAL(sum, N_TEST);

    /* σ = 0.3 noise on the inputs: worse than clean, against the same clean targets */
    CU_ASSERT(attr(r, "corrupted_test_sq_error") > attr(r, "recon_sq_error"));
    char *noise = NULL;
    CU_ASSERT(h5r_attr_str(r, "/evaluation", "corrupted_noise", &noise, &err) == 0);
    CU_ASSERT(noise && strstr(noise, "gaussian") != NULL);
    free(noise);
    h5r_close(r);
}

/* encode: codes of the test file with labels; errors agree with the evaluation; the training
 * split holds no example of the excluded class. */
static void test_encode(void) {
    char args[4096], out[1200];
    snprintf(out, sizeof out, "%s/codes.h5", tmp);
    snprintf(args, sizeof args, "encode %s %s --out %s", run_dir, test_path, out);
    CU_ASSERT_EQUAL_FATAL(run(args, "encode"), 0);
    H5Reader *r;
    ExError err;
    CU_ASSERT_FATAL(h5r_open(&r, out, &err) == 0);
    int rank;
    int64_t dims[8];
    CU_ASSERT(h5r_shape(r, "/codes", &rank, dims, &err) == 0);
    CU_ASSERT(rank == 2 && dims[0] == N_TEST && dims[1] == 5);
    int32_t labels[N_TEST];
    double rows[N_TEST];
    int shape[1] = {N_TEST};
    CU_ASSERT(h5r_read_int32s(r, "/labels", 1, shape, labels, &err) == 0);
    CU_ASSERT(memcmp(labels, test_labels, sizeof labels) == 0);
    CU_ASSERT(h5r_read_doubles(r, "/reconstruction_error", 1, shape, rows, &err) == 0);
    h5r_close(r);
    double mean = 0;
    for (int i = 0; i < N_TEST; i++) mean += rows[i] / N_TEST;
    char res[1200];
    snprintf(res, sizeof res, "%s/results.h5", run_dir);
    CU_ASSERT_FATAL(h5r_open(&r, res, &err) == 0);
    double recon = attr(r, "recon_loss");
    h5r_close(r);
    CU_ASSERT_DOUBLE_EQUAL(mean, recon, 1e-9 * recon);

    /* the run's own training split: the excluded class is not in it */
    snprintf(out, sizeof out, "%s/train_codes.h5", tmp);
    snprintf(args, sizeof args, "encode %s train --out %s", run_dir, out);
    CU_ASSERT_EQUAL_FATAL(run(args, "encode_train"), 0);
    CU_ASSERT_FATAL(h5r_open(&r, out, &err) == 0);
    CU_ASSERT(h5r_shape(r, "/labels", &rank, dims, &err) == 0);
    int n = (int)dims[0];
    CU_ASSERT(n > 0 && n < N_TRAIN * 2 / 3 + 1);
    int32_t *tl = malloc((size_t)n * sizeof *tl);
    int tshape[1] = {n};
    CU_ASSERT(h5r_read_int32s(r, "/labels", 1, tshape, tl, &err) == 0);
    int twos = 0;
    for (int i = 0; i < n; i++) twos += tl[i] == 2;
    CU_ASSERT_EQUAL(twos, 0);
    free(tl);
    h5r_close(r);

    /* errors: a file of another width, a directory that is no run */
    snprintf(args, sizeof args, "encode %s %s", run_dir, narrow_path);
    CU_ASSERT_EQUAL(run(args, "encode_bad"), 3);
    CU_ASSERT(file_contains("encode_bad.err", "values per example"));
    snprintf(args, sizeof args, "encode %s/nowhere %s", tmp, test_path);
    CU_ASSERT_EQUAL(run(args, "encode_norun"), 2);
    CU_ASSERT(file_contains("encode_norun.err", "not a run directory"));
    CU_ASSERT_EQUAL(run("encode", "encode_usage"), 2);
}

/* Evaluations that could not run are spec errors, reported before anything trains. */
static void test_bad_specs(void) {
    char spec[1100], args[4096];
    snprintf(spec, sizeof spec, "%s/bad.yaml", tmp);
    write_spec(spec, "", "{anomaly_class: 1}");  /* data.exclude_class is 2 */
    snprintf(args, sizeof args, "validate %s", spec);
    CU_ASSERT_EQUAL(run(args, "bad1"), 2);
    CU_ASSERT(file_contains("bad1.err", "data.exclude_class: 1"));
    write_spec(spec, "", "{corrupted_test: true}");  /* no model noise, no evaluate.noise */
    CU_ASSERT_EQUAL(run(args, "bad2"), 2);
    CU_ASSERT(file_contains("bad2.err", "evaluate.noise"));
    write_spec(spec, "", "{kmeans: 100000}");       /* more clusters than test examples */
    CU_ASSERT_EQUAL(run(args, "bad3"), 2);
    CU_ASSERT(file_contains("bad3.err", "more clusters"));
    /* the denoising model's own noise is the default corruption */
    write_spec(spec, ", noise: {type: masking, rate: 0.2}", "{corrupted_test: true}");
    CU_ASSERT_EQUAL(run(args, "ok"), 0);
}

/* unit_center: (x − μ_j)/(max − min), one affine map fitted on the training split. */
static void test_unit_center_scaler(void) {
    Dataset ds = {0};
    ds.n = 3;
    ds.T = 1;
    ds.d = 2;
    float x[6] = {0, 10, 100, 20, 200, 30};
    ds.x = x;
    Scaler s;
    ScaleType t;
    CU_ASSERT_FATAL(scale_from_name("unit_center", &t) == 0);
    scaler_fit(&s, t, &ds);
    scaler_apply(&s, &ds);
    CU_ASSERT_DOUBLE_EQUAL(x[0], (0 - 100) / 200.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(x[1], (10 - 20) / 200.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(x[4], (200 - 100) / 200.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(x[0] + x[2] + x[4], 0.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(x[1] + x[3] + x[5], 0.0, 1e-6);
    scaler_free(&s);
}

int main(void) {
    tmp = make_temp_dir("aeeval");
    make_data();
    const TestCase cases[] = {
        {"evaluations in results.h5", test_evaluations_in_results},
        {"encode", test_encode},
        {"evaluations that cannot run are spec errors", test_bad_specs},
        {"unit_center scaler", test_unit_center_scaler},
        {NULL, NULL},
    };
    int rc = run_tests("aeeval", cases);
    char cmd[1200];
    if (rc == 0 && !getenv("AEEVAL_KEEP")) {
        snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
        run_command(cmd);
    }
    free(tmp);
    return rc;
}
