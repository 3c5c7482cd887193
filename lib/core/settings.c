#include "core/settings.h"

#include <omp.h>
#include <stdatomic.h>

#include "core/error.h"
#include "core/params.h"

/* Statically initialised, so from the same constant as the table's row. */
static _Atomic int64_t g_max_pixels = FF_DEFAULT_MAX_IMAGE_PIXELS;
static _Atomic int64_t g_num_threads = 0;

int64_t ff_settings_max_image_pixels(void) { return atomic_load(&g_max_pixels); }

/* Nesting depth of ff_threads_enter on this thread. */
static _Thread_local int tl_depth = 0;

ff_threads_scope ff_threads_enter(int32_t threads) {
    ff_threads_scope sc = {0, 0};
    if (tl_depth++ > 0) return sc;
    sc.outer = 1;
    sc.saved = omp_get_max_threads();
    int64_t n = threads > 0 ? threads : atomic_load(&g_num_threads);
    omp_set_num_threads(n > 0 ? (int)n : omp_get_num_procs());
    return sc;
}

void ff_threads_leave(ff_threads_scope sc) {
    tl_depth--;
    if (sc.outer) omp_set_num_threads(sc.saved);
}

static _Atomic int64_t *global_slot(int32_t key) {
    return key == FF_GLOBAL_MAX_IMAGE_PIXELS ? &g_max_pixels : &g_num_threads;
}

ff_status ff_global_set_i64(int32_t key, int64_t value) {
    ff_clear_error();
    FF_TRY(ff_param_set_check_int(FF_OBJECT_GLOBAL, key, FF_PARAM_I64, value));
    atomic_store(global_slot(key), value);
    return FF_OK;
}

ff_status ff_global_get_i64(int32_t key, int64_t *value_out) {
    ff_clear_error();
    FF_CHECK_ARG(value_out != NULL, "value_out is NULL");
    FF_TRY(ff_param_lookup(FF_OBJECT_GLOBAL, key, FF_PARAM_I64, 0, NULL));
    *value_out = atomic_load(global_slot(key));
    return FF_OK;
}
