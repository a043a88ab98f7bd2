/* trainer.h — the state of one training run, shared by the loop (train.c) and its run state
 * on disk (runstate.c: checkpoints, resume, the history a resume restores). Not a library
 * interface: the two files are one program cut in two. */
#ifndef EXPRUN_TRAINER_H
#define EXPRUN_TRAINER_H

#include <stdint.h>

#include "batches.h"
#include "data/dataset.h"
#include "evaluate.h"
#include "forecast.h"
#include "history.h"
#include "latest.h"
#include "model.h"
#include "monitor.h"
#include "optim.h"
#include "rundata.h"
#include "spec/spec.h"

/* How much of a metrics table a CSV file beside it holds (0 rows: write it whole). */
typedef struct CsvTail {
    const char *name;                 /* "metrics.csv" */
    int64_t rows;
    int cols;
} CsvTail;

typedef struct Trainer {
    const Spec *spec;
    RunData *rd;
    Model *model;
    Optimizer opt;
    const char *run_dir;
    int quiet, progress;

    /* data position */
    BatchSource train_batches;        /* the training data's walk (batches.h) */
    BatchSource val_batches;          /* the validation split, in order (no batches when absent) */
    int64_t steps_per_epoch;
    int64_t total_steps;
    int64_t step;                     /* optimizer steps taken */
    int epoch;                        /* epochs completed */
    int64_t batch_in_epoch;           /* steps taken in the current epoch */

    int64_t stop_after_steps;         /* test hook, from $EXPRUN_STOP_AFTER_STEPS */
    Rng noise_rng;                    /* input corruption and dropout (each rank its own) */
    Rng sample_rng;                   /* text samples during training */

    /* running sums of the current epoch */
    double acc_loss, acc_rows, acc_grad_norm;
    int64_t acc_steps, skipped_steps;
    StepStats acc_stats;
    char stat_names[MODEL_MAX_STATS][32]; /* names of acc_stats restored from a checkpoint */
    double epoch_started;             /* monotonic seconds (moved on by mid-epoch evaluations) */
    double eval_seconds;              /* this epoch's mid-epoch evaluations (train.eval_every) */
    double run_started;

    History history;                  /* a row per epoch: metrics/epochs, metrics.csv */
    CsvTail metrics_csv;
    /* A row every train.log_every steps: metrics/steps, steps.csv. The sums of the steps since
     * the last row are saved in checkpoints (log_sums), so a resumed run writes the same rows. */
    History steps;
    CsvTail steps_csv;
    double log_loss, log_rows, log_grad_norm, log_steps; /* Σ since the last row */
    int with_log_sums;                /* the checkpoint loaded holds them (older ones do not) */
    double log_started;               /* monotonic seconds at the last row (or this session's start) */
    double last_printed;              /* when a progress line last went to a non-terminal */
    double progress_seconds;          /* ... and how often it may (30 s; $EXPRUN_PROGRESS_SECONDS) */
    int64_t session_first_step;       /* the step this session (start or resume) began at */
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
    Monitor monitor;                  /* the watched metric: checkpoints/BEST, early stopping */
    int with_monitor_state;           /* the checkpoint loaded holds its state (older ones do not) */
} Trainer;

typedef struct EvalResult {
    double loss;
    StepStats stats;          /* averaged per row */
    double rows;
} EvalResult;

/* ---- train.c: the loop ---- */
/* Epochs until done or stopped; returns an exit status. */
int run_loop(Trainer *tr);
/* The mean loss and stats of the model over every batch of a source (no noise, no dropout). */
EvalResult evaluate_batches(Trainer *tr, BatchSource *src);

/* ---- runresults.c ---- */
/* results.h5 written whole and published by rename (rank 0). */
int publish_results(Trainer *tr, ExError *err);
/* metrics.csv and steps.csv: the rows since the last call appended (rewritten whole after a
 * resume, or when columns were added since, e.g. the test metrics). */
int append_csv(Trainer *tr, ExError *err);
/* Local time as 2026-12-05T02:41:09+0000. */
void iso_time(char *buf, size_t cap);

/* ---- runstate.c ---- */
/* A checkpoint of everything the next step depends on, into RUN/checkpoints (rank 0 writes;
 * every rank's own part is gathered), LATEST and KEPT updated, old ones pruned. */
int save_checkpoint(Trainer *tr, ExError *err);
/* The same, and checkpoints/BEST names it: the monitor's best so far (monitor.h). */
int save_best_checkpoint(Trainer *tr, ExError *err);
/* Load the checkpoint LATEST names and the loop state in it, checked against the spec. */
int load_latest(Trainer *tr, const LatestCheckpoint *lc, ExError *err);
/* The metrics rows written before the checkpoint (results.h5 may hold later ones), per epoch
 * and per step. */
int restore_history(Trainer *tr, ExError *err);
/* A resume with no checkpoint yet: train from step 0, as `exprun SPEC` would have. */
int start_over(Trainer *tr, ExError *err);

#endif
