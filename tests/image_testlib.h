/* Test-side image encoders (libpng / libjpeg directly, independent of the
 * library's own writer) to make every PNG and JPEG variant the decoder must
 * handle, plus small byte-patching helpers for damaged files. */
#ifndef FF_IMAGE_TESTLIB_H
#define FF_IMAGE_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

typedef struct test_buf {
    uint8_t *data;
    size_t size;
} test_buf;

void test_buf_free(test_buf *b);

/* A PNG from packed rows: color_type as in png.h (PNG_COLOR_TYPE_*),
 * bit_depth 1..16 (16-bit samples big-endian as PNG stores them; sub-byte
 * samples packed as libpng expects), optional palette (n_palette RGB
 * triples) and tRNS (trns bytes for palette, or one trans colour given as
 * trns_grey / trns_rgb for grey or RGB images; NULL/-1 for none). */
typedef struct test_png_spec {
    int width, height, color_type, bit_depth, interlace;
    const uint8_t *rows; /* height rows of png_get_rowbytes-size each */
    const uint8_t *palette;
    int n_palette;
    const uint8_t *trns;
    int n_trns;
    int trns_grey;
    const uint16_t *trns_rgb;
} test_png_spec;

int test_make_png(const test_png_spec *spec, test_buf *out);

/* A JPEG at quality 100 from packed samples: components 1 (grey), 3 (RGB,
 * stored as YCbCr) or 4 (CMYK, libjpeg writes the Adobe marker and stores
 * the bytes as given, i.e. in Adobe's inverted convention); any other count
 * is written in an unknown colour space. */
int test_make_jpeg(const uint8_t *pixels, int width, int height, int components, test_buf *out);

/* The same, progressive (libjpeg's standard scan script, ~10 scans). */
int test_make_jpeg_progressive(const uint8_t *pixels, int width, int height, int components,
                               test_buf *out);

/* A grey progressive JPEG with every scan the format allows for it (DC and
 * each of the 63 AC coefficients alone, refined bit by bit): 704 scans. */
int test_make_jpeg_many_scans(const uint8_t *grey, int width, int height, test_buf *out);

/* Standard CRC-32 (as PNG chunks use). */
uint32_t test_crc32(const uint8_t *data, size_t n);
/* Rewrites the CRC of the PNG chunk starting at `offset` (its length
 * field). */
void test_png_fix_crc(uint8_t *png, size_t offset);

int test_write_file(const char *path, const void *data, size_t size);

#endif
