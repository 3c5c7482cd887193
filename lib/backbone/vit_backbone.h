/* The transformer side of ff_backbone: loading a DeiT / CaiT into an
 * ff_backbone, its feature shape, and the architecture names of both
 * families (used by backbone_load.c and extractor.c to dispatch). */
#ifndef FF_BACKBONE_VIT_BACKBONE_H
#define FF_BACKBONE_VIT_BACKBONE_H

#include "backbone/backbone_internal.h"
#include "backbone/vit_arch.h"

/* Whether `name` is a ResNet or transformer architecture we support. */
int ff_backbone_arch_known(const char *name);
/* Every supported name, comma-separated, into buf (cap bytes; truncated to
 * fit), for error messages. Returns buf. */
const char *ff_backbone_arch_list(char *buf, size_t cap);

/* Loads a transformer backbone (prefix NULL: detected). */
ff_status ff_vit_backbone_load(const ff_vit_arch *arch, const ff_st_file *f, const char *prefix,
                               ff_backbone **out);

/* Checks an input size against the transformer's fixed input side (its
 * pos_embed is not interpolated). */
ff_status ff_vit_check_input(const ff_vit_model *m, int32_t in_width, int32_t in_height);

/* ff_backbone_level_shape for a transformer: one level [D, grid, grid]. */
ff_status ff_vit_level_shape(const ff_vit_model *m, int32_t level, int32_t in_width, int32_t in_height,
                             int32_t *channels_out, int32_t *width_out, int32_t *height_out);

#endif
