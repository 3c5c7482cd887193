#include "image_testlib.h"

#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>

void test_buf_free(test_buf *b) {
    free(b->data);
    b->data = NULL;
    b->size = 0;
}

static void buf_append(test_buf *b, const void *data, size_t n) {
    uint8_t *grown = realloc(b->data, b->size + n);
    if (!grown) abort();
    memcpy(grown + b->size, data, n);
    b->data = grown;
    b->size += n;
}

static void png_write_cb(png_structp png, png_bytep data, size_t n) {
    buf_append((test_buf *)png_get_io_ptr(png), data, n);
}
static void png_flush_cb(png_structp png) { (void)png; }

int test_make_png(const test_png_spec *s, test_buf *out) {
    memset(out, 0, sizeof *out);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        test_buf_free(out);
        return -1;
    }
    png_set_write_fn(png, out, png_write_cb, png_flush_cb);
    png_set_IHDR(png, info, (png_uint_32)s->width, (png_uint_32)s->height, s->bit_depth,
                 s->color_type, s->interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (s->palette) {
        png_color pal[256];
        for (int i = 0; i < s->n_palette; i++)
            pal[i].red = s->palette[3 * i], pal[i].green = s->palette[3 * i + 1],
            pal[i].blue = s->palette[3 * i + 2];
        png_set_PLTE(png, info, pal, s->n_palette);
    }
    if (s->trns) {
        png_set_tRNS(png, info, s->trns, s->n_trns, NULL);
    } else if (s->trns_grey >= 0 && s->color_type == PNG_COLOR_TYPE_GRAY) {
        png_color_16 c = {0};
        c.gray = (png_uint_16)s->trns_grey;
        png_set_tRNS(png, info, NULL, 0, &c);
    } else if (s->trns_rgb) {
        png_color_16 c = {0};
        c.red = s->trns_rgb[0], c.green = s->trns_rgb[1], c.blue = s->trns_rgb[2];
        png_set_tRNS(png, info, NULL, 0, &c);
    }
    png_write_info(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    png_bytep *rows = malloc(sizeof(png_bytep) * (size_t)s->height);
    for (int y = 0; y < s->height; y++) rows[y] = (png_bytep)(s->rows + (size_t)y * rowbytes);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    free(rows);
    png_destroy_write_struct(&png, &info);
    return 0;
}

static int make_jpeg(const uint8_t *pixels, int width, int height, int components, int many_scans,
                     test_buf *out);

int test_make_jpeg(const uint8_t *pixels, int width, int height, int components, test_buf *out) {
    return make_jpeg(pixels, width, height, components, 0, out);
}

int test_make_jpeg_many_scans(const uint8_t *grey, int width, int height, test_buf *out) {
    return make_jpeg(grey, width, height, 1, 2, out);
}

int test_make_jpeg_progressive(const uint8_t *pixels, int width, int height, int components,
                               test_buf *out) {
    return make_jpeg(pixels, width, height, components, 1, out);
}

/* libjpeg's limit on successive-approximation bits for 8-bit data */
#define MAX_AL 10

static int make_jpeg(const uint8_t *pixels, int width, int height, int components, int many_scans,
                     test_buf *out) {
    static jpeg_scan_info scans[(MAX_AL + 1) * 64];
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    unsigned char *mem = NULL;
    unsigned long size = 0;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, &mem, &size);
    c.image_width = (JDIMENSION)width;
    c.image_height = (JDIMENSION)height;
    c.input_components = components;
    c.in_color_space = components == 1   ? JCS_GRAYSCALE
                       : components == 3 ? JCS_RGB
                       : components == 4 ? JCS_CMYK
                                         : JCS_UNKNOWN;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 100, TRUE);
    if (many_scans == 1) jpeg_simple_progression(&c);
    if (many_scans == 2) {
        int n = 0;
        for (int band = 0; band < 64; band++)
            for (int al = MAX_AL; al >= 0; al--) {
                jpeg_scan_info *sc = &scans[n++];
                sc->comps_in_scan = 1;
                sc->component_index[0] = 0;
                sc->Ss = band;
                sc->Se = band;
                sc->Ah = al == MAX_AL ? 0 : al + 1;
                sc->Al = al;
            }
        c.scan_info = scans;
        c.num_scans = n;
    }
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(pixels + (size_t)c.next_scanline * width * components);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    out->data = malloc(size);
    memcpy(out->data, mem, size);
    out->size = size;
    free(mem);
    return 0;
}

uint32_t test_crc32(const uint8_t *data, size_t n) {
    uint32_t crc = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        crc ^= data[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
    }
    return crc ^ 0xffffffffu;
}

void test_png_fix_crc(uint8_t *png, size_t offset) {
    uint32_t len = (uint32_t)png[offset] << 24 | (uint32_t)png[offset + 1] << 16 |
                   (uint32_t)png[offset + 2] << 8 | png[offset + 3];
    uint32_t crc = test_crc32(png + offset + 4, 4 + (size_t)len);
    uint8_t *p = png + offset + 8 + len;
    p[0] = (uint8_t)(crc >> 24), p[1] = (uint8_t)(crc >> 16), p[2] = (uint8_t)(crc >> 8),
    p[3] = (uint8_t)crc;
}

int test_write_file(const char *path, const void *data, size_t size) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t n = size ? fwrite(data, 1, size, f) : 0;
    return fclose(f) == 0 && n == size ? 0 : -1;
}
