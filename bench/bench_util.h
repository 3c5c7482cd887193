/* Helpers shared by the bench_* programs: a monotonic clock, sorting the
 * timed runs for min/median, a fixed pseudo-random input and the error
 * report. Public API only (fastflow.h), so every benchmark can use it. */
#ifndef FF_BENCH_UTIL_H
#define FF_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"

/* Milliseconds on a monotonic clock. */
double bench_now_ms(void);
/* CPU milliseconds of the whole process (all threads): on a loaded machine
 * a steadier measure of work done than the wall clock. */
double bench_cpu_ms(void);
/* Sorts the n run times ascending: t[0] is the min, t[n / 2] the median. */
void bench_sort(double *t, int n);
/* Uniform in [0, 1) from a linear congruential generator at *state. */
float bench_uniform(uint32_t *state);
/* Fills x[0..n) with fixed pseudo-random values in [-2, 2), about the
 * range of ImageNet-normalised pixels (speed does not depend on them). */
void bench_fill_input(float *x, size_t n);
/* Prints "prog: what: status: message" to stderr; returns 1 (exit code). */
int bench_fail(const char *prog, const char *what, ff_status st);

#endif
