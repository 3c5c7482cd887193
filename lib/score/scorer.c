/* ff_scorer: a per-thread workspace that scores images with a shared,
 * immutable ff_flow: its own backbone extractor, a non-training flow
 * engine, and buffers for up to FF_SCORER_CHUNK images, all reused from
 * call to call. Batches are processed in chunks of FF_SCORER_CHUNK images
 * so memory stays bounded whatever the batch size.
 *
 * Each raw map then goes through the options (map_post.h): smoothing at
 * the model's size, the score as the smoothed map's maximum and the
 * decision against the image threshold, resizing to the image's size,
 * normalisation. The score is taken before resizing so that it does not
 * depend on the size a caller asks the map in. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backbone/backbone.h"
#include "core/busy.h"
#include "core/cpu_features.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/params.h"
#include "core/settings.h"
#include "backbone/backbone.h"
#include "flow/flow_engine.h"
#include "flow/flow_internal.h"
#include "image/image_input.h"
#include "image/preprocess.h"
#include "score/map_post.h"
#include "score/scorer_internal.h"

struct ff_scorer {
    const ff_flow *flow; /* retained */
    ff_extractor *extractor;
    ff_flow_engine *engine;
    ff_image_buffer image;
    float *input;                     /* [3, H, W] for one decoded image */
    float *feats[FF_MAX_LEVELS];      /* [chunk, C, H, W] */
    size_t per_image[FF_MAX_LEVELS];  /* floats per image and level */
    float *maps;                      /* raw maps [n, H, W]: a chunk's, or a whole batch's */
    size_t maps_cap;                  /* floats it holds, >= FF_SCORER_CHUNK maps */
    float *scores;                    /* a batch's scores until it has succeeded */
    size_t scores_cap;
    float *blur_tmp;                  /* [H, W] */
    size_t map_size;                  /* H * W */
    /* options (enum ff_scorer_param) */
    int32_t map_mode;
    float sigma;
    int32_t normalized;
    int32_t precision;
    int32_t threads; /* FF_SCORER_NUM_THREADS: 0 = the global count */
    float kernel[FF_SMOOTH_MAX_KERNEL];
    int32_t kernel_size;
    /* decisions of the last call: last_count entries of decisions, 0 after a failure */
    uint8_t *decisions;
    size_t decisions_cap, last_count;
    ff_files_state files; /* ff_scorer_score_files (score_files.c) */

    ff_busy busy; /* set while a call runs (core/busy.h) */
};

#define SCORER_ADVICE \
    "create one scorer per thread over the same flow (ff_scorer_create); the flow is shared"

ff_status ff_scorer_busy_enter(const ff_scorer *s) { return ff_busy_enter(&s->busy, "scorer", SCORER_ADVICE); }
void ff_scorer_busy_leave(const ff_scorer *s) { ff_busy_leave(&s->busy); }

static ff_status create(const ff_flow *flow, ff_scorer **out) {
    ff_scorer *s = calloc(1, sizeof *s);
    if (s == NULL) return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate a scorer");
    s->flow = ff_flow_retain(flow);
    const ff_flow_layout *L = &flow->layout;
    s->map_size = (size_t)L->in_h * (size_t)L->in_w;
    s->files.batch = (int32_t)ff_param_default_int(FF_OBJECT_SCORER, FF_SCORER_BATCH);
    s->files.jobs = (int32_t)ff_param_default_int(FF_OBJECT_SCORER, FF_SCORER_DECODE_THREADS);
    ff_status st = ff_alloc_floats(3 * s->map_size, "scorer input", &s->input);
    if (st == FF_OK) st = ff_alloc_floats(FF_SCORER_CHUNK * s->map_size, "scorer maps", &s->maps);
    s->maps_cap = FF_SCORER_CHUNK * s->map_size;
    if (st == FF_OK) st = ff_alloc_floats(s->map_size, "scorer smoothing buffer", &s->blur_tmp);
    for (int32_t l = 0; l < L->num_levels && st == FF_OK; l++) {
        s->per_image[l] = (size_t)L->level[l].c * (size_t)L->level[l].h * (size_t)L->level[l].w;
        st = ff_alloc_floats(FF_SCORER_CHUNK * s->per_image[l], "scorer features", &s->feats[l]);
    }
    if (st == FF_OK) st = ff_extractor_create(flow->backbone, &s->extractor);
    if (st == FF_OK) st = ff_flow_engine_create(L, 0, &s->engine);
    /* the flow is immutable: let the engine keep its weights in oneDNN's formats */
    if (st == FF_OK) st = ff_flow_engine_set_params_constant(s->engine, 1);
    if (st != FF_OK) {
        ff_scorer_destroy(s);
        return st;
    }
    *out = s;
    return FF_OK;
}

ff_status ff_scorer_create(const ff_flow *flow, ff_scorer **out) {
    ff_clear_error();
    FF_CHECK_ARG(flow != NULL, "flow is NULL");
    FF_CHECK_ARG(out != NULL, "out is NULL");
    ff_threads_scope ts = ff_threads_enter(0); /* options are not set yet: the global count */
    ff_status st = create(flow, out);
    ff_threads_leave(ts);
    return st;
}

void ff_scorer_destroy(ff_scorer *s) {
    if (s == NULL) return;
    ff_flow_engine_destroy(s->engine);
    ff_extractor_destroy(s->extractor);
    ff_image_buffer_free(&s->image);
    for (int32_t l = 0; l < FF_MAX_LEVELS; l++) ff_free(s->feats[l]);
    ff_free(s->input);
    ff_free(s->maps);
    ff_free(s->scores);
    ff_free(s->blur_tmp);
    free(s->decisions);
    ff_files_state_free(&s->files);
    ff_flow_destroy((ff_flow *)(uintptr_t)s->flow);
    free(s);
}

/* ----------------------------------------------------------- options -- */
/* Types, bounds and defaults are the table's (core/params_table.c). */

/* Both networks switch together; on a failure the old precision stays
 * (the extractor is switched back). */
static ff_status set_precision(ff_scorer *s, int32_t value) {
    FF_TRY(ff_check_precision(value, "FF_SCORER_PRECISION"));
    FF_TRY(ff_extractor_set_precision(s->extractor, value));
    ff_status st = ff_flow_engine_set_precision(s->engine, value);
    if (st != FF_OK) {
        ff_extractor_set_precision(s->extractor, s->precision);
        return st;
    }
    s->precision = value;
    return FF_OK;
}

static ff_status locked_scorer_set_i32(ff_scorer *s, int32_t key, int32_t value) {
    FF_TRY(ff_param_set_check_int(FF_OBJECT_SCORER, key, FF_PARAM_I32, value));
    switch (key) {
    case FF_SCORER_MAP_SIZE: s->map_mode = value; break;
    case FF_SCORER_NUM_THREADS: s->threads = value; break;
    case FF_SCORER_BATCH: s->files.batch = value; break;
    case FF_SCORER_DECODE_THREADS: s->files.jobs = value; break;
    case FF_SCORER_PRECISION: return set_precision(s, value);
    default: /* FF_SCORER_NORMALIZED */
        if (value == 1 && !s->flow->has_stats)
            return ff_fail(FF_E_STATE, "FF_SCORER_NORMALIZED needs score statistics, and this model has none: "
                           "compute them on validation images ('fastflow train --val-fraction F' or '--val DIR', "
                           "or ff_score_statistics + ff_flow_with_statistics)");
        s->normalized = value;
        break;
    }
    return FF_OK;
}

ff_status ff_scorer_set_i32(ff_scorer *s, int32_t key, int32_t value) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "scorer is NULL");
    FF_BUSY_RETURN(&s->busy, "scorer", SCORER_ADVICE, locked_scorer_set_i32(s, key, value));
}

static ff_status locked_scorer_set_f32(ff_scorer *s, int32_t key, float value) {
    FF_TRY(ff_param_set_check_f32(FF_OBJECT_SCORER, key, value));
    s->sigma = value; /* FF_SCORER_SMOOTH_SIGMA, the only f32 key */
    s->kernel_size = 0;
    if (value > 0.0f) {
        s->kernel_size = ff_gauss_kernel_size(value);
        ff_gauss_kernel(value, s->kernel, s->kernel_size);
    }
    return FF_OK;
}

ff_status ff_scorer_set_f32(ff_scorer *s, int32_t key, float value) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "scorer is NULL");
    FF_BUSY_RETURN(&s->busy, "scorer", SCORER_ADVICE, locked_scorer_set_f32(s, key, value));
}

static ff_status locked_scorer_get_i32(const ff_scorer *s, int32_t key, int32_t *value_out) {
    FF_CHECK_ARG(value_out != NULL, "value_out is NULL");
    FF_TRY(ff_param_lookup(FF_OBJECT_SCORER, key, FF_PARAM_I32, 0, NULL));
    switch (key) {
    case FF_SCORER_MAP_SIZE: *value_out = s->map_mode; break;
    case FF_SCORER_NUM_THREADS: *value_out = s->threads; break;
    case FF_SCORER_PRECISION: *value_out = s->precision; break;
    case FF_SCORER_BATCH: *value_out = s->files.batch; break;
    case FF_SCORER_DECODE_THREADS: *value_out = s->files.jobs; break;
    default: *value_out = s->normalized; break;
    }
    return FF_OK;
}

ff_status ff_scorer_get_i32(const ff_scorer *s, int32_t key, int32_t *value_out) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "scorer is NULL");
    FF_BUSY_RETURN(&s->busy, "scorer", SCORER_ADVICE, locked_scorer_get_i32(s, key, value_out));
}

static ff_status locked_scorer_get_f32(const ff_scorer *s, int32_t key, float *value_out) {
    FF_CHECK_ARG(value_out != NULL, "value_out is NULL");
    FF_TRY(ff_param_lookup(FF_OBJECT_SCORER, key, FF_PARAM_F32, 0, NULL));
    *value_out = s->sigma;
    return FF_OK;
}

ff_status ff_scorer_get_f32(const ff_scorer *s, int32_t key, float *value_out) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "scorer is NULL");
    FF_BUSY_RETURN(&s->busy, "scorer", SCORER_ADVICE, locked_scorer_get_f32(s, key, value_out));
}

/* ------------------------------------------------------------ shapes -- */

ff_status ff_scorer_map_shape(const ff_scorer *s, int32_t *width_out, int32_t *height_out) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "scorer is NULL");
    FF_CHECK_ARG(height_out != NULL && width_out != NULL, "height_out or width_out is NULL");
    *height_out = s->flow->layout.in_h;
    *width_out = s->flow->layout.in_w;
    return FF_OK;
}

/* The output map's shape for an image of w x h, and its float count. */
static ff_status out_shape(const ff_scorer *s, int32_t w, int32_t h, int32_t *oh, int32_t *ow, size_t *n) {
    if (s->map_mode == FF_SCORER_MAP_MODEL_SIZE) {
        *oh = s->flow->layout.in_h;
        *ow = s->flow->layout.in_w;
        *n = s->map_size;
        return FF_OK;
    }
    FF_CHECK_ARG(w >= 1 && h >= 1, "image size %dx%d must be positive", (int)w, (int)h);
    uint64_t px = (uint64_t)w * (uint64_t)h;
    if (px > (uint64_t)ff_settings_max_image_pixels())
        return ff_fail(FF_E_LIMIT_EXCEEDED, "a %dx%d map exceeds the pixel limit of %lld", (int)w, (int)h,
                       (long long)ff_settings_max_image_pixels());
    *oh = h;
    *ow = w;
    *n = (size_t)px;
    return FF_OK;
}

static ff_status locked_scorer_map_shape_for(const ff_scorer *s, int32_t image_width, int32_t image_height,
                                             int32_t *width_out, int32_t *height_out) {
    FF_CHECK_ARG(height_out != NULL && width_out != NULL, "height_out or width_out is NULL");
    FF_CHECK_ARG(image_width >= 1 && image_height >= 1, "image size %dx%d must be positive", (int)image_width,
                 (int)image_height);
    int32_t h = 0, w = 0;
    size_t n = 0;
    FF_TRY(out_shape(s, image_width, image_height, &h, &w, &n));
    *height_out = h;
    *width_out = w;
    return FF_OK;
}

ff_status ff_scorer_map_shape_for(const ff_scorer *s, int32_t image_width, int32_t image_height, int32_t *width_out,
                                  int32_t *height_out) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "scorer is NULL");
    FF_BUSY_RETURN(&s->busy, "scorer", SCORER_ADVICE,
                   locked_scorer_map_shape_for(s, image_width, image_height, width_out, height_out));
}

/* ----------------------------------------------------------- scoring -- */

/* Scores n <= FF_SCORER_CHUNK pre-processed images into maps ([n, H, W]). */
static ff_status score_chunk(ff_scorer *s, const float *input, int32_t n, float *maps) {
    const ff_flow_layout *L = &s->flow->layout;
    FF_TRY(ff_extractor_run_unchecked(s->extractor, input, n, L->in_w, L->in_h));
    const float *feats[FF_MAX_LEVELS];
    for (int32_t l = 0; l < L->num_levels; l++) {
        FF_TRY(ff_extractor_read_unchecked(s->extractor, l, s->feats[l], (size_t)n * s->per_image[l]));
        feats[l] = s->feats[l];
    }
    FF_TRY(ff_flow_engine_forward(s->engine, s->flow->params, s->flow->perms, feats, n, NULL, NULL, NULL));
    return ff_flow_engine_anomaly_maps(s->engine, maps, (size_t)n * s->map_size);
}

static float map_max(const float *m, size_t n) {
    float best = m[0];
    for (size_t i = 1; i < n; i++)
        if (m[i] > best) best = m[i];
    return best;
}

/* Makes room for n decisions (before any work, so that a failure leaves
 * the outputs untouched) and forgets the previous call's. */
static ff_status reserve_decisions(ff_scorer *s, size_t n) {
    s->last_count = 0;
    if (n <= s->decisions_cap) return FF_OK;
    uint8_t *d = realloc(s->decisions, n);
    if (d == NULL) return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate %zu decisions", n);
    s->decisions = d;
    s->decisions_cap = n;
    return FF_OK;
}

/* Post-processes raw model-size map m (in place) into image i's outputs:
 * smoothing, score and decision, then the map at oh x ow into map_out
 * (NULL = none) and the score, both normalised when asked. */
static void finish_map(ff_scorer *s, float *m, size_t i, int32_t oh, int32_t ow, float *map_out, float *score_out) {
    const ff_flow *f = s->flow;
    const int32_t H = f->layout.in_h, W = f->layout.in_w;
    if (s->kernel_size > 0) ff_gauss_blur(m, H, W, s->kernel, s->kernel_size, s->blur_tmp);
    float score = map_max(m, s->map_size);
    if (f->has_stats) s->decisions[i] = score >= f->stats[FF_STAT_IMAGE_THRESHOLD - 1];
    float range = f->stats[FF_STAT_MAX - 1] - f->stats[FF_STAT_MIN - 1];
    if (map_out) {
        size_t n = (size_t)oh * (size_t)ow;
        if (oh == H && ow == W) memcpy(map_out, m, n * sizeof(float));
        else ff_resize_bilinear(m, H, W, map_out, oh, ow);
        if (s->normalized) ff_normalize_map(map_out, n, f->stats[FF_STAT_PIXEL_THRESHOLD - 1], range);
    }
    *score_out = s->normalized ? ff_normalize_value(score, f->stats[FF_STAT_IMAGE_THRESHOLD - 1], range) : score;
}

/* The pre-processed image in s->input: map and score out. */
static ff_status score_input(ff_scorer *s, int32_t oh, int32_t ow, float *map_out, float *score_out) {
    FF_TRY(reserve_decisions(s, 1));
    FF_TRY(score_chunk(s, s->input, 1, s->maps));
    finish_map(s, s->maps, 0, oh, ow, map_out, score_out);
    s->last_count = 1;
    return FF_OK;
}

/* Room for a batch of n: its scores, and its raw maps when they are kept
 * to the end (grown, never shrunk; made before any work). */
static ff_status reserve_batch(ff_scorer *s, size_t n, int keep_maps) {
    FF_TRY(ff_grow_floats(&s->scores, &s->scores_cap, n, "scorer scores"));
    if (!keep_maps) return FF_OK;
    size_t count;
    if (!ff_mul_size(n, s->map_size, &count))
        return ff_fail(FF_E_INVALID_ARGUMENT, "batch of %zu maps overflows", n);
    return ff_grow_floats(&s->maps, &s->maps_cap, count, "scorer maps");
}

static ff_status check_map_out(int32_t oh, int32_t ow, size_t need, const float *map_out, size_t map_capacity) {
    if (map_out != NULL && map_capacity < need)
        return ff_fail(FF_E_BUFFER_TOO_SMALL, "map buffer holds %zu floats; the %dx%d map needs %zu", map_capacity,
                       (int)oh, (int)ow, need);
    return FF_OK;
}

static ff_status locked_scorer_score_image(ff_scorer *s, const uint8_t *pixels, int32_t width, int32_t height,
                                           size_t row_stride, int32_t pixel_format, float *map_out,
                                           size_t map_capacity, float *score_out) {
    FF_CHECK_ARG(pixels != NULL, "pixels is NULL");
    FF_CHECK_ARG(score_out != NULL, "score_out is NULL");
    s->last_count = 0;
    int32_t oh = 0, ow = 0;
    size_t need = 0;
    if (map_out != NULL) {
        FF_TRY(out_shape(s, width, height, &oh, &ow, &need));
        FF_TRY(check_map_out(oh, ow, need, map_out, map_capacity));
    }
    ff_threads_scope ts = ff_threads_enter(s->threads);
    const ff_flow_layout *L = &s->flow->layout;
    size_t stride;
    ff_status st = ff_preprocess_check(pixels, width, height, row_stride, pixel_format, L->in_w, L->in_h, s->input,
                                       3 * s->map_size, &stride);
    if (st == FF_OK)
        st = ff_preprocess_into(&s->image.prep, pixels, width, height, stride, pixel_format, L->in_w, L->in_h,
                                s->input);
    if (st == FF_OK) st = score_input(s, oh, ow, map_out, score_out);
    ff_threads_leave(ts);
    return st;
}

ff_status ff_scorer_score_image(ff_scorer *s, const uint8_t *pixels, int32_t width, int32_t height,
                                size_t row_stride, int32_t pixel_format, float *map_out, size_t map_capacity,
                                float *score_out) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "scorer is NULL");
    FF_BUSY_RETURN(&s->busy, "scorer", SCORER_ADVICE,
                   locked_scorer_score_image(s, pixels, width, height, row_stride, pixel_format, map_out,
                                             map_capacity, score_out));
}

/* Encoded bytes (`what` names them in errors): decoded and pre-processed
 * into s->input, then scored. The map's shape needs the image's size, so it
 * is checked after decoding, before any output is written. */
static ff_status score_bytes_in(ff_scorer *s, const uint8_t *data, size_t size, const char *what, float *map_out,
                                size_t map_capacity, float *score_out) {
    const ff_flow_layout *L = &s->flow->layout;
    int32_t w = 0, h = 0;
    FF_TRY(ff_image_bytes_to_input(&s->image, data, size, what, L->in_w, L->in_h, s->input, &w, &h));
    int32_t oh = 0, ow = 0;
    size_t need = 0;
    if (map_out != NULL) {
        ff_status st = out_shape(s, w, h, &oh, &ow, &need);
        if (st != FF_OK) return ff_fail_context(st, "image '%s'", what);
        FF_TRY(check_map_out(oh, ow, need, map_out, map_capacity));
    }
    ff_status st = score_input(s, oh, ow, map_out, score_out);
    if (st != FF_OK) return ff_fail_context(st, "scoring '%s'", what);
    return FF_OK;
}

static ff_status score_bytes(ff_scorer *s, const uint8_t *data, size_t size, const char *what, float *map_out,
                             size_t map_capacity, float *score_out) {
    ff_threads_scope ts = ff_threads_enter(s->threads);
    ff_status st = score_bytes_in(s, data, size, what, map_out, map_capacity, score_out);
    ff_threads_leave(ts);
    return st;
}

static ff_status locked_scorer_score_file(ff_scorer *s, const char *path, float *map_out, size_t map_capacity,
                                          float *score_out) {
    FF_CHECK_ARG(path != NULL, "path is NULL");
    FF_CHECK_ARG(score_out != NULL, "score_out is NULL");
    s->last_count = 0;
    size_t size = 0;
    FF_TRY(ff_image_read(&s->image, path, &size));
    return score_bytes(s, s->image.file, size, path, map_out, map_capacity, score_out);
}

ff_status ff_scorer_score_file(ff_scorer *s, const char *path, float *map_out, size_t map_capacity,
                               float *score_out) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "scorer is NULL");
    FF_BUSY_RETURN(&s->busy, "scorer", SCORER_ADVICE,
                   locked_scorer_score_file(s, path, map_out, map_capacity, score_out));
}

static ff_status locked_scorer_score_memory(ff_scorer *s, const void *data, size_t size, float *map_out,
                                            size_t map_capacity, float *score_out) {
    FF_CHECK_ARG(data != NULL || size == 0, "data is NULL");
    FF_CHECK_ARG(score_out != NULL, "score_out is NULL");
    s->last_count = 0;
    return score_bytes(s, data, size, "memory buffer", map_out, map_capacity, score_out);
}

ff_status ff_scorer_score_memory(ff_scorer *s, const void *data, size_t size, float *map_out, size_t map_capacity,
                                 float *score_out) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "scorer is NULL");
    FF_BUSY_RETURN(&s->busy, "scorer", SCORER_ADVICE,
                   locked_scorer_score_memory(s, data, size, map_out, map_capacity, score_out));
}

/* The batch, FF_SCORER_CHUNK images at a time. Outputs are written only
 * once every chunk has succeeded (a later chunk can still fail, e.g.
 * FF_E_NUMERIC): scores wait in s->scores, and, when maps are asked for
 * (keep), the raw maps of the whole batch in s->maps; without maps each
 * chunk is post-processed at once. */
static ff_status score_chunks(ff_scorer *s, const float *input, int32_t batch, int keep) {
    const int32_t H = s->flow->layout.in_h, W = s->flow->layout.in_w;
    const size_t per_input = 3 * s->map_size;
    for (int32_t b = 0; b < batch; b += FF_SCORER_CHUNK) {
        int32_t n = batch - b < FF_SCORER_CHUNK ? batch - b : FF_SCORER_CHUNK;
        float *maps = s->maps + (keep ? (size_t)b * s->map_size : 0);
        FF_TRY(score_chunk(s, input + (size_t)b * per_input, n, maps));
        if (!keep)
            for (int32_t i = 0; i < n; i++)
                finish_map(s, maps + (size_t)i * s->map_size, (size_t)(b + i), H, W, NULL, &s->scores[b + i]);
    }
    return FF_OK;
}

static ff_status locked_scorer_score_tensor(ff_scorer *s, const float *input, int32_t batch, float *maps_out,
                                            size_t maps_capacity, float *scores_out, size_t scores_capacity) {
    FF_CHECK_ARG(input != NULL, "input is NULL");
    FF_CHECK_ARG(batch >= 1, "batch must be at least 1, got %d", (int)batch);
    FF_CHECK_ARG(scores_out != NULL, "scores_out is NULL");
    s->last_count = 0;
    if (scores_capacity < (size_t)batch)
        return ff_fail(FF_E_BUFFER_TOO_SMALL, "scores buffer holds %zu floats; a batch of %d needs %d",
                       scores_capacity, (int)batch, (int)batch);
    size_t maps_needed;
    if (!ff_mul_size(s->map_size, (size_t)batch, &maps_needed))
        return ff_fail(FF_E_INVALID_ARGUMENT, "batch of %d maps overflows", (int)batch);
    if (maps_out != NULL && maps_capacity < maps_needed)
        return ff_fail(FF_E_BUFFER_TOO_SMALL, "maps buffer holds %zu floats; %d maps of %dx%d need %zu",
                       maps_capacity, (int)batch, (int)s->flow->layout.in_h, (int)s->flow->layout.in_w,
                       maps_needed);
    size_t per_input = 3 * s->map_size;
    size_t total_in;
    if (!ff_mul_size(per_input, (size_t)batch, &total_in))
        return ff_fail(FF_E_INVALID_ARGUMENT, "batch of %d inputs overflows", (int)batch);
    for (size_t i = 0; i < total_in; i++)
        if (!isfinite(input[i]))
            return ff_fail(FF_E_INVALID_ARGUMENT, "input holds a NaN or infinite value at image %zu, offset %zu",
                           i / per_input, i % per_input);
    FF_TRY(reserve_decisions(s, (size_t)batch));
    FF_TRY(reserve_batch(s, (size_t)batch, maps_out != NULL));
    ff_threads_scope ts = ff_threads_enter(s->threads);
    ff_status st = score_chunks(s, input, batch, maps_out != NULL);
    ff_threads_leave(ts);
    if (st != FF_OK) return st;
    const int32_t H = s->flow->layout.in_h, W = s->flow->layout.in_w;
    for (int32_t k = 0; k < batch; k++) {
        if (maps_out != NULL)
            finish_map(s, s->maps + (size_t)k * s->map_size, (size_t)k, H, W, maps_out + (size_t)k * s->map_size,
                       &scores_out[k]);
        else
            scores_out[k] = s->scores[k];
    }
    s->last_count = (size_t)batch;
    return FF_OK;
}

ff_status ff_scorer_score_tensor(ff_scorer *s, const float *input, int32_t batch, float *maps_out,
                                 size_t maps_capacity, float *scores_out, size_t scores_capacity) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "scorer is NULL");
    FF_BUSY_RETURN(&s->busy, "scorer", SCORER_ADVICE,
                   locked_scorer_score_tensor(s, input, batch, maps_out, maps_capacity, scores_out, scores_capacity));
}

int64_t ff_scorer_plan_builds(const ff_scorer *s) { return ff_extractor_plan_builds(s->extractor); }

/* ---- for the many-file pipeline (scorer_internal.h) ---- */

int32_t ff_scorer_num_threads(const ff_scorer *s) { return s->threads; }
void ff_scorer_model_size(const ff_scorer *s, int32_t *w, int32_t *h) {
    *w = s->flow->layout.in_w;
    *h = s->flow->layout.in_h;
}
ff_files_state *ff_scorer_files(ff_scorer *s) { return &s->files; }
ff_image_buffer *ff_scorer_image_buffer(ff_scorer *s) { return &s->image; }
ff_status ff_scorer_begin(ff_scorer *s, size_t n) {
    FF_TRY(reserve_decisions(s, n));
    if (n) memset(s->decisions, 0, n); /* images that fail stay 0 */
    return FF_OK;
}
void ff_scorer_end(ff_scorer *s, size_t n) { s->last_count = n; }
ff_status ff_scorer_run(ff_scorer *s, const float *input, int32_t n) { return score_chunk(s, input, n, s->maps); }
void ff_scorer_finish_one(ff_scorer *s, int32_t j, size_t index, float *map_out, float *score_out) {
    finish_map(s, s->maps + (size_t)j * s->map_size, index, s->flow->layout.in_h, s->flow->layout.in_w, map_out,
               score_out);
}

static ff_status locked_scorer_last_decisions(const ff_scorer *s, int32_t *decisions_out, size_t capacity) {
    FF_CHECK_ARG(decisions_out != NULL, "decisions_out is NULL");
    if (!s->flow->has_stats)
        return ff_fail(FF_E_STATE, "no decisions: the model has no score statistics (no image threshold)");
    if (s->last_count == 0)
        return ff_fail(FF_E_STATE, "no decisions: the last score call failed or none was made");
    if (capacity < s->last_count)
        return ff_fail(FF_E_BUFFER_TOO_SMALL, "decisions buffer holds %zu values; the last call scored %zu images",
                       capacity, s->last_count);
    for (size_t i = 0; i < s->last_count; i++) decisions_out[i] = s->decisions[i];
    return FF_OK;
}

ff_status ff_scorer_last_decisions(const ff_scorer *s, int32_t *decisions_out, size_t capacity) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "scorer is NULL");
    FF_BUSY_RETURN(&s->busy, "scorer", SCORER_ADVICE, locked_scorer_last_decisions(s, decisions_out, capacity));
}
