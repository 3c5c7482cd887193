/* resnet18 with the real ImageNet weights (../shared/weights) on the
 * pre-processed bottle_good_000.png stored in the golden file, against
 * torchvision (tools/reference/gen_backbone_golden.py); then the same
 * weights under a prefix, from memory, and in a batch of 3. */
#include <stdlib.h>
#include <string.h>

#include "backbone/backbone.h"
#include "backbone_testlib.h"
#include "test_util.h"

static void compare(const char *what, float *got[3], const ff_st_file *g, size_t offset_images) {
    for (int l = 0; l < 3; l++) {
        char name[32], label[96];
        snprintf(name, sizeof name, "features.%d", l);
        size_t n = 0;
        float *ref = bt_golden(g, name, &n);
        CHECK(ref != NULL);
        snprintf(label, sizeof label, "%s level %d", what, l);
        if (ref && got[l]) ff_test_close_rel_max(label, got[l] + offset_images * n, ref, n, 1e-4);
        free(ref);
    }
}

int main(void) {
    const char *weights = ff_test_shared_path("weights/resnet18-in1k-to-layer3.safetensors");
    if (!weights) ff_test_skip("../shared/weights/resnet18-in1k-to-layer3.safetensors is absent");
    ff_st_file *g = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path("backbone_resnet18_real.safetensors"), &g));
    if (!g) return ff_test_finish();
    size_t nin = 0;
    float *input = bt_golden(g, "input", &nin);
    CHECK(input && nin == 3 * 256 * 256);

    ff_backbone *bb = NULL;
    CHECK_OK(ff_backbone_load("resnet18", weights, &bb));
    ff_extractor *ex = NULL;
    if (bb) CHECK_OK(ff_extractor_create(bb, &ex));
    float *got[3] = {0};
    size_t counts[3];
    if (ex && input) {
        CHECK_OK(bt_extract(bb, ex, input, 1, 256, 256, got, counts));
        compare("resnet18 real weights, bottle_good_000 256x256", got, g, 0);
    }

    /* a batch of 3 (the image in the middle) through the same extractor */
    float *batch = malloc(3 * nin * sizeof *batch);
    if (ex && input && batch) {
        for (size_t i = 0; i < nin; i++) {
            batch[i] = -input[i];
            batch[nin + i] = input[i];
            batch[2 * nin + i] = 0.5f * input[i];
        }
        float *b3[3] = {0};
        CHECK_OK(bt_extract(bb, ex, batch, 3, 256, 256, b3, counts));
        compare("resnet18 real weights, image 2 of a batch of 3", b3, g, 1);
        for (int l = 0; l < 3; l++) free(b3[l]);
    }

    /* the weights as a model file embeds them, read from memory */
    ff_st_writer *w = NULL;
    CHECK_OK(ff_st_writer_create(&w));
    if (bb && w) CHECK_OK(ff_backbone_export_tensors(bb, w, "feature_extractor."));
    uint8_t *bytes = NULL;
    size_t size = 0;
    CHECK_OK(ff_st_writer_serialize(w, &bytes, &size));
    ff_st_writer_destroy(w);
    ff_backbone *again = NULL;
    if (bytes) CHECK_OK(ff_backbone_load_from_memory("resnet18", bytes, size, &again));
    free(bytes);
    ff_extractor *ex2 = NULL;
    if (again) CHECK_OK(ff_extractor_create(again, &ex2));
    if (ex2 && input && got[0]) {
        float *g2[3] = {0};
        CHECK_OK(bt_extract(again, ex2, input, 1, 256, 256, g2, counts));
        for (int l = 0; l < 3; l++) {
            CHECK(g2[l] && memcmp(g2[l], got[l], counts[l] * sizeof(float)) == 0);
            free(g2[l]);
        }
    }
    /* the real weights loaded as another architecture */
    ff_backbone *wrong = NULL;
    CHECK_STATUS(ff_backbone_load("resnet50", weights, &wrong), FF_E_BAD_FORMAT);
    CHECK_MSG("weights are for resnet18, not resnet50");
    CHECK_MSG("resnet18-in1k-to-layer3.safetensors");

    for (int l = 0; l < 3; l++) free(got[l]);
    free(batch);
    free(input);
    ff_extractor_destroy(ex2);
    ff_backbone_destroy(again);
    ff_extractor_destroy(ex);
    ff_backbone_destroy(bb);
    ff_st_close(g);
    return ff_test_finish();
}
