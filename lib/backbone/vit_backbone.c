/* See vit_backbone.h. */
#include "backbone/vit_backbone.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

int ff_backbone_arch_known(const char *name) {
    return ff_resnet_arch_find(name) != NULL || ff_vit_arch_find(name) != NULL;
}

const char *ff_backbone_arch_names(void) {
    return "resnet18, resnet34, resnet50, wide_resnet50_2, deit_base_distilled_patch16_384, cait_m48_448, "
           "deit_small_distilled_patch16_224, cait_s24_224";
}

ff_status ff_vit_backbone_load(const ff_vit_arch *arch, const ff_st_file *f, const char *prefix,
                               ff_backbone **out) {
    char detected[512];
    if (!prefix) {
        FF_TRY(ff_vit_detect_prefix(f, detected, sizeof detected));
        prefix = detected;
    }
    ff_vit_model *m = NULL;
    FF_TRY(ff_vit_model_load(arch, f, prefix, &m));
    ff_backbone *bb = calloc(1, sizeof *bb);
    if (!bb) {
        ff_vit_model_free(m);
        return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory creating a backbone");
    }
    atomic_init(&bb->refs, 1);
    bb->vit = m;
    *out = bb;
    return FF_OK;
}

ff_status ff_vit_check_input(const ff_vit_model *m, int32_t in_height, int32_t in_width) {
    const int32_t side = m->arch->img;
    if (in_height != side || in_width != side)
        return ff_fail(FF_E_INVALID_ARGUMENT, "%s takes %dx%d inputs only (its position embedding is fixed), got %dx%d",
                       m->arch->name, (int)side, (int)side, (int)in_width, (int)in_height);
    return FF_OK;
}

ff_status ff_vit_level_shape(const ff_vit_model *m, int32_t level, int32_t in_height, int32_t in_width,
                             int32_t *channels_out, int32_t *height_out, int32_t *width_out) {
    FF_CHECK_ARG(level == 0, "level must be 0 (%s has one feature map), got %d", m->arch->name, (int)level);
    FF_TRY(ff_vit_check_input(m, in_height, in_width));
    *channels_out = m->arch->embed;
    *height_out = ff_vit_grid(m->arch);
    *width_out = ff_vit_grid(m->arch);
    return FF_OK;
}

void ff_backbone_get_flow_defaults(const ff_backbone *bb, ff_backbone_flow_defaults *out) {
    if (bb && bb->vit) {
        *out = (ff_backbone_flow_defaults){bb->vit->arch->img, 20, 0, 0.16f};
        return;
    }
    *out = (ff_backbone_flow_defaults){FF_BACKBONE_DEFAULT_SIDE, 8, 1, 1.0f};
}
