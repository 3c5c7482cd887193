/* ff_image_preprocess against torchvision on a synthetic image (golden
 * file from tools/reference/gen_preprocess_golden.py; needs no shared
 * data), pixel formats and strides, argument errors, speed. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/memory.h"
#include "fastflow.h"
#include "image/resize_aa.h"
#include "tensor/safetensors.h"
#include "test_util.h"

#define SW 61
#define SH 47

static const char *k_cases[] = {"down_20x16",        "up_80x70",     "mixed_30x100",
                                "same_height_47x25", "same_width_19x61", "big_factor_9x5",
                                "one_1x1"};

static double max_abs_diff(const float *a, const float *b, size_t n, size_t *exact) {
    double m = 0;
    size_t same = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= m)) m = d; /* NaN propagates as a failure */
        same += a[i] == b[i];
    }
    if (exact) *exact = same;
    return m;
}

static void test_synthetic_golden(const uint8_t *rgb, const ff_st_file *f) {
    for (size_t k = 0; k < sizeof k_cases / sizeof *k_cases; k++) {
        const char *size = ff_st_meta(f, k_cases[k]);
        CHECK(size != NULL);
        if (!size) continue;
        int oh = 0, ow = 0;
        CHECK(sscanf(size, "%dx%d", &oh, &ow) == 2);
        size_t n = 3 * (size_t)oh * (size_t)ow;
        float *ref = malloc(n * sizeof *ref), *got = malloc(n * sizeof *got);
        int64_t shape[3] = {3, oh, ow};
        CHECK_OK(ff_st_read_f32(f, k_cases[k], 3, shape, ref));
        CHECK_OK(ff_image_preprocess(rgb, SW, SH, 0, FF_PIXEL_RGB8, ow, oh, got, n));
        size_t exact;
        double err = max_abs_diff(got, ref, n, &exact);
        printf("synthetic %-18s %dx%d -> %dx%d: max abs err %.3g, %zu of %zu bit-identical\n",
               k_cases[k], SW, SH, ow, oh, err, exact, n);
        CHECK(err <= 1e-5);
        free(ref);
        free(got);
    }
}

/* The same picture handed over as BGR8, RGBA8, with padded rows, and (for a
 * grey picture) as GRAY8 vs RGB8 must give bit-identical tensors. */
static void test_formats_agree(const uint8_t *rgb) {
    const int ow = 23, oh = 17;
    const size_t n = 3 * ow * oh;
    float *ref = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
    CHECK_OK(ff_image_preprocess(rgb, SW, SH, 0, FF_PIXEL_RGB8, ow, oh, ref, n));

    const size_t stride = SW * 4 + 13;
    uint8_t *buf = calloc(SH, stride);
    for (int y = 0; y < SH; y++)
        for (int x = 0; x < SW; x++) {
            const uint8_t *s = rgb + (y * SW + x) * 3;
            uint8_t *d = buf + y * stride + x * 3;
            d[0] = s[2], d[1] = s[1], d[2] = s[0];
        }
    CHECK_OK(ff_image_preprocess(buf, SW, SH, stride, FF_PIXEL_BGR8, ow, oh, got, n));
    CHECK(memcmp(got, ref, n * sizeof(float)) == 0);

    for (int y = 0; y < SH; y++)
        for (int x = 0; x < SW; x++) {
            const uint8_t *s = rgb + (y * SW + x) * 3;
            uint8_t *d = buf + y * stride + x * 4;
            d[0] = s[0], d[1] = s[1], d[2] = s[2], d[3] = (uint8_t)(x * 5);
        }
    CHECK_OK(ff_image_preprocess(buf, SW, SH, stride, FF_PIXEL_RGBA8, ow, oh, got, n));
    CHECK(memcmp(got, ref, n * sizeof(float)) == 0);

    /* grey: GRAY8 replicated == RGB8 with equal channels; planes identical */
    uint8_t *grey = malloc(SW * SH), *grey3 = malloc(SW * SH * 3);
    for (int i = 0; i < SW * SH; i++) grey[i] = rgb[3 * i + 1], memset(grey3 + 3 * i, grey[i], 3);
    CHECK_OK(ff_image_preprocess(grey3, SW, SH, 0, FF_PIXEL_RGB8, ow, oh, ref, n));
    CHECK_OK(ff_image_preprocess(grey, SW, SH, 0, FF_PIXEL_GRAY8, ow, oh, got, n));
    CHECK(memcmp(got, ref, n * sizeof(float)) == 0);
    /* (v/255 resized is the same in every plane; normalisation differs) */
    float v0 = got[0] * 0.229f + 0.485f, v1 = got[ow * oh] * 0.224f + 0.456f;
    CHECK(fabsf(v0 - v1) < 1e-6f);
    free(grey);
    free(grey3);
    free(buf);
    free(ref);
    free(got);
}

/* Identity size: exactly (v/255 - mean)/std, no resampling at all. */
static void test_identity(const uint8_t *rgb) {
    const size_t n = 3 * SW * SH;
    float *got = malloc(n * sizeof(float));
    CHECK_OK(ff_image_preprocess(rgb, SW, SH, 0, FF_PIXEL_RGB8, SW, SH, got, n));
    const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    int bad = 0;
    for (int c = 0; c < 3; c++)
        for (int i = 0; i < SW * SH; i++) {
            float want = ((float)rgb[3 * i + c] / 255.0f - mean[c]) / std[c];
            bad += got[c * SW * SH + i] != want;
        }
    CHECK(bad == 0);
    free(got);
}

/* A constant image stays constant under any resize (weights sum to 1). */
static void test_constant(void) {
    enum { W = 33, H = 700 };
    uint8_t *px = malloc(W * H * 3);
    memset(px, 200, W * H * 3);
    const int sizes[][2] = {{256, 256}, {5, 1000}, {1, 1}, {64, 7}};
    for (size_t k = 0; k < 4; k++) {
        int ow = sizes[k][0], oh = sizes[k][1];
        size_t n = 3 * (size_t)ow * oh;
        float *out = malloc(n * sizeof(float));
        CHECK_OK(ff_image_preprocess(px, W, H, 0, FF_PIXEL_RGB8, ow, oh, out, n));
        double worst = 0;
        for (int c = 0; c < 3; c++) {
            const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
            double want = (200.0 / 255.0 - mean[c]) / std[c];
            for (size_t i = 0; i < (size_t)ow * oh; i++) {
                double d = fabs(out[c * (size_t)ow * oh + i] - want);
                if (d > worst) worst = d;
            }
        }
        CHECK(worst < 2e-6);
        free(out);
    }
    free(px);
}

/* Filter weights: every output's weights are positive where used, sum to 1,
 * and downscaling widens the support by the factor. */
static void test_filter(void) {
    ff_aa_filter f;
    CHECK_OK(ff_aa_filter_init(&f, 900, 256));
    CHECK(f.taps == 9); /* ceil(900/256)*2+1 */
    int ok = 1;
    for (int o = 0; o < f.out_size; o++) {
        double sum = 0;
        for (int j = 0; j < f.count[o]; j++) sum += f.weights[o * f.taps + j];
        if (fabs(sum - 1) > 1e-6 || f.count[o] < 1 || f.count[o] > f.taps ||
            f.start[o] + f.count[o] > 900)
            ok = 0;
    }
    CHECK(ok);
    ff_aa_filter_free(&f);
    CHECK_OK(ff_aa_filter_init(&f, 10, 40)); /* upscaling: plain bilinear, 2 taps */
    CHECK(f.taps == 3);
    CHECK(f.start[0] == 0 && f.count[0] == 1 && f.weights[0] == 1.0f);
    /* output 5 centre = 1.375: inputs 0 and 1 at distance .875 and .125 */
    CHECK(f.start[5] == 0 && f.count[5] == 2);
    CHECK(fabsf(f.weights[5 * f.taps + 0] - 0.125f) < 1e-7f);
    CHECK(fabsf(f.weights[5 * f.taps + 1] - 0.875f) < 1e-7f);
    ff_aa_filter_free(&f);
}

static void test_errors(const uint8_t *rgb) {
    float out[3 * 8 * 8];
    float canary[3 * 8 * 8];
    for (size_t i = 0; i < 3 * 8 * 8; i++) out[i] = canary[i] = -42.0f;
    const size_t n = 3 * 8 * 8;
    CHECK_STATUS(ff_image_preprocess(NULL, SW, SH, 0, FF_PIXEL_RGB8, 8, 8, out, n),
                 FF_E_INVALID_ARGUMENT);
    CHECK_MSG("pixels is NULL");
    CHECK_STATUS(ff_image_preprocess(rgb, SW, SH, 0, FF_PIXEL_RGB8, 8, 8, NULL, n),
                 FF_E_INVALID_ARGUMENT);
    CHECK_MSG("out is NULL");
    CHECK_STATUS(ff_image_preprocess(rgb, 0, SH, 0, FF_PIXEL_RGB8, 8, 8, out, n),
                 FF_E_INVALID_ARGUMENT);
    CHECK_MSG("must be positive");
    CHECK_STATUS(ff_image_preprocess(rgb, SW, -3, 0, FF_PIXEL_RGB8, 8, 8, out, n),
                 FF_E_INVALID_ARGUMENT);
    CHECK_MSG("must be positive");
    CHECK_STATUS(ff_image_preprocess(rgb, SW, SH, 0, FF_PIXEL_RGB8, 0, 8, out, n),
                 FF_E_INVALID_ARGUMENT);
    CHECK_MSG("output size 0x8");
    CHECK_STATUS(ff_image_preprocess(rgb, SW, SH, 0, FF_PIXEL_RGB8, 8, 100000, out, n),
                 FF_E_INVALID_ARGUMENT);
    CHECK_MSG("within [1, 16384]");
    CHECK_STATUS(ff_image_preprocess(rgb, SW, SH, 0, 0, 8, 8, out, n), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("unknown pixel format 0");
    CHECK_STATUS(ff_image_preprocess(rgb, SW, SH, 0, 99, 8, 8, out, n), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("unknown pixel format 99");
    CHECK_STATUS(ff_image_preprocess(rgb, SW, SH, SW * 3 - 1, FF_PIXEL_RGB8, 8, 8, out, n),
                 FF_E_INVALID_ARGUMENT);
    CHECK_MSG("row_stride 182 is below");
    CHECK_STATUS(ff_image_preprocess(rgb, SW, SH, 0, FF_PIXEL_RGB8, 8, 8, out, n - 1),
                 FF_E_BUFFER_TOO_SMALL);
    CHECK_MSG("output holds 191 floats, [3, 8, 8] needs 192");
    CHECK_STATUS(ff_image_preprocess(rgb, 2000000, 1, 0, FF_PIXEL_GRAY8, 8, 8, out, n),
                 FF_E_LIMIT_EXCEEDED);
    CHECK_MSG("absurd image size");
    CHECK(memcmp(out, canary, sizeof out) == 0); /* untouched by every failure */

    /* the global pixel limit applies to caller buffers too */
    int64_t old;
    CHECK_OK(ff_global_get_i64(FF_GLOBAL_MAX_IMAGE_PIXELS, &old));
    CHECK_OK(ff_global_set_i64(FF_GLOBAL_MAX_IMAGE_PIXELS, SW * SH - 1));
    CHECK_STATUS(ff_image_preprocess(rgb, SW, SH, 0, FF_PIXEL_RGB8, 8, 8, out, n),
                 FF_E_LIMIT_EXCEEDED);
    CHECK_MSG("FF_GLOBAL_MAX_IMAGE_PIXELS");
    CHECK(memcmp(out, canary, sizeof out) == 0);
    CHECK_OK(ff_global_set_i64(FF_GLOBAL_MAX_IMAGE_PIXELS, old));
    CHECK_OK(ff_image_preprocess(rgb, SW, SH, 0, FF_PIXEL_RGB8, 8, 8, out, n));
    CHECK(strcmp(ff_last_error_message(), "") == 0);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* 900x900 -> 256x256, as for every MVTec image: report the time, and
 * guard against an accidental slow path with a generous bound. */
static void test_speed(void) {
    enum { W = 900, H = 900, O = 256 };
    uint8_t *px = malloc((size_t)W * H * 3);
    for (size_t i = 0; i < (size_t)W * H * 3; i++) px[i] = (uint8_t)(i * 2654435761u >> 24);
    float *out = malloc(3 * O * O * sizeof(float));
    double best = 1e9;
    for (int r = 0; r < 5; r++) {
        double t0 = now_ms();
        CHECK_OK(ff_image_preprocess(px, W, H, 0, FF_PIXEL_RGB8, O, O, out, 3 * O * O));
        double t = now_ms() - t0;
        if (t < best) best = t;
    }
    printf("preprocess 900x900 RGB -> 256x256: %.2f ms (best of 5)\n", best);
    CHECK(best < 200.0);
    free(px);
    free(out);
}

int main(void) {
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path("preprocess_synthetic.safetensors"), &f));
    if (!f) return ff_test_finish();
    uint8_t *rgb = malloc(SW * SH * 3);
    const ff_st_tensor *in = ff_st_find(f, "input");
    CHECK(in && in->dtype == FF_DT_U8 && in->nbytes == SW * SH * 3);
    if (in && in->nbytes == SW * SH * 3) {
        memcpy(rgb, in->data, SW * SH * 3);
        test_synthetic_golden(rgb, f);
        test_formats_agree(rgb);
        test_identity(rgb);
        test_errors(rgb);
    }
    test_constant();
    test_filter();
    test_speed();
    free(rgb);
    ff_st_close(f);
    return ff_test_finish();
}
