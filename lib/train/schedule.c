#include "schedule.h"

#include <math.h>
#include <string.h>

static const char *const NAMES[] = {"constant", "step", "exponential", "cosine"};

const char *schedule_name(ScheduleType t) { return NAMES[t]; }

int schedule_from_name(const char *name, ScheduleType *t) {
    for (int i = 0; i < 4; i++)
        if (strcmp(name, NAMES[i]) == 0) {
            *t = (ScheduleType)i;
            return 0;
        }
    return -1;
}

double schedule_lr(const Schedule *s, int64_t step, int64_t steps_per_epoch, int64_t total_steps) {
    int64_t epoch = steps_per_epoch > 0 ? step / steps_per_epoch : 0;
    double lr = s->lr;
    switch (s->type) {
    case SCHED_CONSTANT: break;
    case SCHED_STEP: lr = s->lr * pow(s->gamma, (double)(epoch / (s->step_size > 0 ? s->step_size : 1))); break;
    case SCHED_EXPONENTIAL: lr = s->lr * pow(s->gamma, (double)epoch); break;
    case SCHED_COSINE: {
        double frac = total_steps > 0 ? (double)step / (double)total_steps : 0.0;
        if (frac > 1.0) frac = 1.0;
        lr = s->min_lr + (s->lr - s->min_lr) * 0.5 * (1.0 + cos(3.14159265358979323846 * frac));
        break;
    }
    }
    if (s->warmup_steps > 0 && step < s->warmup_steps)
        lr *= (double)(step + 1) / (double)s->warmup_steps;
    return lr;
}
