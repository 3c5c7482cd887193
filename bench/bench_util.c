/* See bench_util.h. */
#define _POSIX_C_SOURCE 199309L
#include "bench_util.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

double bench_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double bench_cpu_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

void bench_sort(double *t, int n) { qsort(t, (size_t)n, sizeof *t, cmp); }

float bench_uniform(uint32_t *state) {
    *state = *state * 1664525u + 1013904223u;
    return (float)(*state >> 8) / 16777216.0f;
}

void bench_fill_input(float *x, size_t n) {
    uint32_t s = 12345;
    for (size_t i = 0; i < n; i++) x[i] = bench_uniform(&s) * 4.0f - 2.0f;
}

int bench_fail(const char *prog, const char *what, ff_status st) {
    fprintf(stderr, "%s: %s: %s: %s\n", prog, what, ff_status_string(st), ff_last_error_message());
    return 1;
}
