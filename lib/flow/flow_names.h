/* anomalib names of every flow tensor. A trained anomalib FastFlow state
 * dict (and libfastflow's own model files) name each tensor as
 *   norms.{l}.weight / norms.{l}.bias                         [C, H, W]
 *   fast_flow_blocks.{l}.module_list.{k}.global_scale         [1, C, 1, 1]
 *   fast_flow_blocks.{l}.module_list.{k}.global_offset        [1, C, 1, 1]
 *   fast_flow_blocks.{l}.module_list.{k}.w_perm               [C, C, 1, 1]  one-hot
 *   fast_flow_blocks.{l}.module_list.{k}.w_perm_inv           [C, C, 1, 1]  its transpose
 *   fast_flow_blocks.{l}.module_list.{k}.subnet.1.weight      [hidden, c1, k, k]
 *   fast_flow_blocks.{l}.module_list.{k}.subnet.1.bias        [hidden]
 *   fast_flow_blocks.{l}.module_list.{k}.subnet.4.weight      [2*c2, hidden, k, k]
 *   fast_flow_blocks.{l}.module_list.{k}.subnet.4.bias        [2*c2]
 * (subnet indices 1 and 4 because anomalib's subnet is ZeroPad2d, Conv2d,
 * ReLU, ZeroPad2d, Conv2d). This file enumerates them for a layout, with
 * each tensor's shape and where it lives, so model files, golden tests and
 * checkpoint importers share one mapping. Lightning checkpoints prefix the
 * names with "model."; stripping that is the caller's business. */
#ifndef FF_FLOW_NAMES_H
#define FF_FLOW_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "flow/flow_layout.h"

enum ff_flow_name_kind {
    FF_FLOW_NAME_PARAM = 0,    /* float tensor at params[offset .. offset+count) */
    FF_FLOW_NAME_PERM = 1,     /* w_perm: one-hot [C,C,1,1] float matrix built from perms[offset .. +C) */
    FF_FLOW_NAME_PERM_INV = 2  /* w_perm_inv: the transpose of w_perm, same perm entries */
};

typedef struct ff_flow_tensor_name {
    char name[96];
    int32_t kind;     /* enum ff_flow_name_kind */
    int32_t level;    /* feature level l */
    int32_t step;     /* coupling step k, -1 for the LayerNorm tensors */
    int32_t ndim;
    int64_t shape[4];
    size_t offset;    /* PARAM: in floats of the flat parameter array; PERM(_INV): in the perm array */
    size_t count;     /* elements of the tensor as stored in the file (C*C for the perm matrices) */
} ff_flow_tensor_name;

/* Number of named tensors for the layout (LayerNorm tensors only when the
 * level has a norm; 8 per coupling step). */
size_t ff_flow_names_count(const ff_flow_layout *layout);

/* The index-th tensor, in a fixed order: per level, norms first, then the
 * steps in order, each as global_scale, global_offset, w_perm, w_perm_inv,
 * subnet.1.weight, subnet.1.bias, subnet.4.weight, subnet.4.bias.
 * FF_E_INVALID_ARGUMENT when index >= ff_flow_names_count(). */
ff_status ff_flow_names_get(const ff_flow_layout *layout, size_t index, ff_flow_tensor_name *out);

/* Looks a name up; FF_E_INVALID_ARGUMENT (message names it) if unknown. */
ff_status ff_flow_names_find(const ff_flow_layout *layout, const char *name, ff_flow_tensor_name *out);

/* Writes the one-hot [c, c] matrix of perm (w[i][perm[i]] = 1, the
 * transpose when inverse != 0) into out (c*c floats). */
void ff_flow_perm_to_matrix(const int32_t *perm, int32_t c, int32_t inverse, float *out);

/* Reads perm back from a [c, c] w_perm matrix (inverse != 0: from
 * w_perm_inv). FF_E_BAD_FORMAT unless it is exactly a permutation matrix
 * (entries 0 or 1, one 1 per row and per column); perm_out is then
 * partly written. */
ff_status ff_flow_perm_from_matrix(const float *w, int32_t c, int32_t inverse, int32_t *perm_out);

#endif
