/* The table of transformer configurations (timm's model definitions). */
#include <string.h>

#include "backbone/vit_arch.h"

/* used_blocks: FastFlow's choice (the paper, Table 6, and anomalib): DeiT
 * blocks 0..7, CaiT-M48 blocks 0..40. For the smaller CaiT, whose trunk has
 * 24 blocks, every trunk block runs (CaiT's class-attention blocks, which
 * come after the trunk, never do). The *_tiny_test configurations exist for
 * the golden tests (tools/reference/gen_vit_golden.py). */
static const ff_vit_arch archs[] = {
    {"deit_base_distilled_patch16_384", FF_VIT_DEIT, 768, 12, 8, 12, 3072, 16, 384, 0},
    {"cait_m48_448", FF_VIT_CAIT, 768, 48, 41, 16, 3072, 16, 448, 0},
    {"deit_small_distilled_patch16_224", FF_VIT_DEIT, 384, 12, 8, 6, 1536, 16, 224, 0},
    {"cait_s24_224", FF_VIT_CAIT, 384, 24, 24, 8, 1536, 16, 224, 0},
    {"deit_tiny_test", FF_VIT_DEIT, 64, 3, 3, 4, 256, 16, 64, 1},
    {"cait_tiny_test", FF_VIT_CAIT, 64, 3, 3, 4, 256, 16, 64, 1},
};

const ff_vit_arch *ff_vit_arch_find(const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++)
        if (strcmp(archs[i].name, name) == 0) return &archs[i];
    return NULL;
}

const char *ff_vit_arch_name_at(int32_t i) {
    for (size_t k = 0; k < sizeof archs / sizeof archs[0]; k++)
        if (!archs[k].test_only && i-- == 0) return archs[k].name;
    return NULL;
}
