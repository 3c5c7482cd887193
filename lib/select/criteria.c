#include "select/criteria.h"

#include <math.h>
#include <string.h>


#include "core/error.h"

static const char *const NAMES[FF_SEL_NUM_CRITERIA] = {"normal-spread", "normal-mean", "image-auroc",
                                                       "pixel-auroc", "mean-auroc"};

const char *ff_select_criterion_name(int32_t criterion) {
    return criterion >= 0 && criterion < FF_SEL_NUM_CRITERIA ? NAMES[criterion] : NULL;
}

ff_status ff_select_criterion_from_name(const char *name, int32_t *criterion_out) {
    ff_clear_error();
    FF_CHECK_ARG(name != NULL, "name is NULL");
    FF_CHECK_ARG(criterion_out != NULL, "criterion_out is NULL");
    for (int32_t c = 0; c < FF_SEL_NUM_CRITERIA; c++)
        if (strcmp(name, NAMES[c]) == 0) {
            *criterion_out = c;
            return FF_OK;
        }
    return ff_fail(FF_E_INVALID_ARGUMENT, "unknown selection criterion '%s' (normal-spread, normal-mean, "
                   "image-auroc, pixel-auroc, mean-auroc)", name);
}

int ff_sel_higher_is_better(int32_t c) { return c >= FF_SELECT_IMAGE_AUROC; }

int ff_sel_needs_anomalies(int32_t c) { return c >= FF_SELECT_IMAGE_AUROC; }

static int is_normal(const ff_sel_scored *s, int32_t i) { return s->labels == NULL || s->labels[i] == 0; }

/* Mean and population standard deviation of the normal images' scores, or
 * the mean of their map values; both in double, in index order. */
static int normal_stats(const ff_sel_scored *s, int32_t c, double *value) {
    double sum = 0.0, sq = 0.0, count = 0.0;
    for (int32_t i = 0; i < s->n; i++) {
        if (!is_normal(s, i)) continue;
        if (c == FF_SELECT_NORMAL_SPREAD) {
            sum += s->scores[i];
            sq += (double)s->scores[i] * s->scores[i];
            count += 1.0;
        } else {
            const float *m = s->maps + (size_t)i * s->hw;
            for (size_t p = 0; p < s->hw; p++) sum += m[p];
            count += (double)s->hw;
        }
    }
    if (count == 0.0) return -1;
    double mean = sum / count;
    if (c == FF_SELECT_NORMAL_MEAN) {
        *value = mean;
        return 0;
    }
    double var = sq / count - mean * mean;
    *value = sqrt(var > 0.0 ? var : 0.0);
    return 0;
}

int ff_sel_criterion_value(int32_t c, const ff_sel_scored *s, double *value) {
    if (s == NULL || value == NULL || s->n <= 0 || s->scores == NULL) return -1;
    if (c == FF_SELECT_NORMAL_SPREAD) return normal_stats(s, c, value);
    if (c == FF_SELECT_NORMAL_MEAN) return s->maps ? normal_stats(s, c, value) : -1;
    if (c < 0 || c >= FF_SEL_NUM_CRITERIA || s->labels == NULL) return -1;
    double img = 0.0, pix = 0.0;
    if (c != FF_SELECT_PIXEL_AUROC && ff_metric_auroc(s->scores, s->labels, (uint64_t)s->n, &img) != FF_OK) return -1;
    if (c != FF_SELECT_IMAGE_AUROC) {
        if (s->maps == NULL || s->masks == NULL) return -1;
        if (ff_metric_auroc(s->maps, s->masks, (uint64_t)s->n * s->hw, &pix) != FF_OK) return -1;
    }
    *value = c == FF_SELECT_IMAGE_AUROC ? img : c == FF_SELECT_PIXEL_AUROC ? pix : 0.5 * (img + pix);
    return 0;
}

void ff_sel_tracker_init(ff_sel_tracker *t, int higher_better, int32_t patience) {
    memset(t, 0, sizeof *t);
    t->higher_better = higher_better;
    t->patience = patience;
}

int ff_sel_tracker_update(ff_sel_tracker *t, int32_t epoch, double value) {
    int better = t->best_epoch == 0 || (t->higher_better ? value > t->best : value < t->best);
    if (better) {
        t->best = value;
        t->best_epoch = epoch;
        t->since_best = 0;
    } else {
        t->since_best++;
    }
    return better;
}

int ff_sel_tracker_should_stop(const ff_sel_tracker *t) { return t->best_epoch > 0 && t->since_best >= t->patience; }
