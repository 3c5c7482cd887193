/* Antialiased bilinear resampling, bit-compatible with PyTorch 1.13's CPU
 * kernel (aten/src/ATen/native/cpu/UpSampleKernel.cpp) as Debian builds it.
 *
 * Weights: PyTorch computes them in float with a few double intermediates
 * (HelperInterpBase::_compute_weights_aa); each expression below keeps the
 * same types so the weights come out bit-identical (checked against
 * torch on identity matrices).
 *
 * Sums: PyTorch's loop is `out = t0*w0; for j >= 1: out += tj*wj`, but the
 * compiled code differs from a plain reading: the first 4*floor((n-1)/4)
 * terms are added with separately rounded products and the remaining
 * (n-1) % 4 with fused multiply-adds (a vectorised in-order reduction plus a
 * scalar epilogue contracted to FMA). Reproducing that makes the results
 * bit-identical to torch's on the MVTec samples (a plain sequential sum
 * differs by up to 2 ulp). Any build of torch lies within a few ulp. */
#include "image/resize_aa.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"

/* The plain terms must stay unfused: no contraction of `acc + s*w`. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

static inline float aa_filter(float x) {
    if (x < 0.0f) x = -x;
    if (x < 1.0f) return (float)(1.0 - (double)x);
    return 0.0f;
}

ff_status ff_aa_filter_init(ff_aa_filter *f, int32_t in_size, int32_t out_size) {
    memset(f, 0, sizeof *f);
    f->in_size = in_size;
    f->out_size = out_size;
    const float scale = (float)in_size / (float)out_size;
    const float support = scale >= 1.0f ? (float)(1.0 * (double)scale) : 1.0f;
    const float invscale = scale >= 1.0f ? (float)(1.0 / (double)scale) : 1.0f;
    const int32_t taps = (int32_t)ceilf(support) * 2 + 1;
    f->taps = taps;
    f->start = ff_alloc((size_t)out_size * sizeof(int32_t));
    f->count = ff_alloc((size_t)out_size * sizeof(int32_t));
    f->weights = ff_calloc((size_t)out_size * (size_t)taps, sizeof(float));
    if (!f->start || !f->count || !f->weights) {
        ff_aa_filter_free(f);
        return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate resize weights (%d -> %d)", (int)in_size,
                       (int)out_size);
    }
    for (int64_t i = 0; i < out_size; i++) {
        const float center = (float)((double)scale * ((double)i + 0.5));
        int64_t xmin = (int64_t)((double)(center - support) + 0.5);
        int64_t xmax = (int64_t)((double)(center + support) + 0.5);
        if (xmin < 0) xmin = 0;
        if (xmax > in_size) xmax = in_size;
        if (xmin > in_size - 1) xmin = in_size - 1; /* defensive: never empty */
        if (xmax <= xmin) xmax = xmin + 1;
        int64_t n = xmax - xmin;
        if (n > taps) n = taps;
        float *w = f->weights + (size_t)i * (size_t)taps;
        float total = 0.0f;
        for (int64_t j = 0; j < n; j++) {
            const float d = (float)(j + xmin) - center;
            w[j] = aa_filter((float)(((double)d + 0.5) * (double)invscale));
            total += w[j];
        }
        if (total != 0.0f)
            for (int64_t j = 0; j < n; j++) w[j] /= total;
        f->start[i] = (int32_t)xmin;
        f->count[i] = (int32_t)n;
    }
    return FF_OK;
}

void ff_aa_filter_free(ff_aa_filter *f) {
    if (!f) return;
    ff_free(f->start);
    ff_free(f->count);
    ff_free(f->weights);
    f->start = f->count = NULL;
    f->weights = NULL;
}

/* PIL's BILINEAR weights for one axis, computed in double (a triangle
 * stretched by the scale when shrinking; window floor(center -+ support +
 * 0.5)), rounded to float and normalised in double. The heatmap's picture
 * resize uses them: a picture for people, where PIL's look matters, not
 * torch's float roundings. Kept apart from ff_aa_filter_init because the
 * two differ in the last bits of most weights, and each caller's output is
 * pinned by its own tests (preprocessing: torch goldens; heatmaps: PIL). */
ff_status ff_aa_filter_init_pil(ff_aa_filter *t, int32_t in, int32_t out) {
    memset(t, 0, sizeof *t);
    t->in_size = in;
    t->out_size = out;
    double scale = (double)in / (double)out;
    double support = scale > 1.0 ? scale : 1.0;
    t->taps = (int32_t)ceil(support) * 2 + 1;
    t->start = ff_calloc((size_t)out, sizeof(int32_t));
    t->count = ff_calloc((size_t)out, sizeof(int32_t));
    t->weights = ff_calloc((size_t)out * (size_t)t->taps, sizeof(float));
    if (!t->start || !t->count || !t->weights) {
        ff_aa_filter_free(t);
        return ff_fail(FF_E_OUT_OF_MEMORY, "heatmap: cannot allocate resize weights");
    }
    for (int32_t i = 0; i < out; i++) {
        double center = (i + 0.5) * scale;
        int32_t lo = (int32_t)floor(center - support + 0.5), hi = (int32_t)floor(center + support + 0.5);
        if (lo < 0) lo = 0;
        if (hi > in) hi = in;
        if (hi - lo > t->taps) hi = lo + t->taps;
        double sum = 0.0;
        float *w = t->weights + (size_t)i * (size_t)t->taps;
        for (int32_t k = lo; k < hi; k++) {
            double x = fabs((k + 0.5 - center) / support);
            double v = x < 1.0 ? 1.0 - x : 0.0;
            w[k - lo] = (float)v;
            sum += v;
        }
        for (int32_t k = 0; k < hi - lo; k++) w[k] = sum > 0.0 ? (float)(w[k] / sum) : 0.0f;
        t->start[i] = lo;
        t->count[i] = hi - lo;
    }
    return FF_OK;
}

/* Reads pixel x of a row as RGB. */

/* Number of leading terms (after the first) that torch adds unfused. */
static inline int32_t unfused_terms(int32_t n) { return 4 * ((n - 1) / 4); }

#if defined(__GNUC__)
#define FF_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define FF_ALWAYS_INLINE inline
#endif

/* Kernels are written once and instantiated twice on x86: with hardware FMA
 * (fmaf becomes one instruction) and without (fmaf is libm's exact
 * software version). */
static FF_ALWAYS_INLINE void row_body(const ff_aa_filter *f, const float *restrict src,
                                      float *restrict dst) {
    const int32_t taps = f->taps;
    for (int32_t o = 0; o < f->out_size; o++) {
        const float *w = f->weights + (size_t)o * (size_t)taps;
        const float *s = src + f->start[o];
        const int32_t n = f->count[o], nb = unfused_terms(n);
        float acc = s[0] * w[0];
        int32_t j = 1;
        for (; j <= nb; j++) {
            const float p = s[j] * w[j];
            acc = acc + p;
        }
        for (; j < n; j++) acc = fmaf(s[j], w[j], acc);
        dst[o] = acc;
    }
}

static FF_ALWAYS_INLINE void columns_body(const ff_aa_filter *f, const float *restrict src,
                                          size_t src_pitch, int32_t width, float *restrict dst,
                                          size_t dst_pitch) {
    const int32_t taps = f->taps;
    for (int32_t o = 0; o < f->out_size; o++) {
        const float *w = f->weights + (size_t)o * (size_t)taps;
        const float *s = src + (size_t)f->start[o] * src_pitch;
        float *restrict d = dst + (size_t)o * dst_pitch;
        const int32_t n = f->count[o], nb = unfused_terms(n);
        const float w0 = w[0];
        for (int32_t x = 0; x < width; x++) d[x] = s[x] * w0;
        int32_t j = 1;
        for (; j <= nb; j++) {
            const float *restrict sj = s + (size_t)j * src_pitch;
            const float wj = w[j];
            for (int32_t x = 0; x < width; x++) {
                const float p = sj[x] * wj;
                d[x] = d[x] + p;
            }
        }
        for (; j < n; j++) {
            const float *restrict sj = s + (size_t)j * src_pitch;
            const float wj = w[j];
            for (int32_t x = 0; x < width; x++) d[x] = fmaf(sj[x], wj, d[x]);
        }
    }
}

static void row_generic(const ff_aa_filter *f, const float *src, float *dst) { row_body(f, src, dst); }
static void columns_generic(const ff_aa_filter *f, const float *src, size_t sp, int32_t width,
                            float *dst, size_t dp) {
    columns_body(f, src, sp, width, dst, dp);
}

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
#define FF_HAVE_FMA_DISPATCH 1
__attribute__((target("avx2,fma"))) static void row_fma(const ff_aa_filter *f, const float *src,
                                                        float *dst) {
    row_body(f, src, dst);
}
__attribute__((target("avx2,fma"))) static void columns_fma(const ff_aa_filter *f,
                                                            const float *src, size_t sp,
                                                            int32_t width, float *dst, size_t dp) {
    columns_body(f, src, sp, width, dst, dp);
}
static int have_fma(void) {
    static _Atomic int cached = -1; /* every thread computes the same value */
    int v = atomic_load_explicit(&cached, memory_order_relaxed);
    if (v < 0) {
        __builtin_cpu_init();
        v = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        atomic_store_explicit(&cached, v, memory_order_relaxed);
    }
    return v;
}
#endif

void ff_aa_resample_row(const ff_aa_filter *f, const float *src, float *dst) {
#ifdef FF_HAVE_FMA_DISPATCH
    if (have_fma()) {
        row_fma(f, src, dst);
        return;
    }
#endif
    row_generic(f, src, dst);
}

void ff_aa_resample_columns(const ff_aa_filter *f, const float *src, size_t src_pitch,
                            int32_t width, float *dst, size_t dst_pitch) {
#ifdef FF_HAVE_FMA_DISPATCH
    if (have_fma()) {
        columns_fma(f, src, src_pitch, width, dst, dst_pitch);
        return;
    }
#endif
    columns_generic(f, src, src_pitch, width, dst, dst_pitch);
}
