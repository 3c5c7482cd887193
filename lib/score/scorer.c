/* ff_scorer: a per-thread workspace that scores images with a shared,
 * immutable ff_flow: its own backbone extractor, a non-training flow
 * engine, and buffers for up to FF_SCORER_CHUNK images, all reused from
 * call to call. Batches are processed in chunks of FF_SCORER_CHUNK images
 * so memory stays bounded whatever the batch size. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "core/settings.h"
#include "flow/flow_engine.h"
#include "flow/flow_internal.h"
#include "score/image_input.h"

#define FF_SCORER_CHUNK 8

struct ff_scorer {
    const ff_flow *flow; /* retained */
    ff_extractor *extractor;
    ff_flow_engine *engine;
    ff_image_buffer image;
    float *input;                     /* [3, H, W] for one decoded image */
    float *feats[FF_MAX_LEVELS];      /* [chunk, C, H, W] */
    size_t per_image[FF_MAX_LEVELS];  /* floats per image and level */
    float *maps;                      /* [chunk, H, W] */
    size_t map_size;                  /* H * W */
};

ff_status ff_scorer_create(const ff_flow *flow, ff_scorer **out) {
    ff_clear_error();
    FF_CHECK_ARG(flow != NULL, "flow is NULL");
    FF_CHECK_ARG(out != NULL, "out is NULL");
    ff_threads_apply();
    ff_scorer *s = calloc(1, sizeof *s);
    if (s == NULL) return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate a scorer");
    s->flow = ff_flow_retain(flow);
    const ff_flow_layout *L = &flow->layout;
    s->map_size = (size_t)L->in_h * (size_t)L->in_w;
    ff_status st = ff_alloc_floats(3 * s->map_size, "scorer input", &s->input);
    if (st == FF_OK) st = ff_alloc_floats(FF_SCORER_CHUNK * s->map_size, "scorer maps", &s->maps);
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

void ff_scorer_destroy(ff_scorer *s) {
    if (s == NULL) return;
    ff_flow_engine_destroy(s->engine);
    ff_extractor_destroy(s->extractor);
    ff_image_buffer_free(&s->image);
    for (int32_t l = 0; l < FF_MAX_LEVELS; l++) ff_free(s->feats[l]);
    ff_free(s->input);
    ff_free(s->maps);
    ff_flow_destroy((ff_flow *)(uintptr_t)s->flow);
    free(s);
}

ff_status ff_scorer_map_shape(const ff_scorer *s, int32_t *height_out, int32_t *width_out) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "scorer is NULL");
    FF_CHECK_ARG(height_out != NULL && width_out != NULL, "height_out or width_out is NULL");
    *height_out = s->flow->layout.in_h;
    *width_out = s->flow->layout.in_w;
    return FF_OK;
}

/* Scores n <= FF_SCORER_CHUNK pre-processed images into s->maps. */
static ff_status score_chunk(ff_scorer *s, const float *input, int32_t n) {
    const ff_flow_layout *L = &s->flow->layout;
    FF_TRY(ff_extractor_run(s->extractor, input, n, L->in_h, L->in_w));
    const float *feats[FF_MAX_LEVELS];
    for (int32_t l = 0; l < L->num_levels; l++) {
        FF_TRY(ff_extractor_read(s->extractor, l, s->feats[l], (size_t)n * s->per_image[l]));
        feats[l] = s->feats[l];
    }
    FF_TRY(ff_flow_engine_forward(s->engine, s->flow->params, s->flow->perms, feats, n, NULL, NULL, NULL));
    return ff_flow_engine_anomaly_maps(s->engine, s->maps, (size_t)n * s->map_size);
}

static float map_max(const float *m, size_t n) {
    float best = m[0];
    for (size_t i = 1; i < n; i++)
        if (m[i] > best) best = m[i];
    return best;
}

/* The pre-processed image in s->input: map and score out. */
static ff_status score_input(ff_scorer *s, float *map_out, float *score_out) {
    FF_TRY(score_chunk(s, s->input, 1));
    if (map_out) memcpy(map_out, s->maps, s->map_size * sizeof(float));
    *score_out = map_max(s->maps, s->map_size);
    return FF_OK;
}

static ff_status check_map_out(const ff_scorer *s, const float *map_out, size_t map_capacity) {
    if (map_out != NULL && map_capacity < s->map_size)
        return ff_fail(FF_E_BUFFER_TOO_SMALL, "map buffer holds %zu floats; the %dx%d map needs %zu", map_capacity,
                       (int)s->flow->layout.in_h, (int)s->flow->layout.in_w, s->map_size);
    return FF_OK;
}

ff_status ff_scorer_score_image(ff_scorer *s, const uint8_t *pixels, int32_t width, int32_t height,
                                size_t row_stride, int32_t pixel_format, float *map_out, size_t map_capacity,
                                float *score_out) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "scorer is NULL");
    FF_CHECK_ARG(pixels != NULL, "pixels is NULL");
    FF_CHECK_ARG(score_out != NULL, "score_out is NULL");
    FF_TRY(check_map_out(s, map_out, map_capacity));
    ff_threads_apply();
    const ff_flow_layout *L = &s->flow->layout;
    FF_TRY(ff_image_preprocess(pixels, width, height, row_stride, pixel_format, L->in_w, L->in_h, s->input,
                               3 * s->map_size));
    return score_input(s, map_out, score_out);
}

ff_status ff_scorer_score_file(ff_scorer *s, const char *path, float *map_out, size_t map_capacity,
                               float *score_out) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "scorer is NULL");
    FF_CHECK_ARG(path != NULL, "path is NULL");
    FF_CHECK_ARG(score_out != NULL, "score_out is NULL");
    FF_TRY(check_map_out(s, map_out, map_capacity));
    ff_threads_apply();
    const ff_flow_layout *L = &s->flow->layout;
    FF_TRY(ff_image_file_to_input(&s->image, path, L->in_h, L->in_w, s->input));
    ff_status st = score_input(s, map_out, score_out);
    if (st != FF_OK) return ff_fail_context(st, "scoring '%s'", path);
    return FF_OK;
}

ff_status ff_scorer_score_tensor(ff_scorer *s, const float *input, int32_t batch, float *maps_out,
                                 size_t maps_capacity, float *scores_out, size_t scores_capacity) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "scorer is NULL");
    FF_CHECK_ARG(input != NULL, "input is NULL");
    FF_CHECK_ARG(batch >= 1, "batch must be at least 1, got %d", (int)batch);
    FF_CHECK_ARG(scores_out != NULL, "scores_out is NULL");
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
    ff_threads_apply();
    for (int32_t b = 0; b < batch; b += FF_SCORER_CHUNK) {
        int32_t n = batch - b < FF_SCORER_CHUNK ? batch - b : FF_SCORER_CHUNK;
        FF_TRY(score_chunk(s, input + (size_t)b * per_input, n));
        for (int32_t i = 0; i < n; i++) {
            const float *m = s->maps + (size_t)i * s->map_size;
            scores_out[b + i] = map_max(m, s->map_size);
            if (maps_out) memcpy(maps_out + (size_t)(b + i) * s->map_size, m, s->map_size * sizeof(float));
        }
    }
    return FF_OK;
}
