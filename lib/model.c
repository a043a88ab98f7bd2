#include "model.h"

#include <stdlib.h>
#include <string.h>

void stats_add(StepStats *s, const char *name, double value) {
    for (int i = 0; i < s->count; i++)
        if (strcmp(s->names[i], name) == 0) {
            s->values[i] += value;
            return;
        }
    if (s->count < MODEL_MAX_STATS) {
        s->names[s->count] = name;
        s->values[s->count++] = value;
    }
}

void model_free(Model *m) {
    if (!m) return;
    if (m->ops && m->ops->destroy) m->ops->destroy(m);
    params_free(&m->params);
    free(m);
}
