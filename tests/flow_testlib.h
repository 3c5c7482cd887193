/* Helpers shared by the flow model, trainer and scorer tests: a small
 * random resnet18 (backbone_testlib's seeded weights), a small flow over
 * it, deterministic synthetic images, and a safetensors rewriter that
 * builds damaged model files. */
#ifndef FF_TESTS_FLOW_TESTLIB_H
#define FF_TESTS_FLOW_TESTLIB_H

#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"

/* resnet18 with seeded random weights, loaded from memory. */
ff_backbone *ft_backbone(uint64_t seed);
/* A flow over bb: size x size input, `steps` steps. NULL on failure. */
ff_flow *ft_flow(const ff_backbone *bb, int32_t size, int32_t steps, int32_t conv3x3_only, int64_t seed);
/* A 2-step flow over bb at size x size, trained for 3 epochs on 4
 * synthetic images so that its maps vary (scorer tests); NULL on failure. */
ff_flow *ft_trained_flow(const ff_backbone *bb, int32_t size);
/* A deterministic RGB8 w x h image (smooth pattern + noise + an optional
 * bright square "defect"); malloc'd. */
uint8_t *ft_image(uint64_t seed, int32_t w, int32_t h, int defect);
/* Adds n normal 70x64 ft_image pictures (seeds seed0, seed0 + 1, ...) to a
 * trainer; prints the library's message and returns its status on failure. */
ff_status ft_add_images(ff_trainer *t, int n, uint64_t seed0);

/* Edits applied while copying a safetensors file (ft_rewrite). */
typedef struct ft_edit {
    const char *drop;        /* tensor left out */
    const char *meta_key;    /* metadata key to set (value NULL: remove) */
    const char *meta_value;
    const char *reshape;     /* tensor written with a leading 1 added */
    const char *poison;      /* F32 tensor whose first value becomes NaN */
    int dense_perms;         /* I64 w_perm -> one-hot F32 [C,C,1,1] (+ w_perm_inv) */
    const char *break_perm;  /* w_perm whose second entry repeats the first */
    const char *extra;       /* an extra F32 [1] tensor of this name */
} ft_edit;

/* Copies src to dst with the edits; 0 on success. */
int ft_rewrite(const char *src, const char *dst, const ft_edit *e);

/* tmpdir/name, in a static rotating buffer. */
const char *ft_path(const char *name);

#endif
