/* Adam with L2 weight decay (torch.optim.Adam, weight_decay added to the
 * gradient, not AdamW), over one flat parameter array. */
#ifndef FF_TRAIN_ADAM_H
#define FF_TRAIN_ADAM_H

#include <stddef.h>
#include <stdint.h>

typedef struct ff_adam_config {
    /* doubles, as the Python floats torch is given */
    double lr;           /* 1e-3 */
    double beta1, beta2; /* 0.9, 0.999 */
    double eps;          /* 1e-8 */
    double weight_decay; /* 1e-5 */
} ff_adam_config;

/* One step, t = the 1-based step number, in torch 1.13's order of
 * operations (single-tensor path), per element:
 *   g  = grad + wd * p
 *   m  = m * b1 + (1 - b1) * g
 *   v  = v * b2 + ((1 - b2) * g) * g
 *   denom = sqrt(v) / sqrt(1 - b2^t) + eps
 *   p  = p + ((-lr / (1 - b1^t)) * m) / denom
 * Scalars are computed in double as Python does, then rounded to float as
 * torch does when it applies them to float tensors. */
/* The double a user meant by a float setting: the shortest decimal that
 * reads back as `f` (1e-3f -> 0.001, not 0.0010000000474974513), so that
 * scalars derived from it in double match Python's. */
double ff_adam_float_to_double(float f);

void ff_adam_step(const ff_adam_config *cfg, int64_t t, float *params, const float *grads, float *m, float *v,
                  size_t n);

#endif
