/* The trainer's cache of backbone features: the backbone is frozen, so
 * each training image's feature maps are computed once, when it is added,
 * and every epoch reads them back. One growable array per level, images
 * back to back ([count, C, H, W]), so a batch is gathered with one memcpy
 * per image and level. Memory per image: 4 bytes x sum over levels of
 * C*H*W (resnet18 at 256x256: 4 x (64*64*64 + 128*32*32 + 256*16*16) =
 * 1,835,008 bytes = 1792 KiB; 209 MVTec bottle images: 366 MiB). */
#ifndef FF_TRAIN_FEATURE_CACHE_H
#define FF_TRAIN_FEATURE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"
#include "flow/flow_layout.h"

typedef struct ff_feature_cache {
    int32_t num_levels;
    size_t per_image[FF_MAX_LEVELS]; /* floats per image and level */
    float *data[FF_MAX_LEVELS];
    int64_t count, capacity;
} ff_feature_cache;

void ff_feature_cache_init(ff_feature_cache *c, const ff_flow_layout *layout);
void ff_feature_cache_free(ff_feature_cache *c);

/* Appends the features of the last single-image run of `ex`. On failure
 * the cache is unchanged. */
ff_status ff_feature_cache_append(ff_feature_cache *c, const ff_extractor *ex);

/* Copies images idx[0..n) of every level into dst[l] ([n, C, H, W]). */
void ff_feature_cache_gather(const ff_feature_cache *c, const int32_t *idx, int32_t n, float *const *dst);

/* Bytes held by the cached features (count images, not the capacity). */
int64_t ff_feature_cache_bytes(const ff_feature_cache *c);

#endif
