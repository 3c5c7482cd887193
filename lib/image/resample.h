/* The library's resamplers, one function per idea (lib/image/resample.c):
 *
 *  - nearest neighbour, PyTorch's interpolate(mode="nearest"): masks for
 *    the evaluation protocol and for heatmap contours;
 *  - bilinear with align_corners=false, PyTorch's interpolate(mode=
 *    "bilinear"): anomaly maps upsampled from the feature grid (flow) and
 *    resized to the image (scorer option FF_SCORER_MAP_SIZE).
 *
 * The antialiased bilinear filters are in image/resize_aa.h: torch's
 * weights in float for pre-processing (ff_aa_filter_init) and PIL's in
 * double for heatmap pictures (ff_aa_filter_init_pil).
 *
 * Where float vs double matters: torch 1.13's F.interpolate computes the
 * bilinear source index in double (checked weight by weight), and a float
 * computation gives different taps (an index or the last bit of a weight) for most
 * general sizes (2551 of the 2964 pairs in in [2, 40), out [2, 80)), so the
 * resize to an image's own size must compute it in double. The flow's maps,
 * which used to compute it in float, are integer upscales (x4, x8, x16) for
 * which both precisions give identical taps at every input side the model
 * admits (32..4096, checked by test_resample), so one function, in double,
 * serves both callers with
 * bit-identical results. The two antialiased filters differ in the last
 * bits of most weights, and each caller is pinned to its own reference, so
 * they stay a typed pair (resize_aa.h). */
#ifndef FF_IMAGE_RESAMPLE_H
#define FF_IMAGE_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

/* ---- nearest neighbour ---- */

/* Source index of output index `dst` along one axis, exactly as PyTorch's
 * nearest_idx: identity when the sizes match, dst/2 when out == 2*in, else
 * min(floor(dst * (float)in/out), in-1) computed in float. */
int32_t ff_nearest_source_index(int32_t dst, int32_t in_size, int32_t out_size);

/* Nearest-neighbour resize of an 8-bit single-channel image (rows
 * `row_stride` bytes apart) to out_height x out_width (packed), writing 1
 * where the source pixel is non-zero and 0 elsewhere (a mask). */
void ff_mask_resize_nearest(const uint8_t *src, int32_t in_height, int32_t in_width,
                            size_t row_stride, int32_t out_height, int32_t out_width,
                            uint8_t *dst);

/* ---- bilinear, align_corners = false ---- */

/* Taps of one output index along one axis: out = l0 * in[i0] + l1 * in[i1]. */
typedef struct ff_axis_tap {
    int32_t i0, i1;
    float l0, l1;
} ff_axis_tap;

/* Taps for in -> out pixels with the source index src = scale * (o + 0.5)
 * - 0.5 (scale = (float)in / out, src in double), clamped at 0; i1 = i0 + 1
 * except at the last pixel; l1 = (float)(src - i0), l0 = 1 - l1. */
void ff_bilinear_taps(int32_t in, int32_t out, ff_axis_tap *taps);

/* One float map src [sh, sw] resized to dst [dh, dw] with these taps:
 * torch's F.interpolate(mode="bilinear", align_corners=False) on a float
 * map, with torch's weights; values within 3e-7 relative (torch adds the
 * four products in another order). */
void ff_resize_bilinear(const float *src, int32_t sh, int32_t sw, float *dst, int32_t dh, int32_t dw);

#endif
