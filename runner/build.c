#include "build.h"

#include <stdio.h>
#include <string.h>

#include "autoencoder.h"
#include "onetomany.h"
#include "seq2seq.h"
#include "seqmodel.h"
#include "data/tasks.h"
#include "data/text.h"
#include "memory.h"

#include <stdlib.h>

/* The last model's memory estimate (memory.h), for `exprun validate` to print. */
static double estimate_bytes;

double build_memory_estimate(void) { return estimate_bytes; }

static int build_autoencoder(const Spec *spec, const RunData *rd, Model **out, char *warn,
                             size_t warn_cap, ExError *err) {
    const ModelSpec *ms = &spec->model;
    AutoencoderConfig cfg = {0};
    cfg.n_input = rd->n_input;
    cfg.n_code = ms->code;
    cfg.n_hidden = ms->n_hidden;
    for (int l = 0; l < ms->n_hidden; l++) {
        cfg.hidden_units[l] = ms->hidden_units[l];
        cfg.hidden_act[l] = ms->hidden_act[l];
    }
    cfg.g = ms->g;
    cfg.f = ms->f;
    cfg.tied = ms->tied;
    cfg.loss = spec->loss;
    cfg.noise = ms->noise;
    cfg.sparsity = ms->sparsity;
    cfg.max_batch = spec->train.batch_size;
    /* The lecture's dim(h) question: with dim(h) ≥ dim(x) and nothing to stop it, the network
     * can learn to copy its input. */
    int narrowest = ms->code;
    for (int l = 0; l < ms->n_hidden; l++) narrowest = ms->hidden_units[l] < narrowest ? ms->hidden_units[l] : narrowest;
    if (narrowest >= rd->n_input && ms->noise.type == NOISE_NONE && ms->sparsity.type == SPARSITY_NONE)
        snprintf(warn, warn_cap,
                 "warning: model.code %d >= %d input values with neither noise nor sparsity: this "
                 "overcomplete autoencoder can learn the identity (add model.noise or model.sparsity)\n",
                 narrowest, rd->n_input);
    Rng init = rng_stream(spec->seed, "init");
    if (memory_check(estimate_bytes = autoencoder_memory(&cfg), "the autoencoder", err) != 0) return BUILD_TOO_BIG;
    return autoencoder_create(out, &cfg, &init, err);
}

static int build_sequence(const Spec *spec, const RunData *rd, Model **out, ExError *err) {
    const ModelSpec *ms = &spec->model;
    SeqModelConfig cfg = seqmodel_config_defaults();
    cell_type_from_name(ms->cell, &cfg.cell);   /* a value of the schema's list: in the table */
    cfg.rnn_form = ms->lecture_form ? RNN_LECTURE : RNN_ELMAN;
    cfg.rnn_act = ms->rnn_activation;
    cfg.gru_variant = ms->gru_cho ? GRU_CHO : GRU_PYTORCH;
    cfg.num_layers = ms->n_layers;
    for (int l = 0; l < ms->n_layers; l++) cfg.hidden[l] = ms->units[l];
    cfg.forget_bias = (float)ms->forget_bias;
    cfg.dropout = (float)ms->dropout;
    cfg.recurrent_orthogonal = ms->recurrent_orthogonal;
    cfg.recurrent_gain = (float)ms->recurrent_gain;
    cfg.init_state = ms->learned_initial_state ? SEQ_INIT_LEARNED : SEQ_INIT_ZERO;
    seq_input_from_name(ms->input, &cfg.input);
    cfg.embed_dim = ms->embed_dim;
    cfg.head = ms->head_last_step ? SEQ_HEAD_LAST_STEP : SEQ_HEAD_PER_STEP;
    cfg.loss = spec->loss;
    cfg.max_batch = spec->train.batch_size;
    const Dataset *tr = &rd->train;
    if (spec->data.source == DATA_TEXT) {
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
    if (memory_check(estimate_bytes = seqmodel_memory(&cfg), "the sequence model", err) != 0) return BUILD_TOO_BIG;
    return seqmodel_create(out, &cfg, &init, err);
}

/* Encoder–decoder over the generated seq2seq tasks' token set (tasks.h: PAD, GO, END, characters). */
static int build_seq2seq(const Spec *spec, const RunData *rd, Model **out, ExError *err) {
    const ModelSpec *ms = &spec->model;
    Seq2SeqConfig cfg = seq2seq_config_defaults();
    cell_type_from_name(ms->cell, &cfg.cell);
    cfg.gru_variant = ms->gru_cho ? GRU_CHO : GRU_PYTORCH;
    cfg.num_layers = ms->n_layers;
    for (int l = 0; l < ms->n_layers; l++) cfg.hidden[l] = ms->units[l];
    cfg.forget_bias = (float)ms->forget_bias;
    cfg.recurrent_orthogonal = ms->recurrent_orthogonal;
    cfg.recurrent_gain = (float)ms->recurrent_gain;
    cfg.embed_dim = ms->embed_dim;
    cfg.beam_width = ms->beam_width;
    const Dataset *tr = &rd->train;
    cfg.vocab_in = cfg.vocab_out = tr->vocab;
    cfg.pad_token = S2S_PAD;
    cfg.go_token = S2S_GO;
    cfg.end_token = S2S_END;
    cfg.max_batch = spec->train.batch_size;
    cfg.max_Tx = tr->T;
    cfg.max_Ty = tr->Ty;
    Rng init = rng_stream(spec->seed, "init");
    if (memory_check(estimate_bytes = seq2seq_memory(&cfg), "the seq2seq model", err) != 0) return BUILD_TOO_BIG;
    return seq2seq_create(out, &cfg, &init, err);
}

/* Class → initial state → image rows (the data: idx images as sequences, with labels). */
static int build_onetomany(const Spec *spec, const RunData *rd, Model **out, ExError *err) {
    const ModelSpec *ms = &spec->model;
    OneToManyConfig cfg = onetomany_config_defaults();
    cell_type_from_name(ms->cell, &cfg.cell);
    cfg.gru_variant = ms->gru_cho ? GRU_CHO : GRU_PYTORCH;
    cfg.num_layers = ms->n_layers;
    for (int l = 0; l < ms->n_layers; l++) cfg.hidden[l] = ms->units[l];
    cfg.forget_bias = (float)ms->forget_bias;
    cfg.recurrent_orthogonal = ms->recurrent_orthogonal;
    cfg.recurrent_gain = (float)ms->recurrent_gain;
    cfg.n_classes = rd->n_classes;
    cfg.steps = rd->train.T;
    cfg.n_out = rd->train.d;
    cfg.loss = spec->loss;
    cfg.max_batch = spec->train.batch_size;
    Rng init = rng_stream(spec->seed, "init");
    if (memory_check(estimate_bytes = onetomany_memory(&cfg), "the one_to_many model", err) != 0) return BUILD_TOO_BIG;
    return onetomany_create(out, &cfg, &init, err);
}

int build_model(const Spec *spec, const RunData *rd, Model **out, char *warn, size_t warn_cap,
                ExError *err) {
    if (warn_cap) warn[0] = '\0';
    if (spec->model.type == MODEL_AUTOENCODER) return build_autoencoder(spec, rd, out, warn, warn_cap, err);
    if (spec->model.type == MODEL_SEQ2SEQ) return build_seq2seq(spec, rd, out, err);
    if (spec->model.type == MODEL_ONE_TO_MANY) return build_onetomany(spec, rd, out, err);
    return build_sequence(spec, rd, out, err);
}

int model_is_sequence(const Model *m) { return m && strcmp(m->ops->family, "sequence") == 0; }

const double *model_time_grad_norms(const Model *m, int *T) {
    *T = 0;
    if (!model_is_sequence(m)) return NULL;
    return seqmodel_grad_norms(m, T);
}

void model_reset_time_grad_norms(Model *m) {
    if (model_is_sequence(m)) seqmodel_reset_grad_norms(m);
}

size_t model_time_grad_state(Model *m, double *block, int set) {
    return model_is_sequence(m) ? seqmodel_grad_norm_state(m, block, set) : 0;
}

int model_sample_text(Model *m, const Vocab *v, const char *prime, int length, double temperature,
                      Rng *rng, char *out, ExError *err) {
    if (!model_is_sequence(m)) return ex_fail(err, "sampling needs a recurrent model");
    size_t n_prime = strlen(prime);
    const uint8_t *bytes = (const uint8_t *)prime;
    /* An empty prime starts from a space (or the first character of the vocabulary). */
    uint8_t fallback = v->id_of[' '] >= 0 ? ' ' : v->byte_of[0];
    if (n_prime == 0) { bytes = &fallback; n_prime = 1; }
    int32_t *ids = malloc(n_prime * sizeof *ids), *gen = malloc((size_t)length * sizeof *gen);
    int unknown = v->id_of[' '] >= 0 ? v->id_of[' '] : 0;
    int rc = vocab_encode(v, bytes, n_prime, ids, unknown, "prime", err) < 0 ? -1 : 0;
    if (rc == 0 && seqmodel_sample(m, ids, (int)n_prime, length, temperature, rng, gen) != 0)
        rc = ex_fail(err, "sampling failed: %s", seqmodel_last_error(m));
    if (rc == 0) {
        vocab_decode(v, gen, (size_t)length, (uint8_t *)out);
        out[length] = '\0';
    }
    free(ids);
    free(gen);
    return rc;
}

/* Text of a token row (−1 ends it) in the task's characters. */
static char *example_text(const Spec *spec, const int32_t *tokens, int n) {
    char *text = malloc((size_t)n + 1);
    s2s_tokens_text(text, (size_t)n + 1, tokens, n,
                    spec->data.source == DATA_REVERSE ? REVERSE_CHARS : ADDITION_CHARS);
    return text;
}

static int write_seq2seq_examples(Model *m, const Spec *spec, const RunData *rd, H5Doc *doc, ExError *err) {
    const Dataset *ts = &rd->test;
    int n = ts->n < 20 ? ts->n : 20;
    if (n > m->max_batch) n = m->max_batch;
    if (n == 0) return 0;
    int32_t *out = malloc((size_t)n * ts->Ty * sizeof *out);
    if (seq2seq_greedy(m, ts->x_tokens, n, ts->T, ts->Ty, out) != 0) {
        free(out);
        return ex_fail(err, "decoding the examples: %s", seq2seq_last_error(m));
    }
    char **texts = calloc((size_t)3 * n, sizeof *texts);
    for (int i = 0; i < n; i++) {
        /* the input up to its first PAD */
        int len = 0;
        while (len < ts->T && ts->x_tokens[(size_t)i * ts->T + len] != S2S_PAD) len++;
        texts[i] = example_text(spec, ts->x_tokens + (size_t)i * ts->T, len);
        texts[n + i] = example_text(spec, ts->y_tokens + (size_t)i * ts->Ty, ts->Ty);
        /* the output up to and with its END */
        int m_out = 0;
        while (m_out < ts->Ty && out[(size_t)i * ts->Ty + m_out] != S2S_END) m_out++;
        texts[2 * n + i] = example_text(spec, out + (size_t)i * ts->Ty, m_out < ts->Ty ? m_out + 1 : m_out);
    }
    h5doc_strings(doc, "/examples/input", (size_t)n, (const char *const *)texts);
    h5doc_strings(doc, "/examples/target", (size_t)n, (const char *const *)(texts + n));
    h5doc_strings(doc, "/examples/output", (size_t)n, (const char *const *)(texts + 2 * n));
    h5doc_attr_str(doc, "/examples/output", "description",
                   "greedy decoding of the first test inputs; '$' = END (the outputs must end with it)");
    for (int i = 0; i < 3 * n; i++) free(texts[i]);
    free(texts);
    free(out);
    return 0;
}

static int write_generated(Model *m, H5Doc *doc, ExError *err) {
    const OneToManyConfig *c = onetomany_config(m);
    int K = c->n_classes < m->max_batch ? c->n_classes : m->max_batch;
    int32_t *classes = malloc((size_t)K * sizeof *classes);
    float *images = malloc((size_t)K * c->steps * c->n_out * sizeof *images);
    for (int k = 0; k < K; k++) classes[k] = k;
    int rc = onetomany_generate(m, classes, K, images);
    if (rc == 0) {
        int shape[3] = {K, c->steps, c->n_out}, kshape[1] = {K};
        h5doc_floats(doc, "/generated/images", 3, shape, images);
        h5doc_attr_str(doc, "/generated/images", "description",
                       "row t of image k is written by the model from class k alone, its row t-1 fed back as input");
        h5doc_int32s(doc, "/generated/classes", 1, kshape, classes);
    } else {
        ex_fail(err, "generating: %s", onetomany_last_error(m));
    }
    free(classes);
    free(images);
    return rc;
}

int model_write_results(Model *m, const Spec *spec, const RunData *rd, H5Doc *doc, ExError *err) {
    if (model_is_seq2seq(m)) return write_seq2seq_examples(m, spec, rd, doc, err);
    if (model_is_onetomany(m)) return write_generated(m, doc, err);
    return 0;
}
