/* ff_flow_options and the ff_flow object: creation, option read-back and
 * reference counting. Parameters are initialised in flow_init.c; files are
 * read and written in model_file.c. */
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "backbone/backbone.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/params.h"
#include "flow/flow_internal.h"

void ff_flow_options_defaults(struct ff_flow_options *o) {
    const int32_t K = FF_OBJECT_FLOW_OPTIONS;
    o->in_h = (int32_t)ff_param_default_int(K, FF_FLOW_INPUT_HEIGHT);
    o->in_w = (int32_t)ff_param_default_int(K, FF_FLOW_INPUT_WIDTH);
    o->steps = (int32_t)ff_param_default_int(K, FF_FLOW_STEPS);
    o->conv3x3_only = (int32_t)ff_param_default_int(K, FF_FLOW_CONV3X3_ONLY);
    o->hidden_ratio = ff_param_default_f32(K, FF_FLOW_HIDDEN_RATIO);
    o->clamp = ff_param_default_f32(K, FF_FLOW_CLAMP);
    o->seed = ff_param_default_int(K, FF_FLOW_SEED);
    o->set_mask = 0;
}

#define KEY_BIT(key) (1u << (uint32_t)(key))

void ff_flow_options_fill_defaults(struct ff_flow_options *o, const ff_backbone *bb) {
    ff_backbone_flow_defaults d;
    ff_backbone_get_flow_defaults(bb, &d);
    if (!(o->set_mask & KEY_BIT(FF_FLOW_INPUT_HEIGHT))) o->in_h = d.input_side;
    if (!(o->set_mask & KEY_BIT(FF_FLOW_INPUT_WIDTH))) o->in_w = d.input_side;
    if (!(o->set_mask & KEY_BIT(FF_FLOW_STEPS))) o->steps = d.steps;
    if (!(o->set_mask & KEY_BIT(FF_FLOW_CONV3X3_ONLY))) o->conv3x3_only = d.conv3x3_only;
    if (!(o->set_mask & KEY_BIT(FF_FLOW_HIDDEN_RATIO))) o->hidden_ratio = d.hidden_ratio;
}

ff_status ff_flow_options_create(ff_flow_options **out) {
    ff_clear_error();
    FF_CHECK_ARG(out != NULL, "out is NULL");
    ff_flow_options *o = malloc(sizeof *o);
    if (o == NULL) return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate flow options");
    ff_flow_options_defaults(o);
    *out = o;
    return FF_OK;
}

void ff_flow_options_destroy(ff_flow_options *options) { free(options); }

/* Where each key lives in the struct (types and bounds are the table's,
 * core/params_table.c): byte offsets, so that setters and getters share it. */
static size_t slot_of(int32_t key) {
    switch (key) {
    case FF_FLOW_INPUT_HEIGHT: return offsetof(struct ff_flow_options, in_h);
    case FF_FLOW_INPUT_WIDTH: return offsetof(struct ff_flow_options, in_w);
    case FF_FLOW_STEPS: return offsetof(struct ff_flow_options, steps);
    case FF_FLOW_CONV3X3_ONLY: return offsetof(struct ff_flow_options, conv3x3_only);
    case FF_FLOW_HIDDEN_RATIO: return offsetof(struct ff_flow_options, hidden_ratio);
    case FF_FLOW_CLAMP: return offsetof(struct ff_flow_options, clamp);
    default: return offsetof(struct ff_flow_options, seed); /* FF_FLOW_SEED */
    }
}
#define SLOT(o, key, type) ((type *)(void *)((char *)(o) + slot_of(key)))
#define CSLOT(o, key, type) ((const type *)(const void *)((const char *)(o) + slot_of(key)))

ff_status ff_flow_options_set_i32(ff_flow_options *o, int32_t key, int32_t value) {
    ff_clear_error();
    FF_CHECK_ARG(o != NULL, "options is NULL");
    FF_TRY(ff_param_set_check_int(FF_OBJECT_FLOW_OPTIONS, key, FF_PARAM_I32, value));
    *SLOT(o, key, int32_t) = value;
    o->set_mask |= KEY_BIT(key);
    return FF_OK;
}

ff_status ff_flow_options_set_i64(ff_flow_options *o, int32_t key, int64_t value) {
    ff_clear_error();
    FF_CHECK_ARG(o != NULL, "options is NULL");
    FF_TRY(ff_param_set_check_int(FF_OBJECT_FLOW_OPTIONS, key, FF_PARAM_I64, value));
    *SLOT(o, key, int64_t) = value;
    o->set_mask |= KEY_BIT(key);
    return FF_OK;
}

ff_status ff_flow_options_set_f32(ff_flow_options *o, int32_t key, float value) {
    ff_clear_error();
    FF_CHECK_ARG(o != NULL, "options is NULL");
    FF_TRY(ff_param_set_check_f32(FF_OBJECT_FLOW_OPTIONS, key, value));
    *SLOT(o, key, float) = value;
    o->set_mask |= KEY_BIT(key);
    return FF_OK;
}

/* Reads key (of type `type`) from o into *out; shared by the option
 * getters and the flow getters, which read the flow's settings through the
 * same struct (options_of_flow). */
static ff_status get_value(const struct ff_flow_options *o, int32_t key, int32_t type, void *out) {
    FF_TRY(ff_param_lookup(FF_OBJECT_FLOW_OPTIONS, key, type, 0, NULL));
    if (type == FF_PARAM_I32) *(int32_t *)out = *CSLOT(o, key, int32_t);
    else if (type == FF_PARAM_F32) *(float *)out = *CSLOT(o, key, float);
    else *(int64_t *)out = *CSLOT(o, key, int64_t);
    return FF_OK;
}

ff_status ff_flow_options_get_i32(const ff_flow_options *o, int32_t key, int32_t *value_out) {
    ff_clear_error();
    FF_CHECK_ARG(o != NULL && value_out != NULL, "options or value_out is NULL");
    return get_value(o, key, FF_PARAM_I32, value_out);
}

ff_status ff_flow_options_get_i64(const ff_flow_options *o, int32_t key, int64_t *value_out) {
    ff_clear_error();
    FF_CHECK_ARG(o != NULL && value_out != NULL, "options or value_out is NULL");
    return get_value(o, key, FF_PARAM_I64, value_out);
}

ff_status ff_flow_options_get_f32(const ff_flow_options *o, int32_t key, float *value_out) {
    ff_clear_error();
    FF_CHECK_ARG(o != NULL && value_out != NULL, "options or value_out is NULL");
    return get_value(o, key, FF_PARAM_F32, value_out);
}

ff_status ff_flow_layout_for_backbone(const ff_backbone *bb, const struct ff_flow_options *o,
                                      ff_flow_layout *out) {
    int32_t levels = 0;
    FF_TRY(ff_backbone_num_levels(bb, &levels));
    if (levels < 1 || levels > FF_MAX_LEVELS)
        return ff_fail(FF_E_UNSUPPORTED, "backbone has %d feature levels; flows support 1 to %d", (int)levels,
                       FF_MAX_LEVELS);
    int32_t chw[FF_MAX_LEVELS][3];
    for (int32_t l = 0; l < levels; l++)
        FF_TRY(ff_backbone_level_shape(bb, l, o->in_w, o->in_h, &chw[l][0], &chw[l][2], &chw[l][1]));
    return ff_flow_layout_init(out, levels, (const int32_t(*)[3])chw, o->in_w, o->in_h, o->steps,
                               o->conv3x3_only, o->hidden_ratio, o->clamp, ff_backbone_uses_layernorm(bb));
}

ff_status ff_flow_alloc(const ff_backbone *bb, const ff_flow_layout *layout, int64_t seed, ff_flow **out) {
    ff_flow *f = calloc(1, sizeof *f);
    if (f == NULL) return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate a flow");
    f->layout = *layout;
    f->seed = seed;
    f->params = ff_calloc(layout->num_params, sizeof(float));
    f->perms = ff_calloc(layout->num_perm, sizeof(int32_t));
    if (f->params == NULL || f->perms == NULL) {
        ff_free(f->params);
        ff_free(f->perms);
        free(f);
        return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate %zu flow parameters", layout->num_params);
    }
    atomic_init(&f->refcount, 1);
    f->backbone = ff_backbone_retain(bb);
    *out = f;
    return FF_OK;
}

const ff_flow *ff_flow_retain(const ff_flow *flow) {
    ff_flow *f = (ff_flow *)(uintptr_t)flow; /* the count is the only mutable part */
    atomic_fetch_add_explicit(&f->refcount, 1, memory_order_relaxed);
    return flow;
}

void ff_flow_destroy(ff_flow *flow) {
    if (flow == NULL) return;
    if (atomic_fetch_sub_explicit(&flow->refcount, 1, memory_order_acq_rel) != 1) return;
    ff_free(flow->params);
    ff_free(flow->perms);
    free(flow->training_record);
    ff_backbone_destroy((ff_backbone *)(uintptr_t)flow->backbone);
    free(flow);
}

ff_status ff_flow_create(const ff_backbone *backbone, const ff_flow_options *options, ff_flow **out) {
    ff_clear_error();
    FF_CHECK_ARG(backbone != NULL, "backbone is NULL");
    FF_CHECK_ARG(out != NULL, "out is NULL");
    struct ff_flow_options o;
    if (options) o = *options;
    else ff_flow_options_defaults(&o);
    ff_flow_options_fill_defaults(&o, backbone); /* the backbone family's settings for unset keys */
    ff_flow_layout layout;
    FF_TRY(ff_flow_layout_for_backbone(backbone, &o, &layout));
    ff_flow *f = NULL;
    FF_TRY(ff_flow_alloc(backbone, &layout, o.seed, &f));
    ff_flow_init_params(&f->layout, (uint64_t)o.seed, f->params, f->perms);
    *out = f;
    return FF_OK;
}

const ff_backbone *ff_flow_backbone(const ff_flow *flow) { return flow ? flow->backbone : NULL; }

/* The settings a flow was made with, as options. */
static void options_of_flow(const ff_flow *flow, struct ff_flow_options *o) {
    const ff_flow_layout *L = &flow->layout;
    ff_flow_options_defaults(o);
    o->in_h = L->in_h;
    o->in_w = L->in_w;
    o->steps = L->num_steps;
    o->conv3x3_only = L->conv3x3_only;
    o->hidden_ratio = L->hidden_ratio;
    o->clamp = L->clamp;
    o->seed = flow->seed;
}

ff_status ff_flow_get_i32(const ff_flow *flow, int32_t key, int32_t *value_out) {
    ff_clear_error();
    FF_CHECK_ARG(flow != NULL && value_out != NULL, "flow or value_out is NULL");
    struct ff_flow_options o;
    options_of_flow(flow, &o);
    return get_value(&o, key, FF_PARAM_I32, value_out);
}

ff_status ff_flow_get_i64(const ff_flow *flow, int32_t key, int64_t *value_out) {
    ff_clear_error();
    FF_CHECK_ARG(flow != NULL && value_out != NULL, "flow or value_out is NULL");
    struct ff_flow_options o;
    options_of_flow(flow, &o);
    return get_value(&o, key, FF_PARAM_I64, value_out);
}

ff_status ff_flow_get_f32(const ff_flow *flow, int32_t key, float *value_out) {
    ff_clear_error();
    FF_CHECK_ARG(flow != NULL && value_out != NULL, "flow or value_out is NULL");
    struct ff_flow_options o;
    options_of_flow(flow, &o);
    return get_value(&o, key, FF_PARAM_F32, value_out);
}
