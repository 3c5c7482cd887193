/* Image codecs: every PNG/JPEG variant the API promises, the PNG writer,
 * pixel formats and strides, and damaged or hostile input (each failure
 * checked for status, message and an untouched output buffer). */
#include <dirent.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fastflow.h"
#include "image_testlib.h"
#include "test_util.h"

static const char *tmp_path(const char *name) {
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, sizeof buf[0], "%s/%s", ff_test_tmpdir(), name);
    return p;
}

/* ---- helpers ------------------------------------------------------------ */

/* Decodes `b` as `fmt` into a fresh packed buffer (NULL on failure). */
static uint8_t *decode_mem(const test_buf *b, int32_t fmt, int32_t *w, int32_t *h) {
    int32_t ch;
    if (ff_image_probe_memory(b->data, b->size, &ch, w, h) != FF_OK) return NULL;
    size_t n = (size_t)*w * *h * ff_pixel_format_channels(fmt);
    uint8_t *px = malloc(n);
    if (ff_image_decode_memory(b->data, b->size, fmt, px, n, 0) != FF_OK) {
        fprintf(stderr, "decode failed: %s\n", ff_last_error_message());
        free(px);
        return NULL;
    }
    return px;
}

static int max_diff(const uint8_t *a, const uint8_t *b, size_t n) {
    int m = 0;
    for (size_t i = 0; i < n; i++) {
        int d = abs((int)a[i] - (int)b[i]);
        if (d > m) m = d;
    }
    return m;
}

/* a 13x7 RGB test picture */
enum { TW = 13, TH = 7 };
static void test_picture(uint8_t *rgb) {
    for (int y = 0; y < TH; y++)
        for (int x = 0; x < TW; x++) {
            uint8_t *p = rgb + (y * TW + x) * 3;
            p[0] = (uint8_t)(x * 19 + y * 3), p[1] = (uint8_t)(y * 36), p[2] = (uint8_t)(255 - x * 7 * y);
        }
}

static test_png_spec spec_base(int color_type, int bit_depth, const uint8_t *rows) {
    test_png_spec s = {TW, TH, color_type, bit_depth, 0, rows, NULL, 0, NULL, 0, -1, NULL};
    return s;
}

/* ---- PNG variants ----------------------------------------------------------- */

static void test_pixel_format_channels(void) {
    CHECK(ff_pixel_format_channels(FF_PIXEL_GRAY8) == 1);
    CHECK(ff_pixel_format_channels(FF_PIXEL_RGB8) == 3);
    CHECK(ff_pixel_format_channels(FF_PIXEL_RGBA8) == 4);
    CHECK(ff_pixel_format_channels(FF_PIXEL_BGR8) == 3);
    CHECK(ff_pixel_format_channels(0) == 0);
    CHECK(ff_pixel_format_channels(5) == 0);
    CHECK(ff_pixel_format_channels(-1) == 0);
}

static void test_png_rgb8_and_formats(void) {
    uint8_t rgb[TW * TH * 3];
    test_picture(rgb);
    test_png_spec s = spec_base(PNG_COLOR_TYPE_RGB, 8, rgb);
    test_buf b;
    CHECK(test_make_png(&s, &b) == 0);
    int32_t w = 0, h = 0, ch = 0;
    CHECK_OK(ff_image_probe_memory(b.data, b.size, &ch, &w, &h));
    CHECK(w == TW && h == TH && ch == 3);
    CHECK_OK(ff_image_probe_memory(b.data, b.size, NULL, NULL, NULL)); /* outputs optional */

    uint8_t *px = decode_mem(&b, FF_PIXEL_RGB8, &w, &h);
    CHECK(px && memcmp(px, rgb, sizeof rgb) == 0);
    free(px);
    px = decode_mem(&b, FF_PIXEL_BGR8, &w, &h);
    int ok = px != NULL;
    for (int i = 0; ok && i < TW * TH; i++)
        ok = px[3 * i] == rgb[3 * i + 2] && px[3 * i + 1] == rgb[3 * i + 1] && px[3 * i + 2] == rgb[3 * i];
    CHECK(ok);
    free(px);
    px = decode_mem(&b, FF_PIXEL_RGBA8, &w, &h);
    ok = px != NULL;
    for (int i = 0; ok && i < TW * TH; i++) ok = memcmp(px + 4 * i, rgb + 3 * i, 3) == 0 && px[4 * i + 3] == 255;
    CHECK(ok);
    free(px);
    /* GRAY8 from colour: PIL's 'L' (ITU-R 601-2, rounded) */
    px = decode_mem(&b, FF_PIXEL_GRAY8, &w, &h);
    ok = px != NULL;
    for (int i = 0; ok && i < TW * TH; i++) {
        unsigned l = (rgb[3 * i] * 19595u + rgb[3 * i + 1] * 38470u + rgb[3 * i + 2] * 7471u + 0x8000u) >> 16;
        ok = px[i] == l;
    }
    CHECK(ok);
    free(px);

    /* padded stride: rows land at their stride, padding is not touched */
    size_t stride = TW * 3 + 5, cap = (TH - 1) * stride + TW * 3;
    uint8_t *buf = malloc(cap);
    memset(buf, 0xAB, cap);
    CHECK_OK(ff_image_decode_memory(b.data, b.size, FF_PIXEL_RGB8, buf, cap, stride));
    ok = 1;
    for (int y = 0; y < TH; y++) {
        ok &= memcmp(buf + y * stride, rgb + y * TW * 3, TW * 3) == 0;
        if (y < TH - 1) ok &= buf[y * stride + TW * 3] == 0xAB && buf[y * stride + TW * 3 + 4] == 0xAB;
    }
    CHECK(ok);
    free(buf);
    test_buf_free(&b);
}

static void test_png_16bit(void) {
    /* RGB 16-bit big-endian: decoded keeps the high byte */
    uint8_t rows[TW * TH * 6], want[TW * TH * 3];
    for (int i = 0; i < TW * TH * 3; i++) {
        unsigned v = (unsigned)(i * 397 + 11) & 0xffff;
        rows[2 * i] = (uint8_t)(v >> 8), rows[2 * i + 1] = (uint8_t)v;
        want[i] = (uint8_t)(v >> 8);
    }
    test_png_spec s = spec_base(PNG_COLOR_TYPE_RGB, 16, rows);
    test_buf b;
    CHECK(test_make_png(&s, &b) == 0);
    int32_t w, h;
    uint8_t *px = decode_mem(&b, FF_PIXEL_RGB8, &w, &h);
    CHECK(px && memcmp(px, want, sizeof want) == 0);
    free(px);
    test_buf_free(&b);

    /* grey 16-bit -> RGB8 replicated */
    s = spec_base(PNG_COLOR_TYPE_GRAY, 16, rows);
    CHECK(test_make_png(&s, &b) == 0);
    px = decode_mem(&b, FF_PIXEL_RGB8, &w, &h);
    int ok = px != NULL;
    for (int i = 0; ok && i < TW * TH; i++)
        ok = px[3 * i] == rows[2 * i] && px[3 * i + 1] == rows[2 * i] && px[3 * i + 2] == rows[2 * i];
    CHECK(ok);
    free(px);
    test_buf_free(&b);

    /* RGBA 16-bit -> RGBA8 high bytes */
    uint8_t rows4[TW * TH * 8];
    for (int i = 0; i < TW * TH * 8; i++) rows4[i] = (uint8_t)(i * 13 + 1);
    s = spec_base(PNG_COLOR_TYPE_RGB_ALPHA, 16, rows4);
    CHECK(test_make_png(&s, &b) == 0);
    int32_t ch;
    CHECK_OK(ff_image_probe_memory(b.data, b.size, &ch, &w, &h));
    CHECK(ch == 4);
    px = decode_mem(&b, FF_PIXEL_RGBA8, &w, &h);
    ok = px != NULL;
    for (int i = 0; ok && i < TW * TH * 4; i++) ok = px[i] == rows4[2 * i];
    CHECK(ok);
    free(px);
    test_buf_free(&b);
}

static void test_png_grey_alpha(void) {
    uint8_t ga[TW * TH * 2];
    for (int i = 0; i < TW * TH; i++) ga[2 * i] = (uint8_t)(i * 3), ga[2 * i + 1] = (uint8_t)(255 - i);
    test_png_spec s = spec_base(PNG_COLOR_TYPE_GRAY_ALPHA, 8, ga);
    test_buf b;
    CHECK(test_make_png(&s, &b) == 0);
    int32_t w, h, ch;
    CHECK_OK(ff_image_probe_memory(b.data, b.size, &ch, &w, &h));
    CHECK(ch == 2);
    uint8_t *px = decode_mem(&b, FF_PIXEL_RGBA8, &w, &h);
    int ok = px != NULL;
    for (int i = 0; ok && i < TW * TH; i++)
        ok = px[4 * i] == ga[2 * i] && px[4 * i + 1] == ga[2 * i] && px[4 * i + 2] == ga[2 * i] &&
             px[4 * i + 3] == ga[2 * i + 1];
    CHECK(ok);
    free(px);
    px = decode_mem(&b, FF_PIXEL_GRAY8, &w, &h); /* alpha dropped, not composited */
    ok = px != NULL;
    for (int i = 0; ok && i < TW * TH; i++) ok = px[i] == ga[2 * i];
    CHECK(ok);
    free(px);
    test_buf_free(&b);

    /* grey with a tRNS colour: 2 channels, alpha 0 where grey == 6 */
    uint8_t g[TW * TH];
    for (int i = 0; i < TW * TH; i++) g[i] = (uint8_t)(i * 3);
    s = spec_base(PNG_COLOR_TYPE_GRAY, 8, g);
    s.trns_grey = 6;
    CHECK(test_make_png(&s, &b) == 0);
    CHECK_OK(ff_image_probe_memory(b.data, b.size, &ch, &w, &h));
    CHECK(ch == 2);
    px = decode_mem(&b, FF_PIXEL_RGBA8, &w, &h);
    CHECK(px && px[4 * 2 + 3] == 0 && px[4 * 3 + 3] == 255 && px[4 * 2] == 6);
    free(px);
    test_buf_free(&b);

    /* 1-bit grey expands to 0 / 255 */
    uint8_t bits[TH * 2]; /* 13 pixels -> 2 bytes per row */
    for (int y = 0; y < TH; y++) bits[2 * y] = 0xA5, bits[2 * y + 1] = 0xF0;
    s = spec_base(PNG_COLOR_TYPE_GRAY, 1, bits);
    CHECK(test_make_png(&s, &b) == 0);
    px = decode_mem(&b, FF_PIXEL_GRAY8, &w, &h);
    /* 0xA5 = 1010 0101 */
    CHECK(px && px[0] == 255 && px[1] == 0 && px[2] == 255 && px[3] == 0 && px[7] == 255 && px[8] == 255 &&
          px[12] == 0);
    free(px);
    test_buf_free(&b);
}

static void test_png_palette(void) {
    const uint8_t pal[4 * 3] = {255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 20, 30};
    const uint8_t trns[2] = {0, 128};
    /* 8-bit indices, no tRNS -> 3 channels */
    uint8_t rows8[TW * TH];
    for (int i = 0; i < TW * TH; i++) rows8[i] = (uint8_t)(i % 4);
    test_png_spec s = spec_base(PNG_COLOR_TYPE_PALETTE, 8, rows8);
    s.palette = pal, s.n_palette = 4;
    test_buf b;
    CHECK(test_make_png(&s, &b) == 0);
    int32_t w, h, ch;
    CHECK_OK(ff_image_probe_memory(b.data, b.size, &ch, &w, &h));
    CHECK(ch == 3);
    uint8_t *px = decode_mem(&b, FF_PIXEL_RGB8, &w, &h);
    int ok = px != NULL;
    for (int i = 0; ok && i < TW * TH; i++) ok = memcmp(px + 3 * i, pal + 3 * (i % 4), 3) == 0;
    CHECK(ok);
    free(px);
    test_buf_free(&b);

    /* 4-bit indices with tRNS -> 4 channels, alpha from tRNS (255 beyond it) */
    uint8_t rows4[TH * 7];
    for (int y = 0; y < TH; y++)
        for (int k = 0; k < 7; k++) rows4[y * 7 + k] = (uint8_t)((((2 * k) % 4) << 4) | ((2 * k + 1) % 4));
    s = spec_base(PNG_COLOR_TYPE_PALETTE, 4, rows4);
    s.palette = pal, s.n_palette = 4, s.trns = trns, s.n_trns = 2;
    CHECK(test_make_png(&s, &b) == 0);
    CHECK_OK(ff_image_probe_memory(b.data, b.size, &ch, &w, &h));
    CHECK(ch == 4);
    px = decode_mem(&b, FF_PIXEL_RGBA8, &w, &h);
    ok = px != NULL;
    const uint8_t alpha[4] = {0, 128, 255, 255};
    for (int y = 0; ok && y < TH; y++)
        for (int x = 0; ok && x < TW; x++) {
            const uint8_t *p = px + (y * TW + x) * 4;
            ok = memcmp(p, pal + 3 * (x % 4), 3) == 0 && p[3] == alpha[x % 4];
        }
    CHECK(ok);
    free(px);
    test_buf_free(&b);
}

static void test_png_interlaced(void) {
    uint8_t rgb[TW * TH * 3];
    test_picture(rgb);
    test_png_spec s = spec_base(PNG_COLOR_TYPE_RGB, 8, rgb);
    s.interlace = 1;
    test_buf b;
    CHECK(test_make_png(&s, &b) == 0);
    int32_t w, h;
    uint8_t *px = decode_mem(&b, FF_PIXEL_RGB8, &w, &h);
    CHECK(px && memcmp(px, rgb, sizeof rgb) == 0);
    free(px);
    test_buf_free(&b);
}

/* ---- JPEG variants -------------------------------------------------------------- */

enum { JW = 40, JH = 24 };

static void test_jpeg_variants(void) {
    /* smooth pictures survive quality 100 almost exactly */
    uint8_t grey[JW * JH], rgb[JW * JH * 3], cmyk[JW * JH * 4];
    for (int y = 0; y < JH; y++)
        for (int x = 0; x < JW; x++) {
            int i = y * JW + x;
            grey[i] = (uint8_t)(x * 4 + y * 2);
            rgb[3 * i] = (uint8_t)(x * 5), rgb[3 * i + 1] = (uint8_t)(100 + y * 3), rgb[3 * i + 2] = 90;
        }
    test_buf b;
    int32_t w, h, ch;
    CHECK(test_make_jpeg(grey, JW, JH, 1, &b) == 0);
    CHECK_OK(ff_image_probe_memory(b.data, b.size, &ch, &w, &h));
    CHECK(w == JW && h == JH && ch == 1);
    uint8_t *px = decode_mem(&b, FF_PIXEL_GRAY8, &w, &h);
    CHECK(px && max_diff(px, grey, sizeof grey) <= 2);
    free(px);
    px = decode_mem(&b, FF_PIXEL_RGB8, &w, &h);
    int ok = px != NULL;
    for (int i = 0; ok && i < JW * JH; i++) ok = px[3 * i] == px[3 * i + 1] && px[3 * i] == px[3 * i + 2];
    CHECK(ok);
    free(px);
    test_buf_free(&b);

    CHECK(test_make_jpeg(rgb, JW, JH, 3, &b) == 0);
    CHECK_OK(ff_image_probe_memory(b.data, b.size, &ch, &w, &h));
    CHECK(ch == 3);
    px = decode_mem(&b, FF_PIXEL_RGB8, &w, &h);
    int d = px ? max_diff(px, rgb, sizeof rgb) : 999;
    printf("JPEG RGB q100 round trip: max diff %d\n", d);
    CHECK(d <= 4);
    free(px);
    test_buf_free(&b);
    /* progressive: same pixels as baseline, up to the DCT's rounding */
    CHECK(test_make_jpeg_progressive(rgb, JW, JH, 3, &b) == 0);
    px = decode_mem(&b, FF_PIXEL_RGB8, &w, &h);
    CHECK(px && max_diff(px, rgb, sizeof rgb) <= 4);
    free(px);
    test_buf_free(&b);

    /* CMYK as Photoshop writes it (Adobe marker, inverted): stored
     * (255,0,0,255) = no cyan, full magenta and yellow, no black = red;
     * stored (255,255,255,128) = only black at 127/255 -> grey 128. */
    for (int i = 0; i < JW * JH; i++) {
        uint8_t *p = cmyk + 4 * i;
        if (i % JW < JW / 2)
            p[0] = 255, p[1] = 0, p[2] = 0, p[3] = 255;
        else
            p[0] = 255, p[1] = 255, p[2] = 255, p[3] = 128;
    }
    CHECK(test_make_jpeg(cmyk, JW, JH, 4, &b) == 0);
    CHECK_OK(ff_image_probe_memory(b.data, b.size, &ch, &w, &h));
    CHECK(ch == 4);
    px = decode_mem(&b, FF_PIXEL_RGB8, &w, &h);
    CHECK(px != NULL);
    if (px) {
        const uint8_t *red = px + (JH / 2 * JW + 2) * 3, *gry = px + (JH / 2 * JW + JW - 3) * 3;
        printf("CMYK JPEG: red (%d,%d,%d), grey (%d,%d,%d)\n", red[0], red[1], red[2], gry[0], gry[1],
               gry[2]);
        CHECK(red[0] >= 250 && red[1] <= 5 && red[2] <= 5);
        CHECK(abs(gry[0] - 128) <= 3 && abs(gry[1] - 128) <= 3 && abs(gry[2] - 128) <= 3);
    }
    free(px);
    test_buf_free(&b);
}

/* ---- writer -------------------------------------------------------------------- */

static int count_dir_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.') n++;
    if (d) closedir(d);
    return n;
}

static void test_write_png(void) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/writer", ff_test_tmpdir());
    mkdir(dir, 0700);
    char path[600];
    snprintf(path, sizeof path, "%s/out.png", dir);

    uint8_t rgb[TW * TH * 3];
    test_picture(rgb);
    /* RGB8 with padded stride */
    size_t stride = TW * 3 + 3;
    uint8_t *padded = calloc(TH, stride);
    for (int y = 0; y < TH; y++) memcpy(padded + y * stride, rgb + y * TW * 3, TW * 3);
    CHECK_OK(ff_image_write_png(path, padded, TW, TH, stride, FF_PIXEL_RGB8));
    int32_t w = 0, h = 0, ch = 0;
    CHECK_OK(ff_image_probe_file(path, &ch, &w, &h));
    CHECK(w == TW && h == TH && ch == 3);
    uint8_t back[TW * TH * 4];
    CHECK_OK(ff_image_decode_file(path, FF_PIXEL_RGB8, back, sizeof back, 0));
    CHECK(memcmp(back, rgb, sizeof rgb) == 0);
    CHECK(count_dir_entries(dir) == 1); /* no temporary file left behind */

    /* BGR8 and RGBA8 are converted to RGB; overwriting works */
    uint8_t bgr[TW * TH * 3], rgba[TW * TH * 4];
    for (int i = 0; i < TW * TH; i++) {
        bgr[3 * i] = rgb[3 * i + 2], bgr[3 * i + 1] = rgb[3 * i + 1], bgr[3 * i + 2] = rgb[3 * i];
        memcpy(rgba + 4 * i, rgb + 3 * i, 3), rgba[4 * i + 3] = 7;
    }
    CHECK_OK(ff_image_write_png(path, bgr, TW, TH, 0, FF_PIXEL_BGR8));
    memset(back, 0, sizeof back);
    CHECK_OK(ff_image_decode_file(path, FF_PIXEL_RGB8, back, sizeof back, 0));
    CHECK(memcmp(back, rgb, sizeof rgb) == 0);
    CHECK_OK(ff_image_write_png(path, rgba, TW, TH, 0, FF_PIXEL_RGBA8));
    CHECK_OK(ff_image_probe_file(path, &ch, &w, &h));
    CHECK(ch == 3);
    CHECK_OK(ff_image_decode_file(path, FF_PIXEL_RGB8, back, sizeof back, 0));
    CHECK(memcmp(back, rgb, sizeof rgb) == 0);

    /* GRAY8 stays grey */
    uint8_t grey[TW * TH];
    for (int i = 0; i < TW * TH; i++) grey[i] = (uint8_t)(i * 2);
    CHECK_OK(ff_image_write_png(path, grey, TW, TH, 0, FF_PIXEL_GRAY8));
    CHECK_OK(ff_image_probe_file(path, &ch, &w, &h));
    CHECK(ch == 1);
    CHECK_OK(ff_image_decode_file(path, FF_PIXEL_GRAY8, back, sizeof back, 0));
    CHECK(memcmp(back, grey, sizeof grey) == 0);
    CHECK(count_dir_entries(dir) == 1);

    /* errors */
    CHECK_STATUS(ff_image_write_png(NULL, grey, TW, TH, 0, FF_PIXEL_GRAY8), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("path is NULL");
    CHECK_STATUS(ff_image_write_png(path, NULL, TW, TH, 0, FF_PIXEL_GRAY8), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("pixels is NULL");
    CHECK_STATUS(ff_image_write_png(path, grey, 0, TH, 0, FF_PIXEL_GRAY8), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("must be positive");
    CHECK_STATUS(ff_image_write_png(path, grey, TW, TH, 0, 17), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("unknown pixel format 17");
    CHECK_STATUS(ff_image_write_png(path, grey, TW, TH, TW - 1, FF_PIXEL_GRAY8), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("row_stride 12 is below");
    CHECK_STATUS(ff_image_write_png("/nonexistent-dir-ff/x.png", grey, TW, TH, 0, FF_PIXEL_GRAY8), FF_E_IO);
    CHECK_MSG("/nonexistent-dir-ff/x.png");
    CHECK_OK(ff_image_decode_file(path, FF_PIXEL_GRAY8, back, sizeof back, 0)); /* still intact */
    CHECK(memcmp(back, grey, sizeof grey) == 0);
    free(padded);
}

/* ---- damaged and hostile input --------------------------------------------------------- */

/* Expects decode_memory and decode_file of `data` to fail with `status`
 * and a message containing `needle`, leaving the buffer untouched. */
static void expect_decode_fail(const char *label, const uint8_t *data, size_t size, ff_status status,
                               const char *needle) {
    enum { CAP = 64 * 64 * 4 };
    static uint8_t buf[CAP];
    memset(buf, 0x5A, CAP);
    ff_status st = ff_image_decode_memory(data, size, FF_PIXEL_RGB8, buf, CAP, 0);
    if (getenv("FF_TEST_VERBOSE")) printf("[%s] %s\n", label, ff_last_error_message());
    if (st != status || !strstr(ff_last_error_message(), needle))
        fprintf(stderr, "[%s] memory: status %d msg \"%s\"\n", label, (int)st, ff_last_error_message());
    CHECK(st == status);
    CHECK_MSG(needle);
    CHECK_MSG("memory buffer");

    const char *path = tmp_path("damaged.img");
    CHECK(test_write_file(path, data, size) == 0);
    st = ff_image_decode_file(path, FF_PIXEL_RGB8, buf, CAP, 0);
    if (st != status || !strstr(ff_last_error_message(), needle))
        fprintf(stderr, "[%s] file: status %d msg \"%s\"\n", label, (int)st, ff_last_error_message());
    CHECK(st == status);
    CHECK_MSG(needle);
    CHECK_MSG(path);
    int untouched = 1;
    for (size_t i = 0; i < CAP; i++) untouched &= buf[i] == 0x5A;
    CHECK(untouched);
}

static void put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24), p[1] = (uint8_t)(v >> 16), p[2] = (uint8_t)(v >> 8), p[3] = (uint8_t)v;
}

static void test_bad_png(void) {
    uint8_t rgb[TW * TH * 3];
    test_picture(rgb);
    test_png_spec s = spec_base(PNG_COLOR_TYPE_RGB, 8, rgb);
    test_buf b;
    CHECK(test_make_png(&s, &b) == 0);
    uint8_t *d = malloc(b.size);

    /* truncations: inside the signature, inside IHDR, inside IDAT, before IEND */
    const size_t cuts[] = {5, 8, 20, 40, b.size / 2, b.size - 12, b.size - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
        char label[64];
        snprintf(label, sizeof label, "png cut at %zu of %zu", cuts[k], b.size);
        expect_decode_fail(label, b.data, cuts[k], FF_E_BAD_FORMAT, "truncated PNG");
    }
    /* a flipped byte in IDAT data: CRC mismatch */
    memcpy(d, b.data, b.size);
    d[33 + 8 + 5] ^= 0x40; /* IHDR is 8+25 bytes; IDAT data starts 8 bytes later */
    expect_decode_fail("png idat flip", d, b.size, FF_E_BAD_FORMAT, "corrupt PNG");
    /* same with a recomputed CRC: the zlib stream itself is damaged */
    test_png_fix_crc(d, 33);
    expect_decode_fail("png idat flip + crc", d, b.size, FF_E_BAD_FORMAT, "corrupt PNG");
    /* a flipped IHDR byte */
    memcpy(d, b.data, b.size);
    d[8 + 8 + 9] ^= 0x01; /* colour type */
    expect_decode_fail("png ihdr flip", d, b.size, FF_E_BAD_FORMAT, "CRC");
    /* a bad signature byte */
    memcpy(d, b.data, b.size);
    d[6] = 0;
    expect_decode_fail("png sig", d, b.size, FF_E_BAD_FORMAT, "corrupt PNG signature");

    /* absurd declared sizes with valid CRCs */
    memcpy(d, b.data, b.size);
    put_be32(d + 16, 100000), put_be32(d + 20, 100000);
    test_png_fix_crc(d, 8);
    int32_t w = 0, h = 0, ch = 0;
    CHECK_OK(ff_image_probe_memory(d, b.size, &ch, &w, &h)); /* the header itself is valid */
    CHECK(w == 100000 && h == 100000);
    expect_decode_fail("png 100000^2", d, b.size, FF_E_LIMIT_EXCEEDED,
                       "100000x100000 = 10000000000 pixels is above the limit");
    put_be32(d + 16, 2000000), put_be32(d + 20, 1);
    test_png_fix_crc(d, 8);
    expect_decode_fail("png 2e6 wide", d, b.size, FF_E_LIMIT_EXCEEDED, "absurd image size 2000000x1");
    put_be32(d + 16, 0);
    test_png_fix_crc(d, 8);
    expect_decode_fail("png zero width", d, b.size, FF_E_BAD_FORMAT, "corrupt PNG");
    put_be32(d + 16, 0x80000000u);
    test_png_fix_crc(d, 8);
    expect_decode_fail("png 2^31 wide", d, b.size, FF_E_BAD_FORMAT, "corrupt PNG");

    /* found by fuzzing: a 48-byte file declaring a 721 MB iTXt chunk made
     * libpng allocate it up front; ancillary chunks are now skipped unread */
    static const uint8_t itxt_bomb[48] = {
        0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
        0x00, 0x00, 0x00, 0x11, 0x00, 0x00, 0x00, 0x0b, 0x08, 0x04, 0x00, 0x00, 0x00, 0x33, 0x29, 0xae,
        0x8c, 0x2b, 0x00, 0x00, 0xae, 0x69, 0x54, 0x58, 0x74, 0x78, 0x9c, 0xcc, 0x00, 0x00, 0x33, 0x29};
    expect_decode_fail("png itxt bomb", itxt_bomb, sizeof itxt_bomb, FF_E_BAD_FORMAT, "truncated PNG");

    /* the configurable limit */
    int64_t old;
    CHECK_OK(ff_global_get_i64(FF_GLOBAL_MAX_IMAGE_PIXELS, &old));
    CHECK_OK(ff_global_set_i64(FF_GLOBAL_MAX_IMAGE_PIXELS, TW * TH - 1));
    expect_decode_fail("png limit", b.data, b.size, FF_E_LIMIT_EXCEEDED, "FF_GLOBAL_MAX_IMAGE_PIXELS");
    CHECK_OK(ff_global_set_i64(FF_GLOBAL_MAX_IMAGE_PIXELS, TW * TH));
    uint8_t out[TW * TH * 3];
    CHECK_OK(ff_image_decode_memory(b.data, b.size, FF_PIXEL_RGB8, out, sizeof out, 0));
    CHECK_OK(ff_global_set_i64(FF_GLOBAL_MAX_IMAGE_PIXELS, old));
    free(d);
    test_buf_free(&b);
}

static void test_bad_jpeg(void) {
    uint8_t grey[JW * JH];
    for (int i = 0; i < JW * JH; i++) grey[i] = (uint8_t)(i * 7);
    test_buf b;
    CHECK(test_make_jpeg(grey, JW, JH, 1, &b) == 0);
    uint8_t *d = malloc(b.size);

    const size_t cuts[] = {2, 3, 30, b.size / 2, b.size - 2};
    for (size_t k = 0; k < sizeof cuts / sizeof *cuts; k++) {
        char label[64];
        snprintf(label, sizeof label, "jpeg cut at %zu of %zu", cuts[k], b.size);
        expect_decode_fail(label, b.data, cuts[k], FF_E_BAD_FORMAT, "truncated JPEG");
    }
    /* find SOF0 (FF C0): length(2) precision(1) height(2) width(2) */
    size_t sof = 0;
    for (size_t i = 2; i + 9 < b.size; i++)
        if (b.data[i] == 0xFF && b.data[i + 1] == 0xC0) {
            sof = i;
            break;
        }
    CHECK(sof > 0);
    memcpy(d, b.data, b.size);
    d[sof + 4] = 13;
    expect_decode_fail("jpeg precision", d, b.size, FF_E_BAD_FORMAT, "precision 13");
    memcpy(d, b.data, b.size);
    d[sof + 5] = 0xFD, d[sof + 6] = 0xE8, d[sof + 7] = 0xFD, d[sof + 8] = 0xE8; /* 65000 x 65000 */
    int32_t w = 0, h = 0;
    CHECK_OK(ff_image_probe_memory(d, b.size, NULL, &w, &h));
    CHECK(w == 65000 && h == 65000);
    expect_decode_fail("jpeg 65000^2", d, b.size, FF_E_LIMIT_EXCEEDED, "65000x65000 = 4225000000 pixels");
    memcpy(d, b.data, b.size);
    d[sof + 5] = 0, d[sof + 6] = 0; /* height 0 */
    expect_decode_fail("jpeg zero height", d, b.size, FF_E_BAD_FORMAT, "corrupt JPEG");
    /* SOS claiming 2 components in a 1-component image: length mismatch */
    size_t sos = 0;
    for (size_t i = 2; i + 5 < b.size; i++)
        if (b.data[i] == 0xFF && b.data[i + 1] == 0xDA) {
            sos = i;
            break;
        }
    CHECK(sos > 0);
    memcpy(d, b.data, b.size);
    d[sos + 4] = 2;
    expect_decode_fail("jpeg sos", d, b.size, FF_E_BAD_FORMAT, "corrupt JPEG: Bogus marker length");

    /* two components: no colour space to convert from */
    uint8_t two[JW * JH * 2];
    memset(two, 99, sizeof two);
    test_buf b2;
    CHECK(test_make_jpeg(two, JW, JH, 2, &b2) == 0);
    int32_t c2 = 0;
    CHECK_OK(ff_image_probe_memory(b2.data, b2.size, &c2, NULL, NULL));
    CHECK(c2 == 2);
    expect_decode_fail("jpeg 2 comps", b2.data, b2.size, FF_E_UNSUPPORTED, "2 components in an unknown colour space");
    test_buf_free(&b2);

    /* a progressive JPEG with 704 scans: refused past 500 (decode-time bomb) */
    test_buf many;
    CHECK(test_make_jpeg_many_scans(grey, JW, JH, &many) == 0);
    CHECK_OK(ff_image_probe_memory(many.data, many.size, NULL, &w, &h));
    expect_decode_fail("jpeg scans", many.data, many.size, FF_E_BAD_FORMAT, "more than 500 progressive scans");
    test_buf_free(&many);

    /* entropy-coded data damaged: must not crash; status OK or BAD_FORMAT */
    for (size_t k = 0; k < 40; k++) {
        memcpy(d, b.data, b.size);
        size_t at = b.size - 2 - 1 - (k * 37) % (b.size / 3);
        d[at] ^= (uint8_t)(0x11 * (k + 1));
        uint8_t out[JW * JH];
        ff_status st = ff_image_decode_memory(d, b.size, FF_PIXEL_GRAY8, out, sizeof out, 0);
        CHECK(st == FF_OK || st == FF_E_BAD_FORMAT);
    }
    free(d);
    test_buf_free(&b);
}

static void test_bad_files_and_args(void) {
    /* missing, directory, empty, text */
    const char *missing = tmp_path("no-such-image.png");
    uint8_t buf[64];
    CHECK_STATUS(ff_image_probe_file(missing, NULL, NULL, NULL), FF_E_IO);
    CHECK_MSG(missing);
    CHECK_MSG("No such file");
    CHECK_STATUS(ff_image_decode_file(missing, FF_PIXEL_RGB8, buf, sizeof buf, 0), FF_E_IO);
    CHECK_MSG(missing);
    CHECK_STATUS(ff_image_decode_file(ff_test_tmpdir(), FF_PIXEL_RGB8, buf, sizeof buf, 0), FF_E_IO);
    CHECK_MSG("directory");
    const char *empty = tmp_path("empty.png");
    CHECK(test_write_file(empty, "", 0) == 0);
    CHECK_STATUS(ff_image_probe_file(empty, NULL, NULL, NULL), FF_E_BAD_FORMAT);
    CHECK_MSG("empty");
    CHECK_MSG(empty);
    CHECK_STATUS(ff_image_probe_memory(buf, 0, NULL, NULL, NULL), FF_E_BAD_FORMAT);
    CHECK_MSG("empty (0 bytes)");
    const char *text = "this is not an image, just some text\n";
    expect_decode_fail("text", (const uint8_t *)text, strlen(text), FF_E_BAD_FORMAT,
                       "not a PNG or JPEG image");
    CHECK_MSG("74 68 69 73"); /* "this" */

    /* NULL and invalid arguments */
    test_buf b;
    uint8_t rgb[TW * TH * 3];
    test_picture(rgb);
    test_png_spec s = spec_base(PNG_COLOR_TYPE_RGB, 8, rgb);
    CHECK(test_make_png(&s, &b) == 0);
    uint8_t out[TW * TH * 4];
    memset(out, 0x77, sizeof out);
    CHECK_STATUS(ff_image_probe_file(NULL, NULL, NULL, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("path is NULL");
    CHECK_STATUS(ff_image_probe_memory(NULL, 10, NULL, NULL, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("data is NULL");
    CHECK_STATUS(ff_image_decode_memory(NULL, 10, FF_PIXEL_RGB8, out, sizeof out, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("data is NULL");
    CHECK_STATUS(ff_image_decode_memory(b.data, b.size, FF_PIXEL_RGB8, NULL, sizeof out, 0),
                 FF_E_INVALID_ARGUMENT);
    CHECK_MSG("pixels is NULL");
    CHECK_STATUS(ff_image_decode_file(NULL, FF_PIXEL_RGB8, out, sizeof out, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("path is NULL");
    CHECK_STATUS(ff_image_decode_file(missing, FF_PIXEL_RGB8, NULL, sizeof out, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("pixels is NULL");
    CHECK_STATUS(ff_image_decode_memory(b.data, b.size, 0, out, sizeof out, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("unknown pixel format 0");
    CHECK_STATUS(ff_image_decode_file(missing, 42, out, sizeof out, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("unknown pixel format 42");
    /* too-small buffers and strides */
    CHECK_STATUS(ff_image_decode_memory(b.data, b.size, FF_PIXEL_RGB8, out, TW * TH * 3 - 1, 0),
                 FF_E_BUFFER_TOO_SMALL);
    CHECK_MSG("holds 272 bytes");
    CHECK_MSG("needs 273");
    CHECK_STATUS(ff_image_decode_memory(b.data, b.size, FF_PIXEL_RGBA8, out, TW * TH * 4 - 1, 0),
                 FF_E_BUFFER_TOO_SMALL);
    CHECK_MSG("needs 364");
    CHECK_STATUS(ff_image_decode_memory(b.data, b.size, FF_PIXEL_RGB8, out, sizeof out, TW * 3 - 1),
                 FF_E_INVALID_ARGUMENT);
    CHECK_MSG("row_stride 38 is below width*channels = 39");
    /* stride 50: needs 6*50 + 39 = 339 bytes */
    CHECK_STATUS(ff_image_decode_memory(b.data, b.size, FF_PIXEL_RGB8, out, 338, 50), FF_E_BUFFER_TOO_SMALL);
    CHECK_MSG("needs 339");
    int untouched = 1;
    for (size_t i = 0; i < sizeof out; i++) untouched &= out[i] == 0x77;
    CHECK(untouched);
    CHECK_OK(ff_image_decode_memory(b.data, b.size, FF_PIXEL_RGB8, out, 339, 50));
    CHECK(strcmp(ff_last_error_message(), "") == 0);
    test_buf_free(&b);
}

int main(void) {
    test_pixel_format_channels();
    test_png_rgb8_and_formats();
    test_png_16bit();
    test_png_grey_alpha();
    test_png_palette();
    test_png_interlaced();
    test_jpeg_variants();
    test_write_png();
    test_bad_png();
    test_bad_jpeg();
    test_bad_files_and_args();
    return ff_test_finish();
}
