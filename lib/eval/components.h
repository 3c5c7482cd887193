/* Connected components of a binary mask, as the MVTec AD evaluation code
 * finds its ground-truth regions: scipy.ndimage.label(mask, np.ones((3, 3)))
 * i.e. 8-connectivity (diagonal neighbours join). anomalib's AUPRO uses
 * 8-connectivity as well (cv2.connectedComponents' default), although it
 * builds its curve differently (per-region ROC curves interpolated onto a
 * common FPR grid), so its AUPRO can differ slightly from the official one
 * that ff_metric_pro reproduces. */
#ifndef FF_EVAL_COMPONENTS_H
#define FF_EVAL_COMPONENTS_H

#include <stdint.h>

/* Labels the 8-connected components of the non-zero pixels of `mask`
 * (height x width, packed) into `labels`: 0 for zero pixels, 1..count for
 * the components in raster order of their first pixel (scipy's numbering).
 * `stack` is scratch of height*width uint32. Returns the component count. */
uint32_t ff_label_components8(const uint8_t *mask, int32_t width, int32_t height,
                              uint32_t *labels, uint32_t *stack);

#endif
