/* commands.h — the commands that do not train: validate, show, keys, sample. */
#ifndef EXPRUN_COMMANDS_H
#define EXPRUN_COMMANDS_H

#include "spec/spec.h"

int command_validate(const char *spec_path, char *const *overrides, int n_overrides);
/* The resolved spec on stdout; origins: each value followed by where it came from. */
int command_show(const char *spec_path, char *const *overrides, int n_overrides, int origins);
/* The schema's keys, all or those at and below prefix (NULL: all). */
int command_keys(const char *prefix);
/* Text from a run's weights: checkpoint is latest (NULL), best or a checkpoint file. */
int command_sample(const char *run_dir, const char *checkpoint, const char *prime, int length, double temperature,
                   unsigned long long seed);

/* spec_check_data_files, its problems printed as spec errors: 0, or -1 (then exit 2). */
int check_data_files_or_report(const Spec *spec, const char *spec_path);

#endif
