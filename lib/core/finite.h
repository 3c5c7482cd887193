/* The one check for NaN and infinities in float arrays, used wherever
 * inputs, loaded tensors or gradients must be finite. */
#ifndef FF_CORE_FINITE_H
#define FF_CORE_FINITE_H

#include <stddef.h>

/* 1 when none of the n floats at x is NaN or +-infinity, else 0. */
int ff_all_finite(const float *x, size_t n);

#endif
