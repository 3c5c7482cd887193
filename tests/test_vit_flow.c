/* A FastFlow model over a transformer backbone end to end on the tiny
 * DeiT / CaiT test configurations: flow creation (one level, no flow
 * LayerNorm; the ViT defaults for options left unset), training steps,
 * snapshot, a model file that embeds the transformer and its configuration
 * and deploys alone (a mismatching configuration is rejected), and scoring
 * that gives the same maps before and after the round trip. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "fastflow.h"
#include "flow_testlib.h"
#include "tensor/safetensors.h"
#include "test_util.h"

#define SIDE 64
#define NIMG 4

static void make_image(uint64_t seed, uint8_t *rgb) {
    ff_rng r;
    ff_rng_seed(&r, seed);
    for (int y = 0; y < SIDE; y++)
        for (int x = 0; x < SIDE; x++)
            for (int c = 0; c < 3; c++) {
                const double base = 120.0 + 60.0 * sin(0.3 * x + 0.2 * y + c);
                rgb[(y * SIDE + x) * 3 + c] = (uint8_t)(base + 20.0 * ff_rng_uniform(&r));
            }
}

static ff_flow *train(const ff_backbone *bb) {
    ff_flow_options *o = NULL;
    CHECK_OK(ff_flow_options_create(&o));
    if (!o) return NULL;
    /* only the steps: size, kernels and hidden ratio are the ViT defaults */
    CHECK_OK(ff_flow_options_set_i32(o, FF_FLOW_STEPS, 4));
    ff_flow *flow = NULL;
    CHECK_OK(ff_flow_create(bb, o, &flow));
    ff_flow_options_destroy(o);
    if (!flow) return NULL;
    ff_trainer *t = NULL;
    CHECK_OK(ff_trainer_create(flow, &t));
    ff_flow *snap = NULL;
    if (t) {
        CHECK_OK(ff_trainer_set_i32(t, FF_TRAINER_BATCH_SIZE, 2));
        uint8_t *rgb = malloc(SIDE * SIDE * 3);
        for (int i = 0; i < NIMG; i++) {
            make_image((uint64_t)i + 1, rgb);
            CHECK_OK(ff_trainer_add_image(t, rgb, SIDE, SIDE, SIDE * 3, FF_PIXEL_RGB8));
        }
        free(rgb);
        int64_t bytes = 0;
        CHECK_OK(ff_trainer_get_i64(t, FF_TRAINER_FEATURE_BYTES, &bytes));
        CHECK(bytes == (int64_t)NIMG * 64 * 4 * 4 * 4); /* one [64, 4, 4] map per image */
        float first = NAN, loss = NAN;
        CHECK_OK(ff_trainer_run_batch(t, &first));
        for (int i = 0; i < 5; i++) CHECK_OK(ff_trainer_run_epoch(t, &loss));
        printf("loss %.4f after one batch, %.4f after 5 more epochs\n", (double)first, (double)loss);
        CHECK(isfinite(first) && isfinite(loss) && loss < first);
        CHECK_OK(ff_trainer_snapshot(t, &snap));
    }
    ff_trainer_destroy(t);
    ff_flow_destroy(flow);
    return snap;
}

static float *score(const ff_flow *flow, float *score_out) {
    ff_scorer *s = NULL;
    CHECK_OK(ff_scorer_create(flow, &s));
    if (!s) return NULL;
    int32_t h = 0, w = 0;
    CHECK_OK(ff_scorer_map_shape(s, &w, &h));
    CHECK(h == SIDE && w == SIDE);
    float *map = calloc(SIDE * SIDE, sizeof *map);
    uint8_t *rgb = malloc(SIDE * SIDE * 3);
    make_image(99, rgb);
    for (int i = 0; i < 200; i++) rgb[(20 * SIDE + 10 + i % 40) * 3 + i % 3] = 255; /* a bright streak */
    CHECK_OK(ff_scorer_score_image(s, rgb, SIDE, SIDE, SIDE * 3, FF_PIXEL_RGB8, map, SIDE * SIDE, score_out));
    free(rgb);
    ff_scorer_destroy(s);
    return map;
}

static void check_flow(const ff_flow *flow, int32_t side, int32_t steps, int32_t only3, float hidden) {
    int32_t v = -1;
    float f = 0.0f;
    CHECK_OK(ff_flow_get_i32(flow, FF_FLOW_INPUT_HEIGHT, &v));
    CHECK(v == side);
    CHECK_OK(ff_flow_get_i32(flow, FF_FLOW_INPUT_WIDTH, &v));
    CHECK(v == side);
    CHECK_OK(ff_flow_get_i32(flow, FF_FLOW_STEPS, &v));
    CHECK(v == steps);
    CHECK_OK(ff_flow_get_i32(flow, FF_FLOW_CONV3X3_ONLY, &v));
    CHECK(v == only3);
    CHECK_OK(ff_flow_get_f32(flow, FF_FLOW_HIDDEN_RATIO, &f));
    CHECK(f == hidden);
    CHECK_OK(ff_flow_get_f32(flow, FF_FLOW_CLAMP, &f));
    CHECK(f == 2.0f); /* not backbone-dependent */
}

/* ff_flow_create with NULL options and with partial options over a ViT:
 * one level, 20 steps, hidden 0.16, alternating kernels, native side. */
static void defaults(const ff_backbone *bb) {
    ff_flow *flow = NULL;
    CHECK_OK(ff_flow_create(bb, NULL, &flow));
    if (flow) {
        int32_t levels = 0;
        CHECK_OK(ff_backbone_num_levels(ff_flow_backbone(flow), &levels));
        CHECK(levels == 1);
        check_flow(flow, SIDE, 20, 0, 0.16f);
        int64_t seed = -1;
        CHECK_OK(ff_flow_get_i64(flow, FF_FLOW_SEED, &seed));
        CHECK(seed == 0);
    }
    ff_flow_destroy(flow);
    /* an explicit setting wins, the rest stays the backbone's */
    ff_flow_options *o = NULL;
    CHECK_OK(ff_flow_options_create(&o));
    CHECK_OK(ff_flow_options_set_f32(o, FF_FLOW_HIDDEN_RATIO, 0.5f));
    CHECK_OK(ff_flow_options_set_i32(o, FF_FLOW_CONV3X3_ONLY, 1));
    CHECK_OK(ff_flow_options_set_i64(o, FF_FLOW_SEED, 7));
    flow = NULL;
    CHECK_OK(ff_flow_create(bb, o, &flow));
    if (flow) check_flow(flow, SIDE, 20, 1, 0.5f);
    ff_flow_destroy(flow);
    /* a size the transformer cannot take is still refused, naming it */
    CHECK_OK(ff_flow_options_set_i32(o, FF_FLOW_INPUT_HEIGHT, 128));
    flow = NULL;
    CHECK_STATUS(ff_flow_create(bb, o, &flow), FF_E_INVALID_ARGUMENT);
    CHECK(flow == NULL);
    CHECK_MSG("takes 64x64 inputs only");
    ff_flow_options_destroy(o);
}

/* The transformer's configuration in the model file; a file whose
 * configuration differs from the backbone's is rejected, naming the key. */
static void metadata(const char *model, const char *arch) {
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open(model, &f));
    if (f) {
        const char *fam = ff_st_meta(f, "backbone_family");
        CHECK(fam && strncmp(arch, fam, 4) == 0);
        CHECK(ff_st_meta(f, "backbone_embed_dim") && strcmp(ff_st_meta(f, "backbone_embed_dim"), "64") == 0);
        CHECK(ff_st_meta(f, "backbone_img_size") && strcmp(ff_st_meta(f, "backbone_img_size"), "64") == 0);
        CHECK(ff_st_meta(f, "backbone_num_heads") && ff_st_meta(f, "backbone_blocks_used") &&
              ff_st_meta(f, "backbone_patch_size") && ff_st_meta(f, "backbone_mlp_hidden") &&
              ff_st_meta(f, "backbone_prefix_tokens"));
        CHECK(strcmp(ff_st_meta(f, "flow_steps"), "4") == 0 && strcmp(ff_st_meta(f, "conv3x3_only"), "false") == 0);
    }
    ff_st_close(f);
    const char *bad = ft_path("vit_bad_meta.safetensors");
    ft_edit e = {0};
    e.meta_key = "backbone_num_heads";
    e.meta_value = "8";
    CHECK(ft_rewrite(model, bad, &e) == 0);
    ff_flow *loaded = NULL;
    CHECK_STATUS(ff_flow_load(bad, NULL, &loaded), FF_E_BAD_FORMAT);
    CHECK(loaded == NULL);
    CHECK_MSG("backbone_num_heads is '8'");
    CHECK_MSG(arch);
    remove(bad);
}

static void family(const char *fam) {
    char file[64], arch[64], model[512];
    snprintf(file, sizeof file, "vit_%s_tiny.safetensors", fam);
    snprintf(arch, sizeof arch, "%s_tiny_test", fam);
    snprintf(model, sizeof model, "%s/vit_%s_model.safetensors", ff_test_tmpdir(), fam);
    ff_backbone *bb = NULL;
    CHECK_OK(ff_backbone_load(arch, ff_test_golden_path(file), &bb));
    if (!bb) return;
    defaults(bb);
    ff_flow *flow = train(bb);
    ff_backbone_destroy(bb);
    if (!flow) return;
    float s1 = 0, s2 = 0;
    float *m1 = score(flow, &s1);
    int in_range = 1;
    for (int i = 0; m1 && i < SIDE * SIDE; i++) in_range &= m1[i] >= -1.0f && m1[i] <= 0.0f;
    CHECK(in_range);
    CHECK_OK(ff_flow_save(flow, model, 1));
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open(model, &f));
    if (f) {
        CHECK(strcmp(ff_st_meta(f, "backbone"), arch) == 0);
        CHECK(ff_st_find(f, "norms.0.weight") == NULL); /* no flow LayerNorm for transformers */
        CHECK(ff_st_find(f, "fast_flow_blocks.0.module_list.3.subnet.4.weight") != NULL);
        CHECK(ff_st_find(f, "fast_flow_blocks.1.module_list.0.global_scale") == NULL); /* one level */
        CHECK(ff_st_find(f, "feature_extractor.pos_embed") != NULL);
        const ff_st_tensor *sub = ff_st_find(f, "fast_flow_blocks.0.module_list.1.subnet.1.weight");
        /* c1 = 32, hidden = int(32 * 0.16) = 5, odd steps 1x1 */
        CHECK(sub && sub->ndim == 4 && sub->shape[0] == 5 && sub->shape[1] == 32 && sub->shape[2] == 1);
    }
    ff_st_close(f);
    metadata(model, arch);
    ff_flow *loaded = NULL;
    CHECK_OK(ff_flow_load(model, NULL, &loaded));
    if (loaded) {
        check_flow(loaded, SIDE, 4, 0, 0.16f);
        CHECK(strcmp(ff_backbone_arch(ff_flow_backbone(loaded)), arch) == 0);
        float *m2 = score(loaded, &s2);
        CHECK(m1 && m2 && memcmp(m1, m2, SIDE * SIDE * sizeof *m1) == 0 && s1 == s2);
        printf("%s: score %.5f, reloaded model identical\n", arch, (double)s1);
        free(m2);
    }
    ff_flow_destroy(loaded);
    free(m1);
    ff_flow_destroy(flow);
    remove(model);
}

int main(void) {
    family("deit");
    family("cait");
    return ff_test_finish();
}
