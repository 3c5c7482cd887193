/* The option tables: one descriptor per key of every keyed object (global
 * settings, flow options, scorer, trainer, extractor). They are the only
 * place an option's type, bounds and default are written; the setters and
 * getters, the model-file loader, the flow layout, the backbone's size
 * checks, the public ff_param_* queries, the CLI and the Python binding all
 * read them (docs/api-conventions.md says how to add a key). */
#ifndef FF_CORE_PARAMS_H
#define FF_CORE_PARAMS_H

#include <stdint.h>

#include "fastflow.h"

/* Limits that also size arrays or bound internal arguments, so that the
 * tables and that code share one number. */
#define FF_INPUT_SIDE_MIN 32     /* model input sides: [32, 4096], multiples of 16 */
#define FF_INPUT_SIDE_MAX 4096
#define FF_INPUT_SIDE_MULTIPLE 16
#define FF_MAX_STEPS 64          /* FF_FLOW_STEPS; sizes ff_flow_level_layout */
#define FF_MAX_BATCH 4096        /* FF_TRAINER_BATCH_SIZE and ff_extractor_run's batch */
#define FF_MAX_THREADS 1024      /* every *_NUM_THREADS key */
#define FF_SMOOTH_SIGMA_MAX 64.0f
#define FF_DEFAULT_MAX_IMAGE_PIXELS INT64_C(100000000) /* settings.c initialises statically */

typedef struct ff_param_desc {
    int32_t key;
    const char *name;      /* short name: "steps" (ff_param_name) */
    const char *enum_name; /* "FF_FLOW_STEPS", for messages */
    int32_t type;          /* enum ff_param_type */
    double min, max, def;  /* exact for i32/f32; i64 bounds saturate at +-2^63 */
    int32_t flags;         /* enum ff_param_flag */
} ff_param_desc;

/* The row of `key` in the table of `kind`, or NULL. */
const ff_param_desc *ff_param_find(int32_t kind, int32_t key);

/* For a typed setter (for_set = 1) or getter (0) of `kind` taking `type`:
 * the key must exist ("unknown flow option key 99"), have that type ("...
 * is i32, not f32 (use ff_flow_options_set_i32)") and, to set it, not be
 * read-only. FF_E_INVALID_ARGUMENT with the message otherwise. */
ff_status ff_param_lookup(int32_t kind, int32_t key, int32_t type, int32_t for_set, const ff_param_desc **out);

/* Checks a value against a row's bounds (FF_E_INVALID_ARGUMENT, message
 * "FF_FLOW_STEPS must be in [1, 64], got 0"). */
ff_status ff_param_check_int(const ff_param_desc *d, int64_t value);
ff_status ff_param_check_f32(const ff_param_desc *d, float value);

/* Lookup for a setter plus the bounds check, in one call. */
ff_status ff_param_set_check_int(int32_t kind, int32_t key, int32_t type, int64_t value);
ff_status ff_param_set_check_f32(int32_t kind, int32_t key, float value);

/* A row's default as the typed value a fresh object holds. */
int64_t ff_param_default_int(int32_t kind, int32_t key);
float ff_param_default_f32(int32_t kind, int32_t key);

/* The model input side check shared by the extractor, the backbone's
 * shape query and the flow layout: the FF_FLOW_INPUT_WIDTH/HEIGHT row's
 * bounds, the message naming the value `label` ("in_width"). */
ff_status ff_param_check_input_side(const char *label, int32_t key, int64_t value);

#endif
