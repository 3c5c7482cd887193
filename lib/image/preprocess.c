/* ff_image_preprocess: the model's input tensor from 8-bit pixels, as
 * anomalib builds it in PyTorch:
 *   to_tensor (v / 255 in float32)
 *   -> Resize(antialias=True) on the float tensor (resize_aa.c)
 *   -> Normalize: (x - mean) / std in float32 (torchvision's sub_/div_).
 * Output planar float32 [3, out_height, out_width]. */
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "image/image_internal.h"
#include "image/preprocess.h"
#include "image/resize_aa.h"

/* Model input sides above this are certainly a mistake. */
#define FF_PREPROCESS_MAX_SIDE 16384

static const float k_mean[3] = {0.485f, 0.456f, 0.406f};
static const float k_std[3] = {0.229f, 0.224f, 0.225f};

/* One source row into `planes` float rows of `width` (R, G, B or grey). */
static void row_to_float(const uint8_t *s, int32_t fmt, int32_t width, const float *lut,
                         float *const *planes) {
    switch (fmt) {
    case FF_PIXEL_GRAY8:
        for (int32_t x = 0; x < width; x++) planes[0][x] = lut[s[x]];
        break;
    case FF_PIXEL_RGB8:
    case FF_PIXEL_BGR8: {
        const int r = fmt == FF_PIXEL_BGR8 ? 2 : 0;
        for (int32_t x = 0; x < width; x++, s += 3) {
            planes[0][x] = lut[s[r]];
            planes[1][x] = lut[s[1]];
            planes[2][x] = lut[s[2 - r]];
        }
        break;
    }
    default: /* RGBA8: alpha dropped */
        for (int32_t x = 0; x < width; x++, s += 4) {
            planes[0][x] = lut[s[0]];
            planes[1][x] = lut[s[1]];
            planes[2][x] = lut[s[2]];
        }
        break;
    }
}

void ff_prep_work_free(ff_prep_work *w) {
    if (!w) return;
    ff_aa_filter_free(&w->fx);
    ff_aa_filter_free(&w->fy);
    ff_free(w->rows);
    ff_free(w->mid);
    *w = (ff_prep_work){0};
}

/* The filter for in -> out, kept when the last call's sizes were these. */
static ff_status filter_for(ff_aa_filter *f, int32_t in, int32_t out) {
    if (f->weights && f->in_size == in && f->out_size == out) return FF_OK;
    ff_aa_filter_free(f);
    return ff_aa_filter_init(f, in, out);
}

ff_status ff_preprocess_into(ff_prep_work *wk, const uint8_t *pixels, int32_t width, int32_t height,
                             size_t stride, int32_t fmt, int32_t ow, int32_t oh, float *out) {
    const int32_t planes = fmt == FF_PIXEL_GRAY8 ? 1 : 3;
    const int resize_x = width != ow, resize_y = height != oh;
    const size_t out_plane = (size_t)ow * (size_t)oh;
    if (resize_x) FF_TRY(filter_for(&wk->fx, width, ow));
    if (resize_y) FF_TRY(filter_for(&wk->fy, height, oh));

    /* The horizontal pass writes straight into `out` when no vertical pass
     * follows (then height == oh and the layouts agree). */
    float *mid = out;
    size_t mid_plane = (size_t)height * (size_t)ow;
    if (resize_y) {
        size_t n;
        if (!ff_mul_size(mid_plane, (size_t)planes, &n))
            return ff_fail(FF_E_OUT_OF_MEMORY, "pre-processing buffer size overflows");
        FF_TRY(ff_grow_floats(&wk->mid, &wk->mid_cap, n, "pre-processing buffer"));
        mid = wk->mid;
    }
    if (resize_x)
        FF_TRY(ff_grow_floats(&wk->rows, &wk->rows_cap, (size_t)planes * (size_t)width, "pre-processing row"));

    float lut[256];
    for (int v = 0; v < 256; v++) lut[v] = (float)v / 255.0f;

    for (int32_t y = 0; y < height; y++) {
        float *dst[3];
        for (int32_t p = 0; p < planes; p++) dst[p] = mid + (size_t)p * mid_plane + (size_t)y * (size_t)ow;
        const uint8_t *src = pixels + (size_t)y * stride;
        if (!resize_x) {
            row_to_float(src, fmt, width, lut, dst);
            continue;
        }
        float *row[3];
        for (int32_t p = 0; p < planes; p++) row[p] = wk->rows + (size_t)p * (size_t)width;
        row_to_float(src, fmt, width, lut, row);
        for (int32_t p = 0; p < planes; p++) ff_aa_resample_row(&wk->fx, row[p], dst[p]);
    }
    if (resize_y)
        for (int32_t p = 0; p < planes; p++)
            ff_aa_resample_columns(&wk->fy, mid + (size_t)p * mid_plane, (size_t)ow, ow,
                                   out + (size_t)p * out_plane, (size_t)ow);
    if (planes == 1) {
        memcpy(out + out_plane, out, out_plane * sizeof(float));
        memcpy(out + 2 * out_plane, out, out_plane * sizeof(float));
    }
    for (int c = 0; c < 3; c++) {
        float *o = out + (size_t)c * out_plane;
        const float m = k_mean[c], s = k_std[c];
        for (size_t i = 0; i < out_plane; i++) o[i] = (o[i] - m) / s;
    }
    return FF_OK;
}

ff_status ff_preprocess_check(const uint8_t *pixels, int32_t width, int32_t height, size_t row_stride,
                              int32_t pixel_format, int32_t out_width, int32_t out_height, const float *out,
                              size_t capacity, size_t *stride_out) {
    FF_CHECK_ARG(pixels != NULL, "pixels is NULL");
    FF_CHECK_ARG(out != NULL, "out is NULL");
    FF_CHECK_ARG(width > 0 && height > 0, "image size %dx%d must be positive", (int)width,
                 (int)height);
    FF_CHECK_ARG(out_width > 0 && out_height > 0 && out_width <= FF_PREPROCESS_MAX_SIDE &&
                     out_height <= FF_PREPROCESS_MAX_SIDE,
                 "output size %dx%d must be within [1, %d]", (int)out_width, (int)out_height,
                 FF_PREPROCESS_MAX_SIDE);
    FF_TRY(ff_image_check_size(width, height, "input image"));
    FF_TRY(ff_image_check_buffer(pixel_format, width, height, row_stride, SIZE_MAX, stride_out));
    size_t need = 3 * (size_t)out_width * (size_t)out_height;
    if (capacity < need)
        return ff_fail(FF_E_BUFFER_TOO_SMALL,
                       "output holds %zu floats, [3, %d, %d] needs %zu", capacity, (int)out_height,
                       (int)out_width, need);
    return FF_OK;
}

FF_API ff_status ff_image_preprocess(const uint8_t *pixels, int32_t width, int32_t height,
                                     size_t row_stride, int32_t pixel_format, int32_t out_width,
                                     int32_t out_height, float *out, size_t capacity) {
    ff_clear_error();
    size_t stride;
    FF_TRY(ff_preprocess_check(pixels, width, height, row_stride, pixel_format, out_width, out_height, out,
                               capacity, &stride));
    /* All intermediate results go to internal buffers or to `out`, which is
     * only written once every allocation has succeeded. */
    ff_prep_work wk = {0};
    ff_status st = ff_preprocess_into(&wk, pixels, width, height, stride, pixel_format, out_width, out_height, out);
    ff_prep_work_free(&wk);
    return st;
}
