/* test_cli.c — a command line that helps: a mistyped command gets a did-you-mean, a spec named
 * without its .yaml gets the name with it, `key value` gets `key=value`, the same key overridden
 * twice is refused, usage errors are one line and a pointer to the command's own --help (which
 * every command has), all with exit 2 and nothing run. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runcheck.h"
#include "testutil.h"

static char *tmp;
static char exe[PATH_MAX], spec[PATH_MAX];

/* exprun ARGS in tmp, stderr and stdout to LOG: its exit status. */
static int run(const char *args, const char *log) { return rc_sh(tmp, "%s %s > %s 2>&1", exe, args, log); }

static int lines_of(const char *log) {
    char *text = rc_slurp_text(rc_in_dir(tmp, log));
    int n = 0;
    for (const char *c = text; *c; c++) n += *c == '\n';
    free(text);
    return n;
}

static void test_mistyped_command(void) {
    CU_ASSERT_EQUAL(run("valdiate x.yaml", "c1.txt"), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "c1.txt"), "unknown command 'valdiate'", "did you mean 'validate'?"));
    CU_ASSERT_EQUAL(run("sumarize results", "c2.txt"), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "c2.txt"), "did you mean 'summarize'?", NULL));
    CU_ASSERT_EQUAL(run("frobnicate", "c3.txt"), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "c3.txt"), "no command or spec file 'frobnicate'", "try 'exprun --help'"));
}

static void test_spec_without_extension(void) {
    char args[PATH_MAX + 32];
    snprintf(args, sizeof args, "validate %.*s", (int)(strlen(spec) - 5), spec);   /* the name less ".yaml" */
    CU_ASSERT_EQUAL(run(args, "c4.txt"), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "c4.txt"), "did you mean ", "adding.yaml?"));
}

static void test_override_forms(void) {
    char args[PATH_MAX + 128];
    snprintf(args, sizeof args, "show %s optimizer.lr 1e-3", spec);
    CU_ASSERT_EQUAL(run(args, "c5.txt"), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "c5.txt"), "an override is one word, optimizer.lr=1e-3", NULL));
    snprintf(args, sizeof args, "show %s optimizer.lr=1e-3 train.epochs=2 optimizer.lr=2e-3", spec);
    CU_ASSERT_EQUAL(run(args, "c6.txt"), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "c6.txt"), "optimizer.lr is overridden twice", "give it once"));
    snprintf(args, sizeof args, "show %s optimizer.lr=1e-3 train.epochs=2", spec);
    CU_ASSERT_EQUAL(run(args, "c7.txt"), 0);
}

/* A usage error: two lines (what, and which --help), not the whole usage. */
static void test_usage_errors_are_short(void) {
    char args[PATH_MAX + 64];
    snprintf(args, sizeof args, "validate %s --bogus", spec);
    CU_ASSERT_EQUAL(run(args, "c8.txt"), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "c8.txt"), "--bogus", "try 'exprun validate --help'"));
    CU_ASSERT_EQUAL(lines_of("c8.txt"), 2);
    snprintf(args, sizeof args, "%s --epochs 3", spec);
    CU_ASSERT_EQUAL(run(args, "c9.txt"), 2);
    CU_ASSERT_EQUAL(lines_of("c9.txt"), 2);
}

/* Every command answers --help with its own usage, exit 0. */
static void test_every_command_has_help(void) {
    static const char *const commands[] = {"validate", "show",  "resume", "sample", "keys", "encode",
                                           "export",   "predict", "sweep", "summarize", "plot", "report"};
    for (size_t k = 0; k < sizeof commands / sizeof commands[0]; k++) {
        char args[64], want[64];
        snprintf(args, sizeof args, "%s --help", commands[k]);
        snprintf(want, sizeof want, "exprun %s", commands[k]);
        int rc = run(args, "help.txt");
        CU_ASSERT_EQUAL(rc, 0);
        int ok = rc_log_has(rc_in_dir(tmp, "help.txt"), "usage", want);
        if (!ok) fprintf(stderr, "\n    exprun %s --help\n", commands[k]);
        CU_ASSERT(ok);
    }
}

/* A data file that is not there: a spec error (exit 2) at the key's file:line:col, with the
 * folder it was looked for in, the nearest file there, and the script that makes it. */
static void test_missing_data_file(void) {
    rc_sh(tmp, "mkdir -p corpus datasets && printf 'hello world\\n' > corpus/words.text && "
               "printf '#!/bin/sh\\n' > datasets/prepare_prices.sh");
    rc_write_text(rc_in_dir(tmp, "text.yaml"), "version: 1\n"
                                              "data:\n"
                                              "  source: text\n"
                                              "  path: corpus/words.txt\n"
                                              "model: {type: lstm, units: [8], input: onehot, head: per_step}\n"
                                              "loss: softmax_cross_entropy\n");
    CU_ASSERT_EQUAL(run("validate text.yaml", "d1.txt"), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "d1.txt"), "text.yaml:4:9: data.path: no file ", "did you mean words.text?"));
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "d1.txt"), "taken from the folder of text.yaml", NULL));
    CU_ASSERT_EQUAL(run("text.yaml --out run1", "d2.txt"), 2);
    CU_ASSERT(!rc_exists(rc_in_dir(tmp, "run1")));
    CU_ASSERT_EQUAL(run("show text.yaml", "d3.txt"), 0);   /* a spec can be shown before its data exists */
    rc_write_text(rc_in_dir(tmp, "prices.yaml"), "version: 1\n"
                                                "data: {source: csv, path: datasets/prices/close.csv}\n"
                                                "model: {type: autoencoder, code: 2}\nloss: squared_error\n");
    CU_ASSERT_EQUAL(run("validate prices.yaml", "d4.txt"), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "d4.txt"), "does not exist", "datasets/prepare_prices.sh (run it first)"));
}

/* exprun keys PREFIX: the keys at and below it; a typo gets the nearest key. A key that does
 * not act on the chosen data is refused, saying when it would and where to read about it. */
static void test_keys_and_inert_keys(void) {
    CU_ASSERT_EQUAL(run("keys data.limit", "k1.txt"), 0);
    CU_ASSERT_EQUAL(lines_of("k1.txt"), 2);   /* the key and its condition */
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "k1.txt"), "data.limit", "data.train_size"));
    CU_ASSERT_EQUAL(run("keys optimizer", "k2.txt"), 0);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "k2.txt"), "optimizer.lr", NULL));
    CU_ASSERT(!rc_log_has(rc_in_dir(tmp, "k2.txt"), "data.path", NULL));
    CU_ASSERT_EQUAL(run("keys sweep", "k5.txt"), 0);   /* grid, zip and command-line sweeps */
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "k5.txt"), "grid: {KEY: [values]", "zip: {KEY: [values]"));
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "k5.txt"), "sweep.grid.optimizer.lr=", "--list"));
    CU_ASSERT_EQUAL(run("keys optimiser", "k3.txt"), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "k3.txt"), "did you mean optimizer?", NULL));
    char args[PATH_MAX + 64];
    snprintf(args, sizeof args, "validate %s data.limit=1000", spec);   /* the adding task */
    CU_ASSERT_EQUAL(run(args, "k4.txt"), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "k4.txt"), "data.limit: does not apply when data.source is adding",
                         "only when data.source is idx|csv|hdf5"));
}

/* Defaults that follow the data: a minimal spec names its data and model type only, and
 * input, head and loss come out as the one value that fits, shown with where they came from;
 * where two losses fit, the spec must say which. */
static void test_auto_values(void) {
    rc_write_text(rc_in_dir(tmp, "min_adding.yaml"), "version: 1\ndata: {source: adding, length: 12}\nmodel: {type: lstm}\n");
    CU_ASSERT_EQUAL(run("show min_adding.yaml --origin", "a1.txt"), 0);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "a1.txt"), "  input: features  # auto: data.source adding",
                         "  head: last_step  # auto: data.source adding"));
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "a1.txt"), "loss: squared_error  # auto: data.source adding", NULL));
    CU_ASSERT_EQUAL(run("min_adding.yaml train.epochs=1 data.train_size=40 data.test_size=10 --out min_run -q", "a2.txt"), 0);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "min_run/resolved.yaml"), "input: features", "loss: squared_error"));
    rc_write_text(rc_in_dir(tmp, "min_parity.yaml"), "version: 1\ndata: {source: parity, length: 8}\nmodel: {type: gru}\n");
    CU_ASSERT_EQUAL(run("show min_parity.yaml", "a3.txt"), 0);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "a3.txt"), "  input: embedding\n", "  head: per_step\n"));
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "a3.txt"), "loss: softmax_cross_entropy\n", NULL));
    /* a value the spec gives stays, even where auto would choose another (and is then checked) */
    CU_ASSERT_EQUAL(run("show min_parity.yaml model.input=onehot --origin", "a4.txt"), 0);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "a4.txt"), "input: onehot  # override", NULL));
    CU_ASSERT_EQUAL(run("show min_adding.yaml model.head=per_step", "a5.txt"), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "a5.txt"), "use head: last_step", NULL));
    /* two losses fit a sigmoid autoencoder: say which */
    rc_write_text(rc_in_dir(tmp, "min_ae.yaml"), "version: 1\ndata: {source: adding}\nmodel: {type: autoencoder, code: 2}\n");
    CU_ASSERT_EQUAL(run("show min_ae.yaml", "a6.txt"), 2);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "a6.txt"), "min_ae.yaml:1:1: loss: say which loss", "squared_error and cross_entropy"));
}

/* results/NAME/latest names the newest run of NAME (a link holding the folder's name); the
 * commands that take a run directory take results/NAME for it; summarize counts each run once. */
static void test_latest_run(void) {
    rc_write_text(rc_in_dir(tmp, "tiny.yaml"), "version: 1\nname: tiny\n"
                                              "data: {source: adding, length: 8, train_size: 60, test_size: 10}\n"
                                              "model: {type: lstm, units: [4]}\ntrain: {epochs: 1, batch_size: 20}\n"
                                              "output: {root: res}\n");
    CU_ASSERT_EQUAL_FATAL(run("tiny.yaml -q", "l1.txt"), 0);
    CU_ASSERT_EQUAL_FATAL(run("tiny.yaml train.epochs=2", "l2.txt"), 0);
    char link[256] = "";
    ssize_t n = readlink(rc_in_dir(tmp, "res/tiny/latest"), link, sizeof link - 1);
    CU_ASSERT_FATAL(n > 0);
    link[n] = '\0';
    CU_ASSERT_PTR_NULL(strchr(link, '/'));   /* a sibling's name */
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "l2.txt"), link, NULL));   /* the second run's folder */
    CU_ASSERT_EQUAL(run("resume res/tiny", "l3.txt"), 0);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "l3.txt"), link, "all 2 epochs"));
    CU_ASSERT_EQUAL(run("export res/tiny -o tiny.safetensors", "l4.txt"), 0);
    CU_ASSERT(rc_log_has(rc_in_dir(tmp, "l4.txt"), link, NULL));
    CU_ASSERT_EQUAL(run("summarize res --csv", "l5.txt"), 0);
    CU_ASSERT_EQUAL(lines_of("l5.txt"), 3);   /* the header and two runs, not the link again */
    /* --out DIR makes no link */
    CU_ASSERT_EQUAL(run("tiny.yaml -q --out elsewhere/one", "l6.txt"), 0);
    CU_ASSERT(!rc_exists(rc_in_dir(tmp, "elsewhere/latest")));
}

/* Every problem of a file at once: the schema's (a range, an unknown key) and the combinations'
 * (cross-entropy with an identity f, an autoencoder on the adding task) in one report, in file
 * order, each once. */
static void test_all_problems_at_once(void) {
    rc_write_text(rc_in_dir(tmp, "both.yaml"), "version: 1\n"
                                              "data: {source: adding, length: 12}\n"
                                              "model:\n"
                                              "  type: autoencoder\n"
                                              "  code: 0\n"
                                              "  f: identity\n"
                                              "loss: cross_entropy\n"
                                              "optimiser: {lr: 1}\n");
    CU_ASSERT_EQUAL(run("validate both.yaml", "p1.txt"), 2);
    char *text = rc_slurp_text(rc_in_dir(tmp, "p1.txt"));
    const char *a = strstr(text, "both.yaml:2:16: data.source: an autoencoder needs idx"),
               *b = strstr(text, "both.yaml:5:9: model.code: must be between 1"),
               *c = strstr(text, "both.yaml:6:6: model.f: cross_entropy needs"),
               *d = strstr(text, "both.yaml:8:1: optimiser: unknown key");
    CU_ASSERT(a && b && c && d && a < b && b < c && c < d);
    CU_ASSERT_PTR_NOT_NULL(strstr(text, "4 problems in both.yaml"));
    if (!(a && b && c && d)) fprintf(stderr, "\n%s\n", text);
    free(text);
}

int main(void) {
    tmp = make_temp_dir("cli");
    if (!realpath(exprun_bin(), exe)) {
        perror(exprun_bin());
        return 1;
    }
    snprintf(spec, sizeof spec, "%s/adding.yaml", tmp);
    rc_write_text(spec, "version: 1\ndata: {source: adding, length: 12, train_size: 100, test_size: 20}\n"
                        "model: {type: lstm, units: [8], input: features, head: last_step}\nloss: squared_error\n");
    TestCase cases[] = {{"a mistyped command: did you mean", test_mistyped_command},
                        {"a spec named without .yaml: the name with it", test_spec_without_extension},
                        {"key value: key=value; a key overridden twice", test_override_forms},
                        {"usage errors: one line and the command's --help", test_usage_errors_are_short},
                        {"every command has its own --help", test_every_command_has_help},
                        {"a missing data file: a spec error with its place and a suggestion", test_missing_data_file},
                        {"keys PREFIX; a key that does not act on the data is refused", test_keys_and_inert_keys},
                        {"input, head and loss follow the data where one value fits", test_auto_values},
                        {"results/NAME/latest and results/NAME for its newest run", test_latest_run},
                        {"the schema's and the combinations' problems at once", test_all_problems_at_once},
                        {NULL, NULL}};
    return run_tests_in("cli", cases, tmp);
}
