/* Fresh flow parameters, as anomalib's FastflowModel initialises them:
 * LayerNorm weight 1 and bias 0; PyTorch's default Conv2d initialisation
 * (kaiming-uniform with a = sqrt(5), i.e. weights and biases uniform in
 * +-1/sqrt(fan_in), fan_in = in_channels * k * k); global_scale
 * 2*ln(e^5 - 1) (so the softplus gain is exactly 1) and global_offset 0;
 * a uniformly random channel permutation per step (Fisher-Yates).
 *
 * Draw order (what a seed reproduces): for each level, for each step:
 * subnet.1 weight, subnet.1 bias, subnet.4 weight, subnet.4 bias (each in
 * memory order), then the permutation. */
#include <math.h>

#include "core/rng.h"
#include "flow/flow_internal.h"

static void fill_uniform(ff_rng *r, float *p, size_t n, float bound) {
    for (size_t i = 0; i < n; i++) p[i] = (2.0f * ff_rng_uniform(r) - 1.0f) * bound;
}

int ff_flow_perm_valid(const int32_t *perm, int32_t c) {
    /* sum-and-mark without allocation: c is at most 65536 */
    uint64_t seen[65536 / 64] = {0};
    if (c < 1 || c > 65536) return 0;
    for (int32_t i = 0; i < c; i++) {
        int32_t p = perm[i];
        if (p < 0 || p >= c) return 0;
        uint64_t bit = UINT64_C(1) << (p % 64);
        if (seen[p / 64] & bit) return 0;
        seen[p / 64] |= bit;
    }
    return 1;
}

void ff_flow_init_params(const ff_flow_layout *L, uint64_t seed, float *params, int32_t *perms) {
    ff_rng r;
    ff_rng_seed(&r, seed);
    for (int32_t l = 0; l < L->num_levels; l++) {
        const ff_flow_level_layout *lv = &L->level[l];
        if (lv->has_norm) {
            size_t n = (size_t)lv->c * (size_t)lv->h * (size_t)lv->w;
            for (size_t i = 0; i < n; i++) {
                params[lv->norm_w + i] = 1.0f;
                params[lv->norm_b + i] = 0.0f;
            }
        }
        for (int32_t k = 0; k < L->num_steps; k++) {
            const ff_flow_step_layout *s = &lv->step[k];
            size_t kk = (size_t)s->kernel * (size_t)s->kernel;
            size_t fan1 = (size_t)lv->c1 * kk, fan2 = (size_t)lv->hidden * kk;
            float bound1 = (float)(1.0 / sqrt((double)fan1));
            float bound2 = (float)(1.0 / sqrt((double)fan2));
            fill_uniform(&r, params + s->w1, (size_t)lv->hidden * fan1, bound1);
            fill_uniform(&r, params + s->b1, (size_t)lv->hidden, bound1);
            fill_uniform(&r, params + s->w2, (size_t)(2 * lv->c2) * fan2, bound2);
            fill_uniform(&r, params + s->b2, (size_t)(2 * lv->c2), bound2);
            for (int32_t c = 0; c < lv->c; c++) {
                params[s->global_scale + (size_t)c] = FF_FLOW_INIT_GLOBAL_SCALE;
                params[s->global_offset + (size_t)c] = 0.0f;
            }
            int32_t *perm = perms + s->perm;
            for (int32_t c = 0; c < lv->c; c++) perm[c] = c;
            ff_rng_shuffle_i32(&r, perm, lv->c);
        }
    }
}
