/* Pixel formats, format sniffing, size limits and conversion of decoded
 * pixels into the caller's format. */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "core/settings.h"
#include "image/image_internal.h"

FF_API int32_t ff_pixel_format_channels(int32_t pixel_format) {
    switch (pixel_format) {
    case FF_PIXEL_GRAY8: return 1;
    case FF_PIXEL_RGB8: return 3;
    case FF_PIXEL_RGBA8: return 4;
    case FF_PIXEL_BGR8: return 3;
    default: return 0;
    }
}

ff_status ff_image_sniff(const uint8_t *data, size_t size, const char *what, ff_image_kind *kind) {
    static const uint8_t png_magic[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (size == 0) return ff_fail(FF_E_BAD_FORMAT, "%s: empty (0 bytes), not an image", what);
    if (size >= 8 && memcmp(data, png_magic, 8) == 0) {
        *kind = FF_IMAGE_PNG;
        return FF_OK;
    }
    if (size >= 3 && data[0] == 0xff && data[1] == 0xd8 && data[2] == 0xff) {
        *kind = FF_IMAGE_JPEG;
        return FF_OK;
    }
    /* Show the first bytes: they usually tell what the file really is. */
    char head[3 * 8 + 1] = "";
    size_t n = size < 8 ? size : 8, len = 0;
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(head + len, sizeof head - len, i ? " %02x" : "%02x", data[i]);
    if (size < 8 && memcmp(data, png_magic, size) == 0)
        return ff_fail(FF_E_BAD_FORMAT, "%s: truncated PNG (only %zu bytes)", what, size);
    if (size < 3 && data[0] == 0xff && (size < 2 || data[1] == 0xd8))
        return ff_fail(FF_E_BAD_FORMAT, "%s: truncated JPEG (only %zu bytes)", what, size);
    if (size >= 4 && memcmp(data, png_magic, 4) == 0)
        return ff_fail(FF_E_BAD_FORMAT, "%s: corrupt PNG signature (starts with %s)", what, head);
    return ff_fail(FF_E_BAD_FORMAT, "%s: not a PNG or JPEG image (%zu bytes, starts with %s)", what,
                   size, head);
}

ff_status ff_image_check_size(int64_t width, int64_t height, const char *what) {
    if (width <= 0 || height <= 0)
        return ff_fail(FF_E_BAD_FORMAT, "%s: invalid image size %lldx%lld", what, (long long)width,
                       (long long)height);
    if (width > FF_IMAGE_MAX_SIDE || height > FF_IMAGE_MAX_SIDE)
        return ff_fail(FF_E_LIMIT_EXCEEDED, "%s: absurd image size %lldx%lld (a side above %d)", what,
                       (long long)width, (long long)height, FF_IMAGE_MAX_SIDE);
    int64_t limit = ff_settings_max_image_pixels();
    /* sides <= 1e6, so the product fits in int64 */
    if (width * height > limit)
        return ff_fail(FF_E_LIMIT_EXCEEDED,
                       "%s: image of %lldx%lld = %lld pixels is above the limit of %lld pixels "
                       "(FF_GLOBAL_MAX_IMAGE_PIXELS)",
                       what, (long long)width, (long long)height, (long long)(width * height),
                       (long long)limit);
    return FF_OK;
}

ff_status ff_image_check_buffer(int32_t pixel_format, int32_t width, int32_t height,
                                size_t row_stride, size_t capacity, size_t *stride_out) {
    int32_t ch = ff_pixel_format_channels(pixel_format);
    FF_CHECK_ARG(ch > 0, "unknown pixel format %d (expected FF_PIXEL_GRAY8, RGB8, RGBA8 or BGR8)",
                 (int)pixel_format);
    size_t row_bytes, rows_before, need;
    if (!ff_mul_size((size_t)width, (size_t)ch, &row_bytes))
        return ff_fail(FF_E_LIMIT_EXCEEDED, "row of %d pixels is too large", (int)width);
    size_t stride = row_stride ? row_stride : row_bytes;
    FF_CHECK_ARG(stride >= row_bytes, "row_stride %zu is below width*channels = %zu", row_stride,
                 row_bytes);
    if (!ff_mul_size((size_t)(height - 1), stride, &rows_before) ||
        !ff_add_size(rows_before, row_bytes, &need))
        return ff_fail(FF_E_LIMIT_EXCEEDED, "image of %dx%d with stride %zu is too large",
                       (int)width, (int)height, stride);
    if (capacity < need)
        return ff_fail(FF_E_BUFFER_TOO_SMALL,
                       "pixel buffer holds %zu bytes, a %dx%d image with %d channels and stride %zu "
                       "needs %zu",
                       capacity, (int)width, (int)height, (int)ch, stride, need);
    *stride_out = stride;
    return FF_OK;
}

/* PIL's ImagingConvert RGB -> L: fixed point ITU-R 601-2 luma, rounded. */
static inline uint8_t luma(uint8_t r, uint8_t g, uint8_t b) {
    return (uint8_t)(((uint32_t)r * 19595u + (uint32_t)g * 38470u + (uint32_t)b * 7471u + 0x8000u) >>
                     16);
}

static void convert_row(const uint8_t *s, int32_t sch, int32_t fmt, uint8_t *d, int32_t w) {
    const int has_alpha = sch == 2 || sch == 4;
    const int colour = sch >= 3;
    for (int32_t x = 0; x < w; x++, s += sch) {
        uint8_t r = s[0], g = colour ? s[1] : s[0], b = colour ? s[2] : s[0];
        uint8_t a = has_alpha ? s[sch - 1] : 255;
        switch (fmt) {
        case FF_PIXEL_GRAY8: *d++ = colour ? luma(r, g, b) : r; break;
        case FF_PIXEL_RGB8: d[0] = r, d[1] = g, d[2] = b, d += 3; break;
        case FF_PIXEL_BGR8: d[0] = b, d[1] = g, d[2] = r, d += 3; break;
        default: d[0] = r, d[1] = g, d[2] = b, d[3] = a, d += 4; break; /* RGBA8 */
        }
    }
}

void ff_image_convert(const ff_raw_image *src, int32_t pixel_format, uint8_t *dst, size_t stride) {
    size_t src_row = (size_t)src->width * (size_t)src->channels;
    int same = (pixel_format == FF_PIXEL_GRAY8 && src->channels == 1) ||
               (pixel_format == FF_PIXEL_RGB8 && src->channels == 3) ||
               (pixel_format == FF_PIXEL_RGBA8 && src->channels == 4);
    for (int32_t y = 0; y < src->height; y++) {
        const uint8_t *s = src->pixels + (size_t)y * src_row;
        uint8_t *d = dst + (size_t)y * stride;
        if (same)
            memcpy(d, s, src_row);
        else
            convert_row(s, src->channels, pixel_format, d, src->width);
    }
}
