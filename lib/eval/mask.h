/* Ground-truth masks at the model's input size, as anomalib's data
 * pipeline produces them: the mask image resized with nearest neighbour
 * (torch.nn.functional.interpolate(mode="nearest")), then "> 0" -> 1. */
#ifndef FF_EVAL_MASK_H
#define FF_EVAL_MASK_H

#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"

/* Source index of output index `dst` along one axis, exactly as PyTorch's
 * nearest_idx: identity when the sizes match, dst/2 when out == 2*in, else
 * min(floor(dst * (float)in/out), in-1) computed in float. */
int32_t ff_nearest_source_index(int32_t dst, int32_t in_size, int32_t out_size);

/* Nearest-neighbour resize of an 8-bit single-channel image (rows
 * `row_stride` bytes apart) to out_height x out_width (packed), writing 1
 * where the source pixel is non-zero and 0 elsewhere. */
void ff_mask_resize_nearest(const uint8_t *src, int32_t in_height, int32_t in_width,
                            size_t row_stride, int32_t out_height, int32_t out_width,
                            uint8_t *dst);

/* Decodes the mask file at `path` as grey (any PNG/JPEG the image decoder
 * takes) and resizes it as above into `out` (out_height * out_width bytes of
 * 0/1). Errors are the decoder's (FF_E_IO, FF_E_BAD_FORMAT, ...), with the
 * path in the message. */
ff_status ff_mask_load(const char *path, int32_t out_width, int32_t out_height, uint8_t *out);

#endif
