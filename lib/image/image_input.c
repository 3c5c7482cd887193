#include "image/image_input.h"

#include <stdlib.h>

#include "core/error.h"
#include "core/memory.h"

void ff_image_buffer_free(ff_image_buffer *b) {
    free(b->pixels);
    b->pixels = NULL;
    b->capacity = 0;
}

ff_status ff_image_file_to_input(ff_image_buffer *b, const char *path, int32_t out_w, int32_t out_h, float *out) {
    int32_t w = 0, h = 0;
    FF_TRY(ff_image_probe_file(path, NULL, &w, &h));
    size_t bytes;
    if (!ff_mul_size((size_t)w * 3u, (size_t)h, &bytes))
        return ff_fail(FF_E_LIMIT_EXCEEDED, "image '%s' is too large (%dx%d)", path, (int)w, (int)h);
    if (bytes > b->capacity) {
        uint8_t *p = realloc(b->pixels, bytes);
        if (p == NULL) return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate %zu bytes to decode '%s'", bytes, path);
        b->pixels = p;
        b->capacity = bytes;
    }
    FF_TRY(ff_image_decode_file(path, FF_PIXEL_RGB8, b->pixels, bytes, 0));
    ff_status st = ff_image_preprocess(b->pixels, w, h, 0, FF_PIXEL_RGB8, out_w, out_h, out, 3 * (size_t)out_h * (size_t)out_w);
    if (st != FF_OK) return ff_fail_context(st, "pre-processing '%s'", path);
    return FF_OK;
}
