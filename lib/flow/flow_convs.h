/* The two subnet convolutions of one coupling step as oneDNN primitives,
 * for one (level shape, kernel size, batch size). Every step of a level
 * with the same kernel shares one set (weights are passed per call), so a
 * level has at most two sets. Activations of the flow state stay plain
 * NCHW (the coupling passes read them so); the convolutions work in the
 * formats oneDNN prefers, with reorders at the edges:
 *
 *   forward   x[:, :c1] (strided view) -> conv1 (+bias, ReLU fused) -> h
 *             h -> conv2 (+bias) -> a (plain [n, 2*c2, H, W], raw: the
 *             coupling pass applies the 0.1)
 *   backward  da (plain) -> conv2 bwd-data -> dh, conv2 bwd-weights
 *             (dW2, db2); dh *= (h > 0); conv1 bwd-weights (dW1, db1),
 *             conv1 bwd-data added into dx[:, :c1]
 *
 * Temporaries (reordered inputs and weights, gradients in oneDNN's
 * formats, the user scratchpad) live in a caller-provided workspace of
 * ff_flow_convs_workspace_bytes(), which the engine shares between all
 * its sets and levels since calls run one at a time; the engine also owns
 * what must survive between forward and backward (h per step). Not
 * thread-safe: one engine, one thread. */
#ifndef FF_FLOW_CONVS_H
#define FF_FLOW_CONVS_H

#include <oneapi/dnnl/dnnl.h>
#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"

typedef struct ff_flow_convs ff_flow_convs;

typedef struct ff_flow_conv_shape {
    int32_t n, c, h, w; /* batch and the level's feature map */
    int32_t c1, c2, hidden, kernel;
    /* enum ff_precision. bf16: x1, the weights and h are bf16, the bias
     * and conv2's output a stay float32; for training also da and dh are
     * bf16 while dx and the weight and bias gradients stay float32. The
     * reorders at the edges convert, so the caller's tensors are float32
     * either way (h and the kept x1 are opaque bytes). FP32_WINOGRAD
     * (inference only): 3x3 kernels by Winograd's algorithm where oneDNN
     * has it. */
    int32_t precision;
} ff_flow_conv_shape;

ff_status ff_flow_convs_create(const ff_flow_conv_shape *shape, int32_t training, ff_flow_convs **out);
void ff_flow_convs_destroy(ff_flow_convs *cv);

/* Bytes of workspace every call on this set needs (64-byte aligned). */
size_t ff_flow_convs_workspace_bytes(const ff_flow_convs *cv);

/* Bytes of the hidden activation h (conv1 output, oneDNN's format). */
size_t ff_flow_convs_h_bytes(const ff_flow_convs *cv);

/* Bytes of conv1's (which = 1) or conv2's (which = 2) forward weights in
 * the primitive's format; 0 when that is PyTorch's own layout. */
size_t ff_flow_convs_weight_bytes(const ff_flow_convs *cv, int which);

/* Reorders w1, w2 into the forward formats (w1c, w2c sized by
 * ff_flow_convs_weight_bytes; a buffer is skipped when its size is 0). */
ff_status ff_flow_convs_prepare_weights(ff_flow_convs *cv, dnnl_stream_t stream, void *ws, const float *w1,
                                        const float *w2, float *w1c, float *w2c);

/* Bytes of x1 in conv1's source format. */
size_t ff_flow_convs_x1_bytes(const ff_flow_convs *cv);

/* x: the step input, plain [n, c, H, W]; h_out: ff_flow_convs_h_bytes();
 * a_out: plain [n, 2*c2, H, W] = conv2(relu(conv1(x1))) without the 0.1.
 * x1_keep (optional, ff_flow_convs_x1_bytes()) receives x1 in conv1's
 * format so that backward need not reorder it again. w1c/w2c (optional):
 * the weights already in the forward formats (ff_flow_convs_prepare_weights),
 * used instead of reordering w1/w2. */
ff_status ff_flow_convs_forward(ff_flow_convs *cv, dnnl_stream_t stream, void *ws, const float *w1, const float *b1,
                                const float *w2, const float *b2, const float *x, float *h_out, float *a_out,
                                float *x1_keep, const float *w1c, const float *w2c);

/* da: plain [n, 2*c2, H, W], the gradient wrt the raw conv2 output;
 * x, h: as in the forward call (x1_kept: the forward's x1_keep, or NULL
 * to reorder x again). Adds d/dx1 into dx[:, :c1] (plain [n, c, H, W])
 * and writes dw1, db1, dw2, db2 (PyTorch layouts). */
ff_status ff_flow_convs_backward(ff_flow_convs *cv, dnnl_stream_t stream, void *ws, const float *w1, const float *w2,
                                 const float *x, const float *x1_kept, const float *h, const float *da, float *dx,
                                 float *dw1, float *db1, float *dw2, float *db2);

#endif
