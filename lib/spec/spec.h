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
#include "cell.h"
#include "data/dataset.h"
#include "data/series.h"
#include "gru.h"
#include "loss.h"
#include "noise.h"
#include "optim.h"
#include "rnn.h"
#include "schedule.h"
#include "seqmodel.h"
#include "sparsity.h"
#include "spec/cfg.h"

#define SPEC_PATH_MAX 4096
#define SPEC_MAX_LAYERS 8

typedef enum DataSource {
    DATA_IDX, DATA_CSV, DATA_HDF5, DATA_TEXT, DATA_ADDING, DATA_COPY, DATA_PARITY, DATA_SERIES,
    DATA_REVERSE, DATA_ADDITION         /* sequence to sequence (tasks.h) */
} DataSource;
typedef enum ClipType { CLIP_NONE, CLIP_VALUE, CLIP_GLOBAL_NORM } ClipType;
typedef enum BpttMode { BPTT_TRUNCATED, BPTT_FULL } BpttMode;                 /* data.bptt */
typedef enum NanPolicy { ON_NAN_STOP, ON_NAN_SKIP } NanPolicy;                /* train.on_nan */
typedef enum Precision { PRECISION_FP32, PRECISION_BF16 } Precision;          /* train.precision */
typedef enum RecurrentInit { RECURRENT_INIT_UNIFORM, RECURRENT_INIT_ORTHOGONAL } RecurrentInit;
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
    BpttMode bptt;
    int length, train_size, test_size, copy_length, alphabet;
    int as_sequence;                    /* idx images as sequences of rows */
    int min_length, max_length;         /* reverse: string lengths */
    int digits, reversed_digits;        /* addition: operand digits, least significant first */
    ScaleType scale;
    int binarize;
    double binarize_threshold;
    double validation_fraction;
    int limit;
    int exclude_class;                  /* −1: none */
    /* series */
    char value_column[256], date_column[256], filter_column[256];
    char filter_value[1024];            /* "" when absent; commas separate several series */
    int window, horizon;
    SeriesTransform transform;
    double test_fraction;
} DataSpec;

/* model.type autoencoder: h = g(W x + b), x̂ = f(W* h + c), deep when hidden is not empty. */
typedef struct AutoencoderSpec {
    int code;                           /* dim(h) */
    int n_hidden;
    int hidden_units[SPEC_MAX_LAYERS];
    Activation hidden_act[SPEC_MAX_LAYERS];
    Activation g, f;
    int tied;                           /* W* = Wᵀ */
    NoiseConfig noise;
    SparsityConfig sparsity;
} AutoencoderSpec;

/* The recurrent families: rnn|lstm|gru (sequence), seq2seq and one_to_many. A key that does not
 * apply to the family or the cell holds 0 (e.g. form for an lstm, head for seq2seq). */
typedef struct RecurrentSpec {
    CellType cell;                      /* model.type (sequence) or model.cell */
    int n_layers;
    int units[SPEC_MAX_LAYERS];
    RnnForm form;                       /* rnn: elman, or the lecture's h_t = θ φ(h_{t−1}) + θ_x x_t */
    Activation activation;              /* rnn: φ */
    GruVariant variant;                 /* gru: pytorch, or the slides' (Cho et al.) */
    double forget_bias, dropout;
    RecurrentInit recurrent_init;
    double recurrent_gain;
    SeqInitState initial_state;
    SeqInput input;
    int embed_dim;
    SeqHead head;
    int beam_width;                     /* seq2seq evaluation: also beam search when > 1 */
} RecurrentSpec;

typedef struct ModelSpec {
    ModelType type;
    AutoencoderSpec ae;                 /* type autoencoder */
    RecurrentSpec rec;                  /* every other type */
} ModelSpec;

typedef enum MonitorMode { MONITOR_AUTO, MONITOR_MIN, MONITOR_MAX } MonitorMode;   /* train.early_stopping.mode */

/* train.early_stopping: the monitor (also what checkpoints/BEST is best by) and when to stop. */
typedef struct EarlyStoppingSpec {
    char monitor[64];                   /* a metrics column */
    MonitorMode mode;
    int patience;                       /* evaluations; 0: never stop early */
    double min_delta;
} EarlyStoppingSpec;

typedef struct TrainSpec {
    int epochs, batch_size;
    int64_t max_steps_per_epoch;
    int shuffle, drop_last;
    int checkpoint_every, keep_checkpoints;
    NanPolicy on_nan;
    int64_t log_every;                  /* steps between per-step metrics rows, 0: none */
    int64_t eval_every;                 /* steps between evaluations within an epoch, 0: none */
    EarlyStoppingSpec early_stopping;
    int restore_best;
    Precision precision;
    int recompute;                      /* backward recomputes the gates (recurrent.h) */
} TrainSpec;

/* Evaluations after the last epoch (autoencoders; runner/evaluate.c). */
typedef struct EvaluateSpec {
    int pca;
    int anomaly_class;                  /* −1: off */
    int kmeans;                         /* clusters, 0: off */
    int kmeans_restarts;
    int corrupted_test;
    int noise_from_model;               /* evaluate.noise.type is model */
    NoiseConfig noise;                  /* resolved: the model's own when noise_from_model */
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

/* The name of choice `index` of a schema enum key ("data.bptt", 1 → "full"), or NULL: the
 * spec's own enums (DataSource, ClipType, BpttMode, NanPolicy, RecurrentInit)
 * number their values in the schema's order. */
const char *spec_choice(const char *key, int index, char *buf, size_t cap);

/* Load, override, validate and type a spec. Returns 0, or -1 with every problem in diags. */
int spec_load(const char *path, char *const *overrides, int n_overrides, Spec *spec, CfgDiags *diags);
/* One command-line override into tree: key=value (cfg_apply_override), or SECTION=FILE.yaml for
 * a section of the schema, replaced whole by the file's (cfg_section_from_file). 0 or -1. */
int spec_apply_override(CfgNode *tree, const char *assignment, CfgDiags *diags);
/* Same from an already-parsed tree (takes ownership of tree). */
int spec_from_tree(CfgNode *tree, const char *path, Spec *spec, CfgDiags *diags);
void spec_free(Spec *spec);

/* The data files the spec names (data.path, labels, test_path, test_labels) exist and can be
 * read; else a diagnostic at each key saying where it was looked for, the nearest file in that
 * folder, and the datasets/prepare_NAME.sh that makes it where there is one (datafiles.c).
 * Returns 0 or -1. (`show` does not ask this: a spec can be shown before its data exists.) */
int spec_check_data_files(const Spec *spec, CfgDiags *diags);

/* model.input, model.head and loss given as auto (their defaults) set to the one value that fits
 * the data and model, in the validated tree, or a diagnostic where several fit (autovalues.c). */
void spec_resolve_auto(CfgNode *tree, CfgDiags *diags);

/* After the schema's problems diags[from..] in tree: the problems of combinations too, found
 * on a copy of tree with the keys already reported taken out (their defaults in their place),
 * added unless about a key already reported, in file order (alldiags.c). */
/* The schema's key for a dotted path, list indices allowed (model.encoder.0.units is
 * model.encoder.*.units), or NULL. */
const SchemaKey *spec_schema_key(const char *path);

void spec_more_diags(const CfgNode *tree, const char *path, CfgDiags *diags, int from);

#endif
