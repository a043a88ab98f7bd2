/* monitor.c — the watched metric, its best and early stopping (monitor.h). */
#include "monitor.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

void monitor_init(Monitor *m, const EarlyStoppingSpec *es) {
    memset(m, 0, sizeof *m);
    snprintf(m->column, sizeof m->column, "%s", es->monitor);
    m->maximize = es->mode == MONITOR_MAX ||
                  (es->mode == MONITOR_AUTO && (strstr(es->monitor, "accuracy") || strstr(es->monitor, "exact_match")));
    m->min_delta = es->min_delta;
    m->patience = es->patience;
    m->best = NAN;
    m->best_epoch = m->best_step = -1;
}

/* Levenshtein distance, for the suggestion. */
static size_t distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b), row[128];
    if (lb >= sizeof row / sizeof row[0]) return (size_t)-1;
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

int monitor_check(Monitor *m, const Model *model, int has_validation, int restore_best, ExError *err) {
    const char *stats[16];
    int n = model_eval_stat_names(model, stats, 16);
    char columns[16 + 2][64];
    int k = 0;
    snprintf(columns[k++], sizeof columns[0], "val_loss");
    snprintf(columns[k++], sizeof columns[0], "train_loss");
    for (int i = 0; i < n; i++) snprintf(columns[k++], sizeof columns[0], "val_%s", stats[i]);
    int known = 0;
    for (int i = 0; i < k; i++) known |= strcmp(columns[i], m->column) == 0;
    if (!known) {
        char list[512] = "";
        size_t len = 0, best_d = (size_t)-1;
        int best_i = 0;
        for (int i = 0; i < k && len < sizeof list; i++) {
            len += (size_t)snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", columns[i]);
            size_t d = distance(m->column, columns[i]);
            if (d < best_d) best_d = d, best_i = i;
        }
        char hint[96] = "";
        if (best_d <= 3) snprintf(hint, sizeof hint, " (did you mean %s?)", columns[best_i]);
        return ex_fail(err, "train.early_stopping.monitor: this %s model records no column %s%s; it records %s",
                       model->ops->family, m->column, hint, list);
    }
    int on_validation = strncmp(m->column, "val_", 4) == 0;
    if (on_validation && !has_validation && m->patience > 0)
        return ex_fail(err, "train.early_stopping.monitor: %s needs a validation split, and this run has none (set "
                            "data.validation_fraction above 0, or monitor train_loss)", m->column);
    m->active = !on_validation || has_validation;
    if (restore_best && !m->active)
        return ex_fail(err, "train.restore_best: the best weights are the best by %s, and this run has no validation "
                            "split to measure it on (set data.validation_fraction above 0, or monitor train_loss)",
                       m->column);
    return 0;
}

MonitorVerdict monitor_update(Monitor *m, double value, int64_t epoch, int64_t step) {
    if (!isfinite(value)) {
        m->waited++;
        return MONITOR_NOT_FINITE;
    }
    int improved = isnan(m->best) || (m->maximize ? value > m->best + m->min_delta : value < m->best - m->min_delta);
    if (improved) {
        m->best = value;
        m->best_epoch = epoch;
        m->best_step = step;
        m->waited = 0;
        return MONITOR_IMPROVED;
    }
    m->waited++;
    if (m->patience > 0 && m->waited >= m->patience) {
        m->stopped = 1;
        m->stop_epoch = epoch;
        m->stop_step = step;
        return MONITOR_STOP;
    }
    return MONITOR_WAITING;
}

void monitor_pack(const Monitor *m, double out[MONITOR_STATE_WORDS]) {
    out[0] = m->best;
    out[1] = (double)m->best_epoch;
    out[2] = (double)m->best_step;
    out[3] = (double)m->waited;
    out[4] = (double)m->stopped;
    out[5] = (double)m->stop_epoch;
    out[6] = (double)m->stop_step;
}

int monitor_unpack(Monitor *m, const double in[MONITOR_STATE_WORDS], char *why, size_t cap) {
    for (int i = 1; i < MONITOR_STATE_WORDS; i++)
        if (!(in[i] >= -1 && in[i] <= 9.0e15 && in[i] == floor(in[i]))) {
            snprintf(why, cap, "the monitor's state holds %g where a count belongs", in[i]);
            return -1;
        }
    if (isinf(in[0]) || (isnan(in[0]) != (in[1] < 0)) || !(in[4] == 0 || in[4] == 1)) {
        snprintf(why, cap, "the monitor's state is not one the rule reaches (best %g at epoch %g, stopped %g)", in[0],
                 in[1], in[4]);
        return -1;
    }
    m->best = in[0];
    m->best_epoch = (int64_t)in[1];
    m->best_step = (int64_t)in[2];
    m->waited = (int64_t)in[3];
    m->stopped = (int64_t)in[4];
    m->stop_epoch = (int64_t)in[5];
    m->stop_step = (int64_t)in[6];
    return 0;
}

void monitor_replay(Monitor *m, const History *h) {
    m->best = NAN;
    m->best_epoch = m->best_step = -1;
    m->waited = m->stopped = m->stop_epoch = m->stop_step = 0;
    for (int64_t r = 0; r < h->nrows && !m->stopped; r++)
        monitor_update(m, history_get(h, r, m->column), (int64_t)history_get(h, r, "epoch"),
                       (int64_t)history_get(h, r, "step"));
}
