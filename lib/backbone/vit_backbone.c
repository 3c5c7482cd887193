/* See vit_backbone.h. */
#include "backbone/vit_backbone.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/params.h"

int ff_backbone_arch_known(const char *name) {
    return ff_resnet_arch_find(name) != NULL || ff_vit_arch_find(name) != NULL;
}

/* Public list: the ResNets, then the transformers (test configurations
 * excluded), from their architecture tables. */
int32_t ff_backbone_arch_count(void) {
    int32_t n = 0;
    while (ff_backbone_arch_name(n) != NULL) n++;
    return n;
}

const char *ff_backbone_arch_name(int32_t index) {
    if (index < 0) return NULL;
    int32_t resnets = 0;
    while (ff_resnet_arch_name_at(resnets) != NULL) resnets++;
    return index < resnets ? ff_resnet_arch_name_at(index) : ff_vit_arch_name_at(index - resnets);
}

const char *ff_backbone_arch_list(char *buf, size_t cap) {
    size_t used = 0;
    if (cap) buf[0] = '\0';
    for (int32_t i = 0; ff_backbone_arch_name(i) != NULL && used < cap; i++) {
        int k = snprintf(buf + used, cap - used, "%s%s", i ? ", " : "", ff_backbone_arch_name(i));
        if (k < 0) break;
        used += (size_t)k;
    }
    return buf;
}

ff_status ff_vit_backbone_load(const ff_vit_arch *arch, const ff_st_file *f, const char *prefix,
                               ff_backbone **out) {
    char detected[FF_ST_NAME_CAP];
    if (!prefix) {
        FF_TRY(ff_st_detect_prefix(f, "patch_embed.proj.weight", NULL, "vision-transformer", detected,
                                   sizeof detected));
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

ff_status ff_vit_check_input(const ff_vit_model *m, int32_t in_width, int32_t in_height) {
    const int32_t side = m->arch->img;
    if (in_height != side || in_width != side)
        return ff_fail(FF_E_INVALID_ARGUMENT, "%s takes %dx%d inputs only (its position embedding is fixed), got %dx%d",
                       m->arch->name, (int)side, (int)side, (int)in_width, (int)in_height);
    return FF_OK;
}

ff_status ff_vit_level_shape(const ff_vit_model *m, int32_t level, int32_t in_width, int32_t in_height,
                             int32_t *channels_out, int32_t *width_out, int32_t *height_out) {
    FF_CHECK_ARG(level == 0, "level must be 0 (%s has one feature map), got %d", m->arch->name, (int)level);
    FF_TRY(ff_vit_check_input(m, in_width, in_height));
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
    /* ResNets: the flow options' table defaults (core/params_table.c, which
     * are resnet18's), except the kernels, which the architecture sets. */
    const int32_t K = FF_OBJECT_FLOW_OPTIONS;
    const int32_t only3 = bb && bb->layout.arch ? bb->layout.arch->flow_conv3x3_only
                                                : (int32_t)ff_param_default_int(K, FF_FLOW_CONV3X3_ONLY);
    *out = (ff_backbone_flow_defaults){(int32_t)ff_param_default_int(K, FF_FLOW_INPUT_HEIGHT),
                                       (int32_t)ff_param_default_int(K, FF_FLOW_STEPS), only3,
                                       ff_param_default_f32(K, FF_FLOW_HIDDEN_RATIO)};
}

/* The configuration as metadata: key, value. */
typedef struct meta_item {
    const char *key;
    char value[32];
} meta_item;

static int vit_meta(const ff_vit_arch *a, meta_item items[8]) {
    const char *keys[8] = {"backbone_family",     "backbone_embed_dim", "backbone_num_heads",
                           "backbone_mlp_hidden", "backbone_patch_size", "backbone_img_size",
                           "backbone_blocks_used", "backbone_prefix_tokens"};
    const int32_t vals[8] = {0, a->embed, a->heads, a->mlp_hidden, a->patch, a->img, a->used_blocks, ff_vit_prefix(a)};
    for (int i = 0; i < 8; i++) {
        items[i].key = keys[i];
        if (i == 0) snprintf(items[i].value, sizeof items[i].value, "%s", a->family == FF_VIT_DEIT ? "deit" : "cait");
        else snprintf(items[i].value, sizeof items[i].value, "%d", (int)vals[i]);
    }
    return 8;
}

ff_status ff_backbone_write_meta(const ff_backbone *bb, ff_st_writer *w) {
    if (!bb->vit) return FF_OK;
    meta_item items[8];
    const int n = vit_meta(bb->vit->arch, items);
    for (int i = 0; i < n; i++) FF_TRY(ff_st_writer_set_meta(w, items[i].key, items[i].value));
    return FF_OK;
}

ff_status ff_backbone_check_meta(const ff_backbone *bb, const ff_st_file *f) {
    if (!bb->vit) return FF_OK;
    meta_item items[8];
    const int n = vit_meta(bb->vit->arch, items);
    for (int i = 0; i < n; i++) {
        const char *v = ff_st_meta(f, items[i].key);
        if (v && strcmp(v, items[i].value) != 0)
            return ff_fail(FF_E_BAD_FORMAT, "metadata %s is '%s' but %s has %s", items[i].key, v,
                           bb->vit->arch->name, items[i].value);
    }
    return FF_OK;
}
