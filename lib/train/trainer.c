/* ff_trainer: trains a copy of a flow's parameters on cached backbone
 * features with Adam, one shuffled batch per call.
 *
 * State: the parameters, their gradients and Adam's two moments (4 floats
 * per parameter), the feature cache, one training flow engine, and the
 * batch buffers (allocated once per batch size, so steps allocate nothing).
 * Shuffling uses ff_rng seeded with FF_TRAINER_SEED; each epoch draws a
 * fresh Fisher-Yates permutation of the image indices from the same
 * stream, so a run is reproducible for a seed and a thread count.
 * With FF_TRAINER_EMA_DECAY > 0 a fifth buffer holds the moving average of
 * the parameters over epochs, updated when an epoch completes; snapshots
 * return it. FF_TRAINER_PRECISION only changes the engine's convolutions:
 * every buffer here stays float32. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backbone/backbone.h"
#include "core/busy.h"
#include "core/cpu_features.h"
#include "core/error.h"
#include "core/finite.h"
#include "core/memory.h"
#include "core/params.h"
#include "core/rng.h"
#include "core/settings.h"
#include "flow/flow_engine.h"
#include "flow/flow_internal.h"
#include "image/image_input.h"
#include "train/adam.h"
#include "train/feature_cache.h"
#include "train/trainer_state.h"

struct ff_trainer {
    const ff_flow *flow; /* retained; its layout and perms are shared */
    const ff_flow_layout *layout;
    float *params, *grads, *m, *v;
    ff_extractor *extractor;
    ff_flow_engine *engine;
    ff_feature_cache cache;
    ff_image_buffer image;
    float *input; /* [3, H, W] */

    int32_t batch_size;
    int32_t threads; /* FF_TRAINER_NUM_THREADS: 0 = the global count */
    float lr, weight_decay;
    float ema_decay; /* FF_TRAINER_EMA_DECAY: 0 = off */
    float *ema;      /* the moving average; allocated when a decay > 0 is set, valid from epoch 1 */
    int32_t precision; /* FF_TRAINER_PRECISION, the engine's convolutions */
    int64_t seed;
    ff_rng rng;

    float *batch[FF_MAX_LEVELS]; /* [batch_cap, C, H, W] */
    int32_t batch_cap;
    int32_t *order;     /* this epoch's shuffled indices */
    int64_t order_cap;
    int32_t in_epoch;   /* an epoch is under way: order is drawn */
    int64_t epoch_images; /* images in the current epoch */
    int64_t epoch, batch_in_epoch, steps;
    double epoch_loss_sum;
    uint64_t data_hash; /* fingerprint of the added images (trainer_state.h) */

    ff_busy busy; /* set while a call runs (core/busy.h) */
};

#define TRAINER_ADVICE \
    "make the calls from one thread, or serialise them with a lock (a trainer's steps depend on each other)"

ff_status ff_trainer_busy_enter(const ff_trainer *t) { return ff_busy_enter(&t->busy, "trainer", TRAINER_ADVICE); }
void ff_trainer_busy_leave(const ff_trainer *t) { ff_busy_leave(&t->busy); }

static ff_status create(const ff_flow *flow, ff_trainer **out) {
    ff_trainer *t = calloc(1, sizeof *t);
    if (t == NULL) return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate a trainer");
    t->flow = ff_flow_retain(flow);
    t->layout = &flow->layout;
    const int32_t K = FF_OBJECT_TRAINER;
    t->batch_size = (int32_t)ff_param_default_int(K, FF_TRAINER_BATCH_SIZE);
    t->threads = (int32_t)ff_param_default_int(K, FF_TRAINER_NUM_THREADS);
    t->lr = ff_param_default_f32(K, FF_TRAINER_LEARNING_RATE);
    t->weight_decay = ff_param_default_f32(K, FF_TRAINER_WEIGHT_DECAY);
    t->ema_decay = ff_param_default_f32(K, FF_TRAINER_EMA_DECAY);
    t->precision = (int32_t)ff_param_default_int(K, FF_TRAINER_PRECISION);
    t->seed = ff_param_default_int(K, FF_TRAINER_SEED);
    ff_rng_seed(&t->rng, (uint64_t)t->seed);
    t->data_hash = FF_FNV_OFFSET;
    ff_feature_cache_init(&t->cache, t->layout);
    size_t n = t->layout->num_params;
    size_t hw3 = 3 * (size_t)t->layout->in_h * (size_t)t->layout->in_w;
    ff_status st = ff_alloc_floats(n, "trainer parameters", &t->params);
    if (st == FF_OK) st = ff_alloc_floats(n, "trainer gradients", &t->grads);
    if (st == FF_OK) st = ff_alloc_floats(n, "Adam first moment", &t->m);
    if (st == FF_OK) st = ff_alloc_floats(n, "Adam second moment", &t->v);
    if (st == FF_OK) st = ff_alloc_floats(hw3, "trainer input", &t->input);
    if (st == FF_OK) st = ff_extractor_create(flow->backbone, &t->extractor);
    if (st == FF_OK) st = ff_flow_engine_create(t->layout, 1, &t->engine);
    if (st != FF_OK) {
        ff_trainer_destroy(t);
        return st;
    }
    memcpy(t->params, flow->params, n * sizeof(float));
    memset(t->m, 0, n * sizeof(float));
    memset(t->v, 0, n * sizeof(float));
    *out = t;
    return FF_OK;
}

ff_status ff_trainer_create(const ff_flow *flow, ff_trainer **out) {
    ff_clear_error();
    FF_CHECK_ARG(flow != NULL, "flow is NULL");
    FF_CHECK_ARG(out != NULL, "out is NULL");
    ff_threads_scope ts = ff_threads_enter(0); /* options are not set yet: the global count */
    ff_status st = create(flow, out);
    ff_threads_leave(ts);
    return st;
}

void ff_trainer_destroy(ff_trainer *t) {
    if (t == NULL) return;
    ff_flow_engine_destroy(t->engine);
    ff_extractor_destroy(t->extractor);
    ff_feature_cache_free(&t->cache);
    ff_image_buffer_free(&t->image);
    for (int32_t l = 0; l < FF_MAX_LEVELS; l++) ff_free(t->batch[l]);
    ff_free(t->params);
    ff_free(t->grads);
    ff_free(t->m);
    ff_free(t->v);
    ff_free(t->ema);
    ff_free(t->input);
    free(t->order);
    ff_flow_destroy((ff_flow *)(uintptr_t)t->flow);
    free(t);
}

/* ------------------------------------------------------------ settings -- */
/* Types, bounds and defaults are the table's (core/params_table.c); these
 * add the state rules. */

/* Settings that belong to a whole run (seed, precision, EMA decay) are
 * fixed once its first batch has run. */
static ff_status before_training(const ff_trainer *t, const char *what) {
    if (t->steps > 0 || t->in_epoch)
        return ff_fail(FF_E_STATE, "%s can only be set before training starts (%lld steps done)", what,
                       (long long)t->steps);
    return FF_OK;
}

/* A run keeps one precision from its first batch (its Adam state and
 * shuffle belong to that run), like the seed. FP32_WINOGRAD trains as
 * FP32: the engine's backward convolutions are direct ones, and a forward
 * by another algorithm than its backward would not give the gradient of
 * the loss it reports. */
static ff_status set_precision(ff_trainer *t, int32_t value) {
    FF_TRY(ff_check_precision(value, "FF_TRAINER_PRECISION"));
    FF_TRY(before_training(t, "FF_TRAINER_PRECISION"));
    FF_TRY(ff_flow_engine_set_precision(t->engine, value == FF_PRECISION_BF16 ? value : FF_PRECISION_FP32));
    t->precision = value;
    return FF_OK;
}

static ff_status locked_set_i32(ff_trainer *t, int32_t key, int32_t value) {
    FF_TRY(ff_param_set_check_int(FF_OBJECT_TRAINER, key, FF_PARAM_I32, value));
    if (key == FF_TRAINER_NUM_THREADS) {
        t->threads = value;
        return FF_OK;
    }
    if (key == FF_TRAINER_PRECISION) return set_precision(t, value);
    if (t->in_epoch) /* FF_TRAINER_BATCH_SIZE */
        return ff_fail(FF_E_STATE, "the batch size can only change between epochs (%lld batches of this epoch done)",
                       (long long)t->batch_in_epoch);
    t->batch_size = value;
    return FF_OK;
}

ff_status ff_trainer_set_i32(ff_trainer *t, int32_t key, int32_t value) {
    ff_clear_error();
    FF_CHECK_ARG(t != NULL, "trainer is NULL");
    FF_BUSY_RETURN(&t->busy, "trainer", TRAINER_ADVICE, locked_set_i32(t, key, value));
}

static ff_status locked_set_i64(ff_trainer *t, int32_t key, int64_t value) {
    FF_TRY(ff_param_set_check_int(FF_OBJECT_TRAINER, key, FF_PARAM_I64, value));
    if (key == FF_TRAINER_CACHE_MEMORY) return ff_feature_cache_set_budget(&t->cache, value);
    FF_TRY(before_training(t, "the shuffling seed")); /* FF_TRAINER_SEED */
    t->seed = value;
    ff_rng_seed(&t->rng, (uint64_t)value);
    return FF_OK;
}

ff_status ff_trainer_set_i64(ff_trainer *t, int32_t key, int64_t value) {
    ff_clear_error();
    FF_CHECK_ARG(t != NULL, "trainer is NULL");
    FF_BUSY_RETURN(&t->busy, "trainer", TRAINER_ADVICE, locked_set_i64(t, key, value));
}

/* The average starts from the parameters of the first epoch, so its decay
 * is fixed before training starts (like the seed). */
static ff_status set_ema_decay(ff_trainer *t, float value) {
    FF_TRY(before_training(t, "the EMA decay"));
    if (value > 0.0f && t->ema == NULL)
        FF_TRY(ff_alloc_floats(t->layout->num_params, "moving average of the parameters", &t->ema));
    t->ema_decay = value;
    return FF_OK;
}

static ff_status locked_set_f32(ff_trainer *t, int32_t key, float value) {
    FF_TRY(ff_param_set_check_f32(FF_OBJECT_TRAINER, key, value));
    if (key == FF_TRAINER_EMA_DECAY) return set_ema_decay(t, value);
    if (key == FF_TRAINER_LEARNING_RATE) t->lr = value;
    else t->weight_decay = value;
    return FF_OK;
}

ff_status ff_trainer_set_f32(ff_trainer *t, int32_t key, float value) {
    ff_clear_error();
    FF_CHECK_ARG(t != NULL, "trainer is NULL");
    FF_BUSY_RETURN(&t->busy, "trainer", TRAINER_ADVICE, locked_set_f32(t, key, value));
}

static int64_t batches_per_epoch(const ff_trainer *t, int64_t images) {
    return (images + t->batch_size - 1) / t->batch_size;
}

static ff_status locked_get_i32(const ff_trainer *t, int32_t key, int32_t *value_out) {
    FF_TRY(ff_param_lookup(FF_OBJECT_TRAINER, key, FF_PARAM_I32, 0, NULL));
    *value_out = key == FF_TRAINER_NUM_THREADS ? t->threads : key == FF_TRAINER_PRECISION ? t->precision : t->batch_size;
    return FF_OK;
}

ff_status ff_trainer_get_i32(const ff_trainer *t, int32_t key, int32_t *value_out) {
    ff_clear_error();
    FF_CHECK_ARG(t != NULL && value_out != NULL, "trainer or value_out is NULL");
    FF_BUSY_RETURN(&t->busy, "trainer", TRAINER_ADVICE, locked_get_i32(t, key, value_out));
}

static ff_status locked_get_i64(const ff_trainer *t, int32_t key, int64_t *value_out) {
    /* i32 keys also read widened here (the batch size always could) */
    const ff_param_desc *d = ff_param_find(FF_OBJECT_TRAINER, key);
    if (d == NULL || d->type != FF_PARAM_I32) FF_TRY(ff_param_lookup(FF_OBJECT_TRAINER, key, FF_PARAM_I64, 0, NULL));
    int64_t v;
    switch (key) {
    case FF_TRAINER_BATCH_SIZE: v = t->batch_size; break;
    case FF_TRAINER_NUM_THREADS: v = t->threads; break;
    case FF_TRAINER_PRECISION: v = t->precision; break;
    case FF_TRAINER_SEED: v = t->seed; break;
    case FF_TRAINER_NUM_IMAGES: v = t->cache.count; break;
    case FF_TRAINER_EPOCH: v = t->epoch; break;
    case FF_TRAINER_BATCH_IN_EPOCH: v = t->batch_in_epoch; break;
    case FF_TRAINER_BATCHES_PER_EPOCH:
        v = batches_per_epoch(t, t->in_epoch ? t->epoch_images : t->cache.count);
        break;
    case FF_TRAINER_STEPS: v = t->steps; break;
    case FF_TRAINER_CACHE_MEMORY: v = t->cache.budget; break;
    case FF_TRAINER_FEATURE_BYTES_SPILLED: v = ff_feature_cache_spilled_bytes(&t->cache); break;
    default: v = ff_feature_cache_bytes(&t->cache); break; /* FF_TRAINER_FEATURE_BYTES */
    }
    *value_out = v;
    return FF_OK;
}

ff_status ff_trainer_get_i64(const ff_trainer *t, int32_t key, int64_t *value_out) {
    ff_clear_error();
    FF_CHECK_ARG(t != NULL && value_out != NULL, "trainer or value_out is NULL");
    FF_BUSY_RETURN(&t->busy, "trainer", TRAINER_ADVICE, locked_get_i64(t, key, value_out));
}

static ff_status locked_get_f32(const ff_trainer *t, int32_t key, float *value_out) {
    FF_TRY(ff_param_lookup(FF_OBJECT_TRAINER, key, FF_PARAM_F32, 0, NULL));
    *value_out = key == FF_TRAINER_LEARNING_RATE ? t->lr : key == FF_TRAINER_EMA_DECAY ? t->ema_decay : t->weight_decay;
    return FF_OK;
}

ff_status ff_trainer_get_f32(const ff_trainer *t, int32_t key, float *value_out) {
    ff_clear_error();
    FF_CHECK_ARG(t != NULL && value_out != NULL, "trainer or value_out is NULL");
    FF_BUSY_RETURN(&t->busy, "trainer", TRAINER_ADVICE, locked_get_f32(t, key, value_out));
}

/* -------------------------------------------------------------- images -- */

static ff_status check_can_add(const ff_trainer *t) {
    if (t->in_epoch)
        return ff_fail(FF_E_STATE, "images can only be added between epochs (%lld batches of this epoch done)",
                       (long long)t->batch_in_epoch);
    if (t->cache.count >= INT32_MAX) return ff_fail(FF_E_LIMIT_EXCEEDED, "too many training images");
    return FF_OK;
}

/* t->input holds a pre-processed image: run the backbone and cache. */
static ff_status cache_input(ff_trainer *t) {
    FF_TRY(ff_extractor_run_unchecked(t->extractor, t->input, 1, t->layout->in_w, t->layout->in_h));
    FF_TRY(ff_feature_cache_append(&t->cache, t->extractor));
    t->data_hash = ff_fnv1a64(t->data_hash, t->input, 3 * sizeof(float) * (size_t)t->layout->in_w * t->layout->in_h);
    return FF_OK;
}

static ff_status locked_add_image(ff_trainer *t, const uint8_t *pixels, int32_t width, int32_t height, size_t row_stride, int32_t pixel_format) {
    FF_TRY(check_can_add(t));
    ff_threads_scope ts = ff_threads_enter(t->threads);
    size_t cap = 3 * (size_t)t->layout->in_h * (size_t)t->layout->in_w;
    ff_status st = ff_image_preprocess(pixels, width, height, row_stride, pixel_format, t->layout->in_w,
                                       t->layout->in_h, t->input, cap);
    if (st == FF_OK) st = cache_input(t);
    ff_threads_leave(ts);
    return st;
}

ff_status ff_trainer_add_image(ff_trainer *t, const uint8_t *pixels, int32_t width, int32_t height,
                               size_t row_stride, int32_t pixel_format) {
    ff_clear_error();
    FF_CHECK_ARG(t != NULL, "trainer is NULL");
    FF_CHECK_ARG(pixels != NULL, "pixels is NULL");
    FF_BUSY_RETURN(&t->busy, "trainer", TRAINER_ADVICE, locked_add_image(t, pixels, width, height, row_stride, pixel_format));
}

static ff_status locked_add_image_file(ff_trainer *t, const char *path) {
    FF_TRY(check_can_add(t));
    ff_threads_scope ts = ff_threads_enter(t->threads);
    ff_status st = ff_image_file_to_input(&t->image, path, t->layout->in_w, t->layout->in_h, t->input);
    if (st == FF_OK && (st = cache_input(t)) != FF_OK) ff_fail_context(st, "'%s'", path);
    ff_threads_leave(ts);
    return st;
}

ff_status ff_trainer_add_image_file(ff_trainer *t, const char *path) {
    ff_clear_error();
    FF_CHECK_ARG(t != NULL, "trainer is NULL");
    FF_CHECK_ARG(path != NULL, "path is NULL");
    FF_BUSY_RETURN(&t->busy, "trainer", TRAINER_ADVICE, locked_add_image_file(t, path));
}

/* ------------------------------------------------------------ training -- */

static ff_status ensure_batch_buffers(ff_trainer *t, int32_t n) {
    if (n <= t->batch_cap) return FF_OK;
    for (int32_t l = 0; l < t->layout->num_levels; l++) {
        ff_free(t->batch[l]);
        t->batch[l] = NULL;
    }
    t->batch_cap = 0;
    for (int32_t l = 0; l < t->layout->num_levels; l++) {
        size_t count;
        if (!ff_mul_size(t->cache.per_image[l], (size_t)n, &count))
            return ff_fail(FF_E_OUT_OF_MEMORY, "batch buffer size overflows");
        FF_TRY(ff_alloc_floats(count, "training batch", &t->batch[l]));
    }
    t->batch_cap = n;
    return FF_OK;
}

static ff_status start_epoch(ff_trainer *t) {
    int64_t n = t->cache.count;
    if (n > t->order_cap) {
        int32_t *o = realloc(t->order, sizeof(int32_t) * (size_t)n);
        if (o == NULL) return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate the shuffle order");
        t->order = o;
        t->order_cap = n;
    }
    for (int64_t i = 0; i < n; i++) t->order[i] = (int32_t)i;
    ff_rng_shuffle_i32(&t->rng, t->order, n);
    t->epoch_images = n;
    t->epoch_loss_sum = 0.0;
    t->in_epoch = 1;
    return FF_OK;
}

/* The moving average after epoch t->epoch (1-based) completed: the
 * parameters after the first, then decay * average + (1 - decay) *
 * parameters, in float32 and in this operation order (the stopping study,
 * tools/study/select_study.c, computed it so; its numbers are these). */
static void update_ema(ff_trainer *t) {
    const size_t n = t->layout->num_params;
    const float d = t->ema_decay;
    float *restrict ema = t->ema;
    const float *restrict p = t->params;
    if (t->epoch == 1) {
        memcpy(ema, p, n * sizeof(float));
        return;
    }
    for (size_t k = 0; k < n; k++) ema[k] = d * ema[k] + (1.0f - d) * p[k];
}

/* One optimiser step on the next batch of the epoch under way. */
static ff_status run_batch(ff_trainer *t, float *loss_out) {
    int64_t start = t->batch_in_epoch * t->batch_size;
    int64_t left = t->epoch_images - start;
    int32_t n = (int32_t)(left < t->batch_size ? left : t->batch_size);
    FF_TRY(ensure_batch_buffers(t, t->batch_size));
    FF_TRY(ff_feature_cache_gather(&t->cache, t->order + start, n, t->batch));
    const float *feats[FF_MAX_LEVELS];
    for (int32_t l = 0; l < t->layout->num_levels; l++) feats[l] = t->batch[l];
    float loss = 0.0f;
    ff_status st = ff_flow_engine_forward(t->engine, t->params, t->flow->perms, feats, n, NULL, NULL, &loss);
    if (st == FF_E_NUMERIC)
        return ff_fail_context(st, "step %lld (epoch %lld, batch %lld), parameters unchanged", (long long)t->steps + 1,
                               (long long)t->epoch + 1, (long long)t->batch_in_epoch + 1);
    if (st != FF_OK) return st;
    if (!isfinite(loss))
        return ff_fail(FF_E_NUMERIC, "the loss is %g at step %lld (epoch %lld, batch %lld); parameters unchanged",
                       (double)loss, (long long)t->steps + 1, (long long)t->epoch + 1, (long long)t->batch_in_epoch + 1);
    FF_TRY(ff_flow_engine_backward(t->engine, t->params, t->flow->perms, t->grads));
    if (!ff_all_finite(t->grads, t->layout->num_params))
        return ff_fail(FF_E_NUMERIC, "a gradient is NaN or infinite at step %lld; parameters unchanged",
                       (long long)t->steps + 1);
    ff_adam_config cfg = {ff_adam_float_to_double(t->lr), 0.9, 0.999, 1e-8,
                          ff_adam_float_to_double(t->weight_decay)};
    t->steps++;
    ff_adam_step(&cfg, t->steps, t->params, t->grads, t->m, t->v, t->layout->num_params);
    t->batch_in_epoch++;
    t->epoch_loss_sum += loss;
    if (t->batch_in_epoch == batches_per_epoch(t, t->epoch_images)) {
        t->epoch++;
        t->batch_in_epoch = 0;
        t->in_epoch = 0;
        if (t->ema_decay > 0.0f) update_ema(t);
    }
    if (loss_out) *loss_out = loss;
    return FF_OK;
}

/* Starts an epoch when none is under way, then runs its next batch. A
 * failed first batch undoes the start (and the shuffle's draw from the
 * generator): no epoch is left under way, so images and the batch size can
 * still change, and a retry visits the images in the same order. */
static ff_status step(ff_trainer *t, float *loss_out) {
    if (t->cache.count == 0) return ff_fail(FF_E_STATE, "no training images were added");
    ff_threads_scope ts = ff_threads_enter(t->threads);
    const int started = !t->in_epoch;
    const ff_rng before = t->rng;
    ff_status st = started ? start_epoch(t) : FF_OK;
    if (st == FF_OK && (st = run_batch(t, loss_out)) != FF_OK && started) {
        t->in_epoch = 0;
        t->rng = before;
    }
    ff_threads_leave(ts);
    return st;
}

static ff_status locked_run_batch(ff_trainer *t, float *loss_out) {
    return step(t, loss_out);
}

ff_status ff_trainer_run_batch(ff_trainer *t, float *loss_out) {
    ff_clear_error();
    FF_CHECK_ARG(t != NULL, "trainer is NULL");
    FF_BUSY_RETURN(&t->busy, "trainer", TRAINER_ADVICE, locked_run_batch(t, loss_out));
}

static ff_status locked_run_epoch(ff_trainer *t, float *loss_out) {
    if (t->cache.count == 0) return ff_fail(FF_E_STATE, "no training images were added");
    int64_t epoch = t->epoch;
    while (t->epoch == epoch) FF_TRY(step(t, NULL));
    /* the finished epoch's sum stays until the next epoch starts */
    double sum = t->epoch_loss_sum;
    int64_t batches = batches_per_epoch(t, t->epoch_images);
    if (loss_out) *loss_out = (float)(sum / (double)batches);
    return FF_OK;
}

ff_status ff_trainer_run_epoch(ff_trainer *t, float *loss_out) {
    ff_clear_error();
    FF_CHECK_ARG(t != NULL, "trainer is NULL");
    FF_BUSY_RETURN(&t->busy, "trainer", TRAINER_ADVICE, locked_run_epoch(t, loss_out));
}

static ff_status locked_snapshot(const ff_trainer *t, int raw, ff_flow **out) {
    const ff_flow *src = t->flow;
    const float *params = !raw && ff_trainer_has_ema(t->ema_decay, t->epoch) ? t->ema : t->params;
    ff_flow *f = NULL;
    FF_TRY(ff_flow_alloc(src->backbone, &src->layout, src->seed, &f));
    memcpy(f->params, params, src->layout.num_params * sizeof(float));
    memcpy(f->perms, src->perms, src->layout.num_perm * sizeof(int32_t));
    *out = f;
    return FF_OK;
}

void ff_trainer_state_of(ff_trainer *t, ff_trainer_state *s) {
    *s = (ff_trainer_state){t->flow, t->params, t->m, t->v, t->layout->num_params, &t->batch_size, &t->lr,
                            &t->weight_decay, &t->ema_decay, &t->ema, &t->seed, &t->rng, &t->order, &t->order_cap,
                            &t->in_epoch, &t->epoch_images, &t->epoch, &t->batch_in_epoch, &t->steps,
                            &t->epoch_loss_sum, t->cache.count, t->data_hash, t->precision == FF_PRECISION_BF16};
}

ff_status ff_trainer_snapshot(const ff_trainer *t, ff_flow **out) {
    ff_clear_error();
    FF_CHECK_ARG(t != NULL, "trainer is NULL");
    FF_CHECK_ARG(out != NULL, "out is NULL");
    FF_BUSY_RETURN(&t->busy, "trainer", TRAINER_ADVICE, locked_snapshot(t, 0, out));
}

ff_status ff_trainer_snapshot_raw(const ff_trainer *t, ff_flow **out) {
    ff_clear_error();
    FF_CHECK_ARG(t != NULL, "trainer is NULL");
    FF_CHECK_ARG(out != NULL, "out is NULL");
    FF_BUSY_RETURN(&t->busy, "trainer", TRAINER_ADVICE, locked_snapshot(t, 1, out));
}
