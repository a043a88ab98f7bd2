/* train.c — the training loop.
 *
 * One step: gather a batch → zero the gradient arena → model forward + backward (+= grads; in a
 * data-parallel run on this rank's share of the batch, then the all-reduce of the arena, dist.h)
 * → check for NaN/Inf → clip → learning rate from the schedule → optimizer step. Everything the
 * next step depends on (parameters, optimizer moments, step, data position, RNG streams, carried
 * hidden state, the running epoch sums and diagnostics; every rank's own part in a data-parallel
 * run) is saved in checkpoints, so a resumed run is bit for bit the run that never stopped. Per epoch: evaluation on the validation split, one row of metrics, results.h5
 * republished by rename, a checkpoint when due. */
#include "train.h"

#include <cblas.h>
#include <dirent.h>
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
#include "h5read.h"
#include "history.h"
#include "latest.h"
#include "parallel.h"
#include "rundata.h"
#include "rundir.h"
#include "sampling.h"
#include "signals.h"
#include "spec/sweep.h"
#include "version.h"

typedef struct Trainer {
    const Spec *spec;
    RunData *rd;
    Model *model;
    Optimizer opt;
    const char *run_dir;
    int quiet, progress;

    /* data position */
    Batcher batcher;                  /* tabular data and text windows */
    int64_t steps_per_epoch;
    int64_t total_steps;
    int64_t step;                     /* optimizer steps taken */
    int epoch;                        /* epochs completed */
    int64_t batch_in_epoch;           /* steps taken in the current epoch */

    /* batch buffers, sized once for the largest batch */
    int32_t *rows;
    float *x, *y;
    int32_t *x_tokens, *y_tokens, *labels;

    int64_t stop_after_steps;         /* test hook, from $EXPRUN_STOP_AFTER_STEPS */
    Rng noise_rng;                    /* input corruption and dropout (each rank its own) */
    Rng sample_rng;                   /* text samples during training */

    /* running sums of the current epoch */
    double acc_loss, acc_rows, acc_grad_norm;
    int64_t acc_steps, skipped_steps;
    StepStats acc_stats;
    char stat_names[MODEL_MAX_STATS][32]; /* names of acc_stats restored from a checkpoint */
    double epoch_started;             /* monotonic seconds */
    double run_started;

    History history;
    int64_t csv_rows;                 /* rows already in metrics.csv (0: write it whole) */
    int csv_cols;                     /* its columns */
    int n_samples;
    char **samples;                   /* text samples, one per sampling epoch */
    int64_t *sample_epochs;
    double *grad_time_rows;           /* (epochs, T) ∂L/∂h_t norms */
    int grad_time_T, grad_time_n;
    char started_at[32];
    char status[32];
    char *spec_given;                 /* the spec file as given */
    char *resolved;                   /* the resolved spec (YAML) */
    char *overrides_text;
    Evaluation evaluation;            /* autoencoders: evaluate: after the last epoch (evaluate.h) */
    /* Data-parallel runs (dist.h): what each rank keeps that the others do not, gathered on
     * rank 0 for a checkpoint — every rank's noise stream and carried state, in rank order. */
    uint64_t ranks;                   /* dist_size(), saved as /state/ranks */
    uint64_t *rank_noise;             /* (ranks, 4) */
    float *rank_carry;                /* (ranks, carried floats) */
    /* The ∂L/∂h_t diagnostic's running sums of the epoch (model_time_grad_state), so that a
     * resumed epoch reports as if never stopped; per rank in data-parallel runs. */
    double *grad_state, *rank_grad_state; /* (n), (ranks, n) */
    size_t grad_state_n;
    int with_grad_state;              /* the checkpoint saved or loaded holds them (older ones do not) */
    int with_epoch_clock;             /* ... and the seconds the epoch had run (clock_epoch_seconds) */
    double reduce_seconds, step_seconds; /* this session's time in the all-reduces, and in steps */
    int agreed_stop;                  /* a stop signal every rank has seen asked for, at the last step */
    int64_t timed_steps;
    ForecastReport forecast;          /* series data: forecasts vs persistence, after the last epoch */
} Trainer;

static void iso_time(char *buf, size_t cap) {
    time_t t = time(NULL);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, cap, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

static void format_duration(char *buf, size_t cap, double seconds) {
    if (!(seconds >= 0) || seconds > 1e8) { snprintf(buf, cap, "?"); return; }
    long s = (long)(seconds + 0.5);
    snprintf(buf, cap, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
}

/* ---- data --------------------------------------------------------------------------------- */

static int uses_stream(const Trainer *tr) { return tr->rd->is_stream; }

static void alloc_buffers(Trainer *tr) {
    const Dataset *ds = &tr->rd->train;
    int B = tr->spec->train.batch_size, T = tr->spec->data.seq_len;
    tr->rows = calloc((size_t)B, sizeof *tr->rows);
    if (uses_stream(tr)) {
        tr->x_tokens = calloc((size_t)B * T, sizeof *tr->x_tokens);
        tr->y_tokens = calloc((size_t)B * T, sizeof *tr->y_tokens);
        return;
    }
    if (ds->x) tr->x = calloc((size_t)B * ds->T * ds->d, sizeof *tr->x);
    if (ds->x_tokens) tr->x_tokens = calloc((size_t)B * ds->T, sizeof *tr->x_tokens);
    if (ds->labels) tr->labels = calloc((size_t)B, sizeof *tr->labels);
    if (ds->y) tr->y = calloc((size_t)B * ds->Ty * ds->dy, sizeof *tr->y);
    if (ds->y_tokens) tr->y_tokens = calloc((size_t)B * ds->Ty, sizeof *tr->y_tokens);
}

static void free_buffers(Trainer *tr) {
    free(tr->rows);
    free(tr->x);
    free(tr->y);
    free(tr->x_tokens);
    free(tr->y_tokens);
    free(tr->labels);
}

/* Batch `rows` of a dataset as the model sees it. */
static Batch dataset_batch(Trainer *tr, const Dataset *ds, const int32_t *rows, int count) {
    dataset_gather(ds, rows, count, ds->x ? tr->x : NULL, ds->x_tokens ? tr->x_tokens : NULL,
                   ds->labels ? tr->labels : NULL, ds->y ? tr->y : NULL, ds->y_tokens ? tr->y_tokens : NULL);
    Batch b = {0};
    b.B = count;
    b.T = ds->T;
    b.d = ds->d;
    b.x = ds->x ? tr->x : NULL;
    b.x_tokens = ds->x_tokens ? tr->x_tokens : NULL;
    b.labels = ds->labels ? tr->labels : NULL;
    b.Ty = ds->Ty;
    b.dy = ds->dy;
    b.y = ds->y ? tr->y : NULL;
    b.y_tokens = ds->y_tokens ? tr->y_tokens : NULL;
    return b;
}

/* Batch k of a token stream: row r continues row r of batch k − 1, so the hidden state carries. */
static Batch stream_batch_at(Trainer *tr, const TokenStream *s, int B, int64_t k) {
    int T = tr->spec->data.seq_len;
    stream_batch(s, B, T, k, tr->x_tokens, tr->y_tokens);
    Batch b = {0};
    b.B = B;
    b.T = T;
    b.Ty = T;
    b.x_tokens = tr->x_tokens;
    b.y_tokens = tr->y_tokens;
    b.carry_state = k > 0;
    return b;
}

/* ---- evaluation ---------------------------------------------------------------------------- */

typedef struct EvalResult {
    double loss;
    StepStats stats;          /* averaged per row */
    double rows;
} EvalResult;

static void average_stats(StepStats *s, double rows) {
    for (int i = 0; i < s->count; i++) s->values[i] /= rows > 0 ? rows : 1;
}

static EvalResult evaluate_dataset(Trainer *tr, const Dataset *ds) {
    EvalResult r = {0};
    int B = tr->spec->train.batch_size;
    double sum = 0;
    for (int start = 0; start < ds->n; start += B) {
        int count = ds->n - start < B ? ds->n - start : B;
        for (int i = 0; i < count; i++) tr->rows[i] = start + i;
        Batch b = dataset_batch(tr, ds, tr->rows, count);
        sum += tr->model->ops->eval_batch(tr->model, &b, &r.stats) * count;
        r.rows += count;
    }
    r.loss = r.rows > 0 ? sum / r.rows : NAN;
    average_stats(&r.stats, r.rows);
    return r;
}

static EvalResult evaluate_stream(Trainer *tr, const TokenStream *s) {
    EvalResult r = {0};
    int B = tr->spec->train.batch_size, T = tr->spec->data.seq_len;
    while (B > 1 && stream_batches_per_epoch(s, B, T) == 0) B /= 2;
    int64_t n = stream_batches_per_epoch(s, B, T);
    double sum = 0;
    for (int64_t k = 0; k < n; k++) {
        Batch b = stream_batch_at(tr, s, B, k);
        sum += tr->model->ops->eval_batch(tr->model, &b, &r.stats) * B;
        r.rows += B;
    }
    r.loss = r.rows > 0 ? sum / r.rows : NAN;
    average_stats(&r.stats, r.rows);
    return r;
}

static EvalResult evaluate_validation(Trainer *tr) {
    if (uses_stream(tr)) {
        if (tr->rd->val_stream.len == 0) return (EvalResult){.loss = NAN};
        return evaluate_stream(tr, &tr->rd->val_stream);
    }
    if (tr->rd->val.n == 0) return (EvalResult){.loss = NAN};
    return evaluate_dataset(tr, &tr->rd->val);
}

/* ---- results ------------------------------------------------------------------------------- */

static int publish_results(Trainer *tr, ExError *err) {
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
    h5doc_string(doc, "/spec", tr->resolved);
    h5doc_string(doc, "/spec_as_given", tr->spec_given ? tr->spec_given : "");
    h5doc_string(doc, "/overrides", tr->overrides_text ? tr->overrides_text : "");
    const History *h = &tr->history;
    if (h->ncols > 0)   /* no epoch finished yet (e.g. diverged in the first): no table */
        h5doc_table(doc, "/metrics/epochs", h->ncols, (const char *const *)h->names, h->nrows, h->rows);
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

/* metrics.csv grows by one flushed line per epoch, so `tail -f` and awk can follow it, with the
 * columns of the first epoch. It is written whole only for the first row, once after a resume
 * (rows after the checkpoint go) and, when `final` is set, once at the end if columns were added
 * since (the test_* results on the last row). A failed write (a full disk) is reported, not
 * ignored: the file would be cut short (then the next write rewrites it whole). */
static int append_csv(Trainer *tr, int final, ExError *err) {
    if (!dist_is_root()) return 0;
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.csv", tr->run_dir);
    const History *h = &tr->history;
    int rewrite = tr->csv_rows == 0 || (final && h->ncols != tr->csv_cols);
    if (rewrite) tr->csv_rows = 0;
    FILE *f = fopen(path, rewrite ? "w" : "a");
    if (!f) return ex_fail(err, "cannot write %s: %s", path, strerror(errno));
    if (rewrite) {
        tr->csv_cols = h->ncols;
        history_csv_line(h, -1, tr->csv_cols, f);
    }
    for (int64_t r = tr->csv_rows; r < h->nrows; r++) history_csv_line(h, r, tr->csv_cols, f);
    tr->csv_rows = h->nrows;
    int failed = fflush(f) != 0 || ferror(f);
    if (fclose(f) != 0 || failed) {
        tr->csv_rows = 0;
        return ex_fail(err, "cannot write %s: %s", path, strerror(errno));
    }
    return 0;
}

/* ---- checkpoints --------------------------------------------------------------------------- */

enum { ACC_LOSS, ACC_ROWS, ACC_GNORM, ACC_STEPS, ACC_SKIPPED, ACC_BATCH, ACC_NSTATS, ACC_STATS };
#define ACC_WORDS (ACC_STATS + MODEL_MAX_STATS)

static void pack_double(uint64_t *w, double v) { memcpy(w, &v, sizeof v); }
static double unpack_double(uint64_t w) { double v; memcpy(&v, &w, sizeof v); return v; }

/* What a checkpoint holds besides parameters and optimizer: filled for save and for load. */
typedef struct LoopState {
    uint64_t noise[4], sample[4], batcher_rng[4];
    uint64_t acc[ACC_WORDS];
    char stat_names[MODEL_MAX_STATS][32];   /* saved as 4 u64 words each */
    double clock_epoch_seconds;             /* how long the epoch has run: a clock, not part of the bits */
} LoopState;

static void describe_extras(Trainer *tr, LoopState *ls, CheckpointState *st) {
    memset(st, 0, sizeof *st);
    int n = 0;
#define EXTRA(nm, k, cnt, ptr) \
    do { snprintf(st->extra[n].name, sizeof st->extra[n].name, "%s", nm); \
         st->extra[n].kind = k; st->extra[n].count = cnt; st->extra[n].data = ptr; n++; } while (0)
    EXTRA("rng_noise", CKPT_U64, 4, ls->noise);
    EXTRA("rng_sample", CKPT_U64, 4, ls->sample);
    EXTRA("batcher_rng", CKPT_U64, 4, ls->batcher_rng);
    EXTRA("loop_sums", CKPT_U64, ACC_WORDS, ls->acc);
    EXTRA("loop_stat_names", CKPT_U64, MODEL_MAX_STATS * 4, ls->stat_names);
    size_t carried = 0;
    float *state = model_carried_state(tr->model, &carried);
    if (state && carried) EXTRA("carried_state", CKPT_F32, carried, state);
    if (tr->grad_state_n && tr->with_grad_state) EXTRA("grad_norms_by_time", CKPT_F64, tr->grad_state_n, tr->grad_state);
    if (tr->with_epoch_clock) EXTRA("clock_epoch_seconds", CKPT_F64, 1, &ls->clock_epoch_seconds);
    if (tr->ranks > 1) {
        EXTRA("ranks", CKPT_U64, 1, &tr->ranks);
        if (tr->grad_state_n && tr->with_grad_state)
            EXTRA("rank_grad_norms_by_time", CKPT_F64, tr->ranks * tr->grad_state_n, tr->rank_grad_state);
        EXTRA("rank_rng_noise", CKPT_U64, tr->ranks * 4, tr->rank_noise);
        if (state && carried) EXTRA("rank_carried_state", CKPT_F32, tr->ranks * carried, tr->rank_carry);
    }
#undef EXTRA
    st->n_extra = n;
}

static void pack_loop_state(Trainer *tr, LoopState *ls, CheckpointState *st) {
    /* All of it: unused stat slots would otherwise carry stack garbage into the checkpoint,
     * and two runs that are the same would write different files (tests/test_kill.c). */
    memset(ls, 0, sizeof *ls);
    memcpy(ls->noise, tr->noise_rng.s, sizeof ls->noise);
    memcpy(ls->sample, tr->sample_rng.s, sizeof ls->sample);
    int64_t data_epoch = 0;
    int cursor = 0;
    Rng brng = {{0}};
    if (!uses_stream(tr)) batcher_get_state(&tr->batcher, &data_epoch, &cursor, &brng);
    memcpy(ls->batcher_rng, brng.s, sizeof ls->batcher_rng);
    pack_double(&ls->acc[ACC_LOSS], tr->acc_loss);
    pack_double(&ls->acc[ACC_ROWS], tr->acc_rows);
    pack_double(&ls->acc[ACC_GNORM], tr->acc_grad_norm);
    ls->acc[ACC_STEPS] = (uint64_t)tr->acc_steps;
    ls->acc[ACC_SKIPPED] = (uint64_t)tr->skipped_steps;
    ls->acc[ACC_BATCH] = (uint64_t)tr->batch_in_epoch;
    ls->acc[ACC_NSTATS] = (uint64_t)tr->acc_stats.count;
    memset(ls->stat_names, 0, sizeof ls->stat_names);
    for (int i = 0; i < tr->acc_stats.count; i++) {
        pack_double(&ls->acc[ACC_STATS + i], tr->acc_stats.values[i]);
        snprintf(ls->stat_names[i], sizeof ls->stat_names[i], "%s", tr->acc_stats.names[i]);
    }
    tr->with_grad_state = 1;   /* a checkpoint written now always holds them */
    tr->with_epoch_clock = 1;
    ls->clock_epoch_seconds = tr->batch_in_epoch > 0 ? now_seconds() - tr->epoch_started : 0.0;
    describe_extras(tr, ls, st);
    if (tr->grad_state_n) model_time_grad_state(tr->model, tr->grad_state, 0);
    if (tr->ranks > 1) {
        /* every rank's own noise stream, carried state and diagnostic sums, to rank 0 */
        dist_gather(tr->noise_rng.s, sizeof tr->noise_rng.s, tr->rank_noise);
        if (tr->grad_state_n)
            dist_gather(tr->grad_state, tr->grad_state_n * sizeof(double), tr->rank_grad_state);
        size_t carried = 0;
        float *state = model_carried_state(tr->model, &carried);
        if (state && carried) dist_gather(state, carried * sizeof(float), tr->rank_carry);
    }
    st->step = tr->step;
    st->epoch = tr->epoch;
    st->data_epoch = data_epoch;
    st->data_cursor = cursor;
}

/* A checkpoint file of the run directory and the step it holds, for pruning. */
typedef struct CkptFile {
    long long step;
    char name[128];
} CkptFile;

static int by_step(const void *a, const void *b) {
    long long x = ((const CkptFile *)a)->step, y = ((const CkptFile *)b)->step;
    return (x > y) - (x < y);
}

/* Keep the newest `keep` checkpoints of dir (by step; `current`, just written, always), remove
 * the rest, and list the kept ones in KEPT, oldest first. The directory is the record, not
 * KEPT: a kill between publishing LATEST and KEPT would otherwise leave behind a checkpoint that
 * no later save removes (tests/test_kill.c found such strays). */
static int prune_checkpoints(const char *dir, const char *current, int keep, ExError *err) {
    DIR *d = opendir(dir);
    if (!d) return ex_fail(err, "cannot list %s: %s", dir, strerror(errno));
    CkptFile *files = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        int epoch = 0, used = 0;
        long long step = 0;
        if (sscanf(e->d_name, "epoch-%d-step-%lld.h5%n", &epoch, &step, &used) != 2 || used == 0 ||
            e->d_name[used] != '\0' || strlen(e->d_name) >= sizeof files->name)
            continue;
        if (n == cap) files = realloc(files, (size_t)(cap = cap ? 2 * cap : 16) * sizeof *files);
        files[n].step = strcmp(e->d_name, current) == 0 ? LLONG_MAX : step;
        memcpy(files[n].name, e->d_name, strlen(e->d_name) + 1);   /* shorter than name: checked above */
        n++;
    }
    closedir(d);
    qsort(files, (size_t)n, sizeof *files, by_step);
    size_t text_cap = 1;
    for (int i = 0; i < n; i++) text_cap += strlen(files[i].name) + 1;
    char *text = calloc(text_cap, 1), path[4400];
    for (int i = 0; i < n; i++) {
        if (i < n - keep) {
            snprintf(path, sizeof path, "%s/%s", dir, files[i].name);
            unlink(path);
            continue;
        }
        strcat(text, files[i].name);
        strcat(text, "\n");
    }
    int rc = write_file_atomic(dir, "KEPT", text, err);
    free(text);
    free(files);
    return rc;
}

static int save_checkpoint(Trainer *tr, ExError *err) {
    char dir[4200], name[128], path[4400];
    LoopState ls;
    CheckpointState st;
    pack_loop_state(tr, &ls, &st);   /* every rank: it gathers the ranks' own state */
    if (!dist_is_root()) return 0;
    snprintf(dir, sizeof dir, "%s/checkpoints", tr->run_dir);
    if (make_dirs(dir, err) != 0) return -1;
    snprintf(name, sizeof name, "epoch-%04d-step-%08lld.h5", tr->epoch, (long long)tr->step);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (checkpoint_save(path, &tr->model->params, &tr->opt, &st, tr->resolved, err) != 0) return -1;
    /* LATEST names the newest complete checkpoint, with its digest (latest.h); older ones
     * beyond keep_checkpoints go. */
    if (latest_publish(dir, name, err) != 0) return -1;
    return prune_checkpoints(dir, name, tr->spec->train.keep_checkpoints, err);
}

/* ---- the loop ------------------------------------------------------------------------------ */

/* First parameter view whose gradient is not finite, to name the layer where a NaN appeared. */
static const char *first_bad_view(const Params *p) {
    for (int v = 0; v < p->count; v++) {
        const float *g = params_grad(p, v);
        for (size_t i = 0; i < p->views[v].size; i++)
            if (!isfinite(g[i])) return p->views[v].name;
    }
    return "?";
}

/* First parameter view holding a value that is not finite. */
static const char *first_bad_value_view(const Params *p) {
    for (int v = 0; v < p->count; v++) {
        const float *x = params_value(p, v);
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
        const char *where = isfinite(norm) ? "the loss" : first_bad_view(p);
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
    optim_step(&tr->opt, p->value, p->grad, lr);
    /* A finite gradient times a huge learning rate can still overflow a parameter, and the
     * next checkpoint would keep the Inf (tests/test_faults.c met it). Skipping cannot undo an
     * in-place update, so this stops the run under either train.on_nan. One pass over the
     * parameters: small beside the forward and backward. */
    for (size_t i = 0; i < p->total; i++)
        if (!isfinite(p->value[i])) {
            ex_fail(err, "diverged at step %lld (epoch %d): the update made %s NaN or Inf (try a lower "
                         "optimizer.lr or clip the gradient)", (long long)tr->step + 1, tr->epoch + 1,
                    first_bad_value_view(p));
            return STEP_DIVERGED;
        }
    tr->step++;
    tr->acc_loss += loss * b->B;
    tr->acc_rows += b->B;
    tr->acc_grad_norm += norm;
    tr->acc_steps++;
    for (int i = 0; i < stats.count; i++) stats_add(&tr->acc_stats, stats.names[i], stats.values[i]);
    return STEP_OK;
}

static void show_progress(Trainer *tr, double last_shown[1]) {
    if (!tr->progress || tr->quiet) return;
    double t = now_seconds();
    if (t - last_shown[0] < 0.25) return;
    last_shown[0] = t;
    double elapsed = t - tr->run_started;
    int64_t done_this_session = tr->step;
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

/* Time steps in one training row: the text window, or the sequences' length. */
static int steps_per_row(const Trainer *tr) {
    return uses_stream(tr) ? tr->spec->data.seq_len : tr->rd->train.T;
}

static void record_epoch(Trainer *tr, double epoch_time) {
    EvalResult val = evaluate_validation(tr);
    History *h = &tr->history;
    history_set(h, "epoch", tr->epoch);
    history_set(h, "step", (double)tr->step);
    history_set(h, "train_loss", tr->acc_rows > 0 ? tr->acc_loss / tr->acc_rows : NAN);
    history_set(h, "val_loss", val.loss);
    history_set(h, "lr", schedule_lr(&tr->spec->schedule, tr->step > 0 ? tr->step - 1 : 0,
                                      tr->steps_per_epoch, tr->total_steps));
    history_set(h, "grad_norm", tr->acc_steps > 0 ? tr->acc_grad_norm / (double)tr->acc_steps : NAN);
    history_set(h, "epoch_time", epoch_time);
    history_set(h, "samples_per_sec", epoch_time > 0 ? tr->acc_rows / epoch_time : NAN);
    if (tr->model->ops->unit) {
        char column[64];
        int steps = model_steps_per_row(tr->model, steps_per_row(tr), tr->rd->train.Ty);
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
    double elapsed = now_seconds() - tr->run_started;
    int epochs_left = tr->spec->train.epochs - tr->epoch;
    char left[32];
    format_duration(left, sizeof left, tr->epoch > 0 ? elapsed / tr->epoch * epochs_left : NAN);
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

/* Runs epochs until done or stopped; returns an exit status. */
static int run_loop(Trainer *tr) {
    ExError err;
    const TrainSpec *ts = &tr->spec->train;
    double last_shown[1] = {0};
    while (tr->epoch < ts->epochs) {
        if (tr->batch_in_epoch == 0) {
            tr->epoch_started = now_seconds();
            if (!uses_stream(tr)) batcher_begin_epoch(&tr->batcher);
        }
        while (tr->batch_in_epoch < tr->steps_per_epoch) {
            Batch b;
            if (uses_stream(tr)) b = stream_batch_at(tr, &tr->rd->train_stream, ts->batch_size, tr->batch_in_epoch);
            else {
                int count = batcher_next(&tr->batcher, tr->rows);
                if (count == 0) break;
                b = dataset_batch(tr, &tr->rd->train, tr->rows, count);
            }
            StepResult r = train_step(tr, &b, &err);
            tr->batch_in_epoch++;
            if (r == STEP_DIVERGED) {
                if (tr->progress && !tr->quiet) fprintf(stderr, "\n");
                char latest[4200];
                snprintf(latest, sizeof latest, "%s/checkpoints/LATEST", tr->run_dir);
                fprintf(stderr, "exprun: %s\nexprun: %s%s (set train.on_nan: skip to skip such steps instead)\n",
                        err.msg, access(latest, F_OK) == 0 ? "the last good checkpoint is kept in " : "no checkpoint was written before it",
                        access(latest, F_OK) == 0 ? tr->run_dir : "");
                snprintf(tr->status, sizeof tr->status, "diverged");
                return EXIT_DIVERGED;
            }
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
        take_sample(tr);
        print_epoch_line(tr);
        /* reset the epoch's sums */
        tr->acc_loss = tr->acc_rows = tr->acc_grad_norm = 0;
        tr->acc_steps = tr->skipped_steps = 0;
        memset(&tr->acc_stats, 0, sizeof tr->acc_stats);
        tr->batch_in_epoch = 0;
        int last = tr->epoch == ts->epochs;
        if (last) snprintf(tr->status, sizeof tr->status, "finished");
        /* Results before the checkpoint: if a kill falls between the two, the results hold one
         * epoch more than the checkpoint, and a resume recomputes that row identically. */
        if (append_csv(tr, 0, &err) != 0 || publish_results(tr, &err) != 0) {
            fprintf(stderr, "exprun: %s\n", err.msg);
            return EXIT_RUNTIME;
        }
        if (last || (ts->checkpoint_every > 0 && tr->epoch % ts->checkpoint_every == 0)) {
            if (save_checkpoint(tr, &err) != 0) {
                fprintf(stderr, "exprun: %s\n", err.msg);
                return EXIT_RUNTIME;
            }
        }
    }
    return EXIT_OK;
}

/* ---- setting up a run ---------------------------------------------------------------------- */

static int trainer_init(Trainer *tr, const Spec *spec, RunData *rd, const char *run_dir, ExError *err) {
    tr->spec = spec;
    tr->rd = rd;
    tr->run_dir = run_dir;
    if (spec->threads > 0) {
        openblas_set_num_threads(spec->threads);
        par_set_threads(spec->threads);   /* exprun's own kernels (parallel.h) */
    }
    char warn[1024];
    int built = build_model(spec, rd, &tr->model, warn, sizeof warn, err);
    if (built != 0) return built;   /* BUILD_TOO_BIG: a spec error (exit 2) */
    if (warn[0] && !tr->quiet) fputs(warn, stderr);
    if (evaluate_check(spec, rd, tr->model, err) != 0) return -1;
    optim_init(&tr->opt, &spec->optim, tr->model->params.total);
    const TrainSpec *ts = &spec->train;
    if (rd->is_stream) {
        tr->steps_per_epoch = stream_batches_per_epoch(&rd->train_stream, ts->batch_size, spec->data.seq_len);
    } else {
        if (rd->train.n == 0) return ex_fail(err, "%s: no training examples", rd->train.source);
        batcher_init(&tr->batcher, rd->train.n, ts->batch_size, ts->shuffle, ts->drop_last,
                     rng_stream(spec->seed, "shuffle"));
        tr->steps_per_epoch = batcher_batches_per_epoch(&tr->batcher);
    }
    if (ts->max_steps_per_epoch > 0 && ts->max_steps_per_epoch < tr->steps_per_epoch)
        tr->steps_per_epoch = ts->max_steps_per_epoch;
    if (tr->steps_per_epoch <= 0)
        return ex_fail(err, "%s: too little data for one batch of %d (train.batch_size%s)",
                       rd->is_stream ? spec->data.path : rd->train.source, ts->batch_size,
                       ts->drop_last ? ", with train.drop_last: true" : "");
    tr->total_steps = tr->steps_per_epoch * ts->epochs;
    tr->noise_rng = rng_stream(spec->seed, "noise");
    tr->sample_rng = rng_stream(spec->seed, "sample");
    tr->ranks = (uint64_t)dist_size();
    if (tr->ranks > 1) {
        /* each rank draws the noise of its own rows from its own stream */
        char name[32];
        snprintf(name, sizeof name, "noise/rank%d", dist_rank());
        if (dist_rank() > 0) tr->noise_rng = rng_stream(spec->seed, name);
        size_t carried = 0;
        model_carried_state(tr->model, &carried);
        tr->rank_noise = calloc(tr->ranks * 4, sizeof *tr->rank_noise);
        tr->rank_carry = calloc(tr->ranks * (carried ? carried : 1), sizeof *tr->rank_carry);
    }
    tr->grad_state_n = model_time_grad_state(tr->model, NULL, 0);
    tr->grad_state = calloc(tr->grad_state_n ? tr->grad_state_n : 1, sizeof *tr->grad_state);
    tr->rank_grad_state = calloc(tr->ranks * (tr->grad_state_n ? tr->grad_state_n : 1), sizeof *tr->rank_grad_state);
    alloc_buffers(tr);
    const char *stop = getenv("EXPRUN_STOP_AFTER_STEPS");
    tr->stop_after_steps = stop ? atoll(stop) : 0;
    snprintf(tr->status, sizeof tr->status, "running");
    iso_time(tr->started_at, sizeof tr->started_at);
    tr->run_started = now_seconds();
    return 0;
}

static void trainer_free(Trainer *tr) {
    free_buffers(tr);
    if (!tr->rd || !tr->rd->is_stream) batcher_free(&tr->batcher);
    optim_free(&tr->opt);
    model_free(tr->model);
    history_free(&tr->history);
    for (int i = 0; i < tr->n_samples; i++) free(tr->samples[i]);
    free(tr->samples);
    free(tr->sample_epochs);
    free(tr->grad_time_rows);
    free(tr->spec_given);
    free(tr->resolved);
    free(tr->overrides_text);
    evaluation_free(&tr->evaluation);
    forecast_free(&tr->forecast);
    free(tr->rank_noise);
    free(tr->rank_carry);
    free(tr->grad_state);
    free(tr->rank_grad_state);
}

static void set_history_column(void *history, const char *name, double value) { history_set(history, name, value); }

/* After the last epoch: the held-out test set, if the data has one, as /metrics/test. */
static void evaluate_test(Trainer *tr) {
    if (tr->rd->test.n == 0) return;
    EvalResult r = evaluate_dataset(tr, &tr->rd->test);
    if (!tr->quiet) printf("test   loss %.5f", r.loss);
    for (int i = 0; i < r.stats.count; i++)
        if (!tr->quiet) printf("  %s %.5f", r.stats.names[i], r.stats.values[i]);
    if (!tr->quiet) printf("  (%d examples)\n", tr->rd->test.n);
    /* Kept as a final-row summary in the epochs table: test_* columns on the last row. */
    int64_t last = tr->history.nrows - 1;
    if (last < 0) return;
    char name[64];
    history_set(&tr->history, "test_loss", r.loss);
    for (int i = 0; i < r.stats.count; i++) {
        snprintf(name, sizeof name, "test_%s", r.stats.names[i]);
        history_set(&tr->history, name, r.stats.values[i]);
    }
    /* Series data: errors in the data's units, beside the persistence baseline (forecast.h). */
    ExError err;
    if (forecast_evaluate(&tr->forecast, tr->model, tr->rd, tr->spec->train.batch_size, &err) != 0)
        fprintf(stderr, "exprun: forecasting the held-out windows failed: %s\n", err.msg);
    forecast_columns(&tr->forecast, set_history_column, &tr->history);
    if (tr->forecast.done && !tr->quiet)
        for (int s = 0; s < 2; s++) {
            const ForecastSet *fs = s ? &tr->forecast.test : &tr->forecast.val;
            if (fs->n > 0)
                printf("%s   mse %.6g  mae %.6g  (persistence: mse %.6g  mae %.6g; %d windows, data units)\n",
                       s ? "test" : "val ", fs->model.mse, fs->model.mae, fs->persistence.mse, fs->persistence.mae,
                       fs->n);
        }
    /* Move the pending test values onto the last row instead of a new row. */
    for (int c = 0; c < tr->history.ncols; c++)
        if (tr->history.pending_set[c]) {
            tr->history.rows[last * tr->history.ncols + c] = tr->history.pending[c];
            tr->history.pending_set[c] = 0;
        }
}

static int finish(Trainer *tr, int status) {
    ExError err;
    if (status == EXIT_OK) {
        evaluate_test(tr);
        if (evaluate_model(&tr->evaluation, tr->spec, tr->rd, tr->model, tr->quiet ? NULL : stdout, &err) != 0) {
            fprintf(stderr, "exprun: evaluation after training failed: %s\n", err.msg);
            snprintf(tr->status, sizeof tr->status, "failed");   /* the run did not do all it was asked */
            status = EXIT_RUNTIME;
        }
        if (append_csv(tr, 1, &err) != 0) {
            fprintf(stderr, "exprun: %s\n", err.msg);
            status = EXIT_RUNTIME;
        }
    }
    /* A write failed (a full disk, say): the results and the status file say so. */
    if (status == EXIT_RUNTIME) snprintf(tr->status, sizeof tr->status, "failed");
    if (publish_results(tr, &err) != 0) {
        fprintf(stderr, "exprun: %s\n", err.msg);
        if (status == EXIT_OK) {
            status = EXIT_RUNTIME;
            snprintf(tr->status, sizeof tr->status, "failed");
        }
    }
    if (dist_is_root() && rundir_set_status(tr->run_dir, tr->status, &err) != 0) fprintf(stderr, "exprun: %s\n", err.msg);
    if (status == EXIT_OK && !tr->quiet && tr->timed_steps > 0)
        printf("data-parallel: the gradient all-reduce took %.3f ms of %.3f ms per step for forward, backward and "
               "all-reduce (%.1f%%; %zu floats)\n",
               1e3 * tr->reduce_seconds / (double)tr->timed_steps, 1e3 * tr->step_seconds / (double)tr->timed_steps,
               100.0 * tr->reduce_seconds / (tr->step_seconds > 0 ? tr->step_seconds : 1), tr->model->params.total);
    if (status == EXIT_OK && !tr->quiet) printf("results: %s/results.h5\n", tr->run_dir);
    return status;
}

static char *join_overrides(char *const *overrides, int n) {
    size_t cap = 1;
    for (int i = 0; i < n; i++) cap += strlen(overrides[i]) + 1;
    char *text = calloc(cap, 1);
    for (int i = 0; i < n; i++) {
        strcat(text, overrides[i]);
        strcat(text, "\n");
    }
    return text;
}

int command_train(const TrainOptions *opt) {
    Spec spec;
    CfgDiags diags = {0};
    if (spec_load(opt->spec_path, opt->overrides, opt->n_overrides, &spec, &diags) != 0) {
        cfg_diags_print(&diags, stderr);
        fprintf(stderr, "exprun: %d problem%s in %s; nothing was run\n", diags.count, diags.count == 1 ? "" : "s",
                opt->spec_path);
        cfg_diags_free(&diags);
        spec_free(&spec);
        return EXIT_USAGE;
    }
    cfg_diags_free(&diags);
    /* A run is never a sweep: the sweep: block only lists trials (spec/sweep.h), so it is left out
     * of the run's resolved spec. `exprun sweep` runs the trials (EXPRUN_SWEEP_TRIAL is set). */
    if (sweep_strip(spec.tree) && !opt->quiet && !getenv("EXPRUN_SWEEP_TRIAL"))
        fprintf(stderr, "exprun: note: %s has a sweep: block; this run trains the spec without it "
                        "(to run the sweep: exprun sweep %s)\n", opt->spec_path, opt->spec_path);
    ExError err;
    RunData rd;
    Trainer tr = {0};
    tr.quiet = opt->quiet || !dist_is_root();   /* data-parallel: rank 0 speaks for the run */
    tr.progress = opt->progress;
    int status = EXIT_RUNTIME;
    char run_dir[4096] = "";
    int lock_fd = -1;
    /* Data first: a missing file should fail before any run directory exists. */
    if (rundata_load(&spec, &rd, &err) != 0) {
        fprintf(stderr, "exprun: %s\n", err.msg);
        spec_free(&spec);
        return EXIT_RUNTIME;
    }
    /* Then the model and its --init-from weights (a checkpoint of other shapes is refused
     * here), still before the run directory: tr.run_dir points at run_dir, filled below. */
    int init = trainer_init(&tr, &spec, &rd, run_dir, &err);
    if (init == BUILD_TOO_BIG) {
        fprintf(stderr, "exprun: %s\n", err.msg);
        status = EXIT_USAGE;
        goto done;
    }
    if (init != 0) goto fail;
    if (opt->init_from) {
        CheckpointInfo init_info;
        if (checkpoint_info(opt->init_from, &init_info, &err) != 0 ||
            checkpoint_load_params_only(opt->init_from, &tr.model->params, 1, NULL, &err) != 0)
            goto fail;
        if ((!init_info.checksummed || !init_info.sealed) && !opt->quiet)
            fprintf(stderr, "exprun: warning: %s has no %s (an older exprun wrote it, or another tool rewrote it): "
                            "%s\n", opt->init_from, init_info.checksummed ? "seal" : "checksums",
                    init_info.checksummed ? "its datasets' checksums and values were checked, its HDF5 structure "
                                            "was not" : "its values were checked for NaN and Inf only");
    }
    tr.resolved = cfg_emit_yaml_string(spec.tree);
    tr.spec_given = read_file(opt->spec_path, NULL, NULL);
    tr.overrides_text = join_overrides(opt->overrides, opt->n_overrides);
    if (!dist_is_root()) {
        /* data-parallel: rank 0 makes and writes the run directory; the others learn its name */
        dist_broadcast(run_dir, sizeof run_dir);
        signals_install();
        status = finish(&tr, run_loop(&tr));
        goto done;
    }
    int made = rundir_create(spec.output_root, spec.name, opt->out_dir, run_dir, sizeof run_dir, &lock_fd, &err);
    if (made == RUNDIR_LOCKED || made == RUNDIR_EXISTS) {
        /* another process's run: nothing of it is touched */
        fprintf(stderr, "exprun: %s\n", err.msg);
        status = made == RUNDIR_LOCKED ? EXIT_LOCKED : EXIT_USAGE;
        goto done;
    }
    if (made != 0 || check_writable(run_dir, &err) != 0) goto fail;
    /* resolved.yaml goes last: a directory that has it holds everything `exprun resume` needs,
     * including init_from.txt (the absolute path of --init-from's checkpoint), which a resume
     * before the first checkpoint applies again. */
    char init_path[PATH_MAX] = "", init_from[PATH_MAX + 2];
    if (opt->init_from && !realpath(opt->init_from, init_path)) snprintf(init_path, sizeof init_path, "%s", opt->init_from);
    snprintf(init_from, sizeof init_from, "%s\n", init_path);
    if (write_file_atomic(run_dir, "spec.yaml", tr.spec_given ? tr.spec_given : "", &err) != 0 ||
        write_file_atomic(run_dir, "overrides.txt", tr.overrides_text, &err) != 0 ||
        (opt->init_from && write_file_atomic(run_dir, "init_from.txt", init_from, &err) != 0) ||
        rundir_set_status(run_dir, "running", &err) != 0 ||
        write_file_atomic(run_dir, "resolved.yaml", tr.resolved, &err) != 0)
        goto fail;
    if (!opt->quiet) printf("run: %s\n", run_dir);
    if (opt->init_from && !opt->quiet) printf("initialised from %s\n", opt->init_from);
    if (dist_size() > 1 && !opt->quiet)
        printf("data-parallel over %d ranks (%s): batch %d = %d per rank%s\n", dist_size(), dist_library(),
               spec.train.batch_size, spec.train.batch_size / dist_size(),
               spec.train.batch_size % dist_size() ? " or one more" : "");
    dist_broadcast(run_dir, sizeof run_dir);
    signals_install();
    status = finish(&tr, run_loop(&tr));
    goto done;
fail:
    fprintf(stderr, "exprun: %s\n", err.msg);
    if (lock_fd >= 0) {   /* only a run directory this process made and holds */
        snprintf(tr.status, sizeof tr.status, "failed");
        rundir_set_status(run_dir, "failed", NULL);
    }
    status = EXIT_RUNTIME;
done:
    trainer_free(&tr);
    rundata_free(&rd);
    spec_free(&spec);
    if (lock_fd >= 0) close(lock_fd);
    return status;
}

/* Restore history rows written before the checkpoint (results.h5 may hold later ones). */
static int restore_history(Trainer *tr, ExError *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/results.h5", tr->run_dir);
    H5Reader *r = NULL;
    if (access(path, F_OK) != 0) return 0;   /* killed before the first epoch ended */
    if (h5r_open_own(&r, path, err) != 0) return -1;
    int ncols = 0;
    char **names = NULL;
    int64_t nrows = 0;
    double *rows = NULL;
    /* no table: stopped before the first epoch ended */
    int rc = h5r_exists(r, "/metrics/epochs") ? h5r_read_table(r, "/metrics/epochs", &ncols, &names, &nrows, &rows, err) : 0;
    if (rc == 0 && names) {
        for (int64_t i = 0; i < nrows && i < tr->epoch; i++) {
            for (int c = 0; c < ncols; c++)
                if (strncmp(names[c], "test_", 5) != 0) history_set(&tr->history, names[c], rows[i * ncols + c]);
            history_commit(&tr->history);
        }
        h5r_free_strings(names, (size_t)ncols);
        free(rows);
    }
    if (rc == 0 && h5r_exists(r, "/samples/text")) {
        size_t n = 0;
        char **texts = NULL;
        if (h5r_read_strings(r, "/samples/text", &n, &texts, err) == 0) {
            int64_t *epochs = calloc(n ? n : 1, sizeof *epochs);
            int shape[1] = {(int)n};
            h5r_read_int64s(r, "/samples/epoch", 1, shape, epochs, err);
            for (size_t i = 0; i < n; i++)
                if (epochs[i] <= tr->epoch) {
                    tr->samples = realloc(tr->samples, (size_t)(tr->n_samples + 1) * sizeof *tr->samples);
                    tr->sample_epochs = realloc(tr->sample_epochs, (size_t)(tr->n_samples + 1) * sizeof(int64_t));
                    tr->samples[tr->n_samples] = strdup(texts[i]);
                    tr->sample_epochs[tr->n_samples++] = epochs[i];
                }
            free(epochs);
            h5r_free_strings(texts, n);
        }
    }
    if (rc == 0 && h5r_exists(r, "/diagnostics/grad_norm_by_time")) {
        int rank = 0;
        int64_t dims[8];
        if (h5r_shape(r, "/diagnostics/grad_norm_by_time", &rank, dims, err) == 0 && rank == 2) {
            int shape[2] = {(int)dims[0], (int)dims[1]};
            double *all = malloc((size_t)dims[0] * dims[1] * sizeof *all);
            if (h5r_read_doubles(r, "/diagnostics/grad_norm_by_time", 2, shape, all, err) == 0) {
                int keep = (int)(dims[0] < tr->epoch ? dims[0] : tr->epoch);
                tr->grad_time_T = shape[1];
                tr->grad_time_n = keep;
                tr->grad_time_rows = all;
                all = NULL;
            }
            free(all);
        }
    }
    h5r_close(r);
    return rc;
}

/* The loop state of a checkpoint, checked against the spec before any of it is used: a value
 * out of range (a flipped bit, an edited file) would otherwise index past buffers, run for ever
 * or "finish" with other weights. What must hold, with E = train.epochs and S = steps per epoch:
 *   0 ≤ epoch ≤ E;  0 ≤ batch ≤ S (batch = S: stopped after the epoch's last step, before its
 *   end was recorded; batch = 0 once epoch = E);  kept + skipped = batch (this
 *   epoch's steps); step = epoch·S + kept without train.on_nan: skip, kept ≤ step ≤ epoch·S + kept
 *   with it; the optimizer's update count t = step; every RNG state non-zero (xoshiro256** never
 *   reaches the all-zero state); the batcher's epoch and cursor where batch puts them; the
 *   running sums finite and within what batch rows could add up to. */
static int check_loop_state(const Trainer *tr, const CheckpointState *st, const LoopState *ls, const char *ckpt,
                            ExError *err) {
    const TrainSpec *ts = &tr->spec->train;
    const int64_t E = ts->epochs, S = tr->steps_per_epoch, B = ts->batch_size;
    const int64_t epoch = st->epoch, step = st->step, batch = (int64_t)ls->acc[ACC_BATCH];
    const int64_t kept = (int64_t)ls->acc[ACC_STEPS], skipped = (int64_t)ls->acc[ACC_SKIPPED];
    const int64_t nstats = (int64_t)ls->acc[ACC_NSTATS];
    const double loss = unpack_double(ls->acc[ACC_LOSS]), rows = unpack_double(ls->acc[ACC_ROWS]);
    const double gnorm = unpack_double(ls->acc[ACC_GNORM]);
    char why[512] = "";
#define BAD(...) snprintf(why, sizeof why, __VA_ARGS__)
    if (epoch < 0 || epoch > E) BAD("epoch %lld is outside [0, %lld] (train.epochs)", (long long)epoch, (long long)E);
    else if (batch < 0 || batch > S || (epoch == E && batch != 0))
        BAD("the batch position %lld is outside [0, %lld] (steps per epoch)%s", (long long)batch, (long long)S,
            epoch == E ? ", or not 0 after the last epoch" : "");
    else if (kept < 0 || skipped < 0 || kept + skipped != batch)
        BAD("this epoch's steps (%lld kept, %lld skipped) do not add up to its batch position %lld", (long long)kept,
            (long long)skipped, (long long)batch);
    else if (ts->on_nan != ON_NAN_SKIP && (skipped != 0 || step != epoch * S + kept))
        BAD("step %lld is not epoch %lld × %lld steps + %lld (train.on_nan is stop, so no step is skipped)",
            (long long)step, (long long)epoch, (long long)S, (long long)kept);
    else if (ts->on_nan == ON_NAN_SKIP && (step < kept || step > epoch * S + kept))
        BAD("step %lld is outside [%lld, %lld] for epoch %lld and batch %lld", (long long)step, (long long)kept,
            (long long)(epoch * S + kept), (long long)epoch, (long long)batch);
    else if (tr->opt.t != step)
        BAD("the optimizer's update count t = %lld, but the checkpoint is of step %lld", (long long)tr->opt.t,
            (long long)step);
    else if (!(ls->noise[0] | ls->noise[1] | ls->noise[2] | ls->noise[3]) ||
             !(ls->sample[0] | ls->sample[1] | ls->sample[2] | ls->sample[3]) ||
             (!uses_stream(tr) && !(ls->batcher_rng[0] | ls->batcher_rng[1] | ls->batcher_rng[2] | ls->batcher_rng[3])))
        BAD("a random number generator's state is all zeros, which xoshiro256** never reaches");
    else if (!isfinite(loss) || !(rows >= 0 && rows <= (double)(batch * B)) || !(gnorm >= 0 && isfinite(gnorm)))
        BAD("the running sums of the epoch are out of range (loss %g, rows %g of at most %lld, gradient norm %g)",
            loss, rows, (long long)(batch * B), gnorm);
    else if (nstats < 0 || nstats > MODEL_MAX_STATS)
        BAD("%lld running statistics, at most %d", (long long)nstats, MODEL_MAX_STATS);
    for (int i = 0; !why[0] && i < nstats; i++) {
        const char *name = ls->stat_names[i];
        size_t len = strnlen(name, sizeof ls->stat_names[i]);
        int printable = len > 0 && len < sizeof ls->stat_names[i];
        for (size_t k = 0; printable && k < len; k++) printable = name[k] > ' ' && name[k] < 127;
        if (!printable || !isfinite(unpack_double(ls->acc[ACC_STATS + i])))
            BAD("running statistic %d has a name that is not printable text or a value that is not finite", i);
    }
    if (!why[0] && !uses_stream(tr)) {
        const int64_t n = tr->rd->train.n, cursor = st->data_cursor, data_epoch = st->data_epoch;
        const int64_t want_cursor = batch * B < n ? batch * B : n;
        if (batch > 0 && (data_epoch != epoch + 1 || cursor != want_cursor))
            BAD("the data position (epoch %lld, row %lld) is not where batch %lld of epoch %lld puts it (epoch %lld, row "
                "%lld)", (long long)data_epoch, (long long)cursor, (long long)batch, (long long)epoch + 1,
                (long long)epoch + 1, (long long)want_cursor);
        else if (batch == 0 && (data_epoch != epoch || cursor < 0 || cursor > n))
            BAD("the data position (epoch %lld, row %lld) is not the end of epoch %lld", (long long)data_epoch,
                (long long)cursor, (long long)epoch);
    }
#undef BAD
    if (!why[0]) return 0;
    return ex_fail(err, "%s: the checkpoint's loop state does not fit the spec: %s. The file is damaged or was "
                        "edited; nothing was changed. Resume from an earlier checkpoint (checkpoints/KEPT lists them) "
                        "by naming it in checkpoints/LATEST, or start the run again",
                   ckpt, why);
}

/* What a checkpoint holds that not every checkpoint has: how many ranks wrote it (/state/ranks;
 * a one-process run writes none) and whether it has the diagnostic's sums and the epoch's clock
 * (older files do not). */
static int checkpoint_optional(const char *path, int64_t *ranks, int *grad_state, int *epoch_clock, ExError *err) {
    H5Reader *r = NULL;
    *ranks = 1;
    if (h5r_open_own(&r, path, err) != 0) return -1;
    int rc = 0;
    *grad_state = h5r_exists(r, "/state/grad_norms_by_time");
    *epoch_clock = h5r_exists(r, "/state/clock_epoch_seconds");
    if (h5r_exists(r, "/state/ranks")) {
        uint64_t n = 0;
        rc = h5r_read_uint64s(r, "/state/ranks", 1, (int[]){1}, &n, err);
        *ranks = (int64_t)n;
    }
    h5r_close(r);
    return rc;
}

static int load_latest(Trainer *tr, const LatestCheckpoint *lc, ExError *err) {
    const char *ckpt = lc->path;
    if (!tr->quiet) latest_warn_unverified(lc, stderr);
    /* A data-parallel run goes on with as many ranks as it had: each rank's noise stream and
     * carried state are its own (another count would need them re-dealt: not supported). */
    int64_t ranks = 1;
    if (checkpoint_optional(ckpt, &ranks, &tr->with_grad_state, &tr->with_epoch_clock, err) != 0) return -1;
    if (ranks != dist_size()) {
        char how[64] = "";
        if (ranks > 1) snprintf(how, sizeof how, "mpirun -np %lld ", (long long)ranks);
        return ex_fail(err, "%s was written by a run of %lld rank%s (MPI processes) and this resume has %d: resume it "
                            "with as many (%sexprun resume %s); nothing was changed",
                       ckpt, (long long)ranks, ranks == 1 ? "" : "s", dist_size(), how, tr->run_dir);
    }
    LoopState ls;
    CheckpointState st;
    memset(&ls, 0, sizeof ls);
    describe_extras(tr, &ls, &st);
    char *ckpt_spec = NULL;
    if (checkpoint_load(ckpt, &tr->model->params, &tr->opt, &st, &ckpt_spec, err) != 0) return -1;
    if (!ckpt_spec || strcmp(ckpt_spec, tr->resolved) != 0) {
        free(ckpt_spec);
        return ex_fail(err, "the spec of %s changed since checkpoint %s was written (resolved.yaml differs "
                            "from the spec stored in the checkpoint); refusing to resume. To train from these "
                            "weights with another spec use: exprun SPEC --init-from %s", tr->run_dir, ckpt, ckpt);
    }
    free(ckpt_spec);
    if (check_loop_state(tr, &st, &ls, ckpt, err) != 0) return -1;
    /* A kill after LATEST was published but before the old checkpoints were removed leaves
     * one too many: tidy up before going on (the last epochs may write no new checkpoint). */
    char dir[4300];
    snprintf(dir, sizeof dir, "%s/checkpoints", tr->run_dir);
    if (dist_is_root() && prune_checkpoints(dir, strrchr(ckpt, '/') + 1, tr->spec->train.keep_checkpoints, err) != 0)
        return -1;
    tr->step = st.step;
    tr->epoch = (int)st.epoch;
    memcpy(tr->noise_rng.s, ls.noise, sizeof ls.noise);
    memcpy(tr->sample_rng.s, ls.sample, sizeof ls.sample);
    if (tr->ranks > 1) {
        /* this rank's own noise stream and carried state */
        memcpy(tr->noise_rng.s, tr->rank_noise + 4 * dist_rank(), sizeof tr->noise_rng.s);
        size_t carried = 0;
        float *state = model_carried_state(tr->model, &carried);
        if (state && carried) memcpy(state, tr->rank_carry + carried * dist_rank(), carried * sizeof(float));
    }
    if (tr->grad_state_n && tr->with_grad_state)
        model_time_grad_state(tr->model, tr->ranks > 1 ? tr->rank_grad_state + tr->grad_state_n * dist_rank()
                                                       : tr->grad_state, 1);
    tr->acc_loss = unpack_double(ls.acc[ACC_LOSS]);
    tr->acc_rows = unpack_double(ls.acc[ACC_ROWS]);
    tr->acc_grad_norm = unpack_double(ls.acc[ACC_GNORM]);
    tr->acc_steps = (int64_t)ls.acc[ACC_STEPS];
    tr->skipped_steps = (int64_t)ls.acc[ACC_SKIPPED];
    tr->batch_in_epoch = (int64_t)ls.acc[ACC_BATCH];
    /* A resume in the middle of an epoch goes on with the epoch's clock (the rates of a file
     * without it are unknown: NaN, not the time since boot they were before). */
    tr->epoch_started = now_seconds() - (tr->with_epoch_clock ? ls.clock_epoch_seconds : NAN);
    if (!uses_stream(tr)) {
        Rng brng;
        memcpy(brng.s, ls.batcher_rng, sizeof brng.s);
        if (batcher_set_state(&tr->batcher, st.data_epoch, (int)st.data_cursor, &brng, err) != 0) return -1;
    }
    /* The epoch's running stats, with their names (the names' storage lives in the trainer). */
    int nstats = (int)ls.acc[ACC_NSTATS];
    tr->acc_stats.count = 0;
    for (int i = 0; i < nstats && i < MODEL_MAX_STATS; i++) {
        memcpy(tr->stat_names[i], ls.stat_names[i], sizeof tr->stat_names[i]);
        tr->stat_names[i][sizeof tr->stat_names[i] - 1] = '\0';
        tr->acc_stats.names[i] = tr->stat_names[i];
        tr->acc_stats.values[i] = unpack_double(ls.acc[ACC_STATS + i]);
        tr->acc_stats.count++;
    }
    if (!tr->quiet) printf("resuming %s from %s (epoch %d, step %lld)\n", tr->run_dir, ckpt, tr->epoch, (long long)tr->step);
    return 0;
}

static int dir_is_empty(const char *path) {
    DIR *d = opendir(path);
    if (!d) return 0;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d))) empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
    closedir(d);
    return empty;
}

/* A resume with no checkpoint yet: train from step 0, as `exprun SPEC` would have. */
static int start_over(Trainer *tr, ExError *err) {
    char path[4200];
    snprintf(path, sizeof path, "%s/init_from.txt", tr->run_dir);
    char *init_from = read_file(path, NULL, NULL);
    if (init_from) {
        init_from[strcspn(init_from, "\n")] = '\0';
        int rc = checkpoint_load_params_only(init_from, &tr->model->params, 1, NULL, err);
        free(init_from);
        if (rc != 0) return ex_prefix(err, "%s has no checkpoint yet and cannot start again: ", tr->run_dir);
    }
    if (!tr->quiet) printf("%s has no checkpoint yet: starting it again from the beginning\n", tr->run_dir);
    return 0;
}

int command_resume(const char *run_dir, int quiet, int progress) {
    ExError err;
    char path[4200];
    snprintf(path, sizeof path, "%s/resolved.yaml", run_dir);
    char *resolved = read_file(path, NULL, &err);
    if (!resolved) {
        snprintf(path, sizeof path, "%s/.lock", run_dir);
        if (access(path, F_OK) == 0 || dir_is_empty(run_dir))   /* resolved.yaml is written last */
            fprintf(stderr, "exprun: %s has no resolved.yaml: the run was stopped while its directory was "
                            "being made, before training began; nothing to resume. Remove %s and start the "
                            "run again\n", run_dir, run_dir);
        else
            fprintf(stderr, "exprun: %s is not a run directory: %s\n", run_dir, err.msg);
        return EXIT_USAGE;
    }
    CfgDiags diags = {0};
    CfgNode *tree = cfg_parse_string(resolved, strlen(resolved), path, &diags);
    Spec spec;
    memset(&spec, 0, sizeof spec);
    if (!tree || spec_from_tree(tree, path, &spec, &diags) != 0) {
        cfg_diags_print(&diags, stderr);
        fprintf(stderr, "exprun: %s no longer validates; refusing to resume\n", path);
        cfg_diags_free(&diags);
        if (!tree) free(resolved);
        else spec_free(&spec);
        if (tree) free(resolved);
        return EXIT_USAGE;
    }
    cfg_diags_free(&diags);
    int lock_fd = dist_is_root() ? rundir_lock(run_dir, &err) : INT_MAX;   /* rank 0 holds the run */
    if (lock_fd < 0) {
        fprintf(stderr, "exprun: %s\n", err.msg);
        free(resolved);
        spec_free(&spec);
        return EXIT_LOCKED;
    }
    RunData rd;
    Trainer tr = {0};
    tr.quiet = quiet || !dist_is_root();
    tr.progress = progress;
    int status = EXIT_RUNTIME;
    if (rundata_load(&spec, &rd, &err) != 0) {
        fprintf(stderr, "exprun: %s\n", err.msg);
        free(resolved);
        spec_free(&spec);
        if (lock_fd != INT_MAX) close(lock_fd);
        return EXIT_RUNTIME;
    }
    tr.resolved = resolved;
    snprintf(path, sizeof path, "%s/spec.yaml", run_dir);
    tr.spec_given = read_file(path, NULL, NULL);
    snprintf(path, sizeof path, "%s/overrides.txt", run_dir);
    tr.overrides_text = read_file(path, NULL, NULL);
    int init = trainer_init(&tr, &spec, &rd, run_dir, &err);
    if (init != 0) {
        fprintf(stderr, "exprun: %s\n", err.msg);
        if (init == BUILD_TOO_BIG) status = EXIT_USAGE;
        goto done;
    }
    LatestCheckpoint lc;
    int found = latest_find(run_dir, &lc, &err);
    if (found == 1) {
        /* Stopped before its first checkpoint: nothing was kept that a fresh start would not
         * compute again bit for bit, so the run starts over from step 0 (from the weights of
         * --init-from, if it was started with them). */
        if (start_over(&tr, &err) != 0) {
            fprintf(stderr, "exprun: %s\n", err.msg);
            goto done;
        }
    } else if (found < 0 || load_latest(&tr, &lc, &err) != 0 || restore_history(&tr, &err) != 0) {
        fprintf(stderr, "exprun: %s\n", err.msg);
        /* A run killed outright still says `running`; holding its lock, we know it is not. */
        snprintf(path, sizeof path, "%s/status", run_dir);
        char *was = read_file(path, NULL, NULL);
        if (was && strcmp(was, "running\n") == 0 && dist_is_root()) rundir_set_status(run_dir, "failed", NULL);
        free(was);
        goto done;
    }
    if (tr.epoch >= spec.train.epochs && tr.batch_in_epoch == 0) {
        /* All epochs done. The kill may have come after the last checkpoint but before the test
         * metrics and the final results were written: finish() writes them again, identically. */
        if (!quiet) printf("%s has already finished all %d epochs\n", run_dir, spec.train.epochs);
        snprintf(tr.status, sizeof tr.status, "finished");
        status = finish(&tr, EXIT_OK);
        goto done;
    }
    if (dist_is_root()) rundir_set_status(run_dir, "running", NULL);
    signals_install();
    status = finish(&tr, run_loop(&tr));
done:
    trainer_free(&tr);
    rundata_free(&rd);
    spec_free(&spec);
    if (lock_fd != INT_MAX) close(lock_fd);
    return status;
}
