/* train.h — the training loop and the commands around it (train, resume). */
#ifndef EXPRUN_TRAIN_H
#define EXPRUN_TRAIN_H

/* Exit statuses (documented in the README and `exprun --help`). */
enum {
    EXIT_OK = 0,
    EXIT_USAGE = 2,      /* bad command line or spec */
    EXIT_RUNTIME = 3,    /* data, I/O or other failure while running */
    EXIT_DIVERGED = 4,   /* NaN/Inf in the loss or gradients (train.on_nan: stop) */
    EXIT_LOCKED = 5      /* the run directory is used by another process */
    /* 128 + signal (130 SIGINT, 143 SIGTERM, 138 SIGUSR1): interrupted after a checkpoint */
};

typedef struct TrainOptions {
    const char *spec_path;
    char *const *overrides;
    int n_overrides;
    const char *out_dir;       /* --out DIR, or NULL for ROOT/NAME/TIMESTAMP */
    const char *init_from;     /* --init-from CHECKPOINT: start from another run's weights */
    int quiet;
    int progress;              /* a refreshing progress line (on a terminal) */
} TrainOptions;

int command_train(const TrainOptions *opt);
/* epochs > 0: extend the run to that many epochs, the run that had asked for them from the start;
 * refused with a cosine schedule (it spans all epochs) and after an early stop. */
int command_resume(const char *run_dir, int epochs, int quiet, int progress);

#endif
