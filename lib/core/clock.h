/* clock.h — seconds on the monotonic clock (durations: epoch times, rates, timeouts), never
 * the wall clock, which can jump. */
#ifndef EXPRUN_CLOCK_H
#define EXPRUN_CLOCK_H

double now_seconds(void);

#endif
