#include "model.h"

#include <stdio.h>
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

const double *model_time_grad_norms(const Model *m, int *T) {
    *T = 0;
    return m->ops->time_grad_norms ? m->ops->time_grad_norms(m, T) : NULL;
}

void model_reset_time_grad_norms(Model *m) {
    if (m->ops->reset_time_grad_norms) m->ops->reset_time_grad_norms(m);
}

size_t model_time_grad_state(Model *m, double *block, int set) {
    return m->ops->time_grad_state ? m->ops->time_grad_state(m, block, set) : 0;
}

float *model_carried_state(Model *m, size_t *n) {
    *n = 0;
    return m->ops->carried_state ? m->ops->carried_state(m, n) : NULL;
}

int model_steps_per_row(const Model *m, int T, int Ty) {
    return m->ops->steps_per_row ? m->ops->steps_per_row(m, T, Ty) : 1;
}

int model_eval_stat_names(const Model *m, const char **names, int cap) {
    return m->ops->eval_stat_names ? m->ops->eval_stat_names(m, names, cap) : 0;
}

void model_describe_loss(const Model *m, char *buf, size_t cap) {
    if (m->ops->describe_loss) m->ops->describe_loss(m, buf, cap);
    else snprintf(buf, cap, "the loss");
}
