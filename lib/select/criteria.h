/* Stopping criteria of the epoch selection (ff_selector, `fastflow train
 * --epochs auto`, the study in tools/study): after each epoch the flow
 * scores a selection set that the evaluation data never enters (held-out
 * normal training images, synthetic anomalies pasted into them, or the
 * user's own labelled images), a criterion (enum ff_select_criterion of
 * the public header) turns the maps and scores into one number, and a
 * tracker keeps the best epoch and says when to stop. Pure functions over
 * caller arrays: they are unit-tested against hand-computed values
 * (tests/test_select.c). */
#ifndef FF_SELECT_CRITERIA_H
#define FF_SELECT_CRITERIA_H

#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"

/* FF_SELECT_NORMAL_SPREAD: population std. dev. of the normal images' scores; lower is better.
 * FF_SELECT_NORMAL_MEAN: mean of the normal images' map values (minus the per-pixel likelihood
 *   term exp(-|z|^2/2C), averaged over levels); lower is better.
 * FF_SELECT_IMAGE_AUROC: image AUROC, normal vs anomalous images; higher is better.
 * FF_SELECT_PIXEL_AUROC: pixel AUROC over every map pixel, masks as labels; higher is better.
 * FF_SELECT_MEAN_AUROC: (image AUROC + pixel AUROC) / 2; higher is better. */
#define FF_SEL_NUM_CRITERIA 5

/* 1 when larger values are better. */
int ff_sel_higher_is_better(int32_t c);
/* 1 when the criterion needs anomalous images (labels with a 1). */
int ff_sel_needs_anomalies(int32_t c);

/* A scored selection set: n maps of hw pixels back to back, their n
 * scores, 0/1 labels (NULL: all normal) and 0/1 masks (n*hw; NULL: the
 * pixel criteria do not apply). */
typedef struct {
    int32_t n;
    size_t hw;
    const float *maps;
    const float *scores;
    const uint8_t *labels;
    const uint8_t *masks;
} ff_sel_scored;

/* Computes criterion c on s into *value. Returns 0, or -1 when c does not
 * apply (no normal image, no anomalous image or mask for an AUROC, a
 * metric error); *value is then untouched. */
int ff_sel_criterion_value(int32_t c, const ff_sel_scored *s, double *value);

/* Best-epoch tracking with patience. An epoch improves when its value is
 * strictly better than the best so far (ties keep the earlier epoch: fewer
 * epochs for the same criterion). */
typedef struct {
    int higher_better;
    int32_t patience;   /* stop after this many epochs without improvement */
    int32_t best_epoch; /* 0 before the first update */
    double best;
    int32_t since_best; /* epochs since the best one */
} ff_sel_tracker;

void ff_sel_tracker_init(ff_sel_tracker *t, int higher_better, int32_t patience);
/* Records `value` of `epoch` (1-based, increasing); returns 1 when it is the new best. */
int ff_sel_tracker_update(ff_sel_tracker *t, int32_t epoch, double value);
/* 1 once `patience` epochs in a row brought no improvement. */
int ff_sel_tracker_should_stop(const ff_sel_tracker *t);

#endif
