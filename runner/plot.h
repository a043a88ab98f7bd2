/* plot.h — `exprun plot RUN... -o FILE.png|.svg|.pdf`: figures of one or several runs, drawn with
 * cairo (PNG through its image surface, SVG and PDF through its vector surfaces).
 *
 * Panels, top to bottom:
 *   1. learning curves: train_loss (solid) and val_loss (dashed, with a point per evaluation)
 *      per epoch, one colour per run (log scale when the losses span more than two decades);
 *      a run with per-step metrics (metrics/steps) draws its train_loss per step instead: the
 *      rows faint, smoothed as TensorBoard smooths (plot_smooth) on top, x in epochs;
 *   1b. runs that log accuracy (train_accuracy, val_accuracy): accuracy per epoch, in [0, 1];
 *   2. recurrent runs: the gradient norm over time, ‖∂L/∂h_t‖ against t (results.h5
 *      /diagnostics/grad_norm_by_time, log scale): the last epoch solid, the first dotted — how
 *      far back the gradient reaches, and whether it vanishes or explodes;
 *   3. autoencoders on image data (IDX files, which carry the image size): validation inputs
 *      beside their reconstructions, from the run's latest checkpoint.
 * A RUN may also be a folder of runs (a sweep); every run found under it is drawn. Each panel's
 * legend sits in a column beside its plot area (never over the data); a run's legend label is its
 * name plus the override keys whose values differ between the plotted runs. The y axis of the
 * learning curves names the loss and what it is per. SVG keeps its words as <text> elements. */
#ifndef EXPRUN_PLOT_H
#define EXPRUN_PLOT_H

#include "error.h"

typedef struct PlotRun {
    char label[256];                 /* legend text: the folder's name until command_plot labels the runs */
    char name[256];                  /* the run's name (results.h5 run_name), "" when absent */
    char loss_label[128];            /* the loss and its unit for the y axis ("squared error per example"), "" unknown */
    int n_epochs;
    double *epoch, *train, *val;     /* (n_epochs); NaN where absent */
    double *train_acc, *val_acc;     /* (n_epochs) train_accuracy and val_accuracy; NULL when not logged */
    int n_steps;                     /* rows of metrics/steps (0: none) */
    double *step_x;                  /* (n_steps) their x: the step in epochs, or the step when no epoch ended */
    double *step_train, *step_smooth; /* (n_steps) train_loss, and smoothed (plot_smooth) */
    int x_in_steps;                  /* no epoch ended (a run that diverged in its first): x is the step */
    double smooth;                   /* the weight step_smooth was smoothed with (0: as the rows are) */
    int grad_rows, grad_T;
    double *grad;                    /* (grad_rows, grad_T): row e = epoch e+1 */
    int img_n, img_rows, img_cols;
    float *img_in, *img_out;         /* (img_n, img_rows·img_cols) inputs and reconstructions */
    char note[512];                  /* why a panel is missing, "" if nothing is */
} PlotRun;

/* Read a run directory: metrics and diagnostics from results.h5; with_images: also evaluate
 * (with the checkpoint `checkpoint` names: latest, best or a file; latest_load_params)
 * the latest checkpoint on the first validation images (autoencoders on IDX data). A panel
 * that cannot be made leaves a note and no error; -1 only when results.h5 cannot be read. */
int plot_run_load(const char *dir, int with_images, const char *checkpoint, PlotRun *r, ExError *err);
void plot_run_free(PlotRun *r);

/* Legend labels for runs[0..n) (read from dirs[i]): the run's name plus the override keys whose
 * values differ between the runs (runkeys.h), the folder's name only where two are still equal. */
void plot_make_labels(PlotRun *runs, char **dirs, int n);

/* TensorBoard's debiased exponential moving average of y[0..n) into out: with weight w in [0, 1),
 * m_i = w·m_{i−1} + (1 − w)·y_i from m = 0, out_i = m_i / (1 − w^k) where k counts the finite
 * values so far (the division takes away the pull towards the zero start). Non-finite values are
 * passed through and do not enter the average; w = 0 leaves y as it is. */
void plot_smooth(const double *y, int n, double w, double *out);

typedef enum { PLOT_PNG, PLOT_SVG, PLOT_PDF } PlotFormat;

/* The format a file name's extension asks for (.png, .svg, .pdf, any case); -1 for another or none. */
int plot_format_of(const char *path, PlotFormat *format);

/* Draw the figure of runs[0..n) into path in format, published by rename. */
int plot_render(const PlotRun *runs, int n, const char *path, PlotFormat format, ExError *err);

/* Drop cairo's and fontconfig's process-wide caches (fonts loaded for the labels), so leak
 * checkers see a clean exit. Call only when no figure is being drawn; command_plot does. */
void plot_release_fonts(void);

/* `exprun plot RUN... -o FILE [--images|--no-images] [--smooth W] [--checkpoint …]`; argv holds the
 * arguments after "plot". */
int command_plot(int argc, char **argv);

#endif
