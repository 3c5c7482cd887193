#include "backbone/resnet_arch.h"

#include <stdio.h>
#include <string.h>

static const ff_resnet_arch k_archs[] = {
    {"resnet18", FF_BLOCK_BASIC, {2, 2, 2}, 64, 1},
    {"resnet34", FF_BLOCK_BASIC, {3, 4, 6}, 64, 0},
    {"resnet50", FF_BLOCK_BOTTLENECK, {3, 4, 6}, 64, 0},
    {"wide_resnet50_2", FF_BLOCK_BOTTLENECK, {3, 4, 6}, 128, 0},
};

const ff_resnet_arch *ff_resnet_arch_find(const char *name) {
    if (!name) return NULL;
    for (size_t i = 0; i < sizeof k_archs / sizeof k_archs[0]; i++)
        if (strcmp(k_archs[i].name, name) == 0) return &k_archs[i];
    return NULL;
}

const char *ff_resnet_arch_name_at(int32_t i) {
    return i >= 0 && (size_t)i < sizeof k_archs / sizeof k_archs[0] ? k_archs[i].name : NULL;
}

static int32_t add_conv(ff_resnet_layout *L, const char *conv, const char *bn, int32_t ic, int32_t oc,
                        int32_t k, int32_t stride) {
    ff_conv_spec *c = &L->convs[L->nconv];
    snprintf(c->conv, sizeof c->conv, "%s", conv);
    snprintf(c->bn, sizeof c->bn, "%s", bn);
    c->ic = ic;
    c->oc = oc;
    c->k = k;
    c->stride = stride;
    c->pad = k / 2;
    return L->nconv++;
}

/* torchvision's _make_layer: the first block of a layer carries the
 * stride (on conv1 of a BasicBlock, on the 3x3 conv2 of a Bottleneck,
 * "ResNet v1.5") and a 1x1 downsample when the shape changes. */
void ff_resnet_layout_init(const ff_resnet_arch *arch, ff_resnet_layout *L) {
    memset(L, 0, sizeof *L);
    L->arch = arch;
    add_conv(L, "conv1", "bn1", 3, 64, 7, 2);
    const int32_t expansion = arch->kind == FF_BLOCK_BOTTLENECK ? 4 : 1;
    int32_t inplanes = 64;
    char a[FF_RESNET_NAME_CAP], b[FF_RESNET_NAME_CAP];
    for (int32_t level = 0; level < FF_RESNET_LEVELS; level++) {
        const int32_t planes = 64 << level;
        const int32_t outc = planes * expansion;
        for (int32_t m = 0; m < arch->blocks[level]; m++) {
            const int32_t stride = (m == 0 && level > 0) ? 2 : 1;
            ff_block_spec *blk = &L->blocks[L->nblocks++];
            blk->level = level;
            blk->down = -1;
#define NAMES(kind_a, kind_b)                                                                      \
    (snprintf(a, sizeof a, "layer%d.%d." kind_a, (int)level + 1, (int)m),                          \
     snprintf(b, sizeof b, "layer%d.%d." kind_b, (int)level + 1, (int)m))
            if (arch->kind == FF_BLOCK_BASIC) {
                blk->nmain = 2;
                NAMES("conv1", "bn1");
                blk->main[0] = add_conv(L, a, b, inplanes, planes, 3, stride);
                NAMES("conv2", "bn2");
                blk->main[1] = add_conv(L, a, b, planes, planes, 3, 1);
            } else {
                const int32_t width = planes * arch->width_per_group / 64;
                blk->nmain = 3;
                NAMES("conv1", "bn1");
                blk->main[0] = add_conv(L, a, b, inplanes, width, 1, 1);
                NAMES("conv2", "bn2");
                blk->main[1] = add_conv(L, a, b, width, width, 3, stride);
                NAMES("conv3", "bn3");
                blk->main[2] = add_conv(L, a, b, width, outc, 1, 1);
            }
            if (stride != 1 || inplanes != outc) {
                NAMES("downsample.0", "downsample.1");
                blk->down = add_conv(L, a, b, inplanes, outc, 1, stride);
            }
#undef NAMES
            inplanes = outc;
        }
        L->level_channels[level] = outc;
    }
}
