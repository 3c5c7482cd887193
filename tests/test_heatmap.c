/* Heatmap overlays: colormap values, blending, resizing, pixel formats,
 * mask contours, bad arguments. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "render/colormap.h"
#include "test_util.h"

/* Turbo's published polynomial, evaluated independently of the table. */
static int poly(const double c[6], double x) {
    double v = 0, p = 1;
    for (int k = 0; k < 6; k++, p *= x) v += c[k] * p;
    v = v < 0 ? 0 : v > 1 ? 1 : v;
    return (int)(v * 255.0 + 0.5);
}

static void test_table(void) {
    static const double R[6] = {0.13572138, 4.61539260, -42.66032258, 132.13108234, -152.94239396, 59.28637943};
    static const double G[6] = {0.09140261, 2.19418839, 4.84296658, -14.18503333, 4.27729857, 2.82956604};
    static const double B[6] = {0.10667330, 12.64194608, -60.58204836, 110.36276771, -89.90310912, 27.34824973};
    int worst = 0;
    for (int i = 0; i < 256; i++) {
        double x = i / 255.0;
        int d[3] = {abs(poly(R, x) - ff_turbo_rgb[i][0]), abs(poly(G, x) - ff_turbo_rgb[i][1]),
                    abs(poly(B, x) - ff_turbo_rgb[i][2])};
        for (int k = 0; k < 3; k++)
            if (d[k] > worst) worst = d[k];
    }
    CHECK(worst == 0);
    /* Turbo's character: blue at the low end, green in the middle, red at
     * the high end */
    CHECK(ff_turbo_rgb[20][2] > ff_turbo_rgb[20][0] && ff_turbo_rgb[20][2] > ff_turbo_rgb[20][1]);
    CHECK(ff_turbo_rgb[128][1] > ff_turbo_rgb[128][0] && ff_turbo_rgb[128][1] > ff_turbo_rgb[128][2]);
    CHECK(ff_turbo_rgb[240][0] > 150 && ff_turbo_rgb[240][1] < 80 && ff_turbo_rgb[240][2] < 30);
}

static bool same_rgb(const uint8_t *p, const uint8_t *q) { return p[0] == q[0] && p[1] == q[1] && p[2] == q[2]; }

static void test_colormap_only(void) {
    /* values: lo, hi, middle, below lo, above hi, +inf, -inf, quarter */
    const float map[8] = {-1.0f, 0.0f, -0.5f, -3.0f, 2.0f, INFINITY, -INFINITY, -0.75f};
    uint8_t out[8 * 3];
    CHECK_OK(ff_heatmap_render(map, 8, 1, -1.0f, 0.0f, NULL, 0, 0, 0, 0, 0.5f, out, sizeof out, 0));
    CHECK(same_rgb(out + 0, ff_turbo_rgb[0]));
    CHECK(same_rgb(out + 3, ff_turbo_rgb[255]));
    CHECK(same_rgb(out + 6, ff_turbo_rgb[128])); /* 127.5 rounds up */
    CHECK(same_rgb(out + 9, ff_turbo_rgb[0]));
    CHECK(same_rgb(out + 12, ff_turbo_rgb[255]));
    CHECK(same_rgb(out + 15, ff_turbo_rgb[255]));
    CHECK(same_rgb(out + 18, ff_turbo_rgb[0]));
    CHECK(same_rgb(out + 21, ff_turbo_rgb[64])); /* 63.75 */
}

static void test_blend_and_formats(void) {
    enum { W = 4, H = 3 };
    float map[W * H];
    for (int i = 0; i < W * H; i++) map[i] = 1.0f; /* the hi colour everywhere */
    const uint8_t *c = ff_turbo_rgb[255];
    uint8_t img[W * H * 4], out[W * H * 3];
    /* grey 100, alpha 0.5: (100 + c) / 2 rounded */
    memset(img, 100, sizeof img);
    CHECK_OK(ff_heatmap_render(map, W, H, 0.0f, 1.0f, img, W, H, 0, FF_PIXEL_GRAY8, 0.5f, out, sizeof out, 0));
    bool ok = true;
    for (int i = 0; i < W * H; i++)
        for (int k = 0; k < 3; k++) ok &= out[3 * i + k] == (uint8_t)((100.0f + c[k]) * 0.5f + 0.5f);
    CHECK(ok);
    /* alpha 0 returns the picture itself: BGR8 pure red stays red in RGB */
    for (int i = 0; i < W * H; i++) img[3 * i] = 0, img[3 * i + 1] = 10, img[3 * i + 2] = 250;
    CHECK_OK(ff_heatmap_render(map, W, H, 0.0f, 1.0f, img, W, H, 0, FF_PIXEL_BGR8, 0.0f, out, sizeof out, 0));
    ok = true;
    for (int i = 0; i < W * H; i++) ok &= out[3 * i] == 250 && out[3 * i + 1] == 10 && out[3 * i + 2] == 0;
    CHECK(ok);
    /* RGBA8: alpha channel dropped, alpha 1 gives the colormap alone */
    for (int i = 0; i < W * H; i++) img[4 * i] = 1, img[4 * i + 1] = 2, img[4 * i + 2] = 3, img[4 * i + 3] = 77;
    CHECK_OK(ff_heatmap_render(map, W, H, 0.0f, 1.0f, img, W, H, 0, FF_PIXEL_RGBA8, 0.0f, out, sizeof out, 0));
    CHECK(out[0] == 1 && out[1] == 2 && out[2] == 3 && out[3] == 1);
    CHECK_OK(ff_heatmap_render(map, W, H, 0.0f, 1.0f, img, W, H, 0, FF_PIXEL_RGBA8, 1.0f, out, sizeof out, 0));
    CHECK(same_rgb(out, c) && same_rgb(out + 3 * (W * H - 1), c));
    /* padded strides: input stride 7 bytes per GRAY8 row, output 16 bytes;
     * the padding bytes are left alone */
    uint8_t gimg[7 * H], pout[16 * H];
    memset(gimg, 0xEE, sizeof gimg);
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) gimg[7 * y + x] = (uint8_t)(40 * y + x);
    memset(pout, 0x5A, sizeof pout);
    CHECK_OK(ff_heatmap_render(map, W, H, 0.0f, 1.0f, gimg, W, H, 7, FF_PIXEL_GRAY8, 0.0f, pout,
                               16 * (H - 1) + 3 * W, 16));
    ok = true;
    for (int y = 0; y < H; y++) {
        for (int x = 0; x < W; x++) ok &= pout[16 * y + 3 * x + 1] == 40 * y + x;
        for (int b = 3 * W; b < 16; b++) ok &= pout[16 * y + b] == 0x5A;
    }
    CHECK(ok);
}

static void test_resize(void) {
    /* a 16x8 picture of vertical stripes 0/200 halves to 8x4 of flat 100
     * (antialiased: each output averages both stripes equally) */
    enum { W = 8, H = 4 };
    uint8_t img[16 * 8];
    for (int y = 0; y < 8; y++)
        for (int x = 0; x < 16; x++) img[16 * y + x] = x % 2 ? 200 : 0;
    float map[W * H] = {0};
    uint8_t out[W * H * 3];
    CHECK_OK(ff_heatmap_render(map, W, H, 0.0f, 1.0f, img, 16, 8, 0, FF_PIXEL_GRAY8, 0.0f, out, sizeof out, 0));
    bool ok = true;
    for (int y = 0; y < H; y++)
        for (int x = 1; x < W - 1; x++) ok &= abs(out[3 * (W * y + x)] - 100) <= 1;
    CHECK(ok);
    /* upscaling a 2x1 picture (0, 255) to 8x1: monotonic ramp, ends kept */
    uint8_t two[2] = {0, 255};
    float m8[8] = {0};
    uint8_t o8[24];
    CHECK_OK(ff_heatmap_render(m8, 8, 1, 0.0f, 1.0f, two, 2, 1, 0, FF_PIXEL_GRAY8, 0.0f, o8, sizeof o8, 0));
    CHECK(o8[0] == 0 && o8[21] == 255);
    ok = true;
    for (int x = 1; x < 8; x++) ok &= o8[3 * x] >= o8[3 * (x - 1)];
    CHECK(ok && o8[9] > 0 && o8[9] < 255);
}

/* Whether pixel (x, y) of a 16x16 picture is on the contour of the square
 * [4, 8) x [4, 8): the 2-pixel ring around its boundary. */
static bool on_ring(int x, int y) {
    bool in_outer = x >= 3 && x <= 8 && y >= 3 && y <= 8;
    bool in_inner = x >= 5 && x <= 6 && y >= 5 && y <= 6;
    return in_outer && !in_inner;
}

static void test_contour(void) {
    enum { N = 16 };
    uint8_t rgb[N * N * 3];
    uint8_t mask[N * N] = {0};
    for (int y = 4; y < 8; y++)
        for (int x = 4; x < 8; x++) mask[N * y + x] = 255;
    memset(rgb, 7, sizeof rgb);
    CHECK_OK(ff_heatmap_draw_contour(mask, N, N, 0, 0xFF00C0u, rgb, N, N, sizeof rgb, 0));
    bool ok = true;
    int drawn = 0;
    for (int y = 0; y < N; y++)
        for (int x = 0; x < N; x++) {
            const uint8_t *p = rgb + 3 * (N * y + x);
            bool colored = p[0] == 0xFF && p[1] == 0x00 && p[2] == 0xC0;
            bool untouched = p[0] == 7 && p[1] == 7 && p[2] == 7;
            drawn += colored;
            ok &= on_ring(x, y) ? colored : untouched;
        }
    CHECK(ok);
    CHECK(drawn == 36 - 4);
    /* the same square given as an 8x8 mask is resized nearest to 16x16 */
    uint8_t small[8 * 8] = {0};
    for (int y = 2; y < 4; y++)
        for (int x = 2; x < 4; x++) small[8 * y + x] = 1;
    uint8_t rgb2[N * N * 3];
    memset(rgb2, 7, sizeof rgb2);
    CHECK_OK(ff_heatmap_draw_contour(small, 8, 8, 0, 0xFF00C0u, rgb2, N, N, sizeof rgb2, 0));
    CHECK(memcmp(rgb, rgb2, sizeof rgb) == 0);
    /* an empty mask and a full mask draw nothing (the border is no contour) */
    uint8_t empty[N * N] = {0}, full[N * N];
    memset(full, 255, sizeof full);
    memset(rgb2, 7, sizeof rgb2);
    CHECK_OK(ff_heatmap_draw_contour(empty, N, N, 0, 0xFFFFFFu, rgb2, N, N, sizeof rgb2, 0));
    CHECK_OK(ff_heatmap_draw_contour(full, N, N, 0, 0xFFFFFFu, rgb2, N, N, sizeof rgb2, 0));
    bool all7 = true;
    for (size_t i = 0; i < sizeof rgb2; i++) all7 &= rgb2[i] == 7;
    CHECK(all7);
}

static void test_bad_args(void) {
    float map[4] = {0, 0.5f, 1, 0};
    uint8_t out[12], img[4] = {0};
    memset(out, 0xAB, sizeof out);
    CHECK_STATUS(ff_heatmap_render(NULL, 2, 2, 0, 1, NULL, 0, 0, 0, 0, 0.5f, out, 12, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("map is NULL");
    CHECK_STATUS(ff_heatmap_render(map, 2, 2, 0, 1, NULL, 0, 0, 0, 0, 0.5f, NULL, 12, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("out_rgb is NULL");
    CHECK_STATUS(ff_heatmap_render(map, 2, 2, 1, 1, NULL, 0, 0, 0, 0, 0.5f, out, 12, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("lo < hi");
    CHECK_STATUS(ff_heatmap_render(map, 2, 2, NAN, 1, NULL, 0, 0, 0, 0, 0.5f, out, 12, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("finite");
    CHECK_STATUS(ff_heatmap_render(map, 2, 2, 0, 1, NULL, 0, 0, 0, 0, 1.5f, out, 12, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("alpha");
    CHECK_STATUS(ff_heatmap_render(map, 2, 2, 0, 1, NULL, 0, 0, 0, 0, NAN, out, 12, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("alpha");
    CHECK_STATUS(ff_heatmap_render(map, 0, 2, 0, 1, NULL, 0, 0, 0, 0, 0.5f, out, 12, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("must be positive");
    CHECK_STATUS(ff_heatmap_render(map, 2, 2, 0, 1, NULL, 0, 0, 0, 0, 0.5f, out, 11, 0), FF_E_BUFFER_TOO_SMALL);
    CHECK_MSG("need 12");
    CHECK_STATUS(ff_heatmap_render(map, 2, 2, 0, 1, NULL, 0, 0, 0, 0, 0.5f, out, 12, 5), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("row stride 5");
    CHECK_STATUS(ff_heatmap_render(map, 2, 2, 0, 1, img, 2, 2, 0, 99, 0.5f, out, 12, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("pixel format 99");
    CHECK_STATUS(ff_heatmap_render(map, 2, 2, 0, 1, img, -2, 2, 0, FF_PIXEL_GRAY8, 0.5f, out, 12, 0),
                 FF_E_INVALID_ARGUMENT);
    CHECK_MSG("heatmap image");
    map[3] = NAN;
    CHECK_STATUS(ff_heatmap_render(map, 2, 2, 0, 1, NULL, 0, 0, 0, 0, 0.5f, out, 12, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("map[3] is NaN");
    CHECK_STATUS(ff_heatmap_render(map, 70000, 70000, 0, 1, NULL, 0, 0, 0, 0, 0.5f, out, 12, 0),
                 FF_E_LIMIT_EXCEEDED);
    CHECK_MSG("exceed the limit");
    bool untouched = true;
    for (size_t i = 0; i < sizeof out; i++) untouched &= out[i] == 0xAB;
    CHECK(untouched);

    CHECK_STATUS(ff_heatmap_draw_contour(NULL, 2, 2, 0, 0, out, 2, 2, 12, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("mask is NULL");
    CHECK_STATUS(ff_heatmap_draw_contour(img, 2, 2, 0, 0, NULL, 2, 2, 12, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("rgb is NULL");
    CHECK_STATUS(ff_heatmap_draw_contour(img, 2, 2, 0, 0x1000000u, out, 2, 2, 12, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("0xRRGGBB");
    CHECK_STATUS(ff_heatmap_draw_contour(img, 2, 2, 1, 0, out, 2, 2, 12, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("contour mask: row stride 1");
    CHECK_STATUS(ff_heatmap_draw_contour(img, 2, 2, 0, 0, out, 2, 2, 10, 0), FF_E_BUFFER_TOO_SMALL);
    CHECK_MSG("contour picture: capacity 10");
    CHECK_STATUS(ff_heatmap_draw_contour(img, 2, 0, 0, 0, out, 2, 2, 12, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("must be positive");
    untouched = true;
    for (size_t i = 0; i < sizeof out; i++) untouched &= out[i] == 0xAB;
    CHECK(untouched);
}

/* A rendered overlay written with ff_image_write_png decodes back to the
 * same bytes. */
static void test_png_round_trip(void) {
    enum { W = 40, H = 24 };
    float map[W * H];
    uint8_t img[64 * 48 * 3], mask[W * H] = {0}, out[W * H * 3], back[W * H * 3];
    for (int i = 0; i < W * H; i++) map[i] = -1.0f + (float)i / (W * H);
    for (int i = 0; i < 64 * 48 * 3; i++) img[i] = (uint8_t)(i * 7);
    for (int y = 8; y < 16; y++)
        for (int x = 10; x < 30; x++) mask[W * y + x] = 1;
    CHECK_OK(ff_heatmap_render(map, W, H, -1.0f, 0.0f, img, 64, 48, 0, FF_PIXEL_RGB8, 0.5f, out, sizeof out, 0));
    CHECK_OK(ff_heatmap_draw_contour(mask, W, H, 0, 0xFFFFFFu, out, W, H, sizeof out, 0));
    char path[512];
    snprintf(path, sizeof path, "%s/heatmap.png", ff_test_tmpdir());
    CHECK_OK(ff_image_write_png(path, out, W, H, 0, FF_PIXEL_RGB8));
    int32_t w = 0, h = 0, ch = 0;
    CHECK_OK(ff_image_probe_file(path, &ch, &w, &h));
    CHECK(w == W && h == H && ch == 3);
    memset(back, 0, sizeof back);
    CHECK_OK(ff_image_decode_file(path, FF_PIXEL_RGB8, back, sizeof back, 0));
    CHECK(memcmp(out, back, sizeof out) == 0);
    CHECK(back[3 * (W * 8 + 10)] == 255 && back[3 * (W * 8 + 10) + 1] == 255); /* contour corner */
    remove(path);
}

int main(void) {
    test_table();
    test_colormap_only();
    test_blend_and_formats();
    test_resize();
    test_contour();
    test_bad_args();
    test_png_round_trip();
    return ff_test_finish();
}
