/* JPEG through libjpeg(-turbo)'s jpeglib.h with an error manager that
 * longjmps back instead of calling exit().
 *
 * As with PNG, all state that changes after setjmp lives in a context
 * owned by the caller of the function that calls setjmp, and that caller
 * releases everything. libjpeg only warns on damaged data and goes on with
 * padding; the warnings that mean the pixels are not the file's (premature
 * end of data, a marker or bad Huffman code inside the entropy-coded data)
 * are turned into errors here. Harmless ones (extraneous bytes before a
 * marker, odd APP segments) are ignored, as PIL does. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <jerror.h>
#include <jpeglib.h>

#include "core/error.h"
#include "core/memory.h"
#include "image/image_internal.h"

/* A progressive JPEG may hold any number of scans, and a small file with
 * thousands of tiny scans takes minutes to decode (the reason TurboJPEG has
 * TJPARAM_SCANLIMIT). Real encoders write about ten. */
#define FF_JPEG_MAX_SCANS 500

typedef struct jpeg_ctx {
    struct jpeg_error_mgr err; /* first: libjpeg hands back &err */
    struct jpeg_progress_mgr progress;
    jmp_buf jump;
    struct jpeg_decompress_struct cinfo;
    bool created;
    bool truncated;
    bool corrupt;
    const uint8_t *data;
    size_t size;
    const char *what;
    ff_raw_image img;
    uint8_t *cmyk_row;
    char msg[JMSG_LENGTH_MAX];
} jpeg_ctx;

static void on_error_exit(j_common_ptr cinfo) {
    jpeg_ctx *c = (jpeg_ctx *)cinfo->err;
    (*cinfo->err->format_message)(cinfo, c->msg);
    longjmp(c->jump, 1);
}

static void on_emit_message(j_common_ptr cinfo, int level) {
    jpeg_ctx *c = (jpeg_ctx *)cinfo->err;
    if (level >= 0) return; /* trace messages */
    cinfo->err->num_warnings++;
    int code = cinfo->err->msg_code;
    if (code == JWRN_JPEG_EOF || code == JWRN_HIT_MARKER || code == JWRN_HUFF_BAD_CODE) {
        (*cinfo->err->format_message)(cinfo, c->msg);
        if (code == JWRN_JPEG_EOF)
            c->truncated = true;
        else
            c->corrupt = true;
        longjmp(c->jump, 1);
    }
}

static void on_output_message(j_common_ptr cinfo) { (void)cinfo; }

static void on_progress(j_common_ptr cinfo) {
    if (!cinfo->is_decompressor) return;
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > FF_JPEG_MAX_SCANS) {
        jpeg_ctx *c = (jpeg_ctx *)cinfo->err;
        snprintf(c->msg, sizeof c->msg, "more than %d progressive scans", FF_JPEG_MAX_SCANS);
        longjmp(c->jump, 1);
    }
}

static ff_status libjpeg_failure(const jpeg_ctx *c) {
    if (c->truncated)
        return ff_fail(FF_E_BAD_FORMAT, "%s: truncated JPEG (%s)", c->what, c->msg);
    if (c->corrupt)
        return ff_fail(FF_E_BAD_FORMAT, "%s: corrupt JPEG data (%s)", c->what, c->msg);
    return ff_fail(FF_E_BAD_FORMAT, "%s: corrupt JPEG: %s", c->what, c->msg);
}

static void init_ctx(jpeg_ctx *c, const uint8_t *data, size_t size, const char *what) {
    memset(c, 0, sizeof *c);
    c->data = data;
    c->size = size;
    c->what = what;
    c->cinfo.err = jpeg_std_error(&c->err);
    c->err.error_exit = on_error_exit;
    c->err.emit_message = on_emit_message;
    c->err.output_message = on_output_message;
    c->progress.progress_monitor = on_progress;
}

static void release_ctx(jpeg_ctx *c) {
    if (c->created) jpeg_destroy_decompress(&c->cinfo);
    c->created = false;
    ff_free(c->cmyk_row);
    c->cmyk_row = NULL;
}

static void read_header(jpeg_ctx *c) {
    if (c->size > (unsigned long)-1) {
        snprintf(c->msg, sizeof c->msg, "%zu bytes are too many for libjpeg", c->size);
        longjmp(c->jump, 1);
    }
    jpeg_create_decompress(&c->cinfo);
    c->created = true;
    c->cinfo.progress = &c->progress;
    /* jpeg_mem_src takes an unsigned long size; files here are far below
     * 4 GiB on any platform that has a 32-bit long. */
    jpeg_mem_src(&c->cinfo, (const unsigned char *)c->data, (unsigned long)c->size);
    if (jpeg_read_header(&c->cinfo, TRUE) != JPEG_HEADER_OK) {
        snprintf(c->msg, sizeof c->msg, "no image in the data (tables only)");
        longjmp(c->jump, 1);
    }
}

static ff_status probe_run(jpeg_ctx *c, ff_image_info *info) {
    if (setjmp(c->jump)) return libjpeg_failure(c);
    read_header(c);
    info->width = (int32_t)c->cinfo.image_width;
    info->height = (int32_t)c->cinfo.image_height;
    info->channels = c->cinfo.num_components;
    return FF_OK;
}

ff_status ff_jpeg_probe(const uint8_t *data, size_t size, const char *what, ff_image_info *info) {
    jpeg_ctx *c = ff_alloc(sizeof *c);
    if (!c) return ff_fail(FF_E_OUT_OF_MEMORY, "%s: cannot create a JPEG reader", what);
    init_ctx(c, data, size, what);
    ff_status st = probe_run(c, info);
    release_ctx(c);
    ff_free(c);
    return st;
}

/* PIL's cmyk2rgb: R = (255-K) - C*(255-K)/255, rounded as MULDIV255. */
static inline uint8_t muldiv255(unsigned a, unsigned b) {
    unsigned t = a * b + 128;
    return (uint8_t)(((t >> 8) + t) >> 8);
}

static void cmyk_to_rgb(const uint8_t *s, uint8_t *d, uint32_t w, bool adobe_inverted) {
    for (uint32_t x = 0; x < w; x++, s += 4, d += 3) {
        /* Adobe (Photoshop) writes CMYK inverted: 0 is full ink. */
        unsigned cc = adobe_inverted ? 255u - s[0] : s[0];
        unsigned mm = adobe_inverted ? 255u - s[1] : s[1];
        unsigned yy = adobe_inverted ? 255u - s[2] : s[2];
        unsigned nk = adobe_inverted ? s[3] : 255u - s[3];
        d[0] = (uint8_t)(nk - muldiv255(cc, nk));
        d[1] = (uint8_t)(nk - muldiv255(mm, nk));
        d[2] = (uint8_t)(nk - muldiv255(yy, nk));
    }
}

static ff_status decode_run(jpeg_ctx *c) {
    if (setjmp(c->jump)) return libjpeg_failure(c);
    read_header(c);
    struct jpeg_decompress_struct *ci = &c->cinfo;
    FF_TRY(ff_image_check_size(ci->image_width, ci->image_height, c->what));
    bool cmyk = ci->jpeg_color_space == JCS_CMYK || ci->jpeg_color_space == JCS_YCCK;
    if (ci->jpeg_color_space == JCS_UNKNOWN)
        return ff_fail(FF_E_UNSUPPORTED,
                       "%s: JPEG with %d components in an unknown colour space is not supported",
                       c->what, ci->num_components);
    if (ci->jpeg_color_space == JCS_GRAYSCALE)
        ci->out_color_space = JCS_GRAYSCALE;
    else if (cmyk)
        ci->out_color_space = JCS_CMYK;
    else
        ci->out_color_space = JCS_RGB;
    jpeg_start_decompress(ci);
    int want = cmyk ? 4 : ci->out_color_space == JCS_GRAYSCALE ? 1 : 3;
    if (ci->output_components != want)
        return ff_fail(FF_E_UNSUPPORTED, "%s: JPEG with %d output components is not supported",
                       c->what, ci->output_components);
    uint32_t w = ci->output_width, h = ci->output_height;
    int ch = cmyk ? 3 : want;
    size_t row_bytes = (size_t)w * (size_t)ch, bytes;
    if (!ff_mul_size(row_bytes, h, &bytes))
        return ff_fail(FF_E_LIMIT_EXCEEDED, "%s: image too large", c->what);
    c->img.pixels = ff_alloc(bytes);
    if (cmyk) c->cmyk_row = ff_alloc((size_t)w * 4);
    if (!c->img.pixels || (cmyk && !c->cmyk_row))
        return ff_fail(FF_E_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes for %ux%u pixels", c->what,
                       bytes, (unsigned)w, (unsigned)h);
    c->img.width = (int32_t)w;
    c->img.height = (int32_t)h;
    c->img.channels = ch;
    while (ci->output_scanline < h) {
        uint8_t *dst = c->img.pixels + (size_t)ci->output_scanline * row_bytes;
        JSAMPROW row = cmyk ? c->cmyk_row : dst;
        if (jpeg_read_scanlines(ci, &row, 1) != 1) {
            snprintf(c->msg, sizeof c->msg, "decoder stopped at row %u of %u",
                     (unsigned)ci->output_scanline, (unsigned)h);
            c->truncated = true;
            longjmp(c->jump, 1);
        }
        if (cmyk) cmyk_to_rgb(c->cmyk_row, dst, w, ci->saw_Adobe_marker);
    }
    /* Reads on to EOI: a file cut after the last scan is still truncated. */
    jpeg_finish_decompress(ci);
    return FF_OK;
}

ff_status ff_jpeg_decode(const uint8_t *data, size_t size, const char *what, ff_raw_image *out) {
    jpeg_ctx *c = ff_alloc(sizeof *c);
    if (!c) return ff_fail(FF_E_OUT_OF_MEMORY, "%s: cannot create a JPEG reader", what);
    init_ctx(c, data, size, what);
    ff_status st = decode_run(c);
    release_ctx(c);
    ff_raw_image img = c->img;
    ff_free(c);
    if (st != FF_OK) {
        ff_raw_image_free(&img);
        return st;
    }
    *out = img;
    return FF_OK;
}
