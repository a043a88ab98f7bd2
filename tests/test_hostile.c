/* test_hostile.c — exprun fed what a hostile or careless user would feed it, through the command
 * line: each case gets a clear error (the key path or the file, what was wrong, what is expected),
 * exit 2 for a spec and 3 for data, and nothing created or half-written. (The data readers' own
 * cases are in test_data.c.) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runcheck.h"
#include "testutil.h"

static char *tmp;
static char spec[1200];   /* tmp/spec.yaml: a small LSTM on the adding problem (write_spec) */

/* exprun args (a shell fragment) > log; its exit status. */
static int run(const char *args, const char *log) {
    char cmd[16384];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s %s > '%s' 2>&1", tmp, exprun_bin(), args, log);
    return run_command(cmd);
}

static void write_spec(void) {
    char text[2048];
    snprintf(spec, sizeof spec, "%s/spec.yaml", tmp);
    snprintf(text, sizeof text,
             "version: 1\nseed: 3\ndata: {source: adding, train_size: 64, test_size: 16, length: 10}\n"
             "model: {type: lstm, units: [8], input: features, head: last_step}\nloss: squared_error\n"
             "train: {epochs: 1, batch_size: 16}\noutput: {root: %s/results}\n",
             tmp);
    rc_write_text(spec, text);
}

/* Run names that are not one folder of their own: refused with the key path, before anything is
 * made (before: `..` made ./STAMP beside results/, `.` and "" put runs straight into results/, a
 * long name was cut in the middle of a UTF-8 character). */
static void test_run_names(void) {
    char log[1200], args[4000], long_name[400];
    snprintf(log, sizeof log, "%s/names.log", tmp);
    memset(long_name, 'a', 199);
    memcpy(long_name + 199, "\xc3\xa9", 2);   /* é across the 200-byte mark */
    long_name[201] = '\0';
    /* '""' is YAML's empty string (a bare `name=` is YAML's null: not given, the file's name) */
    const char *names[] = {"..", ".", "'\"\"'", long_name, "'a\\x01b'", "$(printf 'a\\xffb')"};
    /* (control characters and bytes that are not UTF-8 are refused by the YAML reader itself) */
    const char *said[] = {"name: the run name", "name: the run name", "name: the run name", "name: the run name",
                          "name: control characters", "name: invalid leading UTF-8"};
    const char *why[] = {"'.' or '..'", "'.' or '..'", "is empty", "longer than 200 bytes", NULL, NULL};
    for (int k = 0; k < 6; k++) {
        snprintf(args, sizeof args, "'%s' name=%s", spec, k == 3 ? long_name : names[k]);
        if (k == 4) snprintf(args, sizeof args, "'%s' \"name=$(printf 'a\\001b')\"", spec);
        if (k == 5) snprintf(args, sizeof args, "'%s' \"name=$(printf 'a\\377b')\"", spec);
        CU_ASSERT_EQUAL(run(args, log), 2);
        CU_ASSERT(rc_log_has(log, said[k], why[k]));
    }
    /* nothing was made: no results folder, no STAMP folder beside it */
    CU_ASSERT(!rc_exists(rc_in_dir(tmp, "results")));
    CU_ASSERT_EQUAL(rc_count_files(tmp, ""), 2);   /* spec.yaml and names.log, nothing else */
    /* a good name still runs */
    snprintf(args, sizeof args, "'%s' name=fine-name_1.0 --quiet", spec);
    CU_ASSERT_EQUAL(run(args, log), 0);
    CU_ASSERT(rc_exists(rc_in_dir(tmp, "results/fine-name_1.0")));
}

/* Options with numbers: strict (atoi wrapped 99999999999; nan and -1 were taken as temperatures). */
static void test_sample_options(void) {
    char log[1200];
    snprintf(log, sizeof log, "%s/options.log", tmp);
    const char *args[] = {"sample RUN --length 99999999999", "sample RUN --temperature nan",
                          "sample RUN --temperature -1", "sample RUN --seed x"};
    const char *want[] = {"--length '99999999999': expected a whole number from 1 to 10000000",
                          "--temperature 'nan': expected a number from 0 to 100",
                          "--temperature '-1': expected a number", "--seed 'x': expected a whole number"};
    for (int k = 0; k < 4; k++) {
        CU_ASSERT_EQUAL(run(args[k], log), 2);
        CU_ASSERT(rc_log_has(log, want[k], NULL));
    }
}

/* Data that cannot make a run: exit 3 with the data named, and no run directory. */
static void test_unusable_data(void) {
    char log[1200], args[4000], text[1200];
    snprintf(log, sizeof log, "%s/data.log", tmp);
    snprintf(text, sizeof text, "%s/one.txt", tmp);
    rc_write_text(text, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    /* one symbol (before: "seqmodel config: n_out = 1", no file named) */
    char text_spec[1200], yaml[2048];
    snprintf(text_spec, sizeof text_spec, "%s/text.yaml", tmp);
    snprintf(yaml, sizeof yaml,
             "version: 1\nname: one\ndata: {source: text, path: %s, seq_len: 4}\n"
             "model: {type: lstm, units: [8], input: embedding, head: per_step}\nloss: softmax_cross_entropy\n"
             "train: {epochs: 1, batch_size: 2}\noutput: {root: %s/results}\n",
             text, tmp);
    rc_write_text(text_spec, yaml);
    snprintf(args, sizeof args, "'%s'", text_spec);
    CU_ASSERT_EQUAL(run(args, log), 3);
    CU_ASSERT(rc_log_has(log, "one.txt: the training text has 1 distinct byte", "at least 2"));
    /* too little data with drop_last (before: "exprun: : too little data", no name) */
    snprintf(args, sizeof args, "'%s' data.train_size=20 train.batch_size=50 train.drop_last=true name=few", spec);
    CU_ASSERT_EQUAL(run(args, log), 3);
    CU_ASSERT(rc_log_has(log, "adding problem (n=", "too little data for one batch of 50 (train.batch_size, with "
                                                    "train.drop_last: true)"));
    CU_ASSERT(!rc_exists(rc_in_dir(tmp, "results/one")) && !rc_exists(rc_in_dir(tmp, "results/few")));
}

/* An --out too long for its files, or with a folder name no file system takes: refused before any
 * folder is made (before: some 2,000 nested folders, then a failure). */
static void test_long_out(void) {
    char log[1200], args[12000], out[8000] = "deep";
    snprintf(log, sizeof log, "%s/out.log", tmp);
    while (strlen(out) < 4500) strcat(out, "/ab");
    snprintf(args, sizeof args, "'%s' --quiet --out '%s'", spec, out);
    CU_ASSERT_EQUAL(run(args, log), 3);
    CU_ASSERT(rc_log_has(log, "the directory path is 4501 bytes long", "at most 3900"));
    CU_ASSERT(!rc_exists(rc_in_dir(tmp, "deep")));
    char wide[400] = "wide/";
    memset(wide + 5, 'x', 300);
    wide[305] = '\0';
    snprintf(args, sizeof args, "'%s' --quiet --out '%s'", spec, wide);
    CU_ASSERT_EQUAL(run(args, log), 3);
    CU_ASSERT(rc_log_has(log, "is longer than 255 bytes", NULL));
    CU_ASSERT(!rc_exists(rc_in_dir(tmp, "wide")));
}

/* Sizes the schema allows but no machine has (model.units.0 = 1000000: 16 TB of weights):
 * refused from the memory estimate, with both numbers, before anything is allocated (before:
 * SIGABRT "out of memory allocating 4000013000016 x 4 bytes" in validate and in training). */
static void test_model_too_big(void) {
    char log[1200], args[4000];
    snprintf(log, sizeof log, "%s/big.log", tmp);
    snprintf(args, sizeof args, "validate '%s' 'model.units=[1000000]' name=big", spec);
    CU_ASSERT_EQUAL(run(args, log), 2);
    CU_ASSERT(rc_log_has(log, "the sequence model needs about", "TiB in training"));
    CU_ASSERT(rc_log_has(log, "more than the memory available (MemAvailable)", "model.units"));
    snprintf(args, sizeof args, "'%s' 'model.units=[1000000]' name=big --quiet", spec);
    CU_ASSERT_EQUAL(run(args, log), 2);
    CU_ASSERT(!rc_exists(rc_in_dir(tmp, "results/big")));
    /* validate prints the estimate of a model that fits */
    snprintf(args, sizeof args, "validate '%s'", spec);
    CU_ASSERT_EQUAL(run(args, log), 0);
    CU_ASSERT(rc_log_has(log, "memory: the model about", "in training (an estimate"));
#ifndef __SANITIZE_ADDRESS__   /* an ASan build cannot start under a small ulimit -v */
    /* a limit of the process's own (ulimit -v) counts too: 2 x 2000 units is about 1 GiB */
    snprintf(args, sizeof args, "'%s' 'model.units=[2000, 2000]' name=big --quiet", spec);
    char limited[4200];
    snprintf(limited, sizeof limited, "sh -c \"ulimit -v 600000; %s %s\"", exprun_bin(), args);
    char cmd[8400];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s > '%s' 2>&1", tmp, limited, log);
    CU_ASSERT_EQUAL(run_command(cmd), 2);
    CU_ASSERT(rc_log_has(log, "more than the address space left under the limit (ulimit -v)", NULL));
#endif
}

/* YAML's null for an optional key means "not given" (before: `labels: null` looked for a file
 * called null; a quoted "null" is still a name). */
static void test_yaml_null(void) {
    char csv[1200], nulls[1200], log[1200], args[4000], yaml[2048];
    snprintf(csv, sizeof csv, "%s/table.csv", tmp);
    rc_write_text(csv, "a,b,c\n1,2,3\n4,5,6\n7,8,9\n1,1,1\n2,2,2\n3,3,3\n4,4,4\n5,5,5\n6,6,6\n7,7,7\n");
    snprintf(nulls, sizeof nulls, "%s/nulls.yaml", tmp);
    snprintf(yaml, sizeof yaml,
             "version: 1\nname: null\ndata: {source: csv, path: %s, label_column: null, test_path: ~}\n"
             "model: {type: autoencoder, code: 2}\nloss: squared_error\ntrain: {batch_size: 4}\n"
             "output: {root: %s/results}\n",
             csv, tmp);
    rc_write_text(nulls, yaml);
    snprintf(log, sizeof log, "%s/nulls.log", tmp);
    snprintf(args, sizeof args, "validate '%s'", nulls);
    CU_ASSERT_EQUAL(run(args, log), 0);
    CU_ASSERT(rc_log_has(log, "examples of 1 x 3", "output: "));   /* 3 features: no label column */
    CU_ASSERT(rc_log_has(log, "/results/nulls/ is writable", NULL));   /* the name from the file */
    snprintf(args, sizeof args, "validate '%s' 'data.label_column=\"null\"'", nulls);
    CU_ASSERT_EQUAL(run(args, log), 3);
    CU_ASSERT(rc_log_has(log, "no column 'null'", NULL));
}

/* A run's files may hold any bytes (a status or overrides edited by a tool or a user):
 * `summarize` shows them escaped, never as a terminal escape sequence (before: written raw). */
static void test_summarize_escapes(void) {
    char log[1200], args[4000], dir[1200];
    snprintf(log, sizeof log, "%s/summary.log", tmp);
    snprintf(dir, sizeof dir, "%s/tampered", tmp);
    snprintf(args, sizeof args, "'%s' --quiet --out '%s'", spec, dir);
    CU_ASSERT_FATAL(run(args, log) == 0);
    rc_write_text(rc_in_dir(dir, "status"), "\x1b[2J\x1b]0;owned\x07" "done\n");
    /* a value (shown in the CSV's overrides column) and a key (a column of the table and the CSV) */
    rc_write_text(rc_in_dir(dir, "overrides.txt"), "optimizer.lr=0.1\x1b[31m\xff\nseed\x1b[1m=3\n");
    for (int csv = 0; csv < 2; csv++) {
        snprintf(args, sizeof args, "summarize '%s'%s", dir, csv ? " --csv" : "");
        CU_ASSERT_EQUAL(run(args, log), 0);
        char *out = rc_slurp(log);
        CU_ASSERT_FATAL(out != NULL);
        CU_ASSERT(strchr(out, '\x1b') == NULL && strchr(out, '\x07') == NULL && strchr(out, '\xff') == NULL);
        CU_ASSERT(strstr(out, "\\x1b[2J\\x1b]0;owned\\x07done") != NULL);
        if (csv) CU_ASSERT(strstr(out, "optimizer.lr=0.1\\x1b[31m\\xff") != NULL);
        CU_ASSERT(strstr(out, "seed\\x1b[1m") != NULL);
        free(out);
    }
}

int main(void) {
    tmp = make_temp_dir("hostile");
    write_spec();
    static const TestCase cases[] = {
        {"run names that are not one folder: exit 2, key path, nothing made", test_run_names},
        {"sample's numeric options are strict: exit 2", test_sample_options},
        {"one-symbol text, too little data with drop_last: exit 3, data named, nothing made", test_unusable_data},
        {"an --out too long, or with a folder name too long: refused before any folder", test_long_out},
        {"a model larger than the machine: exit 2 with the estimate and the limit, nothing made", test_model_too_big},
        {"YAML null for an optional key means not given", test_yaml_null},
        {"summarize shows a run's odd bytes escaped", test_summarize_escapes},
        {NULL, NULL},
    };
    return run_tests_in("hostile", cases, tmp);
}
