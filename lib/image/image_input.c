#include "image/image_input.h"

#include <stdlib.h>

#include "core/error.h"
#include "core/memory.h"
#include "core/file_io.h"

void ff_image_buffer_free(ff_image_buffer *b) {
    if (!b) return;
    free(b->file);
    ff_decoder_free(&b->dec);
    ff_prep_work_free(&b->prep);
    *b = (ff_image_buffer){0};
}

ff_status ff_image_read(ff_image_buffer *b, const char *path, size_t *size_out) {
    return ff_read_file_into(path, &b->file, &b->file_cap, size_out);
}

/* Pixel format of a decoded image for pre-processing; grey+alpha, which
 * pre-processing does not take, is compacted to grey in place (the alpha
 * would be dropped anyway). */
static int32_t input_format(ff_raw_image *img) {
    switch (img->channels) {
    case 1: return FF_PIXEL_GRAY8;
    case 3: return FF_PIXEL_RGB8;
    case 4: return FF_PIXEL_RGBA8;
    default: {
        size_t n = (size_t)img->width * (size_t)img->height;
        for (size_t i = 0; i < n; i++) img->pixels[i] = img->pixels[2 * i];
        img->channels = 1;
        return FF_PIXEL_GRAY8;
    }
    }
}

ff_status ff_image_bytes_to_input(ff_image_buffer *b, const uint8_t *data, size_t size, const char *what,
                                  int32_t out_w, int32_t out_h, float *out, int32_t *width_out,
                                  int32_t *height_out) {
    ff_raw_image img;
    FF_TRY(ff_decoder_run(&b->dec, data, size, what, &img));
    int32_t fmt = input_format(&img);
    size_t stride = (size_t)img.width * (size_t)img.channels;
    ff_status st = ff_preprocess_into(&b->prep, img.pixels, img.width, img.height, stride, fmt, out_w, out_h, out);
    if (st != FF_OK) return ff_fail_context(st, "pre-processing '%s'", what);
    if (width_out) *width_out = img.width;
    if (height_out) *height_out = img.height;
    return FF_OK;
}

ff_status ff_image_file_to_input(ff_image_buffer *b, const char *path, int32_t out_w, int32_t out_h, float *out) {
    size_t size = 0;
    FF_TRY(ff_image_read(b, path, &size));
    return ff_image_bytes_to_input(b, b->file, size, path, out_w, out_h, out, NULL, NULL);
}
