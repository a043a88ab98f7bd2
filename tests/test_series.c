/* test_series.c — forecasting windows (lib/data/series.h) and the runner's forecast report:
 * the time split leaks nothing (every test target after every training target, in every
 * series), scaling uses training statistics only, the persistence baseline is what it says on
 * a series small enough to work out by hand, forecasts map back to the data's units exactly,
 * and end to end an LSTM run on a noiseless sine wave (a CSV the test writes) beats
 * persistence in the numbers exprun reports. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/series.h"
#include "h5read.h"
#include "runcheck.h"
#include "testutil.h"

static char *tmp;

static SeriesOptions options(int T, int k, SeriesTransform tf, ScaleType scale, double test, double val) {
    SeriesOptions o = {.window = T, .horizon = k, .transform = tf, .scale = scale, .test_fraction = test,
                       .validation_fraction = val};
    return o;
}

static void free_all(Dataset *a, Dataset *b, Dataset *c, SeriesMeta *m) {
    dataset_free(a);
    dataset_free(b);
    dataset_free(c);
    series_meta_free(m);
}

/* ---- the split -------------------------------------------------------------------------- */

/* Three series of different lengths, aligned at the end. Every training target's time precedes
 * every validation target's, which precedes every test target's; the windows' inputs are the
 * values before their target; nothing is lost or duplicated. */
static void test_split_has_no_leakage(void) {
    enum { L0 = 60, L1 = 45, L2 = 60, T = 5, K = 3 };
    static float v0[L0], v1[L1], v2[L2];
    for (int i = 0; i < L0; i++) v0[i] = 100.0f + (float)i;           /* value = 100 + index */
    for (int i = 0; i < L1; i++) v1[i] = 200.0f + (float)i;
    for (int i = 0; i < L2; i++) v2[i] = 300.0f + (float)i;
    SeriesInput in[3] = {{v0, L0, NULL}, {v1, L1, NULL}, {v2, L2, NULL}};
    SeriesOptions o = options(T, K, SERIES_NONE, SCALE_NONE, 0.2, 0.25);
    Dataset tr, va, te;
    SeriesMeta m;
    ExError err;
    CU_ASSERT_FATAL(series_prepare(in, 3, &o, "three", &tr, &va, &te, &m, &err) == 0);
    CU_ASSERT_EQUAL(m.timeline, 60);
    CU_ASSERT_EQUAL(m.test_start, 48);             /* 60 − round(0.2·60) */
    CU_ASSERT_EQUAL(m.val_start, 36);              /* 48 − round(0.25·48) */
    /* windows per series: L − (T − 1) − K */
    CU_ASSERT_EQUAL(tr.n + va.n + te.n, (L0 - T + 1 - K) + (L1 - T + 1 - K) + (L2 - T + 1 - K));
    CU_ASSERT(tr.n > 0 && va.n > 0 && te.n > 0);
    int max_train = -1, min_val = 1 << 30, max_val = -1, min_test = 1 << 30;
    for (int i = 0; i < m.train.n; i++) max_train = m.train.time[i] > max_train ? m.train.time[i] : max_train;
    for (int i = 0; i < m.val.n; i++) {
        min_val = m.val.time[i] < min_val ? m.val.time[i] : min_val;
        max_val = m.val.time[i] > max_val ? m.val.time[i] : max_val;
    }
    for (int i = 0; i < m.test.n; i++) min_test = m.test.time[i] < min_test ? m.test.time[i] : min_test;
    CU_ASSERT(max_train < min_val);
    CU_ASSERT(max_val < min_test);
    CU_ASSERT(max_train < m.val_start && min_val >= m.val_start && max_val < m.test_start);
    CU_ASSERT_EQUAL(min_test, m.test_start);
    /* Each window: inputs v[t−T+1..t], target v[t+K] — read back from the values' encoding. */
    const Dataset *sets[3] = {&tr, &va, &te};
    const SeriesTargets *tgs[3] = {&m.train, &m.val, &m.test};
    const float base[3] = {100.0f, 200.0f, 300.0f};
    const int len[3] = {L0, L1, L2};
    for (int s = 0; s < 3; s++)
        for (int i = 0; i < sets[s]->n; i++) {
            const SeriesTargets *tg = tgs[s];
            int sid = tg->series[i], j = tg->index[i];
            CU_ASSERT_EQUAL(tg->time[i], j + (60 - len[sid]));
            CU_ASSERT_EQUAL(tg->truth[i], base[sid] + (float)j);
            CU_ASSERT_EQUAL(tg->last[i], base[sid] + (float)(j - K));
            CU_ASSERT_EQUAL(sets[s]->y[i], base[sid] + (float)j);
            for (int step = 0; step < T; step++)
                CU_ASSERT_EQUAL(sets[s]->x[(size_t)i * T + step], base[sid] + (float)(j - K - T + 1 + step));
        }
    free_all(&tr, &va, &te, &m);
}

/* A transform looks one value further back: the first window of diff starts one step later. */
static void test_changes_need_one_more_value(void) {
    float v[8] = {1, 2, 4, 7, 11, 16, 22, 29};
    SeriesInput in = {v, 8, NULL};
    SeriesOptions o = options(3, 1, SERIES_DIFF, SCALE_NONE, 0.0, 0.0);
    Dataset tr, va, te;
    SeriesMeta m;
    ExError err;
    CU_ASSERT_FATAL(series_prepare(&in, 1, &o, "diff", &tr, &va, &te, &m, &err) == 0);
    CU_ASSERT_EQUAL(tr.n, 8 - 3 - 1);             /* t = 3..6 */
    CU_ASSERT_EQUAL(va.n + te.n, 0);
    /* window ending at t = 3: changes into 1, 2, 3 = 1, 2, 3; target v[4] − v[3] = 4 */
    CU_ASSERT_DOUBLE_EQUAL(tr.x[0], 1.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(tr.x[1], 2.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(tr.x[2], 3.0, 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(tr.y[0], 4.0, 1e-6);
    CU_ASSERT_EQUAL(m.train.last[0], 7.0f);
    free_all(&tr, &va, &te, &m);
    /* log_return: log(v[u]/v[u−1]) */
    o.transform = SERIES_LOG_RETURN;
    CU_ASSERT_FATAL(series_prepare(&in, 1, &o, "log", &tr, &va, &te, &m, &err) == 0);
    CU_ASSERT_DOUBLE_EQUAL(tr.x[0], log(2.0), 1e-6);
    CU_ASSERT_DOUBLE_EQUAL(tr.y[0], log(11.0 / 7.0), 1e-6);
    free_all(&tr, &va, &te, &m);
}

/* ---- scaling ------------------------------------------------------------------------------ */

/* The scalers are the training windows' mean and σ — and stay the same, bit for bit, when
 * the validation and test periods change completely. */
static void test_scaling_uses_training_period_only(void) {
    enum { L = 50, T = 4 };
    float a[L], b[L];
    for (int i = 0; i < L; i++) a[i] = b[i] = 10.0f + (float)((i * 7) % 11);
    for (int i = 30; i < L; i++) b[i] = 5000.0f + 100.0f * (float)i;   /* a wild later period */
    SeriesOptions o = options(T, 1, SERIES_NONE, SCALE_STANDARDIZE, 0.2, 0.25);
    Dataset tr[2], va[2], te[2];
    SeriesMeta m[2];
    ExError err;
    SeriesInput ina = {a, L, NULL}, inb = {b, L, NULL};
    CU_ASSERT_FATAL(series_prepare(&ina, 1, &o, "a", &tr[0], &va[0], &te[0], &m[0], &err) == 0);
    CU_ASSERT_FATAL(series_prepare(&inb, 1, &o, "b", &tr[1], &va[1], &te[1], &m[1], &err) == 0);
    /* test starts at 40, validation at 30: the later values only enter val and test */
    CU_ASSERT_EQUAL(m[0].val_start, 30);
    CU_ASSERT_EQUAL(m[0].x_scaler.shift[0], m[1].x_scaler.shift[0]);
    CU_ASSERT_EQUAL(m[0].x_scaler.scale[0], m[1].x_scaler.scale[0]);
    CU_ASSERT_EQUAL(m[0].y_scaler.shift[0], m[1].y_scaler.shift[0]);
    CU_ASSERT_EQUAL(m[0].y_scaler.scale[0], m[1].y_scaler.scale[0]);
    CU_ASSERT_EQUAL(tr[0].n, tr[1].n);
    CU_ASSERT(memcmp(tr[0].x, tr[1].x, (size_t)tr[0].n * T * sizeof(float)) == 0);
    /* by hand: inputs of the training windows (t = 3 .. 28, targets 4 .. 29) */
    double sum = 0, sq = 0, ysum = 0;
    int cnt = 0;
    for (int t = T - 1; t + 1 < 30; t++) {
        for (int s = t - T + 1; s <= t; s++) sum += a[s], cnt++;
        ysum += a[t + 1];
    }
    double mean = sum / cnt;
    for (int t = T - 1; t + 1 < 30; t++)
        for (int s = t - T + 1; s <= t; s++) sq += (a[s] - mean) * (a[s] - mean);
    CU_ASSERT_EQUAL(tr[0].n, 30 - T);
    CU_ASSERT_DOUBLE_EQUAL(m[0].x_scaler.shift[0], mean, 1e-4);
    CU_ASSERT_DOUBLE_EQUAL(m[0].x_scaler.scale[0], 1.0 / sqrt(sq / cnt), 1e-5);
    CU_ASSERT_DOUBLE_EQUAL(m[0].y_scaler.shift[0], ysum / tr[0].n, 1e-4);
    /* the wild test values are mapped with the training statistics: far outside ±5 */
    CU_ASSERT(te[1].x[(size_t)(te[1].n - 1) * T + T - 1] > 100.0f);
    for (int s = 0; s < 2; s++) free_all(&tr[s], &va[s], &te[s], &m[s]);
}

/* ---- persistence and the map back ---------------------------------------------------------- */

/* v = 1, 2, 4, 7, 11, 16: with the last half as test and k = 1 the targets are 7, 11, 16 and
 * persistence says 4, 7, 11 → errors 3, 4, 5: MSE 50/3, MAE 4. With k = 2: targets 7, 11, 16
 * from 2, 4, 7 → errors 5, 7, 9: MSE 155/3, MAE 7. */
static void test_persistence_by_hand(void) {
    float v[6] = {1, 2, 4, 7, 11, 16};
    SeriesInput in = {v, 6, NULL};
    Dataset tr, va, te;
    SeriesMeta m;
    ExError err;
    SeriesOptions o = options(1, 1, SERIES_NONE, SCALE_NONE, 0.5, 0.0);
    CU_ASSERT_FATAL(series_prepare(&in, 1, &o, "hand", &tr, &va, &te, &m, &err) == 0);
    CU_ASSERT_EQUAL_FATAL(te.n, 3);
    ForecastErrors p = forecast_errors(m.test.last, m.test.truth, m.test.n);
    CU_ASSERT_DOUBLE_EQUAL(p.mse, 50.0 / 3.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(p.mae, 4.0, 1e-9);
    free_all(&tr, &va, &te, &m);
    o.horizon = 2;
    CU_ASSERT_FATAL(series_prepare(&in, 1, &o, "hand", &tr, &va, &te, &m, &err) == 0);
    CU_ASSERT_EQUAL_FATAL(te.n, 3);
    p = forecast_errors(m.test.last, m.test.truth, m.test.n);
    CU_ASSERT_DOUBLE_EQUAL(p.mse, 155.0 / 3.0, 1e-9);
    CU_ASSERT_DOUBLE_EQUAL(p.mae, 7.0, 1e-9);
    /* a perfect forecast scores 0; no windows score NaN */
    ForecastErrors z = forecast_errors(m.test.truth, m.test.truth, m.test.n);
    CU_ASSERT(z.mse == 0.0 && z.mae == 0.0);
    CU_ASSERT(isnan(forecast_errors(NULL, NULL, 0).mse));
    free_all(&tr, &va, &te, &m);
}

/* Feeding the scaled targets back gives the true values; an output meaning "no change" gives
 * the persistence forecast — for every transform. */
static void test_forecast_inverts_every_transform(void) {
    enum { L = 40 };
    float v[L];
    for (int i = 0; i < L; i++) v[i] = 50.0f + 10.0f * sinf(0.4f * (float)i) + 0.3f * (float)i;
    SeriesInput in = {v, L, NULL};
    for (int tf = SERIES_NONE; tf <= SERIES_LOG_RETURN; tf++) {
        Dataset tr, va, te;
        SeriesMeta m;
        ExError err;
        SeriesOptions o = options(5, 2, (SeriesTransform)tf, SCALE_STANDARDIZE, 0.25, 0.2);
        CU_ASSERT_FATAL(series_prepare(&in, 1, &o, "inv", &tr, &va, &te, &m, &err) == 0);
        float out[L];
        series_forecast(out, te.y, &m.test, &m);
        for (int i = 0; i < te.n; i++) CU_ASSERT_DOUBLE_EQUAL(out[i], m.test.truth[i], 1e-3);
        if (tf != SERIES_NONE) {
            float zero[L];
            for (int i = 0; i < te.n; i++) zero[i] = (0.0f - m.y_scaler.shift[0]) * m.y_scaler.scale[0];
            series_forecast(out, zero, &m.test, &m);
            for (int i = 0; i < te.n; i++) CU_ASSERT_DOUBLE_EQUAL(out[i], m.test.last[i], 1e-3);
        }
        free_all(&tr, &va, &te, &m);
    }
}

static void test_bad_input_is_an_error(void) {
    float v[10] = {3, 2, 1, 0, 1, 2, 3, 4, 5, 6};
    SeriesInput in = {v, 10, NULL};
    Dataset tr, va, te;
    SeriesMeta m;
    ExError err;
    SeriesOptions o = options(3, 1, SERIES_LOG_RETURN, SCALE_NONE, 0.2, 0.0);
    CU_ASSERT(series_prepare(&in, 1, &o, "zeros", &tr, &va, &te, &m, &err) == -1);
    CU_ASSERT(strstr(err.msg, "log_return") != NULL && strstr(err.msg, "value 4") != NULL);
    o.transform = SERIES_DIFF;
    o.window = 9;
    CU_ASSERT(series_prepare(&in, 1, &o, "short", &tr, &va, &te, &m, &err) == -1);
    CU_ASSERT(strstr(err.msg, "no training window") != NULL);
    o.window = 3;
    o.horizon = 0;
    CU_ASSERT(series_prepare(&in, 1, &o, "k0", &tr, &va, &te, &m, &err) == -1);
    CU_ASSERT(strstr(err.msg, "horizon") != NULL);
}

/* ---- end to end through exprun ------------------------------------------------------------- */

static double last_row_column(const char *run_dir, const char *col) {
    char path[1200];
    snprintf(path, sizeof path, "%s/results.h5", run_dir);
    H5Reader *r;
    ExError err;
    if (h5r_open(&r, path, &err) != 0) return NAN;
    int ncols;
    char **names;
    int64_t nrows;
    double *rows, v = NAN;
    if (h5r_read_table(r, "/metrics/epochs", &ncols, &names, &nrows, &rows, &err) == 0) {
        for (int c = 0; c < ncols; c++)
            if (strcmp(names[c], col) == 0 && nrows > 0) v = rows[(nrows - 1) * ncols + c];
        h5r_free_strings(names, (size_t)ncols);
        free(rows);
    }
    h5r_close(r);
    return v;
}

/* A noiseless sine wave, 10 + 2 sin(2πt/20): persistence is off by ~0.4 a step, an LSTM that
 * has seen a few periods forecasts it almost exactly. The report must say so in data units. */
static void test_exprun_beats_persistence_on_a_sine(void) {
    char csv[1024], spec[1024], dir[1024], cmd[8192];
    snprintf(csv, sizeof csv, "%s/sine.csv", tmp);
    FILE *f = fopen(csv, "w");
    CU_ASSERT_FATAL(f != NULL);
    fprintf(f, "date,price\n");
    for (int t = 0; t < 300; t++) fprintf(f, "day %d,%.6f\n", t, 10.0 + 2.0 * sin(2.0 * M_PI * t / 20.0));
    fclose(f);
    snprintf(spec, sizeof spec, "%s/sine.yaml", tmp);
    char text[2048];
    snprintf(text, sizeof text,
             "version: 1\nname: sine\nseed: 3\nthreads: 1\n"
             "data: {source: series, path: sine.csv, window: 10, horizon: 1, transform: diff,\n"
             "       scale: standardize, test_fraction: 0.2, validation_fraction: 0.1}\n"
             "model: {type: lstm, units: [8], input: features, head: last_step}\n"
             "loss: squared_error\n"
             "optimizer: {type: adam, lr: 0.01}\n"
             "train: {epochs: 15, batch_size: 32, checkpoint_every: 0}\n");
    rc_write_text(spec, text);
    snprintf(dir, sizeof dir, "%s/run", tmp);
    snprintf(cmd, sizeof cmd, "%s %s --out %s --quiet > %s/out.txt 2>&1", exprun_bin(), spec, dir, tmp);
    CU_ASSERT_EQUAL_FATAL(run_command(cmd), 0);
    double model = last_row_column(dir, "test_mse_price"), pers = last_row_column(dir, "test_persistence_mse_price");
    double mae = last_row_column(dir, "test_mae_price"), pers_mae = last_row_column(dir, "test_persistence_mae_price");
    /* persistence on this wave: mean of (v[t+1] − v[t])² over the last 60 steps ≈ 0.196 */
    CU_ASSERT(pers > 0.15 && pers < 0.25);
    CU_ASSERT(model < 0.05 * pers);
    CU_ASSERT(mae < pers_mae);
    CU_ASSERT_DOUBLE_EQUAL(last_row_column(dir, "test_skill"), 1.0 - model / pers, 1e-9);
    CU_ASSERT(last_row_column(dir, "val_mse_price") < last_row_column(dir, "val_persistence_mse_price"));
    /* the forecasts themselves, for plots */
    char path[1200];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    H5Reader *r;
    ExError err;
    CU_ASSERT_FATAL(h5r_open(&r, path, &err) == 0);
    int rank = 0;
    int64_t dims[8] = {0};
    CU_ASSERT(h5r_shape(r, "/forecast/test/forecast", &rank, dims, &err) == 0 && rank == 1 && dims[0] == 60);
    CU_ASSERT(h5r_exists(r, "/forecast/test/truth") && h5r_exists(r, "/forecast/test/persistence") &&
              h5r_exists(r, "/forecast/test/date"));
    h5r_close(r);
}

/* Several series in one file share the test period: they must end on the same date. And the
 * spec refuses a forecasting model that would not produce one value per window. */
static void test_exprun_checks_series_and_spec(void) {
    char csv[1024], spec[1024], cmd[8192], text[2048];
    snprintf(csv, sizeof csv, "%s/two.csv", tmp);
    FILE *f = fopen(csv, "w");
    CU_ASSERT_FATAL(f != NULL);
    fprintf(f, "symbol,date,price\n");
    for (int t = 0; t < 40; t++) fprintf(f, "AAA,m%d,%d\n", t, 10 + t);
    for (int t = 0; t < 41; t++) fprintf(f, "BBB,m%d,%d\n", t, 20 + t);
    fclose(f);
    snprintf(spec, sizeof spec, "%s/two.yaml", tmp);
    snprintf(text, sizeof text,
             "version: 1\nname: two\nthreads: 1\n"
             "data: {source: series, path: two.csv, filter_column: symbol, filter_value: \"AAA, BBB\", window: 4}\n"
             "model: {type: gru, units: [4], input: features, head: last_step}\n"
             "loss: squared_error\ntrain: {epochs: 1}\noutput: {root: %s/results}\n", tmp);
    rc_write_text(spec, text);
    snprintf(cmd, sizeof cmd, "%s %s --quiet > %s/out2.txt 2> %s/err2.txt", exprun_bin(), spec, tmp, tmp);
    CU_ASSERT_EQUAL(run_command(cmd), 3);
    char path[1200], msg[4096] = "";
    snprintf(path, sizeof path, "%s/err2.txt", tmp);
    f = fopen(path, "r");
    CU_ASSERT_FATAL(f != NULL);
    size_t n = fread(msg, 1, sizeof msg - 1, f);
    msg[n] = '\0';
    fclose(f);
    CU_ASSERT(strstr(msg, "AAA ends on m39 but BBB on m40") != NULL);
    /* the same file with one symbol trains */
    snprintf(cmd, sizeof cmd, "%s %s data.filter_value=BBB --quiet > /dev/null 2>&1", exprun_bin(), spec);
    CU_ASSERT_EQUAL(run_command(cmd), 0);
    /* per-step head: a spec error (exit 2) naming model.head */
    snprintf(cmd, sizeof cmd, "%s validate %s model.head=per_step > %s/out3.txt 2>&1", exprun_bin(), spec, tmp);
    CU_ASSERT_EQUAL(run_command(cmd), 2);
    snprintf(path, sizeof path, "%s/out3.txt", tmp);
    f = fopen(path, "r");
    CU_ASSERT_FATAL(f != NULL);
    n = fread(msg, 1, sizeof msg - 1, f);
    msg[n] = '\0';
    fclose(f);
    CU_ASSERT(strstr(msg, "model.head") != NULL && strstr(msg, "last_step") != NULL);
}

int main(void) {
    tmp = make_temp_dir("series");
    TestCase cases[] = {{"time split: no target of a later set precedes an earlier one", test_split_has_no_leakage},
                        {"diff and log_return windows", test_changes_need_one_more_value},
                        {"scaling uses the training period only", test_scaling_uses_training_period_only},
                        {"persistence baseline by hand", test_persistence_by_hand},
                        {"forecasts map back to data units", test_forecast_inverts_every_transform},
                        {"bad series are errors", test_bad_input_is_an_error},
                        {"exprun beats persistence on a sine wave", test_exprun_beats_persistence_on_a_sine},
                        {"exprun checks series ends and the spec", test_exprun_checks_series_and_spec},
                        {NULL, NULL}};
    int rc = run_tests_in("series", cases, tmp);
    return rc;
}
