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

#include "core/arena.h"
#include "core/error.h"
#include "core/memory.h"
#include "image/image_internal.h"

/* A progressive JPEG may hold any number of scans, and a small file with
 * thousands of tiny scans takes minutes to decode (the reason TurboJPEG has
 * TJPARAM_SCANLIMIT). Real encoders write about ten. */
#define FF_JPEG_MAX_SCANS 500

/* Also struct ff_jpeg_reader: a decoder (image_internal.h) keeps one for
 * good, so that libjpeg's object and its permanent allocations (tables,
 * source manager) are made once. */
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
    ff_decoder *dec;              /* decoding: arena and buffers; NULL when probing */
    struct jpeg_memory_mgr orig;  /* libjpeg's own memory methods, for JPOOL_PERMANENT */
    struct jvirt_barray_control *barrays; /* this image's virtual arrays */
    ff_raw_image img;
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
}

/* ---- JPOOL_IMAGE from the decoder's arena --------------------------------
 * libjpeg allocates through the method table cinfo->mem. A persistent
 * decoder routes the per-image pool (freed after every image) to its arena,
 * so that from the second image of a size on libjpeg calls malloc no more;
 * the permanent pool stays with libjpeg's own methods. Decompression only
 * uses virtual block arrays of the image pool (progressive coefficients);
 * they live wholly in memory, as libjpeg's own manager keeps them when
 * there is no memory limit. Virtual sample arrays serve only two-pass
 * colour quantization, which is never enabled here: requesting one fails. */

struct jvirt_barray_control {
    JBLOCKARRAY rows;
    JDIMENSION per_row, numrows;
    boolean pre_zero;
    struct jvirt_barray_control *next;
};

static jpeg_ctx *ctx_of(j_common_ptr cinfo) { return (jpeg_ctx *)cinfo->err; }

static void *arena_or_fail(j_common_ptr cinfo, size_t n) {
    void *p = ff_arena_alloc(&ctx_of(cinfo)->dec->arena, n);
    if (!p) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 0);
    return p;
}

static void *mem_alloc_small(j_common_ptr cinfo, int pool, size_t n) {
    if (pool != JPOOL_IMAGE) return ctx_of(cinfo)->orig.alloc_small(cinfo, pool, n);
    return arena_or_fail(cinfo, n);
}

static void *mem_alloc_large(j_common_ptr cinfo, int pool, size_t n) {
    if (pool != JPOOL_IMAGE) return ctx_of(cinfo)->orig.alloc_large(cinfo, pool, n);
    return arena_or_fail(cinfo, n);
}

/* Rows of `row_bytes` rounded up to 64 bytes: libjpeg-turbo's SIMD code
 * reads and writes whole vectors past a row's last sample, which its own
 * manager allows for in the same way. */
static void **rows_alloc(j_common_ptr cinfo, size_t row_bytes, JDIMENSION numrows) {
    size_t stride = (row_bytes + 63) & ~(size_t)63, bytes = 0;
    if (!ff_mul_size(stride, numrows, &bytes)) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 1);
    void **rows = arena_or_fail(cinfo, (size_t)numrows * sizeof *rows);
    unsigned char *data = arena_or_fail(cinfo, bytes);
    for (JDIMENSION r = 0; r < numrows; r++) rows[r] = data + (size_t)r * stride;
    return rows;
}

static JSAMPARRAY mem_alloc_sarray(j_common_ptr cinfo, int pool, JDIMENSION per_row, JDIMENSION numrows) {
    if (pool != JPOOL_IMAGE) return ctx_of(cinfo)->orig.alloc_sarray(cinfo, pool, per_row, numrows);
    return (JSAMPARRAY)rows_alloc(cinfo, (size_t)per_row * sizeof(JSAMPLE), numrows);
}

static JBLOCKARRAY mem_alloc_barray(j_common_ptr cinfo, int pool, JDIMENSION per_row, JDIMENSION numrows) {
    if (pool != JPOOL_IMAGE) return ctx_of(cinfo)->orig.alloc_barray(cinfo, pool, per_row, numrows);
    return (JBLOCKARRAY)rows_alloc(cinfo, (size_t)per_row * sizeof(JBLOCK), numrows);
}

static jvirt_sarray_ptr mem_request_sarray(j_common_ptr cinfo, int pool, boolean pre_zero, JDIMENSION per_row,
                                           JDIMENSION numrows, JDIMENSION maxaccess) {
    (void)pool, (void)pre_zero, (void)per_row, (void)numrows, (void)maxaccess;
    ERREXIT(cinfo, JERR_NOT_COMPILED);
    return NULL;
}

static jvirt_barray_ptr mem_request_barray(j_common_ptr cinfo, int pool, boolean pre_zero, JDIMENSION per_row,
                                           JDIMENSION numrows, JDIMENSION maxaccess) {
    (void)maxaccess;
    if (pool != JPOOL_IMAGE) ERREXIT1(cinfo, JERR_BAD_POOL_ID, pool);
    jpeg_ctx *c = ctx_of(cinfo);
    struct jvirt_barray_control *v = arena_or_fail(cinfo, sizeof *v);
    *v = (struct jvirt_barray_control){NULL, per_row, numrows, pre_zero, c->barrays};
    c->barrays = v;
    return v;
}

static void mem_realize(j_common_ptr cinfo) {
    jpeg_ctx *c = ctx_of(cinfo);
    for (struct jvirt_barray_control *v = c->barrays; v; v = v->next)
        if (!v->rows) {
            v->rows = mem_alloc_barray(cinfo, JPOOL_IMAGE, v->per_row, v->numrows);
            if (v->pre_zero)
                for (JDIMENSION r = 0; r < v->numrows; r++) memset(v->rows[r], 0, (size_t)v->per_row * sizeof(JBLOCK));
        }
}

static JSAMPARRAY mem_access_sarray(j_common_ptr cinfo, jvirt_sarray_ptr v, JDIMENSION start, JDIMENSION n,
                                    boolean writable) {
    (void)v, (void)start, (void)n, (void)writable;
    ERREXIT(cinfo, JERR_BAD_VIRTUAL_ACCESS); /* none was handed out */
    return NULL;
}

static JBLOCKARRAY mem_access_barray(j_common_ptr cinfo, jvirt_barray_ptr v, JDIMENSION start, JDIMENSION n,
                                     boolean writable) {
    (void)writable;
    if (!v->rows || start > v->numrows || n > v->numrows - start) ERREXIT(cinfo, JERR_BAD_VIRTUAL_ACCESS);
    return v->rows + start;
}

static void mem_free_pool(j_common_ptr cinfo, int pool) {
    jpeg_ctx *c = ctx_of(cinfo);
    if (pool == JPOOL_IMAGE) c->barrays = NULL; /* the arena is reset before the next image */
    c->orig.free_pool(cinfo, pool);
}

/* Called once, right after jpeg_create_decompress. */
static void route_image_pool(jpeg_ctx *c) {
    struct jpeg_memory_mgr *m = c->cinfo.mem;
    c->orig = *m;
    m->alloc_small = mem_alloc_small;
    m->alloc_large = mem_alloc_large;
    m->alloc_sarray = mem_alloc_sarray;
    m->alloc_barray = mem_alloc_barray;
    m->request_virt_sarray = mem_request_sarray;
    m->request_virt_barray = mem_request_barray;
    m->realize_virt_arrays = mem_realize;
    m->access_virt_sarray = mem_access_sarray;
    m->access_virt_barray = mem_access_barray;
    m->free_pool = mem_free_pool;
}

static void read_header(jpeg_ctx *c) {
    if (c->size > (unsigned long)-1) {
        snprintf(c->msg, sizeof c->msg, "%zu bytes are too many for libjpeg", c->size);
        longjmp(c->jump, 1);
    }
    if (!c->created) {
        jpeg_create_decompress(&c->cinfo);
        c->created = true;
        if (c->dec) route_image_pool(c);
    }
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
    ff_decoder *d = c->dec;
    FF_TRY(ff_grow_bytes(&d->pixels, &d->pixels_cap, bytes, c->what));
    if (cmyk) FF_TRY(ff_grow_bytes(&d->row, &d->row_cap, (size_t)w * 4, c->what));
    c->img.pixels = d->pixels;
    c->img.width = (int32_t)w;
    c->img.height = (int32_t)h;
    c->img.channels = ch;
    while (ci->output_scanline < h) {
        uint8_t *dst = c->img.pixels + (size_t)ci->output_scanline * row_bytes;
        JSAMPROW row = cmyk ? d->row : dst;
        if (jpeg_read_scanlines(ci, &row, 1) != 1) {
            snprintf(c->msg, sizeof c->msg, "decoder stopped at row %u of %u",
                     (unsigned)ci->output_scanline, (unsigned)h);
            c->truncated = true;
            longjmp(c->jump, 1);
        }
        if (cmyk) cmyk_to_rgb(d->row, dst, w, ci->saw_Adobe_marker);
    }
    /* Reads on to EOI: a file cut after the last scan is still truncated. */
    jpeg_finish_decompress(ci);
    return FF_OK;
}

void ff_jpeg_reader_free(ff_jpeg_reader *r) {
    if (!r) return;
    release_ctx(r);
    ff_free(r);
}

ff_status ff_jpeg_decode(ff_decoder *dec, const uint8_t *data, size_t size, const char *what, ff_raw_image *out) {
    jpeg_ctx *c = dec->jpeg;
    if (!c) {
        if (!(c = ff_alloc(sizeof *c))) return ff_fail(FF_E_OUT_OF_MEMORY, "%s: cannot create a JPEG reader", what);
        init_ctx(c, NULL, 0, NULL);
        c->dec = dec;
        dec->jpeg = c;
    }
    c->data = data;
    c->size = size;
    c->what = what;
    c->truncated = c->corrupt = false;
    c->msg[0] = '\0';
    c->img = (ff_raw_image){0};
    ff_arena_reset(&dec->arena);
    ff_status st = decode_run(c);
    /* Back to the start state for the next image, whichever way this one
     * ended (jpeg_abort is libjpeg's documented recovery after an error);
     * it frees the image pool. */
    if (c->created) jpeg_abort_decompress(&c->cinfo);
    if (st != FF_OK) return st;
    *out = c->img;
    return FF_OK;
}
