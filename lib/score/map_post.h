/* Post-processing of anomaly maps, as the scorer's options apply it:
 * Gaussian smoothing (anomalib's AnomalyMapGenerator / kornia
 * GaussianBlur2d), bilinear resizing to the image's size (torch's
 * F.interpolate, align_corners=False, no antialiasing) and anomalib's
 * min-max normalisation. Plain loops over one map: maps are small next to
 * the backbone's work. */
#ifndef FF_SCORE_MAP_POST_H
#define FF_SCORE_MAP_POST_H

#include <stddef.h>
#include <stdint.h>

#include "core/params.h" /* FF_SMOOTH_SIGMA_MAX: the largest sigma the scorer accepts */
#include "image/resample.h"

/* The kernel side for FF_SMOOTH_SIGMA_MAX. */
#define FF_SMOOTH_MAX_KERNEL 513 /* 2 * int(4 * 64 + 0.5) + 1 */

/* Kernel side for sigma > 0: 2*int(4*sigma + 0.5) + 1. */
int32_t ff_gauss_kernel_size(float sigma);
/* The normalised 1-D kernel (k = ff_gauss_kernel_size floats). */
void ff_gauss_kernel(float sigma, float *kernel, int32_t k);

/* Separable blur of map (h x w) in place: rows first, then columns, each
 * with reflect padding; tmp holds h*w floats. */
void ff_gauss_blur(float *map, int32_t h, int32_t w, const float *kernel, int32_t k, float *tmp);

/* The bilinear resize to the image's size is ff_resize_bilinear
 * (image/resample.h, included above). */

/* anomalib's normalisation: clamp((x - threshold) / (max - min) + 0.5, 0, 1). */
static inline float ff_normalize_value(float x, float threshold, float range) {
    float v = (x - threshold) / range + 0.5f;
    return v < 0.0f ? 0.0f : (v > 1.0f ? 1.0f : v);
}
void ff_normalize_map(float *map, size_t n, float threshold, float range);

#endif
