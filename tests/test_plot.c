/* test_plot.c — `exprun plot` makes files other programs can open: PNGs decoded here with libpng
 * (size, and the runs' colours actually drawn), SVGs parsed as XML by Python; the panels appear
 * for the runs that have them (gradient norms for a recurrent run, reconstructions for an
 * autoencoder on IDX images, by default only up to two runs); PDFs checked with poppler's
 * pdfinfo and pdftotext; other extensions refused; awkward data (NaN, one epoch, zero gradients, many runs) still
 * draws; bad arguments fail with the documented statuses. */
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"
#include "plot.h"
#include "rng.h"
#include "runcheck.h"
#include "testutil.h"

static char *tmp;
static char exe[4096];

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return strdup("");
    static char buf[1 << 21];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    if (len) *len = n;
    return strdup(buf);
}

/* Three small runs: an autoencoder on HDF5 data, one on 8x8 IDX images, an LSTM on the copy task. */
static void make_runs(void) {
    Rng r;
    rng_seed(&r, 9);
    char path[1100];
    snprintf(path, sizeof path, "%s/data.h5", tmp);
    fixture_write_uniform_h5(path, 150, 16, &r);
    snprintf(path, sizeof path, "%s/img.idx", tmp);
    fixture_write_idx_squares(path, &r);
    snprintf(path, sizeof path, "%s/ae.yaml", tmp);
    rc_write_text(path, "version: 1\nthreads: 1\ndata: {source: hdf5, path: data.h5}\n"
                     "model: {type: autoencoder, code: 4}\nloss: squared_error\noptimizer: {lr: 0.01}\n"
                     "train: {epochs: 4, batch_size: 32}\n");
    snprintf(path, sizeof path, "%s/img.yaml", tmp);
    rc_write_text(path, "version: 1\nthreads: 1\ndata: {source: idx, path: img.idx, scale: unit}\n"
                     "model: {type: autoencoder, code: 8}\nloss: cross_entropy\noptimizer: {lr: 0.01}\n"
                     "train: {epochs: 3, batch_size: 32}\n");
    snprintf(path, sizeof path, "%s/rnn.yaml", tmp);
    rc_write_text(path, "version: 1\nthreads: 1\n"
                     "data: {source: copy, length: 12, train_size: 120, test_size: 20, copy_length: 3, alphabet: 4}\n"
                     "model: {type: lstm, units: [8], input: onehot}\nloss: softmax_cross_entropy\n"
                     "train: {epochs: 3, batch_size: 20}\n");
    if (rc_sh(tmp, "%s ae.yaml --out runs/ae -q && %s ae.yaml --out runs/ae2 -q optimizer.lr=0.003 && "
           "%s img.yaml --out img -q && %s rnn.yaml --out rnn -q",
           exe, exe, exe, exe) != 0) {
        fprintf(stderr, "test_plot: could not make the runs\n");
        exit(1);
    }
}

typedef struct Image {
    int w, h;
    unsigned char *rgb;
} Image;

/* Decode with libpng (its simplified API): 1 on success. */
static int read_png(const char *name, Image *im) {
    char path[1100];
    snprintf(path, sizeof path, "%s/%s", tmp, name);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&img, path)) return 0;
    img.format = PNG_FORMAT_RGB;
    im->rgb = malloc(PNG_IMAGE_SIZE(img));
    if (!png_image_finish_read(&img, NULL, im->rgb, 0, NULL)) {
        free(im->rgb);
        png_image_free(&img);
        return 0;
    }
    im->w = (int)img.width;
    im->h = (int)img.height;
    return 1;
}

/* Pixels within a small distance of colour (r, g, b), in rows [y0, y1). */
static int count_colour(const Image *im, int r, int g, int b, int y0, int y1) {
    int n = 0;
    for (int y = y0; y < y1 && y < im->h; y++)
        for (int x = 0; x < im->w; x++) {
            const unsigned char *p = im->rgb + 3 * ((size_t)y * im->w + x);
            n += abs(p[0] - r) + abs(p[1] - g) + abs(p[2] - b) < 40;
        }
    return n;
}

/* Pixels within a small distance of colour (r, g, b) in the box [x0, x1) × [y0, y1). */
static int count_colour_in(const Image *im, int r, int g, int b, int x0, int x1, int y0, int y1) {
    int n = 0;
    for (int y = y0; y < y1 && y < im->h; y++)
        for (int x = x0; x < x1 && x < im->w; x++) {
            const unsigned char *p = im->rgb + 3 * ((size_t)y * im->w + x);
            n += abs(p[0] - r) + abs(p[1] - g) + abs(p[2] - b) < 12;
        }
    return n;
}

#define BLUE 31, 119, 180     /* the first run's colour */
#define LEGEND_FRAME 179, 179, 179   /* the legend box's border */
enum { AREA_X0 = 86, AREA_X1 = 936, AREA_Y0 = 44, AREA_Y1 = 362 };   /* the first panel's plot area */
#define ORANGE 255, 127, 14   /* the second's */

static void test_learning_curves_png(void) {
    CU_ASSERT_EQUAL_FATAL(rc_sh(tmp, "%s plot runs/ae -o ae.png > plot.out 2>&1", exe), 0);
    Image im;
    CU_ASSERT_FATAL(read_png("ae.png", &im));
    CU_ASSERT(im.w > 960);                             /* the plot area, and the legends' column */
    CU_ASSERT_EQUAL(im.h, 420);                        /* one panel: learning curves */
    /* the legend never covers the data: its box is beside the plot area, not in it */
    CU_ASSERT_EQUAL(count_colour_in(&im, LEGEND_FRAME, AREA_X0, AREA_X1, AREA_Y0, AREA_Y1), 0);
    CU_ASSERT(count_colour_in(&im, LEGEND_FRAME, AREA_X1, im.w, AREA_Y0, AREA_Y1) > 100);
    CU_ASSERT(count_colour(&im, BLUE, 0, im.h) > 300);  /* train and validation curves drawn */
    CU_ASSERT_EQUAL(count_colour(&im, ORANGE, 0, im.h), 0);
    CU_ASSERT(count_colour(&im, 255, 255, 255, 0, im.h) > im.w * im.h / 2);   /* white background */
    free(im.rgb);
    /* a folder of runs: both drawn, in two colours */
    CU_ASSERT_EQUAL_FATAL(rc_sh(tmp, "%s plot runs -o two.png > plot.out 2>&1", exe), 0);
    char path[1100];
    snprintf(path, sizeof path, "%s/plot.out", tmp);
    char *out = slurp(path, NULL);
    CU_ASSERT(strstr(out, "(2 runs)") != NULL);
    free(out);
    CU_ASSERT_FATAL(read_png("two.png", &im));
    CU_ASSERT(count_colour(&im, BLUE, 0, im.h) > 300);
    CU_ASSERT(count_colour(&im, ORANGE, 0, im.h) > 300);
    free(im.rgb);
}

static void test_panels(void) {
    Image im;
    /* recurrent: learning curves + accuracy (the copy task logs it) + gradient norm over time */
    CU_ASSERT_EQUAL_FATAL(rc_sh(tmp, "%s plot rnn -o rnn.png > plot.out 2>&1", exe), 0);
    CU_ASSERT_FATAL(read_png("rnn.png", &im));
    CU_ASSERT_EQUAL(im.h, 1260);
    CU_ASSERT(count_colour_in(&im, BLUE, AREA_X0, AREA_X1, 420, 840) > 100);   /* the accuracy curves */
    CU_ASSERT(count_colour(&im, BLUE, 840, 1260) > 200);   /* the gradient curves in the lowest panel */
    free(im.rgb);
    /* autoencoder on images: learning curves + inputs beside reconstructions */
    CU_ASSERT_EQUAL_FATAL(rc_sh(tmp, "%s plot img -o img.png > plot.out 2>&1", exe), 0);
    CU_ASSERT_FATAL(read_png("img.png", &im));
    CU_ASSERT(im.h > 420 + 100);
    /* the image panel holds white squares on black: both extremes occur below the curves */
    CU_ASSERT(count_colour(&im, 0, 0, 0, 440, im.h) > 1000);
    CU_ASSERT(count_colour(&im, 255, 255, 255, 480, im.h) > 1000);
    free(im.rgb);
    CU_ASSERT_EQUAL_FATAL(rc_sh(tmp, "%s plot img --no-images -o img2.png > plot.out 2>&1", exe), 0);
    CU_ASSERT_FATAL(read_png("img2.png", &im));
    CU_ASSERT_EQUAL(im.h, 420);
    free(im.rgb);
    /* all three kinds together: three panels */
    CU_ASSERT_EQUAL_FATAL(rc_sh(tmp, "%s plot runs/ae rnn img --images -o all.png > plot.out 2>&1", exe), 0);
    CU_ASSERT_FATAL(read_png("all.png", &im));
    CU_ASSERT(im.h > 840 + 100);
    free(im.rgb);
}

/* SVGs are well-formed XML whose words are <text> (before: glyph outlines, not searchable). */
static void test_svg_is_well_formed(void) {
    CU_ASSERT_EQUAL_FATAL(rc_sh(tmp, "%s plot rnn runs/ae -o fig.svg > plot.out 2>&1", exe), 0);
    CU_ASSERT_EQUAL_FATAL(rc_sh(tmp, "%s plot rnn --svg -o FORCED.SVG > plot.out 2>&1", exe), 0);
    const char *files[2] = {"fig.svg", "FORCED.SVG"};
    for (int i = 0; i < 2; i++) {
        char path[1100];
        snprintf(path, sizeof path, "%s/%s", tmp, files[i]);
        size_t len = 0;
        char *text = slurp(path, &len);
        CU_ASSERT(strncmp(text, "<?xml", 5) == 0);
        CU_ASSERT(strstr(text, "<svg") != NULL);
        size_t n = len;
        while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ')) n--;
        CU_ASSERT(n >= 6 && strncmp(text + n - 6, "</svg>", 6) == 0);
        /* text stays text (searchable, editable): <text> elements, no glyph outlines */
        CU_ASSERT(strstr(text, ">Learning curves</text>") != NULL);
        CU_ASSERT(strstr(text, "transform=\"rotate(-90.00 ") != NULL);   /* the y axis label */
        CU_ASSERT(strstr(text, "glyph") == NULL);
        free(text);
        int rc = rc_sh(tmp, "/usr/bin/python3 -c \"import sys, xml.etree.ElementTree as E; "
                    "r = E.parse(sys.argv[1]).getroot(); sys.exit(0 if r.tag.endswith('svg') else 1)\" %s",
                    files[i]);
        CU_ASSERT_EQUAL(rc, 0);
    }
}

/* -o x.pdf is a PDF (before: a PNG under that name, exit 0): one page, vector, its text extractable
 * (pdftotext, poppler-utils), the same size as the PNG. */
static void test_pdf(void) {
    CU_ASSERT_EQUAL_FATAL(rc_sh(tmp, "%s plot rnn runs/ae -o fig.pdf > plot.out 2>&1", exe), 0);
    char path[1100];
    snprintf(path, sizeof path, "%s/fig.pdf", tmp);
    static char bytes[1 << 21];   /* binary: not slurp's string */
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(bytes, 1, sizeof bytes, f) : 0;
    if (f) fclose(f);
    CU_ASSERT(n > 1000 && strncmp(bytes, "%PDF-1.", 7) == 0);
    while (n > 0 && (bytes[n - 1] == '\n' || bytes[n - 1] == '\r')) n--;
    CU_ASSERT(n >= 5 && strncmp(bytes + n - 5, "%%EOF", 5) == 0);
    CU_ASSERT_EQUAL(rc_sh(tmp, "pdfinfo fig.pdf > info.txt 2>&1 && grep -q '^Pages: *1$' info.txt && "
                       "grep -Eq '^Page size: *(9[6-9][0-9]|1[0-9]{3}) x 1260 pts$' info.txt"), 0);
    CU_ASSERT_EQUAL(rc_sh(tmp, "pdftotext fig.pdf fig.txt && grep -q 'Learning curves' fig.txt && grep -q 'validation' fig.txt"), 0);
    /* the y axes name the loss and what it is per (the two runs' differ), and accuracy has a panel */
    CU_ASSERT_EQUAL(rc_sh(tmp, "grep -q 'loss (differs between runs)' fig.txt && grep -qx 'Accuracy' fig.txt"), 0);
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s plot rnn -o rnn.pdf > plot.out 2>&1 && pdftotext rnn.pdf rnn.txt && "
                       "grep -q 'loss: cross-entropy, nats per token' rnn.txt", exe), 0);
    /* legend labels: the run's name and the keys that differ, with the value each run used (ae
     * sets no learning rate: its spec's 0.01), not folder names */
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s plot runs -o labels.pdf > plot.out 2>&1 && pdftotext labels.pdf labels.txt", exe), 0);
    CU_ASSERT_EQUAL(rc_sh(tmp, "grep -qx 'ae optimizer.lr=0.01' labels.txt && grep -qx 'ae optimizer.lr=0.003' labels.txt"), 0);
    CU_ASSERT_EQUAL(rc_sh(tmp, "grep -q 'ae2' labels.txt"), 1);
    CU_ASSERT_EQUAL(rc_sh(tmp, "grep -q 'loss: squared error per example' labels.txt && ! grep -q 'Accuracy' labels.txt"), 0);
}

/* The file's extension says the format; any other is refused before anything is drawn, and --svg
 * must agree with it. */
static void test_formats(void) {
    PlotFormat f;
    CU_ASSERT(plot_format_of("a/b.png", &f) == 0 && f == PLOT_PNG);
    CU_ASSERT(plot_format_of("b.Pdf", &f) == 0 && f == PLOT_PDF);
    CU_ASSERT(plot_format_of("b.svg", &f) == 0 && f == PLOT_SVG);
    CU_ASSERT_EQUAL(plot_format_of("b.jpg", &f), -1);
    CU_ASSERT_EQUAL(plot_format_of("dir.png/b", &f), -1);
    CU_ASSERT_EQUAL(plot_format_of("curves", &f), -1);
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s plot rnn -o x.jpg > bad.txt 2>&1", exe), 2);
    CU_ASSERT_EQUAL(rc_sh(tmp, "grep -q \"'.jpg' is not a format plot writes: name a .png, .svg or .pdf file\" bad.txt"), 0);
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s plot rnn -o curves > bad.txt 2>&1", exe), 2);
    CU_ASSERT_EQUAL(rc_sh(tmp, "grep -q 'needs an extension' bad.txt"), 0);
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s plot rnn --svg -o x.png > bad.txt 2>&1", exe), 2);
    CU_ASSERT_EQUAL(rc_sh(tmp, "test ! -e x.jpg && test ! -e curves && test ! -e x.png"), 0);
}

/* More than two runs: no image strips unless --images asks (they would bury the curves). */
static void test_images_by_default(void) {
    Image im;
    CU_ASSERT_EQUAL_FATAL(rc_sh(tmp, "%s plot runs img -o three.png > plot.out 2>&1", exe), 0);
    CU_ASSERT_FATAL(read_png("three.png", &im));
    CU_ASSERT_EQUAL(im.h, 420);
    free(im.rgb);
    CU_ASSERT_EQUAL_FATAL(rc_sh(tmp, "%s plot runs img --images -o three_images.png > plot.out 2>&1", exe), 0);
    CU_ASSERT_FATAL(read_png("three_images.png", &im));
    CU_ASSERT(im.h > 420 + 100);
    free(im.rgb);
}

/* plot_render on data the runs never make: NaN losses, one epoch, zero and negative gradient
 * norms (not drawable on a log axis), 15 runs (more than the legend lists). */
static void test_awkward_data(void) {
    enum { R = 15, E = 5, T = 6 };
    PlotRun runs[R];
    memset(runs, 0, sizeof runs);
    for (int i = 0; i < R; i++) {
        PlotRun *r = &runs[i];
        snprintf(r->label, sizeof r->label, "run %d", i);
        r->n_epochs = i == 0 ? 1 : E;
        r->epoch = calloc(E, sizeof(double));
        r->train = calloc(E, sizeof(double));
        r->val = calloc(E, sizeof(double));
        for (int e = 0; e < E; e++) {
            r->epoch[e] = e + 1;
            r->train[e] = 1.0 / (e + 1 + i);
            r->val[e] = e == 2 ? NAN : 1.2 / (e + 1 + i);
        }
        if (i < 3) {
            r->grad_rows = 2;
            r->grad_T = T;
            r->grad = calloc(2 * T, sizeof(double));
            for (int t = 0; t < 2 * T; t++) r->grad[t] = t % 3 == 0 ? 0.0 : (t % 5 == 0 ? -1.0 : pow(10, -t));
        }
    }
    ExError err;
    char path[1100];
    snprintf(path, sizeof path, "%s/awkward.png", tmp);
    CU_ASSERT_EQUAL(plot_render(runs, R, path, PLOT_PNG, &err), 0);
    Image im;
    CU_ASSERT_FATAL(read_png("awkward.png", &im));
    CU_ASSERT_EQUAL(im.h, 840);
    free(im.rgb);
    /* all-NaN losses and a single run with nothing to draw still give a valid picture */
    for (int e = 0; e < E; e++) runs[1].train[e] = runs[1].val[e] = NAN;
    snprintf(path, sizeof path, "%s/empty.svg", tmp);
    CU_ASSERT_EQUAL(plot_render(&runs[1], 1, path, PLOT_SVG, &err), 0);
    /* an unwritable path is an error naming it */
    CU_ASSERT_EQUAL(plot_render(runs, 2, "/nonexistent-dir/x.png", PLOT_PNG, &err), -1);
    CU_ASSERT(strstr(err.msg, "/nonexistent-dir/x.png") != NULL);
    for (int i = 0; i < R; i++) plot_run_free(&runs[i]);
}

static void test_bad_arguments(void) {
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s plot rnn > /dev/null 2>&1", exe), 2);                 /* no -o */
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s plot -o x.png > /dev/null 2>&1", exe), 2);            /* no run */
    CU_ASSERT_EQUAL(rc_sh(tmp, "%s plot nope -o x.png > /dev/null 2>&1", exe), 2);       /* not a folder */
    CU_ASSERT_EQUAL(rc_sh(tmp, "mkdir -p empty && %s plot empty -o x.png > /dev/null 2>&1", exe), 3);
    CU_ASSERT_EQUAL(rc_sh(tmp, "test ! -e x.png"), 0);
}

/* TensorBoard's debiased EMA: the first value as it is, a constant stays constant, the formula by
 * hand for two values, NaN passed through and skipped, weight 0 the identity. */
static void test_smooth(void) {
    double y[5] = {1, 2, NAN, 4, 4}, out[5];
    plot_smooth(y, 5, 0.5, out);
    CU_ASSERT_DOUBLE_EQUAL(out[0], 1.0, 1e-15);
    CU_ASSERT_DOUBLE_EQUAL(out[1], 1.25 / 0.75, 1e-15);         /* m = 0.5·0.5 + 0.5·2, over 1 − 0.25 */
    CU_ASSERT(isnan(out[2]));
    CU_ASSERT_DOUBLE_EQUAL(out[3], (0.5 * 1.25 + 2) / 0.875, 1e-15);   /* k = 3 finite values */
    double c[50], cs[50];
    for (int i = 0; i < 50; i++) c[i] = 7.25;
    plot_smooth(c, 50, 0.99, cs);
    for (int i = 0; i < 50; i++) CU_ASSERT_DOUBLE_EQUAL(cs[i], 7.25, 1e-12);
    plot_smooth(y, 5, 0.0, out);
    CU_ASSERT(out[0] == 1 && out[1] == 2 && isnan(out[2]) && out[3] == 4);
    char a0[] = "x", a1[] = "-o", a2[] = "y.png", a3[] = "--smooth", a4[] = "1";
    char *argv[] = {a0, a1, a2, a3, a4};
    CU_ASSERT_EQUAL(command_plot(5, argv), 2);
}

/* A run with per-step metrics that diverged in its first epoch (no epoch table): drawn per step. */
static void test_steps_only(void) {
    char out[1200], png[1200];
    snprintf(out, sizeof out, "%s/explode", tmp);
    snprintf(png, sizeof png, "%s/explode.png", tmp);
    char cmd[16000];
    snprintf(cmd, sizeof cmd, "%s %s/configs/exploding_rnn.yaml data.train_size=2000 data.test_size=20 --out %s "
             "--quiet > /dev/null 2>&1; %s plot %s -o %s > /dev/null 2>&1", exe,
             getenv("EXPRUN_SOURCE_DIR") ? getenv("EXPRUN_SOURCE_DIR") : "..", out, exe, out, png);
    CU_ASSERT_EQUAL(run_command(cmd), 0);
    PlotRun r;
    ExError err;
    CU_ASSERT_EQUAL_FATAL(plot_run_load(out, 0, "latest", &r, &err), 0);
    CU_ASSERT(r.n_epochs == 0 && r.n_steps > 5 && r.x_in_steps);
    CU_ASSERT_EQUAL(r.step_x[0], 1);
    plot_run_free(&r);
    FILE *f = fopen(png, "rb");
    unsigned char magic[8] = {0};
    CU_ASSERT(f && fread(magic, 1, 8, f) == 8 && memcmp(magic, "\x89PNG", 4) == 0);
    if (f) fclose(f);
}

int main(void) {
    tmp = make_temp_dir("plot");
    if (!realpath(exprun_bin(), exe)) {
        perror(exprun_bin());
        return 1;
    }
    make_runs();
    TestCase cases[] = {{"learning curves: a valid PNG with the runs' colours", test_learning_curves_png},
                        {"gradient-norm and reconstruction panels", test_panels},
                        {"SVG is well-formed XML, its text as text", test_svg_is_well_formed},
                        {"PDF: one vector page, text extractable", test_pdf},
                        {"the extension says the format; others refused", test_formats},
                        {"image strips: up to two runs, or when asked", test_images_by_default},
                        {"NaN, one epoch, zero gradients, many runs", test_awkward_data},
                        {"bad arguments", test_bad_arguments},
                        {"smoothing as TensorBoard smooths", test_smooth},
                        {"a run with per-step rows only", test_steps_only},
                        {NULL, NULL}};
    int rc = run_tests("plot", cases);
    plot_release_fonts();
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmp);
    if (rc == 0) run_command(cmd);
    free(tmp);
    return rc;
}
