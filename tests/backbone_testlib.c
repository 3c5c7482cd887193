#include "backbone_testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backbone/resnet_arch.h"
#include "test_util.h"

float bt_uniform(uint64_t seed, uint64_t i) {
    uint64_t z = seed + (i + 1) * UINT64_C(0x9E3779B97F4A7C15);
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    z ^= z >> 31;
    return (float)(z >> 40) * (1.0f / 16777216.0f);
}

enum { KIND_CONV, KIND_GAMMA, KIND_SHIFT, KIND_VAR };

static int add(ff_st_writer *w, const char *prefix, const char *base, const char *suffix, int kind,
               int32_t ndim, const int64_t *shape, uint64_t seed, uint64_t *pos, const char *skip,
               const char *reshape, float first[8], float last[8]) {
    char plain[256], full[512];
    snprintf(plain, sizeof plain, "%s%s", base, suffix);
    snprintf(full, sizeof full, "%s%s", prefix, plain);
    size_t n = 1;
    for (int32_t i = 0; i < ndim; i++) n *= (size_t)shape[i];
    float *v = malloc(n * sizeof *v);
    if (!v) return 0;
    const float a = kind == KIND_CONV ? (float)sqrt(6.0 / (double)(shape[1] * shape[2] * shape[3])) : 0.0f;
    for (size_t i = 0; i < n; i++) {
        const float u = bt_uniform(seed, *pos + i);
        switch (kind) {
        case KIND_CONV: v[i] = (2.0f * u - 1.0f) * a; break;
        case KIND_SHIFT: v[i] = 0.2f * u - 0.1f; break;
        default: v[i] = u + 0.5f; break; /* BN weight and running_var */
        }
    }
    if (*pos == 0 && first) memcpy(first, v, 8 * sizeof *v);
    if (last) memcpy(last, v + n - 8, 8 * sizeof *v);
    *pos += n;
    int ok = 1;
    if (!skip || strcmp(skip, plain) != 0) {
        int64_t sh[FF_ST_MAX_DIMS];
        int32_t nd = ndim;
        if (reshape && strcmp(reshape, plain) == 0) {
            sh[0] = 1;
            memcpy(sh + 1, shape, (size_t)ndim * sizeof *sh);
            nd = ndim + 1;
        } else {
            memcpy(sh, shape, (size_t)ndim * sizeof *sh);
        }
        ok = ff_st_writer_add_f32(w, full, nd, sh, v) == FF_OK;
    }
    free(v);
    return ok;
}

uint8_t *bt_random_weights(const char *arch, uint64_t seed, const char *prefix, const char *skip,
                           const char *reshape, size_t *size_out, float first[8], float last[8]) {
    const ff_resnet_arch *a = ff_resnet_arch_find(arch);
    if (!a) return NULL;
    ff_resnet_layout L;
    ff_resnet_layout_init(a, &L);
    ff_st_writer *w = NULL;
    if (ff_st_writer_create(&w) != FF_OK) return NULL;
    uint64_t pos = 0;
    int ok = 1;
    char name[512];
    for (int32_t i = 0; i < L.nconv && ok; i++) {
        const ff_conv_spec *c = &L.convs[i];
        const int64_t ws[4] = {c->oc, c->ic, c->k, c->k}, vs[1] = {c->oc};
        ok = add(w, prefix, c->conv, ".weight", KIND_CONV, 4, ws, seed, &pos, skip, reshape, first, last) &&
             add(w, prefix, c->bn, ".weight", KIND_GAMMA, 1, vs, seed, &pos, skip, reshape, first, last) &&
             add(w, prefix, c->bn, ".bias", KIND_SHIFT, 1, vs, seed, &pos, skip, reshape, first, last) &&
             add(w, prefix, c->bn, ".running_mean", KIND_SHIFT, 1, vs, seed, &pos, skip, reshape, first, last) &&
             add(w, prefix, c->bn, ".running_var", KIND_VAR, 1, vs, seed, &pos, skip, reshape, first, last);
        /* as in torchvision checkpoints; the loader ignores these */
        const int64_t one = 1;
        snprintf(name, sizeof name, "%s%s.num_batches_tracked", prefix, c->bn);
        if (ok) ok = ff_st_writer_add_i64(w, name, 0, &one, &one) == FF_OK;
    }
    const int64_t fc_shape[2] = {10, 4};
    float fc[40] = {0};
    snprintf(name, sizeof name, "%sfc.weight", prefix);
    if (ok) ok = ff_st_writer_add_f32(w, name, 2, fc_shape, fc) == FF_OK;
    uint8_t *data = NULL;
    if (ok && ff_st_writer_serialize(w, &data, size_out) != FF_OK) data = NULL;
    ff_st_writer_destroy(w);
    return data;
}

ff_status bt_extract(const ff_backbone *bb, ff_extractor *ex, const float *input, int32_t batch, int32_t w,
                     int32_t h, float *levels[3], size_t counts[3]) {
    for (int l = 0; l < 3; l++) levels[l] = NULL;
    ff_status st = ff_extractor_run(ex, input, batch, w, h);
    for (int l = 0; l < 3 && st == FF_OK; l++) {
        int32_t c, lh, lw;
        st = ff_backbone_level_shape(bb, l, w, h, &c, &lw, &lh);
        if (st != FF_OK) break;
        counts[l] = (size_t)batch * (size_t)c * (size_t)lh * (size_t)lw;
        levels[l] = malloc(counts[l] * sizeof(float));
        if (!levels[l]) st = FF_E_OUT_OF_MEMORY;
        if (st == FF_OK) st = ff_extractor_read(ex, l, levels[l], counts[l]);
    }
    if (st != FF_OK)
        for (int l = 0; l < 3; l++) {
            free(levels[l]);
            levels[l] = NULL;
        }
    return st;
}

float *bt_golden(const ff_st_file *f, const char *name, size_t *count) {
    const ff_st_tensor *t = ff_st_find(f, name);
    if (!t) {
        fprintf(stderr, "golden tensor '%s' missing\n", name);
        return NULL;
    }
    float *v = malloc((size_t)t->numel * sizeof *v);
    if (v && ff_st_read_f32(f, name, t->ndim, t->shape, v) != FF_OK) {
        free(v);
        v = NULL;
    }
    if (count) *count = (size_t)t->numel;
    return v;
}

int bt_check_levels(const ff_st_file *g, float *const got[3], const size_t counts[3], const char *label, double tol) {
    int identical = 0;
    for (int l = 0; l < 3 && got[l]; l++) {
        char name[32], what[160];
        snprintf(name, sizeof name, "features.%d", l);
        size_t n = 0;
        float *ref = bt_golden(g, name, &n);
        CHECK(ref && n == counts[l]);
        snprintf(what, sizeof what, "%s level %d", label, l);
        if (ref && n == counts[l]) {
            ff_test_close_rel_max(what, got[l], ref, n, tol);
            identical += memcmp(got[l], ref, n * sizeof *ref) == 0;
        }
        free(ref);
    }
    return identical;
}
