/* LSD radix sorts over float scores, the one O(n) sort every ranking metric
 * (AUROC, F1, PRO) stands on: millions of pixel scores are sorted once. */
#ifndef FF_EVAL_RADIX_SORT_H
#define FF_EVAL_RADIX_SORT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Maps a float to a uint32 whose unsigned order is the float order (finite
 * values and infinities). -0.0 and +0.0 map to the same key, because they
 * compare equal and so are one threshold, as numpy and sklearn see them. */
static inline uint32_t ff_float_key(float f) {
    if (f == 0.0f) f = 0.0f;
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    return (bits & 0x80000000u) ? ~bits : (bits | 0x80000000u);
}

/* Inverse of ff_float_key (returns +0.0 for the zero key). */
static inline float ff_key_float(uint32_t key) {
    uint32_t bits = (key & 0x80000000u) ? (key & 0x7fffffffu) : ~key;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* Sorts n keys ascending; tmp holds n keys of scratch. Returns the buffer
 * that holds the result (keys or tmp). */
uint32_t *ff_radix_sort_u32(uint32_t *keys, uint32_t *tmp, size_t n);

/* Sorts n items ascending by their upper 32 bits (a float key), stably, so
 * the lower 32 bits can carry a payload. tmp holds n items of scratch.
 * Returns the buffer that holds the result. */
uint64_t *ff_radix_sort_u64_hi(uint64_t *items, uint64_t *tmp, size_t n);

#endif
