/* spec.h — the typed spec: what a run needs, read from a validated CfgNode tree.
 *
 * spec_load() = parse YAML → apply command-line overrides → validate against SPEC_SCHEMA (all
 * errors at once, file:line:col, did-you-mean) → fill defaults → check combinations the schema
 * cannot express (e.g. cross-entropy with an identity f) → fill this struct. The resolved tree
 * (every default present) stays in Spec.tree: it is what the run records. */
#ifndef EXPRUN_SPEC_H
#define EXPRUN_SPEC_H

#include <stdint.h>

#include "act.h"
#include "loss.h"
#include "noise.h"
#include "optim.h"
#include "schedule.h"
#include "sparsity.h"
#include "spec/cfg.h"

#define SPEC_PATH_MAX 4096
#define SPEC_MAX_LAYERS 8

typedef enum DataSource {
    DATA_IDX, DATA_CSV, DATA_HDF5, DATA_TEXT, DATA_ADDING, DATA_COPY, DATA_PARITY, DATA_SERIES,
    DATA_REVERSE, DATA_ADDITION         /* sequence to sequence (tasks.h) */
} DataSource;
typedef enum ClipType { CLIP_NONE, CLIP_VALUE, CLIP_GLOBAL_NORM } ClipType;
/* MODEL_SEQUENCE: model.type names a cell of cell.h's table (rnn, lstm, gru), kept in cell. */
typedef enum ModelType {
    MODEL_AUTOENCODER, MODEL_SEQUENCE,  /* autoencoder.h, seqmodel.h */
    MODEL_SEQ2SEQ, MODEL_ONE_TO_MANY    /* seq2seq.h, onetomany.h */
} ModelType;

typedef struct DataSpec {
    DataSource source;
    char path[SPEC_PATH_MAX];           /* resolved against the spec's folder */
    char labels[SPEC_PATH_MAX];         /* "" when absent */
    char test_path[SPEC_PATH_MAX];
    char test_labels[SPEC_PATH_MAX];
    int header;
    char label_column[256];
    char dataset[256], labels_dataset[256];
    int64_t max_bytes;
    int seq_len;
    int truncated_bptt;
    int length, train_size, test_size, copy_length, alphabet;
    int as_sequence;                    /* idx images as sequences of rows */
    int min_length, max_length;         /* reverse: string lengths */
    int digits, reversed_digits;        /* addition: operand digits, least significant first */
    char scale[32];
    int binarize;
    double binarize_threshold;
    double validation_fraction;
    int limit;
    int exclude_class;                  /* −1: none */
    /* series */
    char value_column[256], date_column[256], filter_column[256];
    char filter_value[1024];            /* "" when absent; commas separate several series */
    int window, horizon;
    char transform[16];                 /* none | diff | log_return */
    double test_fraction;
} DataSpec;

typedef struct ModelSpec {
    ModelType type;
    /* autoencoder */
    int code;
    int n_hidden;
    int hidden_units[SPEC_MAX_LAYERS];
    Activation hidden_act[SPEC_MAX_LAYERS];
    Activation g, f;
    int tied;
    NoiseConfig noise;
    SparsityConfig sparsity;
    /* recurrent */
    int n_layers;
    int units[SPEC_MAX_LAYERS];
    int lecture_form;                   /* rnn: 1 = the lecture's h_t = θ φ(h_{t−1}) + θ_x x_t */
    Activation rnn_activation;
    int gru_cho;                        /* gru: 1 = the slides' (Cho et al.) variant */
    double forget_bias, dropout;
    int recurrent_orthogonal;
    double recurrent_gain;
    int learned_initial_state;
    char input[16];                     /* embedding | onehot | features */
    int embed_dim;
    int head_last_step;
    /* seq2seq, one_to_many (units, forget_bias, variant, recurrent_init as above; seq2seq: embed_dim) */
    char cell[16];                      /* every recurrent family: model.type (sequence) or model.cell */
    int beam_width;                     /* evaluation: also beam search when > 1 */
} ModelSpec;

typedef struct TrainSpec {
    int epochs, batch_size;
    int64_t max_steps_per_epoch;
    int shuffle, drop_last;
    int checkpoint_every, keep_checkpoints;
    int skip_nan;
} TrainSpec;

/* Evaluations after the last epoch (autoencoders; runner/evaluate.c). */
typedef struct EvaluateSpec {
    int pca;
    int anomaly_class;                  /* −1: off */
    int kmeans;                         /* clusters, 0: off */
    int kmeans_restarts;
    int corrupted_test;
    NoiseConfig noise;                  /* resolved: the model's own when evaluate.noise.type is model */
} EvaluateSpec;

typedef struct SampleSpec {
    int every, length;
    double temperature;
    char prime[1024];
} SampleSpec;

typedef struct Spec {
    char source_path[SPEC_PATH_MAX];    /* the spec file */
    char name[256];
    uint64_t seed;
    int threads;
    DataSpec data;
    ModelSpec model;
    LossType loss;
    OptimConfig optim;
    Schedule schedule;
    ClipType clip;
    double clip_threshold;
    TrainSpec train;
    SampleSpec sample;
    EvaluateSpec evaluate;
    char output_root[SPEC_PATH_MAX];
    CfgNode *tree;                      /* resolved tree (owned) */
    int n_warnings;
    char warnings[8][512];              /* e.g. an overcomplete plain autoencoder */
} Spec;

/* Load, override, validate and type a spec. Returns 0, or -1 with every problem in diags. */
int spec_load(const char *path, char *const *overrides, int n_overrides, Spec *spec, CfgDiags *diags);
/* Same from an already-parsed tree (takes ownership of tree). */
int spec_from_tree(CfgNode *tree, const char *path, Spec *spec, CfgDiags *diags);
void spec_free(Spec *spec);

#endif
