/* The bit patterns of floats and back, by memcpy (no aliasing questions):
 * the float16/bfloat16 conversions and the checkpoints' exact numbers use
 * them. */
#ifndef FF_CORE_BITS_H
#define FF_CORE_BITS_H

#include <stdint.h>
#include <string.h>

static inline uint32_t ff_f32_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float ff_bits_f32(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static inline uint64_t ff_f64_bits(double d) {
    uint64_t u;
    memcpy(&u, &d, sizeof u);
    return u;
}

static inline double ff_bits_f64(uint64_t u) {
    double d;
    memcpy(&d, &u, sizeof d);
    return d;
}

#endif
