/* Runtime version and build information. */
#include <stdio.h>

#include <oneapi/dnnl/dnnl.h>
#include <png.h>
#include <jpeglib.h>

#include "core/error.h"

uint32_t ff_version_number(void) { return FF_VERSION_NUMBER; }

const char *ff_version_string(void) { return FF_VERSION_STRING; }

const char *ff_build_info(void) {
    /* Built once; the inputs are constants of this process, so a racing
     * second initialisation writes the same bytes. */
    static char info[256];
    static _Atomic int ready = 0;
    if (!ready) {
        const dnnl_version_t *v = dnnl_version();
        snprintf(info, sizeof info, "libfastflow %s; oneDNN %d.%d.%d (%s, OpenMP runtime); libpng %s; libjpeg %d",
                 FF_VERSION_STRING, v->major, v->minor, v->patch, v->hash ? v->hash : "?",
                 png_get_libpng_ver(NULL), JPEG_LIB_VERSION);
        ready = 1;
    }
    return info;
}
