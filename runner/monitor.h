/* monitor.h — the metric a run watches (train.early_stopping.monitor, val_loss by default):
 * its best value so far, which names checkpoints/BEST in any run that evaluates it, and, with
 * train.early_stopping.patience = N ≥ 1, early stopping.
 *
 * After each evaluation (an epoch's row of the metrics), with value v of the monitor:
 *   improved   the first finite v, or v < best − min_delta (mode min; v > best + min_delta for
 *              max): strictly better, so a plateau is not an improvement;
 *   waiting    otherwise, and waited (evaluations since the best) grows by one;
 *   stop       patience ≥ 1 and waited reaches patience: the run ends, status finished, and
 *              results.h5 says it stopped early, at which epoch and why;
 *   not finite v is NaN or ±Inf: with patience ≥ 1 the run ends as diverged (exit 4).
 * Patience counts evaluations: those at the ends of epochs (train.eval_every's within an epoch
 * are recorded in metrics/steps, not counted).
 *
 * The state is saved in every checkpoint (monitor_pack, /state/monitor) and restored on resume,
 * so an interrupted run stops at exactly the step an uninterrupted one does (Keras resets it on
 * resume: keras-team/keras#17012). A checkpoint written before the monitor existed is replayed
 * from the metrics rows it restores (monitor_replay): the same rule over the same values. */
#ifndef EXPRUN_MONITOR_H
#define EXPRUN_MONITOR_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "history.h"
#include "model.h"
#include "spec/spec.h"

typedef enum MonitorVerdict { MONITOR_IMPROVED, MONITOR_WAITING, MONITOR_STOP, MONITOR_NOT_FINITE } MonitorVerdict;

typedef struct Monitor {
    char column[64];          /* the metrics column watched */
    int maximize;             /* higher is better */
    double min_delta;
    int patience;             /* 0: never stop early */
    int active;               /* the run records the column (no validation split: val_* is not) */
    /* the state, saved in checkpoints */
    double best;              /* NAN before the first finite value */
    int64_t best_epoch, best_step;
    int64_t waited;           /* evaluations since the best */
    int64_t stopped;          /* 1: early stopping ended the run */
    int64_t stop_epoch, stop_step;
} Monitor;

#define MONITOR_STATE_WORDS 7

/* From the spec; mode auto is max for a column naming an accuracy or an exact match. */
void monitor_init(Monitor *m, const EarlyStoppingSpec *es);
/* Whether the run records the column: val_loss and train_loss, val_<name> for the statistics the
 * model's evaluation reports, val_* only with a validation split. A column the model can never
 * record is an error naming the ones it records (with the closest as a suggestion); so is early
 * stopping or train.restore_best on val_* without validation data. Sets m->active. */
int monitor_check(Monitor *m, const Model *model, int has_validation, int restore_best, ExError *err);
/* The rule above for one evaluation of epoch `epoch` (epochs completed) after `step` steps. */
MonitorVerdict monitor_update(Monitor *m, double value, int64_t epoch, int64_t step);
/* The state as doubles for a checkpoint, and back (-1 with why when it cannot be a state). */
void monitor_pack(const Monitor *m, double out[MONITOR_STATE_WORDS]);
int monitor_unpack(Monitor *m, const double in[MONITOR_STATE_WORDS], char *why, size_t cap);
/* The state the rule reaches over the first rows of a metrics table (rows' epoch and step). */
void monitor_replay(Monitor *m, const History *h);

#endif
