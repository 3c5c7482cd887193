/* NaN and Inf are the floats with all exponent bits set: testing the bits
 * as integers vectorises (isfinite() on floats does not always), so the
 * check costs one quick pass over memory. Arrays of a million values and
 * more (a trainer's gradients: 5.6 M for resnet18) are split over the
 * OpenMP threads; the result is a plain yes/no, so the split cannot change
 * it. */
#include <stdint.h>

#include "core/finite.h"

int ff_all_finite(const float *x, size_t n) {
    const uint32_t *u = (const uint32_t *)(const void *)x;
    uint32_t bad = 0;
#pragma omp parallel for reduction(| : bad) schedule(static) if (n >= ((size_t)1 << 20))
    for (size_t i = 0; i < n; i++) bad |= (uint32_t)((u[i] & 0x7f800000u) == 0x7f800000u);
    return bad == 0;
}
