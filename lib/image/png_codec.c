/* PNG through libpng's classic API.
 *
 * libpng reports errors by longjmp. To keep that safe, everything that
 * changes after setjmp lives in a context struct owned by the caller of the
 * function that calls setjmp (never in that function's own locals), and all
 * buffers are released by that caller, whichever way the decode ended. */
#include <png.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/error.h"
#include "core/memory.h"
#include "image/image_internal.h"

typedef struct png_ctx {
    const uint8_t *data;
    size_t size;
    size_t pos;
    const char *what;
    ff_decoder *dec; /* decoding: its arena serves libpng, its buffers the pixels */
    png_structp png;
    png_infop info;
    ff_raw_image img;
    bool truncated;
    char msg[200];
} png_ctx;

/* libpng's (and through it zlib's) allocations while decoding come from the
 * decoder's arena, so that a decoder that has seen an image of this kind
 * and size decodes the next one without calling malloc. */
static png_voidp arena_malloc(png_structp png, png_alloc_size_t n) {
    return ff_arena_alloc((ff_arena *)png_get_mem_ptr(png), n);
}
static void arena_free(png_structp png, png_voidp p) {
    (void)png;
    (void)p; /* released with the arena */
}

static void on_error(png_structp png, png_const_charp msg) {
    png_ctx *c = (png_ctx *)png_get_error_ptr(png);
    snprintf(c->msg, sizeof c->msg, "%s", msg ? msg : "unknown error");
    png_longjmp(png, 1);
}

/* Warnings (bad ancillary chunks, gamma oddities) are not worth stderr. */
static void on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

static void read_memory(png_structp png, png_bytep out, size_t n) {
    png_ctx *c = (png_ctx *)png_get_io_ptr(png);
    if (n > c->size - c->pos) {
        c->truncated = true;
        png_error(png, "unexpected end of data");
    }
    memcpy(out, c->data + c->pos, n);
    c->pos += n;
}

static ff_status libpng_failure(const png_ctx *c) {
    if (c->truncated)
        return ff_fail(FF_E_BAD_FORMAT, "%s: truncated PNG (data ends after %zu bytes)",
                       c->what, c->size);
    return ff_fail(FF_E_BAD_FORMAT, "%s: corrupt PNG: %s", c->what, c->msg);
}

static ff_status create_reader(png_ctx *c) {
    if (c->dec) {
        ff_arena_reset(&c->dec->arena);
        c->png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, c, on_error, on_warning, &c->dec->arena,
                                          arena_malloc, arena_free);
    } else {
        c->png = png_create_read_struct(PNG_LIBPNG_VER_STRING, c, on_error, on_warning);
    }
    if (!c->png) return ff_fail(FF_E_OUT_OF_MEMORY, "%s: cannot create a PNG reader", c->what);
    c->info = png_create_info_struct(c->png);
    if (!c->info) return ff_fail(FF_E_OUT_OF_MEMORY, "%s: cannot create a PNG reader", c->what);
    png_set_read_fn(c->png, c, read_memory);
    /* Our own limit check (ff_image_check_size) decides, with its own
     * status; libpng's default 1e6 limit would only say "bad format". */
    png_set_user_limits(c->png, 0x7fffffff, 0x7fffffff);
    /* Pixels are all we need. Ancillary chunks are skipped unread: libpng
     * would otherwise allocate a declared chunk length up front (a 48-byte
     * file claiming a 700 MB iTXt chunk, found by fuzzing) and inflate
     * compressed text and ICC profiles (zlib bombs). A negative count means
     * every chunk except IHDR, PLTE, tRNS, IDAT and IEND. */
    png_set_keep_unknown_chunks(c->png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
    png_set_chunk_malloc_max(c->png, 8u << 20);
    return FF_OK;
}

static void destroy_reader(png_ctx *c) {
    if (c->png) png_destroy_read_struct(&c->png, c->info ? &c->info : NULL, NULL);
    c->png = NULL;
    c->info = NULL;
}

static int32_t header_channels(png_structp png, png_infop info) {
    int type = png_get_color_type(png, info);
    int trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;
    switch (type) {
    case PNG_COLOR_TYPE_GRAY: return trns ? 2 : 1;
    case PNG_COLOR_TYPE_GRAY_ALPHA: return 2;
    case PNG_COLOR_TYPE_RGB_ALPHA: return 4;
    default: return trns ? 4 : 3; /* RGB, palette */
    }
}

/* Reads up to the first IDAT. */
static ff_status probe_run(png_ctx *c, ff_image_info *info) {
    if (setjmp(png_jmpbuf(c->png))) return libpng_failure(c);
    png_read_info(c->png, c->info);
    info->width = (int32_t)png_get_image_width(c->png, c->info);
    info->height = (int32_t)png_get_image_height(c->png, c->info);
    info->channels = header_channels(c->png, c->info);
    return FF_OK;
}

ff_status ff_png_probe(const uint8_t *data, size_t size, const char *what, ff_image_info *info) {
    png_ctx c = {.data = data, .size = size, .what = what};
    ff_status st = create_reader(&c);
    if (st == FF_OK) st = probe_run(&c, info);
    destroy_reader(&c);
    return st;
}

static ff_status decode_run(png_ctx *c) {
    if (setjmp(png_jmpbuf(c->png))) return libpng_failure(c);
    png_read_info(c->png, c->info);
    png_uint_32 w = png_get_image_width(c->png, c->info);
    png_uint_32 h = png_get_image_height(c->png, c->info);
    FF_TRY(ff_image_check_size(w, h, c->what));

    /* Normalise to 8-bit grey, grey+alpha, RGB or RGBA. 16-bit samples keep
     * their high byte, as PIL and most viewers do. Gamma is ignored (as PIL
     * does): pixel values stay as stored. */
    int type = png_get_color_type(c->png, c->info);
    if (type == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(c->png);
    if (type == PNG_COLOR_TYPE_GRAY && png_get_bit_depth(c->png, c->info) < 8)
        png_set_expand_gray_1_2_4_to_8(c->png);
    if (png_get_valid(c->png, c->info, PNG_INFO_tRNS)) png_set_tRNS_to_alpha(c->png);
    png_set_strip_16(c->png);
    (void)png_set_interlace_handling(c->png);
    png_read_update_info(c->png, c->info);

    int ch = png_get_channels(c->png, c->info);
    size_t row_bytes = png_get_rowbytes(c->png, c->info);
    if (png_get_bit_depth(c->png, c->info) != 8 || ch < 1 || ch > 4 || row_bytes != (size_t)w * ch)
        return ff_fail(FF_E_INTERNAL, "%s: unexpected PNG layout after transforms", c->what);
    size_t bytes;
    if (!ff_mul_size(row_bytes, h, &bytes))
        return ff_fail(FF_E_LIMIT_EXCEEDED, "%s: image too large", c->what);
    ff_decoder *d = c->dec;
    FF_TRY(ff_grow_bytes(&d->pixels, &d->pixels_cap, bytes, c->what));
    FF_TRY(ff_grow_bytes(&d->rows, &d->rows_cap, (size_t)h * sizeof(png_bytep), c->what));
    png_bytep *rows = (png_bytep *)(void *)d->rows;
    for (png_uint_32 y = 0; y < h; y++) rows[y] = d->pixels + (size_t)y * row_bytes;
    c->img.pixels = d->pixels;
    c->img.width = (int32_t)w;
    c->img.height = (int32_t)h;
    c->img.channels = ch;
    png_read_image(c->png, rows);
    /* Checks the trailing chunks' CRCs and that IEND is there: a file cut
     * after its image data is still a truncated file. */
    png_read_end(c->png, NULL);
    return FF_OK;
}

ff_status ff_png_decode(ff_decoder *dec, const uint8_t *data, size_t size, const char *what, ff_raw_image *out) {
    png_ctx c = {.data = data, .size = size, .what = what, .dec = dec};
    ff_status st = create_reader(&c);
    if (st == FF_OK) st = decode_run(&c);
    destroy_reader(&c);
    if (st != FF_OK) return st;
    *out = c.img;
    return FF_OK;
}

/* ---- writing ---------------------------------------------------------- */

typedef struct png_sink {
    uint8_t *data;
    size_t size;
    size_t cap;
    bool oom;
    const char *what;
    png_structp png;
    png_infop info;
    uint8_t *row; /* converted row for RGBA8/BGR8 input */
    char msg[200];
} png_sink;

static void on_write_error(png_structp png, png_const_charp msg) {
    png_sink *o = (png_sink *)png_get_error_ptr(png);
    snprintf(o->msg, sizeof o->msg, "%s", msg ? msg : "unknown error");
    png_longjmp(png, 1);
}

static void write_memory(png_structp png, png_bytep data, size_t n) {
    png_sink *o = (png_sink *)png_get_io_ptr(png);
    if (n > o->cap - o->size) {
        size_t cap = o->cap ? o->cap : 65536;
        while (cap - o->size < n) {
            if (cap > SIZE_MAX / 2) {
                o->oom = true;
                png_error(png, "output too large");
            }
            cap *= 2;
        }
        uint8_t *grown = realloc(o->data, cap);
        if (!grown) {
            o->oom = true;
            png_error(png, "out of memory");
        }
        o->data = grown;
        o->cap = cap;
    }
    memcpy(o->data + o->size, data, n);
    o->size += n;
}

static void flush_memory(png_structp png) { (void)png; }

static ff_status encode_run(png_sink *o, const uint8_t *pixels, int32_t w, int32_t h, size_t stride,
                            int32_t fmt) {
    if (setjmp(png_jmpbuf(o->png))) {
        if (o->oom) return ff_fail(FF_E_OUT_OF_MEMORY, "%s: out of memory encoding PNG", o->what);
        return ff_fail(FF_E_INTERNAL, "%s: libpng failed to encode: %s", o->what, o->msg);
    }
    png_set_write_fn(o->png, o, write_memory, flush_memory);
    int grey = fmt == FF_PIXEL_GRAY8;
    png_set_IHDR(o->png, o->info, (png_uint_32)w, (png_uint_32)h, 8,
                 grey ? PNG_COLOR_TYPE_GRAY : PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(o->png, o->info);
    for (int32_t y = 0; y < h; y++) {
        const uint8_t *s = pixels + (size_t)y * stride;
        if (fmt == FF_PIXEL_RGBA8 || fmt == FF_PIXEL_BGR8) {
            int sch = fmt == FF_PIXEL_RGBA8 ? 4 : 3;
            int bgr = fmt == FF_PIXEL_BGR8;
            for (int32_t x = 0; x < w; x++, s += sch) {
                o->row[3 * x + 0] = s[bgr ? 2 : 0];
                o->row[3 * x + 1] = s[1];
                o->row[3 * x + 2] = s[bgr ? 0 : 2];
            }
            png_write_row(o->png, o->row);
        } else {
            png_write_row(o->png, s);
        }
    }
    png_write_end(o->png, NULL);
    return FF_OK;
}

ff_status ff_png_encode(const uint8_t *pixels, int32_t width, int32_t height, size_t row_stride,
                        int32_t pixel_format, const char *what, uint8_t **png_out,
                        size_t *size_out) {
    png_sink o = {.what = what};
    ff_status st = FF_OK;
    if (pixel_format == FF_PIXEL_RGBA8 || pixel_format == FF_PIXEL_BGR8) {
        o.row = ff_alloc((size_t)width * 3);
        if (!o.row) st = ff_fail(FF_E_OUT_OF_MEMORY, "%s: cannot allocate a row buffer", what);
    }
    if (st == FF_OK) {
        o.png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &o, on_write_error, on_warning);
        if (o.png) o.info = png_create_info_struct(o.png);
        if (!o.png || !o.info) st = ff_fail(FF_E_OUT_OF_MEMORY, "%s: cannot create a PNG writer", what);
    }
    if (st == FF_OK) st = encode_run(&o, pixels, width, height, row_stride, pixel_format);
    if (o.png) png_destroy_write_struct(&o.png, o.info ? &o.info : NULL);
    ff_free(o.row);
    if (st != FF_OK) {
        free(o.data);
        return st;
    }
    *png_out = o.data;
    *size_out = o.size;
    return FF_OK;
}
