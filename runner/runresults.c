/* runresults.c — what a run writes for people to read: results.h5 (metrics table, samples,
 * the ∂L/∂h_t heatmap, evaluations, forecasts, the family's own group; published whole by
 * rename) and metrics.csv (a line per epoch, flushed). Rank 0 alone writes them. */
#include "trainer.h"

#include <cblas.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dist.h"
#include "h5doc.h"
#include "metricdoc.h"
#include "packgemm.h"
#include "rundir.h"
#include "version.h"

void iso_time(char *buf, size_t cap) {
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

int publish_results(Trainer *tr, ExError *err) {
    if (!dist_is_root()) return 0;   /* rank 0 alone writes the run directory */
    const Spec *spec = tr->spec;
    H5Doc *doc = h5doc_new();
    h5doc_attr_str(doc, "/", "exprun_format", "1");
    h5doc_attr_str(doc, "/", "exprun_version", exprun_version());
    h5doc_attr_str(doc, "/", "git_commit", exprun_git_commit());
    h5doc_attr_int(doc, "/", "git_dirty", exprun_git_dirty());
    h5doc_attr_str(doc, "/", "run_name", spec->name);
    h5doc_attr_str(doc, "/", "run_dir", tr->run_dir);
    h5doc_attr_int(doc, "/", "seed", (int64_t)spec->seed);
    h5doc_attr_int(doc, "/", "threads", openblas_get_num_threads());
    /* the products' arithmetic: exprun's kernel and train.precision */
    h5doc_attr_str(doc, "/", "kernel", packed_kernel_name(packed_kernel()));
    h5doc_attr_str(doc, "/", "precision", packed_precision_name(packed_precision()));
    h5doc_attr_int(doc, "/", "ranks", dist_size());
    if (tr->timed_steps > 0) {
        /* data-parallel: what the all-reduce costs (this session's steps, rank 0's clock) */
        h5doc_attr_double(doc, "/", "allreduce_seconds_per_step", tr->reduce_seconds / (double)tr->timed_steps);
        h5doc_attr_double(doc, "/", "step_seconds_per_step", tr->step_seconds / (double)tr->timed_steps);
    }
    h5doc_attr_str(doc, "/", "status", tr->status);
    h5doc_attr_str(doc, "/", "started", tr->started_at);
    char now[32];
    iso_time(now, sizeof now);
    h5doc_attr_str(doc, "/", "updated", now);
    if (strcmp(tr->status, "running") != 0) h5doc_attr_str(doc, "/", "ended", now);
    h5doc_attr_int(doc, "/", "epochs_done", tr->epoch);
    h5doc_attr_int(doc, "/", "steps_done", tr->step);
    h5doc_attr_str(doc, "/", "model_family", tr->model->ops->family);
    /* the monitor (monitor.h): its best so far (checkpoints/BEST), and an early stop */
    const Monitor *m = &tr->monitor;
    if (m->active) {
        h5doc_attr_str(doc, "/", "monitor", m->column);
        h5doc_attr_str(doc, "/", "monitor_mode", m->maximize ? "max" : "min");
        if (m->best_epoch >= 0) {
            h5doc_attr_double(doc, "/", "best_value", m->best);
            h5doc_attr_int(doc, "/", "best_epoch", m->best_epoch);
            h5doc_attr_int(doc, "/", "best_step", m->best_step);
        }
    }
    h5doc_attr_int(doc, "/", "stopped_early", m->stopped);
    if (m->stopped) {
        char why[256];
        snprintf(why, sizeof why, "%s did not improve on %.6g (epoch %lld) by more than %g for %lld evaluations "
                                  "(train.early_stopping.patience %d)",
                 m->column, m->best, (long long)m->best_epoch, m->min_delta, (long long)m->waited, m->patience);
        h5doc_attr_int(doc, "/", "stop_epoch", m->stop_epoch);
        h5doc_attr_int(doc, "/", "stop_step", m->stop_step);
        h5doc_attr_str(doc, "/", "stop_reason", why);
    }
    h5doc_string(doc, "/spec", tr->resolved);
    h5doc_string(doc, "/spec_as_given", tr->spec_given ? tr->spec_given : "");
    h5doc_string(doc, "/overrides", tr->overrides_text ? tr->overrides_text : "");
    const History *h = &tr->history;
    char about[1024];
    if (h->ncols > 0) {   /* no epoch finished yet (e.g. diverged in the first): no table */
        h5doc_table(doc, "/metrics/epochs", h->ncols, (const char *const *)h->names, h->nrows, h->rows);
        for (int c = 0; c < h->ncols; c++) {   /* each column described: f["metrics/epochs"].attrs */
            metric_describe(h->names[c], 0, tr->model, about, sizeof about);
            h5doc_attr_str(doc, "/metrics/epochs", h->names[c], about);
        }
    }
    const History *st = &tr->steps;
    if (st->ncols > 0) {
        h5doc_table(doc, "/metrics/steps", st->ncols, (const char *const *)st->names, st->nrows, st->rows);
        for (int c = 0; c < st->ncols; c++) {
            metric_describe(st->names[c], 1, tr->model, about, sizeof about);
            h5doc_attr_str(doc, "/metrics/steps", st->names[c], about);
        }
        h5doc_attr_str(doc, "/metrics/steps", "description",
                       "a row every train.log_every steps: train_loss and grad_norm are the means over the steps "
                       "since the row before (the loss per example, as in /metrics/epochs), lr the rate of the "
                       "row's last step, *_per_sec the throughput over those steps");
    }
    if (tr->rd->has_vocab) {
        int shape[1] = {tr->rd->vocab.size};
        int32_t bytes[256];
        for (int i = 0; i < tr->rd->vocab.size; i++) bytes[i] = tr->rd->vocab.byte_of[i];
        h5doc_int32s(doc, "/vocab/bytes", 1, shape, bytes);
    }
    if (tr->n_samples > 0) {
        h5doc_strings(doc, "/samples/text", (size_t)tr->n_samples, (const char *const *)tr->samples);
        int shape[1] = {tr->n_samples};
        h5doc_int64s(doc, "/samples/epoch", 1, shape, tr->sample_epochs);
    }
    if (tr->grad_time_n > 0) {
        int shape[2] = {tr->grad_time_n, tr->grad_time_T};
        h5doc_doubles(doc, "/diagnostics/grad_norm_by_time", 2, shape, tr->grad_time_rows);
        h5doc_attr_str(doc, "/diagnostics/grad_norm_by_time", "description",
                       "row e, column t: mean over epoch e's batches of ||dL/dh_t|| (last recurrent layer)");
    }
    forecast_write(&tr->forecast, doc);
    evaluation_write(&tr->evaluation, doc);
    ResultsInput in = {.test = &tr->rd->test, .token_chars = tr->rd->token_chars};
    if (tr->model->ops->write_results && tr->model->ops->write_results(tr->model, &in, doc, err) != 0) {
        h5doc_free(doc);
        return -1;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/results.h5", tr->run_dir);
    int rc = h5doc_publish(doc, path, err);
    h5doc_free(doc);
    return rc;
}

/* A CSV file beside a metrics table grows by flushed lines (so `tail -f` and awk can follow it).
 * It is written whole only for the first row, once after a resume (rows after the checkpoint go)
 * and when the table has gained a column (the test_* results on the last row; val_* in
 * metrics/steps at the first evaluation within an epoch). A failed write (a full disk) is reported, not
 * ignored: the file would be cut short (then the next write rewrites it whole). */
static int append_table_csv(const char *run_dir, const History *h, CsvTail *t, ExError *err) {
    if (h->ncols == 0) return 0;   /* no row yet */
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", run_dir, t->name);
    int rewrite = t->rows == 0 || h->ncols != t->cols;   /* a column was added (test_*, val_* of eval_every) */
    if (rewrite) t->rows = 0;
    FILE *f = fopen(path, rewrite ? "w" : "a");
    if (!f) return ex_fail(err, "cannot write %s: %s", path, strerror(errno));
    if (rewrite) {
        t->cols = h->ncols;
        history_csv_line(h, -1, t->cols, f);
    }
    for (int64_t r = t->rows; r < h->nrows; r++) history_csv_line(h, r, t->cols, f);
    t->rows = h->nrows;
    int failed = fflush(f) != 0 || ferror(f);
    if (fclose(f) != 0 || failed) {
        t->rows = 0;
        return ex_fail(err, "cannot write %s: %s", path, strerror(errno));
    }
    return 0;
}

int append_csv(Trainer *tr, ExError *err) {
    if (!dist_is_root()) return 0;
    tr->metrics_csv.name = "metrics.csv";
    tr->steps_csv.name = "steps.csv";
    if (append_table_csv(tr->run_dir, &tr->history, &tr->metrics_csv, err) != 0) return -1;
    return append_table_csv(tr->run_dir, &tr->steps, &tr->steps_csv, err);
}
