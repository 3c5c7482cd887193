/* oneDNN primitive descriptors for the pieces of a transformer block.
 * Activations are plain row-major token matrices [rows, features]; every
 * descriptor uses a user-managed scratchpad. */
#ifndef FF_BACKBONE_VIT_BLOCKS_H
#define FF_BACKBONE_VIT_BLOCKS_H

#include <oneapi/dnnl/dnnl.h>

#include "fastflow.h"

/* Linear y = x W^T + b over `rows` tokens: x [rows, in], W [out, in] as in
 * timm's state dict (read in place through a transposed view), b [out]
 * (bias = 0: none), y [rows, out]. Post-ops in this order: gelu (erf
 * form); gamma (y *= gamma[out], CaiT's LayerScale, a binary post-op whose
 * src1 is post-op 0); residual (y += the destination's previous content,
 * the residual stream). */
ff_status ff_vit_linear_pd(int64_t rows, int64_t in, int64_t out, int bias, int gelu, int gamma, int residual,
                           dnnl_primitive_desc_t *pd);

/* LayerNorm over the last dimension of [rows, dim] with weight and bias
 * (DNNL_ARG_SCALE / DNNL_ARG_SHIFT), eps 1e-6; src and dst may differ. */
ff_status ff_vit_layernorm_pd(int64_t rows, int64_t dim, dnnl_primitive_desc_t *pd);

/* Softmax along the rows of [rows, cols], in place. */
ff_status ff_vit_softmax_pd(int64_t rows, int64_t cols, dnnl_primitive_desc_t *pd);

/* Per image: attention logits S[h] = scale * Q[h] K[h]^T, with Q and K
 * read as strided views of the qkv output rows [T, 3D] (src: the Q part,
 * weights: the K part), S dense [H, T, T]. */
ff_status ff_vit_scores_pd(int64_t heads, int64_t tokens, int64_t head_dim, float scale,
                           dnnl_primitive_desc_t *pd);

/* Per image: CaiT's talking heads, Y [H, T*T] = Waug [H, H+1] x
 * Saug [H+1, T*T], where Saug is the maps stacked on a row of ones (the
 * last column of Waug is the bias). */
ff_status ff_vit_talk_pd(int64_t heads, int64_t tokens, dnnl_primitive_desc_t *pd);

/* Per image: O[h] = A[h] V[h], V a strided view of the qkv rows, O written
 * head by head into the token rows [T, D] (timm's transpose + reshape). */
ff_status ff_vit_context_pd(int64_t heads, int64_t tokens, int64_t head_dim, dnnl_primitive_desc_t *pd);

/* The patch embedding: a conv (k = stride = patch) from the NCHW input
 * [n, 3, img, img], weights `any`, to [n, grid*grid, D] token rows (NHWC)
 * or, with dst_any, to the destination format oneDNN prefers (its fast
 * kernels want a blocked one; the caller reorders to NHWC). */
ff_status ff_vit_patch_pd(int64_t n, int64_t img, int64_t dim, int64_t patch, int dst_any,
                          dnnl_primitive_desc_t *pd);

/* Reorder of the patch conv's output (layout `src`) to NHWC token rows. */
ff_status ff_vit_patch_rows_pd(const dnnl_memory_desc_t *src, dnnl_primitive_desc_t *pd);

/* The feature map: token rows [n][T][D] without the first `prefix` rows
 * (src handle set past them) reordered to NCHW [n, D, grid, grid]. */
ff_status ff_vit_to_map_pd(int64_t n, int64_t tokens, int64_t prefix, int64_t dim, int64_t grid,
                           dnnl_primitive_desc_t *pd);

#endif
