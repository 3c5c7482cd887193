/* ResNet architectures as torchvision defines them, up to layer3: the list
 * of convolutions (each followed by a BatchNorm) and of residual blocks,
 * with the state-dict names and shapes of every tensor. */
#ifndef FF_BACKBONE_RESNET_ARCH_H
#define FF_BACKBONE_RESNET_ARCH_H

#include <stdint.h>

/* resnet50 to layer3: 1 stem + 13 blocks x 3 + 3 downsample = 43 convs. */
#define FF_RESNET_MAX_CONVS 48
#define FF_RESNET_MAX_BLOCKS 16
#define FF_RESNET_LEVELS 3
#define FF_RESNET_NAME_CAP 48

typedef enum ff_block_kind { FF_BLOCK_BASIC = 0, FF_BLOCK_BOTTLENECK = 1 } ff_block_kind;

typedef struct ff_resnet_arch {
    const char *name;
    ff_block_kind kind;
    int32_t blocks[FF_RESNET_LEVELS]; /* blocks in layer1..layer3 */
    int32_t width_per_group;          /* 64; 128 for the wide variants */
    /* The flow's default FF_FLOW_CONV3X3_ONLY over this backbone: the paper
     * (and the model spec) use 3x3 subnets in every step for resnet18 and
     * alternate 3x3 / 1x1 for the others (anomalib's wide_resnet50_2 too). */
    int32_t flow_conv3x3_only;
} ff_resnet_arch;

/* One convolution and the BatchNorm after it (folded together at load). */
typedef struct ff_conv_spec {
    char conv[FF_RESNET_NAME_CAP]; /* e.g. "layer1.0.conv1", "layer2.0.downsample.0" */
    char bn[FF_RESNET_NAME_CAP];   /* e.g. "layer1.0.bn1", "layer2.0.downsample.1" */
    int32_t oc, ic, k, stride, pad;
} ff_conv_spec;

/* A residual block: main path convs (the last one takes the residual sum
 * and the ReLU) and an optional downsample conv on the shortcut. */
typedef struct ff_block_spec {
    int32_t level; /* 0..2 for layer1..layer3 */
    int32_t nmain; /* 2 (BasicBlock) or 3 (Bottleneck) */
    int32_t main[3];
    int32_t down; /* conv index, or -1 for an identity shortcut */
} ff_block_spec;

typedef struct ff_resnet_layout {
    const ff_resnet_arch *arch;
    int32_t nconv; /* conv 0 is the stem (conv1/bn1) */
    ff_conv_spec convs[FF_RESNET_MAX_CONVS];
    int32_t nblocks;
    ff_block_spec blocks[FF_RESNET_MAX_BLOCKS];
    int32_t level_channels[FF_RESNET_LEVELS];
} ff_resnet_layout;

/* The architecture called `name`, or NULL. */
const ff_resnet_arch *ff_resnet_arch_find(const char *name);
/* The name of architecture i (0-based), or NULL past the last. */
const char *ff_resnet_arch_name_at(int32_t i);
void ff_resnet_layout_init(const ff_resnet_arch *arch, ff_resnet_layout *layout);

#endif
