/* ff_flow: options, creation and initialisation, model files (round trip
 * bit-identical, anomalib's dense w_perm, strict rejection of damaged or
 * inconsistent files, atomic saving). Synthetic: a random resnet18 at
 * 64x64 input, 2 flow steps. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "flow/flow_internal.h"
#include "backbone_testlib.h"
#include "flow_testlib.h"
#include "tensor/safetensors.h"
#include "test_util.h"

#define SIZE 64
#define STEPS 2

static void test_options(void) {
    ff_flow_options *o = NULL;
    CHECK_STATUS(ff_flow_options_create(NULL), FF_E_INVALID_ARGUMENT);
    CHECK_OK(ff_flow_options_create(&o));
    int32_t i = 0;
    float f = 0;
    int64_t l = -1;
    CHECK_OK(ff_flow_options_get_i32(o, FF_FLOW_INPUT_HEIGHT, &i));
    CHECK(i == 256);
    CHECK_OK(ff_flow_options_get_i32(o, FF_FLOW_STEPS, &i));
    CHECK(i == 8);
    CHECK_OK(ff_flow_options_get_i32(o, FF_FLOW_CONV3X3_ONLY, &i));
    CHECK(i == 1);
    CHECK_OK(ff_flow_options_get_f32(o, FF_FLOW_HIDDEN_RATIO, &f));
    CHECK(f == 1.0f);
    CHECK_OK(ff_flow_options_get_f32(o, FF_FLOW_CLAMP, &f));
    CHECK(f == 2.0f);
    CHECK_OK(ff_flow_options_get_i64(o, FF_FLOW_SEED, &l));
    CHECK(l == 0);

    CHECK_STATUS(ff_flow_options_set_i32(o, FF_FLOW_INPUT_HEIGHT, 40), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("divisible by 16");
    CHECK_STATUS(ff_flow_options_set_i32(o, FF_FLOW_INPUT_WIDTH, 16), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("FF_FLOW_INPUT_WIDTH");
    CHECK_STATUS(ff_flow_options_set_i32(o, FF_FLOW_STEPS, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("FF_FLOW_STEPS");
    CHECK_STATUS(ff_flow_options_set_i32(o, FF_FLOW_STEPS, 65), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_flow_options_set_i32(o, FF_FLOW_CONV3X3_ONLY, 2), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("0 or 1");
    CHECK_STATUS(ff_flow_options_set_f32(o, FF_FLOW_HIDDEN_RATIO, NAN), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("FF_FLOW_HIDDEN_RATIO");
    CHECK_STATUS(ff_flow_options_set_f32(o, FF_FLOW_HIDDEN_RATIO, 0.0f), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_flow_options_set_f32(o, FF_FLOW_HIDDEN_RATIO, 16.5f), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_flow_options_set_f32(o, FF_FLOW_CLAMP, INFINITY), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("FF_FLOW_CLAMP");
    CHECK_STATUS(ff_flow_options_set_f32(o, FF_FLOW_STEPS, 2.0f), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("is i32, not f32");
    CHECK_STATUS(ff_flow_options_set_i32(o, 99, 1), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("unknown flow option key 99");
    CHECK_STATUS(ff_flow_options_get_i32(o, FF_FLOW_STEPS, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_flow_options_set_i32(NULL, FF_FLOW_STEPS, 2), FF_E_INVALID_ARGUMENT);
    /* failures left the values alone */
    CHECK_OK(ff_flow_options_get_i32(o, FF_FLOW_STEPS, &i));
    CHECK(i == 8);
    CHECK_OK(ff_flow_options_set_i32(o, FF_FLOW_INPUT_HEIGHT, 48));
    CHECK_OK(ff_flow_options_set_f32(o, FF_FLOW_HIDDEN_RATIO, 0.5f));
    CHECK_OK(ff_flow_options_set_i64(o, FF_FLOW_SEED, -7));
    CHECK_OK(ff_flow_options_get_i32(o, FF_FLOW_INPUT_HEIGHT, &i));
    CHECK(i == 48);
    CHECK_OK(ff_flow_options_get_i64(o, FF_FLOW_SEED, &l));
    CHECK(l == -7);
    ff_flow_options_destroy(o);
    ff_flow_options_destroy(NULL);
}

static void test_create(const ff_backbone *bb) {
    ff_flow *f = NULL;
    CHECK_STATUS(ff_flow_create(NULL, NULL, &f), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_flow_create(bb, NULL, NULL), FF_E_INVALID_ARGUMENT);
    ff_flow *a = ft_flow(bb, SIZE, STEPS, 1, 5), *b = ft_flow(bb, SIZE, STEPS, 1, 5), *c = ft_flow(bb, SIZE, STEPS, 1, 6);
    CHECK(a && b && c);
    if (!a || !b || !c) goto done;
    CHECK(ff_flow_backbone(a) == bb);
    int32_t v = 0;
    float fv = 0;
    int64_t lv = 0;
    CHECK_OK(ff_flow_get_i32(a, FF_FLOW_INPUT_WIDTH, &v));
    CHECK(v == SIZE);
    CHECK_OK(ff_flow_get_i32(a, FF_FLOW_STEPS, &v));
    CHECK(v == STEPS);
    CHECK_OK(ff_flow_get_f32(a, FF_FLOW_CLAMP, &fv));
    CHECK(fv == 2.0f);
    CHECK_OK(ff_flow_get_i64(a, FF_FLOW_SEED, &lv));
    CHECK(lv == 5);
    CHECK_STATUS(ff_flow_get_i64(a, FF_FLOW_STEPS, &lv), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_flow_get_i32(a, FF_FLOW_STEPS, NULL), FF_E_INVALID_ARGUMENT);

    const ff_flow_layout *L = &a->layout;
    CHECK(L->num_levels == 3 && L->level[0].c == 64 && L->level[0].h == SIZE / 4 && L->level[2].c == 256);
    CHECK(L->level[0].has_norm == 1);
    /* same seed: same parameters; another seed: different */
    CHECK(memcmp(a->params, b->params, L->num_params * sizeof(float)) == 0);
    CHECK(memcmp(a->perms, b->perms, L->num_perm * sizeof(int32_t)) == 0);
    CHECK(memcmp(a->params, c->params, L->num_params * sizeof(float)) != 0);
    CHECK(memcmp(a->perms, c->perms, L->num_perm * sizeof(int32_t)) != 0);
    /* the spec's initialisation */
    int ok_norm = 1, ok_gs = 1, ok_bound = 1, ok_perm = 1, identity = 1;
    float wmax = 0.0f;
    for (int32_t l = 0; l < L->num_levels; l++) {
        const ff_flow_level_layout *lv2 = &L->level[l];
        size_t n = (size_t)lv2->c * lv2->h * lv2->w;
        for (size_t i = 0; i < n; i++) ok_norm &= a->params[lv2->norm_w + i] == 1.0f && a->params[lv2->norm_b + i] == 0.0f;
        for (int32_t k = 0; k < L->num_steps; k++) {
            const ff_flow_step_layout *s = &lv2->step[k];
            for (int32_t ch = 0; ch < lv2->c; ch++) {
                ok_gs &= fabsf(0.2f * log1pf(expf(0.5f * a->params[s->global_scale + ch])) - 1.0f) < 1e-6f;
                ok_gs &= a->params[s->global_offset + ch] == 0.0f;
                identity &= a->perms[s->perm + ch] == ch;
            }
            float bound = 1.0f / sqrtf((float)(lv2->c1 * 9));
            size_t nw = (size_t)lv2->hidden * lv2->c1 * 9;
            for (size_t i = 0; i < nw; i++) {
                float w = fabsf(a->params[s->w1 + i]);
                ok_bound &= w <= bound;
                if (l == 0 && w / bound > wmax) wmax = w / bound;
            }
            ok_perm &= ff_flow_perm_valid(a->perms + s->perm, lv2->c);
        }
    }
    CHECK(ok_norm);
    CHECK(ok_gs);
    CHECK(ok_bound);
    CHECK(wmax > 0.95f); /* uniform over the whole range, not a narrower one */
    CHECK(ok_perm);
    CHECK(!identity);
done:
    ff_flow_destroy(a);
    ff_flow_destroy(b);
    ff_flow_destroy(c);
}

/* Anomaly map of a fixed image through flow f. */
static float *map_of(const ff_flow *f, uint64_t seed) {
    ff_scorer *s = NULL;
    float *m = malloc(sizeof(float) * SIZE * SIZE);
    uint8_t *img = ft_image(seed, 80, 72, 1);
    float score = 0;
    ff_status st = ff_scorer_create(f, &s);
    if (st == FF_OK) st = ff_scorer_score_image(s, img, 80, 72, 0, FF_PIXEL_RGB8, m, SIZE * SIZE, &score);
    if (st != FF_OK) {
        fprintf(stderr, "map_of: %s\n", ff_last_error_message());
        free(m);
        m = NULL;
    }
    ff_scorer_destroy(s);
    free(img);
    return m;
}

/* The kernels' default follows the backbone (the paper and the model spec):
 * 3x3 in every step over resnet18, alternating 3x3 / 1x1 over the other
 * ResNets; an explicit setting still wins. */
static void test_kernel_default_per_arch(void) {
    const char *arch[] = {"resnet18", "resnet34", "resnet50", "wide_resnet50_2"};
    const int32_t want[] = {1, 0, 0, 0};
    for (int a = 0; a < 4; a++) {
        size_t n = 0;
        uint8_t *w = bt_random_weights(arch[a], 1, "", NULL, NULL, &n, NULL, NULL);
        ff_backbone *bb = NULL;
        ff_flow_options *o = NULL;
        ff_flow *f = NULL, *g = NULL;
        CHECK(w != NULL);
        if (w) CHECK_OK(ff_backbone_load_from_memory(arch[a], w, n, &bb));
        free(w);
        CHECK_OK(ff_flow_options_create(&o));
        if (o) CHECK_OK(ff_flow_options_set_i32(o, FF_FLOW_INPUT_HEIGHT, 32));
        if (o) CHECK_OK(ff_flow_options_set_i32(o, FF_FLOW_INPUT_WIDTH, 32));
        if (o) CHECK_OK(ff_flow_options_set_i32(o, FF_FLOW_STEPS, 2));
        if (bb && o) CHECK_OK(ff_flow_create(bb, o, &f));
        int32_t v = -1;
        if (f) CHECK_OK(ff_flow_get_i32(f, FF_FLOW_CONV3X3_ONLY, &v));
        CHECK(v == want[a]);
        if (f) CHECK(f->layout.level[0].step[1].kernel == (want[a] ? 3 : 1));
        if (o) CHECK_OK(ff_flow_options_set_i32(o, FF_FLOW_CONV3X3_ONLY, !want[a]));
        if (bb && o) CHECK_OK(ff_flow_create(bb, o, &g));
        if (g) CHECK_OK(ff_flow_get_i32(g, FF_FLOW_CONV3X3_ONLY, &v));
        CHECK(v == !want[a]);
        ff_flow_destroy(g);
        ff_flow_destroy(f);
        ff_flow_options_destroy(o);
        ff_backbone_destroy(bb);
    }
}

static void check_same_flow(const ff_flow *a, const ff_flow *b) {
    CHECK(a->layout.num_params == b->layout.num_params);
    CHECK(memcmp(a->params, b->params, a->layout.num_params * sizeof(float)) == 0);
    CHECK(memcmp(a->perms, b->perms, a->layout.num_perm * sizeof(int32_t)) == 0);
}

static void test_round_trip(const ff_backbone *bb, const char *model) {
    ff_flow *a = ft_flow(bb, SIZE, STEPS, 0, 11), *b = NULL, *c = NULL;
    CHECK(a != NULL);
    if (!a) return;
    /* perturb the norm so a round trip of non-trivial values is checked */
    for (size_t i = 0; i < 100; i++) a->params[i] = 0.5f + 0.01f * (float)i;
    CHECK_STATUS(ff_flow_save(NULL, model, 1), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_flow_save(a, model, 2), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("embed_backbone");
    CHECK_OK(ff_flow_save(a, model, 1));
    CHECK_OK(ff_flow_load(model, NULL, &b));
    CHECK_OK(ff_flow_load(model, bb, &c));
    if (b && c) {
        check_same_flow(a, b);
        check_same_flow(a, c);
        CHECK(strcmp(ff_backbone_arch(ff_flow_backbone(b)), "resnet18") == 0);
        int32_t v = -1;
        CHECK_OK(ff_flow_get_i32(b, FF_FLOW_CONV3X3_ONLY, &v));
        CHECK(v == 0);
        int64_t seed = 0;
        CHECK_OK(ff_flow_get_i64(b, FF_FLOW_SEED, &seed));
        CHECK(seed == 11);
        float *ma = map_of(a, 3), *mb = map_of(b, 3), *mc = map_of(c, 3);
        CHECK(ma && mb && mc);
        if (ma && mb && mc) {
            CHECK(memcmp(ma, mb, sizeof(float) * SIZE * SIZE) == 0); /* bit-identical */
            CHECK(memcmp(ma, mc, sizeof(float) * SIZE * SIZE) == 0);
        }
        free(ma);
        free(mb);
        free(mc);
    }
    /* the file is what the spec says */
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open(model, &f));
    if (f) {
        CHECK(strcmp(ff_st_meta(f, "format"), "libfastflow") == 0);
        CHECK(strcmp(ff_st_meta(f, "format_version"), "1") == 0);
        CHECK(strcmp(ff_st_meta(f, "conv3x3_only"), "false") == 0);
        CHECK(strcmp(ff_st_meta(f, "input_height"), "64") == 0);
        CHECK(strcmp(ff_st_meta(f, "flow_steps"), "2") == 0);
        const ff_st_tensor *t = ff_st_find(f, "fast_flow_blocks.2.module_list.1.w_perm");
        CHECK(t && t->dtype == FF_DT_I64 && t->ndim == 1 && t->shape[0] == 256);
        t = ff_st_find(f, "fast_flow_blocks.0.module_list.1.subnet.1.weight");
        CHECK(t && t->ndim == 4 && t->shape[0] == 32 && t->shape[1] == 32 && t->shape[2] == 1);
        t = ff_st_find(f, "norms.1.weight");
        CHECK(t && t->ndim == 3 && t->shape[0] == 128 && t->shape[1] == 8);
        t = ff_st_find(f, "fast_flow_blocks.0.module_list.0.global_scale");
        CHECK(t && t->ndim == 4 && t->shape[0] == 1 && t->shape[1] == 64);
        CHECK(ff_st_find(f, "feature_extractor.conv1.weight") != NULL);
        CHECK(ff_st_find(f, "fast_flow_blocks.0.module_list.0.w_perm_inv") == NULL);
        ff_st_close(f);
    }
    /* without the backbone: loads only with one given */
    const char *bare = ft_path("bare.safetensors");
    ff_flow *d = NULL;
    CHECK_OK(ff_flow_save(a, bare, 0));
    CHECK_STATUS(ff_flow_load(bare, NULL, &d), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("embeds no backbone");
    CHECK(d == NULL);
    CHECK_OK(ff_flow_load(bare, bb, &d));
    if (d) check_same_flow(a, d);
    ff_flow_destroy(d);
    /* the flow outlives the backbone reference of its loader */
    ff_flow_destroy(a);
    ff_flow_destroy(b);
    ff_flow_destroy(c);
}

static void test_dense_perm(const ff_backbone *bb, const char *model) {
    const char *dense = ft_path("dense.safetensors");
    ft_edit e = {0};
    e.dense_perms = 1;
    CHECK(ft_rewrite(model, dense, &e) == 0);
    ff_flow *a = NULL, *b = NULL;
    CHECK_OK(ff_flow_load(model, bb, &a));
    CHECK_OK(ff_flow_load(dense, bb, &b));
    if (a && b) check_same_flow(a, b);
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open(dense, &f));
    if (f) {
        const ff_st_tensor *t = ff_st_find(f, "fast_flow_blocks.1.module_list.0.w_perm");
        CHECK(t && t->dtype == FF_DT_F32 && t->ndim == 4 && t->shape[0] == 128 && t->shape[1] == 128);
        ff_st_close(f);
    }
    ff_flow_destroy(a);
    ff_flow_destroy(b);
}

/* A damaged copy of `model` must fail with `status` and `msg`. */
static void expect_reject(const ff_backbone *bb, const char *model, const ft_edit *e, ff_status status,
                          const char *msg, int line) {
    const char *bad = ft_path("bad.safetensors");
    if (ft_rewrite(model, bad, e) != 0) {
        CHECK(!"rewrite failed");
        return;
    }
    ff_flow *f = (ff_flow *)(uintptr_t)0x1;
    ff_status st = ff_flow_load(bad, bb, &f);
    if (st != status) fprintf(stderr, "line %d: status %d (%s)\n", line, (int)st, ff_last_error_message());
    CHECK(st == status);
    CHECK_MSG(msg);
    CHECK(f == (ff_flow *)(uintptr_t)0x1); /* untouched */
}

static void test_reject(const ff_backbone *bb, const char *model) {
    ft_edit e;
#define REJECT(field, value, status, msg)                                                                     \
    do {                                                                                                       \
        memset(&e, 0, sizeof e);                                                                               \
        e.field = value;                                                                                       \
        expect_reject(bb, model, &e, status, msg, __LINE__);                                                   \
    } while (0)
#define REJECT_META(key, value, status, msg)                                                                  \
    do {                                                                                                       \
        memset(&e, 0, sizeof e);                                                                               \
        e.meta_key = key;                                                                                      \
        e.meta_value = value;                                                                                  \
        expect_reject(bb, model, &e, status, msg, __LINE__);                                                   \
    } while (0)
    REJECT(drop, "fast_flow_blocks.1.module_list.0.subnet.1.bias", FF_E_BAD_FORMAT,
           "missing tensor 'fast_flow_blocks.1.module_list.0.subnet.1.bias'");
    REJECT(drop, "norms.2.bias", FF_E_BAD_FORMAT, "norms.2.bias");
    REJECT(drop, "fast_flow_blocks.0.module_list.1.w_perm", FF_E_BAD_FORMAT,
           "fast_flow_blocks.0.module_list.1.w_perm");
    REJECT(reshape, "norms.0.weight", FF_E_BAD_FORMAT, "norms.0.weight");
    REJECT(reshape, "fast_flow_blocks.2.module_list.0.global_offset", FF_E_BAD_FORMAT, "global_offset");
    REJECT(poison, "fast_flow_blocks.1.module_list.1.subnet.4.weight", FF_E_BAD_FORMAT, "NaN");
    REJECT(poison, "norms.1.bias", FF_E_BAD_FORMAT, "norms.1.bias");
    REJECT(break_perm, "fast_flow_blocks.0.module_list.0.w_perm", FF_E_BAD_FORMAT, "not a permutation");
    REJECT(extra, "fast_flow_blocks.0.module_list.7.global_scale", FF_E_BAD_FORMAT, "unexpected tensor");
    REJECT_META("format", "anomalib", FF_E_BAD_FORMAT, "'format'");
    REJECT_META("format", NULL, FF_E_BAD_FORMAT, "'format' is missing");
    REJECT_META("format_version", "2", FF_E_UNSUPPORTED, "format_version");
    REJECT_META("input_height", "64x", FF_E_BAD_FORMAT, "input_height");
    REJECT_META("input_height", "", FF_E_BAD_FORMAT, "input_height");
    REJECT_META("input_width", "72", FF_E_BAD_FORMAT, "divisible by 16");
    REJECT_META("input_width", "128", FF_E_BAD_FORMAT, "norms.0.weight"); /* shapes now disagree */
    REJECT_META("flow_steps", "3", FF_E_BAD_FORMAT, "module_list.2");
    REJECT_META("flow_steps", "1", FF_E_BAD_FORMAT, "unexpected tensor");
    REJECT_META("flow_steps", "99", FF_E_BAD_FORMAT, "flow_steps");
    REJECT_META("hidden_ratio", "nan", FF_E_BAD_FORMAT, "hidden_ratio");
    REJECT_META("hidden_ratio", "0.5", FF_E_BAD_FORMAT, "subnet.1.weight");
    REJECT_META("clamp", "2.0 ", FF_E_BAD_FORMAT, "clamp");
    REJECT_META("conv3x3_only", "yes", FF_E_BAD_FORMAT, "conv3x3_only");
    REJECT_META("conv3x3_only", "true", FF_E_BAD_FORMAT, "conv3x3_only = true");
    REJECT_META("backbone", "resnet50", FF_E_INVALID_ARGUMENT, "resnet50");
#undef REJECT
#undef REJECT_META

    /* a one-hot matrix that is not a permutation */
    const char *dense = ft_path("dense2.safetensors");
    ft_edit d = {0};
    d.dense_perms = 1;
    CHECK(ft_rewrite(model, dense, &d) == 0);
    {
        ff_st_file *f = NULL;
        ff_st_writer *w = NULL;
        CHECK_OK(ff_st_open(dense, &f));
        CHECK_OK(ff_st_writer_create(&w));
        for (size_t i = 0; f && w && i < ff_st_count(f); i++) {
            const ff_st_tensor *t = ff_st_at(f, i);
            uint8_t *data = malloc(t->nbytes);
            memcpy(data, t->data, t->nbytes);
            if (strcmp(t->name, "fast_flow_blocks.0.module_list.1.w_perm") == 0) ((float *)(void *)data)[5] = 2.0f;
            ff_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, data);
            free(data);
        }
        for (size_t i = 0; f && w && i < ff_st_meta_count(f); i++) {
            const char *k, *v;
            ff_st_meta_at(f, i, &k, &v);
            ff_st_writer_set_meta(w, k, v);
        }
        const char *bad = ft_path("bad_dense.safetensors");
        CHECK_OK(ff_st_writer_save(w, bad));
        ff_flow *fl = NULL;
        CHECK_STATUS(ff_flow_load(bad, bb, &fl), FF_E_BAD_FORMAT);
        CHECK_MSG("fast_flow_blocks.0.module_list.1.w_perm");
        CHECK_MSG("one-hot");
        ff_st_writer_destroy(w);
        ff_st_close(f);
    }

    /* truncated and corrupt files */
    uint8_t *data = NULL;
    size_t size = 0;
    CHECK_OK(ff_read_file(model, &data, &size));
    if (data) {
        const char *trunc = ft_path("trunc.safetensors");
        CHECK_OK(ff_write_file_atomic(trunc, data, size / 2));
        ff_flow *f = NULL;
        CHECK_STATUS(ff_flow_load(trunc, bb, &f), FF_E_BAD_FORMAT);
        CHECK_MSG("trunc.safetensors");
        data[8] = 'x'; /* the JSON header no longer starts with '{' */
        const char *corrupt = ft_path("corrupt.safetensors");
        CHECK_OK(ff_write_file_atomic(corrupt, data, size));
        CHECK_STATUS(ff_flow_load(corrupt, bb, &f), FF_E_BAD_FORMAT);
        CHECK_MSG("corrupt.safetensors");
        CHECK_OK(ff_write_file_atomic(corrupt, data, 5));
        CHECK_STATUS(ff_flow_load(corrupt, bb, &f), FF_E_BAD_FORMAT);
        free(data);
    }
    ff_flow *f = NULL;
    CHECK_STATUS(ff_flow_load(ft_path("does-not-exist.safetensors"), bb, &f), FF_E_IO);
    CHECK_MSG("does-not-exist");
    CHECK_STATUS(ff_flow_load(NULL, bb, &f), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_flow_load(model, bb, NULL), FF_E_INVALID_ARGUMENT);
}

static int count_entries(const char *dir) {
    DIR *d = opendir(dir);
    int n = 0;
    if (!d) return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (e->d_name[0] != '.') n++;
    closedir(d);
    return n;
}

static void test_atomic(const ff_backbone *bb) {
    ff_flow *a = ft_flow(bb, SIZE, STEPS, 1, 2);
    if (!a) return;
    char dir[512];
    snprintf(dir, sizeof dir, "%s/atomic", ff_test_tmpdir());
    CHECK(mkdir(dir, 0777) == 0);
    char target[600];
    snprintf(target, sizeof target, "%s/model.safetensors", dir);
    /* the target is a non-empty folder: the final rename fails */
    CHECK(mkdir(target, 0777) == 0);
    char inner[700];
    snprintf(inner, sizeof inner, "%s/keep", target);
    FILE *fp = fopen(inner, "w");
    if (fp) fclose(fp);
    CHECK(count_entries(dir) == 1);
    CHECK(ff_flow_save(a, target, 1) != FF_OK);
    CHECK_MSG("model.safetensors");
    CHECK(count_entries(dir) == 1); /* no temporary file left behind */
    /* a folder that does not exist */
    char missing[600];
    snprintf(missing, sizeof missing, "%s/no/such/dir/m.safetensors", ff_test_tmpdir());
    CHECK_STATUS(ff_flow_save(a, missing, 1), FF_E_IO);
    /* an existing model is replaced whole */
    char good[600];
    snprintf(good, sizeof good, "%s/good.safetensors", dir);
    CHECK_OK(ff_flow_save(a, good, 0));
    CHECK_OK(ff_flow_save(a, good, 1));
    ff_flow *b = NULL;
    CHECK_OK(ff_flow_load(good, NULL, &b));
    ff_flow_destroy(b);
    CHECK(count_entries(dir) == 2);
    ff_flow_destroy(a);
}

/* score.source longer than 31 characters or with control bytes is refused
 * (it was silently truncated), as ff_flow_with_statistics refuses it. */
static void test_stats_source(const ff_backbone *bb) {
    ff_flow *flow = ft_flow(bb, 32, 1, 1, 3), *with = NULL;
    CHECK_OK(ff_flow_with_statistics(flow, -0.5f, -0.6f, -1.0f, -0.1f, "val", &with));
    char model[512];
    snprintf(model, sizeof model, "%s", ft_path("stats.safetensors"));
    CHECK_OK(ff_flow_save(with, model, 0));
    ft_edit e;
    memset(&e, 0, sizeof e);
    e.meta_key = "score.source";
    e.meta_value = "0123456789012345678901234567890123456789"; /* 40 */
    expect_reject(bb, model, &e, FF_E_BAD_FORMAT, "'score.source' has 40 characters", __LINE__);
    e.meta_value = "bad\x01source";
    expect_reject(bb, model, &e, FF_E_BAD_FORMAT, "non-printable", __LINE__);
    e.meta_value = "";
    expect_reject(bb, model, &e, FF_E_BAD_FORMAT, "'score.source' has 0 characters", __LINE__);
    e.meta_value = "0123456789012345678901234567890"; /* 31: the most allowed */
    const char *edited = ft_path("stats-31.safetensors");
    CHECK(ft_rewrite(model, edited, &e) == 0);
    ff_flow *back = NULL;
    CHECK_OK(ff_flow_load(edited, bb, &back));
    ff_flow_destroy(back);
    ff_flow_destroy(with);
    ff_flow_destroy(flow);
}

int main(void) {
    test_options();
    test_kernel_default_per_arch();
    ff_backbone *bb = ft_backbone(42);
    CHECK(bb != NULL);
    if (bb) {
        char model[512];
        snprintf(model, sizeof model, "%s", ft_path("model.safetensors"));
        test_create(bb);
        test_round_trip(bb, model);
        test_dense_perm(bb, model);
        test_reject(bb, model);
        test_atomic(bb);
        test_stats_source(bb);
    }
    ff_backbone_destroy(bb);
    return ff_test_finish();
}
