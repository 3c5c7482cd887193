/* The ff_flow and ff_flow_options objects, shared by flow.c (creation,
 * getters, lifetime), flow_init.c (fresh parameters), model_file.c
 * (save/load), the trainer (copies params, hands out snapshots) and the
 * scorer (reads params). */
#ifndef FF_FLOW_INTERNAL_H
#define FF_FLOW_INTERNAL_H

#include <stdatomic.h>
#include <stdint.h>

#include "fastflow.h"
#include "flow/flow_layout.h"

/* global_scale at initialisation: 2*ln(e^5 - 1), so that
 * 0.1 * softplus_{beta=0.5}(global_scale) = 1 exactly as anomalib. */
#define FF_FLOW_INIT_GLOBAL_SCALE 9.986478501101022f

struct ff_flow_options {
    int32_t in_h, in_w;
    int32_t steps;
    int32_t conv3x3_only;
    float hidden_ratio;
    float clamp;
    int64_t seed;
    uint32_t set_mask; /* bit k: key k (enum ff_flow_param) set by the caller */
};

struct ff_flow {
    atomic_int refcount;
    const ff_backbone *backbone; /* retained */
    ff_flow_layout layout;
    float *params;  /* layout.num_params floats (ff_alloc) */
    int32_t *perms; /* layout.num_perm entries (ff_alloc) */
    int64_t seed;   /* creation seed; 0 for loaded files without one */
    /* Score statistics (enum ff_stat order: image threshold, pixel
     * threshold, min, max), valid when has_stats; set only while the flow
     * is built (ff_flow_with_statistics, model load), so they stay
     * immutable. Flows from ff_flow_create and trainer snapshots have none. */
    int32_t has_stats;
    float stats[4];
    char stats_source[32]; /* how they were computed (score.source) */
    /* How the parameters were trained (ff_flow_with_training_record; the
     * file's "training" metadata), malloc'd; NULL when none. Immutable. */
    char *training_record;
};

/* Limit of a training record, in bytes without the NUL. */
#define FF_TRAINING_RECORD_MAX 65536

/* Sets the training record of a flow under construction (text NULL: none;
 * else checked as ff_flow_with_training_record does). */
ff_status ff_flow_set_training_record(ff_flow *flow, const char *text);
/* Copies src's training record (if any) into dst. */
ff_status ff_flow_copy_training_record(const ff_flow *src, ff_flow *dst);

/* Defaults of every option (the table's: ResNet values), none marked as
 * set; other backbones' come from ff_backbone_get_flow_defaults (filled in
 * by ff_flow_create for every key the caller left unset). */
void ff_flow_options_defaults(struct ff_flow_options *o);

/* Replaces every option the caller left unset (set_mask) with the
 * backbone's default (input side, steps, kernels, hidden ratio). */
void ff_flow_options_fill_defaults(struct ff_flow_options *o, const ff_backbone *bb);

/* Builds the parameter layout of a flow over `bb` (level shapes at the
 * input size; LayerNorm when the backbone uses it). */
ff_status ff_flow_layout_for_backbone(const ff_backbone *bb, const struct ff_flow_options *o,
                                      ff_flow_layout *out);

/* Allocates a flow with refcount 1 that retains `bb`; params and perms are
 * allocated but not initialised. */
ff_status ff_flow_alloc(const ff_backbone *bb, const ff_flow_layout *layout, int64_t seed,
                        ff_flow **out);

/* Adds a reference; ff_flow_destroy drops one. Thread-safe. */
const ff_flow *ff_flow_retain(const ff_flow *flow);

/* flow_init.c: fresh parameters as the spec's initialisation, drawn from
 * ff_rng seeded with `seed` (weights, then permutations, level by level,
 * step by step, in layout order). */
void ff_flow_init_params(const ff_flow_layout *layout, uint64_t seed, float *params, int32_t *perms);

/* flow_stats.c: FF_E_INVALID_ARGUMENT unless all four statistics are
 * finite and hi > lo. */
ff_status ff_flow_check_statistics(float image_thr, float pixel_thr, float lo, float hi);

/* 1 when perm[0..c) is a permutation of 0..c-1. */
int ff_flow_perm_valid(const int32_t *perm, int32_t c);

#endif
