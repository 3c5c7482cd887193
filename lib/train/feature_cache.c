#include "train/feature_cache.h"

#include <stdlib.h>
#include <string.h>

#include "backbone/backbone.h"
#include "core/error.h"
#include "core/memory.h"

void ff_feature_cache_init(ff_feature_cache *c, const ff_flow_layout *L) {
    memset(c, 0, sizeof *c);
    c->num_levels = L->num_levels;
    for (int32_t l = 0; l < L->num_levels; l++)
        c->per_image[l] = (size_t)L->level[l].c * (size_t)L->level[l].h * (size_t)L->level[l].w;
}

void ff_feature_cache_free(ff_feature_cache *c) {
    for (int32_t l = 0; l < c->num_levels; l++) free(c->data[l]);
    memset(c->data, 0, sizeof c->data);
    c->count = c->capacity = 0;
}

/* Grows every level to hold `want` images (geometric growth, so adding N
 * images costs O(N) copies overall). */
static ff_status reserve(ff_feature_cache *c, int64_t want) {
    if (want <= c->capacity) return FF_OK;
    int64_t cap = c->capacity < 16 ? 16 : c->capacity + c->capacity / 2;
    if (cap < want) cap = want;
    for (int32_t l = 0; l < c->num_levels; l++) {
        size_t bytes;
        if (!ff_mul_size(c->per_image[l] * sizeof(float), (size_t)cap, &bytes))
            return ff_fail(FF_E_OUT_OF_MEMORY, "feature cache size overflows");
        float *p = realloc(c->data[l], bytes);
        if (p == NULL)
            return ff_fail(FF_E_OUT_OF_MEMORY, "cannot grow the feature cache to %lld images (%zu bytes at level %d)",
                           (long long)cap, bytes, (int)l);
        c->data[l] = p; /* levels grown so far keep their larger size: harmless */
    }
    c->capacity = cap;
    return FF_OK;
}

ff_status ff_feature_cache_append(ff_feature_cache *c, const ff_extractor *ex) {
    FF_TRY(reserve(c, c->count + 1));
    for (int32_t l = 0; l < c->num_levels; l++) {
        float *dst = c->data[l] + (size_t)c->count * c->per_image[l];
        FF_TRY(ff_extractor_read_unchecked(ex, l, dst, c->per_image[l]));
    }
    c->count++;
    return FF_OK;
}

void ff_feature_cache_gather(const ff_feature_cache *c, const int32_t *idx, int32_t n, float *const *dst) {
    for (int32_t l = 0; l < c->num_levels; l++) {
        size_t per = c->per_image[l];
        for (int32_t i = 0; i < n; i++)
            memcpy(dst[l] + (size_t)i * per, c->data[l] + (size_t)idx[i] * per, per * sizeof(float));
    }
}

int64_t ff_feature_cache_bytes(const ff_feature_cache *c) {
    int64_t b = 0;
    for (int32_t l = 0; l < c->num_levels; l++) b += (int64_t)(c->per_image[l] * sizeof(float));
    return b * c->count;
}
