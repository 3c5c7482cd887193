/* The per-thread runner of a transformer backbone: for one batch size it
 * creates every oneDNN primitive once and keeps the token buffers; the
 * feature map of the last run stays inside until the next. */
#ifndef FF_BACKBONE_VIT_FORWARD_H
#define FF_BACKBONE_VIT_FORWARD_H

#include <stddef.h>

#include "backbone/vit_model.h"

typedef struct ff_vit_runner ff_vit_runner;

/* The runner borrows `model`, which must outlive it. */
ff_status ff_vit_runner_create(const ff_vit_model *model, ff_vit_runner **out);
void ff_vit_runner_destroy(ff_vit_runner *r);

/* Runs on a pre-processed NCHW batch [n, 3, img, img] (img: the arch's
 * input side; the caller checks shapes and finiteness). A new n rebuilds
 * the primitives. */
ff_status ff_vit_runner_run(ff_vit_runner *r, const float *input, int32_t n);

/* The features of the last run, NCHW [n, D, grid, grid], and their count. */
const float *ff_vit_runner_features(const ff_vit_runner *r, size_t *count);

#endif
