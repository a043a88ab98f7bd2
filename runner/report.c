/* report.c — `exprun report`: the runs compared in one self-contained HTML file (see report.h). */
#include "report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "h5read.h"
#include "jsonw.h"
#include "plot.h"
#include "publish.h"
#include "rundir.h"
#include "runsummary.h"
#include "sumtable.h"
#include "train.h"
#include "version.h"

/* the page's script and styles, embedded at build time (CMakeLists.txt, cmake/embed.cmake) */
extern const unsigned char REPORT_UPLOT_JS[], REPORT_UPLOT_CSS[], REPORT_UPLOT_LICENSE[], REPORT_JS[], REPORT_CSS[];

static const char REPORT_USAGE[] =
    "usage: exprun report DIR... -o FILE.html [--images|--no-images] [--checkpoint best|latest|FILE]\n"
    "\n"
    "One self-contained HTML file comparing the runs under the DIRs (a DIR may itself be a run):\n"
    "overlaid learning curves (training per step where logged, smoothed as TensorBoard smooths,\n"
    "with a slider; validation loss and accuracy per epoch), the table of the runs as summarize\n"
    "makes it (sortable by any column, the best marked), a parallel-coordinates view of the swept\n"
    "keys against the metric, and a panel per run (its last text sample, reconstructions of\n"
    "validation images, the ||dL/dh_t|| heatmap). No server, no network: open it from disk.\n"
    "Each series is downsampled to 1000 points. Reconstructions need the run's model and data:\n"
    "drawn for up to 8 runs unless --images (all) or --no-images (none).\n"
    "  exprun report results/ae_fashion -o ae.html\n"
    "  exprun report results/ae_fashion/sweep-20250101-120000 -o sweep.html\n";

enum { IMAGES_DEFAULT_MAX_RUNS = 8 };

void report_pick_points(int n, int max, int *idx, int *count) {
    if (n <= max || max < 2) {
        *count = n < max ? n : max;
        for (int i = 0; i < *count; i++) idx[i] = i;
        return;
    }
    for (int k = 0; k < max; k++) idx[k] = (int)((long long)k * (n - 1) / (max - 1));
    *count = max;
}

/* [v0, v1, ...] of the points idx picks (all n when idx is NULL). */
static void numbers(FILE *out, const double *v, int n, const int *idx) {
    fputc('[', out);
    for (int i = 0; i < n; i++) {
        if (i) fputc(',', out);
        json_number(out, v[idx ? idx[i] : i], 7);
    }
    fputc(']', out);
}

static void floats(FILE *out, const float *v, size_t n) {
    fputc('[', out);
    for (size_t i = 0; i < n; i++) {
        if (i) fputc(',', out);
        json_number(out, v[i], 4);
    }
    fputc(']', out);
}

/* A run's last few text samples (results.h5 /samples/text), or none. */
static char **read_samples(const char *dir, size_t *n) {
    char path[4200];
    snprintf(path, sizeof path, "%s/results.h5", dir);
    H5Reader *h = NULL;
    ExError err;
    char **samples = NULL;
    *n = 0;
    if (h5r_open_own(&h, path, &err) != 0) return NULL;
    if (h5r_exists(h, "/samples/text") && h5r_read_strings(h, "/samples/text", n, &samples, &err) != 0) *n = 0;
    h5r_close(h);
    return samples;
}

static void write_run(FILE *out, const PlotRun *r, const RunSummary *s) {
    fputs("{\"label\": ", out);
    json_string(out, r->label);
    char text[8192];
    ex_printable(text, sizeof text, s->dir, strlen(s->dir));
    fputs(", \"dir\": ", out);
    json_string(out, text);
    ex_printable(text, sizeof text, s->status, strlen(s->status));
    fputs(", \"status\": ", out);
    json_string(out, text);
    fputs(", \"epochs\": ", out);
    numbers(out, r->epoch, r->n_epochs, NULL);
    fputs(", \"train\": ", out);
    numbers(out, r->train, r->n_epochs, NULL);
    fputs(", \"val\": ", out);
    numbers(out, r->val, r->n_epochs, NULL);
    fputs(", \"val_acc\": ", out);
    if (r->val_acc) numbers(out, r->val_acc, r->n_epochs, NULL);
    else fputs("null", out);
    fputs(", \"steps\": ", out);
    if (r->n_steps > 0) {
        /* as TensorBoard keeps 1,000 points a series: evenly spread, the first and last kept */
        int idx[REPORT_SERIES_MAX], count;
        report_pick_points(r->n_steps, REPORT_SERIES_MAX, idx, &count);
        fputs("{\"x\": ", out);
        numbers(out, r->step_x, count, idx);
        fputs(", \"y\": ", out);
        numbers(out, r->step_train, count, idx);
        fputc('}', out);
    } else {
        fputs("null", out);
    }
    fputs(", \"grad\": ", out);
    if (r->grad_rows > 0 && r->grad_T > 0) {
        fprintf(out, "{\"rows\": %d, \"T\": %d, \"data\": ", r->grad_rows, r->grad_T);
        numbers(out, r->grad, r->grad_rows * r->grad_T, NULL);
        fputc('}', out);
    } else {
        fputs("null", out);
    }
    fputs(", \"images\": ", out);
    if (r->img_n > 0) {
        size_t d = (size_t)r->img_rows * r->img_cols;
        fprintf(out, "{\"n\": %d, \"rows\": %d, \"cols\": %d, \"in\": ", r->img_n, r->img_rows, r->img_cols);
        floats(out, r->img_in, (size_t)r->img_n * d);
        fputs(", \"out\": ", out);
        floats(out, r->img_out, (size_t)r->img_n * d);
        fputc('}', out);
    } else {
        fputs("null", out);
    }
    size_t n_samples = 0;
    char **samples = read_samples(s->dir, &n_samples);
    fputs(", \"samples\": [", out);
    for (size_t i = n_samples > 3 ? n_samples - 3 : 0; i < n_samples; i++) {   /* the last three */
        static char sample[1 << 16];
        ex_printable(sample, sizeof sample, samples[i], strlen(samples[i]));
        if (i > (n_samples > 3 ? n_samples - 3 : 0)) fputs(", ", out);
        json_string(out, sample);
    }
    fputs("]}", out);
    h5r_free_strings(samples, n_samples);
}

/* The y axis's name for every run's loss, or a note that they differ. */
static const char *common_loss_label(const PlotRun *runs, int n) {
    for (int i = 1; i < n; i++)
        if (strcmp(runs[i].loss_label, runs[0].loss_label) != 0) return "(differs between runs)";
    return n > 0 && runs[0].loss_label[0] ? runs[0].loss_label : "(unknown)";
}

static void write_page(FILE *out, PlotRun *runs, const RunSummary *summaries, int n, char **folders, int n_folders) {
    char when[64];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
    fprintf(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<title>exprun report: %d run%s</title>\n", n, n == 1 ? "" : "s");
    /* first: every error the page meets is written into it, where a headless browser's test reads it */
    fputs("<script>\nwindow.addEventListener('error', function (e) {\n"
          "  document.getElementById('errors').textContent += (e.message || 'error') + '\\n';\n});\n"
          "(function () { var log = console.error; console.error = function () {\n"
          "  var box = document.getElementById('errors');\n"
          "  if (box) box.textContent += Array.prototype.join.call(arguments, ' ') + '\\n';\n"
          "  log.apply(console, arguments); }; })();\n</script>\n<style>\n", out);
    fputs((const char *)REPORT_UPLOT_CSS, out);
    fputc('\n', out);
    fputs((const char *)REPORT_CSS, out);
    fputs("</style>\n</head>\n<body>\n<header>\n<h1>exprun report</h1>\n<p>", out);
    char text[4200];
    fprintf(out, "%d run%s under ", n, n == 1 ? "" : "s");
    for (int i = 0; i < n_folders; i++) {
        ex_printable(text, sizeof text, folders[i], strlen(folders[i]));
        fputs(i ? ", <code>" : "<code>", out);
        for (const char *c = text; *c; c++) {   /* HTML's escapes for text */
            if (*c == '<') fputs("&lt;", out);
            else if (*c == '>') fputs("&gt;", out);
            else if (*c == '&') fputs("&amp;", out);
            else fputc(*c, out);
        }
        fputs("</code>", out);
    }
    fprintf(out, "; written %s by exprun %s. <span id=\"best\"></span></p>\n</header>\n", when, exprun_version());
    fputs("<div id=\"errors\"></div>\n"
          "<section id=\"curves\">\n<h2>Learning curves</h2>\n"
          "<div class=\"controls\"><label>smoothing (TensorBoard's) <input type=\"range\" id=\"smooth\" min=\"0\" "
          "max=\"0.99\" step=\"0.01\" value=\"0.6\"> <span id=\"smooth-value\"></span></label></div>\n"
          "<div id=\"train-chart\" class=\"chart\"></div>\n<div id=\"val-chart\" class=\"chart\"></div>\n"
          "<div id=\"acc-chart\" class=\"chart\" hidden></div>\n</section>\n"
          "<section>\n<h2>Runs</h2>\n<p class=\"note\">Click a column to sort, a run to open its panel.</p>\n"
          "<div class=\"table-box\"><table id=\"runs\"></table></div>\n</section>\n"
          "<section>\n<h2>Swept keys against the metric</h2>\n<svg id=\"parallel\"></svg>\n</section>\n"
          "<section>\n<h2>Each run</h2>\n<div id=\"run-panels\"></div>\n</section>\n", out);
    /* the data */
    fputs("<script type=\"application/json\" id=\"report-data\">{\"loss_label\": ", out);
    json_string(out, common_loss_label(runs, n));
    fputs(", \"table\": ", out);
    summary_print_json(summaries, n, out);
    fputs(", \"runs\": [\n", out);
    for (int i = 0; i < n; i++) {
        if (i) fputs(",\n", out);
        write_run(out, &runs[i], &summaries[i]);
    }
    fputs("]}</script>\n<script>\n", out);
    fputs((const char *)REPORT_UPLOT_JS, out);
    fputs("\n</script>\n<script>\n", out);
    fputs((const char *)REPORT_JS, out);
    fputs("</script>\n<footer>\n<details><summary>Charts drawn with uPlot 1.6.32 (MIT licence), "
          "inlined from the npm package <code>uplot</code></summary>\n<pre>", out);
    fputs((const char *)REPORT_UPLOT_LICENSE, out);
    fputs("</pre></details>\n</footer>\n</body>\n</html>\n", out);
}

int command_report(int argc, char **argv) {
    const char *out_path = NULL, *checkpoint = "latest";
    int images = -1, n_folders = 0;
    char **folders = calloc((size_t)argc + 1, sizeof *folders);
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
            fputs(REPORT_USAGE, stdout);
            free(folders);
            return EXIT_OK;
        }
        if ((strcmp(s, "-o") == 0 || strcmp(s, "--output") == 0) && i + 1 < argc) out_path = argv[++i];
        else if (strcmp(s, "--images") == 0) images = 1;
        else if (strcmp(s, "--no-images") == 0) images = 0;
        else if (strcmp(s, "--checkpoint") == 0 && i + 1 < argc) checkpoint = argv[++i];
        else if (s[0] == '-' && s[1]) {
            fprintf(stderr, "exprun report: unknown option or missing value: %s\ntry 'exprun report --help'\n", s);
            free(folders);
            return EXIT_USAGE;
        } else {
            folders[n_folders++] = argv[i];
        }
    }
    if (n_folders == 0 || !out_path) {
        fprintf(stderr, "exprun report: %s\ntry 'exprun report --help'\n", n_folders == 0 ? "missing DIR" : "missing -o FILE.html");
        free(folders);
        return EXIT_USAGE;
    }
    size_t len = strlen(out_path);
    if (len < 5 || (strcmp(out_path + len - 5, ".html") != 0 && strcmp(out_path + len - 4, ".htm") != 0)) {
        fprintf(stderr, "exprun report: -o %s: the report is HTML: name a .html file\n", out_path);
        free(folders);
        return EXIT_USAGE;
    }
    char why[8800];
    if (rundir_owns(out_path, why, sizeof why)) {
        fprintf(stderr, "exprun report: refusing to write -o %s: %s, which exprun never writes over\n", out_path, why);
        free(folders);
        return EXIT_USAGE;
    }
    ExError err;
    char **dirs = NULL;
    int n = 0;
    if (find_run_dirs(folders, n_folders, &dirs, &n, &err) != 0) {
        fprintf(stderr, "exprun report: %s\n", err.msg);
        free(folders);
        return EXIT_USAGE;
    }
    if (images < 0) images = n <= IMAGES_DEFAULT_MAX_RUNS;
    PlotRun *runs = calloc((size_t)n + 1, sizeof *runs);
    RunSummary *summaries = calloc((size_t)n + 1, sizeof *summaries);
    char **kept_dirs = calloc((size_t)n + 1, sizeof *kept_dirs);
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (plot_run_load(dirs[i], images, checkpoint, &runs[kept], &err) != 0) {
            fprintf(stderr, "exprun report: skipping %s: %s\n", dirs[i], err.msg);
            continue;
        }
        if (run_summary_read(dirs[i], &summaries[kept], &err) != 0) {
            fprintf(stderr, "exprun report: skipping %s: %s\n", dirs[i], err.msg);
            plot_run_free(&runs[kept]);
            continue;
        }
        if (runs[kept].note[0]) fprintf(stderr, "exprun report: %s: %s\n", dirs[i], runs[kept].note);
        kept_dirs[kept++] = dirs[i];
    }
    int rc = EXIT_OK;
    if (kept == 0) {
        fprintf(stderr, "exprun report: no run with results%s\n", n == 0 ? " (no run directories found)" : "");
        rc = EXIT_RUNTIME;
    } else {
        plot_make_labels(runs, kept_dirs, kept);
        char *page = NULL;
        size_t size = 0;
        FILE *mem = open_memstream(&page, &size);
        write_page(mem, runs, summaries, kept, folders, n_folders);
        fclose(mem);
        if (publish_file(out_path, page, size, &err) != 0) {
            fprintf(stderr, "exprun report: %s\n", err.msg);
            rc = EXIT_RUNTIME;
        } else {
            printf("report: %s (%d run%s, %.1f MB)\n", out_path, kept, kept == 1 ? "" : "s", size / 1e6);
        }
        free(page);
    }
    plot_release_fonts();
    for (int i = 0; i < kept; i++) {
        plot_run_free(&runs[i]);
        run_summary_free(&summaries[i]);
    }
    for (int i = 0; i < n; i++) free(dirs[i]);
    free(dirs);
    free(kept_dirs);
    free(runs);
    free(summaries);
    free(folders);
    return rc;
}
