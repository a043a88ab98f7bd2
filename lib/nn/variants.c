/* variants.c — the names of the cells' forms (variants.h). */
#include "variants.h"

#include <string.h>

static const char *const FORM_NAMES[] = {"elman", "lecture"};
static const char *const VARIANT_NAMES[] = {"cho", "pytorch"};

/* The index of name in names[0..n), or −1. */
static int index_of(const char *name, const char *const *names, int n) {
    for (int k = 0; k < n; k++)
        if (strcmp(name, names[k]) == 0) return k;
    return -1;
}

const char *rnn_form_name(RnnForm f) { return (f == RNN_ELMAN || f == RNN_LECTURE) ? FORM_NAMES[f] : "?"; }

int rnn_form_from_name(const char *name, RnnForm *f) {
    int k = index_of(name, FORM_NAMES, 2);
    if (k < 0) return -1;
    *f = (RnnForm)k;
    return 0;
}

const char *gru_variant_name(GruVariant v) { return (v == GRU_CHO || v == GRU_PYTORCH) ? VARIANT_NAMES[v] : "?"; }

int gru_variant_from_name(const char *name, GruVariant *v) {
    int k = index_of(name, VARIANT_NAMES, 2);
    if (k < 0) return -1;
    *v = (GruVariant)k;
    return 0;
}
