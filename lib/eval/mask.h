/* Ground-truth masks at the model's input size, as anomalib's data
 * pipeline produces them: the mask image resized with nearest neighbour
 * (torch.nn.functional.interpolate(mode="nearest")), then "> 0" -> 1. */
#ifndef FF_EVAL_MASK_H
#define FF_EVAL_MASK_H

#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"
#include "image/resample.h"

/* The resize itself is ff_mask_resize_nearest (image/resample.h, included
 * above), shared with the heatmap contours. */

/* Decodes the mask file at `path` as grey (any PNG/JPEG the image decoder
 * takes) and resizes it as above into `out` (out_height * out_width bytes of
 * 0/1). Errors are the decoder's (FF_E_IO, FF_E_BAD_FORMAT, ...), with the
 * path in the message. */
ff_status ff_mask_load(const char *path, int32_t out_width, int32_t out_height, uint8_t *out);

#endif
