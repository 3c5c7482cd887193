#include "select/synth.h"

#include <math.h>
#include <string.h>

#include "core/rng.h"

static const char *const KINDS[FF_SEL_SYNTH_NUM_KINDS] = {"cutpaste", "noise", "scratch", "spot"};

const char *ff_sel_synth_kind_name(int32_t kind) {
    return kind >= 0 && kind < FF_SEL_SYNTH_NUM_KINDS ? KINDS[kind] : NULL;
}

/* torchvision's ImageNet normalisation, as ff_image_preprocess applies it */
static const float MEAN[3] = {0.485f, 0.456f, 0.406f};
static const float STD[3] = {0.229f, 0.224f, 0.225f};

typedef struct {
    uint64_t s;
    int32_t w, h;
    float scale; /* side / 256 */
} ctx;

static double uni(ctx *c) { return (double)(ff_splitmix64(&c->s) >> 11) * 0x1.0p-53; }
static double rng(ctx *c, double lo, double hi) { return lo + (hi - lo) * uni(c); }

/* Blends pixel (x, y) towards colour rgb (in [0, 1]) by weight a. */
static void blend(float *img, const ctx *c, int32_t x, int32_t y, const float rgb[3], float a) {
    size_t plane = (size_t)c->w * (size_t)c->h, at = (size_t)y * (size_t)c->w + (size_t)x;
    for (int k = 0; k < 3; k++) {
        float v = img[k * plane + at];
        float target = (rgb[k] - MEAN[k]) / STD[k];
        img[k * plane + at] = (1.0f - a) * v + a * target;
    }
}

/* A dark or bright defect colour with a random tint. */
static void defect_colour(ctx *c, float rgb[3]) {
    int dark = uni(c) < 0.5;
    float base = dark ? (float)rng(c, 0.02, 0.2) : (float)rng(c, 0.8, 0.98);
    for (int k = 0; k < 3; k++) rgb[k] = base + (float)rng(c, -0.05, 0.05);
}

static void cutpaste(ctx *c, float *img, const float *donor, uint8_t *mask) {
    int32_t pw = (int32_t)(c->w * rng(c, 0.08, 0.2)), ph = (int32_t)(c->h * rng(c, 0.08, 0.2));
    int32_t sx = (int32_t)rng(c, 0, c->w - pw), sy = (int32_t)rng(c, 0, c->h - ph);
    int32_t dx = (int32_t)rng(c, 0, c->w - pw), dy = (int32_t)rng(c, 0, c->h - ph);
    size_t plane = (size_t)c->w * (size_t)c->h;
    /* copy through a temporary per row: donor may be img itself */
    float row[3][4096];
    for (int32_t y = 0; y < ph; y++) {
        for (int k = 0; k < 3; k++)
            memcpy(row[k], donor + k * plane + (size_t)(sy + y) * c->w + sx, sizeof(float) * (size_t)pw);
        for (int k = 0; k < 3; k++)
            memcpy(img + k * plane + (size_t)(dy + y) * c->w + dx, row[k], sizeof(float) * (size_t)pw);
        memset(mask + (size_t)(dy + y) * c->w + dx, 1, (size_t)pw);
    }
}

/* Value noise on an 8x8 lattice of random values, bilinear. */
static void noise_patch(ctx *c, float *img, uint8_t *mask) {
    float lattice[9][9];
    for (int i = 0; i < 9; i++)
        for (int j = 0; j < 9; j++) lattice[i][j] = (float)uni(c);
    float tint[3];
    for (int k = 0; k < 3; k++) tint[k] = (float)rng(c, 0.1, 0.9);
    double rx = c->w * rng(c, 0.05, 0.12), ry = c->h * rng(c, 0.05, 0.12);
    double cx = rng(c, rx, c->w - rx), cy = rng(c, ry, c->h - ry);
    float a = (float)rng(c, 0.6, 0.9);
    for (int32_t y = (int32_t)(cy - ry); y <= (int32_t)(cy + ry) && y < c->h; y++)
        for (int32_t x = (int32_t)(cx - rx); x <= (int32_t)(cx + rx) && x < c->w; x++) {
            double u = (x - cx) / rx, v = (y - cy) / ry;
            if (x < 0 || y < 0 || u * u + v * v > 1.0) continue;
            double gx = (u + 1.0) * 4.0, gy = (v + 1.0) * 4.0;
            int ix = (int)gx, iy = (int)gy;
            if (ix > 7) ix = 7;
            if (iy > 7) iy = 7;
            float fx = (float)(gx - ix), fy = (float)(gy - iy);
            float n = (1 - fy) * ((1 - fx) * lattice[iy][ix] + fx * lattice[iy][ix + 1]) +
                      fy * ((1 - fx) * lattice[iy + 1][ix] + fx * lattice[iy + 1][ix + 1]);
            float rgb[3];
            for (int k = 0; k < 3; k++) rgb[k] = tint[k] * (0.5f + n);
            blend(img, c, x, y, rgb, a);
            mask[(size_t)y * c->w + x] = 1;
        }
}

static void scratch(ctx *c, float *img, uint8_t *mask) {
    double len = c->w * rng(c, 0.15, 0.4), ang = rng(c, 0.0, 3.14159265358979);
    double half = c->scale * rng(c, 0.8, 2.0);
    double ax = rng(c, 0.1, 0.9) * c->w, ay = rng(c, 0.1, 0.9) * c->h;
    double bx = ax + len * cos(ang), by = ay + len * sin(ang);
    float rgb[3];
    defect_colour(c, rgb);
    double dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
    for (int32_t y = 0; y < c->h; y++)
        for (int32_t x = 0; x < c->w; x++) {
            double t = ((x - ax) * dx + (y - ay) * dy) / l2;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            double ex = x - (ax + t * dx), ey = y - (ay + t * dy);
            if (ex * ex + ey * ey > half * half) continue;
            blend(img, c, x, y, rgb, 0.85f);
            mask[(size_t)y * c->w + x] = 1;
        }
}

static void spot(ctx *c, float *img, uint8_t *mask) {
    double r = c->scale * rng(c, 4.0, 10.0);
    double cx = rng(c, r, c->w - r), cy = rng(c, r, c->h - r);
    float rgb[3];
    defect_colour(c, rgb);
    for (int32_t y = (int32_t)(cy - r); y <= (int32_t)(cy + r) && y < c->h; y++)
        for (int32_t x = (int32_t)(cx - r); x <= (int32_t)(cx + r) && x < c->w; x++) {
            if (x < 0 || y < 0 || (x - cx) * (x - cx) + (y - cy) * (y - cy) > r * r) continue;
            blend(img, c, x, y, rgb, 0.85f);
            mask[(size_t)y * c->w + x] = 1;
        }
}

int ff_sel_synth_paste(int32_t kind, uint64_t seed, float *img, const float *donor, int32_t width, int32_t height,
                    uint8_t *mask) {
    if (kind < 0 || kind >= FF_SEL_SYNTH_NUM_KINDS || !img || !donor || !mask || width < 16 || height < 16 ||
        width > 4096 || height > 4096)
        return -1;
    ctx c = {seed, width, height, (float)width / 256.0f};
    memset(mask, 0, (size_t)width * (size_t)height);
    switch (kind) {
    case FF_SEL_SYNTH_CUTPASTE: cutpaste(&c, img, donor, mask); break;
    case FF_SEL_SYNTH_NOISE: noise_patch(&c, img, mask); break;
    case FF_SEL_SYNTH_SCRATCH: scratch(&c, img, mask); break;
    default: spot(&c, img, mask); break;
    }
    return 0;
}
