/* runspec.h — a run's resolved spec (RUN_DIR/resolved.yaml), typed: what every command that
 * works on a finished run (sample, encode, predict) starts from. */
#ifndef EXPRUN_RUNSPEC_H
#define EXPRUN_RUNSPEC_H

#include "spec/spec.h"

/* 0 with *spec filled (spec_free it), or −1 after printing why on stderr: RUN_DIR is not a run
 * directory, or its resolved.yaml no longer validates (with the spec's own diagnostics). */
int run_spec_load(const char *run_dir, Spec *spec);
/* The same from a resolved spec's text (a checkpoint's /spec); `name` is where it came from, for
 * the diagnostics. 0, or −1 after printing them. */
int run_spec_parse(const char *text, const char *name, Spec *spec);
/* RUN_DIR/PREFIX-NAME.h5, NAME = input's file name up to its first dot: where a command writes
 * what it made from an input file by default (codes-…, predictions-…). */
void run_output_path(char *out, size_t cap, const char *run_dir, const char *prefix, const char *input);

#endif
