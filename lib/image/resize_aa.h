/* Antialiased bilinear resampling in float, bit-compatible with PyTorch's
 * _upsample_bilinear2d_aa (torchvision Resize(antialias=True) on a float
 * tensor; PIL's BILINEAR filter with its support widened by the downscale
 * factor), align_corners=False.
 *
 * A 2D resize is two 1D passes, horizontal first, then vertical, as
 * PyTorch does (the float rounding depends on the order). */
#ifndef FF_IMAGE_RESIZE_AA_H
#define FF_IMAGE_RESIZE_AA_H

#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"

/* Per output position o: inputs start[o] .. start[o]+count[o]-1 with
 * weights[o*taps ...], normalised to sum 1. */
typedef struct ff_aa_filter {
    int32_t in_size;
    int32_t out_size;
    int32_t taps;
    int32_t *start;
    int32_t *count;
    float *weights;
} ff_aa_filter;

/* in_size, out_size >= 1. FF_E_OUT_OF_MEMORY on allocation failure.
 * ff_aa_filter_init: torch's weights, computed in float (pre-processing);
 * ff_aa_filter_init_pil: PIL's weights, computed in double (heatmap
 * pictures). Where the precision matters: the two differ in the last bits
 * of most weights, and each caller is pinned to its reference. Both are
 * freed with ff_aa_filter_free. */
ff_status ff_aa_filter_init(ff_aa_filter *f, int32_t in_size, int32_t out_size);
ff_status ff_aa_filter_init_pil(ff_aa_filter *f, int32_t in_size, int32_t out_size);
void ff_aa_filter_free(ff_aa_filter *f);

/* Horizontal pass over one row: src has in_size floats, dst out_size. */
void ff_aa_resample_row(const ff_aa_filter *f, const float *src, float *dst);

/* Vertical pass: src is in_size rows of `width` floats (rows src_pitch
 * floats apart), dst receives out_size rows (dst_pitch apart). */
void ff_aa_resample_columns(const ff_aa_filter *f, const float *src, size_t src_pitch,
                            int32_t width, float *dst, size_t dst_pitch);

#endif
