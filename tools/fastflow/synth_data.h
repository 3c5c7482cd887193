/* A deterministic synthetic inspection data set: textured surfaces, some
 * with defects (scratches, spots, stains) and their ground-truth masks.
 * It lets `fastflow demo` run end to end on a fresh machine, with no data
 * to download.
 *
 * Randomness: splitmix64 (Steele, Lea and Flood 2014; the seeding
 * generator of xoshiro), state += 0x9E3779B97F4A7C15 then the two
 * xor-shift-multiply rounds. Every image draws from its own stream, seeded
 * from (data set seed, split, kind, index), so an image does not change
 * when the counts of the others do. The same seed gives the same bytes with
 * the same build; another C library's sinf/atan2f may differ in the last
 * bit, which can move a rare pixel by one level after rounding to 8 bits. */
#ifndef FF_CLI_SYNTH_DATA_H
#define FF_CLI_SYNTH_DATA_H

#include <stdint.h>

/* The demo draws kinds 0-3. Crack and dent are defects it never shows: the
 * stopping-criteria study (tools/study) builds a set from them that the
 * selection's own synthetic anomalies (scratches, spots) do not resemble. */
enum synth_kind {
    SYNTH_GOOD = 0,
    SYNTH_SCRATCH = 1,
    SYNTH_SPOT = 2,
    SYNTH_STAIN = 3,
    SYNTH_CRACK = 4, /* a thin, jagged, branching dark line */
    SYNTH_DENT = 5   /* a shallow round dent: shading only, no colour change */
};
#define SYNTH_NUM_KINDS 6
#define SYNTH_NUM_DEMO_KINDS 4

enum synth_texture { SYNTH_FABRIC = 0, SYNTH_METAL = 1, SYNTH_GRANITE = 2 };
#define SYNTH_NUM_TEXTURES 3

enum synth_split { SYNTH_TRAIN = 0, SYNTH_TEST = 1 };

typedef struct {
    int32_t size;    /* image side in pixels, [32, 4096]; defects scale with it */
    int32_t texture; /* enum synth_texture */
    uint64_t seed;
} synth_params;

/* "good", "scratch", "spot", "stain", "crack", "dent"; NULL for an unknown kind. */
const char *synth_kind_name(int32_t kind);
/* "fabric", "metal", "granite"; NULL for an unknown texture. */
const char *synth_texture_name(int32_t texture);
/* The texture named `name`, or -1. */
int32_t synth_texture_from_name(const char *name);

/* splitmix64: advances *state and returns the next 64-bit output. */
uint64_t synth_splitmix64(uint64_t *state);

/* Renders image `index` of `kind` in `split`: rgb receives size*size RGB8
 * pixels (packed), mask (may be NULL) size*size GRAY8, 255 on the defect
 * and 0 elsewhere (all 0 for SYNTH_GOOD). `work` is scratch space of
 * synth_work_floats(size) floats. Returns 0, or -1 on a bad argument. */
int synth_render(const synth_params *p, int32_t split, int32_t kind, int32_t index, float *work, uint8_t *rgb,
                 uint8_t *mask);
/* Floats of scratch space synth_render needs. */
uint64_t synth_work_floats(int32_t size);

/* The defect-free surface that image (split, kind, index) is drawn on, as
 * packed RGB8: the defect image equals it outside the defect's footprint. */
int synth_render_surface(const synth_params *p, int32_t split, int32_t kind, int32_t index, float *work,
                         uint8_t *rgb);

#endif
