/* The library's one pseudo-random generator: xoshiro256** (Blackman and
 * Vigna 2018) seeded through splitmix64, so that any 64-bit seed (0
 * included) gives a well-mixed state. Used where results must be
 * reproducible from a seed: flow initialisation (weights, permutations) and
 * the trainer's shuffling. The sequence is part of the model-file contract
 * only in the weak sense that the same seed gives the same fresh flow on
 * every platform; it is documented here so that other implementations can
 * reproduce it:
 *   state[i] = splitmix64(&s) for i = 0..3, s = seed
 *   next()   = rotl(state[1] * 5, 7) * 9, then the xoshiro256 state update
 *   uniform  = (next() >> 40) * 2^-24          in [0, 1), 24 bits
 *   below(n) = rejection-sampled next() mod n  (unbiased)                  */
#ifndef FF_CORE_RNG_H
#define FF_CORE_RNG_H

#include <stdint.h>

typedef struct ff_rng {
    uint64_t s[4];
} ff_rng;

static inline uint64_t ff_splitmix64(uint64_t *x) {
    uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static inline void ff_rng_seed(ff_rng *r, uint64_t seed) {
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) r->s[i] = ff_splitmix64(&x);
}

static inline uint64_t ff_rng_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t ff_rng_next(ff_rng *r) {
    uint64_t *s = r->s;
    uint64_t result = ff_rng_rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = ff_rng_rotl(s[3], 45);
    return result;
}

/* Uniform in [0, 1) with 24 random bits: exactly representable floats. */
static inline float ff_rng_uniform(ff_rng *r) {
    return (float)(ff_rng_next(r) >> 40) * (1.0f / 16777216.0f);
}

/* Uniform integer in [0, n), n >= 1, without modulo bias. */
static inline uint64_t ff_rng_below(ff_rng *r, uint64_t n) {
    uint64_t limit = UINT64_MAX - UINT64_MAX % n; /* largest multiple of n */
    uint64_t x;
    do x = ff_rng_next(r);
    while (x >= limit);
    return x % n;
}

/* Fisher-Yates shuffle of a[0..n): every permutation equally likely. */
static inline void ff_rng_shuffle_i32(ff_rng *r, int32_t *a, int64_t n) {
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)ff_rng_below(r, (uint64_t)i + 1);
        int32_t t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

#endif
