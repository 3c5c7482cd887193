/* Loading a timm DeiT / CaiT state dict: prefix detection, family and
 * shape checks, conversion to float32, export. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backbone/vit_model.h"
#include "core/error.h"
#include "core/memory.h"

typedef struct loader {
    const ff_st_file *f;
    const char *prefix;
    ff_vit_model *m;
} loader;

static const ff_st_tensor *lookup(const loader *ld, const char *name) {
    char full[FF_ST_NAME_CAP];
    if ((size_t)snprintf(full, sizeof full, "%s%s", ld->prefix, name) >= sizeof full) return NULL;
    return ff_st_find(ld->f, full);
}

/* Checks, converts and records tensor `name` of the given shape. With
 * optional = 1 an absent tensor gives *out = NULL. */
static ff_status take(loader *ld, const char *name, int32_t ndim, const int64_t *shape, int optional,
                      const float **out) {
    char full[FF_ST_NAME_CAP];
    if ((size_t)snprintf(full, sizeof full, "%s%s", ld->prefix, name) >= sizeof full)
        return ff_fail(FF_E_INVALID_ARGUMENT, "tensor name prefix too long (%zu bytes)", strlen(ld->prefix));
    const ff_st_tensor *t = NULL;
    FF_TRY(ff_st_find_float(ld->f, full, ndim, shape, ld->m->arch->name, optional, &t));
    if (!t) {
        *out = NULL;
        return FF_OK;
    }
    ff_vit_model *m = ld->m;
    if (m->ntensors == m->tensor_cap) {
        const size_t cap = m->tensor_cap ? 2 * m->tensor_cap : 64;
        ff_vit_tensor *r = realloc(m->tensors, cap * sizeof *r);
        if (!r) return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory keeping tensor '%s'", full);
        m->tensors = r;
        m->tensor_cap = cap;
    }
    ff_vit_tensor *r = &m->tensors[m->ntensors];
    memset(r, 0, sizeof *r);
    r->count = (size_t)t->numel;
    r->name = ff_strdup(name);
    ff_status st = r->name ? ff_alloc_floats(r->count ? r->count : 1, full, &r->data)
                           : ff_fail(FF_E_OUT_OF_MEMORY, "out of memory keeping tensor '%s'", full);
    if (st == FF_OK) st = ff_st_read_f32(ld->f, full, ndim, shape, r->data);
    for (size_t i = 0; st == FF_OK && i < r->count; i++)
        if (!isfinite(r->data[i]))
            st = ff_fail(FF_E_BAD_FORMAT, "tensor '%s' holds a non-finite value at index %zu", full, i);
    if (st != FF_OK) {
        free(r->name);
        ff_free(r->data);
        return st;
    }
    r->dtype = t->dtype;
    r->ndim = t->ndim;
    memcpy(r->shape, t->shape, sizeof r->shape);
    m->ntensors++;
    *out = r->data;
    return FF_OK;
}

static ff_status take_block_tensor(loader *ld, int32_t b, const char *part, int32_t ndim, const int64_t *shape,
                                   int optional, const float **out) {
    char name[FF_ST_NAME_CAP];
    snprintf(name, sizeof name, "blocks.%d.%s", (int)b, part);
    return take(ld, name, ndim, shape, optional, out);
}

/* proj_l / proj_w as one [H, H+1] matrix: the weight, then the bias as an
 * extra column, so that one matmul against the attention maps stacked on
 * a row of ones applies both. */
static ff_status talking_matrix(int32_t H, const float *w, const float *b, float **out) {
    float *m = NULL;
    FF_TRY(ff_alloc_floats((size_t)H * (size_t)(H + 1), "talking-heads weights", &m));
    for (int32_t g = 0; g < H; g++) {
        for (int32_t h = 0; h < H; h++) m[g * (H + 1) + h] = w[g * H + h];
        m[g * (H + 1) + H] = b[g];
    }
    *out = m;
    return FF_OK;
}

static ff_status load_block(loader *ld, int32_t b) {
    const ff_vit_arch *a = ld->m->arch;
    ff_vit_block_weights *bw = &ld->m->blocks[b];
    const int64_t D = a->embed, M = a->mlp_hidden, H = a->heads;
    const int64_t vD[1] = {D}, v3D[1] = {3 * D}, vM[1] = {M}, vH[1] = {H};
    const int64_t qkv[2] = {3 * D, D}, proj[2] = {D, D}, fc1[2] = {M, D}, fc2[2] = {D, M}, talk[2] = {H, H};
    FF_TRY(take_block_tensor(ld, b, "norm1.weight", 1, vD, 0, &bw->norm1_w));
    FF_TRY(take_block_tensor(ld, b, "norm1.bias", 1, vD, 0, &bw->norm1_b));
    FF_TRY(take_block_tensor(ld, b, "attn.qkv.weight", 2, qkv, 0, &bw->qkv_w));
    FF_TRY(take_block_tensor(ld, b, "attn.qkv.bias", 1, v3D, 1, &bw->qkv_b));
    FF_TRY(take_block_tensor(ld, b, "attn.proj.weight", 2, proj, 0, &bw->proj_w));
    FF_TRY(take_block_tensor(ld, b, "attn.proj.bias", 1, vD, 0, &bw->proj_b));
    FF_TRY(take_block_tensor(ld, b, "norm2.weight", 1, vD, 0, &bw->norm2_w));
    FF_TRY(take_block_tensor(ld, b, "norm2.bias", 1, vD, 0, &bw->norm2_b));
    FF_TRY(take_block_tensor(ld, b, "mlp.fc1.weight", 2, fc1, 0, &bw->fc1_w));
    FF_TRY(take_block_tensor(ld, b, "mlp.fc1.bias", 1, vM, 0, &bw->fc1_b));
    FF_TRY(take_block_tensor(ld, b, "mlp.fc2.weight", 2, fc2, 0, &bw->fc2_w));
    FF_TRY(take_block_tensor(ld, b, "mlp.fc2.bias", 1, vD, 0, &bw->fc2_b));
    if (a->family != FF_VIT_CAIT) return FF_OK;
    const float *lw, *lb, *ww, *wb;
    FF_TRY(take_block_tensor(ld, b, "attn.proj_l.weight", 2, talk, 0, &lw));
    FF_TRY(take_block_tensor(ld, b, "attn.proj_l.bias", 1, vH, 0, &lb));
    FF_TRY(take_block_tensor(ld, b, "attn.proj_w.weight", 2, talk, 0, &ww));
    FF_TRY(take_block_tensor(ld, b, "attn.proj_w.bias", 1, vH, 0, &wb));
    FF_TRY(take_block_tensor(ld, b, "gamma_1", 1, vD, 0, &bw->gamma_1));
    FF_TRY(take_block_tensor(ld, b, "gamma_2", 1, vD, 0, &bw->gamma_2));
    FF_TRY(talking_matrix(a->heads, lw, lb, &bw->talk_l));
    return talking_matrix(a->heads, ww, wb, &bw->talk_w);
}

/* A DeiT file has dist_token and no LayerScale; a CaiT trunk the reverse. */
static ff_status check_family(const loader *ld) {
    const ff_vit_arch *a = ld->m->arch;
    const int has_dist = lookup(ld, "dist_token") != NULL;
    const int has_gamma = lookup(ld, "blocks.0.gamma_1") != NULL;
    if (a->family == FF_VIT_DEIT && !has_dist && has_gamma)
        return ff_fail(FF_E_BAD_FORMAT,
                       "the weights are for a CaiT model (blocks.0.gamma_1 present, no dist_token), not %s",
                       a->name);
    if (a->family == FF_VIT_CAIT && has_dist)
        return ff_fail(FF_E_BAD_FORMAT, "the weights are for a distilled DeiT model (dist_token present), not %s",
                       a->name);
    return FF_OK;
}

static ff_status load_all(loader *ld) {
    ff_vit_model *m = ld->m;
    const ff_vit_arch *a = m->arch;
    FF_TRY(check_family(ld));
    const int64_t D = a->embed, p = a->patch, T = ff_vit_tokens(a);
    const int64_t pw[4] = {D, 3, p, p}, vD[1] = {D}, tok[3] = {1, 1, D}, pos[3] = {1, T, D};
    FF_TRY(take(ld, "patch_embed.proj.weight", 4, pw, 0, &m->patch_w));
    FF_TRY(take(ld, "patch_embed.proj.bias", 1, vD, 0, &m->patch_b));
    if (a->family == FF_VIT_DEIT) {
        FF_TRY(take(ld, "cls_token", 3, tok, 0, &m->cls_token));
        FF_TRY(take(ld, "dist_token", 3, tok, 0, &m->dist_token));
    }
    FF_TRY(take(ld, "pos_embed", 3, pos, 0, &m->pos_embed));
    m->blocks = calloc((size_t)a->used_blocks, sizeof *m->blocks);
    if (!m->blocks) return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory creating %s", a->name);
    for (int32_t b = 0; b < a->used_blocks; b++) FF_TRY(load_block(ld, b));
    FF_TRY(take(ld, "norm.weight", 1, vD, 0, &m->norm_w));
    return take(ld, "norm.bias", 1, vD, 0, &m->norm_b);
}

void ff_vit_model_free(ff_vit_model *m) {
    if (!m) return;
    if (m->blocks)
        for (int32_t b = 0; b < m->arch->used_blocks; b++) {
            ff_free(m->blocks[b].talk_l);
            ff_free(m->blocks[b].talk_w);
        }
    free(m->blocks);
    for (size_t i = 0; i < m->ntensors; i++) {
        free(m->tensors[i].name);
        ff_free(m->tensors[i].data);
    }
    free(m->tensors);
    free(m);
}

ff_status ff_vit_model_load(const ff_vit_arch *arch, const ff_st_file *f, const char *prefix, ff_vit_model **out) {
    ff_vit_model *m = calloc(1, sizeof *m);
    if (!m) return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory creating %s", arch->name);
    m->arch = arch;
    loader ld = {f, prefix, m};
    ff_status st = load_all(&ld);
    if (st != FF_OK) {
        ff_vit_model_free(m);
        return st;
    }
    *out = m;
    return FF_OK;
}

/* Converts float32 values back to `dt` into a temporary buffer. */
static ff_status export_one(const ff_vit_tensor *t, ff_st_writer *w, const char *name) {
    if (t->dtype == FF_DT_F32) return ff_st_writer_add(w, name, t->dtype, t->ndim, t->shape, t->data);
    const size_t esize = ff_dtype_size(t->dtype);
    size_t bytes;
    if (!ff_mul_size(t->count ? t->count : 1, esize, &bytes))
        return ff_fail(FF_E_OUT_OF_MEMORY, "tensor '%s' too large", name);
    void *buf = ff_alloc(bytes);
    if (!buf) return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory exporting tensor '%s'", name);
    for (size_t i = 0; i < t->count; i++) {
        if (t->dtype == FF_DT_F16) ((uint16_t *)buf)[i] = ff_f32_to_f16(t->data[i]);
        else if (t->dtype == FF_DT_BF16) ((uint16_t *)buf)[i] = ff_f32_to_bf16(t->data[i]);
        else ((double *)buf)[i] = (double)t->data[i];
    }
    ff_status st = ff_st_writer_add(w, name, t->dtype, t->ndim, t->shape, buf);
    ff_free(buf);
    return st;
}

ff_status ff_vit_model_export(const ff_vit_model *m, ff_st_writer *w, const char *prefix) {
    if (!prefix) prefix = "";
    for (size_t i = 0; i < m->ntensors; i++) {
        char name[FF_ST_NAME_CAP];
        if ((size_t)snprintf(name, sizeof name, "%s%s", prefix, m->tensors[i].name) >= sizeof name)
            return ff_fail(FF_E_INVALID_ARGUMENT, "tensor name prefix too long (%zu bytes)", strlen(prefix));
        FF_TRY(export_one(&m->tensors[i], w, name));
    }
    return FF_OK;
}
