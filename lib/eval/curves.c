/* Storage of the plotted metric curves (curves.h); the walks themselves
 * live beside their metrics in binary_metrics.c and metric_pro.c. */
#include "eval/curves.h"

#include <math.h>
#include <stdlib.h>

#include "core/error.h"

void ff_curve_init(ff_curve *c, double min_step) {
    c->x = c->y = NULL;
    c->n = c->capacity = 0;
    c->min_step = min_step;
}

ff_status ff_curve_add(ff_curve *c, double x, double y, int last) {
    if (c->n > 0 && !last && fabs(x - c->x[c->n - 1]) < c->min_step && fabs(y - c->y[c->n - 1]) < c->min_step)
        return FF_OK;
    if (c->n == c->capacity) {
        size_t cap = c->capacity ? 2 * c->capacity : 256;
        double *nx = realloc(c->x, cap * sizeof *nx);
        if (!nx) return ff_fail(FF_E_OUT_OF_MEMORY, "cannot grow a curve to %zu points", cap);
        c->x = nx;
        double *ny = realloc(c->y, cap * sizeof *ny);
        if (!ny) return ff_fail(FF_E_OUT_OF_MEMORY, "cannot grow a curve to %zu points", cap);
        c->y = ny;
        c->capacity = cap;
    }
    c->x[c->n] = x;
    c->y[c->n] = y;
    c->n++;
    return FF_OK;
}

void ff_curve_free(ff_curve *c) {
    free(c->x);
    free(c->y);
    c->x = c->y = NULL;
    c->n = c->capacity = 0;
}
