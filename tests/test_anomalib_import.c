/* A model converted from an anomalib checkpoint scores like anomalib.
 *
 * tests/golden/anomalib_resnet18_model.safetensors is what
 * tools/anomalib_to_fastflow.py made of the Lightning checkpoint that
 * tools/reference/make_anomalib_ckpt.py saves (resnet18, 64x64, 4 steps,
 * alternating kernels, hidden_ratio 0.16), without its backbone; the
 * backbone's seeded weights are regenerated here. The maps must equal the
 * PyTorch model's on the same images (anomalib_resnet18_ref.safetensors).
 * No Python needed: the converter itself is run by test_anomalib_convert.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "anomalib_testlib.h"
#include "tensor/safetensors.h"
#include "test_util.h"

/* The converter's file: anomalib's names, I64 permutations, no w_perm_inv,
 * no backbone, the hyper-parameters and anomalib's statistics as metadata. */
static void check_file(void) {
    ff_st_file *m = NULL, *ref = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path(AT_MODEL), &m));
    CHECK_OK(ff_st_open(ff_test_golden_path(AT_REF), &ref));
    if (!m || !ref) {
        ff_st_close(m);
        ff_st_close(ref);
        return;
    }
    static const char *const expect[][2] = {
        {"format", "libfastflow"}, {"format_version", "1"}, {"backbone", "resnet18"}, {"input_height", "64"},
        {"input_width", "64"}, {"flow_steps", "4"}, {"hidden_ratio", "0.16"}, {"conv3x3_only", "false"},
        {"clamp", "2"}, {"source", "anomalib"}};
    for (size_t i = 0; i < sizeof expect / sizeof expect[0]; i++) {
        const char *v = ff_st_meta(m, expect[i][0]);
        CHECK(v != NULL && strcmp(v, expect[i][1]) == 0);
        if (!v || strcmp(v, expect[i][1]) != 0)
            fprintf(stderr, "metadata %s = %s, expected %s\n", expect[i][0], v ? v : "(missing)", expect[i][1]);
    }
    /* anomalib's thresholds and min/max, as the checkpoint held them */
    static const char *const stats[] = {"anomalib.image_threshold.value", "anomalib.pixel_threshold.value",
                                        "anomalib.normalization_metrics.min", "anomalib.normalization_metrics.max"};
    for (size_t i = 0; i < 4; i++) {
        const char *got = ff_st_meta(m, stats[i]), *want = ff_st_meta(ref, stats[i]);
        CHECK(got != NULL && want != NULL && strtof(got, NULL) == strtof(want, NULL));
    }
    CHECK(strtof(ff_st_meta(m, "anomalib.normalization_metrics.min"), NULL) <
          strtof(ff_st_meta(m, "anomalib.normalization_metrics.max"), NULL));
    size_t perms = 0, subnets = 0;
    for (size_t i = 0; i < ff_st_count(m); i++) {
        const ff_st_tensor *t = ff_st_at(m, i);
        CHECK(strncmp(t->name, "feature_extractor.", 18) != 0);
        CHECK(strstr(t->name, "w_perm_inv") == NULL);
        CHECK(strncmp(t->name, "model.", 6) != 0);
        if (strstr(t->name, ".w_perm")) {
            perms++;
            CHECK(t->dtype == FF_DT_I64 && t->ndim == 1);
        }
        if (strstr(t->name, ".subnet.1.weight")) subnets++;
    }
    CHECK(perms == 12 && subnets == 12); /* 3 levels x 4 steps */
    /* odd steps have 1x1 kernels (conv3x3_only false), hidden = int(c1 * 0.16) */
    const ff_st_tensor *w = ff_st_find(m, "fast_flow_blocks.2.module_list.1.subnet.1.weight");
    CHECK(w && w->ndim == 4 && w->shape[0] == 20 && w->shape[1] == 128 && w->shape[2] == 1 && w->shape[3] == 1);
    ff_st_close(m);
    ff_st_close(ref);
}

int main(void) {
    check_file();
    ff_backbone *bb = at_backbone();
    CHECK(bb != NULL);

    /* without a backbone the file cannot load: it embeds none */
    ff_flow *flow = NULL;
    CHECK_STATUS(ff_flow_load(ff_test_golden_path(AT_MODEL), NULL, &flow), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("embeds no backbone");
    CHECK(flow == NULL);

    CHECK_OK(ff_flow_load(ff_test_golden_path(AT_MODEL), bb, &flow));
    if (flow) {
        int32_t v = 0;
        float r = 0;
        CHECK_OK(ff_flow_get_i32(flow, FF_FLOW_STEPS, &v));
        CHECK(v == 4);
        CHECK_OK(ff_flow_get_i32(flow, FF_FLOW_CONV3X3_ONLY, &v));
        CHECK(v == 0);
        CHECK_OK(ff_flow_get_i32(flow, FF_FLOW_INPUT_HEIGHT, &v));
        CHECK(v == 64);
        CHECK_OK(ff_flow_get_f32(flow, FF_FLOW_HIDDEN_RATIO, &r));
        CHECK(r == 0.16f);
        CHECK_OK(ff_flow_get_f32(flow, FF_FLOW_CLAMP, &r));
        CHECK(r == 2.0f);
        at_check_maps(flow, "converted anomalib model");

        /* saved again by the library (backbone embedded), it still scores the same */
        const char *path = "anomalib_resaved.safetensors";
        char full[1024];
        snprintf(full, sizeof full, "%s/%s", ff_test_tmpdir(), path);
        CHECK_OK(ff_flow_save(flow, full, 1));
        ff_flow *again = NULL;
        CHECK_OK(ff_flow_load(full, NULL, &again));
        if (again) at_check_maps(again, "re-saved with embedded backbone");
        ff_flow_destroy(again);
    }
    ff_flow_destroy(flow);
    ff_backbone_destroy(bb);
    return ff_test_finish();
}
