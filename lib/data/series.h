/* series.h — forecasting windows cut from series (stock prices), split by time, scaled with the
 * training period's statistics only, and forecasts mapped back to the data's own units.
 *
 * Shape letters: n = windows, T = window length (steps the model sees), k = horizon.
 *
 * A series is v[0..L). A window ends at t, the last value the model sees; its target is v[t+k]
 * (k ≥ 1: k = 1 is next-step forecasting). The model gets T steps of one feature, x (n, T, 1),
 * and one target, y (n, 1, 1), in a form the transform picks:
 *   none        x_s = v[t−T+1+s]                         y = v[t+k]             v̂ = ŷ
 *   diff        x_s = v[u] − v[u−1],      u = t−T+1+s    y = v[t+k] − v[t]      v̂ = v[t] + ŷ
 *   log_return  x_s = log(v[u] / v[u−1]), u = t−T+1+s    y = log(v[t+k] / v[t]) v̂ = v[t]·exp(ŷ)
 * (s = 0..T−1; diff and log_return look one value further back, to v[t−T]). With diff and
 * log_return ŷ = 0 is the persistence forecast v̂[t+k] = v[t] ("tomorrow = today"): the model
 * learns a correction to it, on numbers that are stationary, so a price level the training
 * period never reached (a 2009 price after training on 2000–2007) is not out of range.
 *
 * The time split. Several series (five stock symbols) share one timeline, aligned at their END
 * (the caller checks that they end on the same date): value j of a series of length L sits at
 * time j + (Lmax − L), Lmax the longest length. The last P = round(test_fraction · Lmax) times
 * are the test period, the Q = round(validation_fraction · (Lmax − P)) times before them the
 * validation period, the rest the training period. A window belongs to the set whose period
 * holds the time of its TARGET. Hence every training target comes before every validation
 * target, which comes before every test target, in every series at once — a market-wide move in
 * the test months is never learnt from another symbol's training windows. A test window's
 * inputs may reach back into the training period: at forecast time the past is known.
 *
 * Scaling (ScaleType, dataset.h): the inputs x with one scaler fitted on the training windows'
 * inputs, the targets y with another fitted on the training targets; validation and test are
 * mapped with those statistics, never their own. */
#ifndef EXPRUN_SERIES_H
#define EXPRUN_SERIES_H

#include <stdint.h>

#include "dataset.h"
#include "error.h"

typedef enum SeriesTransform { SERIES_NONE, SERIES_DIFF, SERIES_LOG_RETURN } SeriesTransform;

const char *series_transform_name(SeriesTransform t);             /* "none", "diff", "log_return" */
int series_transform_from_name(const char *name, SeriesTransform *t);

typedef struct SeriesOptions {
    int window;                     /* T ≥ 1 */
    int horizon;                    /* k ≥ 1 */
    SeriesTransform transform;
    ScaleType scale;                /* for both x and y */
    double test_fraction;           /* of the timeline, in [0, 1) */
    double validation_fraction;     /* of what the test period leaves, in [0, 1) */
} SeriesOptions;

/* One series as loaded (csv_load_series): values in time order, dates optional (NULL). */
typedef struct SeriesInput {
    const float *values;            /* (len) */
    int len;
    const char *const *dates;       /* (len) or NULL */
} SeriesInput;

/* One set's windows, in the data's own units: what turns model outputs into forecasts. */
typedef struct SeriesTargets {
    int n;
    float *last;                    /* (n) v[t], the last value the window saw = persistence forecast */
    float *truth;                   /* (n) v[t+k], the value to forecast */
    int32_t *series;                /* (n) which input series */
    int32_t *index;                 /* (n) t + k, the target's index in its own series */
    int32_t *time;                  /* (n) the target's time on the shared timeline */
    char **dates;                   /* (n) the target's date (copies), or NULL without dates */
} SeriesTargets;

typedef struct SeriesMeta {
    SeriesOptions opt;
    Scaler x_scaler, y_scaler;      /* fitted on the training windows only */
    SeriesTargets train, val, test; /* row i matches row i of the matching Dataset */
    int timeline;                   /* Lmax */
    int val_start, test_start;      /* first time of the validation / test period */
} SeriesMeta;

/* Cut, split and scale the windows of n_series series (see above) into train/val/test,
 * x (n, T, 1) and y (n, 1, 1) in model units, and fill meta. A set with no window has n = 0.
 * Errors: T or k < 1, a fraction out of range, log_return on a value ≤ 0, no training window
 * (every series too short for T + k, or the test and validation periods take everything). */
int series_prepare(const SeriesInput *series, int n_series, const SeriesOptions *opt, const char *source,
                   Dataset *train, Dataset *val, Dataset *test, SeriesMeta *meta, ExError *err);
void series_meta_free(SeriesMeta *m);

/* Model outputs pred (n) for the windows of tg (scaled y) → forecasts out (n) in the data's
 * units: invert the target scaling, then the transform (table above). out may equal pred. */
void series_forecast(float *out, const float *pred, const SeriesTargets *tg, const SeriesMeta *m);

typedef struct ForecastErrors {
    double mse;                     /* (1/n) Σ (v̂_i − v_i)² */
    double mae;                     /* (1/n) Σ |v̂_i − v_i| */
} ForecastErrors;

/* Errors of forecasts against truth (both (n), data units), in double. The persistence
 * baseline of a set is forecast_errors(tg->last, tg->truth, tg->n). NaN for n = 0. */
ForecastErrors forecast_errors(const float *forecast, const float *truth, int n);

#endif
