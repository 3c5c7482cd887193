/* Library-wide settings (ff_global_set_i64) and thread-count control. */
#ifndef FF_CORE_SETTINGS_H
#define FF_CORE_SETTINGS_H

#include <stdint.h>

int64_t ff_settings_max_image_pixels(void);
/* FF_GLOBAL_EXIF_ORIENTATION: 1 when JPEG orientation is applied. */
int ff_settings_exif_orientation(void);
/* Applies FF_GLOBAL_NUM_THREADS to the calling thread's OpenMP setting;
 * every computing entry point calls it before running parallel work. */
void ff_threads_apply(void);
/* Number of threads the calling thread's parallel regions will use. */
int ff_threads_count(void);

#endif
