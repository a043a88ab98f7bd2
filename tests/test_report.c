/* test_report.c — `exprun report` in a real browser: headless Chromium (Debian's chromium) loads the
 * page the command writes for small runs the test makes (an autoencoder sweep of three learning
 * rates by two seeds, an autoencoder on 8x8 IDX images, an LSTM on text that writes samples); the
 * test reads the DOM Chromium dumps: the script ran to its end (data-ready), no error reached the
 * page's error box and the console said nothing (Chromium's log), one table row per run, the curves drawn (their points counted), a link's
 * #sort=-best_val sorted the table, #open=all filled the panels (text sample, reconstructions,
 * gradient heatmap). The page holds no reference to the network. A screenshot is kept in the
 * test's folder (report.png). Without chromium the test fails: scripts/setup.sh installs it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fixtures.h"
#include "report.h"
#include "rng.h"
#include "runcheck.h"
#include "testutil.h"

static char *tmp;
static char exe[4096];

static char *slurp(const char *name) {
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    return rc_slurp_text(path);
}

static int count(const char *text, const char *what) {
    int n = 0;
    for (const char *p = text; (p = strstr(p, what)); p += strlen(what)) n++;
    return n;
}

/* Whether the page's script ran to its end: its mark on the <body> element itself (the words
 * data-ready="yes" also stand in the script's text, which the dumped DOM holds). */
static int page_ready(const char *dom) {
    const char *body = strstr(dom, "<body");
    const char *end = body ? strchr(body, '>') : NULL;
    if (!end) return 0;
    char tag[512];
    snprintf(tag, sizeof tag, "%.*s", (int)(end - body), body);
    return strstr(tag, " data-ready=\"yes\"") != NULL && strstr(tag, " data-load-ms=\"") != NULL;
}

static void make_runs(void) {
    Rng r;
    rng_seed(&r, 4);
    char path[1100];
    snprintf(path, sizeof path, "%s/data.h5", tmp);
    fixture_write_uniform_h5(path, 150, 16, &r);
    snprintf(path, sizeof path, "%s/img.idx", tmp);
    fixture_write_idx_squares(path, &r);
    snprintf(path, sizeof path, "%s/text.txt", tmp);
    FILE *f = fopen(path, "w");
    for (int i = 0; i < 120; i++) fputs("the quick brown fox jumps over the lazy dog. ", f);
    fclose(f);
    snprintf(path, sizeof path, "%s/ae.yaml", tmp);
    rc_write_text(path, "version: 1\nname: ae\nthreads: 1\ndata: {source: hdf5, path: data.h5}\n"
                        "model: {type: autoencoder, code: 4}\nloss: squared_error\noptimizer: {lr: 0.01}\n"
                        "train: {epochs: 3, batch_size: 32, log_every: 1}\n"
                        "sweep: {grid: {optimizer.lr: [0.003, 0.01, 0.03], seed: [1, 2]}}\n");
    snprintf(path, sizeof path, "%s/img.yaml", tmp);
    rc_write_text(path, "version: 1\nname: img\nthreads: 1\ndata: {source: idx, path: img.idx, scale: unit}\n"
                        "model: {type: autoencoder, code: 8}\nloss: cross_entropy\noptimizer: {lr: 0.01}\n"
                        "train: {epochs: 2, batch_size: 32}\n");
    snprintf(path, sizeof path, "%s/text.yaml", tmp);
    rc_write_text(path, "version: 1\nname: text\nthreads: 1\n"
                        "data: {source: text, path: text.txt, seq_len: 16, validation_fraction: 0.1}\n"
                        "model: {type: lstm, units: [16], input: onehot}\nloss: softmax_cross_entropy\n"
                        "train: {epochs: 2, batch_size: 8}\nsample: {every: 1, length: 40}\n");
    if (rc_sh(tmp, "%s sweep ae.yaml --jobs 2 --quiet --sweep-dir runs/sweep > make.log 2>&1 && "
           "%s img.yaml --out runs/img -q && %s text.yaml --out runs/text -q",
           exe, exe, exe) != 0) {
        fprintf(stderr, "test_report: could not make the runs (see %s/make.log)\n", tmp);
        exit(1);
    }
}

/* Chromium, headless, on the page (with a #fragment): its DOM after the script ran into dom_name,
 * or a screenshot; its log, with the page's console messages ("INFO:CONSOLE"), into dom_name.log. */
static int browse(const char *page, const char *fragment, const char *dom_name, const char *screenshot) {
    char shot[1200] = "";
    if (screenshot) snprintf(shot, sizeof shot, "--window-size=1300,2000 --screenshot=%s/%s", tmp, screenshot);
    /* as root (CI) Chromium needs --no-sandbox */
    return rc_sh(tmp, "timeout 120 chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --no-first-run "
              "--enable-logging=stderr --v=0 --user-data-dir=%s/chrome-profile --virtual-time-budget=10000 %s %s "
              "'file://%s/%s%s' > %s 2> %s.log",
              tmp, shot, screenshot ? "" : "--dump-dom", tmp, page, fragment, screenshot ? "/dev/null" : dom_name,
              dom_name);
}

/* Whether Chromium's log holds a message of the page's console. */
static int console_said(const char *dom_name, const char *what) {
    char log[256];
    snprintf(log, sizeof log, "%s.log", dom_name);
    char *text = slurp(log);
    int said = 0;
    for (char *line = strtok(text, "\n"); line && !said; line = strtok(NULL, "\n"))
        said = strstr(line, ":CONSOLE") != NULL && strstr(line, what) != NULL;
    free(text);
    return said;
}

static void test_self_contained(void) {
    CU_ASSERT_EQUAL_FATAL(rc_sh(tmp, "%s report runs -o report.html > report.out 2>&1", exe), 0);
    char *out = slurp("report.out");
    CU_ASSERT(strstr(out, "report: report.html (8 runs,") != NULL);
    free(out);
    char *page = slurp("report.html");
    /* no server, no network: nothing loaded from elsewhere */
    CU_ASSERT(strstr(page, "<script src") == NULL && strstr(page, "<link") == NULL);
    CU_ASSERT(strstr(page, "src=\"http") == NULL && strstr(page, "href=\"http") == NULL);
    CU_ASSERT(strstr(page, "url(http") == NULL && strstr(page, "@import") == NULL);
    /* uPlot inlined, with its licence */
    CU_ASSERT(strstr(page, "uPlot") != NULL && strstr(page, "The MIT License") != NULL);
    free(page);
}

static void test_in_chromium(void) {
    CU_ASSERT_EQUAL_FATAL(browse("report.html", "", "dom.html", NULL), 0);
    char *dom = slurp("dom.html");
    CU_ASSERT(page_ready(dom));
    CU_ASSERT(strstr(dom, "<div id=\"errors\"></div>") != NULL);     /* no error reached the page */
    CU_ASSERT_EQUAL(count(dom, "<tr class=\"run"), 8);                /* one row per run */
    CU_ASSERT_EQUAL(count(dom, "<tr class=\"run best\""), 1);
    CU_ASSERT(strstr(dom, "data-y-label=\"loss (differs between runs)\"") != NULL);   /* three kinds of loss */
    CU_ASSERT(count(dom, "<canvas") >= 3);                             /* training, validation, accuracy */
    /* the curves: 8 series each; the validation chart has a point per run and epoch (6 x 3, 2, 2) */
    CU_ASSERT(strstr(dom, "data-series=\"8\" data-points=\"22\"") != NULL);
    CU_ASSERT(count(dom, "class=\"pc-line\"") == 8);                   /* parallel coordinates: a line per run */
    if (!page_ready(dom)) printf("\n%.2000s\n", dom);
    free(dom);
    /* the console showed nothing at all: no error, no warning */
    CU_ASSERT(!console_said("dom.html", ""));
}

/* The sweep alone (one loss for every run: the y axes name it) draws as the mixed set does. */
static void test_one_loss(void) {
    CU_ASSERT_EQUAL_FATAL(rc_sh(tmp, "%s report runs/sweep -o sweep.html > report.out 2>&1", exe), 0);
    CU_ASSERT_EQUAL_FATAL(browse("sweep.html", "", "dom_sweep.html", NULL), 0);
    char *dom = slurp("dom_sweep.html");
    CU_ASSERT(page_ready(dom));
    CU_ASSERT(strstr(dom, "<div id=\"errors\"></div>") != NULL && !console_said("dom_sweep.html", ""));
    CU_ASSERT_EQUAL(count(dom, "<tr class=\"run"), 6);
    CU_ASSERT(strstr(dom, "data-y-label=\"loss: squared error per example\"") != NULL);
    free(dom);
}

/* A link's options: sorted by best_val descending, every panel open and filled. */
static void test_link_options(void) {
    CU_ASSERT_EQUAL_FATAL(browse("report.html", "#sort=-best_val&open=all", "dom2.html", NULL), 0);
    char *dom = slurp("dom2.html");
    CU_ASSERT(page_ready(dom));
    CU_ASSERT(strstr(dom, "<div id=\"errors\"></div>") != NULL && !console_said("dom2.html", ""));
    CU_ASSERT(strstr(dom, "title=\"sort\" aria-sort=\"descending\">best_val</th>") != NULL);
    /* the best (lowest best_val) is last when sorted by best_val, highest first */
    const char *last = NULL;
    for (const char *p = dom; (p = strstr(p, "<tr class=\"run")); p++) last = p;
    CU_ASSERT(last && strncmp(last, "<tr class=\"run best\"", 20) == 0);
    CU_ASSERT_EQUAL(count(dom, "<details class=\"run-panel\" id=\"run-"), 8);
    CU_ASSERT_EQUAL(count(dom, "open=\"\""), 8);
    CU_ASSERT_EQUAL(count(dom, "<pre class=\"sample\">"), 1);           /* the text run's sample */
    CU_ASSERT_EQUAL(count(dom, "class=\"recon\""), 1);                  /* the image autoencoder */
    CU_ASSERT_EQUAL(count(dom, "class=\"heatmap\""), 1);                /* the LSTM's gradient norms */
    free(dom);
}

static void test_screenshot_and_errors(void) {
    CU_ASSERT_EQUAL(browse("report.html", "", "shot", "report.png"), 0);
    char path[1100];
    snprintf(path, sizeof path, "%s/report.png", tmp);
    FILE *f = fopen(path, "rb");
    unsigned char magic[8] = {0};
    CU_ASSERT(f && fread(magic, 1, 8, f) == 8 && memcmp(magic, "\x89PNG", 4) == 0);
    if (f) fclose(f);
    /* a page whose script fails shows it: the error box is how the checks above can fail */
    char *page = slurp("report.html");
    char *at = strstr(page, "drawCurves();\n  drawTable();");
    CU_ASSERT_FATAL(at != NULL);
    memcpy(at, "drawCurvez", 10);
    char broken[1100];
    snprintf(broken, sizeof broken, "%s/broken.html", tmp);
    rc_write_text(broken, page);
    free(page);
    CU_ASSERT_EQUAL_FATAL(browse("broken.html", "", "dom3.html", NULL), 0);
    char *dom = slurp("dom3.html");
    CU_ASSERT(strstr(dom, "<div id=\"errors\">ReferenceError: drawCurvez is not defined") != NULL ||
              strstr(dom, "<div id=\"errors\">Uncaught ReferenceError: drawCurvez is not defined") != NULL);
    CU_ASSERT(!page_ready(dom));
    CU_ASSERT(console_said("dom3.html", "Uncaught ReferenceError: drawCurvez is not defined"));
    free(dom);
}

static void test_bad_arguments(void) {
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s report runs > /dev/null 2>&1", exe), 2);                    /* no -o */
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s report -o r.html > /dev/null 2>&1", exe), 2);               /* no DIR */
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s report runs -o r.png > /dev/null 2>&1", exe), 2);           /* not HTML */
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s report nope -o r.html > /dev/null 2>&1", exe), 2);          /* not a folder */
    CU_ASSERT_EQUAL(rc_sh(tmp, "mkdir -p empty && %s report empty -o r.html > /dev/null 2>&1", exe), 3);
    CU_ASSERT_EQUAL(rc_sh(tmp, "test ! -e r.html && test ! -e r.png"), 0);
    int idx[1000], n;
    report_pick_points(5, 1000, idx, &n);
    CU_ASSERT(n == 5 && idx[0] == 0 && idx[4] == 4);
    report_pick_points(4001, 1000, idx, &n);
    CU_ASSERT(n == 1000 && idx[0] == 0 && idx[999] == 4000 && idx[1] == 4);
}

int main(void) {
    if (run_command("command -v chromium > /dev/null 2>&1") != 0) {
        fprintf(stderr, "test_report: chromium is not installed: run scripts/setup.sh (Debian's chromium)\n");
        return 1;
    }
    tmp = make_temp_dir("report");
    if (!realpath(exprun_bin(), exe)) {
        perror(exprun_bin());
        return 1;
    }
    make_runs();
    TestCase cases[] = {{"one file, nothing from the network, uPlot inlined with its licence", test_self_contained},
                        {"in headless Chromium: no error, a row per run, curves drawn", test_in_chromium},
                        {"the sweep alone: its one loss on the y axes", test_one_loss},
                        {"#sort and #open: sorted, every panel filled", test_link_options},
                        {"a screenshot; a broken page shows its error", test_screenshot_and_errors},
                        {"bad arguments; downsampling", test_bad_arguments},
                        {NULL, NULL}};
    return run_tests_in("report", cases, tmp);
}
