/* The nearest-neighbour resize of the mask pipeline (PyTorch semantics). */
#include "eval/mask.h"

#include <math.h>

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
