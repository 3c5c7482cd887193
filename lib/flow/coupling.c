/* Forward of one affine coupling step, fused: subnet output scaling,
 * tanh clamp, exp, the additive term, the global affine and the channel
 * permutation in one pass over memory (y is written in permuted order, so
 * no separate permutation pass). */
#include <math.h>

#include "flow/flow_kernels.h"
#include "flow/flow_math.h"

double ff_coupling_scale(const float *gs, int32_t c, float *g, float *dg) {
    double sum_log = 0.0;
    for (int32_t j = 0; j < c; j++) {
        double v = 0.5 * (double)gs[j];
        /* torch.nn.Softplus(beta=0.5): x when beta*x > 20 (threshold) */
        double gj = v > 20.0 ? 0.1 * (double)gs[j] : 0.2 * log1p(exp(v));
        g[j] = (float)gj;
        sum_log += log((double)g[j]);
        if (dg) dg[j] = v > 20.0 ? 0.1f : (float)(0.1 / (1.0 + exp(-v)));
    }
    return sum_log;
}

FF_SIMD_CLONES
static void identity_row(const float *restrict xs, float *restrict ys, size_t hw, float g, float o) {
    for (size_t p = 0; p < hw; p++) ys[p] = xs[p] * g + o;
}

FF_SIMD_CLONES
static double coupled_row(const float *restrict xs, const float *restrict as, const float *restrict at,
                          float *restrict ys, size_t hw, float clamp, float g, float o) {
    double acc = 0.0;
#pragma omp simd reduction(+ : acc)
    for (size_t p = 0; p < hw; p++) {
        float s = clamp * ff_tanhf_v(0.1f * as[p]);
        float y2 = xs[p] * ff_expf_v(s) + 0.1f * at[p];
        ys[p] = y2 * g + o;
        acc += (double)s;
    }
    return acc;
}

void ff_coupling_forward(const ff_coupling_dims *d, const float *x, const float *a, const float *g,
                         const float *go, const int32_t *perm, float *y, double *s_sum) {
    const int32_t c = d->c, c1 = d->c1, c2 = d->c2;
    const size_t hw = d->hw;
    const long rows = (long)d->n * c;
#pragma omp parallel for schedule(static)
    for (long t = 0; t < rows; t++) {
        size_t n = (size_t)(t / c);
        int32_t i = (int32_t)(t % c), j = perm[i];
        const float *xs = x + (n * (size_t)c + (size_t)j) * hw;
        float *ys = y + (n * (size_t)c + (size_t)i) * hw;
        if (j < c1) {
            identity_row(xs, ys, hw, g[j], go[j]);
        } else {
            size_t jj = (size_t)(j - c1);
            const float *as = a + (n * 2 * (size_t)c2 + jj) * hw;
            const float *at = as + (size_t)c2 * hw;
            s_sum[n * (size_t)c2 + jj] = coupled_row(xs, as, at, ys, hw, d->clamp, g[j], go[j]);
        }
    }
}
