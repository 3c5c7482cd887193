/* lib/image/resample.c, the library's one resampling module:
 *  - ff_resize_bilinear matches torch's F.interpolate(mode="bilinear",
 *    align_corners=False) on the golden maps of
 *    tools/reference/gen_map_post_golden.py (down- and upscales, odd sizes)
 *    to 3e-7 relative: same taps, but torch sums the four products in
 *    another order, so about a third of the values differ in the last bit;
 *  - ff_bilinear_taps, which the flow's anomaly maps now share, gives the
 *    same taps as the float source index the flow used before, at every
 *    upscale the model admits (input sides 32..4096 in steps of 16, strides
 *    4, 8 and 16): the reason one function serves both (resample.h);
 *  - for general sizes the two precisions do differ, so the choice matters;
 *  - nearest: ff_mask_resize_nearest against PyTorch is in test_dataset
 *    (metrics_mask_nearest golden); here its index rule at the special cases.
 *  - the heatmap's picture resize (ff_aa_filter_init_pil, through
 *    ff_heatmap_render with alpha 0) against PIL's Image.resize(BILINEAR)
 *    (tools/reference/gen_heatmap_resize_golden.py): within 1 of PIL's
 *    fixed-point 8-bit result.
 * The pre-processing resize (ff_aa_filter_init, float) has its torchvision
 * goldens in test_preprocess. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastflow.h"
#include "image/resample.h"
#include "tensor/safetensors.h"
#include "test_util.h"

/* The flow's former tap computation (lib/flow/flow_maps.c before the
 * merge), kept here as the reference for the equality check. */
static void taps_float_index(int32_t in, int32_t out, ff_axis_tap *t) {
    float scale = (float)in / (float)out;
    for (int32_t o = 0; o < out; o++) {
        float src = scale * ((float)o + 0.5f) - 0.5f;
        if (src < 0.0f) src = 0.0f;
        int32_t i0 = (int32_t)src;
        if (i0 > in - 1) i0 = in - 1;
        float l1 = src - (float)i0;
        if (l1 > 1.0f) l1 = 1.0f;
        t[o].i0 = i0;
        t[o].i1 = i0 < in - 1 ? i0 + 1 : i0;
        t[o].l1 = l1;
        t[o].l0 = 1.0f - l1;
    }
}

static int same_taps(const ff_axis_tap *a, const ff_axis_tap *b, int32_t n) {
    for (int32_t i = 0; i < n; i++)
        if (a[i].i0 != b[i].i0 || a[i].i1 != b[i].i1 || memcmp(&a[i].l0, &b[i].l0, sizeof(float)) != 0 ||
            memcmp(&a[i].l1, &b[i].l1, sizeof(float)) != 0)
            return 0;
    return 1;
}

static void test_model_upscales(void) {
    ff_axis_tap *a = malloc(4096 * sizeof *a), *b = malloc(4096 * sizeof *b);
    int checked = 0, differing = 0;
    for (int32_t side = 32; side <= 4096; side += 16) {
        const int32_t strides[3] = {4, 8, 16};
        for (int k = 0; k < 3; k++) {
            ff_bilinear_taps(side / strides[k], side, a);
            taps_float_index(side / strides[k], side, b);
            differing += !same_taps(a, b, side);
            checked++;
        }
    }
    printf("model upscales: %d size pairs, %d with different taps\n", checked, differing);
    CHECK(checked == 3 * 255);
    CHECK(differing == 0);
    /* general sizes: the precision matters (why the module computes in double) */
    int general = 0;
    for (int32_t in = 2; in < 40; in++)
        for (int32_t out = 2; out < 80; out++) {
            ff_bilinear_taps(in, out, a);
            taps_float_index(in, out, b);
            general += !same_taps(a, b, out);
        }
    printf("general sizes: %d of 2964 pairs differ between float and double\n", general);
    CHECK(general > 0);
    free(a);
    free(b);
}

static void test_bilinear_golden(void) {
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path("map_post.safetensors"), &f));
    if (!f) return;
    enum { MH = 20, MW = 24 };
    float src[MH * MW];
    const int64_t shape[2] = {MH, MW};
    CHECK_OK(ff_st_read_f32(f, "map", 2, shape, src));
    const int32_t sizes[4][2] = {{45, 37}, {7, 11}, {20, 24}, {64, 50}};
    for (int s = 0; s < 4; s++) {
        int32_t h = sizes[s][0], w = sizes[s][1];
        char name[64];
        snprintf(name, sizeof name, "resize_%dx%d", (int)h, (int)w);
        float *got = malloc(sizeof(float) * (size_t)(h * w)), *ref = malloc(sizeof(float) * (size_t)(h * w));
        const int64_t oshape[2] = {h, w};
        CHECK_OK(ff_st_read_f32(f, name, 2, oshape, ref));
        ff_resize_bilinear(src, MH, MW, got, h, w);
        CHECK(ff_test_close_rel_max(name, got, ref, (size_t)(h * w), 3e-7));
        free(got);
        free(ref);
    }
    ff_st_close(f);
}

static void test_nearest_index(void) {
    CHECK(ff_nearest_source_index(5, 10, 10) == 5);  /* same size: identity */
    CHECK(ff_nearest_source_index(7, 10, 20) == 3);  /* exact 2x: dst/2 */
    CHECK(ff_nearest_source_index(99, 10, 100) == 9); /* capped at in-1 */
    const uint8_t src[6] = {0, 7, 0, 0, 0, 255};       /* 2 rows x 3 */
    uint8_t dst[4 * 6];
    ff_mask_resize_nearest(src, 2, 3, 3, 4, 6, dst);
    const uint8_t want[4 * 6] = {0, 0, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 1, 1};
    CHECK(memcmp(dst, want, sizeof want) == 0);
}

static void test_pil_picture_resize(void) {
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path("heatmap_resize.safetensors"), &f));
    if (!f) return;
    const ff_st_tensor *pic = ff_st_find(f, "picture");
    CHECK(pic != NULL && pic->dtype == FF_DT_U8 && pic->ndim == 3 && pic->shape[0] == 29 && pic->shape[1] == 37);
    const int32_t sizes[5][2] = {{16, 12}, {64, 50}, {50, 20}, {37, 29}, {9, 40}};
    for (int s = 0; pic && s < 5; s++) {
        int32_t w = sizes[s][0], h = sizes[s][1];
        char name[64];
        snprintf(name, sizeof name, "resized_%dx%d", (int)w, (int)h);
        const ff_st_tensor *ref = ff_st_find(f, name);
        CHECK(ref != NULL && ref->numel == (int64_t)w * h * 3);
        if (!ref) continue;
        float *map = calloc((size_t)(w * h), sizeof(float));
        uint8_t *out = malloc((size_t)(w * h * 3));
        CHECK_OK(ff_heatmap_render(map, w, h, 0.0f, 1.0f, pic->data, 37, 29, 0, FF_PIXEL_RGB8, 0.0f, out,
                                   (size_t)(w * h * 3), 0));
        int maxdiff = 0;
        size_t exact = 0;
        for (int i = 0; i < w * h * 3; i++) {
            int d = abs((int)out[i] - (int)ref->data[i]);
            if (d > maxdiff) maxdiff = d;
            exact += d == 0;
        }
        printf("%s: %zu of %d values equal PIL's, max difference %d\n", name, exact, w * h * 3, maxdiff);
        CHECK(maxdiff <= 1);
        free(map);
        free(out);
    }
    ff_st_close(f);
}

int main(void) {
    test_model_upscales();
    test_bilinear_golden();
    test_nearest_index();
    test_pil_picture_resize();
    return ff_test_finish();
}
