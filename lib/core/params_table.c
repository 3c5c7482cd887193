/* The option tables: one row per key, in key order. To add a key: add its
 * enumerator to include/fastflow.h (documented), a row here, store and read
 * it in the object's setter/getter, and document it in docs/api-reference.md
 * (tests/test_params.c checks bounds, default and documentation of every
 * row). */
#include "core/params_tables.h"

#define I32 FF_PARAM_I32
#define I64 FF_PARAM_I64
#define F32 FF_PARAM_F32
#define RO FF_PARAM_READ_ONLY
#define MINX FF_PARAM_MIN_EXCLUSIVE
#define MUL16 FF_PARAM_MULTIPLE_OF_16
#define BBDEF FF_PARAM_BACKBONE_DEFAULT
#define ROW(key, name, type, lo, hi, def, flags) {key, name, #key, type, lo, hi, def, flags}
/* every int64_t; the doubles saturate (see ff_param_info) */
#define I64_MIN_D (-9223372036854775808.0)
#define I64_MAX_D 9223372036854775807.0

static const ff_param_desc global_rows[] = {
    ROW(FF_GLOBAL_MAX_IMAGE_PIXELS, "max_image_pixels", I64, 1, 1099511627776.0 /* 2^40 */,
        (double)FF_DEFAULT_MAX_IMAGE_PIXELS, 0),
    ROW(FF_GLOBAL_NUM_THREADS, "num_threads", I64, 0, FF_MAX_THREADS, 0, 0),
    ROW(FF_GLOBAL_EXIF_ORIENTATION, "exif_orientation", I64, 0, 1, 1, 0),
};

static const ff_param_desc flow_rows[] = {
    ROW(FF_FLOW_INPUT_HEIGHT, "input_height", I32, FF_INPUT_SIDE_MIN, FF_INPUT_SIDE_MAX, 256, MUL16 | BBDEF),
    ROW(FF_FLOW_INPUT_WIDTH, "input_width", I32, FF_INPUT_SIDE_MIN, FF_INPUT_SIDE_MAX, 256, MUL16 | BBDEF),
    ROW(FF_FLOW_STEPS, "steps", I32, 1, FF_MAX_STEPS, 8, BBDEF),
    ROW(FF_FLOW_CONV3X3_ONLY, "conv3x3_only", I32, 0, 1, 1, BBDEF),
    ROW(FF_FLOW_HIDDEN_RATIO, "hidden_ratio", F32, 0, 16, 1.0, MINX | BBDEF),
    ROW(FF_FLOW_CLAMP, "clamp", F32, 0, 100, 2.0, MINX),
    ROW(FF_FLOW_SEED, "seed", I64, I64_MIN_D, I64_MAX_D, 0, 0),
};

static const ff_param_desc scorer_rows[] = {
    ROW(FF_SCORER_MAP_SIZE, "map_size", I32, FF_SCORER_MAP_MODEL_SIZE, FF_SCORER_MAP_IMAGE_SIZE,
        FF_SCORER_MAP_MODEL_SIZE, 0),
    ROW(FF_SCORER_SMOOTH_SIGMA, "smooth_sigma", F32, 0, FF_SMOOTH_SIGMA_MAX, 0, 0),
    ROW(FF_SCORER_NORMALIZED, "normalized", I32, 0, 1, 0, 0),
    ROW(FF_SCORER_NUM_THREADS, "num_threads", I32, 0, FF_MAX_THREADS, 0, 0),
    ROW(FF_SCORER_PRECISION, "precision", I32, FF_PRECISION_FP32, FF_PRECISION_FP32_WINOGRAD, FF_PRECISION_FP32, 0),
    /* defaults measured with bench/bench_pipeline (docs/performance.md) */
    ROW(FF_SCORER_BATCH, "batch", I32, 1, 8, 4, 0),
    ROW(FF_SCORER_DECODE_THREADS, "decode_threads", I32, 0, 16, 1, 0),
};

static const ff_param_desc trainer_rows[] = {
    ROW(FF_TRAINER_BATCH_SIZE, "batch_size", I32, 1, FF_MAX_BATCH, 32, 0),
    ROW(FF_TRAINER_LEARNING_RATE, "learning_rate", F32, 0, 1, (double)1e-3f, MINX),
    ROW(FF_TRAINER_WEIGHT_DECAY, "weight_decay", F32, 0, 1, (double)1e-5f, 0),
    ROW(FF_TRAINER_SEED, "seed", I64, I64_MIN_D, I64_MAX_D, 0, 0),
    ROW(FF_TRAINER_NUM_THREADS, "num_threads", I32, 0, FF_MAX_THREADS, 0, 0),
    ROW(FF_TRAINER_CACHE_MEMORY, "cache_memory", I64, 0, I64_MAX_D, 0, 0),
    ROW(FF_TRAINER_EMA_DECAY, "ema_decay", F32, 0, (double)0.999f, 0, 0),
    ROW(FF_TRAINER_PRECISION, "precision", I32, FF_PRECISION_FP32, FF_PRECISION_FP32_WINOGRAD, FF_PRECISION_FP32, 0),
    ROW(FF_TRAINER_NUM_IMAGES, "num_images", I64, 0, I64_MAX_D, 0, RO),
    ROW(FF_TRAINER_EPOCH, "epoch", I64, 0, I64_MAX_D, 0, RO),
    ROW(FF_TRAINER_BATCH_IN_EPOCH, "batch_in_epoch", I64, 0, I64_MAX_D, 0, RO),
    ROW(FF_TRAINER_BATCHES_PER_EPOCH, "batches_per_epoch", I64, 0, I64_MAX_D, 0, RO),
    ROW(FF_TRAINER_STEPS, "steps", I64, 0, I64_MAX_D, 0, RO),
    ROW(FF_TRAINER_FEATURE_BYTES, "feature_bytes", I64, 0, I64_MAX_D, 0, RO),
    ROW(FF_TRAINER_FEATURE_BYTES_SPILLED, "feature_bytes_spilled", I64, 0, I64_MAX_D, 0, RO),
};

static const ff_param_desc extractor_rows[] = {
    ROW(FF_EXTRACTOR_NUM_THREADS, "num_threads", I32, 0, FF_MAX_THREADS, 0, 0),
};

#define TABLE(kind, what, api, rows) {kind, what, api, rows, (int32_t)(sizeof rows / sizeof rows[0])}
const ff_param_table ff_param_tables[] = {
    TABLE(FF_OBJECT_GLOBAL, "global parameter", "ff_global", global_rows),
    TABLE(FF_OBJECT_FLOW_OPTIONS, "flow option", "ff_flow_options", flow_rows),
    TABLE(FF_OBJECT_SCORER, "scorer option", "ff_scorer", scorer_rows),
    TABLE(FF_OBJECT_TRAINER, "trainer option", "ff_trainer", trainer_rows),
    TABLE(FF_OBJECT_EXTRACTOR, "extractor option", "ff_extractor", extractor_rows),
};
const int32_t ff_param_table_count = (int32_t)(sizeof ff_param_tables / sizeof ff_param_tables[0]);
