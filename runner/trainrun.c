/* trainrun.c — starting and ending a run: `exprun SPEC` (data, model, run directory made and
 * locked, the spec recorded) and `exprun resume RUN` (the checkpoint LATEST names, runstate.c),
 * the loop (train.c), then the evaluations on the test split and the final results. */
#include "commands.h"
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
#include <unistd.h>

#include "build.h"
#include "checkpoint.h"
#include "clock.h"
#include "dist.h"
#include "evaluate.h"
#include "forecast.h"
#include "h5read.h"
#include "history.h"
#include "latest.h"
#include "parallel.h"
#include "rundata.h"
#include "rundir.h"
#include "signals.h"
#include "spec/sweep.h"

/* trainer_init's answer for a spec that cannot run (exit 2), beside 0 and −1 (a runtime error). */
enum { INIT_SPEC_ERROR = BUILD_REFUSED };

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
    if (built != 0) return built == BUILD_REFUSED ? INIT_SPEC_ERROR : built;
    if (warn[0] && !tr->quiet) fputs(warn, stderr);
    if (evaluate_check(spec, rd, tr->model, err) != 0) return -1;
    optim_init(&tr->opt, &spec->optim, tr->model->params.total);
    const TrainSpec *ts = &spec->train;
    /* truncated BPTT over a text: the tracks of its token stream; else the rows of the data */
    const Dataset *train = rd->is_stream ? NULL : &rd->train, *val = rd->is_stream ? NULL : &rd->val;
    if (batches_for_training(&tr->train_batches, train, &rd->train_stream, ts->batch_size, spec->data.seq_len,
                             ts->shuffle, ts->drop_last, rng_stream(spec->seed, "shuffle"),
                             rd->is_stream ? spec->data.path : rd->train.source, err) != 0)
        return -1;
    batches_for_evaluation(&tr->val_batches, val, &rd->val_stream, ts->batch_size, spec->data.seq_len);
    tr->steps_per_epoch = batches_per_epoch(&tr->train_batches);
    monitor_init(&tr->monitor, &ts->early_stopping);
    if (monitor_check(&tr->monitor, tr->model, batches_per_epoch(&tr->val_batches) > 0, ts->restore_best, err) != 0)
        return INIT_SPEC_ERROR;
    if (ts->max_steps_per_epoch > 0 && ts->max_steps_per_epoch < tr->steps_per_epoch)
        tr->steps_per_epoch = ts->max_steps_per_epoch;
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
    const char *stop = getenv("EXPRUN_STOP_AFTER_STEPS");
    tr->stop_after_steps = stop ? atoll(stop) : 0;
    snprintf(tr->status, sizeof tr->status, "running");
    iso_time(tr->started_at, sizeof tr->started_at);
    tr->run_started = now_seconds();
    return 0;
}

static void trainer_free(Trainer *tr) {
    batches_free(&tr->train_batches);
    batches_free(&tr->val_batches);
    optim_free(&tr->opt);
    model_free(tr->model);
    history_free(&tr->history);
    history_free(&tr->steps);
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
    BatchSource test;
    batches_for_evaluation(&test, &tr->rd->test, NULL, tr->spec->train.batch_size, 0);
    EvalResult r = evaluate_batches(tr, &test);
    batches_free(&test);
    if (!tr->quiet) printf("test   loss %.5f", r.loss);
    for (int i = 0; i < r.stats.count; i++)
        if (!tr->quiet) printf("  %s %.5f", r.stats.names[i], r.stats.values[i]);
    if (!tr->quiet) printf("  (%d examples)\n", tr->rd->test.n);
    /* Kept as a final-row summary in the epochs table: test_* columns on the last row. */
    if (tr->history.nrows == 0) return;
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
    history_commit_onto_last(&tr->history);
}

/* train.restore_best: the weights of checkpoints/BEST into the model, for what follows training.
 * 0, or −1 with why (the run then fails: it was asked to evaluate the best weights). */
static int restore_best(Trainer *tr, ExError *err) {
    if (!tr->spec->train.restore_best) return 0;
    LatestCheckpoint best;
    int found = latest_find_as(tr->run_dir, "BEST", &best, err);
    if (found == 1)
        return ex_fail(err, "train.restore_best: the run has no checkpoints/BEST (its monitor %s was never %s)",
                       tr->monitor.column, tr->monitor.active ? "finite" : "recorded: there is no validation split");
    if (found != 0 || checkpoint_load_params_only(best.path, &tr->model->params, 1, NULL, err) != 0) return -1;
    if (!tr->quiet)
        printf("restored the best weights: %s (epoch %lld, %s %.6g)\n", best.name, (long long)tr->monitor.best_epoch,
               tr->monitor.column, tr->monitor.best);
    return 0;
}

static int finish(Trainer *tr, int status) {
    ExError err;
    if (status == EXIT_OK && restore_best(tr, &err) != 0) {
        fprintf(stderr, "exprun: %s\n", err.msg);
        status = EXIT_RUNTIME;
    }
    if (status == EXIT_OK) {
        evaluate_test(tr);
        if (evaluate_model(&tr->evaluation, tr->spec, tr->rd, tr->model, tr->quiet ? NULL : stdout, &err) != 0) {
            fprintf(stderr, "exprun: evaluation after training failed: %s\n", err.msg);
            snprintf(tr->status, sizeof tr->status, "failed");   /* the run did not do all it was asked */
            status = EXIT_RUNTIME;
        }
        if (append_csv(tr, &err) != 0) {
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

/* The one way out of `exprun SPEC` and `exprun resume`, whatever was made before it: each part
 * is freed whether or not it was filled (all start zeroed), and the run's lock is let go last. */
static int close_run(Trainer *tr, RunData *rd, Spec *spec, int lock_fd, int status) {
    trainer_free(tr);
    rundata_free(rd);
    spec_free(spec);
    if (lock_fd >= 0) close(lock_fd);
    return status;
}

int command_train(const TrainOptions *opt) {
    Spec spec;
    RunData rd = {0};
    Trainer tr = {0};
    int lock_fd = -1;
    CfgDiags diags = {0};
    if (spec_load(opt->spec_path, opt->overrides, opt->n_overrides, &spec, &diags) != 0) {
        cfg_diags_print(&diags, stderr);
        fprintf(stderr, "exprun: %d problem%s in %s; nothing was run\n", diags.count, diags.count == 1 ? "" : "s",
                opt->spec_path);
        cfg_diags_free(&diags);
        return close_run(&tr, &rd, &spec, lock_fd, EXIT_USAGE);
    }
    cfg_diags_free(&diags);
    if (check_data_files_or_report(&spec, opt->spec_path) != 0) return close_run(&tr, &rd, &spec, lock_fd, EXIT_USAGE);
    /* A run is never a sweep: the sweep: block only lists trials (spec/sweep.h), so it is left out
     * of the run's resolved spec. `exprun sweep` runs the trials (EXPRUN_SWEEP_TRIAL is set). */
    if (sweep_strip(spec.tree) && !opt->quiet && !getenv("EXPRUN_SWEEP_TRIAL"))
        fprintf(stderr, "exprun: note: %s has a sweep: block; this run trains the spec without it "
                        "(to run the sweep: exprun sweep %s)\n", opt->spec_path, opt->spec_path);
    ExError err;
    tr.quiet = opt->quiet || !dist_is_root();   /* data-parallel: rank 0 speaks for the run */
    tr.progress = opt->progress;
    int status = EXIT_RUNTIME;
    char run_dir[4096] = "";
    /* Data first: a missing file should fail before any run directory exists. */
    if (rundata_load(&spec, &rd, &err) != 0) goto fail;
    /* Then the model and its --init-from weights (a checkpoint of other shapes is refused
     * here), still before the run directory: tr.run_dir points at run_dir, filled below. */
    int init = trainer_init(&tr, &spec, &rd, run_dir, &err);
    if (init == INIT_SPEC_ERROR) {
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
    /* results/NAME/latest: the newest run of the name, which commands take for results/NAME */
    if (!opt->out_dir && rundir_point_latest(run_dir, &err) != 0) fprintf(stderr, "exprun: warning: %s\n", err.msg);
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
    return close_run(&tr, &rd, &spec, lock_fd, status);
}

int command_resume(const char *run_dir, int epochs, int quiet, int progress) {
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
    int old_epochs = tree ? (int)cfg_int(tree, "train.epochs", 0) : 0;
    if (tree && epochs > 0 && epochs != old_epochs) {
        /* --epochs N: the same run, asked for N epochs (resolved.yaml is rewritten once the
         * checkpoint has been checked against it) */
        char assignment[64];
        snprintf(assignment, sizeof assignment, "train.epochs=%d", epochs);
        cfg_apply_override(tree, assignment, &diags);
        free(resolved);
        resolved = cfg_emit_yaml_string(tree);
    }
    Spec spec = {0};   /* owns the tree from here on */
    RunData rd = {0};
    Trainer tr = {0};
    tr.resolved = resolved;   /* ... and the trainer the text */
    tr.quiet = quiet || !dist_is_root();
    tr.progress = progress;
    int lock_fd = -1;
    if (!tree || spec_from_tree(tree, path, &spec, &diags) != 0) {
        cfg_diags_print(&diags, stderr);
        fprintf(stderr, "exprun: %s no longer validates; refusing to resume\n", path);
        cfg_diags_free(&diags);
        return close_run(&tr, &rd, &spec, lock_fd, EXIT_USAGE);
    }
    cfg_diags_free(&diags);
    if (spec.train.epochs != old_epochs) {
        /* what --epochs cannot do, said before anything is touched */
        const char *why = spec.train.epochs < old_epochs ? "it extends a run, and this one already asks for more"
                          : spec.schedule.type == SCHED_COSINE
                              ? "schedule.type cosine anneals the rate over all of train.epochs, so the run would not "
                                "be the one that had asked for them from the start"
                              : NULL;
        if (why) {
            fprintf(stderr, "exprun: %s: --epochs %d: %s (train.epochs is %d); nothing was changed. To train on from "
                            "its weights: exprun SPEC train.epochs=N --init-from %s/checkpoints/<checkpoint>\n",
                    run_dir, spec.train.epochs, why, old_epochs, run_dir);
            return close_run(&tr, &rd, &spec, lock_fd, EXIT_USAGE);
        }
    }
    if (dist_is_root()) {   /* rank 0 holds the run */
        lock_fd = rundir_lock(run_dir, &err);
        if (lock_fd < 0) {
            fprintf(stderr, "exprun: %s\n", err.msg);
            return close_run(&tr, &rd, &spec, lock_fd, EXIT_LOCKED);
        }
    }
    int status = EXIT_RUNTIME;
    if (rundata_load(&spec, &rd, &err) != 0) {
        fprintf(stderr, "exprun: %s\n", err.msg);
        goto done;
    }
    snprintf(path, sizeof path, "%s/spec.yaml", run_dir);
    tr.spec_given = read_file(path, NULL, NULL);
    snprintf(path, sizeof path, "%s/overrides.txt", run_dir);
    tr.overrides_text = read_file(path, NULL, NULL);
    int init = trainer_init(&tr, &spec, &rd, run_dir, &err);
    if (init != 0) {
        fprintf(stderr, "exprun: %s\n", err.msg);
        if (init == INIT_SPEC_ERROR) status = EXIT_USAGE;
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
    if (spec.train.epochs != old_epochs) {
        if (tr.monitor.stopped) {
            fprintf(stderr, "exprun: %s: early stopping ended this run after epoch %d; it is not extended past that "
                            "stop (to train on from its weights: exprun SPEC --init-from %s)\n",
                    run_dir, tr.epoch, lc.path);
            status = EXIT_USAGE;
            goto done;
        }
        if (dist_is_root() && write_file_atomic(run_dir, "resolved.yaml", tr.resolved, &err) != 0) {
            fprintf(stderr, "exprun: %s\n", err.msg);
            goto done;
        }
        if (!quiet) printf("%s: train.epochs %d -> %d\n", run_dir, old_epochs, spec.train.epochs);
    }
    if ((tr.epoch >= spec.train.epochs || tr.monitor.stopped) && tr.batch_in_epoch == 0) {
        /* All epochs done, or early stopping ended the run. The kill may have come after the last
         * checkpoint but before the test metrics and the final results were written: finish()
         * writes them again, identically. */
        if (!quiet && tr.monitor.stopped)
            printf("%s has already finished: early stopping ended it after epoch %d\n", run_dir, tr.epoch);
        else if (!quiet) printf("%s has already finished all %d epochs\n", run_dir, spec.train.epochs);
        snprintf(tr.status, sizeof tr.status, "finished");
        status = finish(&tr, EXIT_OK);
        goto done;
    }
    if (dist_is_root()) rundir_set_status(run_dir, "running", NULL);
    signals_install();
    status = finish(&tr, run_loop(&tr));
done:
    return close_run(&tr, &rd, &spec, lock_fd, status);
}
