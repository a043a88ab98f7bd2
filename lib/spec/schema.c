/* schema.c — every key a spec may hold: its type, default, range and what it means.
 *
 * This table is the single source of truth for the spec: validation, defaults, `exprun show`
 * and the README's key reference all come from it. Discriminators (data.source, model.type)
 * come before the keys whose `when` condition depends on them. */
#include "schema.h"

#define INF 1e308
#define NO_RANGE 1, 0 /* min > max: no range check */

#define AE "model.type=autoencoder"
#define RECURRENT "model.type=rnn|lstm|gru"
#define RECURRENT_S2S "model.type=rnn|lstm|gru|seq2seq"
#define RECURRENT_ALL "model.type=rnn|lstm|gru|seq2seq|one_to_many"
#define ACTS "identity|sigmoid|tanh|relu|leaky_relu|elu|softplus|softmax"

static const SchemaKey KEYS[] = {
    {"version", SK_INT, "1", 1, 1, NULL, NULL, "spec format version (1)"},
    {"name", SK_STRING, "~", NO_RANGE, NULL, NULL, "run name (default: the spec file's name)"},
    {"seed", SK_INT, "1", 0, 9.2e18, NULL, NULL,
     "the one seed: initialisation, shuffling, noise, dropout and generated data all derive from it"},
    {"threads", SK_INT, "0", 0, 256, NULL, NULL,
     "threads of exprun's kernels and OpenBLAS (0 = one per core); results are bit-identical for a fixed thread count"},

    {"data", SK_MAP, "{}", NO_RANGE, NULL, NULL, "where the examples come from"},
    {"data.source", SK_ENUM, NULL, NO_RANGE, "idx|csv|hdf5|text|adding|copy|parity|series|reverse|addition", NULL,
     "idx (MNIST-style files), csv, hdf5, text (characters), adding, copy or parity (generated tasks), "
     "series (a dated CSV series cut into forecasting windows), "
     "reverse or addition (generated sequence-to-sequence tasks)"},
    {"data.path", SK_STRING, NULL, NO_RANGE, NULL, "data.source=idx|csv|hdf5|text|series",
     "training file (IDX images, CSV, HDF5 or UTF-8 text); relative paths are taken from the spec's folder"},
    {"data.labels", SK_STRING, "~", NO_RANGE, NULL, "data.source=idx", "IDX labels file (optional)"},
    {"data.test_path", SK_STRING, "~", NO_RANGE, NULL, "data.source=idx|csv|hdf5",
     "held-out test file, same format (optional)"},
    {"data.test_labels", SK_STRING, "~", NO_RANGE, NULL, "data.source=idx", "IDX labels of the test file"},
    {"data.header", SK_BOOL, "true", NO_RANGE, NULL, "data.source=csv", "CSV has a header row"},
    {"data.label_column", SK_STRING, "~", NO_RANGE, NULL, "data.source=csv",
     "CSV column holding integer class labels (optional; not an input feature)"},
    {"data.dataset", SK_STRING, "x", NO_RANGE, NULL, "data.source=hdf5", "HDF5 dataset of inputs, (n, d)"},
    {"data.labels_dataset", SK_STRING, "~", NO_RANGE, NULL, "data.source=hdf5",
     "HDF5 dataset of integer labels, (n) (optional)"},
    {"data.max_bytes", SK_INT, "0", 0, 9.2e18, NULL, "data.source=text", "read at most this many bytes (0 = all)"},
    {"data.seq_len", SK_INT, "64", 2, 100000, NULL, "data.source=text", "characters per training sequence (T)"},
    {"data.bptt", SK_ENUM, "truncated", NO_RANGE, "truncated|full", "data.source=text",
     "truncated: the text is cut into batch_size tracks and the hidden state carries from one batch to the "
     "next (cut from the graph); full: independent shuffled windows, state reset every sequence"},
    {"data.length", SK_INT, "100", 2, 100000, NULL, "data.source=adding|copy|parity",
     "sequence length T of the generated task (copy: the delay between the symbols and the delimiter)"},
    {"data.train_size", SK_INT, "10000", 1, 1e8, NULL, "data.source=adding|copy|parity|reverse|addition",
     "generated training sequences (validation_fraction of them are held out for validation)"},
    {"data.test_size", SK_INT, "1000", 1, 1e8, NULL, "data.source=adding|copy|parity|reverse|addition",
     "generated test sequences (reverse, addition: never among the training ones)"},
    {"data.copy_length", SK_INT, "10", 1, 1000, NULL, "data.source=copy", "symbols to remember (S)"},
    {"data.alphabet", SK_INT, "8", 2, 1000, NULL, "data.source=copy|reverse", "distinct symbols (K; reverse: at most 62)"},
    {"data.min_length", SK_INT, "1", 1, 1000, NULL, "data.source=reverse", "shortest string to reverse"},
    {"data.max_length", SK_INT, "10", 1, 1000, NULL, "data.source=reverse", "longest string to reverse"},
    {"data.digits", SK_INT, "3", 1, 9, NULL, "data.source=addition", "operands have 1..digits digits (\"123+45\" -> \"168\")"},
    {"data.reversed_digits", SK_BOOL, "false", NO_RANGE, NULL, "data.source=addition",
     "write the operands and the answer least-significant digit first (\"321+54\" -> \"861\")"},
    {"data.as_sequence", SK_BOOL, "false", NO_RANGE, NULL, "data.source=idx",
     "read each image as a sequence of its rows (T = rows, d = columns), for recurrent models"},
    {"data.value_column", SK_STRING, "price", NO_RANGE, NULL, "data.source=series",
     "CSV column (header name) holding the series' values"},
    {"data.date_column", SK_STRING, "date", NO_RANGE, NULL, "data.source=series",
     "CSV column holding the dates (text, kept for the results; rows must be in time order)"},
    {"data.filter_column", SK_STRING, "~", NO_RANGE, NULL, "data.source=series",
     "keep only rows whose filter_column equals filter_value (stocks.csv: symbol)"},
    {"data.filter_value", SK_STRING, "~", NO_RANGE, NULL, "data.source=series",
     "the value to keep (MSFT), or several separated by commas (AAPL,AMZN,IBM,MSFT): each its own "
     "series, windows from all, one shared final test period (they must end on the same date)"},
    {"data.window", SK_INT, "12", 1, 100000, NULL, "data.source=series", "T, the past steps the model sees"},
    {"data.horizon", SK_INT, "1", 1, 100000, NULL, "data.source=series",
     "k: forecast the value k steps after the window's last one (1 = next step)"},
    {"data.transform", SK_ENUM, "log_return", NO_RANGE, "none|diff|log_return", "data.source=series",
     "what the model sees and predicts: none (the values), diff (changes v[u] - v[u-1], target "
     "v[t+k] - v[t]) or log_return (log v[u]/v[u-1], target log v[t+k]/v[t]); errors are reported in "
     "the data's units either way"},
    {"data.test_fraction", SK_FLOAT, "0.2", 0, 0.9, NULL, "data.source=series",
     "final part of the timeline held out for the test (split by time: every test target comes after "
     "every training target)"},
    {"data.scale", SK_ENUM, "none", NO_RANGE, "none|unit|standardize|center|unit_center", "data.source=idx|csv|hdf5|series",
     "unit: to [0,1]; standardize: per feature zero mean, unit variance; center: subtract the mean; "
     "unit_center: unit, then subtract the mean (the lecture's centered input for linear AE = PCA) "
     "(fitted on the training split only; series: inputs and targets each with their own statistics)"},
    {"data.binarize", SK_BOOL, "false", NO_RANGE, NULL, "data.source=idx|csv|hdf5",
     "after scaling, x = 1 if x > binarize_threshold else 0"},
    {"data.binarize_threshold", SK_FLOAT, "0.5", -INF, INF, NULL, "data.source=idx|csv|hdf5", "threshold for binarize"},
    {"data.validation_fraction", SK_FLOAT, "0.1", 0, 0.9, NULL, NULL,
     "fraction of the training data held out for validation (seeded split; text and series: the final part)"},
    {"data.limit", SK_INT, "0", 0, 1e9, NULL, "data.source=idx|csv|hdf5",
     "use only the first N examples of the training file (0 = all); text: data.max_bytes, generated tasks: "
     "data.train_size"},
    {"data.exclude_class", SK_INT, "~", 0, 1e9, NULL, "data.source=idx|csv|hdf5",
     "leave every example of this class out of the training file (training and validation splits; the "
     "test file keeps it): the normal data an anomaly detector learns (see evaluate.anomaly_class)"},

    {"model", SK_MAP, "{}", NO_RANGE, NULL, NULL, "the network"},
    {"model.type", SK_ENUM, NULL, NO_RANGE, "autoencoder|rnn|lstm|gru|seq2seq|one_to_many", NULL,
     "model family (seq2seq: an encoder's final state starts a decoder; one_to_many: a class sets the "
     "initial state of a recurrent net that writes a sequence)"},
    {"model.code", SK_INT, NULL, 1, 1e6, NULL, AE, "dim(h), the code size"},
    {"model.hidden", SK_LIST, "[]", NO_RANGE, NULL, AE,
     "deep autoencoder: encoder hidden layers from the input inwards; the decoder mirrors them"},
    {"model.hidden.*.units", SK_INT, NULL, 1, 1e6, NULL, AE, "units of this hidden layer"},
    {"model.hidden.*.activation", SK_ENUM, "relu", NO_RANGE, ACTS, AE, "activation of this layer (both sides)"},
    {"model.g", SK_ENUM, "sigmoid", NO_RANGE, ACTS, AE, "encoder activation: h = g(W x + b)"},
    {"model.f", SK_ENUM, "sigmoid", NO_RANGE, ACTS, AE, "decoder activation: x̂ = f(W* h + c)"},
    {"model.tied", SK_BOOL, "false", NO_RANGE, NULL, AE, "tied weights: W* = Wᵀ, stored once"},
    {"model.noise", SK_MAP, "{}", NO_RANGE, NULL, AE, "denoising: corruption of the input (the loss uses the clean x)"},
    {"model.noise.type", SK_ENUM, "none", NO_RANGE, "none|masking|gaussian|salt_pepper", AE, "corruption"},
    {"model.noise.rate", SK_FLOAT, "0.0", 0, 1, NULL, AE, "p for masking and salt_pepper"},
    {"model.noise.sigma", SK_FLOAT, "0.0", 0, INF, NULL, AE, "σ for gaussian"},
    {"model.sparsity", SK_MAP, "{}", NO_RANGE, NULL, AE, "sparse autoencoder: a penalty on the code h"},
    {"model.sparsity.type", SK_ENUM, "none", NO_RANGE, "none|kl|l1", AE,
     "kl: β Σ_j KL(ρ‖ρ̂_j) (use sigmoid g); l1: β (1/m) Σ |h|"},
    {"model.sparsity.target", SK_FLOAT, "0.05", 1e-6, 0.999999, NULL, AE, "ρ, the target mean activation (kl)"},
    {"model.sparsity.weight", SK_FLOAT, "0.0", 0, INF, NULL, AE,
     "β; the penalty is added once per batch to a loss that sums over the input's values"},

    {"model.cell", SK_ENUM, "lstm", NO_RANGE, "lstm|gru", "model.type=seq2seq|one_to_many",
     "recurrent cell (seq2seq: of the encoder and the decoder, the same sizes on both sides)"},
    {"model.units", SK_INT_LIST, "[128]", 1, 1e6, NULL, RECURRENT_ALL,
     "hidden units per stacked recurrent layer, e.g. [256, 256]"},
    {"model.form", SK_ENUM, "elman", NO_RANGE, "elman|lecture", "model.type=rnn",
     "elman: h_t = φ(W h_{t−1} + U x_t + b); lecture: h_t = θ φ(h_{t−1}) + θ_x x_t"},
    {"model.activation", SK_ENUM, "tanh", NO_RANGE, "tanh|relu|sigmoid", "model.type=rnn", "φ of the vanilla RNN"},
    {"model.variant", SK_ENUM, "pytorch", NO_RANGE, "pytorch|cho", "model.type=gru|seq2seq|one_to_many",
     "cho: reset gate on h_{t−1} before the product (the slides); pytorch: after it (PyTorch, cuDNN); "
     "seq2seq, one_to_many: with cell gru"},
    {"model.forget_bias", SK_FLOAT, "1.0", -INF, INF, NULL, "model.type=lstm|seq2seq|one_to_many",
     "initial b_f of the forget gate (seq2seq, one_to_many: with cell lstm)"},
    {"model.recurrent_init", SK_ENUM, "uniform", NO_RANGE, "uniform|orthogonal", RECURRENT_ALL,
     "recurrent weights: uniform U(−1/√H, 1/√H) like PyTorch, or gain · orthogonal per gate"},
    {"model.recurrent_gain", SK_FLOAT, "1.0", 0, 100, NULL, RECURRENT_ALL,
     "gain of the orthogonal recurrent init (> 1 makes gradients explode through time)"},
    {"model.dropout", SK_FLOAT, "0.0", 0, 0.95, NULL, RECURRENT, "dropout between stacked layers"},
    {"model.initial_state", SK_ENUM, "zero", NO_RANGE, "zero|learned", RECURRENT, "h_0 (and c_0)"},
    {"model.input", SK_ENUM, "auto", NO_RANGE, "auto|embedding|onehot|features", RECURRENT,
     "token inputs through an embedding or one-hot, or real-valued features per step; auto: embedding for "
     "tokens (text, copy, parity), features for real values"},
    {"model.embed_dim", SK_INT, "64", 1, 1e6, NULL, RECURRENT_S2S,
     "embedding size (input: embedding; seq2seq: of the input and of the output tokens)"},
    {"model.head", SK_ENUM, "auto", NO_RANGE, "auto|per_step|last_step", RECURRENT,
     "dense output at every step (many-to-many) or on the last step only (many-to-one); auto: per_step "
     "for tokens, last_step for the adding task, series and sequences to classify"},
    {"model.beam_width", SK_INT, "1", 1, 64, NULL, "model.type=seq2seq",
     "evaluation decodes greedily; > 1 also runs beam search of this width (stat beam_exact_match)"},

    {"loss", SK_ENUM, "auto", NO_RANGE, "auto|squared_error|cross_entropy|softmax_cross_entropy", NULL,
     "squared_error (1/m) Σ_i Σ_j (x̂_ij − x_ij)²; cross_entropy (binary, inputs in [0,1]); "
     "softmax_cross_entropy (classes or next token); auto: the one loss that fits the data and model, "
     "where only one does (an error where several do)"},

    {"optimizer", SK_MAP, "{}", NO_RANGE, NULL, NULL, "how parameters are updated"},
    {"optimizer.type", SK_ENUM, "adam", NO_RANGE, "sgd|adam|rmsprop|adagrad", NULL, "update rule (PyTorch's)"},
    {"optimizer.lr", SK_FLOAT, "0.001", 0, INF, NULL, NULL, "base learning rate η"},
    {"optimizer.momentum", SK_FLOAT, "0.0", 0, 1, NULL, "optimizer.type=sgd", "μ for sgd"},
    {"optimizer.nesterov", SK_BOOL, "false", NO_RANGE, NULL, "optimizer.type=sgd", "Nesterov momentum"},
    {"optimizer.beta1", SK_FLOAT, "0.9", 0, 0.999999, NULL, "optimizer.type=adam", "β₁"},
    {"optimizer.beta2", SK_FLOAT, "0.999", 0, 0.99999999, NULL, "optimizer.type=adam", "β₂"},
    {"optimizer.alpha", SK_FLOAT, "0.99", 0, 0.99999999, NULL, "optimizer.type=rmsprop", "smoothing α"},
    {"optimizer.eps", SK_FLOAT, "1.0e-8", 0, 1, NULL, "optimizer.type=adam|rmsprop|adagrad", "ε"},
    {"optimizer.weight_decay", SK_FLOAT, "0.0", 0, INF, NULL, NULL, "λ (L2 added to the gradient)"},
    {"optimizer.decoupled_weight_decay", SK_BOOL, "false", NO_RANGE, NULL, "optimizer.type=adam",
     "AdamW: decay the weights directly instead"},

    {"schedule", SK_MAP, "{}", NO_RANGE, NULL, NULL, "learning rate over time"},
    {"schedule.type", SK_ENUM, "constant", NO_RANGE, "constant|step|exponential|cosine", NULL, "schedule"},
    {"schedule.gamma", SK_FLOAT, "0.1", 0, INF, NULL, "schedule.type=step|exponential", "decay factor γ"},
    {"schedule.step_size", SK_INT, "10", 1, 1e9, NULL, "schedule.type=step", "epochs between decays"},
    {"schedule.min_lr", SK_FLOAT, "0.0", 0, INF, NULL, "schedule.type=cosine", "η_min"},
    {"schedule.warmup_steps", SK_INT, "0", 0, 1e12, NULL, NULL, "linear warm-up steps"},

    {"clip", SK_MAP, "{}", NO_RANGE, NULL, NULL, "gradient clipping (exploding gradients)"},
    {"clip.type", SK_ENUM, "none", NO_RANGE, "none|value|global_norm", NULL,
     "value: each g_i to [−c, c]; global_norm: rescale g to norm c when ‖g‖ > c"},
    {"clip.threshold", SK_FLOAT, "5.0", 1e-12, INF, NULL, "clip.type=value|global_norm", "c"},

    {"train", SK_MAP, "{}", NO_RANGE, NULL, NULL, "the training loop"},
    {"train.epochs", SK_INT, "10", 1, 1e9, NULL, NULL, "passes over the training data"},
    {"train.batch_size", SK_INT, "64", 1, 1e7, NULL, NULL, "examples (or text tracks) per step"},
    {"train.max_steps_per_epoch", SK_INT, "0", 0, 1e12, NULL, NULL, "cap on steps per epoch (0 = whole data)"},
    {"train.shuffle", SK_BOOL, "true", NO_RANGE, NULL, NULL, "reshuffle the examples every epoch"},
    {"train.drop_last", SK_BOOL, "false", NO_RANGE, NULL, NULL, "skip the last short batch"},
    {"train.checkpoint_every", SK_INT, "1", 0, 1e9, NULL, NULL, "epochs between checkpoints (0 = only at the end)"},
    {"train.keep_checkpoints", SK_INT, "2", 1, 1e6, NULL, NULL, "checkpoints kept (the newest ones)"},
    {"train.on_nan", SK_ENUM, "stop", NO_RANGE, "stop|skip", NULL,
     "a NaN/Inf loss or gradient: stop the run (status diverged) or skip that step"},
    {"train.log_every", SK_INT, "10", 0, 1e12, NULL, NULL,
     "steps between rows of metrics/steps and steps.csv: the loss, gradient norm, rate and throughput (0 = none)"},
    {"train.eval_every", SK_INT, "0", 0, 1e12, NULL, NULL,
     "steps between evaluations on the validation split within an epoch, into metrics/steps (0 = at epoch ends only)"},
    {"train.early_stopping", SK_MAP, "{}", NO_RANGE, NULL, NULL,
     "stop when the monitor has not improved for `patience` evaluations; the monitor also picks checkpoints/BEST"},
    {"train.early_stopping.monitor", SK_STRING, "\"val_loss\"", NO_RANGE, NULL, NULL,
     "a metrics column: val_loss, train_loss or val_<statistic> (e.g. val_accuracy)"},
    {"train.early_stopping.mode", SK_ENUM, "auto", NO_RANGE, "auto|min|max", NULL,
     "min: lower is better; max: higher; auto: max for accuracies and exact matches, else min"},
    {"train.early_stopping.patience", SK_INT, "0", 0, 1e9, NULL, NULL,
     "evaluations without improvement before the run stops (0 = never stop early)"},
    {"train.early_stopping.min_delta", SK_FLOAT, "0.0", 0, INF, NULL, NULL,
     "an improvement must beat the best by more than this"},
    {"train.restore_best", SK_BOOL, "false", NO_RANGE, NULL, NULL,
     "after training, evaluate the test set (and the evaluations) with the weights of checkpoints/BEST"},
    {"train.precision", SK_ENUM, "fp32", NO_RANGE, "fp32|bf16", NULL,
     "bf16: the matrix products with operands rounded to bfloat16 and fp32 sums (AVX512-BF16, checked at "
     "start); weights, optimizer state, gates and losses stay fp32"},
    {"train.recompute", SK_BOOL, "false", NO_RANGE, NULL, RECURRENT,
     "keep only each layer's outputs and the states every ~1024 rows; backward recomputes the gates "
     "(less memory for one more forward's work; the same bits)"},

    {"sample", SK_MAP, "{}", NO_RANGE, NULL, NULL, "text generation during training"},
    {"sample.every", SK_INT, "0", 0, 1e9, NULL, NULL, "epochs between samples written to the results (0 = never)"},
    {"sample.length", SK_INT, "200", 1, 1e7, NULL, NULL, "characters per sample"},
    {"sample.temperature", SK_FLOAT, "0.8", 0, 100, NULL, NULL, "τ (0 = always the likeliest character)"},
    {"sample.prime", SK_STRING, "\"The \"", NO_RANGE, NULL, NULL, "text the sample starts from"},

    {"evaluate", SK_MAP, "{}", NO_RANGE, NULL, AE,
     "evaluations once after the last epoch, written to /evaluation in results.h5 (lecture units: "
     "squared errors are (1/m) Σ_i Σ_j (x̂_ij − x_ij)²)"},
    {"evaluate.pca", SK_BOOL, "true", NO_RANGE, NULL, AE,
     "the PCA optimum Σ_{j>k} λ_j for k = model.code on the same training data, beside the autoencoder's "
     "squared error on the training and test data; for a shallow autoencoder also the angles between the "
     "top principal components and the decoder's column space"},
    {"evaluate.anomaly_class", SK_INT, "~", 0, 1e9, NULL, AE,
     "ROC AUC of each test example's reconstruction error, this class (left out of training with "
     "data.exclude_class) against the rest"},
    {"evaluate.kmeans", SK_INT, "0", 0, 100000, NULL, AE,
     "k-means with this many clusters on the test codes h (k-means++ seeding from the run's seed), with "
     "purity and NMI against the labels, and on the raw inputs for comparison (0 = off)"},
    {"evaluate.kmeans_restarts", SK_INT, "3", 1, 1000, NULL, AE, "k-means runs from different seedings; the lowest inertia is kept"},
    {"evaluate.corrupted_test", SK_BOOL, "false", NO_RANGE, NULL, AE,
     "reconstruction error against the clean test inputs when the network sees them corrupted "
     "(the denoising claim); the corruption is evaluate.noise, drawn from the run's seed"},
    {"evaluate.noise", SK_MAP, "{}", NO_RANGE, NULL, AE, "the corruption for evaluate.corrupted_test"},
    {"evaluate.noise.type", SK_ENUM, "model", NO_RANGE, "model|masking|gaussian|salt_pepper", AE,
     "model: the model's own model.noise; otherwise as model.noise.type (so a plain autoencoder can be "
     "scored on the same corruption as a denoising one)"},
    {"evaluate.noise.rate", SK_FLOAT, "0.0", 0, 1, NULL, AE, "p for masking and salt_pepper"},
    {"evaluate.noise.sigma", SK_FLOAT, "0.0", 0, INF, NULL, AE, "σ for gaussian"},

    {"output", SK_MAP, "{}", NO_RANGE, NULL, NULL, "where results go"},
    {"output.root", SK_STRING, "results", NO_RANGE, NULL, NULL,
     "each run gets its own directory ROOT/NAME/YYYYmmdd-HHMMSS[-k]; relative to the working directory"},

    {"sweep", SK_ANY, "~", NO_RANGE, NULL, NULL,
     "hyperparameter sweep, run by exprun sweep SPEC: grid: {KEY: [values], ...} takes every combination "
     "(keys in file order, the last fastest); zip: {KEY: [values], ...} takes lists of one length position by "
     "position (fastest of all); trials = product(grid) x len(zip). From the command line: "
     "'sweep={grid: {optimizer.lr: [1.0e-3, 3.0e-4], seed: [1, 2]}}' or sweep.grid.optimizer.lr=[1.0e-3,3.0e-4]; "
     "exprun sweep SPEC --list prints the trials"},
};

const Schema SPEC_SCHEMA = {KEYS, (int)(sizeof KEYS / sizeof KEYS[0])};
