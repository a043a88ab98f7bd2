/* forecast.h — after training on series data: the model's forecasts on the validation and test
 * windows in the data's own units (prices), beside the persistence baseline v̂[t+k] = v[t]
 * ("tomorrow = today") on the very same windows.
 *
 * Columns on the last row of /metrics/epochs (and metrics.csv), for S = val and test:
 *   S_mse_price, S_mae_price                           the model
 *   S_persistence_mse_price, S_persistence_mae_price   the baseline
 *   S_skill = 1 − S_mse_price / S_persistence_mse_price  (> 0: the model beats persistence)
 * and in results.h5, for plots, one group per set:
 *   /forecast/S/{forecast, truth, persistence}  float32 (n)   in the data's units
 *   /forecast/S/{series, index}                 int32 (n)     which series, target's index in it
 *   /forecast/S/date                            strings (n)   the target's date
 *   /forecast attrs: transform, window, horizon. */
#ifndef EXPRUN_FORECAST_H
#define EXPRUN_FORECAST_H

#include "data/series.h"
#include "h5doc.h"
#include "model.h"
#include "rundata.h"

typedef struct ForecastSet {
    int n;
    float *forecast;                /* (n) the model's, data units */
    ForecastErrors model, persistence;
} ForecastSet;

typedef struct ForecastReport {
    int done;                       /* 0: not series data (nothing to write) */
    ForecastSet val, test;
    const SeriesMeta *meta;         /* borrowed from the RunData */
} ForecastReport;

/* Run the model (a sequence model with a last_step head) over the validation and test windows
 * in batches of at most batch_size and fill r. A no-op returning 0 unless rd->is_series. */
int forecast_evaluate(ForecastReport *r, Model *m, const RunData *rd, int batch_size, ExError *err);
/* Put the numbers in a metrics row: set(ctx, name, value) for each column listed above. */
void forecast_columns(const ForecastReport *r, void (*set)(void *ctx, const char *name, double value), void *ctx);
/* Add /forecast to a results document (nothing if !r->done). */
void forecast_write(const ForecastReport *r, H5Doc *doc);
void forecast_free(ForecastReport *r);

#endif
