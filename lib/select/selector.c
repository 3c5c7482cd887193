/* ff_selector: the epoch selection of the public API (and of `fastflow
 * train --epochs auto`, which drives it). The caller runs the epochs; after
 * each one ff_selector_update takes the trainer's flow (ff_trainer_snapshot:
 * the moving average when the trainer keeps one), scores the selection set
 * (select_set.h), turns the result into one number (criteria.h) and keeps
 * the flow when it is the best so far; ff_selector_best returns that flow
 * with a training record saying how it was chosen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/busy.h"
#include "core/error.h"
#include "core/float_text.h"
#include "select/criteria.h"
#include "select/select_set.h"

#define SELECTOR_ADVICE "use one selector per thread"

enum { SET_EMPTY = 0, SET_NORMAL = 1, SET_LABELLED = 2 };

struct ff_selector {
    ff_busy busy; /* set while a call runs (core/busy.h) */
    int32_t criterion, max_epochs;
    int64_t seed;
    int32_t kind;  /* SET_*: held-out normal images, or labelled ones; never both */
    int32_t n_added, n_defect;
    int32_t built; /* the synthetic copies were added (at the first update) */
    ff_sel_set set;
    ff_sel_tracker tracker;
    ff_flow *best; /* the best epoch's parameters */
    double *curve; /* value after epoch e at curve[e - 1] */
    int32_t epochs_run;
    float ema_decay; /* the trainer's FF_TRAINER_EMA_DECAY at the last update (0: off), for the record */
    int32_t bf16;    /* the trainer ran bf16 convolutions (FF_TRAINER_PRECISION), for the record */
};

ff_status ff_select_held_out(uint64_t num_images, int64_t seed, uint64_t *indices_out, uint64_t capacity,
                             uint64_t *count_out) {
    ff_clear_error();
    FF_CHECK_ARG(count_out != NULL, "count_out is NULL");
    FF_CHECK_ARG(num_images >= 3, "%llu images; holding some out needs at least 3",
                 (unsigned long long)num_images);
    FF_CHECK_ARG(num_images <= SIZE_MAX / sizeof(size_t), "too many images");
    size_t held[16];
    size_t k = ff_sel_split_indices((size_t)num_images, seed, held);
    if (k == 0) return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory for %llu indices",
                               (unsigned long long)num_images);
    if (indices_out == NULL || capacity < k) {
        *count_out = k; /* as ff_flow_get_training_record's length: also on FF_E_BUFFER_TOO_SMALL */
        return ff_fail(FF_E_BUFFER_TOO_SMALL, "%zu indices, capacity %llu", k,
                       (unsigned long long)capacity);
    }
    for (size_t i = 0; i < k; i++) indices_out[i] = held[i];
    *count_out = k;
    return FF_OK;
}

ff_status ff_selector_create(const ff_flow *flow, int32_t criterion, int32_t max_epochs, int32_t patience,
                             int64_t seed, ff_selector **out) {
    ff_clear_error();
    FF_CHECK_ARG(flow != NULL, "flow is NULL");
    FF_CHECK_ARG(out != NULL, "out is NULL");
    FF_CHECK_ARG(criterion >= 0 && criterion < FF_SEL_NUM_CRITERIA,
                 "criterion %d is not an FF_SELECT_* value", (int)criterion);
    FF_CHECK_ARG(max_epochs >= 1 && max_epochs <= 1000000, "max_epochs %d is not in [1, 1000000]",
                 (int)max_epochs);
    FF_CHECK_ARG(patience >= 1 && patience <= 1000000, "patience %d is not in [1, 1000000]",
                 (int)patience);
    int32_t w = 0, h = 0;
    FF_TRY(ff_flow_get_i32(flow, FF_FLOW_INPUT_WIDTH, &w));
    FF_TRY(ff_flow_get_i32(flow, FF_FLOW_INPUT_HEIGHT, &h));
    ff_selector *s = calloc(1, sizeof *s);
    double *curve = calloc((size_t)max_epochs, sizeof *curve);
    if (!s || !curve) {
        free(s);
        free(curve);
        return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory");
    }
    s->criterion = criterion;
    s->max_epochs = max_epochs;
    s->seed = seed;
    s->curve = curve;
    ff_sel_set_init(&s->set, w, h);
    ff_sel_tracker_init(&s->tracker, ff_sel_higher_is_better(criterion), patience);
    *out = s;
    return FF_OK;
}

void ff_selector_destroy(ff_selector *s) {
    if (s == NULL) return;
    ff_flow_destroy(s->best);
    ff_sel_set_free(&s->set);
    free(s->curve);
    free(s);
}

static ff_status check_pixels(const uint8_t *pixels, int32_t width, int32_t height) {
    FF_CHECK_ARG(pixels != NULL, "pixels is NULL");
    FF_CHECK_ARG(width > 0 && height > 0, "image size %dx%d must be positive", (int)width, (int)height);
    return FF_OK;
}

static ff_status add_image(ff_selector *s, int32_t kind, const uint8_t *pixels, int32_t width, int32_t height,
                           size_t row_stride, int32_t pixel_format, uint8_t label, const uint8_t *mask,
                           int32_t mask_width, int32_t mask_height, size_t mask_row_stride) {
    if (s->epochs_run > 0 || s->built)
        return ff_fail(FF_E_STATE, "the selection set is fixed once the first epoch was scored");
    if (s->kind != SET_EMPTY && s->kind != kind)
        return ff_fail(FF_E_STATE, "a selector holds either held-out normal images (with synthetic anomalies) or "
                                   "labelled images, not both");
    FF_TRY(ff_sel_set_add(&s->set, pixels, width, height, row_stride, pixel_format, label, mask, mask_width,
                          mask_height, mask_row_stride));
    s->kind = kind;
    s->n_added++;
    s->n_defect += label;
    return FF_OK;
}

ff_status ff_selector_add_normal_image(ff_selector *s, const uint8_t *pixels, int32_t width, int32_t height,
                                       size_t row_stride, int32_t pixel_format) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "selector is NULL");
    FF_TRY(check_pixels(pixels, width, height));
    FF_BUSY_RETURN(&s->busy, "selector", SELECTOR_ADVICE,
                   add_image(s, SET_NORMAL, pixels, width, height, row_stride, pixel_format, 0, NULL, 0, 0, 0));
}

ff_status ff_selector_add_labelled_image(ff_selector *s, const uint8_t *pixels, int32_t width, int32_t height,
                                         size_t row_stride, int32_t pixel_format, int32_t is_anomalous,
                                         const uint8_t *mask, int32_t mask_width, int32_t mask_height,
                                         size_t mask_row_stride) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "selector is NULL");
    FF_TRY(check_pixels(pixels, width, height));
    FF_CHECK_ARG(is_anomalous == 0 || is_anomalous == 1, "is_anomalous %d is not 0 "
                 "or 1", (int)is_anomalous);
    if (mask) {
        FF_CHECK_ARG(mask_width > 0 && mask_height > 0, "mask size %dx%d must be "
                     "positive", (int)mask_width, (int)mask_height);
        FF_CHECK_ARG(mask_row_stride == 0 || mask_row_stride >= (size_t)mask_width,
                     "mask_row_stride %zu is below the mask width %d",
                     mask_row_stride, (int)mask_width);
    }
    FF_BUSY_RETURN(&s->busy, "selector", SELECTOR_ADVICE,
                   add_image(s, SET_LABELLED, pixels, width, height, row_stride, pixel_format, (uint8_t)is_anomalous,
                             mask, mask_width, mask_height, mask_row_stride));
}

/* The record's selection_set. */
static void describe(const ff_selector *s, char *buf, size_t cap) {
    ff_sel_describe(s->kind == SET_LABELLED, (size_t)s->n_added, (size_t)s->n_defect, buf, cap);
}

static ff_status update(ff_selector *s, const ff_trainer *t, double *value_out, int32_t *improved_out,
                        int32_t *stop_out) {
    if (s->n_added == 0) return ff_fail(FF_E_STATE, "the selector has no images to score");
    if (s->epochs_run >= s->max_epochs)
        return ff_fail(FF_E_STATE, "the selector scored its max_epochs (%d) epochs already", (int)s->max_epochs);
    float ema = 0.0f;
    int32_t precision = FF_PRECISION_FP32;
    FF_TRY(ff_trainer_get_f32(t, FF_TRAINER_EMA_DECAY, &ema));
    FF_TRY(ff_trainer_get_i32(t, FF_TRAINER_PRECISION, &precision));
    ff_flow *now = NULL;
    FF_TRY(ff_trainer_snapshot(t, &now));
    int32_t w = 0, h = 0;
    ff_flow_get_i32(now, FF_FLOW_INPUT_WIDTH, &w);
    ff_flow_get_i32(now, FF_FLOW_INPUT_HEIGHT, &h);
    ff_status st = FF_OK;
    if (w != s->set.width || h != s->set.height)
        st = ff_fail(FF_E_INVALID_ARGUMENT, "the trainer's flow takes %dx%d inputs, the selector's %dx%d", (int)w,
                     (int)h, (int)s->set.width, (int)s->set.height);
    if (st == FF_OK && s->kind == SET_NORMAL && !s->built) {
        st = ff_sel_set_add_synthetic(&s->set, s->seed);
        if (st == FF_OK) s->built = 1;
    }
    ff_sel_scored sc;
    if (st == FF_OK) st = ff_sel_set_score(&s->set, now, &sc);
    double v = 0.0;
    if (st == FF_OK && ff_sel_criterion_value(s->criterion, &sc, &v) != 0) {
        char desc[160];
        describe(s, desc, sizeof desc);
        st = ff_fail(FF_E_STATE, "the criterion %s cannot be computed on the selection set (%s)",
                     ff_select_criterion_name(s->criterion), desc);
    }
    if (st != FF_OK) {
        ff_flow_destroy(now);
        return st;
    }
    int32_t epoch = ++s->epochs_run;
    s->curve[epoch - 1] = v;
    s->ema_decay = ema;
    s->bf16 = precision == FF_PRECISION_BF16;
    int improved = ff_sel_tracker_update(&s->tracker, epoch, v);
    if (improved) {
        ff_flow_destroy(s->best);
        s->best = now;
    } else {
        ff_flow_destroy(now);
    }
    if (value_out) *value_out = v;
    if (improved_out) *improved_out = improved;
    if (stop_out) *stop_out = ff_sel_tracker_should_stop(&s->tracker) || epoch >= s->max_epochs;
    return FF_OK;
}

ff_status ff_selector_update(ff_selector *s, const ff_trainer *trainer, double *value_out, int32_t *improved_out,
                             int32_t *stop_out) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "selector is NULL");
    FF_CHECK_ARG(trainer != NULL, "trainer is NULL");
    FF_BUSY_RETURN(&s->busy, "selector", SELECTOR_ADVICE, update(s, trainer, value_out, improved_out, stop_out));
}

/* The record's JSON text into buf (cap bytes); -1 when it does not fit.
 * "ema_decay" only with the average on and "precision" only for bf16
 * training, so that records without them stay as they were before the
 * options existed. */
static int record(const ff_selector *s, char *buf, size_t cap) {
    char opt[96] = "", d[32], desc[160]; /* the optional fields, each ending in a comma */
    if (s->ema_decay > 0.0f) snprintf(opt, sizeof opt, "\"ema_decay\":%s,", ff_float_text(s->ema_decay, d, sizeof d));
    if (s->bf16) strcat(opt, "\"precision\":\"bf16\",");
    describe(s, desc, sizeof desc);
    int k = snprintf(buf, cap,
                     "{\"method\":\"epochs-auto\",\"criterion\":\"%s\",\"higher_is_better\":%s,"
                     "\"selection_set\":\"%s\",\"max_epochs\":%d,\"patience\":%d,%s\"epochs_run\":%d,"
                     "\"chosen_epoch\":%d,\"curve\":[",
                     ff_select_criterion_name(s->criterion), s->tracker.higher_better ? "true" : "false", desc,
                     (int)s->max_epochs, (int)s->tracker.patience, opt, (int)s->epochs_run,
                     (int)s->tracker.best_epoch);
    if (k < 0 || (size_t)k >= cap) return -1;
    size_t n = (size_t)k;
    for (int32_t e = 0; e < s->epochs_run; e++) {
        k = snprintf(buf + n, cap - n, "%s%.9g", e ? "," : "", s->curve[e]);
        if (k < 0 || (size_t)k >= cap - n) return -1;
        n += (size_t)k;
    }
    k = snprintf(buf + n, cap - n, "]}");
    return k < 0 || (size_t)k >= cap - n ? -1 : 0;
}

static ff_status best(const ff_selector *s, ff_flow **out, int32_t *epoch_out) {
    if (s->best == NULL) return ff_fail(FF_E_STATE, "no epoch was scored yet (ff_selector_update)");
    size_t cap = 512 + 32 * (size_t)s->max_epochs;
    char *rec = malloc(cap);
    if (rec == NULL) return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory for the training record");
    ff_status st = record(s, rec, cap) == 0 ? FF_OK : ff_fail(FF_E_INTERNAL, "cannot format the training record");
    ff_flow *f = NULL;
    if (st == FF_OK) st = ff_flow_with_training_record(s->best, rec, &f);
    free(rec);
    if (st != FF_OK) return st;
    *out = f;
    if (epoch_out) *epoch_out = s->tracker.best_epoch;
    return FF_OK;
}

ff_status ff_selector_best(const ff_selector *s, ff_flow **out, int32_t *epoch_out) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "selector is NULL");
    FF_CHECK_ARG(out != NULL, "out is NULL");
    FF_BUSY_RETURN(&s->busy, "selector", SELECTOR_ADVICE, best(s, out, epoch_out));
}
