/* Three passes of 11 bits over a 32-bit key; one counting pass fills all
 * three histograms, and a pass whose digit is the same for every item (the
 * top digit of scores in a narrow range, typically) is skipped. */
#include "eval/radix_sort.h"

#define FF_RADIX_BITS 11
#define FF_RADIX_SIZE (1u << FF_RADIX_BITS)
#define FF_RADIX_PASSES 3

/* Turns counts into start offsets; returns 0 when one bucket holds all n
 * (the pass would not move anything). */
static int prefix_offsets(size_t *hist, size_t n) {
    size_t sum = 0;
    for (uint32_t b = 0; b < FF_RADIX_SIZE; b++) {
        size_t c = hist[b];
        if (c == n) return 0;
        hist[b] = sum;
        sum += c;
    }
    return 1;
}

uint32_t *ff_radix_sort_u32(uint32_t *keys, uint32_t *tmp, size_t n) {
    static const unsigned shift[FF_RADIX_PASSES] = {0, 11, 22};
    size_t hist[FF_RADIX_PASSES][FF_RADIX_SIZE];
    memset(hist, 0, sizeof hist);
    for (size_t i = 0; i < n; i++) {
        uint32_t k = keys[i];
        hist[0][k & 0x7ff]++;
        hist[1][(k >> 11) & 0x7ff]++;
        hist[2][k >> 22]++;
    }
    uint32_t *src = keys, *dst = tmp;
    for (int p = 0; p < FF_RADIX_PASSES; p++) {
        if (n == 0 || !prefix_offsets(hist[p], n)) continue;
        size_t *off = hist[p];
        unsigned s = shift[p];
        for (size_t i = 0; i < n; i++) {
            uint32_t k = src[i];
            dst[off[(k >> s) & 0x7ff]++] = k;
        }
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    return src;
}

uint64_t *ff_radix_sort_u64_hi(uint64_t *items, uint64_t *tmp, size_t n) {
    static const unsigned shift[FF_RADIX_PASSES] = {32, 43, 54};
    size_t hist[FF_RADIX_PASSES][FF_RADIX_SIZE];
    memset(hist, 0, sizeof hist);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = items[i];
        hist[0][(k >> 32) & 0x7ff]++;
        hist[1][(k >> 43) & 0x7ff]++;
        hist[2][k >> 54]++;
    }
    uint64_t *src = items, *dst = tmp;
    for (int p = 0; p < FF_RADIX_PASSES; p++) {
        if (n == 0 || !prefix_offsets(hist[p], n)) continue;
        size_t *off = hist[p];
        unsigned s = shift[p];
        for (size_t i = 0; i < n; i++) {
            uint64_t k = src[i];
            dst[off[(k >> s) & 0x7ff]++] = k;
        }
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    return src;
}
