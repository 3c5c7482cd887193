/* Public image file API: probe and decode PNG/JPEG from files or memory,
 * write PNG atomically. Files are read whole into memory first, so one
 * code path serves both and a truncated file is seen as such. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "core/memory.h"
#include "image/image_internal.h"
#include "core/file_io.h"

#define MEMORY_WHAT "memory buffer"


static ff_status probe(const uint8_t *data, size_t size, const char *what, ff_image_info *info) {
    ff_image_kind kind;
    FF_TRY(ff_image_sniff(data, size, what, &kind));
    return kind == FF_IMAGE_PNG ? ff_png_probe(data, size, what, info)
                                : ff_jpeg_probe(data, size, what, info);
}

static ff_status probe_outputs(const uint8_t *data, size_t size, const char *what, int32_t *w,
                               int32_t *h, int32_t *ch) {
    ff_image_info info;
    FF_TRY(probe(data, size, what, &info));
    if (w) *w = info.width;
    if (h) *h = info.height;
    if (ch) *ch = info.channels;
    return FF_OK;
}

FF_API ff_status ff_image_probe_memory(const void *data, size_t size, int32_t *channels_out,
                                       int32_t *width_out, int32_t *height_out) {
    ff_clear_error();
    FF_CHECK_ARG(data != NULL || size == 0, "data is NULL");
    return probe_outputs(data, size, MEMORY_WHAT, width_out, height_out, channels_out);
}

FF_API ff_status ff_image_probe_file(const char *path, int32_t *channels_out, int32_t *width_out,
                                     int32_t *height_out) {
    ff_clear_error();
    FF_CHECK_ARG(path != NULL, "path is NULL");
    uint8_t *data;
    size_t size;
    FF_TRY(ff_read_file(path, &data, &size));
    ff_status st = probe_outputs(data, size, path, width_out, height_out, channels_out);
    free(data); /* ff_read_file allocates with malloc */
    return st;
}

/* Header first, so that a wrong buffer is reported before any decoding;
 * then a full decode into an internal image, copied out only on success so
 * that the caller's buffer is untouched by any failure. */
static ff_status decode(const uint8_t *data, size_t size, const char *what, int32_t pixel_format,
                        uint8_t *pixels, size_t capacity, size_t row_stride) {
    FF_CHECK_ARG(ff_pixel_format_channels(pixel_format) > 0,
                 "unknown pixel format %d (expected FF_PIXEL_GRAY8, RGB8, RGBA8 or BGR8)",
                 (int)pixel_format);
    ff_image_kind kind;
    FF_TRY(ff_image_sniff(data, size, what, &kind));
    ff_image_info info;
    FF_TRY(kind == FF_IMAGE_PNG ? ff_png_probe(data, size, what, &info)
                                : ff_jpeg_probe(data, size, what, &info));
    FF_TRY(ff_image_check_size(info.width, info.height, what));
    size_t stride;
    FF_TRY(ff_image_check_buffer(pixel_format, info.width, info.height, row_stride, capacity,
                                 &stride));
    ff_raw_image img = {0};
    FF_TRY(kind == FF_IMAGE_PNG ? ff_png_decode(data, size, what, &img)
                                : ff_jpeg_decode(data, size, what, &img));
    if (img.width != info.width || img.height != info.height) {
        ff_raw_image_free(&img);
        return ff_fail(FF_E_INTERNAL, "%s: decoded size differs from the header's", what);
    }
    ff_image_convert(&img, pixel_format, pixels, stride);
    ff_raw_image_free(&img);
    return FF_OK;
}

FF_API ff_status ff_image_decode_memory(const void *data, size_t size, int32_t pixel_format,
                                        uint8_t *pixels, size_t capacity, size_t row_stride) {
    ff_clear_error();
    FF_CHECK_ARG(data != NULL || size == 0, "data is NULL");
    FF_CHECK_ARG(pixels != NULL, "pixels is NULL");
    return decode(data, size, MEMORY_WHAT, pixel_format, pixels, capacity, row_stride);
}

FF_API ff_status ff_image_decode_file(const char *path, int32_t pixel_format, uint8_t *pixels,
                                      size_t capacity, size_t row_stride) {
    ff_clear_error();
    FF_CHECK_ARG(path != NULL, "path is NULL");
    FF_CHECK_ARG(pixels != NULL, "pixels is NULL");
    FF_CHECK_ARG(ff_pixel_format_channels(pixel_format) > 0,
                 "unknown pixel format %d (expected FF_PIXEL_GRAY8, RGB8, RGBA8 or BGR8)",
                 (int)pixel_format);
    uint8_t *data;
    size_t size;
    FF_TRY(ff_read_file(path, &data, &size));
    ff_status st = decode(data, size, path, pixel_format, pixels, capacity, row_stride);
    free(data); /* ff_read_file allocates with malloc */
    return st;
}

FF_API ff_status ff_image_write_png(const char *path, const uint8_t *pixels, int32_t width,
                                    int32_t height, size_t row_stride, int32_t pixel_format) {
    ff_clear_error();
    FF_CHECK_ARG(path != NULL && *path, "path is NULL or empty");
    FF_CHECK_ARG(pixels != NULL, "pixels is NULL");
    FF_CHECK_ARG(width > 0 && height > 0, "image size %dx%d must be positive", (int)width,
                 (int)height);
    FF_CHECK_ARG(width <= FF_IMAGE_MAX_SIDE && height <= FF_IMAGE_MAX_SIDE,
                 "image size %dx%d has a side above %d", (int)width, (int)height, FF_IMAGE_MAX_SIDE);
    size_t stride;
    /* the caller's buffer has no stated capacity: only the stride is checked */
    FF_TRY(ff_image_check_buffer(pixel_format, width, height, row_stride, SIZE_MAX, &stride));
    uint8_t *png;
    size_t size;
    FF_TRY(ff_png_encode(pixels, width, height, stride, pixel_format, path, &png, &size));
    ff_status st = ff_write_file_atomic(path, png, size);
    free(png);
    return st;
}
