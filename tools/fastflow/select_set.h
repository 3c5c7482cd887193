/* The selection set of `fastflow train --epochs auto`: the images a
 * stopping criterion scores after every epoch, pre-processed once and kept
 * in memory ([n, 3, H, W] floats at the model's size; 768 KiB an image at
 * 256x256), with labels and masks at the model's size.
 *  - synthetic: held-out normal training images and, for each, two copies
 *    with a synthetic anomaly (select_synth.h; the kinds cycle so that all
 *    four appear), labelled 1 with their masks;
 *  - labelled: the user's own images (--val DIR with a test split: good and
 *    defect images, masks when the set has them). */
#ifndef FF_CLI_SELECT_SET_H
#define FF_CLI_SELECT_SET_H

#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"
#include "select_criteria.h"

typedef struct {
    int32_t n, width, height;
    size_t hw;
    float *inputs;   /* [n, 3, height, width] */
    uint8_t *labels; /* n */
    uint8_t *masks;  /* n * hw; NULL without masks */
    float *maps, *scores;
} sel_set;

/* Synthetic anomalies per held-out image. */
#define SEL_SYNTH_PER_IMAGE 2

/* Chooses the held-out training images deterministically from `seed`:
 * n_held = clamp(round(n * 0.1), 2, 16) (never more than n - 1) images
 * drawn by a splitmix64 Fisher-Yates shuffle, returned in increasing order
 * in held (capacity n). Returns n_held, or 0 when n < 3 (or out of memory). */
size_t sel_split_indices(size_t n, int64_t seed, size_t *held);

/* Builds the synthetic set from the held-out image files. Returns 0, or
 * prints an error prefixed with "fastflow <cmd>:" and returns 1. */
int sel_set_synthetic(const char *cmd, char *const *paths, size_t n, int32_t width, int32_t height, int64_t seed,
                      sel_set *out);
/* Builds a labelled set; mask_paths may be NULL, or hold NULL for good
 * images. */
int sel_set_labelled(const char *cmd, char *const *paths, const uint8_t *labels, char *const *mask_paths, size_t n,
                     int32_t width, int32_t height, sel_set *out);
/* Scores the set with `flow` (raw maps at the model's size) and points *s at
 * the results (valid until the next call). Returns 0, or prints an error and
 * returns 1. */
int sel_set_score(const char *cmd, sel_set *set, const ff_flow *flow, sel_scored *s);
void sel_set_free(sel_set *set);

#endif
