/* Score statistics carried by a flow: ff_flow_with_statistics builds a
 * copy of a flow with them (flows stay immutable: statistics are part of a
 * flow from its construction), ff_flow_get_statistic reads them, and the
 * model loader checks them with ff_flow_check_statistics. */
#include <math.h>
#include <string.h>

#include "core/error.h"
#include "flow/flow_internal.h"

ff_status ff_flow_check_statistics(float image_thr, float pixel_thr, float lo, float hi) {
    if (!isfinite(image_thr) || !isfinite(pixel_thr) || !isfinite(lo) || !isfinite(hi))
        return ff_fail(FF_E_INVALID_ARGUMENT, "statistics must be finite (image threshold %g, pixel threshold %g, "
                       "min %g, max %g)", (double)image_thr, (double)pixel_thr, (double)lo, (double)hi);
    if (!(hi > lo)) return ff_fail(FF_E_INVALID_ARGUMENT, "statistics max %g must exceed min %g", (double)hi, (double)lo);
    return FF_OK;
}

ff_status ff_flow_with_statistics(const ff_flow *flow, float image_threshold, float pixel_threshold, float min,
                                  float max, const char *source, ff_flow **out) {
    ff_clear_error();
    FF_CHECK_ARG(flow != NULL, "flow is NULL");
    FF_CHECK_ARG(out != NULL, "out is NULL");
    FF_TRY(ff_flow_check_statistics(image_threshold, pixel_threshold, min, max));
    if (source == NULL) source = "user";
    size_t len = strlen(source);
    FF_CHECK_ARG(len >= 1 && len < sizeof flow->stats_source, "source must have 1 to %zu characters, got %zu",
                 sizeof flow->stats_source - 1, len);
    for (size_t i = 0; i < len; i++)
        FF_CHECK_ARG(source[i] >= 0x20 && source[i] < 0x7f, "source holds a non-printable or non-ASCII byte at %zu", i);
    ff_flow *f = NULL;
    FF_TRY(ff_flow_alloc(flow->backbone, &flow->layout, flow->seed, &f));
    memcpy(f->params, flow->params, flow->layout.num_params * sizeof(float));
    memcpy(f->perms, flow->perms, flow->layout.num_perm * sizeof(int32_t));
    f->has_stats = 1;
    f->stats[FF_STAT_IMAGE_THRESHOLD - 1] = image_threshold;
    f->stats[FF_STAT_PIXEL_THRESHOLD - 1] = pixel_threshold;
    f->stats[FF_STAT_MIN - 1] = min;
    f->stats[FF_STAT_MAX - 1] = max;
    memcpy(f->stats_source, source, len + 1);
    ff_status st = ff_flow_copy_training_record(flow, f);
    if (st != FF_OK) {
        ff_flow_destroy(f);
        return st;
    }
    *out = f;
    return FF_OK;
}

ff_status ff_flow_get_statistic(const ff_flow *flow, int32_t key, float *value_out) {
    ff_clear_error();
    FF_CHECK_ARG(flow != NULL && value_out != NULL, "flow or value_out is NULL");
    FF_CHECK_ARG(key >= FF_STAT_IMAGE_THRESHOLD && key <= FF_STAT_MAX, "unknown statistic key %d", (int)key);
    if (!flow->has_stats)
        return ff_fail(FF_E_STATE, "the flow has no score statistics (compute them on validation images with "
                       "ff_score_statistics and ff_flow_with_statistics, or 'fastflow train --val-fraction/--val')");
    *value_out = flow->stats[key - 1];
    return FF_OK;
}
