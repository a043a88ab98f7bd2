/* runstate.c — a run's state on disk: what a checkpoint holds besides the parameters and the
 * optimizer (RNG streams, data position, the epoch's running sums and diagnostics, carried
 * hidden states, every rank's own part), pruning to train.keep_checkpoints, and a resume: the
 * checkpoint LATEST names loaded and its loop state checked against the spec before anything
 * runs, the history restored (trainer.h). */
#include "trainer.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"
#include "clock.h"
#include "dist.h"
#include "h5read.h"
#include "rundir.h"
#include "version.h"

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
    double log_sums[4];                     /* Σ loss, rows, grad norm, steps since the last metrics/steps row */
    double monitor[MONITOR_STATE_WORDS];    /* the monitor's state (monitor_pack) */
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
    if (tr->with_monitor_state) EXTRA("monitor", CKPT_F64, MONITOR_STATE_WORDS, ls->monitor);
    if (tr->with_log_sums) EXTRA("log_sums", CKPT_F64, 4, ls->log_sums);
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
    BatchPosition pos;
    batches_get_position(&tr->train_batches, &pos);
    memcpy(ls->batcher_rng, pos.rng.s, sizeof ls->batcher_rng);
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
    tr->with_monitor_state = 1;
    monitor_pack(&tr->monitor, ls->monitor);
    tr->with_log_sums = 1;
    ls->log_sums[0] = tr->log_loss;
    ls->log_sums[1] = tr->log_rows;
    ls->log_sums[2] = tr->log_grad_norm;
    ls->log_sums[3] = tr->log_steps;
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
    st->data_epoch = pos.data_epoch;
    st->data_cursor = pos.cursor;
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
    char best[128] = "";
    if (latest_name_in(dir, "BEST", best, sizeof best) != 0) best[0] = '\0';
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
            if (strcmp(files[i].name, best) == 0) continue;   /* the best stays, not listed in KEPT */
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

static int write_checkpoint(Trainer *tr, int best, ExError *err) {
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
    /* BEST before pruning, so the previous best goes (if not among the newest) and this one stays */
    if (best && latest_publish_as(dir, "BEST", name, err) != 0) return -1;
    return prune_checkpoints(dir, name, tr->spec->train.keep_checkpoints, err);
}

int save_checkpoint(Trainer *tr, ExError *err) { return write_checkpoint(tr, 0, err); }

int save_best_checkpoint(Trainer *tr, ExError *err) { return write_checkpoint(tr, 1, err); }

/* Restore history rows written before the checkpoint (results.h5 may hold later ones). */
int restore_history(Trainer *tr, ExError *err) {
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
    if (rc == 0 && h5r_exists(r, "/metrics/steps")) {
        /* the per-step rows up to the checkpoint's step */
        rc = h5r_read_table(r, "/metrics/steps", &ncols, &names, &nrows, &rows, err);
        int c_step = -1;
        for (int c = 0; rc == 0 && c < ncols; c++)
            if (strcmp(names[c], "step") == 0) c_step = c;
        for (int64_t i = 0; rc == 0 && c_step >= 0 && i < nrows && rows[i * ncols + c_step] <= (double)tr->step; i++) {
            for (int c = 0; c < ncols; c++) history_set(&tr->steps, names[c], rows[i * ncols + c]);
            history_commit(&tr->steps);
        }
        if (rc == 0) h5r_free_strings(names, (size_t)ncols);
        free(rows);
        rows = NULL;
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
    /* a checkpoint from before the monitor: its state from the rows, by the same rule */
    if (rc == 0 && !tr->with_monitor_state && tr->monitor.active) monitor_replay(&tr->monitor, &tr->history);
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
             !(ls->sample[0] | ls->sample[1] | ls->sample[2] | ls->sample[3]))
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
    if (!why[0]) {
        BatchPosition pos = {.data_epoch = st->data_epoch, .cursor = st->data_cursor};
        memcpy(pos.rng.s, ls->batcher_rng, sizeof pos.rng.s);
        batches_check_position(&tr->train_batches, &pos, epoch, batch, why, sizeof why);
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
static int checkpoint_optional(const char *path, int64_t *ranks, int *grad_state, int *epoch_clock, int *monitor,
                               int *log_sums, ExError *err) {
    H5Reader *r = NULL;
    *ranks = 1;
    if (h5r_open_own(&r, path, err) != 0) return -1;
    int rc = 0;
    *grad_state = h5r_exists(r, "/state/grad_norms_by_time");
    *epoch_clock = h5r_exists(r, "/state/clock_epoch_seconds");
    *monitor = h5r_exists(r, "/state/monitor");
    *log_sums = h5r_exists(r, "/state/log_sums");
    if (h5r_exists(r, "/state/ranks")) {
        uint64_t n = 0;
        rc = h5r_read_uint64s(r, "/state/ranks", 1, (int[]){1}, &n, err);
        *ranks = (int64_t)n;
    }
    h5r_close(r);
    return rc;
}

/* Whether a checkpoint's spec is the run's: 0 when it is, or differs only in train.epochs (exprun
 * resume --epochs N, or a kill after resolved.yaml was rewritten for it); −1 when it differs
 * otherwise; −2 (with err) when only train.epochs differs but the schedule depends on it. */
static int spec_matches(const Trainer *tr, const char *ckpt_spec, const char *ckpt, ExError *err) {
    if (strcmp(ckpt_spec, tr->resolved) == 0) return 0;
    CfgDiags diags = {0};
    CfgNode *tree = cfg_parse_string(ckpt_spec, strlen(ckpt_spec), ckpt, &diags);
    long was = 0;
    int same = 0;
    if (tree) {
        was = cfg_int(tree, "train.epochs", 0);
        char assignment[64];
        snprintf(assignment, sizeof assignment, "train.epochs=%d", tr->spec->train.epochs);
        if (cfg_apply_override(tree, assignment, &diags) == 0) {
            char *text = cfg_emit_yaml_string(tree);
            same = text && strcmp(text, tr->resolved) == 0;
            free(text);
        }
        cfg_free(tree);
    }
    cfg_diags_free(&diags);
    if (!same) return -1;
    if (tr->spec->schedule.type == SCHED_COSINE) {
        ex_fail(err, "%s: schedule.type cosine anneals the rate over all of train.epochs (%ld when this checkpoint "
                     "was written, %d now), so the run would not be the one that asked for %d epochs from the start; "
                     "nothing was changed. To train on from these weights: exprun SPEC train.epochs=N --init-from %s",
                tr->run_dir, was, tr->spec->train.epochs, tr->spec->train.epochs, ckpt);
        return -2;
    }
    return 0;
}

int load_latest(Trainer *tr, const LatestCheckpoint *lc, ExError *err) {
    const char *ckpt = lc->path;
    if (!tr->quiet) latest_warn_unverified(lc, stderr);
    /* A data-parallel run goes on with as many ranks as it had: each rank's noise stream and
     * carried state are its own (another count would need them re-dealt: not supported). */
    int64_t ranks = 1;
    if (checkpoint_optional(ckpt, &ranks, &tr->with_grad_state, &tr->with_epoch_clock, &tr->with_monitor_state,
                            &tr->with_log_sums, err) != 0)
        return -1;
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
    int matches = ckpt_spec ? spec_matches(tr, ckpt_spec, ckpt, err) : -1;
    free(ckpt_spec);
    if (matches == -2) return -1;
    if (matches != 0)
        return ex_fail(err, "the spec of %s changed since checkpoint %s was written (resolved.yaml differs "
                            "from the spec stored in the checkpoint); refusing to resume. To train from these "
                            "weights with another spec use: exprun SPEC --init-from %s", tr->run_dir, ckpt, ckpt);
    if (check_loop_state(tr, &st, &ls, ckpt, err) != 0) return -1;
    if (tr->with_monitor_state) {
        char why[256];
        if (monitor_unpack(&tr->monitor, ls.monitor, why, sizeof why) != 0)
            return ex_fail(err, "%s: the checkpoint's loop state does not fit the spec: %s. The file is damaged or was "
                                "edited; nothing was changed", ckpt, why);
    }
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
    if (tr->with_log_sums) {
        /* the steps since the last metrics/steps row: sums of what those steps added */
        const double *v = ls.log_sums;
        if (!(isfinite(v[0]) && v[1] >= 0 && v[2] >= 0 && isfinite(v[2]) && v[3] >= 0 && v[3] == floor(v[3]) &&
              v[3] <= (double)tr->step))
            return ex_fail(err, "%s: the checkpoint's loop state does not fit the spec: the sums of the steps since the "
                                "last metrics/steps row are out of range. The file is damaged or was edited; nothing "
                                "was changed", ckpt);
        tr->log_loss = v[0];
        tr->log_rows = v[1];
        tr->log_grad_norm = v[2];
        tr->log_steps = v[3];
    }
    tr->acc_loss = unpack_double(ls.acc[ACC_LOSS]);
    tr->acc_rows = unpack_double(ls.acc[ACC_ROWS]);
    tr->acc_grad_norm = unpack_double(ls.acc[ACC_GNORM]);
    tr->acc_steps = (int64_t)ls.acc[ACC_STEPS];
    tr->skipped_steps = (int64_t)ls.acc[ACC_SKIPPED];
    tr->batch_in_epoch = (int64_t)ls.acc[ACC_BATCH];
    /* A resume in the middle of an epoch goes on with the epoch's clock (the rates of a file
     * without it are unknown: NaN, not the time since boot they were before). */
    tr->epoch_started = now_seconds() - (tr->with_epoch_clock ? ls.clock_epoch_seconds : NAN);
    BatchPosition pos = {.data_epoch = st.data_epoch, .cursor = st.data_cursor};
    memcpy(pos.rng.s, ls.batcher_rng, sizeof pos.rng.s);
    if (batches_set_position(&tr->train_batches, &pos, tr->batch_in_epoch, err) != 0) return -1;
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
    /* A kill between publishing LATEST and BEST leaves BEST at the previous best: this
     * checkpoint is the best one if the monitor's state says so. */
    char best[128] = "";
    if (dist_is_root() && tr->with_monitor_state && tr->monitor.best_step == tr->step &&
        tr->monitor.best_epoch == tr->epoch && tr->batch_in_epoch == 0 &&
        (latest_name_in(dir, "BEST", best, sizeof best) != 0 || strcmp(best, lc->name) != 0) &&
        latest_publish_as(dir, "BEST", lc->name, err) != 0)
        return -1;
    if (!tr->quiet) printf("resuming %s from %s (epoch %d, step %lld)\n", tr->run_dir, ckpt, tr->epoch, (long long)tr->step);
    return 0;
}

/* A resume with no checkpoint yet: train from step 0, as `exprun SPEC` would have. */
int start_over(Trainer *tr, ExError *err) {
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
