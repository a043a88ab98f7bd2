#include "evaluate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "clock.h"
#include "kmeans.h"
#include "pca.h"
#include "roc.h"

enum { KMEANS_MAX_ITER = 300 };
static const double ANGLE_OK_DEG = 5.0; /* "within about 5°" of the PCA claim */

/* ---- the Evaluation record ------------------------------------------------------------------ */

static void put(Evaluation *ev, const char *name, double v) {
    for (int i = 0; i < ev->n_values; i++)
        if (strcmp(ev->value_names[i], name) == 0) {
            ev->values[i] = v;
            return;
        }
    if (ev->n_values == EVAL_MAX_VALUES) return;
    snprintf(ev->value_names[ev->n_values], sizeof ev->value_names[0], "%s", name);
    ev->values[ev->n_values++] = v;
}

static void put_text(Evaluation *ev, const char *name, const char *text) {
    if (ev->n_texts == EVAL_MAX_TEXTS) return;
    snprintf(ev->text_names[ev->n_texts], sizeof ev->text_names[0], "%s", name);
    snprintf(ev->texts[ev->n_texts++], sizeof ev->texts[0], "%s", text);
}

/* Keeps a copy of data (rows, cols); cols = 0 for a 1-D array. */
static void put_array(Evaluation *ev, const char *name, const double *data, int rows, int cols, const char *description) {
    if (ev->n_arrays == EVAL_MAX_ARRAYS || rows <= 0) return;
    EvalArray *a = &ev->arrays[ev->n_arrays++];
    snprintf(a->name, sizeof a->name, "%s", name);
    snprintf(a->description, sizeof a->description, "%s", description);
    a->rank = cols > 0 ? 2 : 1;
    a->shape[0] = rows;
    a->shape[1] = cols;
    size_t n = (size_t)rows * (size_t)(cols > 0 ? cols : 1);
    a->data = ex_malloc(n * sizeof(double));
    memcpy(a->data, data, n * sizeof(double));
}

double evaluation_get(const Evaluation *ev, const char *name) {
    for (int i = 0; i < ev->n_values; i++)
        if (strcmp(ev->value_names[i], name) == 0) return ev->values[i];
    return NAN;
}

void evaluation_write(const Evaluation *ev, H5Doc *doc) {
    if (ev->n_values == 0 && ev->n_arrays == 0 && ev->n_texts == 0) return;
    h5doc_group(doc, "/evaluation");
    for (int i = 0; i < ev->n_values; i++) h5doc_attr_double(doc, "/evaluation", ev->value_names[i], ev->values[i]);
    for (int i = 0; i < ev->n_texts; i++) h5doc_attr_str(doc, "/evaluation", ev->text_names[i], ev->texts[i]);
    char path[128];
    for (int i = 0; i < ev->n_arrays; i++) {
        const EvalArray *a = &ev->arrays[i];
        snprintf(path, sizeof path, "/evaluation/%s", a->name);
        h5doc_doubles(doc, path, a->rank, a->shape, a->data);
        h5doc_attr_str(doc, path, "description", a->description);
    }
}

void evaluation_free(Evaluation *ev) {
    for (int i = 0; i < ev->n_arrays; i++) free(ev->arrays[i].data);
    memset(ev, 0, sizeof *ev);
}

/* ---- passes over a split --------------------------------------------------------------------- */

/* The split that stands for "test": the test set, else validation, else training. */
static const Dataset *test_split(const RunData *rd, const char **name) {
    if (rd->test.n > 0) { *name = "test"; return &rd->test; }
    if (rd->val.n > 0) { *name = "validation"; return &rd->val; }
    *name = "train";
    return &rd->train;
}

typedef struct Pass {
    double loss;          /* mean of the run's loss per row (reconstruction only, no penalty) */
    double sq_error;      /* (1/n) Σ_i Σ_j (x̂_ij − x_ij)² */
} Pass;

/* Forward the clean rows of ds through the model in batches of at most B. codes (n, K) and
 * row_loss (n) may be NULL. If noise is given, the network sees corrupt(x) but both errors are
 * taken against the clean x. */
static Pass forward_split(Model *m, const Dataset *ds, int B, float *codes, double *row_loss, const NoiseConfig *noise,
                          Rng *noise_rng, LossType loss) {
    const CodeOps *co = m->ops->codes;
    int n_in = co->input_size(m), K = co->code_size(m);
    float *recon = ex_malloc((size_t)B * (size_t)n_in * sizeof(float));  /* (B, n_in) */
    float *seen = noise ? ex_malloc((size_t)B * (size_t)n_in * sizeof(float)) : NULL;
    double *rows = ex_malloc((size_t)B * sizeof(double));
    double sum_loss = 0.0, sum_sq = 0.0;
    for (int start = 0; start < ds->n; start += B) {
        int count = ds->n - start < B ? ds->n - start : B;
        const float *x = ds->x + (size_t)start * (size_t)n_in;
        const float *input = x;
        if (noise) {
            noise_apply(seen, x, (size_t)count * (size_t)n_in, noise, noise_rng);
            input = seen;
        }
        co->encode(m, input, count, codes ? codes + (size_t)start * (size_t)K : NULL, recon, rows);
        for (int i = 0; i < count; i++) {
            const float *xi = x + (size_t)i * (size_t)n_in, *ri = recon + (size_t)i * (size_t)n_in;
            double sq = 0.0;
            for (int j = 0; j < n_in; j++) {
                double t = (double)ri[j] - (double)xi[j];
                sq += t * t;
            }
            /* encode's row error compares with its input; with noise, redo it against x */
            double l = !noise ? rows[i]
                       : loss == LOSS_SQUARED_ERROR ? sq
                                                    : loss_sigmoid_cross_entropy(NULL, ri, xi, 1, n_in);
            sum_sq += sq;
            sum_loss += l;
            if (row_loss) row_loss[start + i] = l;
        }
    }
    free(recon);
    free(seen);
    free(rows);
    Pass p = {NAN, NAN};
    if (ds->n > 0) {
        p.loss = sum_loss / ds->n;
        p.sq_error = sum_sq / ds->n;
    }
    return p;
}

/* ---- the evaluations ------------------------------------------------------------------------- */

int evaluate_check(const Spec *spec, const RunData *rd, const Model *model, ExError *err) {
    if (!model->ops->codes) return 0;
    const EvaluateSpec *e = &spec->evaluate;
    const char *split = NULL;
    const Dataset *ts = test_split(rd, &split);
    if (e->anomaly_class >= 0) {
        if (rd->test.n == 0) return ex_fail(err, "evaluate.anomaly_class needs a test set (data.test_path)");
        if (!rd->test.labels)
            return ex_fail(err, "%s: evaluate.anomaly_class needs labels for the test set (data.test_labels, "
                                "data.label_column or data.labels_dataset)", rd->test.source);
        int found = 0, other = 0;
        for (int i = 0; i < rd->test.n; i++) {
            found += rd->test.labels[i] == e->anomaly_class;
            other += rd->test.labels[i] != e->anomaly_class;
        }
        if (!found || !other)
            return ex_fail(err, "%s: evaluate.anomaly_class %d: the test set has %s of that class", rd->test.source,
                           e->anomaly_class, found ? "only examples" : "no examples");
    }
    if (e->kmeans > 0 && e->kmeans > ts->n)
        return ex_fail(err, "evaluate.kmeans %d: more clusters than the %d examples of the %s split", e->kmeans, ts->n,
                       split);
    return 0;
}

static int evaluate_pca(Evaluation *ev, const Spec *spec, const RunData *rd, Model *m, const Pass *train,
                        const Pass *test, const Dataset *ts, const char *split, double *pca_rows, FILE *log,
                        ExError *err) {
    const CodeOps *co = m->ops->codes;
    int n_in = co->input_size(m), K = co->code_size(m);
    Pca p;
    double t0 = now_seconds();
    if (pca_fit(&p, rd->train.x, rd->train.n, n_in, err) != 0) return -1;
    int k = K < n_in ? K : n_in;
    double opt = pca_optimal_error(&p, K);
    put(ev, "pca_k", K);
    put(ev, "pca_train_error", opt);
    put(ev, "pca_explained_variance", pca_explained_variance(&p, K));
    put(ev, "pca_lambda_k", p.eigenvalues[k - 1]);
    if (K < n_in) put(ev, "pca_lambda_k_plus_1", p.eigenvalues[K]);
    put(ev, "ae_train_sq_error", train->sq_error);
    put(ev, "ae_over_pca_train", train->sq_error / opt);
    double test_pca = pca_reconstruction_error(&p, K, ts->x, ts->n, pca_rows);
    put(ev, "pca_test_error", test_pca);
    put(ev, "ae_test_sq_error", test->sq_error);
    put(ev, "ae_over_pca_test", test->sq_error / test_pca);
    put_array(ev, "pca/eigenvalues", p.eigenvalues, n_in, 0,
              "eigenvalues λ_1 ≥ … ≥ λ_d of the training covariance (1/m) Σ (x_i − μ)(x_i − μ)ᵀ; "
              "the PCA optimum for code size k is Σ_{j>k} λ_j");
    put_array(ev, "pca/components", p.components, k, n_in, "the top-k principal components u_j, one per row");
    put_array(ev, "pca/mean", p.mean, n_in, 0, "μ, the training mean PCA centers with");
    if (log)
        fprintf(log, "  pca k=%d (train, %d examples): optimum %.6g, autoencoder %.6g (%.4fx); %s: pca %.6g, "
                     "autoencoder %.6g (%.4fx)\n",
                K, rd->train.n, opt, train->sq_error, train->sq_error / opt, split, test_pca, test->sq_error,
                test->sq_error / test_pca);

    /* Linear AE = PCA: only meaningful when x̂ − c lies in the decoder's column space (f = identity). */
    double *cols = co->linear_decoder_columns ? co->linear_decoder_columns(m) : NULL;
    if (cols) {
        double *ang = ex_malloc((size_t)k * sizeof(double)), *pa = ex_malloc((size_t)k * sizeof(double));
        int rc = vector_subspace_angles(ang, p.components, k, cols, K, n_in, err);
        int n_pa = rc == 0 ? principal_angles(pa, p.components, k, cols, K, n_in, err) : -1;
        if (rc == 0 && n_pa >= 0) {
            int within = 0;
            while (within < k && ang[within] <= ANGLE_OK_DEG) within++;
            double worst = 0.0;
            for (int j = 0; j < k; j++) worst = ang[j] > worst ? ang[j] : worst;
            put(ev, "pca_components_within_5deg", within);
            put(ev, "pca_component_angle_max_deg", worst);
            if (n_pa > 0) put(ev, "pca_principal_angle_max_deg", pa[n_pa - 1]);
            put_array(ev, "pca/component_angles_deg", ang, k, 0,
                      "angle in degrees of principal component u_j to the decoder's column space col(W*)");
            if (n_pa > 0)
                put_array(ev, "pca/principal_angles_deg", pa, n_pa, 0,
                          "principal angles in degrees (ascending) between span(u_1..u_k) and col(W*)");
            if (log)
                fprintf(log, "  angles to the decoder's column space: leading %d of %d components within %.0f°, "
                             "largest component angle %.2f°, largest principal angle %.2f°\n",
                        within, k, ANGLE_OK_DEG, worst, n_pa > 0 ? pa[n_pa - 1] : 0.0);
        }
        free(ang);
        free(pa);
        free(cols);
        if (rc != 0 || n_pa < 0) {
            pca_free(&p);
            return -1;
        }
    }
    put(ev, "pca_seconds", now_seconds() - t0);
    pca_free(&p);
    (void)spec;
    return 0;
}

static void evaluate_anomaly(Evaluation *ev, const Spec *spec, const Dataset *ts, const double *row_loss,
                             const double *pca_rows, FILE *log) {
    int cls = spec->evaluate.anomaly_class;
    uint8_t *pos = ex_malloc((size_t)ts->n);
    double in_sum = 0, out_sum = 0;
    int n_pos = 0;
    for (int i = 0; i < ts->n; i++) {
        pos[i] = ts->labels[i] == cls;
        n_pos += pos[i];
        if (pos[i]) in_sum += row_loss[i];
        else out_sum += row_loss[i];
    }
    double auc = roc_auc(row_loss, pos, ts->n);
    put(ev, "anomaly_class", cls);
    put(ev, "anomaly_count", n_pos);
    put(ev, "anomaly_auc", auc);
    put(ev, "anomaly_error_mean_class", in_sum / (n_pos ? n_pos : 1));
    put(ev, "anomaly_error_mean_rest", out_sum / (ts->n - n_pos ? ts->n - n_pos : 1));
    double auc_pca = NAN;
    if (pca_rows) {
        auc_pca = roc_auc(pca_rows, pos, ts->n);
        put(ev, "anomaly_auc_pca", auc_pca);
    }
    free(pos);
    if (log) {
        fprintf(log, "  anomaly: class %d (%d of %d test examples) against the rest: ROC AUC %.4f", cls, n_pos, ts->n,
                auc);
        if (pca_rows) fprintf(log, " (PCA-%d reconstruction error: %.4f)", spec->model.ae.code, auc_pca);
        fprintf(log, "\n");
    }
}

/* k-means on rows x (n, d) with the split's labels; prefix "kmeans" or "kmeans_input". */
static int cluster_rows(Evaluation *ev, const char *prefix, const float *x, int n, int d, const Dataset *ts, int k,
                        int restarts, uint64_t seed, ExError *err) {
    int32_t *assign = ex_malloc((size_t)n * sizeof(int32_t));
    float *cent = ex_malloc((size_t)k * (size_t)d * sizeof(float));
    KmeansResult res;
    Rng rng = rng_stream(seed, prefix);
    char name[64];
    if (kmeans_fit(assign, cent, &res, x, n, d, k, KMEANS_MAX_ITER, restarts, &rng, err) != 0) {
        free(assign);
        free(cent);
        return -1;
    }
    snprintf(name, sizeof name, "%s_inertia", prefix);
    put(ev, name, res.inertia / n);
    snprintf(name, sizeof name, "%s_iterations", prefix);
    put(ev, name, res.iterations);
    if (ts->labels && ts->num_classes > 0) {
        snprintf(name, sizeof name, "%s_purity", prefix);
        put(ev, name, cluster_purity(assign, k, ts->labels, ts->num_classes, n));
        snprintf(name, sizeof name, "%s_nmi", prefix);
        put(ev, name, cluster_nmi(assign, k, ts->labels, ts->num_classes, n));
        int64_t *table = ex_malloc((size_t)k * (size_t)ts->num_classes * sizeof(int64_t));
        double *dt = ex_malloc((size_t)k * (size_t)ts->num_classes * sizeof(double));
        cluster_contingency(table, assign, k, ts->labels, ts->num_classes, n);
        for (size_t i = 0; i < (size_t)k * ts->num_classes; i++) dt[i] = (double)table[i];
        snprintf(name, sizeof name, "%s/contingency", prefix);
        put_array(ev, name, dt, k, ts->num_classes, "examples of class v (column) in cluster u (row)");
        free(table);
        free(dt);
    }
    free(assign);
    free(cent);
    return 0;
}

static int evaluate_kmeans(Evaluation *ev, const Spec *spec, const Dataset *ts, const float *codes, int K, FILE *log,
                           ExError *err) {
    int k = spec->evaluate.kmeans, restarts = spec->evaluate.kmeans_restarts;
    put(ev, "kmeans_k", k);
    if (cluster_rows(ev, "kmeans", codes, ts->n, K, ts, k, restarts, spec->seed, err) != 0) return -1;
    if (cluster_rows(ev, "kmeans_input", ts->x, ts->n, ts->T * ts->d, ts, k, restarts, spec->seed, err) != 0)
        return -1;
    if (log) {
        if (ts->labels)
            fprintf(log, "  kmeans k=%d on the codes h: purity %.4f, NMI %.4f (on the raw inputs: purity %.4f, NMI %.4f)\n",
                    k, evaluation_get(ev, "kmeans_purity"), evaluation_get(ev, "kmeans_nmi"),
                    evaluation_get(ev, "kmeans_input_purity"), evaluation_get(ev, "kmeans_input_nmi"));
        else
            fprintf(log, "  kmeans k=%d on the codes h: inertia %.6g per example (no labels to score against)\n", k,
                    evaluation_get(ev, "kmeans_inertia"));
    }
    return 0;
}

static void noise_text(char *buf, size_t cap, const NoiseConfig *n) {
    if (n->type == NOISE_GAUSSIAN) snprintf(buf, cap, "gaussian sigma %g", n->sigma);
    else snprintf(buf, cap, "%s rate %g", noise_name(n->type), n->rate);
}

static void code_statistics(Evaluation *ev, const Spec *spec, const float *codes, int n, int K, FILE *log) {
    double *unit = ex_calloc((size_t)K, sizeof(double));
    double mean = 0.0, mean_abs = 0.0;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < K; c++) {
            double h = codes[(size_t)i * K + c];
            unit[c] += h / n;
            mean += h;
            mean_abs += fabs(h);
        }
    mean /= (double)n * K;
    mean_abs /= (double)n * K;
    double lo = unit[0], hi = unit[0];
    for (int c = 1; c < K; c++) {
        lo = unit[c] < lo ? unit[c] : lo;
        hi = unit[c] > hi ? unit[c] : hi;
    }
    put(ev, "code_mean", mean);
    put(ev, "code_mean_abs", mean_abs);
    put(ev, "code_unit_mean_min", lo);
    put(ev, "code_unit_mean_max", hi);
    put_array(ev, "code_unit_mean", unit, K, 0, "ρ̂_j: mean activation of code unit j over the evaluated split");
    const SparsityConfig *sp = &spec->model.ae.sparsity;
    if (sp->type == SPARSITY_KL) {
        put(ev, "sparsity_target", sp->target);
        put(ev, "code_mean_over_target", mean / sp->target);
    }
    if (log) {
        fprintf(log, "  codes h: mean activation %.5g (per unit %.4g .. %.4g), mean |h| %.5g", mean, lo, hi, mean_abs);
        if (sp->type == SPARSITY_KL) fprintf(log, "; target ρ = %g (ratio %.3f)", sp->target, mean / sp->target);
        fprintf(log, "\n");
    }
    free(unit);
}

static void error_by_class(Evaluation *ev, const Dataset *ts, const double *row_loss) {
    if (!ts->labels || ts->num_classes <= 0) return;
    int C = ts->num_classes;
    double *sum = ex_calloc((size_t)C, sizeof(double)), *cnt = ex_calloc((size_t)C, sizeof(double));
    for (int i = 0; i < ts->n; i++)
        if (ts->labels[i] >= 0 && ts->labels[i] < C) {
            sum[ts->labels[i]] += row_loss[i];
            cnt[ts->labels[i]] += 1;
        }
    for (int c = 0; c < C; c++) sum[c] = cnt[c] > 0 ? sum[c] / cnt[c] : NAN;
    put_array(ev, "loss_by_class", sum, C, 0, "mean reconstruction loss (the run's loss) of the evaluated split's examples of each class");
    free(sum);
    free(cnt);
}

int evaluate_model(Evaluation *ev, const Spec *spec, const RunData *rd, Model *model, FILE *log, ExError *err) {
    if (!model->ops->codes) return 0;
    const EvaluateSpec *e = &spec->evaluate;
    double t0 = now_seconds();
    int K = model->ops->codes->code_size(model), B = model->max_batch;
    const char *split = NULL;
    const Dataset *ts = test_split(rd, &split);
    put_text(ev, "split", split);
    put(ev, "split_examples", ts->n);
    if (log) fprintf(log, "evaluation (%s split, %d examples):\n", split, ts->n);

    float *codes = ex_malloc((size_t)ts->n * (size_t)K * sizeof(float));      /* (n, K) */
    double *row_loss = ex_malloc((size_t)(ts->n > 0 ? ts->n : 1) * sizeof(double));
    double *pca_rows = NULL;
    int rc = 0;
    Pass test = forward_split(model, ts, B, codes, row_loss, NULL, NULL, spec->loss);
    put(ev, "recon_loss", test.loss);         /* the run's loss without any penalty */
    put(ev, "recon_sq_error", test.sq_error);
    code_statistics(ev, spec, codes, ts->n, K, log);
    error_by_class(ev, ts, row_loss);

    if (e->pca) {
        Pass train = forward_split(model, &rd->train, B, NULL, NULL, NULL, NULL, spec->loss);
        put(ev, "ae_train_loss", train.loss);
        pca_rows = ex_malloc((size_t)(ts->n > 0 ? ts->n : 1) * sizeof(double));
        rc = evaluate_pca(ev, spec, rd, model, &train, &test, ts, split, pca_rows, log, err);
    }
    if (rc == 0 && e->anomaly_class >= 0 && ts->labels)
        evaluate_anomaly(ev, spec, ts, row_loss, pca_rows, log);
    if (rc == 0 && e->kmeans > 0) rc = evaluate_kmeans(ev, spec, ts, codes, K, log, err);
    if (rc == 0 && e->corrupted_test) {
        char text[128];
        noise_text(text, sizeof text, &e->noise);
        put_text(ev, "corrupted_noise", text);
        Rng noise_rng = rng_stream(spec->seed, "eval_noise"); /* the same draws for every run of this seed */
        Pass bad = forward_split(model, ts, B, NULL, NULL, &e->noise, &noise_rng, spec->loss);
        put(ev, "corrupted_test_loss", bad.loss);
        put(ev, "corrupted_test_sq_error", bad.sq_error);
        if (log)
            fprintf(log, "  corrupted %s inputs (%s), error against the clean ones: loss %.6g, squared error %.6g "
                         "(clean inputs: %.6g, %.6g)\n",
                    split, text, bad.loss, bad.sq_error, test.loss, test.sq_error);
    }
    put(ev, "eval_seconds", now_seconds() - t0);
    free(codes);
    free(row_loss);
    free(pca_rows);
    return rc;
}
