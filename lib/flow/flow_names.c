#include "flow/flow_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"

#define FF_NAMES_PER_STEP 8

static size_t level_names(const ff_flow_layout *L, int32_t l) {
    return (L->level[l].has_norm ? 2u : 0u) + (size_t)L->num_steps * FF_NAMES_PER_STEP;
}

size_t ff_flow_names_count(const ff_flow_layout *L) {
    if (L == NULL) return 0;
    size_t n = 0;
    for (int32_t l = 0; l < L->num_levels; l++) n += level_names(L, l);
    return n;
}

static void set_shape(ff_flow_tensor_name *t, int32_t ndim, int64_t a, int64_t b, int64_t c, int64_t d) {
    t->ndim = ndim;
    t->shape[0] = a;
    t->shape[1] = b;
    t->shape[2] = c;
    t->shape[3] = d;
    t->count = 1;
    for (int32_t i = 0; i < ndim; i++) t->count *= (size_t)t->shape[i];
}

ff_status ff_flow_names_get(const ff_flow_layout *L, size_t index, ff_flow_tensor_name *out) {
    FF_CHECK_ARG(L != NULL && out != NULL, "layout or output is NULL");
    ff_flow_tensor_name t;
    memset(&t, 0, sizeof t);
    for (int32_t l = 0; l < L->num_levels; l++) {
        const ff_flow_level_layout *lv = &L->level[l];
        size_t n = level_names(L, l);
        if (index >= n) {
            index -= n;
            continue;
        }
        t.level = l;
        if (lv->has_norm) {
            if (index < 2) {
                t.kind = FF_FLOW_NAME_PARAM;
                t.step = -1;
                snprintf(t.name, sizeof t.name, "norms.%d.%s", (int)l, index == 0 ? "weight" : "bias");
                set_shape(&t, 3, lv->c, lv->h, lv->w, 1);
                t.offset = index == 0 ? lv->norm_w : lv->norm_b;
                *out = t;
                return FF_OK;
            }
            index -= 2;
        }
        int32_t k = (int32_t)(index / FF_NAMES_PER_STEP);
        int32_t which = (int32_t)(index % FF_NAMES_PER_STEP);
        const ff_flow_step_layout *s = &lv->step[k];
        int64_t kk = s->kernel;
        static const char *const suffix[FF_NAMES_PER_STEP] = {
            "global_scale", "global_offset", "w_perm", "w_perm_inv",
            "subnet.1.weight", "subnet.1.bias", "subnet.4.weight", "subnet.4.bias"};
        t.step = k;
        t.kind = FF_FLOW_NAME_PARAM;
        snprintf(t.name, sizeof t.name, "fast_flow_blocks.%d.module_list.%d.%s", (int)l, (int)k, suffix[which]);
        switch (which) {
        case 0: set_shape(&t, 4, 1, lv->c, 1, 1); t.offset = s->global_scale; break;
        case 1: set_shape(&t, 4, 1, lv->c, 1, 1); t.offset = s->global_offset; break;
        case 2:
        case 3:
            t.kind = which == 2 ? FF_FLOW_NAME_PERM : FF_FLOW_NAME_PERM_INV;
            set_shape(&t, 4, lv->c, lv->c, 1, 1);
            t.offset = s->perm;
            break;
        case 4: set_shape(&t, 4, lv->hidden, lv->c1, kk, kk); t.offset = s->w1; break;
        case 5: set_shape(&t, 1, lv->hidden, 1, 1, 1); t.offset = s->b1; break;
        case 6: set_shape(&t, 4, 2 * lv->c2, lv->hidden, kk, kk); t.offset = s->w2; break;
        default: set_shape(&t, 1, 2 * lv->c2, 1, 1, 1); t.offset = s->b2; break;
        }
        *out = t;
        return FF_OK;
    }
    return ff_fail(FF_E_INVALID_ARGUMENT, "flow tensor index out of range");
}

ff_status ff_flow_names_find(const ff_flow_layout *L, const char *name, ff_flow_tensor_name *out) {
    FF_CHECK_ARG(L != NULL && name != NULL && out != NULL, "layout, name or output is NULL");
    size_t n = ff_flow_names_count(L);
    for (size_t i = 0; i < n; i++) {
        ff_flow_tensor_name t;
        FF_TRY(ff_flow_names_get(L, i, &t));
        if (strcmp(t.name, name) == 0) {
            *out = t;
            return FF_OK;
        }
    }
    return ff_fail(FF_E_INVALID_ARGUMENT, "no flow tensor named '%s' in this layout", name);
}

void ff_flow_perm_to_matrix(const int32_t *perm, int32_t c, int32_t inverse, float *out) {
    memset(out, 0, (size_t)c * (size_t)c * sizeof *out);
    for (int32_t i = 0; i < c; i++) {
        size_t r = (size_t)i, col = (size_t)perm[i];
        if (inverse) out[col * (size_t)c + r] = 1.0f;
        else out[r * (size_t)c + col] = 1.0f;
    }
}

ff_status ff_flow_perm_from_matrix(const float *w, int32_t c, int32_t inverse, int32_t *perm_out) {
    FF_CHECK_ARG(w != NULL && perm_out != NULL && c >= 1, "matrix, output or size invalid");
    unsigned char *seen = ff_calloc((size_t)c, 1);
    if (seen == NULL) return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory reading a permutation");
    ff_status st = FF_OK;
    for (int32_t i = 0; i < c && st == FF_OK; i++) {
        int32_t found = -1;
        for (int32_t j = 0; j < c; j++) {
            /* w_perm row i selects input perm[i]; w_perm_inv is its transpose */
            float v = inverse ? w[(size_t)j * (size_t)c + (size_t)i] : w[(size_t)i * (size_t)c + (size_t)j];
            if (v == 0.0f) continue;
            if (v != 1.0f || found >= 0) {
                found = -2;
                break;
            }
            found = j;
        }
        if (found < 0 || seen[found]) {
            st = ff_fail(FF_E_BAD_FORMAT, "permutation matrix of %d channels is not one-hot (row %d)", (int)c,
                         (int)i);
        } else {
            seen[found] = 1;
            perm_out[i] = found;
        }
    }
    ff_free(seen);
    return st;
}
