/* runspec.h — a run's resolved spec (RUN_DIR/resolved.yaml), typed: what every command that
 * works on a finished run (sample, encode, predict) starts from. */
#ifndef EXPRUN_RUNSPEC_H
#define EXPRUN_RUNSPEC_H

#include "spec/spec.h"

/* 0 with *spec filled (spec_free it), or −1 after printing why on stderr: RUN_DIR is not a run
 * directory, or its resolved.yaml no longer validates (with the spec's own diagnostics). */
int run_spec_load(const char *run_dir, Spec *spec);

#endif
