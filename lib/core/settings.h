/* Library-wide settings (ff_global_set_i64) and thread-count control. */
#ifndef FF_CORE_SETTINGS_H
#define FF_CORE_SETTINGS_H

#include <stdint.h>

int64_t ff_settings_max_image_pixels(void);

/* Thread count of one computing call. Every public entry point that runs
 * parallel work brackets it:
 *     ff_threads_scope ts = ff_threads_enter(object_threads);
 *     ... work, any exit path ...
 *     ff_threads_leave(ts);
 * `threads` > 0 is the object's own count (FF_*_NUM_THREADS), 0 the global
 * one (FF_GLOBAL_NUM_THREADS; 0 there = all cores). The outermost call on a
 * thread sets OpenMP's count and ff_threads_leave restores the caller's
 * omp_get_max_threads(); nested calls (a scorer's extractor and flow
 * engine) keep the outer count, so a scorer's setting covers everything it
 * runs. */
typedef struct ff_threads_scope {
    int outer;      /* this call set the count (it is the outermost) */
    int saved;      /* the caller's omp_get_max_threads() */
} ff_threads_scope;
ff_threads_scope ff_threads_enter(int32_t threads);
void ff_threads_leave(ff_threads_scope scope);

#endif
