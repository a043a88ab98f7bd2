#include "build.h"

#include <stdio.h>

#include "autoencoder.h"
#include "data/tasks.h"
#include "onetomany.h"
#include "packgemm.h"
#include "seq2seq.h"
#include "seqmodel.h"
#include "memory.h"

#include <stdlib.h>

/* The last model's memory estimate (memory.h), for `exprun validate` to print. */
static double estimate_bytes;

double build_memory_estimate(void) { return estimate_bytes; }

/* Every field of a family's config comes from the typed spec (whose values and defaults come
 * from the schema) or from the data; a config starts at zero, never from a default of its own. */

static int build_autoencoder(const Spec *spec, const RunData *rd, Model **out, char *warn,
                             size_t warn_cap, ExError *err) {
    const AutoencoderSpec *as = &spec->model.ae;
    AutoencoderConfig cfg = {0};
    cfg.n_input = rd->n_input;
    cfg.n_code = as->code;
    cfg.n_hidden = as->n_hidden;
    for (int l = 0; l < as->n_hidden; l++) {
        cfg.hidden_units[l] = as->hidden_units[l];
        cfg.hidden_act[l] = as->hidden_act[l];
    }
    cfg.g = as->g;
    cfg.f = as->f;
    cfg.tied = as->tied;
    cfg.loss = spec->loss;
    cfg.noise = as->noise;
    cfg.sparsity = as->sparsity;
    cfg.max_batch = spec->train.batch_size;
    /* The lecture's dim(h) question: with dim(h) ≥ dim(x) and nothing to stop it, the network
     * can learn to copy its input. */
    int narrowest = as->code;
    for (int l = 0; l < as->n_hidden; l++) narrowest = as->hidden_units[l] < narrowest ? as->hidden_units[l] : narrowest;
    if (narrowest >= rd->n_input && as->noise.type == NOISE_NONE && as->sparsity.type == SPARSITY_NONE)
        snprintf(warn, warn_cap,
                 "warning: model.code %d >= %d input values with neither noise nor sparsity: this "
                 "overcomplete autoencoder can learn the identity (add model.noise or model.sparsity)\n",
                 narrowest, rd->n_input);
    Rng init = rng_stream(spec->seed, "init");
    if (memory_check(estimate_bytes = autoencoder_memory(&cfg), "the autoencoder", err) != 0) return BUILD_REFUSED;
    return autoencoder_create(out, &cfg, &init, err);
}

/* The recurrent stack's settings every recurrent family's config holds under the same names
 * (SeqModelConfig, Seq2SeqConfig, OneToManyConfig), from model.* of the spec. */
#define SET_STACK(cfg, rs)                                                            \
    do {                                                                              \
        (cfg).cell = (rs)->cell;                                                      \
        (cfg).gru_variant = (rs)->variant;                                            \
        (cfg).num_layers = (rs)->n_layers;                                            \
        for (int l = 0; l < (rs)->n_layers; l++) (cfg).hidden[l] = (rs)->units[l];   \
        (cfg).forget_bias = (float)(rs)->forget_bias;                                 \
        (cfg).recurrent_orthogonal = (rs)->recurrent_init == RECURRENT_INIT_ORTHOGONAL; \
        (cfg).recurrent_gain = (float)(rs)->recurrent_gain;                           \
    } while (0)

static int build_sequence(const Spec *spec, const RunData *rd, Model **out, char *warn, size_t warn_cap,
                          ExError *err) {
    (void)warn;
    (void)warn_cap;
    const RecurrentSpec *rs = &spec->model.rec;
    SeqModelConfig cfg = {0};
    SET_STACK(cfg, rs);
    cfg.rnn_form = rs->form;
    cfg.rnn_act = rs->activation;
    cfg.dropout = (float)rs->dropout;
    cfg.init_state = rs->initial_state;
    cfg.input = rs->input;
    cfg.embed_dim = rs->embed_dim;
    cfg.head = rs->head;
    cfg.loss = spec->loss;
    cfg.max_batch = spec->train.batch_size;
    cfg.recompute = spec->train.recompute;
    const Dataset *tr = &rd->train;
    if (rd->has_vocab) {   /* text: the vocabulary of its characters */
        cfg.vocab = rd->vocab.size;
        cfg.n_out = rd->vocab.size;
        cfg.max_T = spec->data.seq_len;
        cfg.tbptt_carry = rd->is_stream;
    } else {
        cfg.vocab = tr->vocab;
        cfg.n_features = tr->d;
        cfg.max_T = tr->T;
        if (spec->loss == LOSS_SQUARED_ERROR) cfg.n_out = tr->dy;
        else cfg.n_out = tr->y_tokens ? tr->vocab : tr->num_classes;
    }
    Rng init = rng_stream(spec->seed, "init");
    if (memory_check(estimate_bytes = seqmodel_memory(&cfg), "the sequence model", err) != 0) return BUILD_REFUSED;
    return seqmodel_create(out, &cfg, &init, err);
}

/* Encoder–decoder over the generated seq2seq tasks' token set (tasks.h: PAD, GO, END, characters). */
static int build_seq2seq(const Spec *spec, const RunData *rd, Model **out, char *warn, size_t warn_cap,
                         ExError *err) {
    (void)warn;
    (void)warn_cap;
    const RecurrentSpec *rs = &spec->model.rec;
    Seq2SeqConfig cfg = {0};
    SET_STACK(cfg, rs);
    cfg.embed_dim = rs->embed_dim;
    cfg.beam_width = rs->beam_width;
    const Dataset *tr = &rd->train;
    cfg.vocab_in = cfg.vocab_out = tr->vocab;
    cfg.pad_token = S2S_PAD;
    cfg.go_token = S2S_GO;
    cfg.end_token = S2S_END;
    cfg.max_batch = spec->train.batch_size;
    cfg.max_Tx = tr->T;
    cfg.max_Ty = tr->Ty;
    Rng init = rng_stream(spec->seed, "init");
    if (memory_check(estimate_bytes = seq2seq_memory(&cfg), "the seq2seq model", err) != 0) return BUILD_REFUSED;
    return seq2seq_create(out, &cfg, &init, err);
}

/* Class → initial state → image rows (the data: idx images as sequences, with labels). */
static int build_onetomany(const Spec *spec, const RunData *rd, Model **out, char *warn, size_t warn_cap,
                           ExError *err) {
    (void)warn;
    (void)warn_cap;
    const RecurrentSpec *rs = &spec->model.rec;
    OneToManyConfig cfg = {0};
    SET_STACK(cfg, rs);
    cfg.n_classes = rd->n_classes;
    cfg.steps = rd->train.T;
    cfg.n_out = rd->train.d;
    cfg.loss = spec->loss;
    cfg.max_batch = spec->train.batch_size;
    Rng init = rng_stream(spec->seed, "init");
    if (memory_check(estimate_bytes = onetomany_memory(&cfg), "the one_to_many model", err) != 0) return BUILD_REFUSED;
    return onetomany_create(out, &cfg, &init, err);
}

/* The builders, by the spec's model family. */
typedef int (*Builder)(const Spec *spec, const RunData *rd, Model **out, char *warn, size_t warn_cap, ExError *err);
static const Builder BUILDERS[] = {
    [MODEL_AUTOENCODER] = build_autoencoder,
    [MODEL_SEQUENCE] = build_sequence,
    [MODEL_SEQ2SEQ] = build_seq2seq,
    [MODEL_ONE_TO_MANY] = build_onetomany,
};

/* train.precision: the products' arithmetic from now on (packgemm.h). bf16 needs AVX512-BF16. */
static int set_precision(Precision precision, ExError *err) {
    if (packed_set_precision(precision == PRECISION_BF16 ? PACK_BF16 : PACK_FP32) == 0) return 0;
    return ex_fail(err,
                   "train.precision: bf16 needs a CPU with AVX512-BF16 (vdpbf16ps) and exprun's AVX-512 kernel; here "
                   "the kernel is %s%s. Use train.precision=fp32 (the default)",
                   packed_kernel_name(packed_kernel()),
                   getenv("EXPRUN_KERNEL") ? " (EXPRUN_KERNEL caps it)" : " and the CPU lacks AVX512-BF16");
}

int build_model(const Spec *spec, const RunData *rd, Model **out, char *warn, size_t warn_cap,
                ExError *err) {
    if (warn_cap) warn[0] = '\0';
    if (set_precision(spec->train.precision, err) != 0) return BUILD_REFUSED;
    return BUILDERS[spec->model.type](spec, rd, out, warn, warn_cap, err);
}
