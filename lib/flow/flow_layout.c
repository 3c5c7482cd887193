#include "flow/flow_layout.h"

#include <string.h>

#include "core/error.h"
#include "core/params.h"

ff_status ff_flow_layout_init(ff_flow_layout *L, int32_t num_levels, const int32_t chw[][3], int32_t in_w,
                              int32_t in_h, int32_t num_steps, int32_t conv3x3_only, float hidden_ratio,
                              float clamp, int32_t has_norm) {
    FF_CHECK_ARG(L != NULL && chw != NULL, "layout or shapes is NULL");
    FF_CHECK_ARG(num_levels >= 1 && num_levels <= FF_MAX_LEVELS, "number of levels %d not in [1, %d]",
                 (int)num_levels, FF_MAX_LEVELS);
    const int32_t K = FF_OBJECT_FLOW_OPTIONS;
    FF_TRY(ff_param_check_int(ff_param_find(K, FF_FLOW_STEPS), num_steps));
    FF_TRY(ff_param_check_int(ff_param_find(K, FF_FLOW_CONV3X3_ONLY), conv3x3_only));
    FF_TRY(ff_param_check_f32(ff_param_find(K, FF_FLOW_HIDDEN_RATIO), hidden_ratio));
    FF_TRY(ff_param_check_f32(ff_param_find(K, FF_FLOW_CLAMP), clamp));
    FF_TRY(ff_param_check_input_side("input width", FF_FLOW_INPUT_WIDTH, in_w));
    FF_TRY(ff_param_check_input_side("input height", FF_FLOW_INPUT_HEIGHT, in_h));
    memset(L, 0, sizeof *L);
    L->num_levels = num_levels;
    L->num_steps = num_steps;
    L->in_h = in_h;
    L->in_w = in_w;
    L->conv3x3_only = conv3x3_only;
    L->hidden_ratio = hidden_ratio;
    L->clamp = clamp;
    size_t off = 0, poff = 0;
    for (int32_t l = 0; l < num_levels; l++) {
        ff_flow_level_layout *lv = &L->level[l];
        int32_t c = chw[l][0], h = chw[l][1], w = chw[l][2];
        FF_CHECK_ARG(c >= 2 && c <= 65536 && h >= 1 && h <= 4096 && w >= 1 && w <= 4096,
                     "feature level %d shape [%d, %d, %d] out of range", (int)l, (int)c, (int)h, (int)w);
        lv->c = c;
        lv->h = h;
        lv->w = w;
        lv->c2 = c / 2;
        lv->c1 = c - c / 2;
        /* int(c1 * hidden_ratio) as Python computes it: the float product
         * truncated toward zero. Computed in double as Python does. */
        lv->hidden = (int32_t)((double)lv->c1 * (double)hidden_ratio);
        FF_CHECK_ARG(lv->hidden >= 1, "hidden ratio %g gives no hidden channels at level %d",
                     (double)hidden_ratio, (int)l);
        lv->has_norm = has_norm ? 1 : 0;
        if (has_norm) {
            size_t chw_n = (size_t)c * (size_t)h * (size_t)w;
            lv->norm_w = off;
            off += chw_n;
            lv->norm_b = off;
            off += chw_n;
        }
        for (int32_t i = 0; i < num_steps; i++) {
            ff_flow_step_layout *s = &lv->step[i];
            int32_t k = ff_flow_step_kernel(i, conv3x3_only);
            size_t kk = (size_t)k * (size_t)k;
            s->kernel = k;
            s->w1 = off;
            off += (size_t)lv->hidden * (size_t)lv->c1 * kk;
            s->b1 = off;
            off += (size_t)lv->hidden;
            s->w2 = off;
            off += (size_t)(2 * lv->c2) * (size_t)lv->hidden * kk;
            s->b2 = off;
            off += (size_t)(2 * lv->c2);
            s->global_scale = off;
            off += (size_t)c;
            s->global_offset = off;
            off += (size_t)c;
            s->perm = poff;
            poff += (size_t)c;
        }
    }
    L->num_params = off;
    L->num_perm = poff;
    return FF_OK;
}
