/* The library's resamplers (see resample.h for which idea each serves and
 * where float vs double matters). */
#include "image/resample.h"

#include <math.h>

/* ---------------------------------------------------------- nearest -- */

int32_t ff_nearest_source_index(int32_t dst, int32_t in_size, int32_t out_size) {
    if (out_size == in_size) return dst;
    if (out_size == 2 * in_size) return dst >> 1;
    /* float on purpose: PyTorch computes the scale and the product in float,
     * and for some sizes the result differs from the exact dst*in/out. */
    float scale = (float)in_size / (float)out_size;
    int64_t src = (int64_t)floorf((float)dst * scale);
    return src < in_size - 1 ? (int32_t)src : in_size - 1;
}

void ff_mask_resize_nearest(const uint8_t *src, int32_t in_height, int32_t in_width,
                            size_t row_stride, int32_t out_height, int32_t out_width,
                            uint8_t *dst) {
    for (int32_t y = 0; y < out_height; y++) {
        const uint8_t *row = src + (size_t)ff_nearest_source_index(y, in_height, out_height) *
                                       row_stride;
        uint8_t *o = dst + (size_t)y * (size_t)out_width;
        for (int32_t x = 0; x < out_width; x++)
            o[x] = row[ff_nearest_source_index(x, in_width, out_width)] != 0;
    }
}

/* --------------------------------------------------------- bilinear -- */

/* torch's bilinear source index and weights (align_corners=False) with
 * its exact roundings, checked against torch 1.13 weight by weight: scale =
 * (float)in / out in float; src = scale * (dst + 0.5) - 0.5 in double,
 * clamped at 0; i0 = (int)src, i1 = i0 + 1 except at the last index;
 * lambda1 = (float)(src - i0), lambda0 = 1 - lambda1 in float.
 * The flow's maps used to compute src in float (PyTorch's float path); for
 * the integer upscales they need (strides 4, 8, 16 at every input side the
 * model admits) both precisions give the same taps, bit for bit, so this one
 * function serves both; test_resample checks that equality size by size. */
static ff_axis_tap tap_f64(int32_t in, int32_t out, int32_t i) {
    float scale = (float)in / (float)out;
    double src = (double)scale * ((double)i + 0.5) - 0.5;
    if (src < 0.0) src = 0.0;
    int32_t a = (int32_t)src;
    if (a > in - 1) a = in - 1;
    ff_axis_tap t;
    t.i0 = a;
    t.i1 = a + (a < in - 1 ? 1 : 0);
    t.l1 = (float)(src - (double)a);
    t.l0 = 1.0f - t.l1;
    return t;
}

void ff_bilinear_taps(int32_t in, int32_t out, ff_axis_tap *t) {
    for (int32_t o = 0; o < out; o++) t[o] = tap_f64(in, out, o);
}

void ff_resize_bilinear(const float *src, int32_t sh, int32_t sw, float *dst, int32_t dh, int32_t dw) {
    for (int32_t y = 0; y < dh; y++) {
        const ff_axis_tap a = tap_f64(sh, dh, y);
        const float *r0 = src + (size_t)a.i0 * (size_t)sw, *r1 = src + (size_t)a.i1 * (size_t)sw;
        float *o = dst + (size_t)y * (size_t)dw;
        for (int32_t x = 0; x < dw; x++) {
            const ff_axis_tap b = tap_f64(sw, dw, x);
            o[x] = a.l0 * (b.l0 * r0[b.i0] + b.l1 * r0[b.i1]) + a.l1 * (b.l0 * r1[b.i0] + b.l1 * r1[b.i1]);
        }
    }
}
