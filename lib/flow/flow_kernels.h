/* The flow's elementwise passes (everything but the convolutions), each a
 * single OpenMP-parallel pass over plain NCHW memory. Reductions are
 * accumulated in double into per-row partials that the caller sums in a
 * fixed order, so results do not depend on the thread count's timing. */
#ifndef FF_FLOW_KERNELS_H
#define FF_FLOW_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "image/resample.h"

/* ---- LayerNorm over each sample's m = C*H*W values (layernorm.c) ---- */

/* Doubles of scratch ff_layernorm_forward needs for n samples. */
size_t ff_layernorm_scratch(int32_t n, size_t m);

/* y = (x * rstd - mean * rstd) * w + b per sample (PyTorch's CPU form),
 * with mean and variance accumulated in double (two passes). xhat
 * (optional) receives x * rstd - mean * rstd for backward. */
void ff_layernorm_forward(const float *x, int32_t n, size_t m, const float *w, const float *b, float eps,
                          float *y, float *xhat, double *scratch);

/* dw = sum_n dy * xhat, db = sum_n dy (the input gradient is not needed:
 * the backbone is frozen). */
void ff_layernorm_backward(const float *dy, const float *xhat, int32_t n, size_t m, float *dw, float *db);

/* ---- one coupling step (coupling.c, coupling_backward.c) ---- */

typedef struct ff_coupling_dims {
    int32_t n, c, c1, c2;
    size_t hw;
    float clamp;
} ff_coupling_dims;

/* g[c] = 0.1 * softplus_{beta=0.5}(gs) (PyTorch's threshold 20 included);
 * dg[c] = dg/dgs (optional). Returns sum_c ln g[c] in double. */
double ff_coupling_scale(const float *gs, int32_t c, float *g, float *dg);

/* y[:, i] = u[:, perm[i]] * g + o with u = concat(x1, x2 * exp(s) + 0.1 a_t),
 * s = clamp * tanh(0.1 a_s); a = conv2 output [n, 2*c2, hw] (raw).
 * s_sum[n*c2 + j] = sum over hw of s for channel c1 + j. */
void ff_coupling_forward(const ff_coupling_dims *d, const float *x, const float *a, const float *g,
                         const float *go, const int32_t *perm, float *y, double *s_sum);

/* Backward of one step. dy: gradient wrt y; dld[n]: gradient wrt each
 * sample's log-det. Writes dx (all channels; the x1 part is the direct
 * path only, the subnet's contribution is added afterwards), da (wrt the
 * raw conv2 output), and per (sample, channel) partials
 * part_g[n*c + j] = sum dy*u (wrt g[j]) and part_o[n*c + j] = sum dy. */
void ff_coupling_backward(const ff_coupling_dims *d, const float *x, const float *a, const float *g,
                          const int32_t *perm, const float *dy, const float *dld, float *dx, float *da,
                          double *part_g, double *part_o);

/* ---- anomaly maps and the loss term (flow_maps.c) ---- */

/* p[n, q] = -exp(-0.5 * mean_c z[n, c, q]^2) and sumsq[n] = sum z^2;
 * scratch: ff_flow_prob_map_scratch() doubles. */
size_t ff_flow_prob_map_scratch(int32_t n, size_t hw);
void ff_flow_prob_map(const float *z, int32_t n, int32_t c, size_t hw, float *p, double *sumsq, double *scratch);

/* Bilinear taps of one axis (in -> out pixels): ff_bilinear_taps of
 * image/resample.h (included above). */

/* out[n, Y, X] = mean over levels of the bilinear (align_corners=false)
 * upsampling of maps[l] ([n, h[l], w[l]]) with taps ty[l] (out_h) and
 * tx[l] (out_w). */
void ff_flow_upsample_mean(const float *const *maps, const int32_t *h, const int32_t *w,
                           const ff_axis_tap *const *ty, const ff_axis_tap *const *tx, int32_t levels, int32_t n,
                           int32_t out_h, int32_t out_w, float *out);

#endif
