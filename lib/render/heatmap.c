/* Heatmap overlays: an anomaly map coloured with Turbo, blended over the
 * input picture, and a ground-truth mask's contour drawn on top. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "core/settings.h"
#include "fastflow.h"
#include "image/resample.h"
#include "image/resize_aa.h"
#include "render/colormap.h"

/* Bytes a width x height picture of `channels` bytes per pixel needs with
 * rows `stride` apart; false on overflow. */
static bool picture_bytes(int32_t width, int32_t height, size_t channels, size_t stride, size_t *out) {
    size_t row, rows, total;
    if (!ff_mul_size((size_t)width, channels, &row)) return false;
    if (!ff_mul_size((size_t)(height - 1), stride, &rows)) return false;
    if (!ff_add_size(rows, row, &total)) return false;
    *out = total;
    return true;
}

static ff_status check_picture(const char *what, int32_t width, int32_t height, size_t channels, size_t *stride,
                               size_t capacity, bool has_capacity) {
    FF_CHECK_ARG(width > 0 && height > 0, "%s: size %dx%d must be positive", what, (int)width, (int)height);
    if ((int64_t)width * (int64_t)height > ff_settings_max_image_pixels())
        return ff_fail(FF_E_LIMIT_EXCEEDED, "%s: %dx%d pixels exceed the limit of %lld", what, (int)width,
                       (int)height, (long long)ff_settings_max_image_pixels());
    size_t packed = (size_t)width * channels;
    if (*stride == 0) *stride = packed;
    FF_CHECK_ARG(*stride >= packed, "%s: row stride %zu is below width x channels = %zu", what, *stride, packed);
    size_t need;
    if (!picture_bytes(width, height, channels, *stride, &need))
        return ff_fail(FF_E_INVALID_ARGUMENT, "%s: size overflow", what);
    if (has_capacity && capacity < need)
        return ff_fail(FF_E_BUFFER_TOO_SMALL, "%s: capacity %zu bytes, need %zu", what, capacity, need);
    return FF_OK;
}

static inline void read_rgb(const uint8_t *row, int32_t x, int32_t format, float rgb[3]) {
    switch (format) {
    case FF_PIXEL_GRAY8: rgb[0] = rgb[1] = rgb[2] = row[x]; break;
    case FF_PIXEL_RGB8: rgb[0] = row[3 * x], rgb[1] = row[3 * x + 1], rgb[2] = row[3 * x + 2]; break;
    case FF_PIXEL_RGBA8: rgb[0] = row[4 * x], rgb[1] = row[4 * x + 1], rgb[2] = row[4 * x + 2]; break;
    default: rgb[0] = row[3 * x + 2], rgb[1] = row[3 * x + 1], rgb[2] = row[3 * x]; break; /* BGR8 */
    }
}

/* The picture resized to width x height as packed float RGB in [0, 255],
 * with PIL's weights (ff_aa_filter_init_pil) and plain in-order sums. */
static ff_status resize_to_rgb(const uint8_t *image, int32_t iw, int32_t ih, size_t stride, int32_t format,
                               int32_t width, int32_t height, float **out) {
    ff_aa_filter tx = {0}, ty = {0};
    float *tmp = NULL, *dst = NULL;
    ff_status st = ff_aa_filter_init_pil(&tx, iw, width);
    if (st == FF_OK) st = ff_aa_filter_init_pil(&ty, ih, height);
    if (st == FF_OK) st = ff_alloc_floats((size_t)ih * (size_t)width * 3, "heatmap resize", &tmp);
    if (st == FF_OK) st = ff_alloc_floats((size_t)height * (size_t)width * 3, "heatmap resize", &dst);
    if (st != FF_OK) goto done;
    /* horizontal pass: every input row to `width` columns */
    for (int32_t y = 0; y < ih; y++) {
        const uint8_t *row = image + (size_t)y * stride;
        float *o = tmp + (size_t)y * (size_t)width * 3;
        for (int32_t x = 0; x < width; x++) {
            const float *w = tx.weights + (size_t)x * (size_t)tx.taps;
            float acc[3] = {0, 0, 0}, px[3];
            for (int32_t k = 0; k < tx.count[x]; k++) {
                read_rgb(row, tx.start[x] + k, format, px);
                acc[0] += w[k] * px[0], acc[1] += w[k] * px[1], acc[2] += w[k] * px[2];
            }
            memcpy(o + 3 * (size_t)x, acc, sizeof acc);
        }
    }
    /* vertical pass */
    for (int32_t y = 0; y < height; y++) {
        const float *w = ty.weights + (size_t)y * (size_t)ty.taps;
        float *o = dst + (size_t)y * (size_t)width * 3;
        memset(o, 0, sizeof(float) * 3 * (size_t)width);
        for (int32_t k = 0; k < ty.count[y]; k++) {
            const float *r = tmp + (size_t)(ty.start[y] + k) * (size_t)width * 3;
            for (size_t i = 0; i < 3 * (size_t)width; i++) o[i] += w[k] * r[i];
        }
    }
    *out = dst;
    dst = NULL;
done:
    ff_free(dst);
    ff_free(tmp);
    ff_aa_filter_free(&tx);
    ff_aa_filter_free(&ty);
    return st;
}

static inline uint8_t to_u8(float v) {
    if (!(v > 0.0f)) return 0;
    if (v >= 255.0f) return 255;
    return (uint8_t)(v + 0.5f);
}

FF_API ff_status ff_heatmap_render(const float *map, int32_t width, int32_t height, float lo, float hi,
                                   const uint8_t *image, int32_t image_width, int32_t image_height,
                                   size_t image_stride, int32_t image_format, float alpha, uint8_t *out_rgb,
                                   size_t out_capacity, size_t out_stride) {
    ff_clear_error();
    FF_CHECK_ARG(map != NULL, "heatmap: map is NULL");
    FF_CHECK_ARG(out_rgb != NULL, "heatmap: out_rgb is NULL");
    FF_CHECK_ARG(isfinite(lo) && isfinite(hi) && lo < hi, "heatmap: need finite lo < hi, got lo=%g hi=%g",
                 (double)lo, (double)hi);
    FF_CHECK_ARG(isfinite(alpha) && alpha >= 0.0f && alpha <= 1.0f, "heatmap: alpha %g is outside [0, 1]",
                 (double)alpha);
    FF_TRY(check_picture("heatmap output", width, height, 3, &out_stride, out_capacity, true));
    size_t n = (size_t)width * (size_t)height;
    for (size_t i = 0; i < n; i++)
        if (isnan(map[i])) return ff_fail(FF_E_INVALID_ARGUMENT, "heatmap: map[%zu] is NaN", i);
    float *rgb = NULL;
    if (image) {
        int32_t channels = ff_pixel_format_channels(image_format);
        FF_CHECK_ARG(channels > 0, "heatmap: unknown image pixel format %d", (int)image_format);
        FF_TRY(check_picture("heatmap image", image_width, image_height, (size_t)channels, &image_stride, 0, false));
        FF_TRY(resize_to_rgb(image, image_width, image_height, image_stride, image_format, width, height, &rgb));
    }
    const float scale = 255.0f / (hi - lo);
    for (int32_t y = 0; y < height; y++) {
        const float *m = map + (size_t)y * (size_t)width;
        uint8_t *o = out_rgb + (size_t)y * out_stride;
        const float *px = rgb ? rgb + (size_t)y * (size_t)width * 3 : NULL;
        for (int32_t x = 0; x < width; x++) {
            float t = (m[x] - lo) * scale; /* +-inf clamp like any other value */
            int idx = t > 0.0f ? (t < 255.0f ? (int)(t + 0.5f) : 255) : 0;
            const uint8_t *c = ff_turbo_rgb[idx];
            for (int k = 0; k < 3; k++)
                o[3 * x + k] = px ? to_u8((1.0f - alpha) * px[3 * x + k] + alpha * (float)c[k]) : c[k];
        }
    }
    ff_free(rgb);
    return FF_OK;
}

FF_API ff_status ff_heatmap_draw_contour(const uint8_t *mask, int32_t mask_width, int32_t mask_height,
                                         size_t mask_stride, uint32_t color_rgb, uint8_t *rgb, int32_t width,
                                         int32_t height, size_t rgb_capacity, size_t rgb_stride) {
    ff_clear_error();
    FF_CHECK_ARG(mask != NULL, "contour: mask is NULL");
    FF_CHECK_ARG(rgb != NULL, "contour: rgb is NULL");
    FF_CHECK_ARG(color_rgb <= 0xFFFFFFu, "contour: colour 0x%X is not 0xRRGGBB", (unsigned)color_rgb);
    FF_TRY(check_picture("contour mask", mask_width, mask_height, 1, &mask_stride, 0, false));
    FF_TRY(check_picture("contour picture", width, height, 3, &rgb_stride, rgb_capacity, true));
    /* the mask at the picture's size, nearest neighbour exactly as the
     * evaluation resizes masks (image/resample.h, PyTorch's nearest_idx) */
    uint8_t *bin = ff_alloc((size_t)width * (size_t)height);
    if (!bin) return ff_fail(FF_E_OUT_OF_MEMORY, "contour: cannot allocate %dx%d", (int)width, (int)height);
    ff_mask_resize_nearest(mask, mask_height, mask_width, mask_stride, height, width, bin);
    const uint8_t col[3] = {(uint8_t)(color_rgb >> 16), (uint8_t)(color_rgb >> 8), (uint8_t)color_rgb};
    for (int32_t y = 0; y < height; y++) {
        for (int32_t x = 0; x < width; x++) {
            uint8_t v = bin[(size_t)y * (size_t)width + (size_t)x];
            bool edge = false;
            for (int32_t dy = -1; dy <= 1 && !edge; dy++) {
                int32_t yy = y + dy;
                if (yy < 0 || yy >= height) continue;
                for (int32_t dx = -1; dx <= 1; dx++) {
                    int32_t xx = x + dx;
                    if (xx < 0 || xx >= width) continue;
                    if (bin[(size_t)yy * (size_t)width + (size_t)xx] != v) {
                        edge = true;
                        break;
                    }
                }
            }
            if (edge) memcpy(rgb + (size_t)y * rgb_stride + 3 * (size_t)x, col, 3);
        }
    }
    ff_free(bin);
    return FF_OK;
}
