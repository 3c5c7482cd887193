/* Where every flow parameter lives. All trainable parameters of a flow
 * (every level's LayerNorm and coupling steps) are one flat float array, so
 * that Adam, gradient buffers, copies and snapshots are single loops; this
 * table gives each tensor's offset and shape. Permutations are not trained
 * and live in a separate int32 array.
 *
 * Shapes follow PyTorch (anomalib) exactly:
 *   norm_w, norm_b      [C, H, W]
 *   w1  [hidden, c1, k, k]   b1 [hidden]       (subnet.1)
 *   w2  [2*c2, hidden, k, k] b2 [2*c2]         (subnet.4)
 *   global_scale, global_offset [C]            (stored as [1, C, 1, 1])
 *   perm [C]: output channel i takes input channel perm[i]               */
#ifndef FF_FLOW_LAYOUT_H
#define FF_FLOW_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

#include "core/params.h" /* FF_MAX_STEPS, the bound of FF_FLOW_STEPS */
#include "fastflow.h"

#define FF_MAX_LEVELS 4

typedef struct ff_flow_step_layout {
    int32_t kernel; /* 3 or 1 */
    size_t w1, b1, w2, b2, global_scale, global_offset; /* offsets in floats */
    size_t perm;                                        /* offset in the perm array */
} ff_flow_step_layout;

typedef struct ff_flow_level_layout {
    int32_t c, h, w;   /* feature map shape */
    int32_t c1, c2;    /* c1 = C - C/2, c2 = C/2 */
    int32_t hidden;    /* int(c1 * hidden_ratio) */
    int32_t has_norm;  /* ResNet: 1 (LayerNorm over [C,H,W]); ViT: 0 */
    size_t norm_w, norm_b;
    ff_flow_step_layout step[FF_MAX_STEPS];
} ff_flow_level_layout;

typedef struct ff_flow_layout {
    int32_t num_levels;
    int32_t num_steps;
    int32_t in_h, in_w; /* model input size */
    int32_t conv3x3_only;
    float hidden_ratio;
    float clamp;
    ff_flow_level_layout level[FF_MAX_LEVELS];
    size_t num_params; /* floats */
    size_t num_perm;   /* int32 entries */
} ff_flow_layout;

/* Fills the table for `num_levels` feature maps of shapes chw[l] =
 * {C, H, W}. Validates every argument against the flow options' table
 * (core/params.h). */
ff_status ff_flow_layout_init(ff_flow_layout *layout, int32_t num_levels, const int32_t chw[][3],
                              int32_t in_w, int32_t in_h, int32_t num_steps, int32_t conv3x3_only,
                              float hidden_ratio, float clamp, int32_t has_norm);

/* Kernel of step i: 3, except odd i use 1 unless conv3x3_only. */
static inline int32_t ff_flow_step_kernel(int32_t i, int32_t conv3x3_only) {
    return (conv3x3_only || i % 2 == 0) ? 3 : 1;
}

#endif
