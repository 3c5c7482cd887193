/* Descriptors of the transformer pieces (see vit_blocks.h). */
#include "backbone/vit_blocks.h"

#include "core/dnnl_util.h"
#include "core/error.h"

#define LN_EPS 1e-6f /* timm: partial(nn.LayerNorm, eps=1e-6) */

static ff_status attr_create(dnnl_primitive_attr_t *out) {
    dnnl_primitive_attr_t attr = NULL;
    dnnl_status_t s = dnnl_primitive_attr_create(&attr);
    if (s == dnnl_success) s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (s != dnnl_success) {
        if (attr) dnnl_primitive_attr_destroy(attr);
        return ff_dnnl_check(s, "creating primitive attributes");
    }
    *out = attr;
    return FF_OK;
}

/* Creates the pd from an op descriptor and consumes attr. */
static ff_status finish(const void *op_desc, dnnl_primitive_attr_t attr, const char *what,
                        dnnl_primitive_desc_t *pd) {
    dnnl_status_t s = dnnl_primitive_desc_create(pd, op_desc, attr, ff_dnnl_engine(), NULL);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) *pd = NULL;
    return ff_dnnl_check(s, what);
}

static ff_status plain(dnnl_memory_desc_t *md, int nd, const dnnl_dims_t dims) {
    static const dnnl_format_tag_t tags[] = {dnnl_a, dnnl_a, dnnl_ab, dnnl_abc, dnnl_abcd};
    return ff_dnnl_check(dnnl_memory_desc_init_by_tag(md, nd, dims, dnnl_f32, tags[nd]), "describing a tensor");
}

static ff_status strided(dnnl_memory_desc_t *md, int nd, const dnnl_dims_t dims, const dnnl_dims_t strides) {
    return ff_dnnl_check(dnnl_memory_desc_init_by_strides(md, nd, dims, dnnl_f32, strides), "describing a view");
}

ff_status ff_vit_linear_pd(int64_t rows, int64_t in, int64_t out, int bias, int gelu, int gamma, int residual,
                           dnnl_primitive_desc_t *pd) {
    dnnl_memory_desc_t src, wei, b, dst, g;
    const dnnl_dims_t sd = {rows, in}, wd = {in, out}, ws = {1, in}, bd = {1, out}, dd = {rows, out};
    FF_TRY(plain(&src, 2, sd));
    FF_TRY(strided(&wei, 2, wd, ws)); /* W^T: element (i, o) at o*in + i */
    FF_TRY(plain(&b, 2, bd));
    FF_TRY(plain(&g, 2, bd));
    FF_TRY(plain(&dst, 2, dd));
    dnnl_matmul_desc_t md;
    FF_DNNL_TRY(dnnl_matmul_desc_init(&md, &src, &wei, bias ? &b : NULL, &dst), "describing a linear layer");
    dnnl_primitive_attr_t attr = NULL;
    FF_TRY(attr_create(&attr));
    dnnl_post_ops_t po = NULL;
    dnnl_status_t s = dnnl_success;
    if (gelu || gamma || residual) {
        s = dnnl_post_ops_create(&po);
        if (s == dnnl_success && gelu) s = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_gelu_erf, 0.f, 0.f);
        if (s == dnnl_success && gamma) s = dnnl_post_ops_append_binary(po, dnnl_binary_mul, &g);
        if (s == dnnl_success && residual) s = dnnl_post_ops_append_sum(po, 1.0f);
        if (s == dnnl_success) s = dnnl_primitive_attr_set_post_ops(attr, po);
        if (po) dnnl_post_ops_destroy(po);
    }
    if (s != dnnl_success) {
        dnnl_primitive_attr_destroy(attr);
        return ff_dnnl_check(s, "setting a linear layer's post-ops");
    }
    return finish(&md, attr, "creating a linear layer", pd);
}

ff_status ff_vit_layernorm_pd(int64_t rows, int64_t dim, dnnl_primitive_desc_t *pd) {
    dnnl_memory_desc_t data, stat;
    const dnnl_dims_t dd = {rows, dim}, sd = {rows};
    FF_TRY(plain(&data, 2, dd));
    FF_TRY(plain(&stat, 1, sd));
    dnnl_layer_normalization_desc_t ld;
    FF_DNNL_TRY(dnnl_layer_normalization_forward_desc_init(&ld, dnnl_forward_inference, &data, &stat, LN_EPS,
                                                           dnnl_use_scale | dnnl_use_shift),
                "describing a layer norm");
    dnnl_primitive_attr_t attr = NULL;
    FF_TRY(attr_create(&attr));
    return finish(&ld, attr, "creating a layer norm", pd);
}

ff_status ff_vit_softmax_pd(int64_t rows, int64_t cols, dnnl_primitive_desc_t *pd) {
    dnnl_memory_desc_t data;
    const dnnl_dims_t dd = {rows, cols};
    FF_TRY(plain(&data, 2, dd));
    dnnl_softmax_desc_t sd;
    FF_DNNL_TRY(dnnl_softmax_forward_desc_init(&sd, dnnl_forward_inference, &data, 1), "describing a softmax");
    dnnl_primitive_attr_t attr = NULL;
    FF_TRY(attr_create(&attr));
    return finish(&sd, attr, "creating a softmax", pd);
}

ff_status ff_vit_scores_pd(int64_t heads, int64_t tokens, int64_t head_dim, float scale,
                           dnnl_primitive_desc_t *pd) {
    const int64_t H = heads, T = tokens, hd = head_dim, row = 3 * H * hd;
    dnnl_memory_desc_t q, k, s;
    const dnnl_dims_t qd = {H, T, hd}, qs = {hd, row, 1};
    const dnnl_dims_t kd = {H, hd, T}, ks = {hd, 1, row};
    const dnnl_dims_t sd = {H, T, T};
    FF_TRY(strided(&q, 3, qd, qs));
    FF_TRY(strided(&k, 3, kd, ks));
    FF_TRY(plain(&s, 3, sd));
    dnnl_matmul_desc_t md;
    FF_DNNL_TRY(dnnl_matmul_desc_init(&md, &q, &k, NULL, &s), "describing the attention logits");
    dnnl_primitive_attr_t attr = NULL;
    FF_TRY(attr_create(&attr));
    dnnl_status_t st = dnnl_primitive_attr_set_output_scales(attr, 1, 0, &scale);
    if (st != dnnl_success) {
        dnnl_primitive_attr_destroy(attr);
        return ff_dnnl_check(st, "setting the attention scale");
    }
    return finish(&md, attr, "creating the attention logits", pd);
}

ff_status ff_vit_talk_pd(int64_t heads, int64_t tokens, dnnl_primitive_desc_t *pd) {
    const int64_t H = heads, TT = tokens * tokens;
    dnnl_memory_desc_t w, s, d;
    const dnnl_dims_t wd = {H, H + 1}, sd = {H + 1, TT}, dd = {H, TT};
    FF_TRY(plain(&w, 2, wd));
    FF_TRY(plain(&s, 2, sd));
    FF_TRY(plain(&d, 2, dd));
    dnnl_matmul_desc_t md;
    FF_DNNL_TRY(dnnl_matmul_desc_init(&md, &w, &s, NULL, &d), "describing talking heads");
    dnnl_primitive_attr_t attr = NULL;
    FF_TRY(attr_create(&attr));
    return finish(&md, attr, "creating talking heads", pd);
}

ff_status ff_vit_context_pd(int64_t heads, int64_t tokens, int64_t head_dim, dnnl_primitive_desc_t *pd) {
    const int64_t H = heads, T = tokens, hd = head_dim, D = H * hd;
    dnnl_memory_desc_t a, v, o;
    const dnnl_dims_t ad = {H, T, T};
    const dnnl_dims_t vd = {H, T, hd}, vs = {hd, 3 * D, 1};
    const dnnl_dims_t od = {H, T, hd}, os = {hd, D, 1};
    FF_TRY(plain(&a, 3, ad));
    FF_TRY(strided(&v, 3, vd, vs));
    FF_TRY(strided(&o, 3, od, os));
    dnnl_matmul_desc_t md;
    FF_DNNL_TRY(dnnl_matmul_desc_init(&md, &a, &v, NULL, &o), "describing the attention output");
    dnnl_primitive_attr_t attr = NULL;
    FF_TRY(attr_create(&attr));
    return finish(&md, attr, "creating the attention output", pd);
}

ff_status ff_vit_patch_pd(int64_t n, int64_t img, int64_t dim, int64_t patch, int dst_any,
                          dnnl_primitive_desc_t *pd) {
    const int64_t g = img / patch;
    dnnl_memory_desc_t src, wei, b, dst;
    const dnnl_dims_t sd = {n, 3, img, img}, wd = {dim, 3, patch, patch}, bd = {dim}, dd = {n, dim, g, g};
    const dnnl_dims_t strides = {patch, patch}, pad = {0, 0};
    FF_DNNL_TRY(dnnl_memory_desc_init_by_tag(&src, 4, sd, dnnl_f32, dnnl_nchw), "describing the input");
    FF_DNNL_TRY(dnnl_memory_desc_init_by_tag(&wei, 4, wd, dnnl_f32, dnnl_format_tag_any), "describing weights");
    FF_DNNL_TRY(dnnl_memory_desc_init_by_tag(&b, 1, bd, dnnl_f32, dnnl_a), "describing a bias");
    FF_DNNL_TRY(dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dst_any ? dnnl_format_tag_any : dnnl_nhwc),
                "describing the patches");
    dnnl_convolution_desc_t cd;
    FF_DNNL_TRY(dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct, &src,
                                                   &wei, &b, &dst, strides, pad, pad),
                "describing the patch embedding");
    dnnl_primitive_attr_t attr = NULL;
    FF_TRY(attr_create(&attr));
    return finish(&cd, attr, "creating the patch embedding", pd);
}

static ff_status reorder_pd(const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst, const char *what,
                            dnnl_primitive_desc_t *pd) {
    dnnl_primitive_attr_t attr = NULL;
    FF_TRY(attr_create(&attr));
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(pd, src, ff_dnnl_engine(), dst, ff_dnnl_engine(), attr);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) *pd = NULL;
    return ff_dnnl_check(s, what);
}

ff_status ff_vit_patch_rows_pd(const dnnl_memory_desc_t *src, dnnl_primitive_desc_t *pd) {
    dnnl_memory_desc_t dst;
    FF_DNNL_TRY(dnnl_memory_desc_init_by_tag(&dst, 4, src->dims, dnnl_f32, dnnl_nhwc), "describing the patches");
    return reorder_pd(src, &dst, "creating the patch reorder", pd);
}

ff_status ff_vit_to_map_pd(int64_t n, int64_t tokens, int64_t prefix, int64_t dim, int64_t grid,
                           dnnl_primitive_desc_t *pd) {
    (void)prefix; /* the caller offsets the source handle past the prefix rows */
    dnnl_memory_desc_t src, dst;
    const dnnl_dims_t dd = {n, dim, grid, grid}, ss = {tokens * dim, 1, grid * dim, dim};
    FF_TRY(strided(&src, 4, dd, ss));
    FF_DNNL_TRY(dnnl_memory_desc_init_by_tag(&dst, 4, dd, dnnl_f32, dnnl_nchw), "describing the feature map");
    return reorder_pd(&src, &dst, "creating the token-to-map reorder", pd);
}
