/* forecast.c — the trained model's forecasts in the data's units, against persistence.
 *
 * For each window i of a set: the model's output ŷ_i (scaled target) → v̂_i in data units
 * (series_forecast: invert the target scaling, then the transform); the baseline is v[t_i]. Both
 * are scored against v[t_i + k] with the same mean squared and absolute error, so the two
 * numbers differ only in the forecast. */
#include "forecast.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


/* ŷ for every row of ds, in model units: out (n). */
static int predict(float *out, Model *m, const Dataset *ds, int batch_size, ExError *err) {
    int B = batch_size > 0 ? batch_size : 1;
    int32_t *rows = ex_malloc((size_t)B * sizeof(int32_t));
    float *x = ex_malloc((size_t)B * (size_t)ds->T * (size_t)ds->d * sizeof(float));   /* (B, T, d) */
    float *y = ex_malloc((size_t)B * (size_t)ds->Ty * (size_t)ds->dy * sizeof(float)); /* (B, 1, 1) */
    int rc = 0;
    for (int start = 0; start < ds->n && rc == 0; start += B) {
        int count = ds->n - start < B ? ds->n - start : B;
        for (int i = 0; i < count; i++) rows[i] = start + i;
        dataset_gather(ds, rows, count, x, NULL, NULL, y, NULL);
        Batch b = {.B = count, .T = ds->T, .d = ds->d, .x = x, .Ty = ds->Ty, .dy = ds->dy, .y = y};
        double loss = m->ops->eval_batch(m, &b, NULL);
        int out_rows = 0, n_out = 0;
        const float *z = m->ops->outputs(m, &out_rows, &n_out);   /* (B, n_out) */
        if (!isfinite(loss) || out_rows != count || n_out != 1) {
            rc = ex_fail(err, "%s: forecasting needs a last_step head with one output (%d rows of %d outputs "
                              "for a batch of %d%s%s)",
                         ds->source, out_rows, n_out, count, isfinite(loss) ? "" : "; ", isfinite(loss) ? "" : m->ops->last_error(m));
            break;
        }
        memcpy(out + start, z, (size_t)count * sizeof(float));
    }
    free(rows);
    free(x);
    free(y);
    return rc;
}

static int evaluate_set(ForecastSet *fs, Model *m, const Dataset *ds, const SeriesTargets *tg,
                        const SeriesMeta *meta, int batch_size, ExError *err) {
    memset(fs, 0, sizeof *fs);
    fs->model.mse = fs->model.mae = fs->persistence.mse = fs->persistence.mae = NAN;
    if (ds->n == 0) return 0;
    fs->n = ds->n;
    fs->forecast = ex_malloc((size_t)ds->n * sizeof(float));
    if (predict(fs->forecast, m, ds, batch_size, err) != 0) return -1;
    series_forecast(fs->forecast, fs->forecast, tg, meta);
    fs->model = forecast_errors(fs->forecast, tg->truth, tg->n);
    fs->persistence = forecast_errors(tg->last, tg->truth, tg->n);
    return 0;
}

int forecast_evaluate(ForecastReport *r, Model *m, const RunData *rd, int batch_size, ExError *err) {
    memset(r, 0, sizeof *r);
    if (!rd->is_series) return 0;
    if (!m->ops->outputs) return ex_fail(err, "forecasting needs a model with per-row outputs (rnn, lstm or gru)");
    r->meta = &rd->series;
    if (evaluate_set(&r->val, m, &rd->val, &rd->series.val, &rd->series, batch_size, err) != 0 ||
        evaluate_set(&r->test, m, &rd->test, &rd->series.test, &rd->series, batch_size, err) != 0)
        return -1;
    r->done = 1;
    return 0;
}

void forecast_columns(const ForecastReport *r, void (*set)(void *ctx, const char *name, double value), void *ctx) {
    if (!r->done) return;
    const ForecastSet *sets[2] = {&r->val, &r->test};
    const char *names[2] = {"val", "test"};
    char col[64];
    for (int s = 0; s < 2; s++) {
        const ForecastSet *fs = sets[s];
        if (fs->n == 0) continue;
#define COLUMN(suffix, value) \
    do { snprintf(col, sizeof col, "%s_%s", names[s], suffix); set(ctx, col, value); } while (0)
        COLUMN("mse_price", fs->model.mse);
        COLUMN("mae_price", fs->model.mae);
        COLUMN("persistence_mse_price", fs->persistence.mse);
        COLUMN("persistence_mae_price", fs->persistence.mae);
        COLUMN("skill", fs->persistence.mse > 0 ? 1.0 - fs->model.mse / fs->persistence.mse : NAN);
#undef COLUMN
    }
}

void forecast_write(const ForecastReport *r, H5Doc *doc) {
    if (!r->done) return;
    const SeriesMeta *meta = r->meta;
    h5doc_group(doc, "/forecast");
    h5doc_attr_str(doc, "/forecast", "transform", series_transform_name(meta->opt.transform));
    h5doc_attr_int(doc, "/forecast", "window", meta->opt.window);
    h5doc_attr_int(doc, "/forecast", "horizon", meta->opt.horizon);
    h5doc_attr_str(doc, "/forecast", "description",
                   "per set: the model's forecast, the truth v[t+k] and the persistence forecast v[t], in the "
                   "data's units; series and index locate each target, date names it");
    const ForecastSet *sets[2] = {&r->val, &r->test};
    const SeriesTargets *tgs[2] = {&meta->val, &meta->test};
    const char *names[2] = {"val", "test"};
    char path[64];
    for (int s = 0; s < 2; s++) {
        const ForecastSet *fs = sets[s];
        const SeriesTargets *tg = tgs[s];
        if (fs->n == 0) continue;
        int shape[1] = {fs->n};
        snprintf(path, sizeof path, "/forecast/%s/forecast", names[s]);
        h5doc_floats(doc, path, 1, shape, fs->forecast);
        snprintf(path, sizeof path, "/forecast/%s/truth", names[s]);
        h5doc_floats(doc, path, 1, shape, tg->truth);
        snprintf(path, sizeof path, "/forecast/%s/persistence", names[s]);
        h5doc_floats(doc, path, 1, shape, tg->last);
        snprintf(path, sizeof path, "/forecast/%s/series", names[s]);
        h5doc_int32s(doc, path, 1, shape, tg->series);
        snprintf(path, sizeof path, "/forecast/%s/index", names[s]);
        h5doc_int32s(doc, path, 1, shape, tg->index);
        if (tg->dates) {
            snprintf(path, sizeof path, "/forecast/%s/date", names[s]);
            h5doc_strings(doc, path, (size_t)fs->n, (const char *const *)tg->dates);
        }
    }
}

void forecast_free(ForecastReport *r) {
    if (!r) return;
    free(r->val.forecast);
    free(r->test.forecast);
    memset(r, 0, sizeof *r);
}
