#include "core/memory.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

void *ff_alloc(size_t bytes) {
    if (bytes == 0) bytes = 1;
    size_t rounded;
    if (!ff_add_size(bytes, 63, &rounded)) return NULL;
    rounded &= ~(size_t)63;
    return aligned_alloc(64, rounded);
}

void *ff_calloc(size_t count, size_t size) {
    size_t bytes;
    if (!ff_mul_size(count, size, &bytes)) return NULL;
    void *p = ff_alloc(bytes);
    if (p) memset(p, 0, bytes);
    return p;
}

void ff_free(void *p) { free(p); }

char *ff_strdup(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static ff_status grow(void **buf, size_t *cap, size_t need, size_t elem, const char *what) {
    if (need <= *cap) return FF_OK;
    size_t bytes;
    if (!ff_mul_size(need, elem, &bytes)) return ff_fail(FF_E_OUT_OF_MEMORY, "%s: size overflow", what);
    void *p = ff_alloc(bytes);
    if (!p) return ff_fail(FF_E_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes", what, bytes);
    ff_free(*buf);
    *buf = p;
    *cap = need;
    return FF_OK;
}

ff_status ff_grow_bytes(uint8_t **buf, size_t *cap, size_t need, const char *what) {
    return grow((void **)buf, cap, need, 1, what);
}

ff_status ff_grow_floats(float **buf, size_t *cap, size_t need, const char *what) {
    return grow((void **)buf, cap, need, sizeof(float), what);
}

ff_status ff_alloc_floats(size_t count, const char *what, float **out) {
    size_t bytes;
    if (!ff_mul_size(count, sizeof(float), &bytes))
        return ff_fail(FF_E_OUT_OF_MEMORY, "%s: size overflow (%zu floats)", what, count);
    float *p = ff_alloc(bytes);
    if (!p) return ff_fail(FF_E_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes", what, bytes);
    *out = p;
    return FF_OK;
}
