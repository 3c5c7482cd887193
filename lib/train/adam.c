#include "train/adam.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/float_text.h"

double ff_adam_float_to_double(float f) {
    char buf[40];
    return strtod(ff_float_text(f, buf, sizeof buf), NULL);
}

void ff_adam_step(const ff_adam_config *cfg, int64_t t, float *params, const float *grads, float *m, float *v,
                  size_t n) {
    const double b1 = cfg->beta1, b2 = cfg->beta2;
    const double bc1 = 1.0 - pow(b1, (double)t);
    const double bc2 = 1.0 - pow(b2, (double)t);
    const float wd = (float)cfg->weight_decay;
    const float fb1 = (float)b1, fb2 = (float)b2;
    const float one_b1 = (float)(1.0 - b1), one_b2 = (float)(1.0 - b2);
    const float neg_step = (float)(-(cfg->lr / bc1));
    const float bc2_sqrt = (float)sqrt(bc2);
    const float eps = (float)cfg->eps;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) {
        float p = params[i];
        float g = grads[i] + wd * p;
        float mi = m[i] * fb1 + one_b1 * g;
        float vi = v[i] * fb2 + (one_b2 * g) * g;
        m[i] = mi;
        v[i] = vi;
        float denom = sqrtf(vi) / bc2_sqrt + eps;
        params[i] = p + (neg_step * mi) / denom;
    }
}
