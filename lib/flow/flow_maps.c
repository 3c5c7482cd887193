/* Anomaly maps: per level p = -exp(-0.5 * mean_c z^2), then the mean over
 * levels of their bilinear upsampling to the input size, following
 * PyTorch's align_corners=False rule with the taps of
 * ff_bilinear_taps (image/resample.c). */
#include <math.h>

#include "flow/flow_kernels.h"

#define MAP_CHUNK ((size_t)256)

static size_t chunks_of(size_t hw) { return (hw + MAP_CHUNK - 1) / MAP_CHUNK; }

size_t ff_flow_prob_map_scratch(int32_t n, size_t hw) { return (size_t)n * chunks_of(hw); }

void ff_flow_prob_map(const float *z, int32_t n, int32_t c, size_t hw, float *p, double *sumsq, double *scratch) {
    size_t nch = chunks_of(hw), total = (size_t)n * nch;
#pragma omp parallel for schedule(static)
    for (size_t t = 0; t < total; t++) {
        size_t s = t / nch, lo = (t % nch) * MAP_CHUNK, hi = lo + MAP_CHUNK < hw ? lo + MAP_CHUNK : hw;
        double acc[MAP_CHUNK];
        for (size_t q = lo; q < hi; q++) acc[q - lo] = 0.0;
        for (int32_t ch = 0; ch < c; ch++) {
            const float *zr = z + (s * (size_t)c + (size_t)ch) * hw;
            for (size_t q = lo; q < hi; q++) acc[q - lo] += (double)zr[q] * (double)zr[q];
        }
        double tot = 0.0;
        for (size_t q = lo; q < hi; q++) {
            tot += acc[q - lo];
            p[s * hw + q] = -expf(-0.5f * (float)(acc[q - lo] / (double)c));
        }
        scratch[t] = tot;
    }
    /* per-sample sums of z^2 (the loss term) in a fixed order */
    for (int32_t s = 0; s < n; s++) {
        double tot = 0.0;
        for (size_t k = 0; k < nch; k++) tot += scratch[(size_t)s * nch + k];
        sumsq[s] = tot;
    }
}

void ff_flow_upsample_mean(const float *const *maps, const int32_t *h, const int32_t *w,
                           const ff_axis_tap *const *ty, const ff_axis_tap *const *tx, int32_t levels, int32_t n,
                           int32_t out_h, int32_t out_w, float *out) {
    const long rows = (long)n * out_h;
#pragma omp parallel for schedule(static)
    for (long r = 0; r < rows; r++) {
        size_t s = (size_t)(r / out_h);
        int32_t y = (int32_t)(r % out_h);
        float *o = out + (size_t)r * (size_t)out_w;
        for (int32_t x = 0; x < out_w; x++) o[x] = 0.0f;
        for (int32_t l = 0; l < levels; l++) {
            const float *m = maps[l] + s * (size_t)h[l] * (size_t)w[l];
            const ff_axis_tap *a = &ty[l][y];
            const float *r0 = m + (size_t)a->i0 * (size_t)w[l], *r1 = m + (size_t)a->i1 * (size_t)w[l];
            for (int32_t x = 0; x < out_w; x++) {
                const ff_axis_tap *b = &tx[l][x];
                float v = a->l0 * (b->l0 * r0[b->i0] + b->l1 * r0[b->i1]) +
                          a->l1 * (b->l0 * r1[b->i0] + b->l1 * r1[b->i1]);
                o[x] += v;
            }
        }
        for (int32_t x = 0; x < out_w; x++) o[x] /= (float)levels;
    }
}
