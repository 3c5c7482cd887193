/* Synthetic inspection images: procedural textures and defects. All sizes
 * are given for a 256-pixel image and scale with the image side. */
#include "synth_data.h"

#include <math.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

static const double PI = 3.14159265358979323846;

uint64_t synth_splitmix64(uint64_t *state) {
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

static const char *const KIND_NAMES[SYNTH_NUM_KINDS] = {"good", "scratch", "spot", "stain", "crack", "dent"};
static const char *const TEXTURE_NAMES[SYNTH_NUM_TEXTURES] = {"fabric", "metal", "granite"};

const char *synth_kind_name(int32_t kind) {
    return kind >= 0 && kind < SYNTH_NUM_KINDS ? KIND_NAMES[kind] : NULL;
}

const char *synth_texture_name(int32_t texture) {
    return texture >= 0 && texture < SYNTH_NUM_TEXTURES ? TEXTURE_NAMES[texture] : NULL;
}

int32_t synth_texture_from_name(const char *name) {
    for (int32_t i = 0; name && i < SYNTH_NUM_TEXTURES; i++)
        if (strcmp(name, TEXTURE_NAMES[i]) == 0) return i;
    return -1;
}

uint64_t synth_work_floats(int32_t size) { return (uint64_t)size * (uint64_t)size * 3; }

/* ---- random numbers ---------------------------------------------------- */

typedef struct {
    uint64_t s;
} rng;

/* Uniform in [0, 1) with 53 random bits. */
static double uniform(rng *r) { return (double)(synth_splitmix64(&r->s) >> 11) * 0x1.0p-53; }
static double range(rng *r, double lo, double hi) { return lo + (hi - lo) * uniform(r); }

/* The stream of image (split, kind, index); `purpose` separates the
 * surface's numbers from the defect's. */
static rng stream(const synth_params *p, int32_t split, int32_t kind, int32_t index, uint32_t purpose) {
    uint64_t x = p->seed;
    uint64_t h = synth_splitmix64(&x);
    x = h ^ ((uint64_t)(uint32_t)split << 56) ^ ((uint64_t)(uint32_t)kind << 48) ^
        ((uint64_t)purpose << 40) ^ (uint64_t)(uint32_t)index;
    rng r = {synth_splitmix64(&x)};
    return r;
}

/* ---- value noise: hashed lattice values, smoothstep-interpolated -------- */

static float lattice(uint64_t salt, int32_t ix, int32_t iy) {
    uint64_t x = salt ^ ((uint64_t)(uint32_t)ix << 32) ^ (uint64_t)(uint32_t)iy;
    return (float)(synth_splitmix64(&x) >> 40) * 0x1.0p-24f;
}

/* Smooth noise in [0, 1] with features about one lattice cell wide. */
static float value_noise(uint64_t salt, float x, float y) {
    float fx0 = floorf(x), fy0 = floorf(y);
    int32_t ix = (int32_t)fx0, iy = (int32_t)fy0;
    float fx = x - fx0, fy = y - fy0;
    float u = fx * fx * (3.0f - 2.0f * fx), v = fy * fy * (3.0f - 2.0f * fy);
    float a = lattice(salt, ix, iy), b = lattice(salt, ix + 1, iy);
    float c = lattice(salt, ix, iy + 1), d = lattice(salt, ix + 1, iy + 1);
    return (a + (b - a) * u) * (1.0f - v) + (c + (d - c) * u) * v;
}

/* Fractal sum of `octaves` noise layers, halving cell size and amplitude. */
static float fbm(uint64_t salt, float x, float y, float cell, int octaves) {
    float sum = 0.0f, amp = 1.0f, norm = 0.0f;
    for (int o = 0; o < octaves; o++) {
        sum += amp * value_noise(salt + (uint64_t)o * 0x9E37u, x / cell, y / cell);
        norm += amp;
        amp *= 0.5f;
        cell *= 0.5f;
    }
    return sum / norm;
}

static uint64_t salt(rng *r) { return synth_splitmix64(&r->s); }

/* ---- surfaces ---------------------------------------------------------- */

/* Plain weave: alternating over/under threads with per-thread shade. */
static void fabric(rng *r, int32_t n, float *rgb) {
    const float k = (float)n / 256.0f;
    const float period = 8.0f * k < 4.0f ? 4.0f : 8.0f * k;
    const float px = (float)range(r, 0, period), py = (float)range(r, 0, period);
    const float base[3] = {(float)range(r, 52, 68), (float)range(r, 88, 102), (float)range(r, 140, 160)};
    const uint64_t s_warp = salt(r), s_weft = salt(r), s_light = salt(r);
    for (int32_t y = 0; y < n; y++) {
        for (int32_t x = 0; x < n; x++) {
            float u = ((float)x + px) / period, v = ((float)y + py) / period;
            float fu0 = floorf(u), fv0 = floorf(v);
            int32_t i = (int32_t)fu0, j = (int32_t)fv0;
            float fu = u - fu0, fv = v - fv0;
            float su = sinf((float)PI * fu), sv = sinf((float)PI * fv);
            float shade;
            if ((i + j) & 1) /* the vertical thread lies on top */
                shade = (0.55f + 0.45f * su * (0.85f + 0.15f * sv)) * (0.92f + 0.16f * lattice(s_warp, i, 0));
            else
                shade = (0.55f + 0.45f * sv * (0.85f + 0.15f * su)) * (0.92f + 0.16f * lattice(s_weft, 0, j));
            float light = 0.94f + 0.12f * value_noise(s_light, (float)x / (0.5f * (float)n), (float)y / (0.5f * (float)n));
            float grain = (float)range(r, -4, 4);
            float *o = rgb + 3 * ((size_t)y * (size_t)n + (size_t)x);
            for (int c = 0; c < 3; c++) o[c] = base[c] * 1.35f * shade * light + grain;
        }
    }
}

/* Brushed metal: fine streaks along a nearly horizontal direction, a broad
 * lighting gradient and a little grain. */
static void metal(rng *r, int32_t n, float *rgb) {
    const float k = (float)n / 256.0f;
    const float g0 = (float)range(r, 140, 160);
    const float ang = (float)range(r, -0.06, 0.06), ca = cosf(ang), sa = sinf(ang);
    const float ldir = (float)range(r, 0, 2 * PI), lx = cosf(ldir), ly = sinf(ldir);
    const uint64_t s1 = salt(r), s2 = salt(r);
    for (int32_t y = 0; y < n; y++) {
        for (int32_t x = 0; x < n; x++) {
            float xr = (float)x * ca + (float)y * sa, yr = -(float)x * sa + (float)y * ca;
            float streak = 18.0f * (value_noise(s1, xr / (0.5f * (float)n), yr / (1.3f * k)) - 0.5f) +
                           10.0f * (value_noise(s2, xr / (0.12f * (float)n), yr / (0.7f * k)) - 0.5f);
            float grad = 14.0f * (((float)x - 0.5f * (float)n) * lx + ((float)y - 0.5f * (float)n) * ly) / (float)n;
            float v = g0 + streak + grad + (float)range(r, -3, 3);
            float *o = rgb + 3 * ((size_t)y * (size_t)n + (size_t)x);
            o[0] = v, o[1] = v * 1.01f, o[2] = v * 1.04f;
        }
    }
}

/* Granite-like stone: fractal mottling between two colours with fine dark
 * specks. */
static void granite(rng *r, int32_t n, float *rgb) {
    const float k = (float)n / 256.0f;
    const float dark[3] = {(float)range(r, 80, 95), 78, 72}, light[3] = {(float)range(r, 165, 180), 160, 150};
    const uint64_t s1 = salt(r), s2 = salt(r);
    for (int32_t y = 0; y < n; y++) {
        for (int32_t x = 0; x < n; x++) {
            float t = fbm(s1, (float)x, (float)y, 32.0f * k, 5);
            t = (t - 0.2f) / 0.6f;
            t = t < 0 ? 0 : t > 1 ? 1 : t;
            float speck = value_noise(s2, (float)x / (1.6f * k), (float)y / (1.6f * k));
            float m = speck > 0.82f ? 0.65f : 1.0f;
            float grain = (float)range(r, -5, 5);
            float *o = rgb + 3 * ((size_t)y * (size_t)n + (size_t)x);
            for (int c = 0; c < 3; c++) o[c] = (dark[c] + (light[c] - dark[c]) * t) * m + grain;
        }
    }
}

/* ---- defects ----------------------------------------------------------- */

static float clampf(float v, float lo, float hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Blends pixel o towards `target` by weight w in [0, 1]. */
static void blend(float *o, const float target[3], float w) {
    for (int c = 0; c < 3; c++) o[c] += (target[c] - o[c]) * w;
}

static float seg_dist(float px, float py, float ax, float ay, float bx, float by) {
    float dx = bx - ax, dy = by - ay, l2 = dx * dx + dy * dy;
    float t = l2 > 0 ? ((px - ax) * dx + (py - ay) * dy) / l2 : 0;
    t = clampf(t, 0, 1);
    float ex = ax + t * dx - px, ey = ay + t * dy - py;
    return sqrtf(ex * ex + ey * ey);
}

/* A thin, slightly curved line, much lighter or darker than the surface. */
static void scratch(rng *r, int32_t n, float *rgb, uint8_t *mask) {
    enum { SEGS = 24 };
    const float k = (float)n / 256.0f, fn = (float)n;
    float x0 = (float)range(r, 0.2, 0.8) * fn, y0 = (float)range(r, 0.2, 0.8) * fn;
    float th = (float)range(r, 0, 2 * PI), len = (float)range(r, 0.3, 0.55) * fn;
    float x2 = clampf(x0 + len * cosf(th), 0.05f * fn, 0.95f * fn), y2 = clampf(y0 + len * sinf(th), 0.05f * fn, 0.95f * fn);
    float bend = (float)range(r, -0.12, 0.12) * len;
    float x1 = 0.5f * (x0 + x2) - bend * sinf(th), y1 = 0.5f * (y0 + y2) + bend * cosf(th);
    float half = 0.5f * (float)range(r, 2.2, 3.5) * k;
    if (half < 0.75f) half = 0.75f;
    const float bright[3] = {238, 236, 230}, darkc[3] = {22, 20, 18};
    const float *target = uniform(r) < 0.6 ? bright : darkc;
    float px[SEGS + 1], py[SEGS + 1];
    for (int s = 0; s <= SEGS; s++) { /* quadratic Bezier */
        float t = (float)s / SEGS, a = (1 - t) * (1 - t), b = 2 * t * (1 - t), c = t * t;
        px[s] = a * x0 + b * x1 + c * x2, py[s] = a * y0 + b * y1 + c * y2;
    }
    for (int32_t y = 0; y < n; y++) {
        for (int32_t x = 0; x < n; x++) {
            float cx = (float)x + 0.5f, cy = (float)y + 0.5f, d = 1e30f;
            for (int s = 0; s < SEGS; s++) {
                float e = seg_dist(cx, cy, px[s], py[s], px[s + 1], py[s + 1]);
                if (e < d) d = e;
            }
            float cov = clampf(half + 0.5f - d, 0, 1);
            size_t i = (size_t)y * (size_t)n + (size_t)x;
            if (cov > 0) blend(rgb + 3 * i, target, 0.85f * cov);
            if (mask && d <= half) mask[i] = 255;
        }
    }
}

/* An irregular radius around a centre: r * (1 + a1 sin(f1 t + p1) + a2 sin(f2 t + p2)). */
typedef struct {
    float cx, cy, r, a1, a2, p1, p2;
    int f1, f2;
} blob;

static float blob_radius(const blob *b, float dx, float dy) {
    float t = atan2f(dy, dx);
    return b->r * (1.0f + b->a1 * sinf((float)b->f1 * t + b->p1) + b->a2 * sinf((float)b->f2 * t + b->p2));
}

/* A small dark blot with a soft rim. */
static void spot(rng *r, int32_t n, float *rgb, uint8_t *mask) {
    const float k = (float)n / 256.0f, fn = (float)n;
    blob b = {(float)range(r, 0.15, 0.85) * fn, (float)range(r, 0.15, 0.85) * fn, (float)range(r, 6, 13) * k,
              0.2f, 0.1f, (float)range(r, 0, 2 * PI), (float)range(r, 0, 2 * PI), 3, 5};
    const float rim = 1.5f * k < 1.0f ? 1.0f : 1.5f * k;
    const float target[3] = {(float)range(r, 25, 45), (float)range(r, 20, 32), (float)range(r, 15, 25)};
    for (int32_t y = 0; y < n; y++) {
        for (int32_t x = 0; x < n; x++) {
            float dx = (float)x + 0.5f - b.cx, dy = (float)y + 0.5f - b.cy;
            float d = sqrtf(dx * dx + dy * dy), rr = blob_radius(&b, dx, dy);
            float cov = clampf((rr - d) / rim + 0.5f, 0, 1);
            size_t i = (size_t)y * (size_t)n + (size_t)x;
            if (cov > 0) blend(rgb + 3 * i, target, 0.85f * cov);
            if (mask && d <= rr) mask[i] = 255;
        }
    }
}

/* A large, faint, yellow-brown discolouration with a wide soft edge. */
static void stain(rng *r, int32_t n, float *rgb, uint8_t *mask) {
    const float k = (float)n / 256.0f, fn = (float)n;
    blob b = {(float)range(r, 0.2, 0.8) * fn, (float)range(r, 0.2, 0.8) * fn, (float)range(r, 18, 32) * k,
              0.22f, 0.1f, (float)range(r, 0, 2 * PI), (float)range(r, 0, 2 * PI), 2, 4};
    const float edge = 0.35f * b.r;
    const float tint[3] = {0.98f, 0.80f, 0.52f};
    const float strength = (float)range(r, 0.65, 0.85);
    const uint64_t s_mottle = salt(r);
    for (int32_t y = 0; y < n; y++) {
        for (int32_t x = 0; x < n; x++) {
            float dx = (float)x + 0.5f - b.cx, dy = (float)y + 0.5f - b.cy;
            float d = sqrtf(dx * dx + dy * dy), rr = blob_radius(&b, dx, dy);
            float t = clampf((rr - d) / edge + 0.5f, 0, 1);
            float cov = t * t * (3 - 2 * t);
            size_t i = (size_t)y * (size_t)n + (size_t)x;
            if (cov > 0) {
                float m = 0.8f + 0.2f * value_noise(s_mottle, (float)x / (6 * k), (float)y / (6 * k));
                float w = strength * cov * m;
                float *o = rgb + 3 * i;
                for (int c = 0; c < 3; c++) o[c] *= 1.0f - w * (1.0f - tint[c]);
            }
            if (mask && d <= rr) mask[i] = 255;
        }
    }
}

/* A crack: a jagged random walk of short segments, darkening the surface
 * multiplicatively, with one branch from a random vertex. */
static void crack_path(rng *r, int32_t n, float x, float y, float th, int segs, float *rgb, uint8_t *mask) {
    const float k = (float)n / 256.0f, step = 4.0f * k;
    const float half = 0.6f * k < 0.6f ? 0.6f : 0.6f * k;
    for (int s = 0; s < segs; s++) {
        float nth = th + (float)range(r, -0.7, 0.7);
        float x2 = clampf(x + step * cosf(nth), 1, (float)n - 2), y2 = clampf(y + step * sinf(nth), 1, (float)n - 2);
        int32_t x0 = (int32_t)fminf(x, x2) - 3, x1 = (int32_t)fmaxf(x, x2) + 3;
        int32_t y0 = (int32_t)fminf(y, y2) - 3, y1 = (int32_t)fmaxf(y, y2) + 3;
        for (int32_t py = y0 < 0 ? 0 : y0; py <= y1 && py < n; py++)
            for (int32_t px = x0 < 0 ? 0 : x0; px <= x1 && px < n; px++) {
                float d = seg_dist((float)px + 0.5f, (float)py + 0.5f, x, y, x2, y2);
                float cov = clampf(half + 0.5f - d, 0, 1);
                size_t i = (size_t)py * (size_t)n + (size_t)px;
                if (cov > 0)
                    for (int c = 0; c < 3; c++) rgb[3 * i + c] *= 1.0f - 0.6f * cov;
                if (mask && d <= half + 0.5f) mask[i] = 255;
            }
        x = x2;
        y = y2;
    }
}

static void crack(rng *r, int32_t n, float *rgb, uint8_t *mask) {
    const float fn = (float)n;
    float x = (float)range(r, 0.25, 0.75) * fn, y = (float)range(r, 0.25, 0.75) * fn;
    float th = (float)range(r, 0, 2 * PI);
    int segs = (int)range(r, 10, 18);
    crack_path(r, n, x, y, th, segs, rgb, mask);
    crack_path(r, n, x, y, th + (float)range(r, 2.0, 4.3), segs / 2, rgb, mask);
}

/* A dent lit from the upper left: brighter on the far slope, darker on the
 * near one, by a few percent; the colour stays the surface's. */
static void dent(rng *r, int32_t n, float *rgb, uint8_t *mask) {
    const float k = (float)n / 256.0f, fn = (float)n;
    float cx = (float)range(r, 0.2, 0.8) * fn, cy = (float)range(r, 0.2, 0.8) * fn;
    float rad = (float)range(r, 9, 18) * k, depth = (float)range(r, 0.25, 0.4);
    for (int32_t y = 0; y < n; y++)
        for (int32_t x = 0; x < n; x++) {
            float dx = ((float)x + 0.5f - cx) / rad, dy = ((float)y + 0.5f - cy) / rad;
            float d2 = dx * dx + dy * dy;
            if (d2 >= 1.0f) continue;
            /* slope of the bowl (1 - d^2)^2 along the light direction (-1, -1)/sqrt(2) */
            float g = 4.0f * (1.0f - d2) * (dx + dy) * 0.70710678f;
            size_t i = (size_t)y * (size_t)n + (size_t)x;
            for (int c = 0; c < 3; c++) rgb[3 * i + c] *= 1.0f + depth * g * 0.5f;
            if (mask) mask[i] = 255;
        }
}

/* ---- images ------------------------------------------------------------ */

static bool valid(const synth_params *p, int32_t split, int32_t kind, int32_t index) {
    return p && p->size >= 32 && p->size <= 4096 && p->texture >= 0 && p->texture < SYNTH_NUM_TEXTURES &&
           (split == SYNTH_TRAIN || split == SYNTH_TEST) && kind >= 0 && kind < SYNTH_NUM_KINDS && index >= 0 &&
           !(split == SYNTH_TRAIN && kind != SYNTH_GOOD);
}

static void surface(const synth_params *p, int32_t split, int32_t kind, int32_t index, float *work) {
    rng r = stream(p, split, kind, index, 0);
    switch (p->texture) {
    case SYNTH_FABRIC: fabric(&r, p->size, work); break;
    case SYNTH_METAL: metal(&r, p->size, work); break;
    default: granite(&r, p->size, work); break;
    }
}

static void quantize(const float *work, size_t n, uint8_t *rgb) {
    for (size_t i = 0; i < n; i++) {
        float v = work[i];
        rgb[i] = v <= 0.0f ? 0 : v >= 255.0f ? 255 : (uint8_t)(v + 0.5f);
    }
}

int synth_render_surface(const synth_params *p, int32_t split, int32_t kind, int32_t index, float *work,
                         uint8_t *rgb) {
    if (!valid(p, split, kind, index) || !work || !rgb) return -1;
    surface(p, split, kind, index, work);
    quantize(work, synth_work_floats(p->size), rgb);
    return 0;
}

int synth_render(const synth_params *p, int32_t split, int32_t kind, int32_t index, float *work, uint8_t *rgb,
                 uint8_t *mask) {
    if (!valid(p, split, kind, index) || !work || !rgb) return -1;
    const int32_t n = p->size;
    surface(p, split, kind, index, work);
    if (mask) memset(mask, 0, (size_t)n * (size_t)n);
    rng r = stream(p, split, kind, index, 1);
    switch (kind) {
    case SYNTH_SCRATCH: scratch(&r, n, work, mask); break;
    case SYNTH_SPOT: spot(&r, n, work, mask); break;
    case SYNTH_STAIN: stain(&r, n, work, mask); break;
    case SYNTH_CRACK: crack(&r, n, work, mask); break;
    case SYNTH_DENT: dent(&r, n, work, mask); break;
    default: break;
    }
    quantize(work, synth_work_floats(n), rgb);
    return 0;
}
