/* The selection set of ff_selector (and so of `fastflow train --epochs
 * auto` and the study in tools/study): the images a stopping criterion
 * scores after every epoch, pre-processed once and kept in memory
 * ([n, 3, H, W] floats at the model's size; 768 KiB an image at 256x256),
 * with 0/1 labels and 0/1 masks at the model's size.
 *  - synthetic: held-out normal images and, for each, two copies with a
 *    synthetic anomaly (synth.h; the kinds cycle so that all four appear),
 *    labelled 1 with their masks;
 *  - labelled: the caller's own good and defect images, masks when given. */
#ifndef FF_SELECT_SET_H
#define FF_SELECT_SET_H

#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"
#include "select/criteria.h"

typedef struct {
    int32_t n, cap, width, height;
    size_t hw;
    float *inputs;   /* [cap, 3, height, width] */
    uint8_t *labels; /* cap */
    uint8_t *masks;  /* cap * hw; NULL until an image comes with a mask */
    float *maps, *scores; /* n * hw and n, sized at scoring */
    int32_t scored_n;     /* images maps and scores have room for */
} ff_sel_set;

/* Synthetic anomalies per held-out image. */
#define FF_SEL_SYNTH_PER_IMAGE 2

/* Chooses the held-out training images deterministically from `seed`:
 * n_held = clamp(round(n * 0.1), 2, 16) (never more than n - 1) images
 * drawn by a splitmix64 Fisher-Yates shuffle, returned in increasing order
 * in held (capacity min(n, 16)). Returns n_held, or 0 when n < 3 (or out
 * of memory). */
size_t ff_sel_split_indices(size_t n, int64_t seed, size_t *held);

/* The selection set in words, for training records and logs: "16
 * held-out normal training images + 32 synthetic anomalies" (n held-out
 * images) or "6 labelled images (3 good, 3 defect)" (labelled: n images,
 * n_defect of them anomalous). */
void ff_sel_describe(int labelled, size_t n, size_t n_defect, char *buf, size_t cap);

/* An empty set of images at width x height (the model's input size). */
void ff_sel_set_init(ff_sel_set *s, int32_t width, int32_t height);
/* Appends one image: pre-processes pixels (as ff_image_preprocess takes
 * them) to the model's size; label 0/1; mask (GRAY8, mask_width x
 * mask_height, rows mask_row_stride bytes apart, 0 = packed; NULL: none,
 * i.e. all normal) resized with nearest neighbour, non-zero -> 1, as
 * anomalib's masks (eval/mask.h). On failure the set is unchanged. */
ff_status ff_sel_set_add(ff_sel_set *s, const uint8_t *pixels, int32_t width, int32_t height, size_t row_stride,
                         int32_t pixel_format, uint8_t label, const uint8_t *mask, int32_t mask_width,
                         int32_t mask_height, size_t mask_row_stride);
/* Appends FF_SEL_SYNTH_PER_IMAGE anomalous copies of each of the set's n
 * images (all normal), drawn from `seed`, after them; CutPaste takes its
 * patch from the next image. */
ff_status ff_sel_set_add_synthetic(ff_sel_set *s, int64_t seed);
/* Scores the set with `flow` (raw maps at the model's size) and points *out
 * at the results (valid until the next call). */
ff_status ff_sel_set_score(ff_sel_set *s, const ff_flow *flow, ff_sel_scored *out);
void ff_sel_set_free(ff_sel_set *s);

#endif
