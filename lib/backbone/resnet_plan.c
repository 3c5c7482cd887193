#include "backbone/resnet_plan.h"

#include <stdint.h>
#include <string.h>

#include "core/dnnl_util.h"
#include "core/error.h"

const dnnl_memory_desc_t *ff_pd_src(const_dnnl_primitive_desc_t pd) {
    return dnnl_primitive_desc_query_md(pd, dnnl_query_src_md, 0);
}
const dnnl_memory_desc_t *ff_pd_dst(const_dnnl_primitive_desc_t pd) {
    return dnnl_primitive_desc_query_md(pd, dnnl_query_dst_md, 0);
}
const dnnl_memory_desc_t *ff_pd_weights(const_dnnl_primitive_desc_t pd) {
    return dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
}
const dnnl_memory_desc_t *ff_pd_scratchpad(const_dnnl_primitive_desc_t pd) {
    return dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
}

ff_status ff_attr_create(int sum, int relu, dnnl_primitive_attr_t *out) {
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_status_t s = dnnl_primitive_attr_create(&attr);
    if (s == dnnl_success) s = dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (s == dnnl_success && (sum || relu)) {
        s = dnnl_post_ops_create(&po);
        if (s == dnnl_success && sum) s = dnnl_post_ops_append_sum(po, 1.0f);
        if (s == dnnl_success && relu) s = dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
        if (s == dnnl_success) s = dnnl_primitive_attr_set_post_ops(attr, po);
        if (po) dnnl_post_ops_destroy(po);
    }
    if (s != dnnl_success) {
        if (attr) dnnl_primitive_attr_destroy(attr);
        return ff_dnnl_check(s, "creating primitive attributes");
    }
    *out = attr;
    return FF_OK;
}

/* Right padding that makes oneDNN's shape arithmetic exact:
 * out = (in + pl + pr - k) / stride + 1 with out = ceil-free torch size. */
static int64_t pad_right(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pl) {
    return (out - 1) * stride + k - in - pl;
}

static ff_status conv_pd(const ff_conv_spec *c, int32_t precision, const dnnl_memory_desc_t *src, int64_t n,
                         int64_t ih, int64_t iw, const dnnl_memory_desc_t *dst_fixed, int sum, int relu,
                         dnnl_primitive_desc_t *out) {
    const dnnl_data_type_t dt = precision == FF_PRECISION_BF16 ? dnnl_bf16 : dnnl_f32;
    const int winograd = precision == FF_PRECISION_FP32_WINOGRAD && c->k == 3 && c->stride == 1;
    const int64_t oh = (ih + 2 * c->pad - c->k) / c->stride + 1;
    const int64_t ow = (iw + 2 * c->pad - c->k) / c->stride + 1;
    dnnl_dims_t sd = {n, c->ic, ih, iw}, wd = {c->oc, c->ic, c->k, c->k}, bd = {c->oc},
                dd = {n, c->oc, oh, ow};
    dnnl_dims_t strides = {c->stride, c->stride}, pl = {c->pad, c->pad},
                pr = {pad_right(ih, oh, c->k, c->stride, c->pad), pad_right(iw, ow, c->k, c->stride, c->pad)};
    dnnl_memory_desc_t s_any, w_any, b_md, d_any;
    dnnl_status_t s = dnnl_memory_desc_init_by_tag(&s_any, 4, sd, dt, dnnl_format_tag_any);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&w_any, 4, wd, dt, dnnl_format_tag_any);
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&b_md, 1, bd, dnnl_f32, dnnl_a);
    /* oneDNN's Winograd kernels read and write nChw16c only: with Winograd
     * the stem writes that format, so that every later activation (chained
     * from it) has it too; `any` would give nhwc, which they cannot use. */
    const dnnl_format_tag_t dtag =
        precision == FF_PRECISION_FP32_WINOGRAD && src == NULL ? dnnl_nChw16c : dnnl_format_tag_any;
    if (s == dnnl_success) s = dnnl_memory_desc_init_by_tag(&d_any, 4, dd, dt, dtag);
    dnnl_convolution_desc_t cd;
    if (s == dnnl_success)
        s = dnnl_convolution_forward_desc_init(&cd, dnnl_forward_inference, dnnl_convolution_direct,
                                               src ? src : &s_any, &w_any, &b_md,
                                               dst_fixed ? dst_fixed : &d_any, strides, pl, pr);
    if (s != dnnl_success) return ff_fail(FF_E_INTERNAL, "oneDNN error %d describing convolution %s", (int)s, c->conv);
    dnnl_primitive_attr_t attr;
    FF_TRY(ff_attr_create(sum, relu, &attr));
    s = ff_conv_pd_create(&cd, attr, winograd, NULL, out);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) {
        *out = NULL;
        return ff_fail_context(ff_dnnl_check(s, "creating a convolution"),
                               "convolution %s (batch %lld, input %lldx%lld)", c->conv, (long long)n,
                               (long long)ih, (long long)iw);
    }
    return FF_OK;
}

static ff_status pool_pd(const dnnl_memory_desc_t *src, dnnl_primitive_desc_t *out) {
    const int64_t n = src->dims[0], c = src->dims[1], ih = src->dims[2], iw = src->dims[3];
    const int64_t oh = (ih + 2 - 3) / 2 + 1, ow = (iw + 2 - 3) / 2 + 1;
    dnnl_dims_t dd = {n, c, oh, ow}, strides = {2, 2}, kernel = {3, 3}, pl = {1, 1},
                pr = {pad_right(ih, oh, 3, 2, 1), pad_right(iw, ow, 3, 2, 1)};
    dnnl_memory_desc_t d_any;
    dnnl_pooling_desc_t pd;
    dnnl_status_t s = dnnl_memory_desc_init_by_tag(&d_any, 4, dd, src->data_type, dnnl_format_tag_any);
    if (s == dnnl_success)
        s = dnnl_pooling_forward_desc_init(&pd, dnnl_forward_inference, dnnl_pooling_max, src, &d_any,
                                           strides, kernel, pl, pr);
    if (s != dnnl_success) return ff_fail(FF_E_INTERNAL, "oneDNN error %d describing the max pooling", (int)s);
    dnnl_primitive_attr_t attr;
    FF_TRY(ff_attr_create(0, 0, &attr));
    s = dnnl_primitive_desc_create(out, &pd, attr, ff_dnnl_engine(), NULL);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) {
        *out = NULL;
        return ff_dnnl_check(s, "creating the max pooling");
    }
    return FF_OK;
}

static ff_status create_all(const ff_resnet_layout *L, ff_resnet_pds *P) {
    if (!ff_dnnl_engine()) return FF_E_INTERNAL;
    const ff_conv_spec *cv = L->convs;
    /* stem: conv1 + bn1 + relu, then maxpool */
    FF_TRY(conv_pd(&cv[0], P->precision, NULL, P->n, P->h, P->w, NULL, 0, 1, &P->conv[0]));
    FF_TRY(pool_pd(ff_pd_dst(P->conv[0]), &P->pool));
    dnnl_memory_desc_t cur = *ff_pd_dst(P->pool);
    for (int32_t b = 0; b < L->nblocks; b++) {
        const ff_block_spec *blk = &L->blocks[b];
        dnnl_memory_desc_t shortcut = cur;
        if (blk->down >= 0) {
            FF_TRY(conv_pd(&cv[blk->down], P->precision, &cur, cur.dims[0], cur.dims[2], cur.dims[3], NULL, 0, 0,
                           &P->conv[blk->down]));
            shortcut = *ff_pd_dst(P->conv[blk->down]);
        }
        dnnl_memory_desc_t x = cur;
        for (int32_t i = 0; i < blk->nmain; i++) {
            const int last = i == blk->nmain - 1;
            const int32_t ci = blk->main[i];
            FF_TRY(conv_pd(&cv[ci], P->precision, &x, x.dims[0], x.dims[2], x.dims[3], last ? &shortcut : NULL, last, 1,
                           &P->conv[ci]));
            x = *ff_pd_dst(P->conv[ci]);
        }
        cur = shortcut;
    }
    return FF_OK;
}

ff_status ff_resnet_pds_create(const ff_resnet_layout *L, int32_t n, int32_t w, int32_t h,
                               int32_t precision, ff_resnet_pds *out) {
    memset(out, 0, sizeof *out);
    out->precision = precision;
    out->n = n;
    out->h = h;
    out->w = w;
    ff_status st = create_all(L, out);
    if (st != FF_OK) ff_resnet_pds_destroy(out);
    return st;
}

void ff_resnet_pds_destroy(ff_resnet_pds *P) {
    for (int32_t i = 0; i < FF_RESNET_MAX_CONVS; i++)
        if (P->conv[i]) dnnl_primitive_desc_destroy(P->conv[i]);
    if (P->pool) dnnl_primitive_desc_destroy(P->pool);
    memset(P, 0, sizeof *P);
}

ff_status ff_reorder_once(const dnnl_memory_desc_t *src_md, const void *src,
                          const dnnl_memory_desc_t *dst_md, void *dst) {
    dnnl_engine_t eng = ff_dnnl_engine();
    if (!eng) return FF_E_INTERNAL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_primitive_t prim = NULL;
    dnnl_stream_t stream = NULL;
    dnnl_memory_t ms = NULL, md = NULL;
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, src_md, eng, dst_md, eng, NULL);
    if (s == dnnl_success) s = dnnl_primitive_create(&prim, pd);
    if (s == dnnl_success) s = dnnl_stream_create(&stream, eng, dnnl_stream_default_flags);
    /* oneDNN takes non-const handles; a reorder only reads its source. */
    if (s == dnnl_success) s = dnnl_memory_create(&ms, src_md, eng, (void *)(uintptr_t)src);
    if (s == dnnl_success) s = dnnl_memory_create(&md, dst_md, eng, dst);
    if (s == dnnl_success) {
        dnnl_exec_arg_t args[2] = {{DNNL_ARG_FROM, ms}, {DNNL_ARG_TO, md}};
        s = dnnl_primitive_execute(prim, stream, 2, args);
    }
    if (s == dnnl_success) s = dnnl_stream_wait(stream);
    if (md) dnnl_memory_destroy(md);
    if (ms) dnnl_memory_destroy(ms);
    if (stream) dnnl_stream_destroy(stream);
    if (prim) dnnl_primitive_destroy(prim);
    if (pd) dnnl_primitive_desc_destroy(pd);
    return ff_dnnl_check(s, "reordering weights");
}
