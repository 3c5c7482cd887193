#include "core/settings.h"

#include <omp.h>
#include <stdatomic.h>

#include "core/cpu_features.h"
#include "core/error.h"

#define FF_DEFAULT_MAX_PIXELS INT64_C(100000000)

static _Atomic int64_t g_max_pixels = FF_DEFAULT_MAX_PIXELS;
static _Atomic int64_t g_num_threads = 0;

int64_t ff_settings_max_image_pixels(void) { return atomic_load(&g_max_pixels); }

void ff_threads_apply(void) {
    int64_t n = atomic_load(&g_num_threads);
    omp_set_num_threads(n > 0 ? (int)n : omp_get_num_procs());
}

int ff_threads_count(void) { return omp_get_max_threads(); }

ff_status ff_global_set_i64(int32_t key, int64_t value) {
    ff_clear_error();
    switch (key) {
    case FF_GLOBAL_MAX_IMAGE_PIXELS:
        FF_CHECK_ARG(value >= 1 && value <= (INT64_C(1) << 40),
                     "FF_GLOBAL_MAX_IMAGE_PIXELS must be in [1, 2^40], got %lld", (long long)value);
        atomic_store(&g_max_pixels, value);
        return FF_OK;
    case FF_GLOBAL_NUM_THREADS:
        FF_CHECK_ARG(value >= 0 && value <= 1024, "FF_GLOBAL_NUM_THREADS must be in [0, 1024], got %lld",
                     (long long)value);
        atomic_store(&g_num_threads, value);
        return FF_OK;
    case FF_GLOBAL_CPU_BF16: return ff_fail(FF_E_INVALID_ARGUMENT, "FF_GLOBAL_CPU_BF16 is read-only");
    default: return ff_fail(FF_E_INVALID_ARGUMENT, "unknown global parameter key %d", (int)key);
    }
}

ff_status ff_global_get_i64(int32_t key, int64_t *value_out) {
    ff_clear_error();
    FF_CHECK_ARG(value_out != NULL, "value_out is NULL");
    switch (key) {
    case FF_GLOBAL_MAX_IMAGE_PIXELS: *value_out = atomic_load(&g_max_pixels); return FF_OK;
    case FF_GLOBAL_NUM_THREADS: *value_out = atomic_load(&g_num_threads); return FF_OK;
    case FF_GLOBAL_CPU_BF16: *value_out = ff_cpu_has_bf16(); return FF_OK;
    default: return ff_fail(FF_E_INVALID_ARGUMENT, "unknown global parameter key %d", (int)key);
    }
}
