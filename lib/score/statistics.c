/* Score statistics from a scored validation set (ff_score_statistics):
 * thresholds (largest normal score, or F1-optimal with labels) and the
 * normalisation range. lib/flow/flow_stats.c attaches them to a flow. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "fastflow.h"

static int any_one(const uint8_t *v, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (v[i] == 1) return 1;
    return 0;
}

static ff_status check_binary(const uint8_t *v, size_t n, const char *what) {
    for (size_t i = 0; i < n; i++)
        if (v[i] > 1) return ff_fail(FF_E_INVALID_ARGUMENT, "%s[%zu] = %u; expected 0 or 1", what, i, (unsigned)v[i]);
    return FF_OK;
}

/* min/max over values; FF_E_INVALID_ARGUMENT on NaN or infinity. */
static ff_status range_of(const float *v, size_t n, const char *what, float *lo, float *hi) {
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(v[i]))
            return ff_fail(FF_E_INVALID_ARGUMENT, "%s[%zu] is NaN or infinite", what, i);
        if (v[i] < *lo) *lo = v[i];
        if (v[i] > *hi) *hi = v[i];
    }
    return FF_OK;
}

ff_status ff_score_statistics(const float *maps, const float *scores, const uint8_t *labels, const uint8_t *masks,
                              int32_t num_images, int32_t width, int32_t height, float *image_threshold_out,
                              float *pixel_threshold_out, float *min_out, float *max_out) {
    ff_clear_error();
    FF_CHECK_ARG(maps != NULL && scores != NULL, "maps or scores is NULL");
    FF_CHECK_ARG(image_threshold_out != NULL && pixel_threshold_out != NULL && min_out != NULL && max_out != NULL,
                 "an output pointer is NULL");
    FF_CHECK_ARG(num_images >= 1, "num_images must be at least 1, got %d", (int)num_images);
    FF_CHECK_ARG(height >= 1 && width >= 1, "map size %dx%d must be positive", (int)height, (int)width);
    FF_CHECK_ARG(masks == NULL || labels != NULL, "masks need labels (the image labels)");
    size_t hw, total;
    if (!ff_mul_size((size_t)height, (size_t)width, &hw) || !ff_mul_size(hw, (size_t)num_images, &total))
        return ff_fail(FF_E_INVALID_ARGUMENT, "%d maps of %dx%d overflow", (int)num_images, (int)height, (int)width);
    size_t n = (size_t)num_images;
    float lo = INFINITY, hi = -INFINITY, score_hi = -INFINITY, unused = INFINITY;
    FF_TRY(range_of(maps, total, "maps", &lo, &hi));
    FF_TRY(range_of(scores, n, "scores", &unused, &score_hi));
    FF_TRY(range_of(scores, n, "scores", &lo, &hi));
    if (!(hi > lo))
        return ff_fail(FF_E_INVALID_ARGUMENT, "every map value and score is %g: no range to normalise by", (double)lo);
    if (labels) FF_TRY(check_binary(labels, n, "labels"));
    if (masks) FF_TRY(check_binary(masks, total, "masks"));
    float image_thr, pixel_thr;
    if (labels == NULL || !any_one(labels, n)) {
        image_thr = score_hi; /* normal images only: the largest score seen */
    } else {
        FF_TRY(ff_metric_f1_optimal(scores, labels, n, NULL, &image_thr));
    }
    pixel_thr = image_thr;
    if (masks != NULL && any_one(masks, total)) FF_TRY(ff_metric_f1_optimal(maps, masks, total, NULL, &pixel_thr));
    *image_threshold_out = image_thr;
    *pixel_threshold_out = pixel_thr;
    *min_out = lo;
    *max_out = hi;
    return FF_OK;
}

