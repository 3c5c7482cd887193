/* Mask files: decode as grey, then the nearest-neighbour resize. */
#include "eval/mask.h"

#include "core/error.h"
#include "core/memory.h"

ff_status ff_mask_load(const char *path, int32_t out_width, int32_t out_height, uint8_t *out) {
    FF_CHECK_ARG(path != NULL, "ff_mask_load: path is NULL");
    FF_CHECK_ARG(out != NULL, "ff_mask_load: out is NULL");
    FF_CHECK_ARG(out_height > 0 && out_width > 0,
                 "ff_mask_load: output size %dx%d must be positive", (int)out_width,
                 (int)out_height);
    int32_t w = 0, h = 0;
    ff_status st = ff_image_probe_file(path, NULL, &w, &h);
    if (st != FF_OK) return ff_fail_context(st, "mask '%s'", path);
    size_t bytes;
    if (!ff_mul_size((size_t)w, (size_t)h, &bytes))
        return ff_fail(FF_E_LIMIT_EXCEEDED, "mask '%s': %dx%d is too large", path, (int)w, (int)h);
    uint8_t *pixels = ff_alloc(bytes);
    if (!pixels)
        return ff_fail(FF_E_OUT_OF_MEMORY, "mask '%s': cannot allocate %zu bytes", path, bytes);
    st = ff_image_decode_file(path, FF_PIXEL_GRAY8, pixels, bytes, (size_t)w);
    if (st == FF_OK) {
        ff_mask_resize_nearest(pixels, h, w, (size_t)w, out_height, out_width, out);
    } else {
        ff_fail_context(st, "mask '%s'", path);
    }
    ff_free(pixels);
    return st;
}
