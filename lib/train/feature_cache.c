#define _XOPEN_SOURCE 700
#include "train/feature_cache.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backbone/backbone.h"
#include "core/error.h"
#include "core/memory.h"

static size_t image_bytes(const ff_feature_cache *c) {
    size_t b = 0;
    for (int32_t l = 0; l < c->num_levels; l++) b += c->per_image[l] * sizeof(float);
    return b;
}

void ff_feature_cache_init(ff_feature_cache *c, const ff_flow_layout *L) {
    memset(c, 0, sizeof *c);
    c->num_levels = L->num_levels;
    c->mem_limit = -1;
    c->spill_fd = -1;
    for (int32_t l = 0; l < L->num_levels; l++)
        c->per_image[l] = (size_t)L->level[l].c * (size_t)L->level[l].h * (size_t)L->level[l].w;
}

void ff_feature_cache_free(ff_feature_cache *c) {
    for (int32_t l = 0; l < c->num_levels; l++) free(c->data[l]);
    memset(c->data, 0, sizeof c->data);
    if (c->spill_fd >= 0) close(c->spill_fd);
    c->spill_fd = -1;
    ff_free(c->row);
    c->row = NULL;
    c->count = c->capacity = c->in_memory = 0;
}

ff_status ff_feature_cache_set_budget(ff_feature_cache *c, int64_t bytes) {
    FF_CHECK_ARG(bytes >= 0, "the feature cache budget must be >= 0 bytes, got %lld", (long long)bytes);
    if (c->count > 0)
        return ff_fail(FF_E_STATE, "the feature cache budget can only be set before images are added (%lld cached)",
                       (long long)c->count);
    c->budget = bytes;
    c->mem_limit = bytes == 0 ? -1 : bytes / (int64_t)image_bytes(c);
    return FF_OK;
}

/* Grows every level to hold `want` images (geometric growth, so adding N
 * images costs O(N) copies overall; never past the budget). */
static ff_status reserve(ff_feature_cache *c, int64_t want) {
    if (want <= c->capacity) return FF_OK;
    int64_t cap = c->capacity < 16 ? 16 : c->capacity + c->capacity / 2;
    if (cap < want) cap = want;
    if (c->mem_limit >= 0 && cap > c->mem_limit) cap = c->mem_limit;
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

static ff_status open_spill(ff_feature_cache *c) {
    const char *dir = getenv("TMPDIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/fastflow-features-XXXXXX", dir && *dir ? dir : "/tmp");
    int fd = mkstemp(path);
    if (fd < 0) return ff_fail(FF_E_IO, "cannot create the feature spill file %s: %s", path, strerror(errno));
    unlink(path); /* removed when closed, or when the process ends */
    c->row = ff_alloc(image_bytes(c));
    if (c->row == NULL) {
        close(fd);
        return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory for the feature spill buffer");
    }
    c->spill_fd = fd;
    return FF_OK;
}

/* Full pwrite (writing != 0) or pread: both may transfer less than asked. */
static int transfer_all(int fd, void *buf, size_t n, off_t off, int writing) {
    unsigned char *p = buf;
    while (n > 0) {
        ssize_t k = writing ? pwrite(fd, p, n, off) : pread(fd, p, n, off);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
        off += k;
    }
    return 0;
}

static ff_status append_spilled(ff_feature_cache *c, const ff_extractor *ex) {
    if (c->spill_fd < 0) FF_TRY(open_spill(c));
    float *dst = c->row;
    for (int32_t l = 0; l < c->num_levels; l++) {
        FF_TRY(ff_extractor_read_unchecked(ex, l, dst, c->per_image[l]));
        dst += c->per_image[l];
    }
    const size_t n = image_bytes(c);
    if (transfer_all(c->spill_fd, c->row, n, (off_t)(c->count - c->in_memory) * (off_t)n, 1) != 0)
        return ff_fail(FF_E_IO, "cannot write %zu bytes of features to the spill file: %s", n, strerror(errno));
    c->count++;
    return FF_OK;
}

ff_status ff_feature_cache_append(ff_feature_cache *c, const ff_extractor *ex) {
    if (c->mem_limit >= 0 && c->in_memory >= c->mem_limit) return append_spilled(c, ex);
    FF_TRY(reserve(c, c->in_memory + 1));
    for (int32_t l = 0; l < c->num_levels; l++) {
        float *dst = c->data[l] + (size_t)c->in_memory * c->per_image[l];
        FF_TRY(ff_extractor_read_unchecked(ex, l, dst, c->per_image[l]));
    }
    c->in_memory++;
    c->count++;
    return FF_OK;
}

ff_status ff_feature_cache_gather(const ff_feature_cache *c, const int32_t *idx, int32_t n, float *const *dst) {
    const size_t row = image_bytes(c);
    for (int32_t i = 0; i < n; i++) {
        const int64_t k = idx[i];
        if (k < c->in_memory) {
            for (int32_t l = 0; l < c->num_levels; l++) {
                size_t per = c->per_image[l];
                memcpy(dst[l] + (size_t)i * per, c->data[l] + (size_t)k * per, per * sizeof(float));
            }
            continue;
        }
        off_t off = (off_t)(k - c->in_memory) * (off_t)row;
        for (int32_t l = 0; l < c->num_levels; l++) {
            size_t bytes = c->per_image[l] * sizeof(float);
            if (transfer_all(c->spill_fd, dst[l] + (size_t)i * c->per_image[l], bytes, off, 0) != 0)
                return ff_fail(FF_E_IO, "cannot read image %lld's features back from the spill file: %s",
                               (long long)k, errno ? strerror(errno) : "short read");
            off += (off_t)bytes;
        }
    }
    return FF_OK;
}

int64_t ff_feature_cache_bytes(const ff_feature_cache *c) { return (int64_t)image_bytes(c) * c->count; }

int64_t ff_feature_cache_spilled_bytes(const ff_feature_cache *c) {
    return (int64_t)image_bytes(c) * (c->count - c->in_memory);
}
