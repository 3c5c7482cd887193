/* Random transformer weights generated in C (for the full-size tests and
 * the benchmark: hundreds of MB that are never stored). */
#ifndef FF_TESTS_VIT_TESTLIB_H
#define FF_TESTS_VIT_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "backbone/vit_arch.h"
#include "tensor/safetensors.h"

/* A safetensors file in memory (free with free()) holding every tensor the
 * used part of `arch` needs, under timm's names with `prefix`, as `dtype`
 * (F32 or F16), seeded. Values have realistic magnitudes (Linear weights
 * ~U(+-1.7/sqrt(fan_in)), LayerNorm weights ~1, small LayerScale) so that
 * the activations stay finite through every block. NULL on failure. */
uint8_t *vt_random_weights(const ff_vit_arch *arch, uint64_t seed, const char *prefix, ff_dtype dtype,
                           size_t *size_out);

#endif
