/* The flow engine: a per-thread working object that runs the FastFlow
 * flows of every feature level forward (z, log-det, loss, anomaly map) and,
 * for training, backward (the gradient of the loss with respect to every
 * parameter). It owns the oneDNN primitives (created for one batch size,
 * recreated when the batch size grows), the activations kept for backward
 * and all scratch buffers, so repeated calls allocate nothing.
 *
 * Parameters are passed in on every call (flat array laid out by
 * ff_flow_layout), so one engine serves a read-only ff_flow (scoring) or a
 * trainer's mutable copy. The layout must outlive the engine. */
#ifndef FF_FLOW_ENGINE_H
#define FF_FLOW_ENGINE_H

#include <stdint.h>

#include "flow/flow_layout.h"

typedef struct ff_flow_engine ff_flow_engine;

/* training != 0 keeps what backward needs. */
ff_status ff_flow_engine_create(const ff_flow_layout *layout, int32_t training, ff_flow_engine **out);
void ff_flow_engine_destroy(ff_flow_engine *engine);

/* Declares (constant != 0) that the parameters passed to forward do not
 * change while this setting holds, as for a read-only ff_flow when
 * scoring: the engine then keeps the subnet weights in oneDNN's formats
 * between calls instead of reordering them on every call (~18 MB of
 * weight traffic per forward for resnet18). The cache is keyed on the
 * params pointer: passing another pointer refreshes it; changing the
 * values behind the same pointer is NOT detected (call this again, or
 * use 0). Inference engines only (FF_E_STATE for training engines). */
ff_status ff_flow_engine_set_params_constant(ff_flow_engine *engine, int32_t constant);

/* Runs the subnet convolutions in `precision` (enum ff_precision;
 * FF_PRECISION_FP32 at creation) from the next forward; everything else
 * (LayerNorm, couplings, log-dets, maps) stays float32/double, and so do
 * a training engine's gradients (bf16 goes into the convolutions only).
 * FF_E_UNSUPPORTED: bf16 on a CPU without native bf16, FP32_WINOGRAD on a
 * training engine. Forgets the last forward's results. */
ff_status ff_flow_engine_set_precision(ff_flow_engine *engine, int32_t precision);

/* Forward pass on a batch of `n` samples. feats[l] is level l's feature map,
 * NCHW float32 [n, C_l, H_l, W_l], before the LayerNorm (the engine applies
 * it when the level has one). Outputs, each optional (NULL = not wanted):
 *   z_out[l]       [n, C_l, H_l, W_l]  the flow output of level l
 *   logdet_out     [n * num_levels]    per sample and level (sample-major:
 *                                      logdet_out[i * num_levels + l]),
 *                                      including the LayerNorm-free flow
 *                                      log-det only (as anomalib)
 *   loss_out       the training loss: sum over levels of the mean over the
 *                  batch of (0.5 * sum z^2 - logdet)
 * In training mode the activations of this call are kept for
 * ff_flow_engine_backward. */
ff_status ff_flow_engine_forward(ff_flow_engine *engine, const float *params, const int32_t *perms,
                                 const float *const *feats, int32_t n, float *const *z_out,
                                 float *logdet_out, float *loss_out);

/* Anomaly maps of the last forward call: [n, in_h, in_w], the mean over
 * levels of the bilinear upsampling (align_corners = false) of
 * -exp(-0.5 * mean over channels of z^2). */
ff_status ff_flow_engine_anomaly_maps(ff_flow_engine *engine, float *maps_out, size_t capacity);

/* Gradient of the last forward call's loss with respect to every parameter,
 * written (not accumulated) into grads (layout->num_params floats). Requires
 * training mode and a preceding forward with the same params. */
ff_status ff_flow_engine_backward(ff_flow_engine *engine, const float *params, const int32_t *perms,
                                  float *grads);

#endif
