/* Internal view of backbones, shared by the extractor, flows (which embed
 * the backbone in model files) and the trainer/scorer. */
#ifndef FF_BACKBONE_BACKBONE_H
#define FF_BACKBONE_BACKBONE_H

#include "fastflow.h"
#include "tensor/safetensors.h"

/* Adds a reference (backbones are refcounted; ff_backbone_destroy drops
 * one). Returns the same pointer. Thread-safe. */
const ff_backbone *ff_backbone_retain(const ff_backbone *bb);

/* Writes the weights the backbone was loaded from, under their torchvision
 * / timm names with `prefix` prepended (e.g. "feature_extractor."), in their
 * original dtype, so that the file loads again with ff_backbone_load. */
ff_status ff_backbone_export_tensors(const ff_backbone *bb, ff_st_writer *w, const char *prefix);

/* Loads from an already opened safetensors file (used for model files
 * that embed their backbone); `prefix` is the names' prefix ("" or e.g.
 * "feature_extractor."), NULL to detect it. */
ff_status ff_backbone_load_st(const char *arch, const ff_st_file *f, const char *prefix,
                              ff_backbone **out);

/* Runs the extractor's ResNet convolutions in `precision` (enum
 * ff_precision; FF_PRECISION_FP32 at creation) from the next run: with
 * bf16, activations and weights are bf16 (weights converted once per
 * built shape), accumulation and the feature maps read back are float32.
 * Transformers ignore it (their matmuls stay float32). FF_E_UNSUPPORTED
 * for bf16 on a CPU without native bf16. */
ff_status ff_extractor_set_precision(ff_extractor *ex, int32_t precision);

/* Whether the backbone's feature maps go through the flow's LayerNorm
 * (ResNets: 1, ViTs: 0). */
int32_t ff_backbone_uses_layernorm(const ff_backbone *bb);

/* The flow settings the spec gives per backbone family, for options a
 * caller leaves unset: ResNets: input 256, 8 steps, hidden ratio 1.0,
 * 3x3-only; transformers: their fixed input side (384 DeiT-B, 448
 * CaiT-M48, 224 the small ones), 20 steps, hidden ratio 0.16, alternating
 * 3x3 / 1x1 kernels. */
typedef struct ff_backbone_flow_defaults {
    int32_t input_side;
    int32_t steps;
    int32_t conv3x3_only;
    float hidden_ratio;
} ff_backbone_flow_defaults;
void ff_backbone_get_flow_defaults(const ff_backbone *bb, ff_backbone_flow_defaults *out);

/* Model-file metadata describing the backbone's configuration beyond its
 * name: for transformers "backbone_family" (deit / cait),
 * "backbone_embed_dim", "backbone_num_heads", "backbone_mlp_hidden",
 * "backbone_patch_size", "backbone_img_size", "backbone_blocks_used",
 * "backbone_prefix_tokens"; nothing for ResNets (the name says all). */
ff_status ff_backbone_write_meta(const ff_backbone *bb, ff_st_writer *w);
/* Checks those keys, where present, against the loaded backbone:
 * FF_E_BAD_FORMAT naming the key and both values on a mismatch. */
ff_status ff_backbone_check_meta(const ff_backbone *bb, const ff_st_file *f);

/* Unchecked internal twins of public entry points (docs/api-conventions.md):
 * the same work without argument validation or clearing the error message,
 * for library code that has validated already. ff_extractor_run_unchecked
 * skips the NaN/Inf scan of the input: the scorer scans a caller's tensor
 * itself (naming the offset), and pre-processed pixels are finite by
 * construction. ff_extractor_read_unchecked needs a successful run and a
 * level in range; it still reports a short buffer. */
ff_status ff_extractor_run_unchecked(ff_extractor *ex, const float *input, int32_t batch, int32_t in_width,
                                     int32_t in_height);
ff_status ff_extractor_read_unchecked(const ff_extractor *ex, int32_t level, float *out, size_t capacity);

#endif
