/* tools/anomalib_to_fastflow.py end to end without PyTorch: its safetensors
 * input needs only numpy, so this runs in CI.
 *
 * The input is rebuilt here in anomalib's own layout from the golden
 * converted model: every name under "model.", w_perm as the dense one-hot
 * [C, C, 1, 1] matrix FrEIA stores plus w_perm_inv, the backbone's seeded
 * weights as model.feature_extractor.* (with num_batches_tracked), and
 * anomalib's thresholds and min/max as scalars outside the model. With no
 * hyper-parameters at all, the converter must infer everything (backbone,
 * input size, steps, kernels, hidden_ratio 0.16) and give back the golden
 * model: the same tensors and metadata, and maps equal to PyTorch's.
 * Then the error paths: each a non-zero exit with a message naming the
 * problem, and no output or temporary file left behind; and FastFlow over
 * a transformer (tiny DeiT and CaiT), which must score exactly as before. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anomalib_testlib.h"
#include "backbone_testlib.h"
#include "tensor/safetensors.h"
#include "test_util.h"

#define OUT_CAP 8192

typedef struct sd_opts {
    int backbone;         /* embed model.feature_extractor.* */
    const char *skip;     /* flow tensor left out (name without "model.") */
    const char *poison;   /* flow tensor whose first value becomes NaN */
    const char *bad_perm; /* w_perm whose row 1 repeats row 0 */
} sd_opts;

static const char *tmp(const char *name) {
    static char bufs[64][1024]; /* enough for every path this test names */
    static int k;
    char *b = bufs[k++ % 64];
    snprintf(b, 1024, "%s/%s", ff_test_tmpdir(), name);
    return b;
}

static ff_status add_dense_perm(ff_st_writer *w, const char *name, const ff_st_tensor *t, int broken) {
    const int64_t c = t->shape[0];
    int64_t *idx = malloc((size_t)c * sizeof *idx);
    float *mat = calloc((size_t)(c * c), sizeof *mat), *inv = calloc((size_t)(c * c), sizeof *inv);
    ff_status st = FF_E_OUT_OF_MEMORY;
    if (idx && mat && inv) {
        memcpy(idx, t->data, (size_t)c * sizeof *idx); /* the file's data need not be 8-byte aligned */
        for (int64_t i = 0; i < c; i++) {
            mat[i * c + idx[broken && i == 1 ? 0 : i]] = 1.0f; /* y[:, i] = u[:, idx[i]] */
            inv[idx[i] * c + i] = 1.0f;
        }
        const int64_t shape[4] = {c, c, 1, 1};
        char iname[600];
        snprintf(iname, sizeof iname, "%s_inv", name);
        st = ff_st_writer_add_f32(w, name, 4, shape, mat);
        if (st == FF_OK) st = ff_st_writer_add_f32(w, iname, 4, shape, inv);
    }
    free(idx);
    free(mat);
    free(inv);
    return st;
}

/* Writes `src` (a libfastflow model file) in anomalib's layout to `path`,
 * with the serialised backbone `bb` (may be NULL) as model.feature_extractor.*;
 * the file's own feature_extractor.* are kept only with o->backbone. 0 on success. */
static int rewrite_anomalib(const char *src, const uint8_t *bb, size_t bb_size, const char *path, const sd_opts *o) {
    ff_st_file *m = NULL, *bf = NULL;
    ff_st_writer *w = NULL;
    ff_status st = ff_st_open(src, &m);
    if (st == FF_OK) st = ff_st_writer_create(&w);
    if (st == FF_OK && bb) {
        st = ff_st_open_memory(bb, bb_size, "backbone", &bf);
        for (size_t i = 0; st == FF_OK && i < ff_st_count(bf); i++) {
            const ff_st_tensor *t = ff_st_at(bf, i);
            st = ff_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data);
        }
    }
    for (size_t i = 0; st == FF_OK && i < ff_st_count(m); i++) {
        const ff_st_tensor *t = ff_st_at(m, i);
        if (o->skip && strcmp(o->skip, t->name) == 0) continue;
        if (!o->backbone && strncmp(t->name, "feature_extractor.", 18) == 0) continue;
        char name[512];
        snprintf(name, sizeof name, "model.%s", t->name);
        if (t->dtype == FF_DT_I64) {
            st = add_dense_perm(w, name, t, o->bad_perm && strcmp(o->bad_perm, t->name) == 0);
        } else if (o->poison && strcmp(o->poison, t->name) == 0) {
            float *v = malloc(t->nbytes);
            if (!v) st = FF_E_OUT_OF_MEMORY;
            else {
                memcpy(v, t->data, t->nbytes);
                v[0] = NAN;
                st = ff_st_writer_add_f32(w, name, t->ndim, t->shape, v);
                free(v);
            }
        } else {
            st = ff_st_writer_add(w, name, t->dtype, t->ndim, t->shape, t->data);
        }
    }
    /* anomalib's AnomalyModule state beside the model: scalar thresholds and min/max */
    for (size_t i = 0; st == FF_OK && i < ff_st_meta_count(m); i++) {
        const char *k, *v;
        ff_st_meta_at(m, i, &k, &v);
        if (strncmp(k, "anomalib.", 9) != 0) continue;
        const float x = strtof(v, NULL);
        st = ff_st_writer_add_f32(w, k + 9, 0, NULL, &x);
    }
    if (st == FF_OK) st = ff_st_writer_save(w, path);
    if (st != FF_OK) fprintf(stderr, "rewrite_anomalib: %s\n", ff_last_error_message());
    ff_st_writer_destroy(w);
    ff_st_close(bf);
    ff_st_close(m);
    return st == FF_OK ? 0 : -1;
}

/* The golden model in anomalib's layout, with the reference's resnet18 when o->backbone. */
static int build_sd(const char *path, const sd_opts *o) {
    size_t size = 0;
    uint8_t *bb = NULL;
    if (o->backbone) {
        bb = bt_random_weights("resnet18", at_backbone_seed(), "model.feature_extractor.", NULL, NULL, &size, NULL,
                               NULL);
        if (!bb) return -1;
    }
    const sd_opts flow_only = {0, o->skip, o->poison, o->bad_perm};
    int rc = rewrite_anomalib(ff_test_golden_path(AT_MODEL), bb, size, path, &flow_only);
    free(bb);
    return rc;
}

/* The converter's output holds the golden model's flow tensors and metadata exactly. */
static void check_same_as_golden(const char *path, int backbone) {
    ff_st_file *g = NULL, *o = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path(AT_MODEL), &g));
    CHECK_OK(ff_st_open(path, &o));
    if (!g || !o) {
        ff_st_close(g);
        ff_st_close(o);
        return;
    }
    size_t same = 0, fe = 0;
    for (size_t i = 0; i < ff_st_count(g); i++) {
        const ff_st_tensor *a = ff_st_at(g, i), *b = ff_st_find(o, a->name);
        int ok = b && a->dtype == b->dtype && a->ndim == b->ndim && a->nbytes == b->nbytes &&
                 memcmp(a->shape, b->shape, sizeof a->shape[0] * (size_t)a->ndim) == 0 &&
                 memcmp(a->data, b->data, a->nbytes) == 0;
        if (!ok) fprintf(stderr, "%s: tensor '%s' differs from the golden model\n", path, a->name);
        same += (size_t)ok;
    }
    for (size_t i = 0; i < ff_st_count(o); i++) fe += strncmp(ff_st_at(o, i)->name, "feature_extractor.", 18) == 0;
    CHECK(same == ff_st_count(g));
    CHECK(ff_st_count(o) == ff_st_count(g) + fe);
    CHECK(backbone ? fe > 0 : fe == 0);
    for (size_t i = 0; i < ff_st_meta_count(g); i++) {
        const char *k, *v;
        ff_st_meta_at(g, i, &k, &v);
        if (strcmp(k, "source_file") == 0) continue;
        const char *got = ff_st_meta(o, k);
        CHECK(got != NULL && strcmp(got, v) == 0);
        if (!got || strcmp(got, v) != 0) fprintf(stderr, "metadata %s = %s, golden %s\n", k, got ? got : "-", v);
    }
    ff_st_close(g);
    ff_st_close(o);
}

static int leftovers(void) {
    DIR *d = opendir(ff_test_tmpdir());
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) n += strstr(e->d_name, ".anomalib_to_fastflow.") != NULL;
    if (d) closedir(d);
    return n;
}

/* Runs the converter expecting failure with `needle` in its output and no output file. */
static void expect_error(const char *args, const char *needle) {
    char out[OUT_CAP], full[4096];
    const char *dst = tmp("never.safetensors");
    remove(dst);
    snprintf(full, sizeof full, "%s '%s'", args, dst);
    int rc = at_convert(full, out, sizeof out);
    int ok = rc == 1 && strstr(out, needle) != NULL;
    CHECK(ok);
    if (!ok) fprintf(stderr, "converter %s: exit %d, expected 1 and '%s' in:\n%s\n", args, rc, needle, out);
    FILE *f = fopen(dst, "rb");
    CHECK(f == NULL);
    if (f) fclose(f);
}

/* Maps of the golden images under `flow` (malloc'd), count in *n. */
static float *maps_of(const ff_flow *flow, size_t *n) {
    ff_st_file *ref = NULL;
    float *maps = NULL;
    ff_scorer *sc = NULL;
    if (ff_st_open(ff_test_golden_path(AT_REF), &ref) != FF_OK || ff_scorer_create(flow, &sc) != FF_OK) {
        ff_st_close(ref);
        return NULL;
    }
    const ff_st_tensor *im = ff_st_find(ref, "images");
    int32_t h = 0, w = 0;
    if (im && ff_scorer_map_shape(sc, &w, &h) == FF_OK) {
        const size_t hw = (size_t)h * (size_t)w, per = (size_t)(im->shape[1] * im->shape[2] * 3);
        *n = (size_t)im->shape[0] * hw;
        maps = malloc(*n * sizeof *maps);
        for (int64_t i = 0; maps && i < im->shape[0]; i++) {
            float score = 0;
            if (ff_scorer_score_image(sc, im->data + (size_t)i * per, (int32_t)im->shape[2], (int32_t)im->shape[1], 0,
                                      FF_PIXEL_RGB8, maps + (size_t)i * hw, hw, &score) != FF_OK) {
                free(maps);
                maps = NULL;
            }
        }
    }
    ff_scorer_destroy(sc);
    ff_st_close(ref);
    return maps;
}

/* anomalib's FastFlow over a transformer: the whole timm model as
 * feature_extractor, one flow level, no LayerNorm. The tiny test
 * configurations (lib/backbone/vit_arch.c) stand in for DeiT-B / CaiT-M48;
 * the converted model must score exactly as the flow it was made from. */
static void transformer(const char *fam) {
    char file[64], arch[64], src[1024], sd[1024], dst[1024], args[4096], out[OUT_CAP];
    snprintf(file, sizeof file, "vit_%s_tiny.safetensors", fam);
    snprintf(arch, sizeof arch, "%s_tiny_test", fam);
    snprintf(src, sizeof src, "%s", tmp("vit_src.safetensors"));
    snprintf(sd, sizeof sd, "%s", tmp("vit_anomalib.safetensors"));
    snprintf(dst, sizeof dst, "%s", tmp("vit_converted.safetensors"));
    ff_backbone *bb = NULL;
    ff_flow_options *o = NULL;
    ff_flow *flow = NULL, *conv = NULL;
    CHECK_OK(ff_backbone_load(arch, ff_test_golden_path(file), &bb));
    CHECK_OK(ff_flow_options_create(&o));
    if (!bb || !o) goto done;
    CHECK_OK(ff_flow_options_set_i32(o, FF_FLOW_INPUT_HEIGHT, 64));
    CHECK_OK(ff_flow_options_set_i32(o, FF_FLOW_INPUT_WIDTH, 64));
    CHECK_OK(ff_flow_options_set_i32(o, FF_FLOW_STEPS, 3));
    CHECK_OK(ff_flow_options_set_i32(o, FF_FLOW_CONV3X3_ONLY, 0));
    CHECK_OK(ff_flow_options_set_f32(o, FF_FLOW_HIDDEN_RATIO, 0.16f));
    CHECK_OK(ff_flow_options_set_i64(o, FF_FLOW_SEED, 7));
    CHECK_OK(ff_flow_create(bb, o, &flow));
    if (!flow) goto done;
    CHECK_OK(ff_flow_save(flow, src, 1));
    const sd_opts all = {1, NULL, NULL, NULL};
    CHECK(rewrite_anomalib(src, NULL, 0, sd, &all) == 0);
    /* the tiny configurations are not anomalib's: the name must be given */
    snprintf(args, sizeof args, "'%s'", sd);
    expect_error(args, "pass --backbone");
    snprintf(args, sizeof args, "'%s' --backbone resnet18", sd);
    expect_error(args, "has no LayerNorms");
    snprintf(args, sizeof args, "'%s' --backbone %s", sd, fam[0] == 'd' ? "cait_m48_448" : "deit_tiny_test");
    expect_error(args, fam[0] == 'd' ? "a DEIT model" : "a CAIT model");
    snprintf(args, sizeof args, "'%s' '%s' --backbone %s", sd, dst, arch);
    CHECK(at_convert(args, out, sizeof out) == 0);
    printf("converter: %s", out);
    CHECK(strstr(out, "input 64x64, 3 steps, hidden_ratio 0.16, conv3x3_only false, backbone embedded") != NULL);
    CHECK_OK(ff_flow_load(dst, NULL, &conv));
    if (conv) {
        size_t n1 = 0, n2 = 0;
        float *m1 = maps_of(flow, &n1), *m2 = maps_of(conv, &n2);
        const int same = m1 && m2 && n1 == n2 && memcmp(m1, m2, n1 * sizeof *m1) == 0;
        CHECK(same);
        printf("%s: anomalib layout -> converter -> maps %s\n", arch, same ? "identical" : "DIFFER");
        free(m1);
        free(m2);
    }
done:
    ff_flow_destroy(conv);
    ff_flow_destroy(flow);
    ff_flow_options_destroy(o);
    ff_backbone_destroy(bb);
}

int main(void) {
    if (!at_python_has("numpy")) ff_test_skip("/usr/bin/python3 (or $FF_PYTHON) cannot import numpy");
    char out[OUT_CAP], args[4096];

    /* 1. full state dict, nothing stated: everything inferred */
    const char *sd = tmp("anomalib_state_dict.safetensors"), *model = tmp("converted.safetensors");
    const sd_opts full = {1, NULL, NULL, NULL};
    CHECK(build_sd(sd, &full) == 0);
    snprintf(args, sizeof args, "'%s' '%s'", sd, model);
    int rc = at_convert(args, out, sizeof out);
    CHECK(rc == 0);
    printf("converter: %s", out);
    CHECK(strstr(out, "resnet18, input 64x64, 4 steps, hidden_ratio 0.16, conv3x3_only false, backbone embedded"));
    check_same_as_golden(model, 1);
    ff_flow *flow = NULL;
    CHECK_OK(ff_flow_load(model, NULL, &flow)); /* the embedded backbone */
    if (flow) at_check_maps(flow, "converted from an anomalib safetensors state dict");
    ff_flow_destroy(flow);

    /* 2. --no-backbone gives the committed golden file's tensors */
    const char *nob = tmp("converted_nobackbone.safetensors");
    snprintf(args, sizeof args, "'%s' '%s' --no-backbone -q", sd, nob);
    CHECK(at_convert(args, out, sizeof out) == 0);
    CHECK(out[0] == '\0'); /* --quiet */
    check_same_as_golden(nob, 0);

    /* 3. a flow-only state dict needs the backbone named; consistent overrides are accepted */
    const char *flow_only = tmp("flow_only.safetensors");
    const sd_opts none = {0, NULL, NULL, NULL};
    CHECK(build_sd(flow_only, &none) == 0);
    snprintf(args, sizeof args, "'%s'", flow_only);
    expect_error(args, "pass --backbone");
    snprintf(args, sizeof args, "'%s' '%s' --backbone resnet18 --flow-steps 4 --conv3x3-only false "
             "--hidden-ratio 0.157 --input-size 64x64", flow_only, tmp("overrides.safetensors"));
    CHECK(at_convert(args, out, sizeof out) == 0);
    CHECK(strstr(out, "hidden_ratio 0.157") && strstr(out, "not embedded"));
    ff_backbone *bb = at_backbone();
    CHECK_OK(ff_flow_load(tmp("overrides.safetensors"), bb, &flow));
    if (flow) at_check_maps(flow, "flow-only state dict, backbone given at load");
    ff_flow_destroy(flow);
    ff_backbone_destroy(bb);

    /* 4. overrides that contradict the tensors */
    snprintf(args, sizeof args, "'%s'", sd);
    char a2[4200];
    snprintf(a2, sizeof a2, "%s --backbone resnet34", args);
    expect_error(a2, "backbone weights are resnet18's");
    snprintf(a2, sizeof a2, "%s --backbone wide_resnet50_2", args);
    expect_error(a2, "wide_resnet50_2");
    snprintf(a2, sizeof a2, "%s --conv3x3-only true", args);
    expect_error(a2, "odd steps' subnet kernels are 1x1");
    snprintf(a2, sizeof a2, "%s --hidden-ratio 0.25", args);
    expect_error(a2, "but the subnets have [5, 10, 20]");
    snprintf(a2, sizeof a2, "%s --flow-steps 8", args);
    expect_error(a2, "has 4 flow steps");
    snprintf(a2, sizeof a2, "%s --input-size 256", args);
    expect_error(a2, "LayerNorm shapes are for 64x64");
    snprintf(a2, sizeof a2, "%s --backbone vgg16", args);
    expect_error(a2, "'vgg16' is not supported");

    /* 5. damaged or foreign inputs */
    const char *bad = tmp("bad.safetensors");
    const sd_opts missing = {0, "fast_flow_blocks.1.module_list.2.subnet.4.bias", NULL, NULL};
    CHECK(build_sd(bad, &missing) == 0);
    snprintf(args, sizeof args, "'%s' --backbone resnet18", bad);
    expect_error(args, "missing 1 tensor(s): model.fast_flow_blocks.1.module_list.2.subnet.4.bias");
    const sd_opts nan = {0, NULL, "fast_flow_blocks.0.module_list.3.subnet.1.weight", NULL};
    CHECK(build_sd(bad, &nan) == 0);
    expect_error(args, "'model.fast_flow_blocks.0.module_list.3.subnet.1.weight' holds NaN");
    const sd_opts perm = {0, NULL, NULL, "fast_flow_blocks.2.module_list.1.w_perm"};
    CHECK(build_sd(bad, &perm) == 0);
    expect_error(args, "'model.fast_flow_blocks.2.module_list.1.w_perm' is not a permutation");
    snprintf(args, sizeof args, "'%s'", ff_test_golden_path(AT_REF)); /* safetensors, not FastFlow */
    expect_error(args, "not a FastFlow checkpoint");
    snprintf(args, sizeof args, "'%s'", tmp("does-not-exist.ckpt"));
    expect_error(args, "no such file");
    const char *junk = tmp("junk.ckpt");
    FILE *f = fopen(junk, "wb");
    if (f) {
        fputs("this is not a checkpoint\n", f);
        fclose(f);
    }
    snprintf(args, sizeof args, "'%s'", junk);
    expect_error(args, at_python_has("torch") ? "not a PyTorch checkpoint" : "needs PyTorch");
    snprintf(args, sizeof args, "'%s' '%s/no/such/folder/out.safetensors'", sd, ff_test_tmpdir());
    rc = at_convert(args, out, sizeof out);
    CHECK(rc == 1 && strstr(out, "cannot write"));
    CHECK(leftovers() == 0);

    /* 6. FastFlow over a transformer */
    transformer("deit");
    transformer("cait");

    /* 7. usage errors exit 2 */
    CHECK(at_convert("", out, sizeof out) == 2);
    snprintf(args, sizeof args, "'%s' '%s' --clamp 0", sd, tmp("x.safetensors"));
    CHECK(at_convert(args, out, sizeof out) == 2 && strstr(out, "--clamp"));
    return ff_test_finish();
}
