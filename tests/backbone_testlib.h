/* Helpers shared by the backbone tests: seeded random ResNet weights (the
 * generator documented in tools/reference/gen_backbone_golden.py) and
 * feature extraction into freshly allocated arrays. */
#ifndef FF_TESTS_BACKBONE_TESTLIB_H
#define FF_TESTS_BACKBONE_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"
#include "tensor/safetensors.h"

/* Value i of the splitmix64 counter stream `seed`, in [0, 1). */
float bt_uniform(uint64_t seed, uint64_t i);

/* Serialised safetensors state dict for `arch` up to layer3 with the
 * golden generator's weights. Names get `prefix`; the tensor called `skip`
 * (name without prefix; NULL for none) is left out; the tensor called
 * `reshape` is written with a leading dimension of 1 added (same data,
 * wrong shape). Extra fc.weight and num_batches_tracked tensors are added,
 * as in a real checkpoint. first/last (may be NULL) receive the first and
 * last 8 generated values. Returns the bytes (free()), NULL on failure. */
uint8_t *bt_random_weights(const char *arch, uint64_t seed, const char *prefix, const char *skip,
                           const char *reshape, size_t *size_out, float first[8], float last[8]);

/* Runs `ex` (over `bb`) on input and returns the three levels, NCHW
 * (malloc'd, free each) and their sizes. */
ff_status bt_extract(const ff_backbone *bb, ff_extractor *ex, const float *input, int32_t batch, int32_t w,
                     int32_t h, float *levels[3], size_t counts[3]);

/* Compares got[l] (counts[l] floats) with the golden's "features.<l>" for
 * the three levels at max-relative tolerance tol (a check each, labelled
 * "<label> level <l>"). Returns how many levels equal the golden bit for
 * bit. */
int bt_check_levels(const ff_st_file *g, float *const got[3], const size_t counts[3], const char *label, double tol);

/* Reads F32 tensor `name` of a golden file into a malloc'd array. */
float *bt_golden(const ff_st_file *f, const char *name, size_t *count);

#endif
