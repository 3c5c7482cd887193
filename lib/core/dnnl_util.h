/* Shared oneDNN plumbing: the process-wide CPU engine and status mapping. */
#ifndef FF_CORE_DNNL_UTIL_H
#define FF_CORE_DNNL_UTIL_H

#include <oneapi/dnnl/dnnl.h>

#include "fastflow.h"

/* The CPU engine, created once per process and never destroyed (oneDNN
 * engines are thread-safe). Returns NULL and records an error on failure. */
dnnl_engine_t ff_dnnl_engine(void);

/* Maps a oneDNN status to FF_E_INTERNAL / FF_E_OUT_OF_MEMORY with a message
 * naming `what`; FF_OK for dnnl_success. */
ff_status ff_dnnl_check(dnnl_status_t s, const char *what);

/* Creates a convolution primitive descriptor for `d` with attributes
 * `attr`, by Winograd's algorithm when `winograd` is set and oneDNN
 * implements it for the shape and post-ops, else by the direct one (d's
 * algorithm is overwritten). Returns oneDNN's status. */
dnnl_status_t ff_conv_pd_create(dnnl_convolution_desc_t *d, const_dnnl_primitive_attr_t attr, int winograd,
                                const_dnnl_primitive_desc_t hint, dnnl_primitive_desc_t *out);

#define FF_DNNL_TRY(call, what) FF_TRY(ff_dnnl_check((call), (what)))

#endif
