/* Full-size transformer backbones (deit_base_distilled_patch16_384,
 * cait_m48_448) on random weights generated here in C (F16, as some
 * published files are): they load, run at their input size, give feature
 * maps of the right shape with finite values, batch 2 agrees with batch 1,
 * and the export keeps the dtype. Slow suite: hundreds of MB of weights and
 * ~0.1-1 TFLOP per image.
 *
 * With FF_VIT_FULL_REF_DIR set (files from tools/reference/
 * gen_vit_full_check.py, too large to commit), every architecture found
 * there is also compared with the PyTorch reference (1e-4 x max|ref|). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backbone/backbone.h"
#include "core/rng.h"
#include "test_util.h"
#include "vit_testlib.h"

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void full_case(const char *arch_name, int32_t want_grid, int check_batch) {
    const ff_vit_arch *a = ff_vit_arch_find(arch_name);
    CHECK(a != NULL);
    if (!a) return;
    double t0 = now();
    size_t size = 0;
    uint8_t *data = vt_random_weights(a, 7, "", FF_DT_F16, &size);
    CHECK(data != NULL);
    ff_backbone *bb = NULL;
    if (data) CHECK_OK(ff_backbone_load_from_memory(arch_name, data, size, &bb));
    free(data);
    if (!bb) return;
    const double t_load = now() - t0;

    int32_t c = 0, h = 0, w = 0;
    CHECK_OK(ff_backbone_level_shape(bb, 0, a->img, a->img, &c, &w, &h));
    CHECK(c == 768 && h == want_grid && w == want_grid);
    const size_t per_image = (size_t)c * (size_t)h * (size_t)w, in_image = (size_t)3 * a->img * a->img;
    const int32_t n = check_batch ? 2 : 1;
    float *input = malloc((size_t)n * in_image * sizeof *input);
    ff_rng rng;
    ff_rng_seed(&rng, 11);
    for (size_t i = 0; i < (size_t)n * in_image; i++) input[i] = 4.0f * ff_rng_uniform(&rng) - 2.0f;

    ff_extractor *ex = NULL;
    CHECK_OK(ff_extractor_create(bb, &ex));
    float *f1 = malloc(per_image * sizeof *f1);
    t0 = now();
    if (ex) CHECK_OK(ff_extractor_run(ex, input, 1, a->img, a->img));
    const double t_run = now() - t0;
    if (ex) CHECK_OK(ff_extractor_read(ex, 0, f1, per_image));
    int finite = 1;
    double sum = 0, sum2 = 0;
    for (size_t i = 0; i < per_image; i++) {
        finite &= isfinite(f1[i]) != 0;
        sum += f1[i];
        sum2 += (double)f1[i] * f1[i];
    }
    const double mean = sum / (double)per_image, var = sum2 / (double)per_image - mean * mean;
    CHECK(finite);
    /* the final LayerNorm: per-token mean ~ bias, variance ~ weight^2 */
    CHECK(var > 0.1 && var < 10.0);
    printf("%s: [1, %d, %d, %d], load %.1f s, first run (with set-up) %.2f s, mean %.3g, var %.3g\n", arch_name,
           (int)c, (int)h, (int)w, t_load, t_run, mean, var);

    if (check_batch && ex) {
        float *f2 = malloc(2 * per_image * sizeof *f2);
        CHECK_OK(ff_extractor_run(ex, input, 2, a->img, a->img));
        CHECK_OK(ff_extractor_read(ex, 0, f2, 2 * per_image));
        CHECK(ff_test_close_rel_max("batch 2 image 0 vs batch 1", f2, f1, per_image, 1e-5));
        free(f2);

        ff_st_writer *wr = NULL;
        CHECK_OK(ff_st_writer_create(&wr));
        uint8_t *out = NULL;
        size_t out_size = 0;
        if (wr) {
            CHECK_OK(ff_backbone_export_tensors(bb, wr, ""));
            CHECK_OK(ff_st_writer_serialize(wr, &out, &out_size));
        }
        ff_st_writer_destroy(wr);
        ff_st_file *e = NULL;
        if (out) CHECK_OK(ff_st_open_memory(out, out_size, "export", &e));
        const ff_st_tensor *t = e ? ff_st_find(e, "blocks.7.mlp.fc2.weight") : NULL;
        CHECK(t != NULL && t->dtype == FF_DT_F16);
        CHECK(e && ff_st_find(e, "blocks.8.norm1.weight") == NULL);
        ff_st_close(e);
        free(out);
    }
    /* a flow with no options gets the paper's ViT settings at the native side */
    ff_flow *flow = NULL;
    CHECK_OK(ff_flow_create(bb, NULL, &flow));
    if (flow) {
        int32_t side = 0, steps = 0, only3 = -1;
        float hidden = 0.0f;
        CHECK_OK(ff_flow_get_i32(flow, FF_FLOW_INPUT_HEIGHT, &side));
        CHECK_OK(ff_flow_get_i32(flow, FF_FLOW_STEPS, &steps));
        CHECK_OK(ff_flow_get_i32(flow, FF_FLOW_CONV3X3_ONLY, &only3));
        CHECK_OK(ff_flow_get_f32(flow, FF_FLOW_HIDDEN_RATIO, &hidden));
        CHECK(side == a->img && steps == 20 && only3 == 0 && hidden == 0.16f);
    }
    ff_flow_destroy(flow);
    ff_extractor_destroy(ex);
    free(f1);
    free(input);
    ff_backbone_destroy(bb);
}

static void reference_case(const char *dir, const char *arch) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.safetensors", dir, arch);
    FILE *probe = fopen(path, "rb");
    if (!probe) return;
    fclose(probe);
    ff_backbone *bb = NULL;
    CHECK_OK(ff_backbone_load(arch, path, &bb));
    ff_st_file *g = NULL;
    CHECK_OK(ff_st_open(path, &g));
    const ff_st_tensor *in = g ? ff_st_find(g, "golden.input") : NULL;
    const ff_st_tensor *ref = g ? ff_st_find(g, "golden.features") : NULL;
    CHECK(in && ref && in->dtype == FF_DT_F32 && ref->dtype == FF_DT_F32);
    ff_extractor *ex = NULL;
    if (bb) CHECK_OK(ff_extractor_create(bb, &ex));
    if (ex && in && ref) {
        float *out = malloc((size_t)ref->numel * sizeof *out);
        CHECK_OK(ff_extractor_run(ex, (const float *)(const void *)in->data, 1, (int32_t)in->shape[3],
                                  (int32_t)in->shape[2]));
        CHECK_OK(ff_extractor_read(ex, 0, out, (size_t)ref->numel));
        char what[128];
        snprintf(what, sizeof what, "%s vs PyTorch (full size)", arch);
        CHECK(ff_test_close_rel_max(what, out, (const float *)(const void *)ref->data, (size_t)ref->numel, 1e-4));
        free(out);
    }
    ff_extractor_destroy(ex);
    ff_st_close(g);
    ff_backbone_destroy(bb);
}

int main(void) {
    full_case("deit_base_distilled_patch16_384", 24, 1);
    full_case("cait_m48_448", 28, 0);
    const char *dir = getenv("FF_VIT_FULL_REF_DIR");
    if (dir && *dir) {
        static const char *archs[] = {"deit_base_distilled_patch16_384", "cait_m48_448",
                                      "deit_small_distilled_patch16_224", "cait_s24_224"};
        for (int i = 0; i < 4; i++) reference_case(dir, archs[i]);
    }
    return ff_test_finish();
}
