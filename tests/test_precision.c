/* FF_SCORER_PRECISION and ff_cpu_supports.
 *
 * On a CPU with native bf16 the bf16 path is checked against the float32
 * goldens at its own tolerances: the anomalib model's maps and scores
 * (tests/golden/anomalib_resnet18_ref.safetensors: PyTorch float32, 3x3 and
 * 1x1 subnets) and the random resnet50's features (bottleneck blocks,
 * downsampling shortcuts); switching back to float32 gives bit-identical
 * maps. Without native bf16 (or with ONEDNN_MAX_CPU_ISA lowered, as the
 * second registration of this test in meson.build does; it sets
 * FF_TEST_EXPECT_NO_BF16=1) the option is refused with FF_E_UNSUPPORTED
 * and a message that says why. */
#include <stdlib.h>
#include <string.h>

#include "anomalib_testlib.h"
#include "backbone/backbone.h"
#include "backbone_testlib.h"
#include "tensor/safetensors.h"
#include "test_util.h"

/* Measured: the anomalib model's maps move by ~3e-3 of their largest
 * value in bf16 (bf16 keeps 8 significant bits: 2^-9 = 2e-3 per rounding);
 * resnet50's features by ~1.2e-2 of their largest value after 16
 * convolutions in a row. */
#define TOL_MAPS_BF16 1e-2
#define TOL_FEATURES_BF16 3e-2

static void check_cpu_query(int32_t *bf16) {
    CHECK_OK(ff_cpu_supports(FF_CPU_BF16, bf16));
    CHECK(*bf16 == 0 || *bf16 == 1);
    int32_t v = 7;
    CHECK_STATUS(ff_cpu_supports(99, &v), FF_E_INVALID_ARGUMENT);
    CHECK(v == 7);
    CHECK_STATUS(ff_cpu_supports(FF_CPU_BF16, NULL), FF_E_INVALID_ARGUMENT);
}

static void check_option_errors(const ff_flow *flow, int32_t bf16) {
    ff_scorer *sc = NULL;
    CHECK_OK(ff_scorer_create(flow, &sc));
    if (!sc) return;
    int32_t v = -1;
    CHECK_OK(ff_scorer_get_i32(sc, FF_SCORER_PRECISION, &v));
    CHECK(v == FF_PRECISION_FP32);
    CHECK_STATUS(ff_scorer_set_i32(sc, FF_SCORER_PRECISION, 3), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("FF_SCORER_PRECISION");
    CHECK_STATUS(ff_scorer_set_f32(sc, FF_SCORER_PRECISION, 1.0f), FF_E_INVALID_ARGUMENT);
    if (!bf16) {
        CHECK_STATUS(ff_scorer_set_i32(sc, FF_SCORER_PRECISION, FF_PRECISION_BF16), FF_E_UNSUPPORTED);
        CHECK_MSG("AVX512-BF16");
    }
    CHECK_OK(ff_scorer_get_i32(sc, FF_SCORER_PRECISION, &v));
    CHECK(v == FF_PRECISION_FP32);
    ff_scorer_destroy(sc);
}

/* Scores the golden images one by one with sc into a new array. */
static float *score_all(ff_scorer *sc, const ff_st_tensor *images, size_t hw) {
    const int32_t n = (int32_t)images->shape[0], h = (int32_t)images->shape[1], w = (int32_t)images->shape[2];
    float *maps = malloc((size_t)n * hw * sizeof *maps), score;
    for (int32_t i = 0; maps && i < n; i++)
        CHECK_OK(ff_scorer_score_image(sc, images->data + (size_t)i * (size_t)h * (size_t)w * 3, w, h, 0,
                                       FF_PIXEL_RGB8, maps + (size_t)i * hw, hw, &score));
    return maps;
}

/* float32 -> bf16 -> float32 on one scorer: the float32 maps come back
 * bit for bit (the float32 primitives are rebuilt exactly as before). */
static void check_switching(const ff_flow *flow) {
    ff_st_file *ref = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path(AT_REF), &ref));
    const ff_st_tensor *images = ref ? ff_st_find(ref, "images") : NULL;
    ff_scorer *sc = NULL;
    CHECK_OK(ff_scorer_create(flow, &sc));
    int32_t mh = 0, mw = 0;
    if (sc) CHECK_OK(ff_scorer_map_shape(sc, &mw, &mh));
    if (images && sc) {
        size_t hw = (size_t)mh * (size_t)mw, n = (size_t)images->shape[0] * hw;
        float *a = score_all(sc, images, hw);
        CHECK_OK(ff_scorer_set_i32(sc, FF_SCORER_PRECISION, FF_PRECISION_BF16));
        int32_t v = -1;
        CHECK_OK(ff_scorer_get_i32(sc, FF_SCORER_PRECISION, &v));
        CHECK(v == FF_PRECISION_BF16);
        float *b = score_all(sc, images, hw);
        CHECK_OK(ff_scorer_set_i32(sc, FF_SCORER_PRECISION, FF_PRECISION_FP32));
        float *c = score_all(sc, images, hw);
        CHECK(a && b && c && memcmp(a, b, n * sizeof *a) != 0); /* bf16 really ran */
        CHECK(a && c && memcmp(a, c, n * sizeof *a) == 0);
        free(a);
        free(b);
        free(c);
    }
    ff_scorer_destroy(sc);
    ff_st_close(ref);
}

/* resnet50 (random weights) at `precision` against torchvision's float32
 * features. */
static void check_backbone_golden(int32_t precision, const char *label, double tol) {
    const char *arch = "resnet50";
    ff_st_file *g = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path("backbone_resnet50_random.safetensors"), &g));
    if (!g) return;
    const uint64_t seed = strtoull(ff_st_meta(g, "seed"), NULL, 10);
    const int32_t batch = atoi(ff_st_meta(g, "batch")), size = atoi(ff_st_meta(g, "size"));
    size_t wsize = 0;
    uint8_t *weights = bt_random_weights(arch, seed, "", NULL, NULL, &wsize, NULL, NULL);
    ff_backbone *bb = NULL;
    if (weights) CHECK_OK(ff_backbone_load_from_memory(arch, weights, wsize, &bb));
    free(weights);
    ff_extractor *ex = NULL;
    if (bb) CHECK_OK(ff_extractor_create(bb, &ex));
    if (ex) CHECK_OK(ff_extractor_set_precision(ex, precision));
    float *input = bt_golden(g, "input", NULL), *got[3] = {0};
    size_t counts[3];
    if (ex && input) CHECK_OK(bt_extract(bb, ex, input, batch, size, size, got, counts));
    char what[96];
    snprintf(what, sizeof what, "%s %s", arch, label);
    if (got[0]) CHECK(bt_check_levels(g, got, counts, what, tol) == 0); /* the fast path really ran */
    for (int l = 0; l < 3; l++) free(got[l]);
    free(input);
    ff_extractor_destroy(ex);
    ff_backbone_destroy(bb);
    ff_st_close(g);
}

int main(void) {
    int32_t bf16 = 0;
    check_cpu_query(&bf16);
    const char *expect_none = getenv("FF_TEST_EXPECT_NO_BF16");
    if (expect_none && strcmp(expect_none, "1") == 0) CHECK(bf16 == 0); /* the ISA override took effect */

    ff_backbone *bb = at_backbone();
    ff_flow *flow = NULL;
    if (bb) CHECK_OK(ff_flow_load(ff_test_golden_path(AT_MODEL), bb, &flow));
    if (flow) check_option_errors(flow, bf16);
    if (flow) {
        /* Winograd keeps the float32 goldens' tolerance */
        at_check_maps_at(flow, "anomalib model fp32 winograd", FF_PRECISION_FP32_WINOGRAD, 1e-4, NULL);
        check_backbone_golden(FF_PRECISION_FP32_WINOGRAD, "fp32 winograd", 1e-4);
    }
    if (flow && bf16) {
        float *m32 = NULL, *m16 = NULL;
        at_check_maps_at(flow, "anomalib model fp32", FF_PRECISION_FP32, 1e-4, &m32);
        at_check_maps_at(flow, "anomalib model bf16", FF_PRECISION_BF16, TOL_MAPS_BF16, &m16);
        free(m32);
        free(m16);
        check_switching(flow);
        check_backbone_golden(FF_PRECISION_BF16, "bf16", TOL_FEATURES_BF16);
    } else if (!bf16) {
        printf("this CPU (as oneDNN sees it) has no native bf16: checked the refusal only\n");
    }
    ff_flow_destroy(flow);
    ff_backbone_destroy(bb);
    return ff_test_finish();
}
