/* runkeys.h — a run's overrides (overrides.txt: one `key=value` a line) as key = value pairs, and,
 * over a set of runs, the keys that tell them apart: a sweep's swept keys. summarize makes them its
 * typed columns (the keys every run shares, such as threads=1 in a sweep, left out of the printed
 * table); plot makes them its legend labels. */
#ifndef EXPRUN_RUNKEYS_H
#define EXPRUN_RUNKEYS_H

typedef struct RunKeys {
    int n;
    char **keys;       /* "optimizer.lr" */
    char **values;     /* "1.0e-3" (as written: YAML flow text) */
} RunKeys;

/* One override "key=value" (a line without '=' is kept whole as a key with value ""). A key
 * given again replaces its value, as the later override wins in a spec. */
void run_keys_add(RunKeys *k, const char *override);
/* Every line of text (overrides.txt's content; NULL for none). */
void run_keys_parse(RunKeys *k, const char *text);
/* The value of key, or NULL when the run does not set it. */
const char *run_keys_get(const RunKeys *k, const char *key);
void run_keys_free(RunKeys *k);

/* The keys any of the n runs sets, given to each run that does not set one with the value its
 * resolved spec (dirs[i]/resolved.yaml) holds, so that a key shows what every run used; a value a
 * run set stays as it was written ("data.h5", not the absolute path the spec resolved it to). A
 * run without a resolved spec, or whose spec lacks the key, stays without it. */
void run_keys_complete(RunKeys *runs, int n, char *const *dirs);

/* A key of a set of runs: whether its values tell the runs apart (a run without the key counts
 * as a value of its own) and whether every value given is a number. */
typedef struct KeyColumn {
    char *key;
    int varies;
    int numeric;
} KeyColumn;

/* Every key any of the n runs sets, in order of first appearance. *cols is malloc'd; free with
 * key_columns_free. Returns the count. */
int key_columns(const RunKeys *runs, int n, KeyColumn **cols);
void key_columns_free(KeyColumn *cols, int n);

/* Whether text is a number in full ("0.02", "1e-3", "64"; not "64 units", not ""). */
int text_is_number(const char *text, double *value);

#endif
