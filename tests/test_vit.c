/* Transformer backbones (DeiT, CaiT) against the PyTorch reference of
 * timm's blocks (tools/reference/vit_ref.py) on reduced configurations
 * with random weights (tools/reference/gen_vit_golden.py): features to
 * 1e-4 x max|ref| through the runner and through the public backbone API,
 * batching, export round trip, bad weights and bad arguments. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "backbone/backbone.h"
#include "backbone/vit_forward.h"
#include "backbone/vit_model.h"
#include "test_util.h"

#define TOL 1e-4

static const float *golden(const ff_st_file *g, const char *name, size_t *count) {
    const ff_st_tensor *t = ff_st_find(g, name);
    CHECK(t != NULL && t->dtype == FF_DT_F32);
    if (!t) return NULL;
    *count = (size_t)t->numel;
    return (const float *)(const void *)t->data;
}

/* Runs the model on `n` images of the golden input starting at `first`. */
static float *run(const ff_vit_model *m, const float *input, int32_t first, int32_t n, size_t *count) {
    const size_t img = (size_t)3 * (size_t)m->arch->img * (size_t)m->arch->img;
    ff_vit_runner *r = NULL;
    CHECK_OK(ff_vit_runner_create(m, &r));
    if (!r) return NULL;
    float *copy = NULL;
    CHECK_OK(ff_vit_runner_run(r, input + (size_t)first * img, n));
    size_t c = 0;
    const float *f = ff_vit_runner_features(r, &c);
    CHECK(f != NULL);
    if (f) {
        copy = malloc(c * sizeof *copy);
        memcpy(copy, f, c * sizeof *copy);
        *count = c;
    }
    ff_vit_runner_destroy(r);
    return copy;
}

static void golden_case(const char *family) {
    char file[64], arch_name[64];
    snprintf(file, sizeof file, "vit_%s_tiny.safetensors", family);
    snprintf(arch_name, sizeof arch_name, "%s_tiny_test", family);
    ff_st_file *g = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path(file), &g));
    if (!g) return;
    const ff_vit_arch *a = ff_vit_arch_find(arch_name);
    CHECK(a != NULL);
    char prefix[64];
    CHECK_OK(ff_st_detect_prefix(g, "patch_embed.proj.weight", NULL, "vision-transformer", prefix, sizeof prefix));
    CHECK(strcmp(prefix, "") == 0);
    ff_vit_model *m = NULL;
    CHECK_OK(ff_vit_model_load(a, g, prefix, &m));
    size_t nin = 0, nref = 0, nout = 0;
    const float *input = golden(g, "golden.input", &nin);
    const float *ref = golden(g, "golden.features", &nref);
    if (m && input && ref) {
        float *got = run(m, input, 0, 2, &nout);
        CHECK(nout == nref);
        char what[96];
        snprintf(what, sizeof what, "%s features, batch 2", arch_name);
        if (got && nout == nref) CHECK(ff_test_close_rel_max(what, got, ref, nref, TOL));
        /* one image at a time gives the same numbers as the batch */
        size_t n1 = 0;
        float *one = run(m, input, 1, 1, &n1);
        CHECK(n1 * 2 == nref);
        snprintf(what, sizeof what, "%s features, image 1 alone", arch_name);
        if (one && n1 * 2 == nref) CHECK(ff_test_close_rel_max(what, one, ref + n1, n1, TOL));
        free(one);
        free(got);
    }
    ff_vit_model_free(m);
    ff_st_close(g);
}

/* ---- public API ------------------------------------------------------------ */

static float *extract(const ff_backbone *bb, const float *input, int32_t n, int32_t side, size_t count) {
    ff_extractor *ex = NULL;
    CHECK_OK(ff_extractor_create(bb, &ex));
    float *out = calloc(count, sizeof *out);
    if (ex) {
        CHECK_OK(ff_extractor_run(ex, input, n, side, side));
        CHECK_OK(ff_extractor_read(ex, 0, out, count));
        /* one level only, and the buffer must hold it */
        CHECK_STATUS(ff_extractor_read(ex, 1, out, count), FF_E_INVALID_ARGUMENT);
        CHECK_MSG("level must be in [0, 0]");
        CHECK_STATUS(ff_extractor_read(ex, 0, out, count - 1), FF_E_BUFFER_TOO_SMALL);
        /* the fixed input side */
        CHECK_STATUS(ff_extractor_run(ex, input, 1, side, side + 16), FF_E_INVALID_ARGUMENT);
        CHECK_MSG("inputs only");
    }
    ff_extractor_destroy(ex);
    return out;
}

static void public_case(const char *family) {
    char file[64], arch[64];
    snprintf(file, sizeof file, "vit_%s_tiny.safetensors", family);
    snprintf(arch, sizeof arch, "%s_tiny_test", family);
    ff_backbone *bb = NULL;
    CHECK_OK(ff_backbone_load(arch, ff_test_golden_path(file), &bb));
    ff_st_file *g = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path(file), &g));
    if (!bb || !g) {
        ff_backbone_destroy(bb);
        ff_st_close(g);
        return;
    }
    CHECK(strcmp(ff_backbone_arch(bb), arch) == 0);
    CHECK(ff_backbone_uses_layernorm(bb) == 0);
    ff_backbone_flow_defaults fd;
    ff_backbone_get_flow_defaults(bb, &fd);
    CHECK(fd.input_side == 64 && fd.steps == 20 && fd.conv3x3_only == 0 && fabsf(fd.hidden_ratio - 0.16f) < 1e-7f);
    int32_t levels = 0, c = 0, h = 0, w = 0;
    CHECK_OK(ff_backbone_num_levels(bb, &levels));
    CHECK(levels == 1);
    CHECK_OK(ff_backbone_level_shape(bb, 0, 64, 64, &c, &w, &h));
    CHECK(c == 64 && h == 4 && w == 4);
    CHECK_STATUS(ff_backbone_level_shape(bb, 0, 128, 128, &c, &w, &h), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("takes 64x64 inputs only");
    CHECK_STATUS(ff_backbone_level_shape(bb, 1, 64, 64, &c, &w, &h), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("one feature map");

    size_t nin = 0, nref = 0;
    const float *input = golden(g, "golden.input", &nin);
    const float *ref = golden(g, "golden.features", &nref);
    float *got = input && ref ? extract(bb, input, 2, 64, nref) : NULL;
    char what[96];
    snprintf(what, sizeof what, "%s features through ff_extractor", arch);
    if (got) CHECK(ff_test_close_rel_max(what, got, ref, nref, TOL));

    /* export under a prefix, load back (prefix detected): same numbers */
    ff_st_writer *wr = NULL;
    CHECK_OK(ff_st_writer_create(&wr));
    uint8_t *data = NULL;
    size_t size = 0;
    if (wr) {
        CHECK_OK(ff_backbone_export_tensors(bb, wr, "feature_extractor."));
        CHECK_OK(ff_st_writer_serialize(wr, &data, &size));
    }
    ff_st_writer_destroy(wr);
    ff_backbone *bb2 = NULL;
    if (data) CHECK_OK(ff_backbone_load_from_memory(arch, data, size, &bb2));
    if (bb2 && got) {
        float *again = extract(bb2, input, 2, 64, nref);
        CHECK(memcmp(again, got, nref * sizeof *got) == 0);
        free(again);
        /* only the used tensors are kept: no head, no golden.* */
        ff_st_file *e = NULL;
        CHECK_OK(ff_st_open_memory(data, size, "export", &e));
        if (e) {
            CHECK(ff_st_find(e, "feature_extractor.head.weight") == NULL);
            CHECK(ff_st_find(e, "feature_extractor.golden.input") == NULL);
            CHECK(ff_st_find(e, "feature_extractor.blocks.2.mlp.fc2.bias") != NULL);
            CHECK(ff_st_find(e, "feature_extractor.pos_embed") != NULL);
        }
        ff_st_close(e);
    }
    ff_backbone_destroy(bb2);
    free(data);
    free(got);

    /* configuration metadata: written, accepted back, a tampered value rejected */
    const char *family_value = strcmp(family, "deit") == 0 ? "deit" : "cait";
    for (int tamper = 0; tamper < 2; tamper++) {
        ff_st_writer *mw = NULL;
        CHECK_OK(ff_st_writer_create(&mw));
        uint8_t *md = NULL;
        size_t msize = 0;
        if (mw) {
            CHECK_OK(ff_backbone_write_meta(bb, mw));
            if (tamper) CHECK_OK(ff_st_writer_set_meta(mw, "backbone_num_heads", "8"));
            CHECK_OK(ff_st_writer_serialize(mw, &md, &msize));
        }
        ff_st_writer_destroy(mw);
        ff_st_file *mf = NULL;
        if (md) CHECK_OK(ff_st_open_memory(md, msize, "meta", &mf));
        if (mf) {
            CHECK(strcmp(ff_st_meta(mf, "backbone_family"), family_value) == 0);
            CHECK(strcmp(ff_st_meta(mf, "backbone_embed_dim"), "64") == 0);
            CHECK(strcmp(ff_st_meta(mf, "backbone_prefix_tokens"), family_value[0] == 'd' ? "2" : "0") == 0);
            if (tamper) {
                CHECK_STATUS(ff_backbone_check_meta(bb, mf), FF_E_BAD_FORMAT);
                CHECK_MSG("metadata backbone_num_heads is '8'");
            } else {
                CHECK_OK(ff_backbone_check_meta(bb, mf));
            }
        }
        ff_st_close(mf);
        free(md);
    }
    ff_backbone_destroy(bb);
    ff_st_close(g);
}

/* ---- threads ---------------------------------------------------------------- */

typedef struct thread_job {
    const ff_backbone *bb;
    const float *input;
    size_t count;
    float *out;
    ff_status st;
} thread_job;

/* Each thread owns an extractor over the shared backbone and runs it a few
 * times (no CHECK here: the counters are not thread-safe). */
static void *thread_main(void *arg) {
    thread_job *j = arg;
    ff_extractor *ex = NULL;
    j->st = ff_extractor_create(j->bb, &ex);
    for (int i = 0; i < 3 && j->st == FF_OK; i++) j->st = ff_extractor_run(ex, j->input, 2, 64, 64);
    if (j->st == FF_OK) j->st = ff_extractor_read(ex, 0, j->out, j->count);
    ff_extractor_destroy(ex);
    return NULL;
}

static void threads_case(void) {
    ff_backbone *bb = NULL;
    CHECK_OK(ff_backbone_load("cait_tiny_test", ff_test_golden_path("vit_cait_tiny.safetensors"), &bb));
    ff_st_file *g = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path("vit_cait_tiny.safetensors"), &g));
    size_t nin = 0, nref = 0;
    const float *input = g ? golden(g, "golden.input", &nin) : NULL;
    const float *ref = g ? golden(g, "golden.features", &nref) : NULL;
    if (bb && input && ref) {
        thread_job jobs[3];
        pthread_t tid[3];
        for (int i = 0; i < 3; i++) {
            jobs[i] = (thread_job){bb, input, nref, calloc(nref, sizeof(float)), FF_OK};
            CHECK(pthread_create(&tid[i], NULL, thread_main, &jobs[i]) == 0);
        }
        for (int i = 0; i < 3; i++) pthread_join(tid[i], NULL);
        CHECK(ff_test_close_rel_max("cait_tiny_test, thread 0", jobs[0].out, ref, nref, TOL));
        for (int i = 0; i < 3; i++) {
            CHECK(jobs[i].st == FF_OK);
            CHECK(memcmp(jobs[i].out, jobs[0].out, nref * sizeof(float)) == 0);
        }
        for (int i = 0; i < 3; i++) free(jobs[i].out);
    }
    ff_st_close(g);
    ff_backbone_destroy(bb);
}

/* ---- bad weights ---------------------------------------------------------- */

/* The golden weights of `family`, without tensor `drop` and with tensor
 * `poison` (if any) holding a NaN, serialised. */
static uint8_t *edited(const char *family, const char *drop, const char *poison, size_t *size) {
    char file[64];
    snprintf(file, sizeof file, "vit_%s_tiny.safetensors", family);
    ff_st_file *g = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path(file), &g));
    ff_st_writer *w = NULL;
    CHECK_OK(ff_st_writer_create(&w));
    uint8_t *data = NULL;
    for (size_t i = 0; g && w && i < ff_st_count(g); i++) {
        const ff_st_tensor *t = ff_st_at(g, i);
        if (drop && strcmp(t->name, drop) == 0) continue;
        float *copy = malloc(t->nbytes ? t->nbytes : 1);
        memcpy(copy, t->data, t->nbytes);
        if (poison && strcmp(t->name, poison) == 0) copy[t->numel - 1] = NAN;
        CHECK_OK(ff_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, copy));
        free(copy);
    }
    if (w) CHECK_OK(ff_st_writer_serialize(w, &data, size));
    ff_st_writer_destroy(w);
    ff_st_close(g);
    return data;
}

static void expect_load_error(const char *arch, const uint8_t *data, size_t size, ff_status want,
                              const char *fragment) {
    ff_backbone *bb = NULL;
    CHECK_STATUS(ff_backbone_load_from_memory(arch, data, size, &bb), want);
    CHECK_MSG(fragment);
    CHECK(bb == NULL);
}

static void bad_weights(void) {
    size_t size = 0;
    uint8_t *data = edited("deit", "blocks.1.attn.proj.bias", NULL, &size);
    if (data)
        expect_load_error("deit_tiny_test", data, size, FF_E_BAD_FORMAT, "missing tensor 'blocks.1.attn.proj.bias'");
    free(data);
    data = edited("deit", NULL, "blocks.2.mlp.fc1.weight", &size);
    if (data)
        expect_load_error("deit_tiny_test", data, size, FF_E_BAD_FORMAT,
                          "tensor 'blocks.2.mlp.fc1.weight' holds a non-finite value");
    free(data);
    data = edited("cait", "blocks.0.gamma_2", NULL, &size);
    if (data) expect_load_error("cait_tiny_test", data, size, FF_E_BAD_FORMAT, "missing tensor 'blocks.0.gamma_2'");
    free(data);
    /* the other family, and another size of the same family */
    data = edited("cait", NULL, NULL, &size);
    if (data) {
        expect_load_error("deit_tiny_test", data, size, FF_E_BAD_FORMAT, "are for a CaiT model");
        expect_load_error("cait_s24_224", data, size, FF_E_BAD_FORMAT,
                          "tensor 'patch_embed.proj.weight' has shape [64, 3, 16, 16], expected [384, 3, 16, 16]");
    }
    free(data);
    data = edited("deit", NULL, NULL, &size);
    if (data) {
        expect_load_error("cait_tiny_test", data, size, FF_E_BAD_FORMAT, "are for a distilled DeiT model");
        expect_load_error("resnet18", data, size, FF_E_BAD_FORMAT, "no ResNet weights found");
    }
    free(data);
    data = edited("deit", "patch_embed.proj.weight", NULL, &size);
    if (data)
        expect_load_error("deit_tiny_test", data, size, FF_E_BAD_FORMAT,
                          "no vision-transformer weights found: no tensor named 'patch_embed.proj.weight'");
    free(data);
    ff_backbone *bb = NULL;
    CHECK_STATUS(ff_backbone_load("deit_tiny", ff_test_golden_path("vit_deit_tiny.safetensors"), &bb),
                 FF_E_UNSUPPORTED);
    CHECK_MSG("cait_m48_448");
}

int main(void) {
    golden_case("deit");
    golden_case("cait");
    public_case("deit");
    public_case("cait");
    threads_case();
    bad_weights();
    return ff_test_finish();
}
