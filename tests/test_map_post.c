/* The scorer's map post-processing against PyTorch (golden from
 * tools/reference/gen_map_post_golden.py): the Gaussian kernel and blur of
 * anomalib's AnomalyMapGenerator (kornia GaussianBlur2d, reflect padding)
 * and F.interpolate's bilinear resize (align_corners=False); plus the
 * mirrored padding of kernels wider than the map, and anomalib's min-max
 * normalisation formula. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "score/map_post.h"
#include "tensor/safetensors.h"
#include "test_util.h"

#define MH 20
#define MW 24

static float src[MH * MW];

static void test_blur(const ff_st_file *f, float sigma) {
    char name[64];
    int32_t k = ff_gauss_kernel_size(sigma);
    float kernel[FF_SMOOTH_MAX_KERNEL], ref_k[FF_SMOOTH_MAX_KERNEL];
    ff_gauss_kernel(sigma, kernel, k);
    snprintf(name, sizeof name, "kernel_s%g", (double)sigma);
    const int64_t kshape[1] = {k};
    CHECK_OK(ff_st_read_f32(f, name, 1, kshape, ref_k)); /* also checks torch's kernel side */
    CHECK(ff_test_close(name, kernel, ref_k, (size_t)k, 1e-6, 1e-9));
    float map[MH * MW], tmp[MH * MW], ref[MH * MW];
    for (int i = 0; i < MH * MW; i++) map[i] = src[i];
    ff_gauss_blur(map, MH, MW, kernel, k, tmp);
    snprintf(name, sizeof name, "blur_s%g", (double)sigma);
    const int64_t shape[2] = {MH, MW};
    CHECK_OK(ff_st_read_f32(f, name, 2, shape, ref));
    CHECK(ff_test_close_rel_max(name, map, ref, MH * MW, 3e-7));
}

static void test_resize(const ff_st_file *f, int32_t h, int32_t w) {
    char name[64];
    snprintf(name, sizeof name, "resize_%dx%d", (int)h, (int)w);
    float *got = malloc(sizeof(float) * (size_t)(h * w)), *ref = malloc(sizeof(float) * (size_t)(h * w));
    const int64_t shape[2] = {h, w};
    CHECK_OK(ff_st_read_f32(f, name, 2, shape, ref));
    ff_resize_bilinear(src, MH, MW, got, h, w);
    CHECK(ff_test_close_rel_max(name, got, ref, (size_t)(h * w), 3e-7));
    free(got);
    free(ref);
}

/* A kernel wider than the map: padding mirrors again (torch refuses such
 * a pad); a constant map stays constant and a symmetric one symmetric. */
static void test_wide_kernel(void) {
    const int32_t h = 5, w = 3;
    float map[15], tmp[15], kernel[FF_SMOOTH_MAX_KERNEL];
    int32_t k = ff_gauss_kernel_size(3.0f);
    CHECK(k == 25);
    ff_gauss_kernel(3.0f, kernel, k);
    for (int i = 0; i < 15; i++) map[i] = -0.25f;
    ff_gauss_blur(map, h, w, kernel, k, tmp);
    for (int i = 0; i < 15; i++) CHECK(fabsf(map[i] + 0.25f) < 1e-6f);
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) map[y * w + x] = (x == 1 && y == 2) ? 1.0f : 0.0f;
    ff_gauss_blur(map, h, w, kernel, k, tmp);
    CHECK(fabsf(map[0] - map[2]) < 1e-7f && fabsf(map[0] - map[14]) < 1e-7f);
    CHECK(fabsf(map[3] - map[9]) < 1e-7f);
    /* a 1-pixel-wide map: every tap reads its single value */
    float one[4] = {1, 2, 3, 4}, t1[4];
    ff_gauss_blur(one, 4, 1, kernel, k, t1);
    CHECK(isfinite(one[0]) && one[0] > 1.0f && one[0] < 4.0f);
    /* the largest sigma's kernel fits the scorer's buffer */
    CHECK(ff_gauss_kernel_size(FF_SMOOTH_SIGMA_MAX) == FF_SMOOTH_MAX_KERNEL);
    CHECK(ff_gauss_kernel_size(4.0f) == 33); /* anomalib's default sigma */
}

static void test_normalize(void) {
    /* clamp((x - t) / (max - min) + 0.5, 0, 1) */
    CHECK(ff_normalize_value(-0.3f, -0.3f, 0.8f) == 0.5f);
    CHECK(fabsf(ff_normalize_value(-0.1f, -0.3f, 0.8f) - 0.75f) < 1e-6f);
    CHECK(fabsf(ff_normalize_value(-0.5f, -0.3f, 0.8f) - 0.25f) < 1e-6f);
    CHECK(ff_normalize_value(5.0f, -0.3f, 0.8f) == 1.0f);
    CHECK(ff_normalize_value(-5.0f, -0.3f, 0.8f) == 0.0f);
    float m[3] = {-0.9f, -0.3f, 0.0f};
    ff_normalize_map(m, 3, -0.3f, 0.4f);
    CHECK(m[0] == 0.0f && m[1] == 0.5f && m[2] == 1.0f);
}

int main(void) {
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path("map_post.safetensors"), &f));
    const int64_t shape[2] = {MH, MW};
    CHECK_OK(ff_st_read_f32(f, "map", 2, shape, src));
    test_blur(f, 1.5f);
    test_blur(f, 2.0f);
    test_blur(f, 0.7f);
    test_resize(f, 45, 37);
    test_resize(f, 7, 11);
    test_resize(f, 20, 24);
    test_resize(f, 64, 50);
    ff_st_close(f);
    test_wide_kernel();
    test_normalize();
    return ff_test_finish();
}
