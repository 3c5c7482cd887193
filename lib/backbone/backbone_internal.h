/* The ff_backbone object, private to lib/backbone. */
#ifndef FF_BACKBONE_BACKBONE_INTERNAL_H
#define FF_BACKBONE_BACKBONE_INTERNAL_H

#include <stdatomic.h>

#include <oneapi/dnnl/dnnl.h>

#include "backbone/backbone.h"
#include "backbone/resnet_arch.h"
#include "backbone/vit_model.h"

/* The input size whose primitive formats the shared weights are laid out
 * for (the model's default input size, batch 1). */
#define FF_BACKBONE_DEFAULT_SIDE 256

/* Folded (conv + BatchNorm) weights of one convolution. */
typedef struct ff_conv_weights {
    dnnl_memory_desc_t md; /* layout of `data`: the format the default-shape
                              primitive chose, or plain OIHW */
    void *data;
    float *bias; /* [oc] */
} ff_conv_weights;

/* A tensor as it was in the file, kept for ff_backbone_export_tensors. */
typedef struct ff_raw_tensor {
    char *name; /* without prefix */
    ff_dtype dtype;
    int32_t ndim;
    int64_t shape[FF_ST_MAX_DIMS];
    uint8_t *data;
    size_t nbytes;
} ff_raw_tensor;

struct ff_backbone {
    atomic_int refs;
    /* A transformer (DeiT / CaiT) when non-NULL: then the ResNet fields
     * below are unused (layout.arch is NULL) and lib/backbone/vit_* run it. */
    ff_vit_model *vit;
    ff_resnet_layout layout;
    ff_conv_weights w[FF_RESNET_MAX_CONVS];
    size_t nraw;
    ff_raw_tensor *raw;
};

#endif
