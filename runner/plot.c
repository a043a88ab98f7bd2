/* plot.c — learning curves, gradient norms over time and reconstructions, drawn with cairo.
 *
 * The figure is a column of panels 960 px wide (see plot.h). Axes use "nice" ticks (1, 2 or 5
 * times a power of ten on linear axes, powers of ten on log axes). The image is drawn in memory
 * and published whole (publish.h), so a viewer that reloads the file never sees half a picture. */
#include "plot.h"

#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "build.h"
#include "checkpoint.h"
#include "h5read.h"
#include "latest.h"
#include "publish.h"
#include "rundata.h"
#include "rundir.h"
#include "runkeys.h"
#include "spec/spec.h"
#include "strbuf.h"
#include "sparsity.h"
#include "seqmodel.h"
#include "runsummary.h"
#include "train.h"

static const char PLOT_USAGE[] =
    "usage: exprun plot RUN... -o FILE.png|.svg|.pdf [--images|--no-images] [--smooth W]\n"
    "                   [--checkpoint best|latest|FILE]\n"
    "\n"
    "Learning curves (train solid, validation dashed) of one or several runs: training per step\n"
    "where the run logged steps (train.log_every), faint, and smoothed on top as TensorBoard\n"
    "smooths (--smooth W, a weight in [0, 1), default 0.6; 0: none); for recurrent runs\n"
    "also the gradient norm ||dL/dh_t|| over time t (log scale); for autoencoders on IDX images\n"
    "also validation inputs beside their reconstructions (from the latest checkpoint, or the one\n"
    "--checkpoint names: best is checkpoints/BEST; skip them with --no-images; with more than two\n"
    "runs they are left out unless --images asks for them). A RUN may be a folder of runs, e.g. a\n"
    "sweep. The file's extension says the format: PNG, SVG or PDF (vector, for papers).\n"
    "  exprun plot results/ae_fashion/20250101-120000 -o curves.png\n"
    "  exprun plot results/ae_fashion/sweep-20250101-120000 -o sweep.svg\n";

enum { FIG_W = 960, CURVE_H = 420, MARGIN_L = 86, MARGIN_R = 24, MARGIN_T = 44, MARGIN_B = 58 };
#define FONT "DejaVu Sans"

/* Tableau 10: distinct colours that survive grey-scale printing reasonably well. */
static const double PALETTE[10][3] = {
    {0.122, 0.467, 0.706}, {1.000, 0.498, 0.055}, {0.173, 0.627, 0.173}, {0.839, 0.153, 0.157},
    {0.580, 0.404, 0.741}, {0.549, 0.337, 0.294}, {0.890, 0.467, 0.761}, {0.498, 0.498, 0.498},
    {0.737, 0.741, 0.133}, {0.090, 0.745, 0.812}};

/* ---- loading a run ------------------------------------------------------------------------------ */

void plot_run_free(PlotRun *r) {
    free(r->epoch);
    free(r->train);
    free(r->val);
    free(r->train_acc);
    free(r->val_acc);
    free(r->step_x);
    free(r->step_train);
    free(r->step_smooth);
    free(r->grad);
    free(r->img_in);
    free(r->img_out);
    memset(r, 0, sizeof *r);
}

static int column_of(char **names, int ncols, const char *name) {
    for (int c = 0; c < ncols; c++)
        if (strcmp(names[c], name) == 0) return c;
    return -1;
}

/* The spec a run recorded, typed; data paths are resolved from spec_dir (a file in it). */
static int load_run_spec(const char *dir, const char *spec_dir, Spec *spec, ExError *err) {
    char path[4200], as_if[4300];
    snprintf(path, sizeof path, "%s/resolved.yaml", dir);
    snprintf(as_if, sizeof as_if, "%s/resolved.yaml", spec_dir);
    CfgDiags diags = {0};
    memset(spec, 0, sizeof *spec);
    CfgNode *tree = cfg_parse_file(path, &diags);
    if (!tree || spec_from_tree(tree, as_if, spec, &diags) != 0) {
        cfg_diags_to_error(&diags, err);
        cfg_diags_free(&diags);
        if (tree) spec_free(spec);
        return -1;
    }
    cfg_diags_free(&diags);
    return 0;
}

/* What a run's loss is and what it is per, short enough for an axis: "squared error per example",
 * "cross-entropy, nats per token" (the model's describe_loss has the long form). */
static void loss_axis_label(const Spec *spec, char *buf, size_t cap) {
    const char *what = spec->loss == LOSS_SQUARED_ERROR ? "squared error" : "cross-entropy";
    const char *nats = spec->loss == LOSS_SQUARED_ERROR ? "" : ", nats";
    switch (spec->model.type) {
    case MODEL_AUTOENCODER:
        snprintf(buf, cap, "%s per example%s%s", what, nats,
                 spec->model.ae.sparsity.type != SPARSITY_NONE ? " + sparsity penalty" : "");
        break;
    case MODEL_ONE_TO_MANY: snprintf(buf, cap, "%s per example%s", what, nats); break;
    case MODEL_SEQ2SEQ: snprintf(buf, cap, "cross-entropy, nats per target token"); break;
    case MODEL_SEQUENCE:
        if (spec->model.rec.head == SEQ_HEAD_LAST_STEP) snprintf(buf, cap, "%s%s per sequence", what, nats);
        else if (spec->loss == LOSS_SQUARED_ERROR) snprintf(buf, cap, "squared error per step");
        else snprintf(buf, cap, "cross-entropy, nats per token");
        break;
    default: buf[0] = '\0';
    }
}

/* Reconstructions of the first validation images by a checkpoint (`which`: latest_load_params),
 * for the run whose spec (read from dir) is given. Returns 0 with no images when the run is not an
 * autoencoder on image data. */
static int load_images(const char *dir, const Spec *run_spec, const char *which, PlotRun *r, ExError *err) {
    if (run_spec->data.source != DATA_IDX || run_spec->data.as_sequence) return 0;
    Spec spec = {0};           /* the spec read again only for the fallback below */
    const Spec *used = run_spec;
    RunData rd;
    if (rundata_load(run_spec, &rd, err) != 0) {
        /* Runs made before resolved.yaml held absolute data paths have paths relative to
         * their spec's folder, which the run does not record: try the working directory. */
        if (load_run_spec(dir, ".", &spec, err) != 0) return -1;
        if (rundata_load(&spec, &rd, err) != 0) {
            spec_free(&spec);
            return -1;
        }
        used = &spec;
    }
    int rc = -1;
    Model *model = NULL;
    float *codes = NULL;
    const Dataset *ds = rd.val.n > 0 ? &rd.val : &rd.train;
    int d = rd.n_input;
    if (ds->image_rows <= 0 || ds->image_rows * ds->image_cols != d) {
        rc = 0;
        goto done;
    }
    char warn[512];
    if (build_model(used, &rd, &model, warn, sizeof warn, err) != 0) goto done;
    if (!model->ops->codes) {   /* no code layer, no reconstructions */
        rc = 0;
        goto done;
    }
    if (latest_load_params(dir, which, &model->params, "to draw reconstructions from", NULL, err) != 0) goto done;
    int k = ds->n < 10 ? ds->n : 10;
    if (k > model->max_batch) k = model->max_batch;
    r->img_n = k;
    r->img_rows = ds->image_rows;
    r->img_cols = ds->image_cols;
    r->img_in = malloc((size_t)k * d * sizeof *r->img_in);
    r->img_out = malloc((size_t)k * d * sizeof *r->img_out);
    codes = malloc((size_t)k * model->ops->codes->code_size(model) * sizeof *codes);
    memcpy(r->img_in, ds->x, (size_t)k * d * sizeof *r->img_in);
    model->ops->codes->encode(model, ds->x, k, codes, r->img_out, NULL);
    rc = 0;
done:
    free(codes);
    model_free(model);
    rundata_free(&rd);
    if (used == &spec) spec_free(&spec);
    return rc;
}

int plot_run_load(const char *dir, int with_images, const char *checkpoint, PlotRun *r, ExError *err) {
    memset(r, 0, sizeof *r);
    const char *base = strrchr(dir, '/');
    snprintf(r->label, sizeof r->label, "%s", base && base[1] ? base + 1 : dir);
    char path[4200];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    H5Reader *h = NULL;
    if (h5r_open_own(&h, path, err) != 0) return -1;
    char *name = NULL;
    ExError ignored;
    if (h5r_has_attr(h, "/", "run_name") && h5r_attr_str(h, "/", "run_name", &name, &ignored) == 0)
        snprintf(r->name, sizeof r->name, "%s", name);
    free(name);
    int ncols = 0;
    char **names = NULL;
    int64_t nrows = 0;
    double *rows = NULL;
    /* no epoch table when the run diverged in its first epoch: its per-step rows may still be there */
    int has_epochs = h5r_exists(h, "/metrics/epochs"), has_steps = h5r_exists(h, "/metrics/steps");
    if ((has_epochs || !has_steps) && h5r_read_table(h, "/metrics/epochs", &ncols, &names, &nrows, &rows, err) != 0) {
        h5r_close(h);
        return -1;
    }
    int ce = column_of(names, ncols, "epoch"), ct = column_of(names, ncols, "train_loss"),
        cv = column_of(names, ncols, "val_loss");
    r->n_epochs = (int)nrows;
    r->epoch = malloc(((size_t)nrows + 1) * sizeof(double));
    r->train = malloc(((size_t)nrows + 1) * sizeof(double));
    r->val = malloc(((size_t)nrows + 1) * sizeof(double));
    for (int64_t i = 0; i < nrows; i++) {
        r->epoch[i] = ce >= 0 ? rows[i * ncols + ce] : (double)(i + 1);
        r->train[i] = ct >= 0 ? rows[i * ncols + ct] : NAN;
        r->val[i] = cv >= 0 ? rows[i * ncols + cv] : NAN;
    }
    int cta = column_of(names, ncols, "train_accuracy"), cva = column_of(names, ncols, "val_accuracy");
    if (nrows > 0 && (cta >= 0 || cva >= 0)) {
        r->train_acc = malloc((size_t)nrows * sizeof(double));
        r->val_acc = malloc((size_t)nrows * sizeof(double));
        for (int64_t i = 0; i < nrows; i++) {
            r->train_acc[i] = cta >= 0 ? rows[i * ncols + cta] : NAN;
            r->val_acc[i] = cva >= 0 ? rows[i * ncols + cva] : NAN;
        }
    }
    /* steps per epoch: the step count at the end of the first epoch */
    int cs = column_of(names, ncols, "step");
    double steps_per_epoch = nrows > 0 && cs >= 0 ? rows[cs] / r->epoch[0] : NAN;
    if (names) h5r_free_strings(names, (size_t)ncols);
    free(rows);
    if (has_steps) {
        names = NULL;
        rows = NULL;
        if (h5r_read_table(h, "/metrics/steps", &ncols, &names, &nrows, &rows, err) == 0) {
            int c_step = column_of(names, ncols, "step"), c_loss = column_of(names, ncols, "train_loss");
            if (c_step >= 0 && c_loss >= 0 && nrows > 0) {
                r->n_steps = (int)nrows;
                r->x_in_steps = !(steps_per_epoch > 0);
                r->step_x = malloc((size_t)nrows * sizeof(double));
                r->step_train = malloc((size_t)nrows * sizeof(double));
                r->step_smooth = malloc((size_t)nrows * sizeof(double));
                for (int64_t i = 0; i < nrows; i++) {
                    double step = rows[i * ncols + c_step];
                    r->step_x[i] = r->x_in_steps ? step : step / steps_per_epoch;
                    r->step_train[i] = r->step_smooth[i] = rows[i * ncols + c_loss];
                }
            }
            h5r_free_strings(names, (size_t)ncols);
            free(rows);
        } else {
            snprintf(r->note, sizeof r->note, "metrics/steps unreadable: %.400s", err->msg);
        }
    }
    if (h5r_exists(h, "/diagnostics/grad_norm_by_time")) {
        int rank = 0;
        int64_t dims[H5R_MAX_RANK];
        if (h5r_shape(h, "/diagnostics/grad_norm_by_time", &rank, dims, err) == 0 && rank == 2 && dims[0] > 0 &&
            dims[1] > 0) {
            int shape[2] = {(int)dims[0], (int)dims[1]};
            r->grad = malloc((size_t)shape[0] * shape[1] * sizeof *r->grad);
            if (h5r_read_doubles(h, "/diagnostics/grad_norm_by_time", 2, shape, r->grad, err) == 0) {
                r->grad_rows = shape[0];
                r->grad_T = shape[1];
            } else {
                snprintf(r->note, sizeof r->note, "gradient norms unreadable: %.400s", err->msg);
                free(r->grad);
                r->grad = NULL;
            }
        }
    }
    h5r_close(h);
    /* the run's spec, read once: the y axis's loss, and what the reconstructions are made with */
    Spec spec;
    if (load_run_spec(dir, dir, &spec, err) != 0) {
        if (with_images) snprintf(r->note, sizeof r->note, "no reconstructions: %.400s", err->msg);
        return 0;
    }
    loss_axis_label(&spec, r->loss_label, sizeof r->loss_label);
    if (with_images && load_images(dir, &spec, checkpoint, r, err) != 0)
        snprintf(r->note, sizeof r->note, "no reconstructions: %.400s", err->msg);
    spec_free(&spec);
    return 0;
}

/* ---- axes --------------------------------------------------------------------------------------- */

typedef struct Axes {
    double x0, y0, w, h;            /* plot area in pixels (y0 = top) */
    double xmin, xmax, ymin, ymax;  /* data range (log10 of it when logy) */
    int logy;
} Axes;

static double px(const Axes *a, double x) { return a->x0 + (x - a->xmin) / (a->xmax - a->xmin) * a->w; }
static double py(const Axes *a, double y) {
    double v = a->logy ? log10(y) : y;
    return a->y0 + a->h - (v - a->ymin) / (a->ymax - a->ymin) * a->h;
}

/* 1, 2 or 5 × 10^k, close to range / target. */
static double nice_step(double range, int target) {
    double raw = range / target, mag = pow(10, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * mag;
}

/* SVG keeps its words as text. cairo's SVG surface draws text as glyph outlines, which nobody can
 * search, copy, or restyle for a paper; so while an SVG is drawn, text_at records each string as
 * an SVG <text> element at the place cairo would have put it (the baseline origin, through the
 * current transform: rotated axis labels too), and plot_render adds them to cairo's SVG. */
typedef struct SvgText {
    StrBuf elements;            /* the <text> elements, in drawing order */
    double size;                /* the font set_font chose last */
    int bold;
} SvgText;

static const cairo_user_data_key_t SVG_TEXT_KEY;   /* its address names the SvgText on a cairo_t */

static void set_font(cairo_t *cr, double size, int bold) {
    cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
    SvgText *svg = cairo_get_user_data(cr, &SVG_TEXT_KEY);
    if (svg) {
        svg->size = size;
        svg->bold = bold;
    }
}

static void svg_text_add(SvgText *svg, cairo_t *cr, double x, double y, const char *s) {
    double X = x, Y = y;
    cairo_user_to_device(cr, &X, &Y);
    cairo_matrix_t m;
    cairo_get_matrix(cr, &m);
    double angle = atan2(m.yx, m.xx) * 180 / M_PI;
    double r = 0, g = 0, b = 0, alpha = 1;
    cairo_pattern_get_rgba(cairo_get_source(cr), &r, &g, &b, &alpha);
    strbuf_printf(&svg->elements,
                  "<text x=\"%.2f\" y=\"%.2f\" font-family=\"%s, sans-serif\" font-size=\"%g\"%s "
                  "fill=\"rgb(%d,%d,%d)\"",
                  X, Y, FONT, svg->size, svg->bold ? " font-weight=\"bold\"" : "", (int)(r * 255 + 0.5),
                  (int)(g * 255 + 0.5), (int)(b * 255 + 0.5));
    if (fabs(angle) > 1e-9) strbuf_printf(&svg->elements, " transform=\"rotate(%.2f %.2f %.2f)\"", angle, X, Y);
    strbuf_putc(&svg->elements, '>');
    for (const char *c = s; *c; c++) {   /* XML's five escapes */
        if (*c == '&') strbuf_puts(&svg->elements, "&amp;");
        else if (*c == '<') strbuf_puts(&svg->elements, "&lt;");
        else if (*c == '>') strbuf_puts(&svg->elements, "&gt;");
        else if (*c == '"') strbuf_puts(&svg->elements, "&quot;");
        else if (*c == '\'') strbuf_puts(&svg->elements, "&apos;");
        else strbuf_putc(&svg->elements, *c);
    }
    strbuf_puts(&svg->elements, "</text>\n");
}

/* Text anchored at (x, y): ax, ay in {0, 0.5, 1} = left/centre/right, top/middle/bottom. */
static void text_at(cairo_t *cr, double x, double y, double ax, double ay, const char *s) {
    cairo_text_extents_t e;
    cairo_text_extents(cr, s, &e);
    double ox = x - ax * e.width - e.x_bearing, oy = y - ay * e.height - e.y_bearing;
    SvgText *svg = cairo_get_user_data(cr, &SVG_TEXT_KEY);
    if (svg) {
        svg_text_add(svg, cr, ox, oy, s);
        return;
    }
    cairo_move_to(cr, ox, oy);
    cairo_show_text(cr, s);
}

static void format_tick(char *buf, size_t cap, double v, double step) {
    if (fabs(v) < step * 1e-9) v = 0;
    int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);
    if (decimals > 5 || fabs(v) >= 1e6) snprintf(buf, cap, "%g", v);
    else snprintf(buf, cap, "%.*f", decimals, v);
}

static void set_rgb(cairo_t *cr, int color) {
    const double *c = PALETTE[color % 10];
    cairo_set_source_rgb(cr, c[0], c[1], c[2]);
}

/* Frame, grid, ticks, tick labels, title and axis labels; leaves the clip on the plot area. */
static void draw_axes(cairo_t *cr, const Axes *a, const char *title, const char *xlabel, const char *ylabel,
                      int integer_x) {
    char buf[64];
    cairo_set_line_width(cr, 1);
    set_font(cr, 12, 0);
    /* x ticks */
    double xs = nice_step(a->xmax - a->xmin, 8);
    if (integer_x && xs < 1) xs = 1;
    for (double x = ceil(a->xmin / xs - 1e-9) * xs; x <= a->xmax + xs * 1e-9; x += xs) {
        double X = px(a, x);
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, X, a->y0);
        cairo_line_to(cr, X, a->y0 + a->h);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_move_to(cr, X, a->y0 + a->h);
        cairo_line_to(cr, X, a->y0 + a->h + 5);
        cairo_stroke(cr);
        format_tick(buf, sizeof buf, x, xs);
        text_at(cr, X, a->y0 + a->h + 9, 0.5, 0, buf);
    }
    /* y ticks: decades on a log axis (with 2 and 5 when it spans little), else nice steps */
    double ticks[64];
    int nt = 0;
    if (a->logy) {
        int k0 = (int)floor(a->ymin), k1 = (int)ceil(a->ymax);
        const double mult_all[] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, mult_few[] = {1, 2, 5}, mult_one[] = {1};
        const double *mult = k1 - k0 > 3 ? mult_one : k1 - k0 > 1 ? mult_few : mult_all;
        int nm = k1 - k0 > 3 ? 1 : k1 - k0 > 1 ? 3 : 9;
        /* over many decades (an exploding loss) a label every few decades: at most about 10 */
        int every = (k1 - k0 + 9) / 10 > 1 ? (k1 - k0 + 9) / 10 : 1;
        if (every > 1) k0 = (int)(floor((double)k0 / every) * every);
        for (int k = k0; k <= k1 && nt < 64; k += every)
            for (int m = 0; m < nm && nt < 64; m++) {
                double v = log10(mult[m]) + k;
                if (v >= a->ymin - 1e-9 && v <= a->ymax + 1e-9) ticks[nt++] = v;
            }
    } else {
        double ys = nice_step(a->ymax - a->ymin, 6);
        for (double y = ceil(a->ymin / ys - 1e-9) * ys; y <= a->ymax + ys * 1e-9 && nt < 64; y += ys) ticks[nt++] = y;
    }
    /* unlabelled minor ticks at 2..9 × 10^k when only the decades are labelled (not over many) */
    if (a->logy && (int)ceil(a->ymax) - (int)floor(a->ymin) > 3 && (int)ceil(a->ymax) - (int)floor(a->ymin) <= 10) {
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        for (int k = (int)floor(a->ymin); k <= (int)ceil(a->ymax); k++)
            for (int m = 2; m <= 9; m++) {
                double v = log10(m) + k;
                if (v < a->ymin || v > a->ymax) continue;
                double Y = a->y0 + a->h - (v - a->ymin) / (a->ymax - a->ymin) * a->h;
                cairo_move_to(cr, a->x0 - 3, Y);
                cairo_line_to(cr, a->x0, Y);
                cairo_stroke(cr);
            }
    }
    double ystep = nt > 1 ? ticks[1] - ticks[0] : 1;
    for (int i = 0; i < nt; i++) {
        double Y = a->y0 + a->h - (ticks[i] - a->ymin) / (a->ymax - a->ymin) * a->h;
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, a->x0, Y);
        cairo_line_to(cr, a->x0 + a->w, Y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
        cairo_move_to(cr, a->x0 - 5, Y);
        cairo_line_to(cr, a->x0, Y);
        cairo_stroke(cr);
        if (a->logy) snprintf(buf, sizeof buf, "%g", pow(10, ticks[i]));
        else format_tick(buf, sizeof buf, ticks[i], ystep);
        text_at(cr, a->x0 - 8, Y, 1, 0.5, buf);
    }
    cairo_set_source_rgb(cr, 0.2, 0.2, 0.2);
    cairo_rectangle(cr, a->x0, a->y0, a->w, a->h);
    cairo_stroke(cr);
    set_font(cr, 15, 1);
    text_at(cr, a->x0, a->y0 - 12, 0, 1, title);
    set_font(cr, 13, 0);
    text_at(cr, a->x0 + a->w / 2, a->y0 + a->h + 30, 0.5, 0, xlabel);
    cairo_save(cr);
    cairo_translate(cr, a->x0 - 62, a->y0 + a->h / 2);
    cairo_rotate(cr, -M_PI / 2);
    text_at(cr, 0, 0, 0.5, 0.5, ylabel);
    cairo_restore(cr);
}

/* Data range of values (only finite ones, only positive ones for a log axis). */
static void extend(double *lo, double *hi, const double *v, int n, int positive_only) {
    for (int i = 0; i < n; i++) {
        if (!isfinite(v[i]) || (positive_only && v[i] <= 0)) continue;
        if (v[i] < *lo) *lo = v[i];
        if (v[i] > *hi) *hi = v[i];
    }
}

static void set_y_range(Axes *a, double lo, double hi) {
    if (!(lo <= hi)) lo = 0, hi = 1;
    if (a->logy) {
        lo = log10(lo);
        hi = log10(hi);
        double pad = (hi - lo) * 0.05 + 0.05;
        a->ymin = lo - pad;
        a->ymax = hi + pad;
        return;
    }
    if (hi - lo < 1e-12 * (fabs(hi) + 1)) {
        double d = fabs(hi) * 0.1 + 1e-3;
        lo -= d;
        hi += d;
    }
    double pad = (hi - lo) * 0.05;
    a->ymin = lo - pad;
    a->ymax = hi + pad;
}

/* A polyline through the finite points (broken at gaps), markers when there are few points. */
static void draw_series(cairo_t *cr, const Axes *a, const double *x, const double *y, int n, int stride, int color,
                        int style) {
    set_rgb(cr, color);
    cairo_set_line_width(cr, 2);
    if (style == 4) {   /* faint: the raw rows under their smoothed curve */
        const double *c = PALETTE[color % 10];
        cairo_set_source_rgba(cr, c[0], c[1], c[2], 0.25);
        cairo_set_line_width(cr, 1);
    }
    static const double dashed[] = {7, 4}, dotted[] = {2, 3};
    if (style == 1) cairo_set_dash(cr, dashed, 2, 0);
    else if (style == 2) cairo_set_dash(cr, dotted, 2, 0);
    int pen = 0;
    for (int i = 0; i < n; i++) {
        double xv = x ? x[i] : (double)(i + 1), yv = y[(size_t)i * stride];
        if (!isfinite(yv) || (a->logy && yv <= 0)) {
            pen = 0;
            continue;
        }
        if (pen) cairo_line_to(cr, px(a, xv), py(a, yv));
        else cairo_move_to(cr, px(a, xv), py(a, yv));
        pen = 1;
    }
    cairo_stroke(cr);
    cairo_set_dash(cr, NULL, 0, 0);
    if (n <= 40 && style != 2 && style != 4)
        for (int i = 0; i < n; i++) {
            double xv = x ? x[i] : (double)(i + 1), yv = y[(size_t)i * stride];
            if (!isfinite(yv) || (a->logy && yv <= 0)) continue;
            cairo_new_sub_path(cr);
            cairo_arc(cr, px(a, xv), py(a, yv), style == 1 ? 2.5 : 3, 0, 2 * M_PI);
            cairo_fill(cr);
        }
}

/* A legend beside the plot area, in the figure's legend column (never over the data): entries of
 * colour (or −1 for grey) and line style. */
typedef struct LegendEntry {
    const char *text;
    int color, style;
} LegendEntry;

enum { LEGEND_LINE_H = 18, LEGEND_SAMPLE_W = 42, LEGEND_PAD = 12 };

static void draw_legend(cairo_t *cr, const Axes *a, const LegendEntry *e, int n) {
    if (n == 0) return;
    set_font(cr, 12, 0);
    double wmax = 0;
    for (int i = 0; i < n; i++) {
        cairo_text_extents_t te;
        cairo_text_extents(cr, e[i].text, &te);
        if (te.x_advance > wmax) wmax = te.x_advance;
    }
    /* on pixel centres: a crisp one-pixel frame */
    double x = floor(a->x0 + a->w + LEGEND_PAD) + 0.5, y = floor(a->y0) + 0.5;
    double w = ceil(wmax + LEGEND_SAMPLE_W + 8), h = n * LEGEND_LINE_H + 10;
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_rectangle(cr, x, y, w, h);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.7, 0.7, 0.7);
    cairo_set_line_width(cr, 1);
    cairo_stroke(cr);
    static const double dashed[] = {7, 4}, dotted[] = {2, 3};
    for (int i = 0; i < n; i++) {
        double yy = y + 5 + LEGEND_LINE_H * (i + 0.5);
        if (e[i].color < 0) cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
        else set_rgb(cr, e[i].color);
        cairo_set_line_width(cr, 2);
        if (e[i].style == 1) cairo_set_dash(cr, dashed, 2, 0);
        if (e[i].style == 2) cairo_set_dash(cr, dotted, 2, 0);
        if (e[i].style != 3) {            /* 3: text only */
            cairo_move_to(cr, x + 8, yy);
            cairo_line_to(cr, x + 36, yy);
            cairo_stroke(cr);
        }
        cairo_set_dash(cr, NULL, 0, 0);
        cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
        text_at(cr, x + LEGEND_SAMPLE_W, yy, 0, 0.5, e[i].text);
    }
}

enum { LEGEND_MAX_RUNS = 12 };

static int has_grad(const PlotRun *r) { return r->grad_rows > 0 && r->grad_T > 0; }

/* The legend column's width: the widest entry any panel shows, its line sample and the gaps. */
static double legend_column_width(const PlotRun *runs, int n) {
    cairo_surface_t *scratch = cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1);
    cairo_t *cr = cairo_create(scratch);
    set_font(cr, 12, 0);
    const char *fixed[] = {"train (per step, smoothed 0.99)", "validation", "last epoch", "first epoch",
                           "... 999 more runs"};
    double wmax = 0;
    cairo_text_extents_t te;
    for (int i = 0; i < n + 5; i++) {
        if (i < n && i >= LEGEND_MAX_RUNS) continue;
        cairo_text_extents(cr, i < n ? runs[i].label : fixed[i - n], &te);
        if (te.x_advance > wmax) wmax = te.x_advance;
    }
    cairo_destroy(cr);
    cairo_surface_destroy(scratch);
    return ceil(LEGEND_PAD + LEGEND_SAMPLE_W + 8 + wmax + 12 - MARGIN_R);
}

static int has_accuracy(const PlotRun *r);

/* Entries for the runs drawn in a panel (only: 1, those with gradient norms; 2, those with
 * accuracy; 0, all), at most LEGEND_MAX_RUNS, then "... N more runs"; the style entries follow. */
static int legend_runs(const PlotRun *runs, int n, int only, LegendEntry *e, char *more, size_t more_cap) {
    int k = 0, hidden = 0;
    for (int i = 0; i < n; i++) {
        if ((only == 1 && !has_grad(&runs[i])) || (only == 2 && !has_accuracy(&runs[i]))) continue;
        if (k < LEGEND_MAX_RUNS) e[k++] = (LegendEntry){runs[i].label, i, 0};
        else hidden++;
    }
    if (hidden) {
        snprintf(more, more_cap, "... %d more run%s", hidden, hidden == 1 ? "" : "s");
        e[k++] = (LegendEntry){more, -1, 3};
    }
    return k;
}

/* ---- panels ------------------------------------------------------------------------------------- */

static Axes panel_axes(double top, double height) {
    Axes a = {0};
    a.x0 = MARGIN_L;
    a.y0 = top + MARGIN_T;
    a.w = FIG_W - MARGIN_L - MARGIN_R;
    a.h = height - MARGIN_T - MARGIN_B;
    return a;
}

static void draw_curves(cairo_t *cr, const PlotRun *runs, int n, double top) {
    Axes a = panel_axes(top, CURVE_H);
    double lo = INFINITY, hi = -INFINITY, lo_pos = INFINITY, hi_pos = -INFINITY;
    double max_x = 1;
    int any_steps = 0, all_in_steps = n > 0;
    for (int i = 0; i < n; i++) {
        extend(&lo, &hi, runs[i].train, runs[i].n_epochs, 0);
        extend(&lo, &hi, runs[i].val, runs[i].n_epochs, 0);
        extend(&lo_pos, &hi_pos, runs[i].train, runs[i].n_epochs, 1);
        extend(&lo_pos, &hi_pos, runs[i].val, runs[i].n_epochs, 1);
        extend(&lo, &hi, runs[i].step_train, runs[i].n_steps, 0);
        extend(&lo_pos, &hi_pos, runs[i].step_train, runs[i].n_steps, 1);
        for (int e = 0; e < runs[i].n_epochs; e++)
            if (runs[i].epoch[e] > max_x) max_x = runs[i].epoch[e];
        for (int s = 0; s < runs[i].n_steps; s++)
            if (runs[i].step_x[s] > max_x) max_x = runs[i].step_x[s];
        any_steps |= runs[i].n_steps > 0;
        all_in_steps &= runs[i].x_in_steps;
    }
    /* Losses that fall over more than two decades are read on a log scale. */
    a.logy = lo > 0 && isfinite(lo) && hi / lo > 100;
    a.xmin = any_steps ? 0 : max_x > 1 ? 1 : 0.5;
    a.xmax = max_x > 1 ? max_x : 1.5;
    set_y_range(&a, a.logy ? lo_pos : lo, a.logy ? hi_pos : hi);
    /* the y axis names the loss when every run has the same one */
    char ylabel[192];
    int same_loss = n > 0 && runs[0].loss_label[0];
    for (int i = 1; i < n && same_loss; i++) same_loss = strcmp(runs[i].loss_label, runs[0].loss_label) == 0;
    snprintf(ylabel, sizeof ylabel, "%s%s%s", same_loss ? "loss: " : n > 1 ? "loss (differs between runs)" : "loss",
             same_loss ? runs[0].loss_label : "", a.logy ? " (log scale)" : "");
    draw_axes(cr, &a, "Learning curves", all_in_steps ? "step" : "epoch", ylabel, 1);
    cairo_save(cr);
    cairo_rectangle(cr, a.x0, a.y0, a.w, a.h);
    cairo_clip(cr);
    for (int i = 0; i < n; i++) {
        if (runs[i].n_steps > 0) {
            /* per step: the rows faint, the smoothed curve over them */
            draw_series(cr, &a, runs[i].step_x, runs[i].step_train, runs[i].n_steps, 1, i, 4);
            draw_series(cr, &a, runs[i].step_x, runs[i].step_smooth, runs[i].n_steps, 1, i, 0);
        } else {
            draw_series(cr, &a, runs[i].epoch, runs[i].train, runs[i].n_epochs, 1, i, 0);
        }
    }
    /* validation on top of every training curve */
    for (int i = 0; i < n; i++) draw_series(cr, &a, runs[i].epoch, runs[i].val, runs[i].n_epochs, 1, i, 1);
    cairo_restore(cr);
    LegendEntry e[LEGEND_MAX_RUNS + 4];
    char more[64], train_text[64];
    int k = legend_runs(runs, n, 0, e, more, sizeof more);
    double smooth = n > 0 ? runs[0].smooth : 0;
    if (any_steps && smooth > 0) snprintf(train_text, sizeof train_text, "train (per step, smoothed %.2g)", smooth);
    else snprintf(train_text, sizeof train_text, any_steps ? "train (per step)" : "train");
    e[k++] = (LegendEntry){train_text, -1, 0};
    e[k++] = (LegendEntry){"validation", -1, 1};
    draw_legend(cr, &a, e, k);
}

static int has_accuracy(const PlotRun *r) { return r->train_acc != NULL; }

/* Accuracy per epoch where the runs log it: train solid, validation dashed, on [0, 1]. */
static void draw_accuracy(cairo_t *cr, const PlotRun *runs, int n, double top) {
    Axes a = panel_axes(top, CURVE_H);
    double max_x = 1;
    for (int i = 0; i < n; i++)
        for (int e = 0; has_accuracy(&runs[i]) && e < runs[i].n_epochs; e++)
            if (runs[i].epoch[e] > max_x) max_x = runs[i].epoch[e];
    a.xmin = max_x > 1 ? 1 : 0.5;
    a.xmax = max_x > 1 ? max_x : 1.5;
    a.ymin = 0;
    a.ymax = 1;
    draw_axes(cr, &a, "Accuracy", "epoch", "accuracy (share right, 0 to 1)", 1);
    cairo_save(cr);
    cairo_rectangle(cr, a.x0, a.y0, a.w, a.h);
    cairo_clip(cr);
    for (int i = 0; i < n; i++) {
        if (!has_accuracy(&runs[i])) continue;
        draw_series(cr, &a, runs[i].epoch, runs[i].train_acc, runs[i].n_epochs, 1, i, 0);
        draw_series(cr, &a, runs[i].epoch, runs[i].val_acc, runs[i].n_epochs, 1, i, 1);
    }
    cairo_restore(cr);
    LegendEntry e[LEGEND_MAX_RUNS + 4];
    char more[64];
    int k = legend_runs(runs, n, 2, e, more, sizeof more);
    e[k++] = (LegendEntry){"train", -1, 0};
    e[k++] = (LegendEntry){"validation", -1, 1};
    draw_legend(cr, &a, e, k);
}

static void draw_grad(cairo_t *cr, const PlotRun *runs, int n, double top) {
    Axes a = panel_axes(top, CURVE_H);
    a.logy = 1;
    double lo = INFINITY, hi = -INFINITY;
    int T = 1;
    for (int i = 0; i < n; i++) {
        if (!has_grad(&runs[i])) continue;
        extend(&lo, &hi, runs[i].grad, runs[i].grad_rows * runs[i].grad_T, 1);
        if (runs[i].grad_T > T) T = runs[i].grad_T;
    }
    a.xmin = 1;
    a.xmax = T > 1 ? T : 2;
    set_y_range(&a, lo, hi);
    draw_axes(cr, &a, "Gradient norm over time: ||dL/dh_t|| (last recurrent layer)", "time step t",
              "gradient norm (log scale)", 1);
    cairo_save(cr);
    cairo_rectangle(cr, a.x0, a.y0, a.w, a.h);
    cairo_clip(cr);
    for (int i = 0; i < n; i++) {
        const PlotRun *r = &runs[i];
        if (!has_grad(r)) continue;
        if (r->grad_rows > 1) draw_series(cr, &a, NULL, r->grad, r->grad_T, 1, i, 2);
        draw_series(cr, &a, NULL, r->grad + (size_t)(r->grad_rows - 1) * r->grad_T, r->grad_T, 1, i, 0);
    }
    cairo_restore(cr);
    LegendEntry e[LEGEND_MAX_RUNS + 4];
    char more[64];
    int k = legend_runs(runs, n, 1, e, more, sizeof more);
    e[k++] = (LegendEntry){"last epoch", -1, 0};
    e[k++] = (LegendEntry){"first epoch", -1, 2};
    draw_legend(cr, &a, e, k);
}

enum { IMG_TITLE_H = 44, IMG_LABEL_H = 22, IMG_GAP = 14, IMG_SIZE = 56 };

static int image_cell(const PlotRun *r) {
    int side = r->img_rows > r->img_cols ? r->img_rows : r->img_cols;
    int scale = side > 0 ? IMG_SIZE / side : 1;
    return (scale < 1 ? 1 : scale) * side;
}

static double images_height(const PlotRun *runs, int n) {
    double h = IMG_TITLE_H;
    for (int i = 0; i < n; i++)
        if (runs[i].img_n > 0) h += IMG_LABEL_H + 2 * (image_cell(&runs[i]) + 4) + IMG_GAP;
    return h + 10;
}

/* One image (rows × cols values mapped from [lo, hi] to black…white), scaled to cell px. */
static void draw_image(cairo_t *cr, const float *v, int rows, int cols, double lo, double hi, double x, double y,
                       int cell) {
    int stride = cairo_format_stride_for_width(CAIRO_FORMAT_RGB24, cols);
    unsigned char *pix = calloc((size_t)stride * rows, 1);
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) {
            double t = (v[i * cols + j] - lo) / (hi - lo);
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            unsigned g = (unsigned)(t * 255 + 0.5);
            uint32_t px32 = (g << 16) | (g << 8) | g;
            memcpy(pix + (size_t)i * stride + 4 * j, &px32, 4);
        }
    cairo_surface_t *img = cairo_image_surface_create_for_data(pix, CAIRO_FORMAT_RGB24, cols, rows, stride);
    int side = rows > cols ? rows : cols;
    double s = (double)cell / side;
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_scale(cr, s, s);
    cairo_set_source_surface(cr, img, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_paint(cr);
    cairo_restore(cr);
    cairo_surface_destroy(img);
    free(pix);
}

static void draw_images(cairo_t *cr, const PlotRun *runs, int n, double top) {
    set_font(cr, 15, 1);
    cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
    text_at(cr, MARGIN_L, top + 30, 0, 1, "Validation inputs (upper row) and their reconstructions (lower row)");
    double y = top + IMG_TITLE_H;
    for (int i = 0; i < n; i++) {
        const PlotRun *r = &runs[i];
        if (r->img_n == 0) continue;
        set_font(cr, 12, 0);
        set_rgb(cr, i);
        text_at(cr, MARGIN_L, y + 4, 0, 0, r->label);
        y += IMG_LABEL_H;
        int d = r->img_rows * r->img_cols, cell = image_cell(r);
        /* one grey scale for inputs and reconstructions, from the inputs' range */
        double lo = INFINITY, hi = -INFINITY;
        for (int k = 0; k < r->img_n * d; k++) {
            if (r->img_in[k] < lo) lo = r->img_in[k];
            if (r->img_in[k] > hi) hi = r->img_in[k];
        }
        if (!(hi > lo)) hi = lo + 1;
        for (int k = 0; k < r->img_n; k++) {
            double x = MARGIN_L + k * (cell + 6);
            draw_image(cr, r->img_in + (size_t)k * d, r->img_rows, r->img_cols, lo, hi, x, y, cell);
            draw_image(cr, r->img_out + (size_t)k * d, r->img_rows, r->img_cols, lo, hi, x, y + cell + 4, cell);
        }
        y += 2 * (cell + 4) + IMG_GAP;
    }
}

/* ---- the figure --------------------------------------------------------------------------------- */

static void draw_figure(cairo_t *cr, const PlotRun *runs, int n, int any_accuracy, int any_grad, int any_images) {
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_paint(cr);
    double top = 0;
    draw_curves(cr, runs, n, top);
    top += CURVE_H;
    if (any_accuracy) {
        draw_accuracy(cr, runs, n, top);
        top += CURVE_H;
    }
    if (any_grad) {
        draw_grad(cr, runs, n, top);
        top += CURVE_H;
    }
    if (any_images) draw_images(cr, runs, n, top);
}

/* cairo writes the image through this into memory; publish_file then writes it whole. */
typedef struct ImageBytes {
    unsigned char *data;
    size_t size, cap;
} ImageBytes;

static cairo_status_t append_bytes(void *closure, const unsigned char *data, unsigned int length) {
    ImageBytes *out = closure;
    if (out->size + length > out->cap) {
        size_t cap = out->cap ? out->cap : 1 << 16;
        while (cap < out->size + length) cap *= 2;
        unsigned char *grown = realloc(out->data, cap);
        if (!grown) return CAIRO_STATUS_NO_MEMORY;
        out->data = grown;
        out->cap = cap;
    }
    memcpy(out->data + out->size, data, length);
    out->size += length;
    return CAIRO_STATUS_SUCCESS;
}

/* The recorded <text> elements into cairo's SVG, before its closing </svg> (drawn last: on top). */
static cairo_status_t svg_insert_text(ImageBytes *image, const SvgText *text) {
    static const char CLOSE[] = "</svg>";
    size_t at = image->size;
    while (at >= sizeof CLOSE - 1 && memcmp(image->data + at - (sizeof CLOSE - 1), CLOSE, sizeof CLOSE - 1) != 0) at--;
    if (at < sizeof CLOSE - 1) return CAIRO_STATUS_WRITE_ERROR;   /* not cairo's SVG */
    if (!text->elements.s) return CAIRO_STATUS_SUCCESS;
    at -= sizeof CLOSE - 1;
    size_t tail = image->size - at;
    unsigned char *rest = malloc(tail);
    memcpy(rest, image->data + at, tail);
    image->size = at;
    cairo_status_t st = append_bytes(image, (const unsigned char *)text->elements.s, (unsigned)text->elements.len);
    if (st == CAIRO_STATUS_SUCCESS) st = append_bytes(image, rest, (unsigned)tail);
    free(rest);
    return st;
}

int plot_render(const PlotRun *runs, int n, const char *path, PlotFormat format, ExError *err) {
    int any_accuracy = 0, any_grad = 0, any_images = 0;
    for (int i = 0; i < n; i++) {
        any_accuracy |= has_accuracy(&runs[i]);
        any_grad |= has_grad(&runs[i]);
        any_images |= runs[i].img_n > 0;
    }
    double height = CURVE_H + (any_accuracy ? CURVE_H : 0) + (any_grad ? CURVE_H : 0) +
                    (any_images ? images_height(runs, n) : 0);
    /* the plot areas keep FIG_W's width; the legends get a column of their own to the right */
    double width = FIG_W + legend_column_width(runs, n);
    ImageBytes image = {0};
    cairo_surface_t *surface =
        format == PLOT_SVG ? cairo_svg_surface_create_for_stream(append_bytes, &image, width, height)
        : format == PLOT_PDF ? cairo_pdf_surface_create_for_stream(append_bytes, &image, width, height)
                             : cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)width, (int)ceil(height));
    if (cairo_surface_status(surface) != CAIRO_STATUS_SUCCESS) {
        ex_fail(err, "cannot draw %s: %s", path, cairo_status_to_string(cairo_surface_status(surface)));
        cairo_surface_destroy(surface);
        free(image.data);
        return -1;
    }
    cairo_t *cr = cairo_create(surface);
    SvgText svg_text = {0};
    if (format == PLOT_SVG) cairo_set_user_data(cr, &SVG_TEXT_KEY, &svg_text, NULL);
    draw_figure(cr, runs, n, any_accuracy, any_grad, any_images);
    cairo_status_t st = cairo_status(cr);
    cairo_destroy(cr);
    if (st == CAIRO_STATUS_SUCCESS && format == PLOT_PNG)
        st = cairo_surface_write_to_png_stream(surface, append_bytes, &image);
    cairo_surface_finish(surface);
    if (st == CAIRO_STATUS_SUCCESS) st = cairo_surface_status(surface);
    cairo_surface_destroy(surface);
    if (st == CAIRO_STATUS_SUCCESS && format == PLOT_SVG) st = svg_insert_text(&image, &svg_text);
    strbuf_free(&svg_text.elements);
    int rc = st == CAIRO_STATUS_SUCCESS ? publish_file(path, image.data, image.size, err)
                                        : ex_fail(err, "cannot write %s: %s", path, cairo_status_to_string(st));
    free(image.data);
    return rc;
}

void plot_smooth(const double *y, int n, double w, double *out) {
    double m = 0, decay = 1;   /* decay = w^k */
    for (int i = 0; i < n; i++) {
        if (!isfinite(y[i]) || w <= 0) {
            out[i] = y[i];
            continue;
        }
        m = w * m + (1 - w) * y[i];
        decay *= w;
        out[i] = m / (1 - decay);
    }
}

void plot_release_fonts(void) {
    cairo_debug_reset_static_data();
    FcFini();
}

/* ---- the command -------------------------------------------------------------------------------- */

int plot_format_of(const char *path, PlotFormat *format) {
    static const struct { const char *ext; PlotFormat format; } KNOWN[] = {
        {".png", PLOT_PNG}, {".svg", PLOT_SVG}, {".pdf", PLOT_PDF}};
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash)) return -1;
    for (size_t i = 0; i < sizeof KNOWN / sizeof KNOWN[0]; i++)
        if (strcasecmp(dot, KNOWN[i].ext) == 0) {
            *format = KNOWN[i].format;
            return 0;
        }
    return -1;
}

/* Legend labels: the run's name plus the override keys whose values tell the plotted runs apart
 * (runkeys.h; those every run shares, such as threads=1 in a sweep, are left out). Keys are
 * shortened to their last part when that stays unambiguous and the label would be long; runs
 * whose labels are still the same get their folder's name too. */
void plot_make_labels(PlotRun *runs, char **dirs, int n) {
    enum { LABEL_MAX = 72 };
    RunKeys *keys = calloc((size_t)n + 1, sizeof *keys);
    for (int i = 0; i < n; i++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/overrides.txt", dirs[i]);
        char *text = read_file(path, NULL, NULL);
        run_keys_parse(&keys[i], text);
        free(text);
    }
    run_keys_complete(keys, n, dirs);   /* a run that does not set a key: its spec's value */
    KeyColumn *cols = NULL;
    int nk = key_columns(keys, n, &cols);
    for (int shorten = 0; shorten < 2; shorten++) {
        int too_long = 0;
        for (int i = 0; i < n; i++) {
            const char *base = strrchr(dirs[i], '/');
            char label[512];
            snprintf(label, sizeof label, "%s", runs[i].name[0] ? runs[i].name : base ? base + 1 : dirs[i]);
            for (int k = 0; k < nk; k++) {
                if (!cols[k].varies || n < 2) continue;
                const char *v = run_keys_get(&keys[i], cols[k].key);
                const char *key = cols[k].key, *last = strrchr(key, '.');
                if (shorten && last) {
                    int unique = 1;
                    for (int j = 0; j < nk; j++) {
                        const char *other = strrchr(cols[j].key, '.');
                        unique &= j == k || !cols[j].varies || strcmp(other ? other + 1 : cols[j].key, last + 1) != 0;
                    }
                    if (unique) key = last + 1;
                }
                size_t used = strlen(label);
                snprintf(label + used, sizeof label - used, " %s=%s", key, v ? v : "-");
            }
            too_long |= strlen(label) > LABEL_MAX;
            char printable[512];
            ex_printable(printable, sizeof printable, label, strlen(label));
            if (strlen(printable) > LABEL_MAX) strcpy(printable + LABEL_MAX - 3, "...");
            snprintf(runs[i].label, sizeof runs[i].label, "%.*s", LABEL_MAX, printable);   /* at most LABEL_MAX */
        }
        if (!too_long) break;
    }
    /* the same label twice (the same spec run twice, say): the folders tell them apart */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (i != j && strcmp(runs[i].label, runs[j].label) == 0) {
                const char *base = strrchr(dirs[i], '/');
                size_t used = strlen(runs[i].label);
                snprintf(runs[i].label + used, sizeof runs[i].label - used, " (%s)", base ? base + 1 : dirs[i]);
                break;
            }
    key_columns_free(cols, nk);
    for (int i = 0; i < n; i++) run_keys_free(&keys[i]);
    free(keys);
}

int command_plot(int argc, char **argv) {
    const char *out = NULL, *checkpoint = "latest";
    double smooth = 0.6;   /* TensorBoard's default */
    int svg = 0, images = -1, n_args = 0, rc = EXIT_USAGE;   /* images: -1 until asked */
    char **args = calloc((size_t)argc + 1, sizeof *args);
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            fputs(PLOT_USAGE, stdout);
            free(args);
            return EXIT_OK;
        }
        if ((strcmp(s, "-o") == 0 || strcmp(s, "--output") == 0) && i + 1 < argc) out = argv[++i];
        else if (strcmp(s, "--svg") == 0) svg = 1;
        else if (strcmp(s, "--no-images") == 0) images = 0;
        else if (strcmp(s, "--images") == 0) images = 1;
        else if (strcmp(s, "--checkpoint") == 0 && i + 1 < argc) checkpoint = argv[++i];
        else if (strcmp(s, "--smooth") == 0 && i + 1 < argc) {
            char *end;
            smooth = strtod(argv[++i], &end);
            if (end == argv[i] || *end || !(smooth >= 0 && smooth < 1)) {
                fprintf(stderr, "exprun plot: --smooth '%s': expected a weight in [0, 1) (0: no smoothing; "
                                "TensorBoard's default is 0.6)\n", argv[i]);
                free(args);
                return EXIT_USAGE;
            }
        }
        else if (s[0] == '-' && s[1]) {
            fprintf(stderr, "exprun plot: unknown option or missing value: %s\ntry 'exprun plot --help'\n", s);
            free(args);
            return EXIT_USAGE;
        } else args[n_args++] = argv[i];
    }
    if (n_args == 0 || !out) {
        fprintf(stderr, "exprun plot: %s\ntry 'exprun plot --help'\n", n_args == 0 ? "missing RUN" : "missing -o FILE");
        free(args);
        return EXIT_USAGE;
    }
    char why[8800];
    if (rundir_owns(out, why, sizeof why)) {
        fprintf(stderr, "exprun plot: refusing to write -o %s: %s, which exprun never writes over. Choose another "
                        "file\n", out, why);
        free(args);
        return EXIT_USAGE;
    }
    PlotFormat format;
    if (plot_format_of(out, &format) != 0) {
        const char *dot = strrchr(out, '.'), *slash = strrchr(out, '/');
        if (dot && (!slash || dot > slash))
            fprintf(stderr, "exprun plot: -o %s: '%s' is not a format plot writes: name a .png, .svg or .pdf file\n", out,
                    dot);
        else
            fprintf(stderr, "exprun plot: -o %s: the file needs an extension to say its format: .png, .svg or .pdf\n",
                    out);
        free(args);
        return EXIT_USAGE;
    }
    if (svg && format != PLOT_SVG) {   /* --svg is kept for old scripts: it must agree with the name */
        fprintf(stderr, "exprun plot: --svg, but -o %s names another format: name the file .svg\n", out);
        free(args);
        return EXIT_USAGE;
    }
    ExError err;
    char **dirs = NULL;
    int n = 0;
    if (find_run_dirs(args, n_args, &dirs, &n, &err) != 0) {
        fprintf(stderr, "exprun plot: %s\n", err.msg);
        free(args);
        return EXIT_USAGE;
    }
    free(args);
    /* image strips of many runs bury the curves: past two runs, only when asked for */
    if (images < 0) images = n <= 2;
    PlotRun *runs = calloc((size_t)n + 1, sizeof *runs);
    char **kept_dirs = calloc((size_t)n + 1, sizeof *kept_dirs);
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (plot_run_load(dirs[i], images, checkpoint, &runs[kept], &err) != 0) {
            fprintf(stderr, "exprun plot: skipping %s: %s\n", dirs[i], err.msg);
            continue;
        }
        if (runs[kept].note[0]) fprintf(stderr, "exprun plot: %s: %s\n", dirs[i], runs[kept].note);
        runs[kept].smooth = smooth;
        plot_smooth(runs[kept].step_train, runs[kept].n_steps, smooth, runs[kept].step_smooth);
        kept_dirs[kept++] = dirs[i];
    }
    if (kept == 0) {
        fprintf(stderr, "exprun plot: no run with results to plot%s\n", n == 0 ? " (no run directories found)" : "");
        rc = EXIT_RUNTIME;
    } else {
        plot_make_labels(runs, kept_dirs, kept);
        if (plot_render(runs, kept, out, format, &err) != 0) {
            fprintf(stderr, "exprun plot: %s\n", err.msg);
            rc = EXIT_RUNTIME;
        } else {
            printf("plot: %s (%d run%s)\n", out, kept, kept == 1 ? "" : "s");
            rc = EXIT_OK;
        }
    }
    plot_release_fonts();
    for (int i = 0; i < kept; i++) plot_run_free(&runs[i]);
    for (int i = 0; i < n; i++) free(dirs[i]);
    free(dirs);
    free(kept_dirs);
    free(runs);
    return rc;
}
