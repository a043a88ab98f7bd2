/* summarize.c — `exprun summarize DIR...` (summarize.h): the runs read (runsummary.h), the table
 * printed (sumtable.h). */
#include "summarize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runsummary.h"
#include "sumtable.h"
#include "train.h"

static const char SUMMARIZE_USAGE[] =
    "usage: exprun summarize DIR... [--csv] [--sort [-]COLUMN] [--group-by[=KEY,...]]\n"
    "\n"
    "One row per run directory found under the DIRs (a DIR may itself be a run): name, status,\n"
    "epochs done/planned, one column per override key that differs between the runs (numbers\n"
    "where every value is one), final train and validation loss, best validation loss and its\n"
    "epoch, the test and task metrics the runs recorded (test_loss, accuracies, the evaluation's\n"
    "ae_over_pca_test, anomaly_auc, kmeans_nmi) and train_time (the training steps' time, sum of\n"
    "epoch_time). The best run (lowest best_val) is marked * and named on the last line. Runs\n"
    "still training are read as they are.\n"
    "  --csv            CSV with a header row: full paths, raw numbers, every key (constants too),\n"
    "                   every metric results.h5 holds, train_time_s and wall_time_s\n"
    "  --sort COLUMN    rows by that column, ascending (-COLUMN: descending); a metric column also\n"
    "                   picks the best run (--sort -val_accuracy: the highest)\n"
    "  --group-by       one row per group of runs that differ only in the seed: their count and\n"
    "                   each metric's mean ± sample standard deviation; --group-by=KEY,... groups by\n"
    "                   those keys instead (the others are averaged over)\n"
    "  exprun summarize results/ae_fashion\n"
    "  exprun summarize results/ae_fashion/sweep-20250101-120000 --csv > sweep.csv\n"
    "  exprun summarize results/ae_fashion/sweep-20250101-120000 --group-by --sort best_val\n";

/* ---- the command --------------------------------------------------------------------------- */

int command_summarize(int argc, char **argv) {
    int csv = 0, n_folders = 0;
    SumOptions opt = {0};
    char **folders = calloc((size_t)argc + 1, sizeof *folders);
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(SUMMARIZE_USAGE, stdout);
            free(folders);
            return EXIT_OK;
        }
        if (strcmp(argv[i], "--csv") == 0) csv = 1;
        else if (strcmp(argv[i], "--sort") == 0 && i + 1 < argc) opt.sort = argv[++i];
        else if (strncmp(argv[i], "--sort=", 7) == 0) opt.sort = argv[i] + 7;
        else if (strcmp(argv[i], "--group-by") == 0) opt.group = 1;
        else if (strncmp(argv[i], "--group-by=", 11) == 0 && argv[i][11]) {
            opt.group = 1;
            opt.group_keys = argv[i] + 11;
        } else if (strcmp(argv[i], "--sort") == 0) {
            fprintf(stderr, "exprun summarize: --sort needs a column (e.g. --sort best_val, --sort -val_accuracy)\n");
            free(folders);
            return EXIT_USAGE;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "exprun summarize: unknown option %s\ntry 'exprun summarize --help'\n", argv[i]);
            free(folders);
            return EXIT_USAGE;
        } else folders[n_folders++] = argv[i];
    }
    if (n_folders == 0) {
        fprintf(stderr, "exprun summarize: missing DIR\ntry 'exprun summarize --help'\n");
        free(folders);
        return EXIT_USAGE;
    }
    ExError err;
    char **paths = NULL;
    int n = 0;
    if (find_run_dirs(folders, n_folders, &paths, &n, &err) != 0) {
        fprintf(stderr, "exprun summarize: %s\n", err.msg);
        free(folders);
        return EXIT_USAGE;
    }
    free(folders);
    RunSummary *runs = calloc((size_t)n + 1, sizeof *runs);
    int kept = 0;
    for (int i = 0; i < n; i++) {
        if (run_summary_read(paths[i], &runs[kept], &err) == 0) kept++;
        free(paths[i]);
    }
    free(paths);
    int rc = EXIT_OK;
    if (kept == 0) fprintf(stderr, "exprun summarize: no run directories found (folders holding resolved.yaml)\n");
    else if ((csv ? summary_print_csv : summary_print_table)(runs, kept, &opt, stdout, &err) != 0) {
        fprintf(stderr, "exprun summarize: %s\n", err.msg);
        rc = EXIT_USAGE;
    }
    for (int i = 0; i < kept; i++) {
        if (runs[i].note[0]) fprintf(stderr, "note: %s: %s\n", runs[i].dir, runs[i].note);
        run_summary_free(&runs[i]);
    }
    free(runs);
    return rc;
}
