/* The pre-processing behind ff_image_preprocess with a reusable workspace:
 * its resize filters are kept while the sizes stay the same and its
 * buffers only grow, so that pre-processing the next image of a size
 * allocates nothing. */
#ifndef FF_IMAGE_PREPROCESS_H
#define FF_IMAGE_PREPROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"
#include "image/resize_aa.h"

/* Zero-initialise; one thread at a time; ff_prep_work_free. */
typedef struct ff_prep_work {
    ff_aa_filter fx, fy; /* horizontal and vertical filters of the last sizes */
    float *rows;         /* planes x width: one source row in float */
    size_t rows_cap;
    float *mid;          /* planes x height x out_width: after the horizontal pass */
    size_t mid_cap;
} ff_prep_work;

void ff_prep_work_free(ff_prep_work *w);

/* ff_image_preprocess's argument checks; *stride_out: the effective row
 * stride. */
ff_status ff_preprocess_check(const uint8_t *pixels, int32_t width, int32_t height, size_t row_stride,
                              int32_t pixel_format, int32_t out_width, int32_t out_height, const float *out,
                              size_t capacity, size_t *stride_out);

/* ff_image_preprocess without its checks: the arguments are valid (sizes
 * checked, stride the effective one, out holds 3 * ow * oh floats). */
ff_status ff_preprocess_into(ff_prep_work *w, const uint8_t *pixels, int32_t width, int32_t height,
                             size_t stride, int32_t fmt, int32_t ow, int32_t oh, float *out);

#endif
