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

/* exprun args (a shell fragment) > log; its exit status. */
static int run(const char *args, const char *log) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && %s %s > '%s' 2>&1", tmp, exprun_bin(), args, log);
    return run_command(cmd);
}

static void write_spec(const char *path) {
    char text[2048];
    snprintf(text, sizeof text,
             "version: 1\nseed: 3\ndata: {source: adding, train_size: 64, test_size: 16, length: 10}\n"
             "model: {type: lstm, units: [8], input: features, head: last_step}\nloss: squared_error\n"
             "train: {epochs: 1, batch_size: 16}\noutput: {root: %s/results}\n",
             tmp);
    rc_write_text(path, text);
}

/* Run names that are not one folder of their own: refused with the key path, before anything is
 * made (before: `..` made ./STAMP beside results/, `.` and "" put runs straight into results/, a
 * long name was cut in the middle of a UTF-8 character). */
static void test_run_names(void) {
    char spec[1200], log[1200], args[4000], long_name[400];
    snprintf(spec, sizeof spec, "%s/spec.yaml", tmp);
    snprintf(log, sizeof log, "%s/names.log", tmp);
    write_spec(spec);
    memset(long_name, 'a', 199);
    memcpy(long_name + 199, "\xc3\xa9", 2);   /* é across the 200-byte mark */
    long_name[201] = '\0';
    const char *names[] = {"..", ".", "''", long_name, "'a\\x01b'", "$(printf 'a\\xffb')"};
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

int main(void) {
    tmp = make_temp_dir("hostile");
    static const TestCase cases[] = {
        {"run names that are not one folder: exit 2, key path, nothing made", test_run_names},
        {NULL, NULL},
    };
    return run_tests("hostile", cases);
}
