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

Batch batch_rows(const Batch *b, int r0, int r1) {
    Batch s = *b;
    s.B = r1 - r0;
    if (b->x) s.x = b->x + (size_t)r0 * b->T * b->d;
    if (b->x_tokens) s.x_tokens = b->x_tokens + (size_t)r0 * b->T;
    if (b->labels) s.labels = b->labels + r0;
    if (b->y) s.y = b->y + (size_t)r0 * b->Ty * b->dy;
    if (b->y_tokens) s.y_tokens = b->y_tokens + (size_t)r0 * b->Ty;
    return s;
}

void model_free(Model *m) {
    if (!m) return;
    if (m->ops && m->ops->destroy) m->ops->destroy(m);
    params_free(&m->params);
    free(m);
}
