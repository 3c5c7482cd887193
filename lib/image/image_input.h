/* Image files and encoded bytes to a pre-processed model input, with a
 * reusable workspace: shared by the scorer and the trainer, which both turn
 * many images of varying sizes into [3, H, W] tensors. A file is opened and
 * read once, into the workspace's buffer; its header and pixels are decoded
 * from those bytes; the decoded pixels go to pre-processing in the format
 * the decoder produced them in (grey, RGB or RGBA), without another copy.
 * After one image of a kind and size, the next such image allocates
 * nothing. */
#ifndef FF_IMAGE_IMAGE_INPUT_H
#define FF_IMAGE_IMAGE_INPUT_H

#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"
#include "image/image_internal.h"
#include "image/preprocess.h"

/* Zero-initialise; one thread at a time. */
typedef struct ff_image_buffer {
    uint8_t *file; /* the last file's bytes (malloc'd) */
    size_t file_cap;
    ff_decoder dec;
    ff_prep_work prep;
} ff_image_buffer;

void ff_image_buffer_free(ff_image_buffer *b);

/* Reads `path` whole into b->file; *size_out bytes. */
ff_status ff_image_read(ff_image_buffer *b, const char *path, size_t *size_out);

/* Decodes PNG/JPEG bytes (`what` names them in errors) and pre-processes
 * them into out ([3, out_h, out_w] floats, sides valid for the model);
 * *width_out, *height_out: the image's size (may be NULL). */
ff_status ff_image_bytes_to_input(ff_image_buffer *b, const uint8_t *data, size_t size, const char *what,
                                  int32_t out_w, int32_t out_h, float *out, int32_t *width_out,
                                  int32_t *height_out);

/* ff_image_read + ff_image_bytes_to_input. Errors name the file. */
ff_status ff_image_file_to_input(ff_image_buffer *b, const char *path, int32_t out_w, int32_t out_h, float *out);

#endif
