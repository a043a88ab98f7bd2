/* metricdoc.c — the metrics columns described (metricdoc.h). */
#include "metricdoc.h"

#include <stdio.h>
#include <string.h>

/* What a statistic a model reports (StepStats) is; NULL for one this table lacks. */
static const char *statistic(const char *name) {
    static const struct { const char *name, *text; } STATS[] = {
        {"accuracy", "share of targets (tokens, or sequences' classes) whose most likely prediction is right, in [0, 1]"},
        {"reconstruction", "the reconstruction loss alone, without the sparsity penalty"},
        {"penalty", "the sparsity penalty beta * Omega(h) the objective adds"},
        {"free_running_loss", "the loss of what the model writes when fed its own outputs instead of the truth"},
        {"greedy_token_accuracy", "share of target tokens that greedy decoding gets right, in [0, 1]"},
        {"exact_match", "share of sequences that greedy decoding gets exactly right, in [0, 1]"},
        {"beam_exact_match", "share of sequences that beam search (model.beam_width) gets exactly right, in [0, 1]"},
        {"mse_price", "mean squared error of the forecasts, in the data's own units squared"},
        {"mae_price", "mean absolute error of the forecasts, in the data's own units"},
        {"persistence_mse_price", "mean squared error of persistence (tomorrow = today), the baseline"},
        {"persistence_mae_price", "mean absolute error of persistence (tomorrow = today), the baseline"},
        {"skill", "1 - mse / persistence mse: above 0 beats persistence"},
    };
    for (size_t i = 0; i < sizeof STATS / sizeof STATS[0]; i++)
        if (strcmp(name, STATS[i].name) == 0) return STATS[i].text;
    return NULL;
}

void metric_describe(const char *column, int per_step, const Model *model, char *buf, size_t cap) {
    char loss[512];
    model_describe_loss(model, loss, sizeof loss);
    const char *over = per_step ? "the steps since the row before" : "the epoch's steps";
    size_t len = strlen(column);
    if (strcmp(column, "epoch") == 0)
        snprintf(buf, cap, per_step ? "the epoch (1-based) the row's last step belongs to" : "epochs completed");
    else if (strcmp(column, "step") == 0)
        snprintf(buf, cap, "optimizer steps taken so far (a skipped step is not one)");
    else if (strcmp(column, "train_loss") == 0)
        snprintf(buf, cap, "training loss over %s, as trained (noise and dropout on), weighted by their examples: %s",
                 over, loss);
    else if (strcmp(column, "val_loss") == 0)
        snprintf(buf, cap, "loss on the validation split %s, noise and dropout off: %s",
                 per_step ? "at the row's step (train.eval_every; empty on other rows)" : "after the epoch", loss);
    else if (strcmp(column, "test_loss") == 0)
        snprintf(buf, cap, "loss on the test split after training (the last row only): %s", loss);
    else if (strcmp(column, "lr") == 0)
        snprintf(buf, cap, "learning rate eta of the %s last step", per_step ? "row's" : "epoch's");
    else if (strcmp(column, "grad_norm") == 0)
        snprintf(buf, cap, "mean over %s of the global gradient norm ||g||_2, before clipping", over);
    else if (strcmp(column, "epoch_time") == 0)
        snprintf(buf, cap, "seconds of wall time of the epoch's training steps (evaluation not included)");
    else if (strcmp(column, "eval_time") == 0)
        snprintf(buf, cap, "seconds of wall time evaluating the validation split in the epoch (train.eval_every) and "
                           "after it");
    else if (strcmp(column, "sample_time") == 0)
        snprintf(buf, cap, "seconds of wall time generating the epoch's text sample (sample.every; 0 on other epochs)");
    else if (strcmp(column, "skipped_steps") == 0)
        snprintf(buf, cap, "steps of the epoch skipped for a NaN or Inf loss or gradient (train.on_nan: skip)");
    else if (len > 8 && strcmp(column + len - 8, "_per_sec") == 0)
        snprintf(buf, cap, "%.*s per second of wall time over %s (training steps only; differs between runs)",
                 (int)(len - 8), column, per_step ? over : "epoch_time");
    else {
        const char *split = strncmp(column, "train_", 6) == 0 ? "training batches (as trained)"
                            : strncmp(column, "val_", 4) == 0 ? "the validation split"
                            : strncmp(column, "test_", 5) == 0 ? "the test split, after training"
                                                                : NULL;
        const char *stat = split ? statistic(strchr(column, '_') + 1) : NULL;
        if (stat) snprintf(buf, cap, "%s, on %s", stat, split);
        else snprintf(buf, cap, "see docs/training.md");
    }
}
