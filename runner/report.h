/* report.h — `exprun report DIR... -o report.html`: the runs under some folders compared in one
 * self-contained HTML file, opened from disk with no server and no network.
 *
 * The page (runner/report/report.js draws it): overlaid training curves (per step where the runs
 * logged steps, smoothed as TensorBoard smooths, with a slider) and validation loss and accuracy per
 * epoch, drawn with uPlot; the table of runs as `summarize` makes it (status, swept keys, final and
 * best metrics, time; sortable by any column, the best run marked); a parallel-coordinates view of
 * the swept keys against the best run's criterion; and a panel per run (its last text sample,
 * reconstructions of validation images, the ‖∂L/∂h_t‖ heatmap over epochs and time).
 *
 * The data is JSON inside the page; every series is downsampled to at most REPORT_SERIES_MAX points
 * (as TensorBoard keeps 1,000), so a report of 500 runs stays a few MB and opens in a second. The
 * script and styles (ours, and uPlot 1.6.32, MIT, vendored from npm with its licence) are inlined;
 * the binary carries them (cmake/embed.cmake). The file is published whole by rename. */
#ifndef EXPRUN_REPORT_H
#define EXPRUN_REPORT_H

enum { REPORT_SERIES_MAX = 1000 };

/* Indices of at most max of n points, evenly spread, the first and last kept: *count of them into
 * idx (room for max). */
void report_pick_points(int n, int max, int *idx, int *count);

/* `exprun report DIR... -o FILE.html [--images|--no-images] [--checkpoint best|latest|FILE]`;
 * argv holds the arguments after "report". */
int command_report(int argc, char **argv);

#endif
