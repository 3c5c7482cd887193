/* The curves behind the ranking metrics, for plotting (the CLI's HTML
 * report): the ROC curve of (score, label) pairs and the PRO curve of the
 * MVTec AD protocol. Internal. They walk the same sorted data as
 * ff_metric_auroc / ff_metric_pro, and ff_pro_curve's area is computed by
 * the very code of ff_metric_pro, so a plot and its number agree. */
#ifndef FF_EVAL_CURVES_H
#define FF_EVAL_CURVES_H

#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"

/* Points (x[i], y[i]) in walk order (x non-decreasing). A point is kept
 * only when it is at least `min_step` away from the last kept one in x or
 * in y (0 keeps every point); the first and last points are always kept,
 * so a plot at a given resolution loses nothing visible. */
typedef struct ff_curve {
    double *x, *y;
    size_t n, capacity;
    double min_step;
} ff_curve;

/* An empty curve with the given resolution. */
void ff_curve_init(ff_curve *c, double min_step);
/* Appends a point (subject to min_step); `last` forces it in. */
ff_status ff_curve_add(ff_curve *c, double x, double y, int last);
void ff_curve_free(ff_curve *c);

/* ROC curve: (FPR, TPR) at every distinct score taken as the threshold,
 * from the highest down (a sample is positive when score >= threshold),
 * starting at (0, 0) and ending at (1, 1). Inputs as ff_metric_auroc
 * (finite scores, labels 0/1, both classes present). *out must be
 * initialised (ff_curve_init); on failure it is left empty. */
ff_status ff_roc_curve(const float *scores, const uint8_t *labels, uint64_t n, ff_curve *out);

/* PRO curve (FPR, PRO) of ff_metric_pro, from (0, 0) up to FPR max_fpr,
 * the last point interpolated at max_fpr as the integration does, and the
 * normalised area, equal bit for bit to ff_metric_pro's. Inputs as
 * ff_metric_pro; out (initialised) may be NULL. */
ff_status ff_pro_curve(const float *maps, const uint8_t *masks, int32_t num_images, int32_t width,
                       int32_t height, double max_fpr, ff_curve *out, double *aupro_out);

#endif
