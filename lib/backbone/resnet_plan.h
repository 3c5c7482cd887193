/* oneDNN primitive descriptors of a ResNet (stem to layer3) for one input
 * shape, chained so that every activation keeps the blocked format oneDNN
 * chose (format `any`) from layer to layer. The residual add is the last
 * main-path conv's sum post-op: that conv writes over the shortcut (the
 * block input, or the downsample conv's output), hence its destination
 * format is pinned to the shortcut's. */
#ifndef FF_BACKBONE_RESNET_PLAN_H
#define FF_BACKBONE_RESNET_PLAN_H

#include <oneapi/dnnl/dnnl.h>

#include "backbone/resnet_arch.h"
#include "fastflow.h"

typedef struct ff_resnet_pds {
    int32_t n, h, w;
    int32_t precision;   /* enum ff_precision */
    dnnl_primitive_desc_t conv[FF_RESNET_MAX_CONVS]; /* indexed like layout->convs */
    dnnl_primitive_desc_t pool;                      /* maxpool 3x3 s2 p1 after the stem */
} ff_resnet_pds;

/* Creates every descriptor (user scratchpad mode, bias + ReLU / sum + ReLU
 * post-ops) for `precision` (enum ff_precision): with bf16, activations
 * and weights are bf16 (bias float32) and stay bf16 from layer to layer,
 * so no conversion happens between convolutions; with FP32_WINOGRAD the
 * 3x3 stride-1 convolutions use oneDNN's Winograd algorithm where it has
 * one for the shape (direct otherwise). On failure nothing is left
 * allocated. */
ff_status ff_resnet_pds_create(const ff_resnet_layout *layout, int32_t n, int32_t w, int32_t h,
                               int32_t precision, ff_resnet_pds *out);
void ff_resnet_pds_destroy(ff_resnet_pds *pds);

/* Shorthands for dnnl_primitive_desc_query_md. */
const dnnl_memory_desc_t *ff_pd_src(const_dnnl_primitive_desc_t pd);
const dnnl_memory_desc_t *ff_pd_dst(const_dnnl_primitive_desc_t pd);
const dnnl_memory_desc_t *ff_pd_weights(const_dnnl_primitive_desc_t pd);
const dnnl_memory_desc_t *ff_pd_scratchpad(const_dnnl_primitive_desc_t pd);

/* A primitive attribute with a user-managed scratchpad, and optionally
 * post-ops (sum, then ReLU). */
ff_status ff_attr_create(int sum, int relu, dnnl_primitive_attr_t *out);

/* Reorders `src` (layout src_md) into `dst` (layout dst_md) once, on a
 * temporary stream: used for weights, outside any hot path. */
ff_status ff_reorder_once(const dnnl_memory_desc_t *src_md, const void *src,
                          const dnnl_memory_desc_t *dst_md, void *dst);

#endif
