#include "score/map_post.h"

#include <math.h>

int32_t ff_gauss_kernel_size(float sigma) { return 2 * (int32_t)(4.0f * sigma + 0.5f) + 1; }

/* kornia's gaussian(): x = i - k/2 (k odd), exp(-x^2 / (2 sigma^2)), divided
 * by its sum. Computed in double, rounded once. */
void ff_gauss_kernel(float sigma, float *kernel, int32_t k) {
    double sum = 0.0, s = (double)sigma;
    double tmp[FF_SMOOTH_MAX_KERNEL];
    for (int32_t i = 0; i < k; i++) {
        double x = (double)(i - k / 2);
        tmp[i] = exp(-(x * x) / (2.0 * s * s));
        sum += tmp[i];
    }
    for (int32_t i = 0; i < k; i++) kernel[i] = (float)(tmp[i] / sum);
}

/* Index i in [-(n-1)*m, ...) reflected into [0, n) (torch's 'reflect'
 * padding, mirrored again for kernels wider than the map). */
static int32_t reflect(int32_t i, int32_t n) {
    if (n == 1) return 0;
    int32_t period = 2 * (n - 1);
    i %= period;
    if (i < 0) i += period;
    return i < n ? i : period - i;
}

/* One pass along a line of n values at src[j*step], written to dst[j*step]. */
static void blur_line(const float *src, float *dst, int32_t n, size_t step, const float *kernel, int32_t k) {
    int32_t r = k / 2;
    for (int32_t j = 0; j < n; j++) {
        float acc = 0.0f;
        if (j - r >= 0 && j + r < n) {
            const float *p = src + (size_t)(j - r) * step;
            for (int32_t t = 0; t < k; t++) acc += kernel[t] * p[(size_t)t * step];
        } else {
            for (int32_t t = 0; t < k; t++) acc += kernel[t] * src[(size_t)reflect(j - r + t, n) * step];
        }
        dst[(size_t)j * step] = acc;
    }
}

void ff_gauss_blur(float *map, int32_t h, int32_t w, const float *kernel, int32_t k, float *tmp) {
    for (int32_t y = 0; y < h; y++)
        blur_line(map + (size_t)y * (size_t)w, tmp + (size_t)y * (size_t)w, w, 1, kernel, k);
    for (int32_t x = 0; x < w; x++) blur_line(tmp + x, map + x, h, (size_t)w, kernel, k);
}

void ff_normalize_map(float *map, size_t n, float threshold, float range) {
    for (size_t i = 0; i < n; i++) map[i] = ff_normalize_value(map[i], threshold, range);
}
