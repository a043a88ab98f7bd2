/* build.h — the model a spec describes, sized from its data. */
#ifndef EXPRUN_BUILD_H
#define EXPRUN_BUILD_H

#include "model.h"
#include "rundata.h"
#include "spec/spec.h"

/* Build and initialise (from the seed's "init" stream) the model of spec for data rd.
 * Warnings a user should see (e.g. an overcomplete plain autoencoder) go into warn (may be
 * empty), one per line. Sets the products' precision (train.precision) for what follows.
 * Returns 0; -1 with err; or BUILD_REFUSED when the model's memory estimate is more than the
 * machine has (memory.h: refused before anything is allocated) or the CPU cannot run the
 * precision asked for: a spec error, exit 2. */
enum { BUILD_REFUSED = -2 };
int build_model(const Spec *spec, const RunData *rd, Model **out, char *warn, size_t warn_cap,
                ExError *err);
/* The bytes the last model built (or refused) was estimated to need in training. */
double build_memory_estimate(void);

#endif
