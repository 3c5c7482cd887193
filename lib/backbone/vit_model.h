/* The weights of a transformer backbone (the used part of a timm DeiT or
 * CaiT), as float32 arrays in the layouts of timm's state dict. They are
 * shared, read-only, by every runner: the matmuls read Linear weights
 * [out, in] in place as transposed matrices, so no runner holds a copy. */
#ifndef FF_BACKBONE_VIT_MODEL_H
#define FF_BACKBONE_VIT_MODEL_H

#include "backbone/vit_arch.h"
#include "fastflow.h"
#include "tensor/safetensors.h"

/* One tensor as it was in the file, converted to float32 (kept with its
 * original dtype and shape for export). */
typedef struct ff_vit_tensor {
    char *name; /* without prefix */
    ff_dtype dtype;
    int32_t ndim;
    int64_t shape[FF_ST_MAX_DIMS];
    float *data;
    size_t count;
} ff_vit_tensor;

typedef struct ff_vit_block_weights {
    const float *norm1_w, *norm1_b, *norm2_w, *norm2_b; /* [D] */
    const float *qkv_w;                                 /* [3D, D] */
    const float *qkv_b;                                 /* [3D], NULL when the model has none */
    const float *proj_w, *proj_b;                       /* [D, D], [D] */
    const float *fc1_w, *fc1_b;                         /* [M, D], [M] */
    const float *fc2_w, *fc2_b;                         /* [D, M], [D] */
    /* CaiT only (NULL for DeiT) */
    const float *gamma_1, *gamma_2; /* [D] LayerScale */
    float *talk_l, *talk_w;         /* proj_l / proj_w as [H, H+1]: weight columns, then
                                       the bias column (see vit_forward.c) */
} ff_vit_block_weights;

typedef struct ff_vit_model {
    const ff_vit_arch *arch;
    const float *patch_w, *patch_b;         /* [D, 3, p, p], [D] */
    const float *cls_token, *dist_token;    /* [D] each, DeiT only */
    const float *pos_embed;                 /* [T, D] (prefix tokens included for DeiT) */
    const float *norm_w, *norm_b;           /* [D] final norm */
    ff_vit_block_weights *blocks;           /* used_blocks */
    size_t ntensors, tensor_cap;
    ff_vit_tensor *tensors;
} ff_vit_model;


/* Loads and checks every tensor the used part needs (missing, mis-shaped,
 * non-finite and wrong-family tensors are FF_E_BAD_FORMAT naming the
 * tensor). Unused tensors (later blocks, heads, CaiT's class-attention
 * blocks) are ignored. */
ff_status ff_vit_model_load(const ff_vit_arch *arch, const ff_st_file *f, const char *prefix,
                            ff_vit_model **out);
void ff_vit_model_free(ff_vit_model *m);

/* Writes the loaded tensors under `prefix` + their timm names, in their
 * original dtype (F64 tensors are written as the float32 values read). */
ff_status ff_vit_model_export(const ff_vit_model *m, ff_st_writer *w, const char *prefix);

#endif
