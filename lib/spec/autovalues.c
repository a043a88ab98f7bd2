/* autovalues.c — `model.input: auto`, `model.head: auto` and `loss: auto` (the defaults), each
 * resolved from the data where one value fits (spec.h: spec_resolve_auto).
 *
 *   data.source             input      head       loss (rnn, lstm, gru)
 *   text, copy, parity      embedding  per_step   softmax_cross_entropy   (a token at every step)
 *   adding, series          features   last_step  squared_error           (one real value at the end)
 *   idx (as rows), hdf5     features   last_step  softmax_cross_entropy   (a class per sequence; hdf5
 *                                                                          needs labels_dataset for it)
 * seq2seq: softmax_cross_entropy (tokens). An autoencoder takes squared_error when its f is the
 * identity (cross-entropy needs x̂ in (0,1)); with another f, and for one_to_many, both losses
 * fit and the spec must say which. The value is written into the tree, so `show` and a run's
 * resolved.yaml hold it, with "auto: …" as its origin (`show --origin`). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spec.h"

static int is(const char *s, const char *a) { return s && strcmp(s, a) == 0; }

/* Set an "auto" node to value, its origin the reason. */
static void settle(CfgNode *node, const char *value, const char *source) {
    free(node->value);
    node->value = strdup(value);
    free((char *)node->file);
    char origin[160];
    snprintf(origin, sizeof origin, "auto: data.source %s", source);
    node->file = strdup(origin);
    node->line = node->col = 0;
    node->quoted = 0;
}

static CfgNode *auto_node(CfgNode *t, const char *key) {
    CfgNode *n = (CfgNode *)cfg_get(t, key);
    return n && n->kind == CFG_SCALAR && is(n->value, "auto") ? n : NULL;
}

void spec_resolve_auto(CfgNode *t, CfgDiags *diags) {
    const char *src = cfg_str(t, "data.source"), *type = cfg_str(t, "model.type");
    if (!src || !type) return;
    int tokens = is(src, "text") || is(src, "copy") || is(src, "parity") || is(src, "reverse") || is(src, "addition");
    int regression = is(src, "adding") || is(src, "series");
    CfgNode *n;
    if ((n = auto_node(t, "model.input"))) settle(n, tokens ? "embedding" : "features", src);
    if ((n = auto_node(t, "model.head"))) settle(n, tokens ? "per_step" : "last_step", src);
    if (!(n = auto_node(t, "loss"))) return;
    const char *loss = NULL, *why = NULL;
    if (is(type, "autoencoder")) {
        const char *f = cfg_str(t, "model.f");
        if (is(f, "identity")) loss = "squared_error";
        else why = "an autoencoder whose f maps into (0, 1) fits squared_error and cross_entropy";
    } else if (is(type, "one_to_many")) {
        why = "a one_to_many model writes real values: squared_error, or cross_entropy for values in [0, 1]";
    } else if (is(type, "seq2seq") || tokens) {
        loss = "softmax_cross_entropy";
    } else if (regression) {
        loss = "squared_error";
    } else if (is(src, "idx") || (is(src, "hdf5") && cfg_str(t, "data.labels_dataset"))) {
        loss = "softmax_cross_entropy";
    } else {
        why = "this data fits squared_error (real targets) and softmax_cross_entropy (classes)";
    }
    if (loss) {
        settle(n, loss, src);
    } else {
        cfg_diag_at(diags, t, "loss", "say which loss: %s (loss: auto picks one only where one fits)", why);
    }
}
