/* Vision-transformer architectures as timm defines them (DeiT distilled,
 * CaiT), up to the block whose output FastFlow uses: sizes, token layout
 * and how many blocks run. */
#ifndef FF_BACKBONE_VIT_ARCH_H
#define FF_BACKBONE_VIT_ARCH_H

#include <stdint.h>

typedef enum ff_vit_family {
    FF_VIT_DEIT = 0, /* timm VisionTransformerDistilled: cls + dist tokens, Block */
    FF_VIT_CAIT = 1  /* timm Cait: no prefix token in the trunk, LayerScaleBlock
                        with TalkingHeadAttn */
} ff_vit_family;

typedef struct ff_vit_arch {
    const char *name;
    ff_vit_family family;
    int32_t embed;       /* D */
    int32_t depth;       /* blocks in the published model (informative) */
    int32_t used_blocks; /* blocks 0..used_blocks-1 run, then the final norm */
    int32_t heads;
    int32_t mlp_hidden; /* fc1 outputs (4 * D) */
    int32_t patch;      /* patch side = stride */
    int32_t img;        /* the only input side (pos_embed is not interpolated) */
    int32_t test_only;  /* 1: a tiny configuration for the golden tests, not listed */
} ff_vit_arch;

/* The architecture called `name`, or NULL. */
const ff_vit_arch *ff_vit_arch_find(const char *name);
/* The name of public architecture i (0-based; the test ones are skipped),
 * or NULL past the last. */
const char *ff_vit_arch_name_at(int32_t i);

/* Patches per side, patches, and prefix tokens (DeiT: cls, dist = 2). */
static inline int32_t ff_vit_grid(const ff_vit_arch *a) { return a->img / a->patch; }
static inline int32_t ff_vit_patches(const ff_vit_arch *a) { return ff_vit_grid(a) * ff_vit_grid(a); }
static inline int32_t ff_vit_prefix(const ff_vit_arch *a) { return a->family == FF_VIT_DEIT ? 2 : 0; }
static inline int32_t ff_vit_tokens(const ff_vit_arch *a) { return ff_vit_prefix(a) + ff_vit_patches(a); }

#endif
