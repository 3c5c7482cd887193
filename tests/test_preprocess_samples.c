/* Decoding and pre-processing of the real sample images in
 * <shared>/samples against PIL + torchvision (golden files from
 * tools/reference/gen_preprocess_golden.py): decoded RGB equal to PIL's
 * (rows and checksums), pre-processed tensors within 1e-5. Suite 'slow':
 * it needs the shared folder. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastflow.h"
#include "tensor/safetensors.h"
#include "test_util.h"

static const char *k_goldens[] = {
    "preprocess_bottle_good_256.safetensors",     "preprocess_bottle_broken_224.safetensors",
    "preprocess_mask_64x384.safetensors",         "preprocess_tile_png_up_288x240.safetensors",
    "preprocess_tile_jpg_100x80.safetensors",
};

static int meta_int(const ff_st_file *f, const char *key) {
    const char *v = ff_st_meta(f, key);
    return v ? atoi(v) : -1;
}

static void check_case(const char *golden) {
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path(golden), &f));
    if (!f) return;
    const char *image = ff_st_meta(f, "image");
    int w = meta_int(f, "width"), h = meta_int(f, "height");
    int ow = meta_int(f, "out_width"), oh = meta_int(f, "out_height");
    CHECK(image && w > 0 && h > 0 && ow > 0 && oh > 0);
    char rel[256];
    snprintf(rel, sizeof rel, "samples/%s", image ? image : "?");
    const char *path = ff_test_shared_path(rel);
    if (!path) ff_test_skip("shared samples folder not found");

    int32_t pw = 0, ph = 0, pc = 0;
    CHECK_OK(ff_image_probe_file(path, &pc, &pw, &ph));
    CHECK(pw == w && ph == h && pc >= 1);

    /* decode equality with PIL's convert("RGB") */
    size_t nbytes = (size_t)w * h * 3;
    uint8_t *rgb = malloc(nbytes);
    CHECK_OK(ff_image_decode_file(path, FF_PIXEL_RGB8, rgb, nbytes, 0));
    int64_t sums[2] = {0, 0}, want[2] = {-1, -1};
    for (size_t i = 0; i < nbytes; i++) {
        sums[0] += rgb[i];
        sums[1] += (int64_t)rgb[i] * (int64_t)(i % 251 + 1);
    }
    int64_t two = 2;
    CHECK_OK(ff_st_read_i64(f, "checksum", 1, &two, want));
    CHECK(sums[0] == want[0] && sums[1] == want[1]);
    const ff_st_tensor *rows = ff_st_find(f, "rows");
    CHECK(rows && rows->nbytes == 3 * (size_t)w * 3);
    if (rows && rows->nbytes == 3 * (size_t)w * 3) {
        const int ys[3] = {0, h / 2, h - 1};
        int same = 1;
        for (int r = 0; r < 3; r++)
            same &= memcmp(rgb + (size_t)ys[r] * w * 3, rows->data + (size_t)r * w * 3,
                           (size_t)w * 3) == 0;
        CHECK(same);
    }
    printf("%s: %dx%d decoded, checksums %s\n", image, w, h,
           sums[0] == want[0] && sums[1] == want[1] ? "equal to PIL's" : "DIFFER from PIL's");

    /* pre-processing */
    size_t n = 3 * (size_t)ow * oh;
    float *ref = malloc(n * sizeof(float)), *got = malloc(n * sizeof(float));
    int64_t shape[3] = {3, oh, ow};
    CHECK_OK(ff_st_read_f32(f, "output", 3, shape, ref));
    CHECK_OK(ff_image_preprocess(rgb, w, h, 0, FF_PIXEL_RGB8, ow, oh, got, n));
    double err = 0;
    size_t exact = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - ref[i]);
        if (!(d <= err)) err = d;
        exact += got[i] == ref[i];
    }
    printf("%s: %dx%d -> %dx%d max abs err %.3g, %zu of %zu bit-identical\n", image, w, h, ow, oh,
           err, exact, n);
    CHECK(err <= 1e-5);

    /* grey files decoded as GRAY8 give the same tensor */
    if (pc == 1) {
        uint8_t *grey = malloc((size_t)w * h);
        float *got2 = malloc(n * sizeof(float));
        CHECK_OK(ff_image_decode_file(path, FF_PIXEL_GRAY8, grey, (size_t)w * h, 0));
        CHECK_OK(ff_image_preprocess(grey, w, h, 0, FF_PIXEL_GRAY8, ow, oh, got2, n));
        CHECK(memcmp(got2, got, n * sizeof(float)) == 0);
        free(got2);
        free(grey);
    }
    free(ref);
    free(got);
    free(rgb);
    ff_st_close(f);
}

int main(void) {
    if (!ff_test_shared_path("samples")) ff_test_skip("shared samples folder not found");
    for (size_t i = 0; i < sizeof k_goldens / sizeof *k_goldens; i++) check_case(k_goldens[i]);
    return ff_test_finish();
}
