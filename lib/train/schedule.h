/* schedule.h — learning-rate schedules, as pure functions of the step.
 *
 * Because the rate is a function of (step, steps per epoch, total steps) alone, a resumed run
 * continues exactly where it stopped with nothing to save. With e = ⌊step / steps_per_epoch⌋:
 *   constant     η
 *   step         η γ^⌊e / step_size⌋
 *   exponential  η γ^e
 *   cosine       η_min + (η − η_min)(1 + cos(π s / S)) / 2,  s = step, S = total steps
 * and an optional linear warm-up over the first warmup_steps steps that multiplies any of them. */
#ifndef EXPRUN_SCHEDULE_H
#define EXPRUN_SCHEDULE_H

#include <stdint.h>

typedef enum ScheduleType { SCHED_CONSTANT, SCHED_STEP, SCHED_EXPONENTIAL, SCHED_COSINE } ScheduleType;

typedef struct Schedule {
    ScheduleType type;
    double lr;                    /* η, the base rate */
    double gamma;                 /* step, exponential */
    int step_size;                /* step: epochs between decays */
    double min_lr;                /* cosine: η_min */
    int64_t warmup_steps;
} Schedule;

const char *schedule_name(ScheduleType t);
int schedule_from_name(const char *name, ScheduleType *t);
double schedule_lr(const Schedule *s, int64_t step, int64_t steps_per_epoch, int64_t total_steps);

#endif
