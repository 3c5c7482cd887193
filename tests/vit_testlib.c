#include "vit_testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"

typedef struct gen {
    ff_st_writer *w;
    ff_rng rng;
    const char *prefix;
    ff_dtype dtype;
    int ok;
} gen;

/* Adds tensor `name` filled with center + half_width * U(-1, 1). */
static void add(gen *g, const char *name, int32_t ndim, const int64_t *shape, double center, double half_width) {
    if (!g->ok) return;
    size_t n = 1;
    for (int32_t i = 0; i < ndim; i++) n *= (size_t)shape[i];
    const size_t esize = g->dtype == FF_DT_F16 ? 2 : 4;
    void *buf = malloc(n * esize);
    if (!buf) {
        g->ok = 0;
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const float v = (float)(center + half_width * (2.0 * ff_rng_uniform(&g->rng) - 1.0));
        if (g->dtype == FF_DT_F16) ((uint16_t *)buf)[i] = ff_f32_to_f16(v);
        else ((float *)buf)[i] = v;
    }
    char full[256];
    snprintf(full, sizeof full, "%s%s", g->prefix, name);
    if (ff_st_writer_add(g->w, full, g->dtype, ndim, shape, buf) != FF_OK) g->ok = 0;
    free(buf);
}

static void add_linear(gen *g, const char *base, int64_t out, int64_t in) {
    char name[128];
    const int64_t ws[2] = {out, in}, bs[1] = {out};
    snprintf(name, sizeof name, "%s.weight", base);
    add(g, name, 2, ws, 0.0, 1.7 / sqrt((double)in));
    snprintf(name, sizeof name, "%s.bias", base);
    add(g, name, 1, bs, 0.0, 0.1);
}

static void add_norm(gen *g, const char *base, int64_t dim) {
    char name[128];
    const int64_t s[1] = {dim};
    snprintf(name, sizeof name, "%s.weight", base);
    add(g, name, 1, s, 1.0, 0.2);
    snprintf(name, sizeof name, "%s.bias", base);
    add(g, name, 1, s, 0.0, 0.1);
}

uint8_t *vt_random_weights(const ff_vit_arch *a, uint64_t seed, const char *prefix, ff_dtype dtype,
                           size_t *size_out) {
    gen g = {NULL, {{0}}, prefix ? prefix : "", dtype, 1};
    if (ff_st_writer_create(&g.w) != FF_OK) return NULL;
    ff_rng_seed(&g.rng, seed);
    const int64_t D = a->embed, p = a->patch, T = ff_vit_tokens(a), H = a->heads;
    const int64_t pw[4] = {D, 3, p, p}, vD[1] = {D}, tok[3] = {1, 1, D}, pos[3] = {1, T, D};
    add(&g, "patch_embed.proj.weight", 4, pw, 0.0, 1.7 / sqrt(3.0 * (double)(p * p)));
    add(&g, "patch_embed.proj.bias", 1, vD, 0.0, 0.1);
    if (a->family == FF_VIT_DEIT) {
        add(&g, "cls_token", 3, tok, 0.0, 0.3);
        add(&g, "dist_token", 3, tok, 0.0, 0.3);
    }
    add(&g, "pos_embed", 3, pos, 0.0, 0.3);
    for (int32_t b = 0; b < a->used_blocks; b++) {
        char base[96];
#define NAME(part) (snprintf(base, sizeof base, "blocks.%d.%s", (int)b, part), base)
        add_norm(&g, NAME("norm1"), D);
        add_linear(&g, NAME("attn.qkv"), 3 * D, D);
        add_linear(&g, NAME("attn.proj"), D, D);
        add_norm(&g, NAME("norm2"), D);
        add_linear(&g, NAME("mlp.fc1"), a->mlp_hidden, D);
        add_linear(&g, NAME("mlp.fc2"), D, a->mlp_hidden);
        if (a->family == FF_VIT_CAIT) {
            add_linear(&g, NAME("attn.proj_l"), H, H);
            add_linear(&g, NAME("attn.proj_w"), H, H);
            add(&g, NAME("gamma_1"), 1, vD, 0.1, 0.05);
            add(&g, NAME("gamma_2"), 1, vD, 0.1, 0.05);
        }
#undef NAME
    }
    add_norm(&g, "norm", D);
    uint8_t *data = NULL;
    if (g.ok && ff_st_writer_serialize(g.w, &data, size_out) != FF_OK) data = NULL;
    ff_st_writer_destroy(g.w);
    return data;
}
