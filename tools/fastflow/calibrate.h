/* Score statistics for `fastflow train`: the validation images (training
 * images held out, or a --val folder) are scored with the trained flow and
 * ff_score_statistics turns their maps into thresholds and the
 * normalisation range, which ff_flow_with_statistics attaches to the flow
 * that is saved. */
#ifndef FF_CLI_CALIBRATE_H
#define FF_CLI_CALIBRATE_H

#include <stddef.h>
#include <stdint.h>

#include "eval/dataset.h"
#include "fastflow.h"

/* The validation set: paths, with labels and mask paths for a labelled set
 * (NULL for normal images only; a NULL mask path: no mask). Borrowed. */
typedef struct {
    size_t n;
    char *const *paths;
    const uint8_t *labels;
    char *const *mask_paths;
    const char *source; /* score.source label */
} calib_set;

/* Splits ds's training images into training and held-out images: image i
 * (in the data set's sorted order) is held out when floor((i+1)*fraction)
 * > floor(i*fraction), which spreads floor(n*fraction) held-out images
 * evenly and deterministically. train/held receive malloc'd arrays of
 * borrowed paths (free the arrays only). Returns 0, or prints an error
 * and returns 1 (fewer than one image on either side). */
int calib_split(const char *cmd, const ff_dataset *ds, float fraction, char ***train, size_t *n_train,
                char ***held, size_t *n_held);

/* Scores `set` with `flow` (raw maps at the model's size, no smoothing),
 * computes the statistics and returns the flow carrying them in *out.
 * Prints the statistics. Returns 0, or prints an error and returns 1. */
int calib_run(const char *cmd, const ff_flow *flow, const calib_set *set, ff_flow **out);

#endif
