/* Checked sizes and aligned allocations. Every size computed from
 * untrusted input (file headers, caller dimensions) goes through the
 * overflow-checked helpers. */
#ifndef FF_CORE_MEMORY_H
#define FF_CORE_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"

/* false on overflow */
static inline bool ff_mul_size(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return false;
    *out = a * b;
    return true;
}
static inline bool ff_add_size(size_t a, size_t b, size_t *out) {
    if (b > SIZE_MAX - a) return false;
    *out = a + b;
    return true;
}

/* 64-byte aligned (cache line / AVX-512); contents uninitialised.
 * NULL on failure or zero size overflow. Free with ff_free. */
void *ff_alloc(size_t bytes);
/* Zeroed, overflow-checked count * size. */
void *ff_calloc(size_t count, size_t size);
void ff_free(void *p);
/* strdup that returns NULL on failure */
char *ff_strdup(const char *s);

/* Allocates `count` floats and records FF_E_OUT_OF_MEMORY naming `what`
 * on failure. */
ff_status ff_alloc_floats(size_t count, const char *what, float **out);

/* Work buffers that only grow: when `need` exceeds *cap, *buf is replaced
 * by a new ff_alloc'd one of that size (contents not kept) and *cap
 * updated; FF_E_OUT_OF_MEMORY naming `what` otherwise leaves both as they
 * were. Counts are in elements. */
ff_status ff_grow_bytes(uint8_t **buf, size_t *cap, size_t need, const char *what);
ff_status ff_grow_floats(float **buf, size_t *cap, size_t need, const char *what);

#endif
