/* train.c — the training loop.
 *
 * One step: gather a batch → zero the gradient arena → model forward + backward (+= grads; in a
 * data-parallel run on this rank's share of the batch, then the all-reduce of the arena, dist.h)
 * → check for NaN/Inf → clip → learning rate from the schedule → optimizer step. Per epoch:
 * evaluation on the validation split, one row of metrics, results.h5 republished by rename
 * (runresults.c), a checkpoint when due (runstate.c: everything the next step depends on, so a
 * resumed run is bit for bit the run that never stopped). Starting and ending a run, and
 * `exprun resume`: trainrun.c. The run's state: trainer.h. */
#include "train.h"
#include "trainer.h"

#include <cblas.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "build.h"
#include "checkpoint.h"
#include "clip.h"
#include "clock.h"
#include "dist.h"
#include "evaluate.h"
#include "forecast.h"
#include "h5doc.h"
#include "history.h"
#include "parallel.h"
#include "rundata.h"
#include "rundir.h"
#include "sampling.h"
#include "signals.h"
#include "spec/sweep.h"
#include "version.h"


static void format_duration(char *buf, size_t cap, double seconds) {
    if (!(seconds >= 0) || seconds > 1e8) { snprintf(buf, cap, "?"); return; }
    long s = (long)(seconds + 0.5);
    snprintf(buf, cap, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
}

/* ---- evaluation ---------------------------------------------------------------------------- */

static void average_stats(StepStats *s, double rows) {
    for (int i = 0; i < s->count; i++) s->values[i] /= rows > 0 ? rows : 1;
}

EvalResult evaluate_batches(Trainer *tr, BatchSource *src) {
    EvalResult r = {0};
    double sum = 0;
    Batch b;
    batches_begin_epoch(src);
    for (int count; (count = batches_next(src, &b)) > 0;) {
        sum += tr->model->ops->eval_batch(tr->model, &b, &r.stats) * count;
        r.rows += count;
    }
    r.loss = r.rows > 0 ? sum / r.rows : NAN;
    average_stats(&r.stats, r.rows);
    return r;
}

/* ---- the loop ------------------------------------------------------------------------------ */

/* The first parameter view whose part of arena (p->grad or p->value) holds a NaN or Inf, to name
 * the layer where it appeared. */
static const char *first_bad_view(const Params *p, const float *arena) {
    for (int v = 0; v < p->count; v++) {
        const float *x = arena + p->views[v].offset;
        for (size_t i = 0; i < p->views[v].size; i++)
            if (!isfinite(x[i])) return p->views[v].name;
    }
    return "?";
}

typedef enum StepResult { STEP_OK, STEP_SKIPPED, STEP_DIVERGED } StepResult;

/* Data-parallel (dist.h): the step's loss, statistics and gradient for the whole batch from
 * every rank's share. Rank r's loss and gradient are means over its share — over its n_r rows,
 * or, where targets are tokens that may be padding (−1: seq2seq), over its m_r real targets;
 * weighted by its share of the batch (n_r / B, or m_r / M) and summed over ranks they are the
 * means over the whole batch, as one process computes them (up to the order of the float
 * additions). The statistics, sums over rows, are summed. A batch with fewer rows than ranks
 * (the last one of an epoch) is computed whole by every rank, each weighted 1/N.
 * A signal reaches the ranks at different moments, but they must stop after the same step (the
 * checkpoint gathers from all of them): whether any rank has been asked to stop travels with
 * the step's numbers, and *stop_asked returns how many have. */
static double reduce_step(Params *p, double share, double stat_scale, double loss, StepStats *stats,
                          double *stop_asked) {
    if (share != 1.0)
        for (size_t i = 0; i < p->total; i++) p->grad[i] *= (float)share;
    dist_sum_floats(p->grad, p->total);
    double sums[2 + MODEL_MAX_STATS];
    sums[0] = loss * share;
    sums[1] = *stop_asked;
    for (int i = 0; i < stats->count; i++) sums[2 + i] = stats->values[i] * stat_scale;
    dist_sum_doubles(sums, (size_t)(2 + stats->count));
    for (int i = 0; i < stats->count; i++) stats->values[i] = sums[2 + i];
    *stop_asked = sums[1];
    return sums[0];
}

/* Targets in rows [r0, r1) of b that count in the loss: tokens other than −1, or rows. */
static double targets_in(const Batch *b, int r0, int r1) {
    if (!b->y_tokens) return r1 - r0;
    double n = 0;
    for (size_t k = (size_t)r0 * b->Ty; k < (size_t)r1 * b->Ty; k++) n += b->y_tokens[k] >= 0;
    return n;
}

static StepResult train_step(Trainer *tr, const Batch *b, ExError *err) {
    Params *p = &tr->model->params;
    params_zero_grad(p);
    StepStats stats = {0};
    double loss;
    if (dist_size() > 1) {
        int N = dist_size(), r0 = 0, r1 = b->B;
        if (b->B >= N) dist_share(b->B, &r0, &r1);
        Batch mine = batch_rows(b, r0, r1);
        double all = targets_in(b, 0, b->B);
        double share = b->B < N ? 1.0 / N : all > 0 ? targets_in(b, r0, r1) / all : (double)(r1 - r0) / b->B;
        double t0 = now_seconds();
        loss = tr->model->ops->train_batch(tr->model, &mine, &tr->noise_rng, &stats);
        double t1 = now_seconds();
        int sig = signals_stop_requested();
        double asked = sig != 0;
        loss = reduce_step(p, share, b->B >= N ? 1.0 : share, loss, &stats, &asked);
        tr->agreed_stop = asked > 0 ? (sig ? sig : SIGTERM) : 0;
        tr->reduce_seconds += now_seconds() - t1;
        tr->step_seconds += now_seconds() - t0;
        tr->timed_steps++;
    } else {
        loss = tr->model->ops->train_batch(tr->model, b, &tr->noise_rng, &stats);
    }
    double norm = grad_global_norm(p->grad, p->total);
    if (!isfinite(loss) || !isfinite(norm)) {
        const char *where = isfinite(norm) ? "the loss" : first_bad_view(p, p->grad);
        if (tr->spec->train.on_nan == ON_NAN_SKIP) {
            tr->skipped_steps++;
            return STEP_SKIPPED;
        }
        ex_fail(err, "diverged at step %lld (epoch %d): %s is %s in %s", (long long)tr->step + 1,
                tr->epoch + 1, isfinite(loss) ? "the gradient" : "the loss", isfinite(loss) ? "not finite" : "NaN or Inf",
                where);
        return STEP_DIVERGED;
    }
    /* Data-parallel: p->grad, loss and norm are already the whole batch's (reduce_step), so
     * every rank clips and steps the same gradient and takes the same decisions. */
    if (tr->spec->clip == CLIP_GLOBAL_NORM)
        clip_to_global_norm(p->grad, p->total, tr->spec->clip_threshold, norm);
    else if (tr->spec->clip == CLIP_VALUE) clip_by_value(p->grad, p->total, (float)tr->spec->clip_threshold);
    double lr = schedule_lr(&tr->spec->schedule, tr->step, tr->steps_per_epoch, tr->total_steps);
    /* A finite gradient times a huge learning rate can still overflow a parameter, and the
     * next checkpoint would keep the Inf (tests/test_faults.c met it). Skipping cannot undo an
     * in-place update, so this stops the run under either train.on_nan. The optimizer checks
     * its new values in its own pass. */
    if (optim_step(&tr->opt, p->value, p->grad, lr)) {
        ex_fail(err, "diverged at step %lld (epoch %d): the update made %s NaN or Inf (try a lower "
                     "optimizer.lr or clip the gradient)", (long long)tr->step + 1, tr->epoch + 1,
                first_bad_view(p, p->value));
        return STEP_DIVERGED;
    }
    tr->step++;
    tr->acc_loss += loss * b->B;
    tr->acc_rows += b->B;
    tr->acc_grad_norm += norm;
    tr->acc_steps++;
    tr->log_loss += loss * b->B;
    tr->log_rows += b->B;
    tr->log_grad_norm += norm;
    tr->log_steps++;
    for (int i = 0; i < stats.count; i++) stats_add(&tr->acc_stats, stats.names[i], stats.values[i]);
    return STEP_OK;
}

static void show_progress(Trainer *tr, double last_shown[1]) {
    if (!tr->progress || tr->quiet) return;
    double t = now_seconds();
    if (t - last_shown[0] < 0.25) return;
    last_shown[0] = t;
    double elapsed = t - tr->run_started;
    int64_t done_this_session = tr->step - tr->session_first_step;
    double per_step = done_this_session > 0 ? elapsed / (double)done_this_session : 0;
    char eta[32];
    format_duration(eta, sizeof eta, per_step * (double)(tr->total_steps - tr->step));
    fprintf(stderr, "\r\033[Kepoch %d/%d  step %lld/%lld  loss %.4f  left %s", tr->epoch + 1,
            tr->spec->train.epochs, (long long)tr->batch_in_epoch, (long long)tr->steps_per_epoch,
            tr->acc_rows > 0 ? tr->acc_loss / tr->acc_rows : 0.0, eta);
    fflush(stderr);
}

/* The throughput column: <unit>_per_sec of the model's unit (ModelOps.unit), or samples_per_sec. */
static const char *rate_column(const Trainer *tr, char *buf, size_t cap) {
    snprintf(buf, cap, "%s_per_sec", tr->model->ops->unit ? tr->model->ops->unit : "samples");
    return buf;
}

static void record_epoch(Trainer *tr, double epoch_time) {
    double eval_started = now_seconds();
    EvalResult val = evaluate_batches(tr, &tr->val_batches);
    double eval_time = tr->eval_seconds + (now_seconds() - eval_started);
    History *h = &tr->history;
    history_set(h, "epoch", tr->epoch);
    history_set(h, "step", (double)tr->step);
    history_set(h, "train_loss", tr->acc_rows > 0 ? tr->acc_loss / tr->acc_rows : NAN);
    history_set(h, "val_loss", val.loss);
    history_set(h, "lr", schedule_lr(&tr->spec->schedule, tr->step > 0 ? tr->step - 1 : 0,
                                      tr->steps_per_epoch, tr->total_steps));
    history_set(h, "grad_norm", tr->acc_steps > 0 ? tr->acc_grad_norm / (double)tr->acc_steps : NAN);
    history_set(h, "epoch_time", epoch_time);
    history_set(h, "eval_time", eval_time);
    history_set(h, "samples_per_sec", epoch_time > 0 ? tr->acc_rows / epoch_time : NAN);
    if (tr->model->ops->unit) {
        char column[64];
        int steps = model_steps_per_row(tr->model, batches_steps_per_row(&tr->train_batches), tr->rd->train.Ty);
        history_set(h, rate_column(tr, column, sizeof column), epoch_time > 0 ? tr->acc_rows * steps / epoch_time : NAN);
    }
    history_set(h, "skipped_steps", (double)tr->skipped_steps);
    char name[64];
    for (int i = 0; i < tr->acc_stats.count; i++) {
        snprintf(name, sizeof name, "train_%s", tr->acc_stats.names[i]);
        history_set(h, name, tr->acc_stats.values[i] / (tr->acc_rows > 0 ? tr->acc_rows : 1));
    }
    for (int i = 0; i < val.stats.count; i++) {
        snprintf(name, sizeof name, "val_%s", val.stats.names[i]);
        history_set(h, name, val.stats.values[i]);
    }
    history_commit(h);

    int T = 0;
    const double *norms = model_time_grad_norms(tr->model, &T);
    if (norms && T > 0) {
        tr->grad_time_T = T;
        tr->grad_time_rows = realloc(tr->grad_time_rows, (size_t)(tr->grad_time_n + 1) * T * sizeof(double));
        double *row = tr->grad_time_rows + (size_t)tr->grad_time_n * T;
        memcpy(row, norms, (size_t)T * sizeof(double));
        if (dist_size() > 1) {
            /* Each rank's sums run over its own rows, whose gradients are its share's mean (n_r
             * rows, not B): weighted by n_r / B they add up to the whole batch's. Exact when the
             * shares stay the same all epoch (text tracks; every full batch of a dataset). */
            int B = tr->spec->train.batch_size, N = dist_size(), r0 = 0, r1 = B;
            if (B >= N) dist_share(B, &r0, &r1);
            double weight = B >= N ? (double)(r1 - r0) / B : 1.0 / N;
            for (int t = 0; t < T; t++) row[t] *= weight;
            dist_sum_doubles(row, (size_t)T);
        }
        for (int t = 0; t < T; t++) row[t] /= tr->acc_steps > 0 ? (double)tr->acc_steps : 1;
        tr->grad_time_n++;
        model_reset_time_grad_norms(tr->model);
    }
}

static void print_epoch_line(Trainer *tr) {
    if (tr->quiet) return;
    if (tr->progress) fprintf(stderr, "\r\033[K");
    const History *h = &tr->history;
    int64_t r = h->nrows - 1;
    /* the time left from this session's pace (a resumed run's earlier epochs took no time here) */
    double elapsed = now_seconds() - tr->run_started;
    int64_t done = tr->step - tr->session_first_step;
    char left[32];
    format_duration(left, sizeof left, done > 0 ? elapsed / (double)done * (double)(tr->total_steps - tr->step) : NAN);
    double val = history_get(h, r, "val_loss");
    char column[64];
    double rate = history_get(h, r, rate_column(tr, column, sizeof column));
    const char *unit = tr->model->ops->unit ? tr->model->ops->unit_short : "samples";
    printf("epoch %3d/%d  train %.5f  val %s%.5f  lr %.2e  %.0f %s/s  %.1f s  left %s\n", tr->epoch,
           tr->spec->train.epochs, history_get(h, r, "train_loss"), isnan(val) ? "(none) " : "", isnan(val) ? 0.0 : val,
           history_get(h, r, "lr"), rate, unit,
           history_get(h, r, "epoch_time"), left);
    fflush(stdout);
}

static void take_sample(Trainer *tr) {
    const SampleSpec *s = &tr->spec->sample;
    if (!tr->rd->has_vocab || s->every <= 0 || tr->epoch % s->every != 0) return;
    char *text = calloc((size_t)s->length + 1, 1);
    ExError err;
    if (model_sample_text(tr->model, &tr->rd->vocab, s->prime, s->length, s->temperature, &tr->sample_rng,
                          text, &err) != 0) {
        free(text);
        return;
    }
    tr->samples = realloc(tr->samples, (size_t)(tr->n_samples + 1) * sizeof *tr->samples);
    tr->sample_epochs = realloc(tr->sample_epochs, (size_t)(tr->n_samples + 1) * sizeof *tr->sample_epochs);
    size_t plen = strlen(s->prime);
    char *full = malloc(plen + (size_t)s->length + 1);
    memcpy(full, s->prime, plen);
    memcpy(full + plen, text, (size_t)s->length + 1);
    free(text);
    tr->samples[tr->n_samples] = full;
    tr->sample_epochs[tr->n_samples++] = tr->epoch;
    if (!tr->quiet) printf("  sample: %s\n", full);
}

/* A row of metrics/steps for the steps since the last one (trainer.h), when train.log_every says
 * (or `now`: at a divergence, the curve up to it; at an evaluation within the epoch); and, when the output is not a terminal, a
 * progress line with it at most every 30 s ($EXPRUN_PROGRESS_SECONDS), so that a long epoch is
 * not silent in a log file. */
static void log_steps(Trainer *tr, int now, const EvalResult *val) {
    const TrainSpec *ts = &tr->spec->train;
    if (tr->log_steps <= 0 || (!now && (ts->log_every <= 0 || tr->step % ts->log_every != 0))) return;
    double t = now_seconds(), seconds = t - tr->log_started;
    History *h = &tr->steps;
    history_set(h, "step", (double)tr->step);
    history_set(h, "epoch", tr->epoch + 1);
    history_set(h, "train_loss", tr->log_rows > 0 ? tr->log_loss / tr->log_rows : NAN);
    history_set(h, "grad_norm", tr->log_grad_norm / tr->log_steps);
    history_set(h, "lr", schedule_lr(&tr->spec->schedule, tr->step > 0 ? tr->step - 1 : 0, tr->steps_per_epoch,
                                      tr->total_steps));
    history_set(h, "samples_per_sec", seconds > 0 ? tr->log_rows / seconds : NAN);
    char column[64];
    if (tr->model->ops->unit) {
        int steps = model_steps_per_row(tr->model, batches_steps_per_row(&tr->train_batches), tr->rd->train.Ty);
        history_set(h, rate_column(tr, column, sizeof column), seconds > 0 ? tr->log_rows * steps / seconds : NAN);
    }
    if (val) {   /* an evaluation at this step (train.eval_every) */
        history_set(h, "val_loss", val->loss);
        char name[64];
        for (int i = 0; i < val->stats.count; i++) {
            snprintf(name, sizeof name, "val_%s", val->stats.names[i]);
            history_set(h, name, val->stats.values[i]);
        }
    }
    history_commit(h);
    tr->log_loss = tr->log_rows = tr->log_grad_norm = tr->log_steps = 0;
    tr->log_started = t;
    if (!tr->progress && !tr->quiet && t - tr->last_printed >= tr->progress_seconds) {
        tr->last_printed = t;
        int64_t r = h->nrows - 1;
        printf("  step %lld/%lld (epoch %d, batch %lld/%lld)  loss %.5f  %.0f %s/s\n", (long long)tr->step,
               (long long)tr->total_steps, tr->epoch + 1, (long long)tr->batch_in_epoch, (long long)tr->steps_per_epoch,
               history_get(h, r, "train_loss"),
               tr->model->ops->unit ? history_get(h, r, column) : history_get(h, r, "samples_per_sec"),
               tr->model->ops->unit ? tr->model->ops->unit_short : "samples");
        fflush(stdout);
    }
}

/* The monitor after the epoch's row of metrics (monitor.h). */
static MonitorVerdict watch_monitor(Trainer *tr) {
    if (!tr->monitor.active) return MONITOR_WAITING;
    const History *h = &tr->history;
    return monitor_update(&tr->monitor, history_get(h, h->nrows - 1, tr->monitor.column), tr->epoch, tr->step);
}

/* Runs epochs until done or stopped; returns an exit status. */
int run_loop(Trainer *tr) {
    ExError err;
    const TrainSpec *ts = &tr->spec->train;
    double last_shown[1] = {0};
    tr->session_first_step = tr->step;
    tr->log_started = tr->last_printed = now_seconds();
    const char *every = getenv("EXPRUN_PROGRESS_SECONDS");
    tr->progress_seconds = every ? atof(every) : 30.0;
    while (tr->epoch < ts->epochs) {
        if (tr->batch_in_epoch == 0) {
            tr->epoch_started = now_seconds();
            batches_begin_epoch(&tr->train_batches);
        }
        while (tr->batch_in_epoch < tr->steps_per_epoch) {
            Batch b;
            if (batches_next(&tr->train_batches, &b) == 0) break;
            StepResult r = train_step(tr, &b, &err);
            tr->batch_in_epoch++;
            if (r == STEP_DIVERGED) {
                if (tr->progress && !tr->quiet) fprintf(stderr, "\n");
                /* the curve up to the divergence: the steps since the last row, in the files */
                if (ts->log_every > 0) log_steps(tr, 1, NULL);
                if (append_csv(tr, &err) != 0) fprintf(stderr, "exprun: %s\n", err.msg);
                char latest[4200];
                snprintf(latest, sizeof latest, "%s/checkpoints/LATEST", tr->run_dir);
                fprintf(stderr, "exprun: %s\nexprun: %s%s (set train.on_nan: skip to skip such steps instead)\n",
                        err.msg, access(latest, F_OK) == 0 ? "the last good checkpoint is kept in " : "no checkpoint was written before it",
                        access(latest, F_OK) == 0 ? tr->run_dir : "");
                snprintf(tr->status, sizeof tr->status, "diverged");
                return EXIT_DIVERGED;
            }
            /* train.eval_every: the validation split within the epoch (its end evaluates anyway),
             * into this step's metrics/steps row. Training goes on as if it had not happened:
             * eval_batch leaves what a model carries between training batches alone (model.h). */
            int evaluate = ts->eval_every > 0 && tr->step % ts->eval_every == 0 &&
                           tr->batch_in_epoch < tr->steps_per_epoch && batches_per_epoch(&tr->val_batches) > 0;
            EvalResult val = {0};
            if (evaluate) {
                /* its time goes to eval_time, not to the epoch's clock of training steps */
                double started = now_seconds();
                val = evaluate_batches(tr, &tr->val_batches);
                double seconds = now_seconds() - started;
                tr->eval_seconds += seconds;
                tr->epoch_started += seconds;
            }
            log_steps(tr, evaluate, evaluate ? &val : NULL);
            show_progress(tr, last_shown);
            /* Data-parallel: the stop every rank agreed on with this step's numbers (reduce_step);
             * a signal that came since is taken up at the next step. */
            int sig = dist_size() > 1 ? tr->agreed_stop : signals_stop_requested();
            /* Test hook: EXPRUN_STOP_AFTER_STEPS=N acts as a SIGTERM after step N, so tests can
             * stop a run at an exact step (mid-epoch included) and check the resume. */
            if (!sig && tr->stop_after_steps > 0 && tr->step >= tr->stop_after_steps) sig = SIGTERM;
            if (sig) {
                char mpirun_prefix[48];
                snprintf(mpirun_prefix, sizeof mpirun_prefix, "mpirun -np %d ", dist_size());
                if (tr->progress && !tr->quiet) fprintf(stderr, "\n");
                snprintf(tr->status, sizeof tr->status, "interrupted");
                if (save_checkpoint(tr, &err) != 0) {
                    fprintf(stderr, "exprun: %s\n", err.msg);
                    return EXIT_RUNTIME;
                }
                if (dist_is_root())
                    fprintf(stderr, "exprun: stopped by signal %d after step %lld; checkpoint written; "
                                    "continue with: %sexprun resume %s\n", sig, (long long)tr->step,
                            dist_size() > 1 ? mpirun_prefix : "", tr->run_dir);
                return 128 + sig;
            }
        }
        double epoch_time = now_seconds() - tr->epoch_started;
        tr->epoch++;
        record_epoch(tr, epoch_time);
        MonitorVerdict verdict = watch_monitor(tr);
        if (tr->rd->has_vocab && tr->spec->sample.every > 0) {
            double sample_started = now_seconds();
            take_sample(tr);
            history_set(&tr->history, "sample_time", now_seconds() - sample_started);
            history_commit_onto_last(&tr->history);
        }
        print_epoch_line(tr);
        /* reset the epoch's sums */
        tr->acc_loss = tr->acc_rows = tr->acc_grad_norm = 0;
        tr->acc_steps = tr->skipped_steps = 0;
        tr->eval_seconds = 0;
        memset(&tr->acc_stats, 0, sizeof tr->acc_stats);
        tr->batch_in_epoch = 0;
        int stop_early = verdict == MONITOR_STOP;
        int bad_monitor = verdict == MONITOR_NOT_FINITE && tr->monitor.patience > 0;
        int last = tr->epoch == ts->epochs || stop_early;
        if (last) snprintf(tr->status, sizeof tr->status, "finished");
        if (bad_monitor) snprintf(tr->status, sizeof tr->status, "diverged");
        /* Results before the checkpoint: if a kill falls between the two, the results hold one
         * epoch more than the checkpoint, and a resume recomputes that row identically. */
        if (append_csv(tr, &err) != 0 || publish_results(tr, &err) != 0) {
            fprintf(stderr, "exprun: %s\n", err.msg);
            return EXIT_RUNTIME;
        }
        if (bad_monitor) {
            fprintf(stderr, "exprun: diverged: the monitor %s is %g after epoch %d, and early stopping cannot compare "
                            "it (the metrics so far are in %s)\n",
                    tr->monitor.column, history_get(&tr->history, tr->history.nrows - 1, tr->monitor.column), tr->epoch,
                    tr->run_dir);
            return EXIT_DIVERGED;
        }
        /* the best so far always gets its checkpoint (checkpoints/BEST names it) */
        int best = verdict == MONITOR_IMPROVED;
        if (last || best || (ts->checkpoint_every > 0 && tr->epoch % ts->checkpoint_every == 0)) {
            if ((best ? save_best_checkpoint(tr, &err) : save_checkpoint(tr, &err)) != 0) {
                fprintf(stderr, "exprun: %s\n", err.msg);
                return EXIT_RUNTIME;
            }
        }
        if (stop_early) {
            const Monitor *m = &tr->monitor;
            if (!tr->quiet)
                printf("early stopping: %s has not improved on %.6g (epoch %lld) for %lld evaluation%s; stopped after "
                       "epoch %d of %d\n", m->column, m->best, (long long)m->best_epoch, (long long)m->waited,
                       m->waited == 1 ? "" : "s", tr->epoch, ts->epochs);
            return EXIT_OK;
        }
    }
    return EXIT_OK;
}
