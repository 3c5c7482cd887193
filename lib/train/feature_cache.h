/* The trainer's cache of backbone features: the backbone is frozen, so
 * each training image's feature maps are computed once, when it is added,
 * and every epoch reads them back. One growable array per level, images
 * back to back ([count, C, H, W]), so a batch is gathered with one memcpy
 * per image and level. Memory per image: 4 bytes x sum over levels of
 * C*H*W (resnet18 at 256x256: 4 x (64*64*64 + 128*32*32 + 256*16*16) =
 * 1,835,008 bytes = 1792 KiB; 209 MVTec bottle images: 366 MiB).
 *
 * With a memory budget (ff_feature_cache_set_budget), the first
 * floor(budget / bytes per image) images stay in memory and the rest go to
 * a spill file: a temporary file in $TMPDIR (else /tmp), unlinked at once
 * so that it disappears with the process, written with pwrite when an
 * image is added and read back with pread per batch. Its pages live in the
 * kernel's page cache, which the kernel can drop, not in the process's
 * memory (RSS). The features are the same floats either way, so training
 * is bit-identical with and without a budget. Measured against caching in
 * bf16 (halves memory but still grows without bound, and changes the
 * model) and recomputing the backbone every epoch (a backbone forward per
 * image and epoch): docs/performance.md. */
#ifndef FF_TRAIN_FEATURE_CACHE_H
#define FF_TRAIN_FEATURE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"
#include "flow/flow_layout.h"

typedef struct ff_feature_cache {
    int32_t num_levels;
    size_t per_image[FF_MAX_LEVELS]; /* floats per image and level */
    float *data[FF_MAX_LEVELS];      /* the images in memory */
    int64_t count, capacity;         /* images cached (memory + spill), capacity in memory */
    int64_t budget;                  /* bytes, 0 = no limit */
    int64_t mem_limit;               /* images that may stay in memory, -1 = no limit */
    int64_t in_memory;               /* images in memory: min(count, mem_limit) */
    int spill_fd;                    /* -1 until the first image spills */
    float *row;                      /* one image's levels back to back, for spilling */
} ff_feature_cache;

void ff_feature_cache_init(ff_feature_cache *c, const ff_flow_layout *layout);
void ff_feature_cache_free(ff_feature_cache *c);

/* Sets the memory budget in bytes (0 = no limit); only while the cache is
 * empty (FF_E_STATE otherwise). */
ff_status ff_feature_cache_set_budget(ff_feature_cache *c, int64_t bytes);

/* Appends the features of the last single-image run of `ex`. On failure
 * the cache is unchanged. */
ff_status ff_feature_cache_append(ff_feature_cache *c, const ff_extractor *ex);

/* Copies images idx[0..n) of every level into dst[l] ([n, C, H, W]).
 * FF_E_IO when the spill file cannot be read. */
ff_status ff_feature_cache_gather(const ff_feature_cache *c, const int32_t *idx, int32_t n, float *const *dst);

/* Bytes held by the cached features (count images, not the capacity),
 * in memory and spilled together. */
int64_t ff_feature_cache_bytes(const ff_feature_cache *c);
/* Of those, the bytes in the spill file. */
int64_t ff_feature_cache_spilled_bytes(const ff_feature_cache *c);

#endif
