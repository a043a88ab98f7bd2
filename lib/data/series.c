/* series.c — forecasting windows, the time split, training-only scaling and the map back to
 * the data's units (the equations and the split are in series.h). */
#include "series.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const TRANSFORM_NAMES[] = {"none", "diff", "log_return"};

const char *series_transform_name(SeriesTransform t) { return (unsigned)t < 3 ? TRANSFORM_NAMES[t] : "?"; }

int series_transform_from_name(const char *name, SeriesTransform *t) {
    for (int i = 0; name && i < 3; i++)
        if (strcmp(name, TRANSFORM_NAMES[i]) == 0) {
            *t = (SeriesTransform)i;
            return 0;
        }
    return -1;
}

/* The transformed value of step u: the level itself, or the change into u. */
static double step_value(const float *v, int u, SeriesTransform tf) {
    switch (tf) {
    case SERIES_DIFF: return (double)v[u] - (double)v[u - 1];
    case SERIES_LOG_RETURN: return log((double)v[u] / (double)v[u - 1]);
    default: return v[u];
    }
}

/* The target of a window ending at t: v[t+k], or its change from v[t]. */
static double target_value(const float *v, int t, int k, SeriesTransform tf) {
    switch (tf) {
    case SERIES_DIFF: return (double)v[t + k] - (double)v[t];
    case SERIES_LOG_RETURN: return log((double)v[t + k] / (double)v[t]);
    default: return v[t + k];
    }
}

/* Which set a target time falls in: 0 train, 1 validation, 2 test. */
static int set_of(int time, int val_start, int test_start) { return time >= test_start ? 2 : time >= val_start ? 1 : 0; }

static void alloc_set(Dataset *ds, SeriesTargets *tg, int n, int T, int with_dates, const char *source) {
    memset(ds, 0, sizeof *ds);
    memset(tg, 0, sizeof *tg);
    snprintf(ds->source, sizeof ds->source, "%.500s", source);
    ds->n = n;
    ds->T = T;
    ds->d = 1;
    ds->Ty = 1;
    ds->dy = 1;
    tg->n = n;
    if (n == 0) return;
    ds->x = ex_malloc((size_t)n * (size_t)T * sizeof(float));
    ds->y = ex_malloc((size_t)n * sizeof(float));
    tg->last = ex_malloc((size_t)n * sizeof(float));
    tg->truth = ex_malloc((size_t)n * sizeof(float));
    tg->series = ex_malloc((size_t)n * sizeof(int32_t));
    tg->index = ex_malloc((size_t)n * sizeof(int32_t));
    tg->time = ex_malloc((size_t)n * sizeof(int32_t));
    if (with_dates) tg->dates = ex_calloc((size_t)n, sizeof(char *));
}

static void free_targets(SeriesTargets *tg) {
    for (int i = 0; tg->dates && i < tg->n; i++) free(tg->dates[i]);
    free(tg->dates);
    free(tg->last);
    free(tg->truth);
    free(tg->series);
    free(tg->index);
    free(tg->time);
    memset(tg, 0, sizeof *tg);
}

void series_meta_free(SeriesMeta *m) {
    if (!m) return;
    scaler_free(&m->x_scaler);
    scaler_free(&m->y_scaler);
    free_targets(&m->train);
    free_targets(&m->val);
    free_targets(&m->test);
    memset(m, 0, sizeof *m);
}

static int check_options(const SeriesOptions *o, const char *src, ExError *err) {
    if (o->window < 1) return ex_fail(err, "%s: window must be at least 1, got %d", src, o->window);
    if (o->horizon < 1) return ex_fail(err, "%s: horizon must be at least 1, got %d", src, o->horizon);
    if (!(o->test_fraction >= 0.0 && o->test_fraction < 1.0))
        return ex_fail(err, "%s: test_fraction %g is not in [0, 1)", src, o->test_fraction);
    if (!(o->validation_fraction >= 0.0 && o->validation_fraction < 1.0))
        return ex_fail(err, "%s: validation_fraction %g is not in [0, 1)", src, o->validation_fraction);
    if ((unsigned)o->transform > SERIES_LOG_RETURN) return ex_fail(err, "%s: unknown transform", src);
    return 0;
}

static int check_values(const SeriesInput *s, int which, int n_series, SeriesTransform tf, const char *src,
                        ExError *err) {
    char where[64] = "";
    if (n_series > 1) snprintf(where, sizeof where, " (series %d)", which + 1);
    for (int j = 0; j < s->len; j++) {
        if (!isfinite(s->values[j]))
            return ex_fail(err, "%s%s: value %d is not finite", src, where, j + 1);
        if (tf == SERIES_LOG_RETURN && !(s->values[j] > 0.0f))
            return ex_fail(err, "%s%s: value %d%s%s%s is %g, but transform log_return needs values > 0 "
                                "(use transform: diff)",
                           src, where, j + 1, s->dates ? " (" : "", s->dates ? s->dates[j] : "", s->dates ? ")" : "",
                           (double)s->values[j]);
    }
    return 0;
}

int series_prepare(const SeriesInput *series, int n_series, const SeriesOptions *opt, const char *source,
                   Dataset *train, Dataset *val, Dataset *test, SeriesMeta *meta, ExError *err) {
    memset(train, 0, sizeof *train);
    memset(val, 0, sizeof *val);
    memset(test, 0, sizeof *test);
    memset(meta, 0, sizeof *meta);
    const char *src = source ? source : "series";
    if (check_options(opt, src, err) != 0) return -1;
    if (n_series < 1) return ex_fail(err, "%s: no series", src);
    int T = opt->window, k = opt->horizon, lmax = 0, with_dates = 1;
    SeriesTransform tf = opt->transform;
    for (int i = 0; i < n_series; i++) {
        if (check_values(&series[i], i, n_series, tf, src, err) != 0) return -1;
        if (series[i].len > lmax) lmax = series[i].len;
        if (!series[i].dates) with_dates = 0;
    }
    meta->opt = *opt;
    meta->timeline = lmax;
    int n_test_times = (int)llround(opt->test_fraction * lmax);
    meta->test_start = lmax - n_test_times;
    meta->val_start = meta->test_start - (int)llround(opt->validation_fraction * meta->test_start);

    /* The first window ends at t0: T values back, one more for a change. */
    int t0 = T - 1 + (tf != SERIES_NONE);
    int count[3] = {0, 0, 0};
    for (int i = 0; i < n_series; i++) {
        int off = lmax - series[i].len;
        for (int t = t0; t + k < series[i].len; t++) count[set_of(t + k + off, meta->val_start, meta->test_start)]++;
    }
    if (count[0] == 0)
        return ex_fail(err,
                       "%s: no training window: %d value%s (longest series) with window %d, horizon %d%s, and the "
                       "last %d for validation and test (lower window, horizon or the fractions)",
                       src, lmax, lmax == 1 ? "" : "s", T, k, tf != SERIES_NONE ? " and one more for the change" : "",
                       lmax - meta->val_start);

    Dataset *sets[3] = {train, val, test};
    SeriesTargets *tgs[3] = {&meta->train, &meta->val, &meta->test};
    char desc[600];
    snprintf(desc, sizeof desc, "%.400s (window %d, horizon %d, %s)", src, T, k, series_transform_name(tf));
    for (int s = 0; s < 3; s++) alloc_set(sets[s], tgs[s], count[s], T, with_dates, desc);

    int fill[3] = {0, 0, 0};
    for (int i = 0; i < n_series; i++) {
        const float *v = series[i].values;
        int off = lmax - series[i].len;
        for (int t = t0; t + k < series[i].len; t++) {
            int time = t + k + off, s = set_of(time, meta->val_start, meta->test_start), r = fill[s]++;
            float *x = sets[s]->x + (size_t)r * (size_t)T;   /* (T) */
            for (int step = 0; step < T; step++) x[step] = (float)step_value(v, t - T + 1 + step, tf);
            sets[s]->y[r] = (float)target_value(v, t, k, tf);
            SeriesTargets *tg = tgs[s];
            tg->last[r] = v[t];
            tg->truth[r] = v[t + k];
            tg->series[r] = i;
            tg->index[r] = t + k;
            tg->time[r] = time;
            if (tg->dates) tg->dates[r] = strdup(series[i].dates[t + k]);
        }
    }

    /* Statistics of the training windows only; the other sets reuse them. */
    scaler_fit(&meta->x_scaler, opt->scale, train);
    Dataset y_view = {.n = train->n, .T = 1, .d = 1, .x = train->y};
    scaler_fit(&meta->y_scaler, opt->scale, &y_view);
    for (int s = 0; s < 3; s++) {
        if (sets[s]->n == 0) continue;
        scaler_apply(&meta->x_scaler, sets[s]);
        scaler_apply_targets(&meta->y_scaler, sets[s]);
    }
    return 0;
}

void series_forecast(float *out, const float *pred, const SeriesTargets *tg, const SeriesMeta *m) {
    for (int i = 0; i < tg->n; i++) {
        float y = pred[i];
        scaler_invert(&m->y_scaler, &y, 1);   /* back to the transform's units */
        double last = tg->last[i];
        switch (m->opt.transform) {
        case SERIES_DIFF: out[i] = (float)(last + y); break;
        case SERIES_LOG_RETURN: out[i] = (float)(last * exp((double)y)); break;
        default: out[i] = y; break;
        }
    }
}

ForecastErrors forecast_errors(const float *forecast, const float *truth, int n) {
    ForecastErrors e = {NAN, NAN};
    if (n <= 0) return e;
    double se = 0.0, ae = 0.0;
    for (int i = 0; i < n; i++) {
        double d = (double)forecast[i] - (double)truth[i];
        se += d * d;
        ae += fabs(d);
    }
    e.mse = se / n;
    e.mae = ae / n;
    return e;
}
