/* Backbones on seeded random weights: golden features from torchvision for
 * resnet34, resnet50 and wide_resnet50_2 (tools/reference/
 * gen_backbone_golden.py), batching, prefixes, export, bad inputs and
 * threads. The real resnet18 weights are tested in test_backbone_real.c. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backbone/backbone.h"
#include "backbone_testlib.h"
#include "test_util.h"

#define TOL 1e-4

static ff_backbone *load_random(const char *arch, uint64_t seed, const char *prefix) {
    size_t size = 0;
    uint8_t *data = bt_random_weights(arch, seed, prefix, NULL, NULL, &size, NULL, NULL);
    CHECK(data != NULL);
    ff_backbone *bb = NULL;
    if (data) CHECK_OK(ff_backbone_load_from_memory(arch, data, size, &bb));
    free(data);
    return bb;
}

static void free3(float *v[3]) {
    for (int l = 0; l < 3; l++) free(v[l]);
}

static int same(const float *a, const float *b, size_t n) { return memcmp(a, b, n * sizeof *a) == 0; }

/* ---- golden comparisons ------------------------------------------------- */

static void golden_case(const char *arch, int check_batching) {
    char file[128];
    snprintf(file, sizeof file, "backbone_%s_random.safetensors", arch);
    ff_st_file *g = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path(file), &g));
    if (!g) return;
    const uint64_t seed = strtoull(ff_st_meta(g, "seed"), NULL, 10);
    const int32_t batch = atoi(ff_st_meta(g, "batch")), size = atoi(ff_st_meta(g, "size"));

    float first[8], last[8];
    size_t wsize = 0;
    uint8_t *weights = bt_random_weights(arch, seed, "", NULL, NULL, &wsize, first, last);
    float *gfirst = bt_golden(g, "check.first", NULL), *glast = bt_golden(g, "check.last", NULL);
    /* the generator and the tensor order agree with the Python reference */
    CHECK(weights && gfirst && glast && same(first, gfirst, 8) && same(last, glast, 8));

    ff_backbone *bb = NULL;
    CHECK_OK(ff_backbone_load_from_memory(arch, weights, wsize, &bb));
    free(weights);
    ff_extractor *ex = NULL;
    if (bb) CHECK_OK(ff_extractor_create(bb, &ex));
    float *input = bt_golden(g, "input", NULL);
    float *got[3] = {0};
    size_t counts[3];
    if (ex && input) {
        CHECK_OK(bt_extract(bb, ex, input, batch, size, size, got, counts));
        char what[96];
        snprintf(what, sizeof what, "%s (batch %d, %dx%d)", arch, (int)batch, (int)size, (int)size);
        bt_check_levels(g, got, counts, what, TOL);
    }
    if (check_batching && ex && got[0]) {
        /* each image alone (the extractor rebuilds for batch 1) equals its
         * slice of the batched run */
        const size_t per_in = (size_t)3 * (size_t)size * (size_t)size;
        for (int32_t b = 0; b < batch; b++) {
            float *one[3] = {0};
            size_t c1[3];
            CHECK_OK(bt_extract(bb, ex, input + (size_t)b * per_in, 1, size, size, one, c1));
            for (int l = 0; l < 3 && one[l]; l++) {
                char what[96];
                snprintf(what, sizeof what, "%s level %d image %d alone vs in batch", arch, l, (int)b);
                ff_test_close_rel_max(what, one[l], got[l] + (size_t)b * c1[l], c1[l], 1e-6);
            }
            free3(one);
        }
    }
    free3(got);
    free(input);
    free(gfirst);
    free(glast);
    ff_extractor_destroy(ex);
    ff_backbone_destroy(bb);
    ff_st_close(g);
}

/* ---- API basics ---------------------------------------------------------- */

static void test_api(void) {
    ff_backbone *bb = load_random("resnet18", 18, "");
    if (!bb) return;
    CHECK(strcmp(ff_backbone_arch(bb), "resnet18") == 0);
    CHECK(ff_backbone_uses_layernorm(bb) == 1);
    int32_t levels = 0, c = 0, h = 0, w = 0;
    CHECK_OK(ff_backbone_num_levels(bb, &levels));
    CHECK(levels == 3);
    CHECK_OK(ff_backbone_level_shape(bb, 0, 256, 256, &c, &w, &h));
    CHECK(c == 64 && h == 64 && w == 64);
    CHECK_OK(ff_backbone_level_shape(bb, 2, 320, 256, &c, &w, &h));
    CHECK(c == 256 && h == 16 && w == 20);
    CHECK_STATUS(ff_backbone_level_shape(bb, 3, 256, 256, &c, &w, &h), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("level");
    CHECK_STATUS(ff_backbone_level_shape(bb, 0, 256, 250, &c, &w, &h), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("divisible by 16");
    CHECK_STATUS(ff_backbone_level_shape(bb, 0, 256, 256, NULL, &w, &h), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_backbone_num_levels(NULL, &levels), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_backbone_num_levels(bb, NULL), FF_E_INVALID_ARGUMENT);
    CHECK(ff_backbone_arch(NULL) == NULL);

    ff_backbone *wide = load_random("wide_resnet50_2", 1, "");
    if (wide) {
        CHECK_OK(ff_backbone_level_shape(wide, 1, 32, 64, &c, &w, &h));
        CHECK(c == 512 && h == 8 && w == 4);
    }
    ff_backbone_destroy(wide);

    /* refcounting: the extractor keeps its backbone alive */
    ff_extractor *ex = NULL;
    CHECK_OK(ff_extractor_create(bb, &ex));
    const ff_backbone *again = ff_backbone_retain(bb);
    CHECK(again == bb);
    ff_backbone_destroy(bb);
    ff_backbone_destroy((ff_backbone *)again);
    float *in = calloc(3 * 32 * 32, sizeof *in), out[64 * 8 * 8];
    if (ex && in) {
        CHECK_OK(ff_extractor_run(ex, in, 1, 32, 32));
        CHECK_OK(ff_extractor_read(ex, 0, out, 64 * 8 * 8));
    }
    free(in);
    ff_extractor_destroy(ex);
    ff_backbone_destroy(NULL);
    ff_extractor_destroy(NULL);
}

/* ---- prefix, explicit prefix, export ------------------------------------- */

static void run_small(const ff_backbone *bb, const float *in, float *out[3], size_t n[3]) {
    ff_extractor *ex = NULL;
    out[0] = out[1] = out[2] = NULL;
    CHECK_OK(ff_extractor_create(bb, &ex));
    if (ex) CHECK_OK(bt_extract(bb, ex, in, 2, 96, 64, out, n));
    ff_extractor_destroy(ex);
}

static void test_prefix_and_export(void) {
    const size_t nin = 2 * 3 * 64 * 96;
    float *in = malloc(nin * sizeof *in);
    for (size_t i = 0; i < nin; i++) in[i] = 4.0f * bt_uniform(7, i) - 2.0f;
    ff_backbone *plain = load_random("resnet18", 18, "");
    ff_backbone *pref = load_random("resnet18", 18, "feature_extractor.");
    float *a[3], *b[3], *c[3], *d[3];
    size_t n[3];
    if (!plain || !pref) goto done;
    run_small(plain, in, a, n);
    run_small(pref, in, b, n);
    for (int l = 0; l < 3 && a[l] && b[l]; l++) CHECK(same(a[l], b[l], n[l]));

    /* explicit prefix through the internal loader */
    size_t size = 0;
    uint8_t *data = bt_random_weights("resnet18", 18, "model.backbone.", NULL, NULL, &size, NULL, NULL);
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open_memory(data, size, "test weights", &f));
    free(data);
    ff_backbone *explicit = NULL;
    if (f) {
        CHECK_OK(ff_backbone_load_st("resnet18", f, "model.backbone.", &explicit));
        ff_backbone *wrong = NULL;
        CHECK_STATUS(ff_backbone_load_st("resnet18", f, "other.", &wrong), FF_E_BAD_FORMAT);
        CHECK_MSG("missing tensor 'other.conv1.weight'");
        CHECK(wrong == NULL);
    }
    ff_st_close(f);
    if (explicit) {
        run_small(explicit, in, c, n);
        for (int l = 0; l < 3 && c[l]; l++) CHECK(same(a[l], c[l], n[l]));
        free3(c);
    }

    /* export: the original tensors under a new prefix load back to the
     * same backbone */
    ff_st_writer *w = NULL;
    CHECK_OK(ff_st_writer_create(&w));
    CHECK_OK(ff_backbone_export_tensors(pref, w, "feature_extractor."));
    CHECK_STATUS(ff_backbone_export_tensors(NULL, w, ""), FF_E_INVALID_ARGUMENT);
    uint8_t *bytes = NULL;
    CHECK_OK(ff_st_writer_serialize(w, &bytes, &size));
    ff_st_writer_destroy(w);
    CHECK_OK(ff_st_open_memory(bytes, size, "export", &f));
    if (f) {
        /* 15 convs (stem, 6 blocks x 2, 2 downsample) x (weight + 4 BN
         * tensors), nothing else */
        CHECK(ff_st_count(f) == 15 * 5);
        CHECK(ff_st_find(f, "feature_extractor.layer3.1.bn2.running_var") != NULL);
        CHECK(ff_st_find(f, "feature_extractor.fc.weight") == NULL);
    }
    ff_st_close(f);
    ff_backbone *back = NULL;
    CHECK_OK(ff_backbone_load_from_memory("resnet18", bytes, size, &back));
    free(bytes);
    if (back) {
        run_small(back, in, d, n);
        for (int l = 0; l < 3 && d[l]; l++) CHECK(same(a[l], d[l], n[l]));
        free3(d);
    }
    ff_backbone_destroy(back);
    ff_backbone_destroy(explicit);
    free3(a);
    free3(b);
done:
    ff_backbone_destroy(plain);
    ff_backbone_destroy(pref);
    free(in);
}

/* ---- half-precision weights, ambiguous prefixes ----------------------------- */

/* Rewrites every F32 tensor of a serialised file as F16 (to_half = 1) or
 * as the F32 widening of those F16 values (to_half = 0), with `prefix`
 * prepended to every name. */
static uint8_t *rewrite(const uint8_t *data, size_t size, int to_half, const char *prefix, ff_st_writer *into,
                        size_t *size_out) {
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open_memory(data, size, "weights", &f));
    ff_st_writer *w = into;
    if (!w) CHECK_OK(ff_st_writer_create(&w));
    for (size_t i = 0; f && w && i < ff_st_count(f); i++) {
        const ff_st_tensor *t = ff_st_at(f, i);
        char name[512];
        snprintf(name, sizeof name, "%s%s", prefix, t->name);
        if (t->dtype != FF_DT_F32) {
            CHECK_OK(ff_st_writer_add(w, name, t->dtype, t->ndim, t->shape, t->data));
            continue;
        }
        const float *v = (const float *)(const void *)t->data;
        if (to_half) {
            uint16_t *h = malloc((size_t)t->numel * sizeof *h);
            for (int64_t k = 0; k < t->numel; k++) h[k] = ff_f32_to_f16(v[k]);
            CHECK_OK(ff_st_writer_add(w, name, FF_DT_F16, t->ndim, t->shape, h));
            free(h);
        } else {
            float *x = malloc((size_t)t->numel * sizeof *x);
            for (int64_t k = 0; k < t->numel; k++) x[k] = ff_f16_to_f32(ff_f32_to_f16(v[k]));
            CHECK_OK(ff_st_writer_add_f32(w, name, t->ndim, t->shape, x));
            free(x);
        }
    }
    ff_st_close(f);
    uint8_t *out = NULL;
    if (!into) {
        CHECK_OK(ff_st_writer_serialize(w, &out, size_out));
        ff_st_writer_destroy(w);
    }
    return out;
}

static void test_half_and_ambiguous(void) {
    size_t size = 0, hsize = 0, fsize = 0;
    uint8_t *data = bt_random_weights("resnet18", 18, "", NULL, NULL, &size, NULL, NULL);
    uint8_t *half = rewrite(data, size, 1, "", NULL, &hsize);
    uint8_t *wide = rewrite(data, size, 0, "", NULL, &fsize);
    ff_backbone *bh = NULL, *bf = NULL;
    CHECK_OK(ff_backbone_load_from_memory("resnet18", half, hsize, &bh));
    CHECK_OK(ff_backbone_load_from_memory("resnet18", wide, fsize, &bf));
    if (bh && bf) {
        /* F16 weights are read as the same floats as their F32 widening */
        const size_t nin = 2 * 3 * 64 * 96;
        float *in = malloc(nin * sizeof *in);
        for (size_t i = 0; i < nin; i++) in[i] = 4.0f * bt_uniform(5, i) - 2.0f;
        float *a[3], *b[3];
        size_t n[3];
        run_small(bh, in, a, n);
        run_small(bf, in, b, n);
        for (int l = 0; l < 3 && a[l] && b[l]; l++) CHECK(same(a[l], b[l], n[l]));
        free3(a);
        free3(b);
        free(in);
        /* export keeps the original dtype and bytes */
        ff_st_writer *w = NULL;
        uint8_t *bytes = NULL;
        size_t bsize = 0;
        CHECK_OK(ff_st_writer_create(&w));
        CHECK_OK(ff_backbone_export_tensors(bh, w, NULL));
        CHECK_OK(ff_st_writer_serialize(w, &bytes, &bsize));
        ff_st_writer_destroy(w);
        ff_st_file *orig = NULL, *exp = NULL;
        CHECK_OK(ff_st_open_memory(half, hsize, "half", &orig));
        CHECK_OK(ff_st_open_memory(bytes, bsize, "export", &exp));
        const ff_st_tensor *t1 = orig ? ff_st_find(orig, "layer3.1.conv2.weight") : NULL;
        const ff_st_tensor *t2 = exp ? ff_st_find(exp, "layer3.1.conv2.weight") : NULL;
        CHECK(t1 && t2 && t2->dtype == FF_DT_F16 && t1->nbytes == t2->nbytes &&
              memcmp(t1->data, t2->data, t1->nbytes) == 0);
        ff_st_close(orig);
        ff_st_close(exp);
        free(bytes);
    }
    ff_backbone_destroy(bh);
    ff_backbone_destroy(bf);

    /* two ResNets in one file: the public loader refuses it; the internal one takes the prefix */
    ff_st_writer *w = NULL;
    CHECK_OK(ff_st_writer_create(&w));
    rewrite(data, size, 0, "student.", w, NULL);
    rewrite(data, size, 0, "teacher.", w, NULL);
    uint8_t *two = NULL;
    size_t tsize = 0;
    CHECK_OK(ff_st_writer_serialize(w, &two, &tsize));
    ff_st_writer_destroy(w);
    ff_backbone *bb = NULL;
    CHECK_STATUS(ff_backbone_load_from_memory("resnet18", two, tsize, &bb), FF_E_BAD_FORMAT);
    CHECK_MSG("several ResNet models");
    CHECK_MSG("one model per file");
    CHECK_MSG("'student.'");
    CHECK_MSG("'teacher.'");
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open_memory(two, tsize, "two", &f));
    if (f) CHECK_OK(ff_backbone_load_st("resnet18", f, "teacher.", &bb));
    ff_backbone_destroy(bb);
    ff_st_close(f);
    free(two);
    free(data);
    free(half);
    free(wide);
}

/* ---- bad weights ---------------------------------------------------------- */

static void expect_load_error(const char *arch, const char *weights_arch, const char *skip, const char *reshape,
                              ff_status status, const char *msg1, const char *msg2) {
    size_t size = 0;
    uint8_t *data = bt_random_weights(weights_arch, 3, "", skip, reshape, &size, NULL, NULL);
    ff_backbone *bb = NULL;
    CHECK_STATUS(ff_backbone_load_from_memory(arch, data, size, &bb), status);
    CHECK_MSG(msg1);
    if (msg2) CHECK_MSG(msg2);
    CHECK(bb == NULL);
    free(data);
}

static void test_bad_weights(void) {
    /* wrong architecture, both directions and same block type */
    expect_load_error("resnet18", "resnet50", NULL, NULL, FF_E_BAD_FORMAT, "weights are for resnet50", "not resnet18");
    expect_load_error("resnet50", "resnet18", NULL, NULL, FF_E_BAD_FORMAT, "weights are for resnet18", "not resnet50");
    expect_load_error("resnet18", "resnet34", NULL, NULL, FF_E_BAD_FORMAT, "weights are for resnet34", "not resnet18");
    expect_load_error("wide_resnet50_2", "resnet50", NULL, NULL, FF_E_BAD_FORMAT, "weights are for resnet50",
                      "not wide_resnet50_2");
    /* missing and mis-shaped tensors are named with both shapes */
    expect_load_error("resnet18", "resnet18", "layer2.1.bn2.running_var", NULL, FF_E_BAD_FORMAT,
                      "missing tensor 'layer2.1.bn2.running_var'", "[128]");
    expect_load_error("resnet18", "resnet18", "layer2.0.downsample.0.weight", NULL, FF_E_BAD_FORMAT,
                      "missing tensor 'layer2.0.downsample.0.weight'", "[128, 64, 1, 1]");
    expect_load_error("resnet18", "resnet18", NULL, "layer1.1.conv2.weight", FF_E_BAD_FORMAT,
                      "tensor 'layer1.1.conv2.weight' has shape [1, 64, 64, 3, 3]", "expected [64, 64, 3, 3]");
    expect_load_error("resnet34", "resnet34", NULL, "layer3.4.bn1.bias", FF_E_BAD_FORMAT,
                      "'layer3.4.bn1.bias' has shape [1, 256]", "expected [256]");
    expect_load_error("resnet18", "resnet18", "conv1.weight", NULL, FF_E_BAD_FORMAT, "no ResNet weights found",
                      "conv1.weight");
    /* unknown architecture: the supported ones are listed */
    expect_load_error("resnet19", "resnet18", NULL, NULL, FF_E_UNSUPPORTED, "unknown backbone architecture 'resnet19'",
                      "resnet18, resnet34, resnet50, wide_resnet50_2");

    /* a negative variance is refused */
    {
        ff_st_writer *w = NULL;
        size_t size = 0;
        uint8_t *data = bt_random_weights("resnet18", 3, "", "bn1.running_var", NULL, &size, NULL, NULL);
        ff_st_file *f = NULL;
        CHECK_OK(ff_st_open_memory(data, size, "w", &f));
        free(data);
        CHECK_OK(ff_st_writer_create(&w));
        for (size_t i = 0; f && w && i < ff_st_count(f); i++) {
            const ff_st_tensor *t = ff_st_at(f, i);
            CHECK_OK(ff_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data));
        }
        float var[64];
        for (int i = 0; i < 64; i++) var[i] = i == 5 ? -1.0f : 1.0f;
        const int64_t shape[1] = {64};
        CHECK_OK(ff_st_writer_add_f32(w, "bn1.running_var", 1, shape, var));
        uint8_t *bytes = NULL;
        CHECK_OK(ff_st_writer_serialize(w, &bytes, &size));
        ff_backbone *bb = NULL;
        CHECK_STATUS(ff_backbone_load_from_memory("resnet18", bytes, size, &bb), FF_E_BAD_FORMAT);
        CHECK_MSG("bn1.running_var");
        CHECK_MSG("index 5");
        free(bytes);
        ff_st_writer_destroy(w);
        ff_st_close(f);
    }

    /* NULL arguments and unreadable files */
    ff_backbone *bb = NULL;
    const char *tmp = ff_test_tmpdir();
    char path[512];
    snprintf(path, sizeof path, "%s/none.safetensors", tmp);
    CHECK_STATUS(ff_backbone_load("resnet18", path, &bb), FF_E_IO);
    CHECK_MSG("none.safetensors");
    CHECK_STATUS(ff_backbone_load(NULL, path, &bb), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("arch");
    CHECK_STATUS(ff_backbone_load("resnet18", NULL, &bb), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("weights_path");
    CHECK_STATUS(ff_backbone_load("resnet18", path, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("out");
    CHECK_STATUS(ff_backbone_load("vgg16", path, &bb), FF_E_UNSUPPORTED);
    CHECK_MSG("resnet50");
    CHECK_STATUS(ff_backbone_load_from_memory("resnet18", NULL, 10, &bb), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("data");
    const uint8_t junk[16] = {1, 2, 3};
    CHECK_STATUS(ff_backbone_load_from_memory("resnet18", junk, sizeof junk, &bb), FF_E_BAD_FORMAT);
    CHECK(bb == NULL);
}

/* ---- extractor arguments -------------------------------------------------- */

static void test_extractor_args(void) {
    ff_backbone *bb = load_random("resnet18", 18, "");
    if (!bb) return;
    ff_extractor *ex = NULL;
    CHECK_STATUS(ff_extractor_create(NULL, &ex), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("backbone");
    CHECK_STATUS(ff_extractor_create(bb, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("out");
    CHECK_OK(ff_extractor_create(bb, &ex));
    if (!ex) goto done;
    const size_t n = 2 * 3 * 64 * 64;
    float *in = calloc(n, sizeof *in);
    float out[64 * 16 * 16 * 2];
    CHECK_STATUS(ff_extractor_read(ex, 0, out, sizeof out / sizeof out[0]), FF_E_STATE);
    CHECK_MSG("not run");
    CHECK_STATUS(ff_extractor_run(NULL, in, 1, 64, 64), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_extractor_run(ex, NULL, 1, 64, 64), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("input");
    CHECK_STATUS(ff_extractor_run(ex, in, 0, 64, 64), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("batch");
    CHECK_STATUS(ff_extractor_run(ex, in, 4097, 64, 64), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("batch");
    CHECK_STATUS(ff_extractor_run(ex, in, 1, 64, 72), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("height");
    CHECK_STATUS(ff_extractor_run(ex, in, 1, 16, 64), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("width");
    CHECK_STATUS(ff_extractor_run(ex, in, 1, 64, 4112), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("height");

    CHECK_OK(ff_extractor_run(ex, in, 2, 64, 64));
    CHECK_STATUS(ff_extractor_read(ex, 0, out, 64 * 16 * 16 * 2 - 1), FF_E_BUFFER_TOO_SMALL);
    CHECK_MSG("needs 32768 floats");
    CHECK_STATUS(ff_extractor_read(ex, 3, out, sizeof out / sizeof out[0]), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("level");
    CHECK_STATUS(ff_extractor_read(ex, -1, out, sizeof out / sizeof out[0]), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_extractor_read(ex, 0, NULL, 10), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_extractor_read(NULL, 0, out, 10), FF_E_INVALID_ARGUMENT);
    CHECK_OK(ff_extractor_read(ex, 0, out, 64 * 16 * 16 * 2));
    /* an all-zero input gives the same map for both images */
    CHECK(same(out, out + 64 * 16 * 16, 64 * 16 * 16));

    /* NaN / Inf are refused and the previous results stay readable */
    in[n - 1] = NAN;
    CHECK_STATUS(ff_extractor_run(ex, in, 2, 64, 64), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("NaN");
    in[n - 1] = -INFINITY;
    CHECK_STATUS(ff_extractor_run(ex, in, 2, 64, 64), FF_E_INVALID_ARGUMENT);
    in[n - 1] = 0.0f;
    float again[64 * 16 * 16 * 2];
    CHECK_OK(ff_extractor_read(ex, 0, again, sizeof again / sizeof again[0]));
    CHECK(same(out, again, 64 * 16 * 16 * 2));
    free(in);
done:
    ff_extractor_destroy(ex);
    ff_backbone_destroy(bb);
}

/* ---- threads ----------------------------------------------------------------- */

typedef struct job {
    const ff_backbone *bb;
    const float *in;
    float *out[3];
    size_t n[3];
    ff_status st;
} job;

static void *worker(void *arg) {
    job *j = arg;
    ff_extractor *ex = NULL;
    j->st = ff_extractor_create(j->bb, &ex);
    /* several runs, so that the two threads really overlap */
    for (int r = 0; r < 3 && j->st == FF_OK; r++) {
        free3(j->out);
        j->st = bt_extract(j->bb, ex, j->in, 2, 64, 64, j->out, j->n);
    }
    ff_extractor_destroy(ex);
    return NULL;
}

static void test_threads(void) {
    ff_backbone *bb = load_random("resnet34", 34, "");
    if (!bb) return;
    const size_t nin = 2 * 3 * 64 * 64;
    float *in = malloc(nin * sizeof *in);
    for (size_t i = 0; i < nin; i++) in[i] = 4.0f * bt_uniform(11, i) - 2.0f;
    job jobs[3] = {{bb, in, {0}, {0}, 0}, {bb, in, {0}, {0}, 0}, {bb, in, {0}, {0}, 0}};
    worker(&jobs[2]); /* alone, for reference */
    pthread_t t[2];
    for (int i = 0; i < 2; i++) CHECK(pthread_create(&t[i], NULL, worker, &jobs[i]) == 0);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 3; i++) CHECK_OK(jobs[i].st);
    for (int l = 0; l < 3; l++)
        if (jobs[0].out[l] && jobs[1].out[l] && jobs[2].out[l]) {
            CHECK(same(jobs[0].out[l], jobs[1].out[l], jobs[0].n[l]));
            CHECK(same(jobs[0].out[l], jobs[2].out[l], jobs[0].n[l]));
        }
    for (int i = 0; i < 3; i++) free3(jobs[i].out);
    free(in);
    ff_backbone_destroy(bb);
}

int main(void) {
    golden_case("resnet34", 1);
    golden_case("resnet50", 0);
    golden_case("wide_resnet50_2", 1);
    test_api();
    test_prefix_and_export();
    test_half_and_ambiguous();
    test_bad_weights();
    test_extractor_args();
    test_threads();
    return ff_test_finish();
}
