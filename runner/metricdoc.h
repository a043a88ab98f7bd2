/* metricdoc.h — what each column of the metrics tables holds, in words and units, written beside
 * the tables (results.h5: an attribute per column of /metrics/epochs and /metrics/steps) so that
 * a table read in h5py or HDFView explains itself: e.g. that an autoencoder's loss is summed over
 * the 784 values of an image and averaged over the images. */
#ifndef EXPRUN_METRICDOC_H
#define EXPRUN_METRICDOC_H

#include <stddef.h>

#include "model.h"

/* The description of `column` of the per-epoch table (per_step = 0) or the per-step one; the
 * loss's own definition comes from the model (ModelOps.describe_loss). A column it does not know
 * gets a pointer to the docs. */
void metric_describe(const char *column, int per_step, const Model *model, char *buf, size_t cap);

#endif
