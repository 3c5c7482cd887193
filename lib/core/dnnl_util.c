#include "core/dnnl_util.h"

#include <pthread.h>

#include "core/error.h"

static dnnl_engine_t g_engine;
static dnnl_status_t g_engine_status;
static pthread_once_t g_engine_once = PTHREAD_ONCE_INIT;

static void create_engine(void) { g_engine_status = dnnl_engine_create(&g_engine, dnnl_cpu, 0); }

dnnl_engine_t ff_dnnl_engine(void) {
    pthread_once(&g_engine_once, create_engine);
    if (g_engine_status != dnnl_success) {
        ff_dnnl_check(g_engine_status, "creating the oneDNN CPU engine");
        return NULL;
    }
    return g_engine;
}

ff_status ff_dnnl_check(dnnl_status_t s, const char *what) {
    switch (s) {
    case dnnl_success: return FF_OK;
    case dnnl_out_of_memory: return ff_fail(FF_E_OUT_OF_MEMORY, "oneDNN out of memory while %s", what);
    case dnnl_unimplemented:
        return ff_fail(FF_E_UNSUPPORTED, "oneDNN has no implementation for %s", what);
    default: return ff_fail(FF_E_INTERNAL, "oneDNN error %d while %s", (int)s, what);
    }
}

dnnl_status_t ff_conv_pd_create(dnnl_convolution_desc_t *d, const_dnnl_primitive_attr_t attr, int winograd,
                                const_dnnl_primitive_desc_t hint, dnnl_primitive_desc_t *out) {
    if (winograd) {
        d->alg_kind = dnnl_convolution_winograd;
        dnnl_status_t s = dnnl_primitive_desc_create(out, d, attr, ff_dnnl_engine(), hint);
        if (s != dnnl_unimplemented) return s;
    }
    d->alg_kind = dnnl_convolution_direct;
    return dnnl_primitive_desc_create(out, d, attr, ff_dnnl_engine(), hint);
}
