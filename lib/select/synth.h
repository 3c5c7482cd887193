/* Synthetic anomalies for the selection set of ff_selector (`fastflow train
 * --epochs auto`): defects pasted into held-out normal images, in the model's
 * pre-processed input space (planar float [3, H, W], ImageNet-normalised),
 * so that no image is resized twice. Four kinds, each drawn from its own
 * splitmix64 stream (core/rng.h) seeded by the caller:
 *  - CutPaste (Li et al. 2021): a rectangle of another normal image pasted
 *    at a random place (a plausible texture in the wrong place);
 *  - noise patch: an ellipse of smooth value noise in a random colour,
 *    alpha-blended (a foreign texture);
 *  - scratch: a thin dark or bright line segment, as `fastflow demo` draws;
 *  - spot: a small dark or bright disc.
 * Sizes are given for a 256-pixel side and scale with the image. */
#ifndef FF_SELECT_SYNTH_H
#define FF_SELECT_SYNTH_H

#include <stdint.h>

enum ff_sel_synth_kind {
    FF_SEL_SYNTH_CUTPASTE = 0,
    FF_SEL_SYNTH_NOISE = 1,
    FF_SEL_SYNTH_SCRATCH = 2,
    FF_SEL_SYNTH_SPOT = 3
};
#define FF_SEL_SYNTH_NUM_KINDS 4

/* "cutpaste", "noise", "scratch", "spot"; NULL when unknown. */
const char *ff_sel_synth_kind_name(int32_t kind);

/* Pastes an anomaly of `kind` into img ([3, height, width], modified in
 * place); donor (same shape; may equal img) is the CutPaste source. mask
 * (width*height bytes) receives 1 on the changed pixels, 0 elsewhere.
 * Returns 0, or -1 on a bad argument (unknown kind, sides < 16). */
int ff_sel_synth_paste(int32_t kind, uint64_t seed, float *img, const float *donor, int32_t width, int32_t height,
                    uint8_t *mask);

#endif
