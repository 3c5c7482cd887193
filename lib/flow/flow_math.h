/* Elementwise math for the flow's fused passes, written so that a loop
 * over them vectorises (no calls, no branches): glibc's expf/tanhf are
 * scalar calls without -ffast-math, and the coupling passes evaluate
 * ~1.5 million of each per 256x256 image. Cephes' single-precision
 * polynomials, accurate to ~2 ulp, i.e. at float32 rounding as PyTorch's
 * vectorised (Sleef) versions. */
#ifndef FF_FLOW_MATH_H
#define FF_FLOW_MATH_H

#include <stdint.h>
#include <string.h>

/* Compiles a hot kernel for AVX-512, AVX2 and baseline x86-64, chosen at
 * load time (the library is built for baseline x86-64). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define FF_SIMD_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FF_SIMD_CLONES
#endif

/* exp(x), clamped to exp(-87) .. exp(88) (so -Inf gives exp(-87) and +Inf
 * exp(88), finite: the callers' exponents are bounded anyway), and NaN for
 * NaN. NaN comes from a diverging training run; it is replaced by 0 for the
 * arithmetic (a NaN converted to int is undefined behaviour) and put back
 * at the end, so that the caller still sees it and reports the numeric
 * error. Finite inputs give the same bits as without that guard. */
static inline float ff_expf_v(float x) {
    const int is_nan = x != x;
    const float in = x;
    x = is_nan ? 0.0f : x;
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    float t = x * 1.44269504088896341f;
    /* round to nearest by the 1.5 * 2^23 trick (|t| < 2^22 here) */
    float fx = (t + 12582912.0f) - 12582912.0f;
    float r = x - fx * 0.693359375f;
    r = r - fx * -2.12194440e-4f;
    float z = r * r;
    float y = 1.9875691500e-4f;
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * z + r + 1.0f;
    /* fx in [-126, 127]: the biased exponent is in [1, 254]; shifted as
     * unsigned, which is defined for every value */
    uint32_t bits = (uint32_t)((int32_t)fx + 127) << 23;
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return is_nan ? in : y * scale;
}

static inline float ff_tanhf_v(float x) {
    float ax = x < 0.0f ? -x : x;
    /* |x| > 0.625: 1 - 2 / (exp(2|x|) + 1); tanh(9) rounds to 1 */
    float e = ff_expf_v(2.0f * (ax < 9.0f ? ax : 9.0f));
    float big = 1.0f - 2.0f / (e + 1.0f);
    float z = x * x;
    float small =
        ((((-5.70498872745e-3f * z + 2.06390887954e-2f) * z - 5.37397155531e-2f) * z + 1.33314422036e-1f) * z -
         3.33332819422e-1f) *
            z * ax +
        ax;
    float r = ax > 0.625f ? big : small;
    return x < 0.0f ? -r : r;
}

#endif
