/* JPEG EXIF orientation (issue 12 item 6): a picture carrying Orientation
 * N decodes upright, pixel for pixel as PIL's ImageOps.exif_transpose
 * (goldens: tests/data/exif, make_goldens.py), for all eight orientations,
 * in little- and big-endian EXIF; probing reports the upright size;
 * FF_GLOBAL_EXIF_ORIENTATION = 0 gives the stored pixels. Malformed EXIF
 * blocks (hand-made, then 20000 random mutations) never fail a decode that
 * would succeed without them and never crash (ASan/UBSan run). The APP1
 * segment is written here and spliced in after SOI, as the generator
 * does. */
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "core/file_io.h"
#include "test_util.h"

static uint8_t *base;
static size_t base_size;

/* APP1 "Exif" with one IFD0 entry (tag, type, count, value). */
static size_t exif_app1(uint8_t *out, int big, uint16_t tag, uint16_t type, uint32_t count, uint16_t value) {
    uint8_t t[26];
    size_t n = 0;
#define P16(v) (big ? (t[n] = (uint8_t)((v) >> 8), t[n + 1] = (uint8_t)(v)) : (t[n] = (uint8_t)(v), t[n + 1] = (uint8_t)((v) >> 8)), n += 2)
#define P32(v) (big ? (P16((uint16_t)((v) >> 16)), P16((uint16_t)(v))) : (P16((uint16_t)(v)), P16((uint16_t)((v) >> 16))))
    t[n++] = big ? 'M' : 'I';
    t[n++] = big ? 'M' : 'I';
    P16(42);
    P32(8u);
    P16(1);
    P16(tag);
    P16(type);
    P32(count);
    P16(value);
    P16(0);
    P32(0u);
    size_t len = 2 + 6 + n;
    out[0] = 0xFF;
    out[1] = 0xE1;
    out[2] = (uint8_t)(len >> 8);
    out[3] = (uint8_t)len;
    memcpy(out + 4, "Exif\0\0", 6);
    memcpy(out + 10, t, n);
    return 10 + n;
}

/* base.jpg with `seg` spliced in after SOI (malloc'd). */
static uint8_t *with_segment(const uint8_t *seg, size_t n, size_t *size) {
    uint8_t *d = malloc(base_size + n);
    memcpy(d, base, 2);
    memcpy(d + 2, seg, n);
    memcpy(d + 2 + n, base + 2, base_size - 2);
    *size = base_size + n;
    return d;
}

static uint8_t *decode(const uint8_t *data, size_t size, int32_t *w, int32_t *h) {
    if (ff_image_probe_memory(data, size, NULL, w, h) != FF_OK) return NULL;
    size_t cap = (size_t)*w * (size_t)*h * 3;
    uint8_t *px = malloc(cap);
    if (ff_image_decode_memory(data, size, FF_PIXEL_RGB8, px, cap, 0) != FF_OK) {
        free(px);
        return NULL;
    }
    return px;
}

static uint8_t *decode_file(const char *path, int32_t *w, int32_t *h) {
    uint8_t *data = NULL;
    size_t size = 0;
    if (ff_read_file(path, &data, &size) != FF_OK) return NULL;
    uint8_t *px = decode(data, size, w, h);
    free(data);
    return px;
}

static void test_orientations(void) {
    for (int big = 0; big < 2; big++)
        for (uint16_t n = 1; n <= 8; n++) {
            uint8_t seg[64];
            size_t sn = exif_app1(seg, big, 0x0112, 3, 1, n), size;
            uint8_t *jpg = with_segment(seg, sn, &size);
            char name[64];
            snprintf(name, sizeof name, "exif/upright_%d.png", n);
            int32_t w = 0, h = 0, gw = 0, gh = 0;
            uint8_t *got = decode(jpg, size, &w, &h);
            uint8_t *want = decode_file(ff_test_data_path(name), &gw, &gh);
            CHECK(got && want);
            CHECK(w == gw && h == gh);
            CHECK(w == (n >= 5 ? 4 : 7) && h == (n >= 5 ? 7 : 4));
            if (got && want && w == gw && h == gh) {
                int same = memcmp(got, want, (size_t)w * h * 3) == 0;
                if (!same) fprintf(stderr, "orientation %d (%s): pixels differ from PIL's\n", n, big ? "MM" : "II");
                CHECK(same);
            }
            /* ignored on request: the stored pixels and size */
            CHECK_OK(ff_global_set_i64(FF_GLOBAL_EXIF_ORIENTATION, 0));
            int32_t rw = 0, rh = 0, bw = 0, bh = 0;
            uint8_t *raw = decode(jpg, size, &rw, &rh);
            uint8_t *stored = decode(base, base_size, &bw, &bh);
            CHECK(raw && stored && rw == 7 && rh == 4 && memcmp(raw, stored, 7 * 4 * 3) == 0);
            CHECK_OK(ff_global_set_i64(FF_GLOBAL_EXIF_ORIENTATION, 1));
            free(raw);
            free(stored);
            free(got);
            free(want);
            free(jpg);
        }
}

/* Decodes successfully, upright (7x4 when `sideways` is 0, else 4x7). */
static void check_decodes(const uint8_t *seg, size_t sn, int sideways) {
    size_t size;
    uint8_t *jpg = with_segment(seg, sn, &size);
    int32_t w = 0, h = 0;
    uint8_t *px = decode(jpg, size, &w, &h);
    CHECK(px != NULL);
    CHECK(w == (sideways ? 4 : 7) && h == (sideways ? 7 : 4));
    free(px);
    free(jpg);
}

static void test_malformed(void) {
    uint8_t seg[64];
    size_t sn;
    sn = exif_app1(seg, 0, 0x0112, 3, 1, 9); /* out of range */
    check_decodes(seg, sn, 0);
    sn = exif_app1(seg, 0, 0x0112, 3, 1, 0);
    check_decodes(seg, sn, 0);
    sn = exif_app1(seg, 0, 0x0112, 4, 1, 6); /* LONG, not SHORT */
    check_decodes(seg, sn, 0);
    sn = exif_app1(seg, 1, 0x0112, 3, 2, 6); /* two values */
    check_decodes(seg, sn, 0);
    sn = exif_app1(seg, 0, 0x0111, 3, 1, 6); /* another tag */
    check_decodes(seg, sn, 0);
    sn = exif_app1(seg, 0, 0x0112, 3, 1, 6);
    seg[10] = 'X'; /* byte order mark */
    check_decodes(seg, sn, 0);
    sn = exif_app1(seg, 0, 0x0112, 3, 1, 6);
    seg[14] = 0xF0; /* IFD0 offset beyond the block */
    check_decodes(seg, sn, 0);
    sn = exif_app1(seg, 0, 0x0112, 3, 1, 6);
    seg[18] = 0xFF; /* entry count beyond the block */
    seg[19] = 0xFF;
    check_decodes(seg, sn, 0);
    sn = exif_app1(seg, 0, 0x0112, 3, 1, 6);
    seg[4] = 'e'; /* not "Exif" */
    check_decodes(seg, sn, 0);
    /* the first EXIF block counts */
    uint8_t two[128];
    size_t a = exif_app1(two, 0, 0x0112, 3, 1, 6);
    size_t b = exif_app1(two + a, 0, 0x0112, 3, 1, 1);
    check_decodes(two, a + b, 1);
    /* a segment length running past the data: the decode itself fails as
     * without EXIF (libjpeg's verdict), no crash */
    sn = exif_app1(seg, 0, 0x0112, 3, 1, 6);
    seg[2] = 0x7F;
    size_t size;
    uint8_t *jpg = with_segment(seg, sn, &size);
    int32_t w, h;
    ff_status st = ff_image_probe_memory(jpg, size, NULL, &w, &h);
    CHECK(st == FF_OK || st == FF_E_BAD_FORMAT);
    free(jpg);
}

/* Random damage to the EXIF block only: the picture stays decodable, and
 * the size is 7x4 or 4x7 with probe and decode agreeing. */
static void test_fuzz_exif(void) {
    ff_rng rng;
    ff_rng_seed(&rng, 2024);
    int bad = 0;
    for (int i = 0; i < 20000; i++) {
        uint8_t seg[64];
        size_t sn = exif_app1(seg, (int)(ff_rng_next(&rng) & 1), 0x0112, 3, 1, (uint16_t)(1 + ff_rng_next(&rng) % 8));
        int flips = 1 + (int)(ff_rng_next(&rng) % 6);
        for (int f = 0; f < flips; f++) {
            size_t at = 4 + (size_t)(ff_rng_next(&rng) % (sn - 4)); /* keep the marker and length */
            seg[at] = (uint8_t)ff_rng_next(&rng);
        }
        size_t size;
        uint8_t *jpg = with_segment(seg, sn, &size);
        int32_t w = 0, h = 0;
        uint8_t *px = decode(jpg, size, &w, &h);
        bad += !px || !((w == 7 && h == 4) || (w == 4 && h == 7));
        free(px);
        free(jpg);
    }
    CHECK(bad == 0);
}

int main(void) {
    if (ff_read_file(ff_test_data_path("exif/base.jpg"), &base, &base_size) != FF_OK) {
        CHECK(!"tests/data/exif/base.jpg missing");
        return ff_test_finish();
    }
    int64_t v = -1;
    CHECK_OK(ff_global_get_i64(FF_GLOBAL_EXIF_ORIENTATION, &v));
    CHECK(v == 1);
    CHECK_STATUS(ff_global_set_i64(FF_GLOBAL_EXIF_ORIENTATION, 2), FF_E_INVALID_ARGUMENT);
    test_orientations();
    test_malformed();
    test_fuzz_exif();
    free(base);
    return ff_test_finish();
}
