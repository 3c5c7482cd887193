/* Image files and pixel buffers to a pre-processed model input, with a
 * reusable decode buffer: shared by the scorer and the trainer, which both
 * turn many images of varying sizes into [3, H, W] tensors. */
#ifndef FF_IMAGE_IMAGE_INPUT_H
#define FF_IMAGE_IMAGE_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"

typedef struct ff_image_buffer {
    uint8_t *pixels;
    size_t capacity;
} ff_image_buffer;

void ff_image_buffer_free(ff_image_buffer *b);

/* Decodes `path` as RGB8 into b (grown as needed) and pre-processes it into
 * out ([3, out_h, out_w] floats). Errors name the file. */
ff_status ff_image_file_to_input(ff_image_buffer *b, const char *path, int32_t out_w, int32_t out_h, float *out);

#endif
