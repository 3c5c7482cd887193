/* Internal interface of the image layer: codecs decode into a packed 8-bit
 * raw image with the file's own channels, which is then converted into the
 * caller's pixel format. Every function names `what` (a path or "memory
 * buffer") in its error messages. */
#ifndef FF_IMAGE_INTERNAL_H
#define FF_IMAGE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "fastflow.h"

/* Largest width or height accepted from any file header; images this wide
 * are surely hostile (libpng's own default limit is 1e6, JPEG's 65500). */
#define FF_IMAGE_MAX_SIDE 1000000

typedef enum ff_image_kind { FF_IMAGE_PNG = 1, FF_IMAGE_JPEG = 2 } ff_image_kind;

/* Header facts. channels: 1 grey, 2 grey+alpha, 3 colour, 4 colour+alpha
 * (or CMYK for JPEG). */
typedef struct ff_image_info {
    int32_t width;
    int32_t height;
    int32_t channels;
} ff_image_info;

/* Decoded pixels, packed rows of width*channels bytes; channels 1 (grey),
 * 2 (grey+alpha), 3 (RGB) or 4 (RGBA). The pixels belong to the decoder
 * that made them and are valid until its next decode. */
typedef struct ff_raw_image {
    int32_t width;
    int32_t height;
    int32_t channels;
    uint8_t *pixels;
} ff_raw_image;

typedef struct jpeg_ctx ff_jpeg_reader;

/* A reusable decoding workspace: everything a PNG or JPEG decode needs
 * besides the encoded bytes. Buffers only grow, and libpng's and libjpeg's
 * per-image allocations come from the arena, so once a decoder has decoded
 * an image of a given kind and size, decoding another one allocates
 * nothing. Zero-initialise; one thread at a time; ff_decoder_free. */
typedef struct ff_decoder {
    ff_arena arena;
    uint8_t *pixels; /* the decoded image */
    size_t pixels_cap;
    uint8_t *rows;   /* PNG row pointers */
    size_t rows_cap;
    uint8_t *row;    /* JPEG: one CMYK row */
    size_t row_cap;
    ff_jpeg_reader *jpeg; /* libjpeg's object, kept from image to image */
    uint8_t *oriented; /* the picture turned upright (EXIF orientation 2-8) */
    size_t oriented_cap;
} ff_decoder;

void ff_decoder_free(ff_decoder *d);
/* Sniffs and decodes PNG or JPEG bytes into d's pixel buffer, turned
 * upright for a JPEG's EXIF orientation unless FF_GLOBAL_EXIF_ORIENTATION
 * is 0; the size is checked against the limits (ff_image_check_size)
 * before any pixel buffer exists. */
ff_status ff_decoder_run(ff_decoder *d, const uint8_t *data, size_t size, const char *what, ff_raw_image *out);

/* Detects the format from magic bytes; FF_E_BAD_FORMAT for empty or
 * non-image data, with a message naming `what`. */
ff_status ff_image_sniff(const uint8_t *data, size_t size, const char *what, ff_image_kind *kind);

/* Rejects absurd sides and images above FF_GLOBAL_MAX_IMAGE_PIXELS with
 * FF_E_LIMIT_EXCEEDED; called by the codecs right after the header, before
 * any pixel buffer exists. */
ff_status ff_image_check_size(int64_t width, int64_t height, const char *what);

/* Validates pixel format, stride and capacity of a caller buffer for a
 * width x height image (FF_E_INVALID_ARGUMENT, FF_E_BUFFER_TOO_SMALL);
 * *stride_out receives the effective stride. */
ff_status ff_image_check_buffer(int32_t pixel_format, int32_t width, int32_t height,
                                size_t row_stride, size_t capacity, size_t *stride_out);

/* Writes `src` into a caller buffer in `pixel_format` (already validated).
 * Grey -> colour replicates; colour -> GRAY8 uses PIL's 'L' weights
 * (ITU-R 601-2: L = R*299/1000 + G*587/1000 + B*114/1000, rounded); alpha is
 * dropped, or 255 when RGBA8 is asked of an image without alpha. */
void ff_image_convert(const ff_raw_image *src, int32_t pixel_format, uint8_t *dst, size_t stride);

/* PNG (png_codec.c) */
ff_status ff_png_probe(const uint8_t *data, size_t size, const char *what, ff_image_info *info);
ff_status ff_png_decode(ff_decoder *dec, const uint8_t *data, size_t size, const char *what, ff_raw_image *out);
/* Encodes 8-bit grey (channels 1) or RGB (channels 3) rows into a PNG in
 * memory (malloc'd, free with free()). */
ff_status ff_png_encode(const uint8_t *pixels, int32_t width, int32_t height, size_t row_stride,
                        int32_t pixel_format, const char *what, uint8_t **png_out,
                        size_t *size_out);

/* JPEG (jpeg_codec.c). CMYK/YCCK images are converted to RGB (Adobe's
 * inverted CMYK handled as PIL does). */
ff_status ff_jpeg_probe(const uint8_t *data, size_t size, const char *what, ff_image_info *info);
ff_status ff_jpeg_decode(ff_decoder *dec, const uint8_t *data, size_t size, const char *what, ff_raw_image *out);
void ff_jpeg_reader_free(ff_jpeg_reader *r);

/* EXIF orientation (exif.c). The Orientation tag (1..8) of a JPEG's
 * first EXIF block (APP1 "Exif", IFD0), or 1 when there is none or the
 * block is malformed (never an error). */
int32_t ff_exif_orientation(const uint8_t *data, size_t size);
/* Turns `img` (decoded by `d`) upright for EXIF orientation 2..8 as PIL's
 * ImageOps.exif_transpose does (5..8 swap width and height) into d's
 * `oriented` buffer, which img then points to; 1 or an out-of-range value
 * leaves it as is. */
ff_status ff_raw_image_orient(ff_decoder *d, ff_raw_image *img, int32_t orientation);

#endif
