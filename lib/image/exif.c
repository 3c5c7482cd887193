/* JPEG EXIF orientation (see image_internal.h). The marker segments before
 * the first scan are walked with every length checked against the data;
 * any inconsistency means "no orientation" (1), never an error: a broken
 * EXIF block should not make an otherwise fine picture unreadable. */
#include "image/image_internal.h"

#include <string.h>

#include "core/error.h"
#include "core/memory.h"

static uint32_t rd16(const uint8_t *p, int le) { return le ? p[0] | (uint32_t)p[1] << 8 : (uint32_t)p[0] << 8 | p[1]; }

static uint32_t rd32(const uint8_t *p, int le) {
    return le ? rd16(p, 1) | rd16(p + 2, 1) << 16 : rd16(p, 0) << 16 | rd16(p + 2, 0);
}

/* Orientation tag of IFD0 in a TIFF block (the APP1 payload after
 * "Exif\0\0"), 1 when absent or invalid. */
static int32_t tiff_orientation(const uint8_t *t, size_t n) {
    if (n < 8) return 1;
    int le;
    if (t[0] == 'I' && t[1] == 'I') le = 1;
    else if (t[0] == 'M' && t[1] == 'M') le = 0;
    else return 1;
    if (rd16(t + 2, le) != 42) return 1;
    uint32_t ifd = rd32(t + 4, le);
    if (ifd > n - 2 || ifd < 8) return 1;
    uint32_t count = rd16(t + ifd, le);
    if ((size_t)count * 12 > n - ifd - 2) return 1; /* the entry table must fit: else malformed */
    for (uint32_t i = 0; i < count; i++) {
        size_t e = (size_t)ifd + 2 + (size_t)i * 12;
        if (rd16(t + e, le) != 0x0112) continue;
        /* SHORT, one value, stored in the first two bytes of the field */
        if (rd16(t + e + 2, le) != 3 || rd32(t + e + 4, le) != 1) return 1;
        uint32_t v = rd16(t + e + 8, le);
        return v >= 1 && v <= 8 ? (int32_t)v : 1;
    }
    return 1;
}

int32_t ff_exif_orientation(const uint8_t *data, size_t size) {
    if (size < 4 || data[0] != 0xFF || data[1] != 0xD8) return 1;
    size_t p = 2;
    while (p + 4 <= size) {
        if (data[p] != 0xFF) return 1;
        uint8_t marker = data[p + 1];
        if (marker == 0xFF) { /* fill byte */
            p++;
            continue;
        }
        if (marker == 0xDA || marker == 0xD9) return 1; /* scan or end: no EXIF before it */
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) { /* no length */
            p += 2;
            continue;
        }
        size_t len = rd16(data + p + 2, 0);
        if (len < 2 || len > size - p - 2) return 1;
        const uint8_t *seg = data + p + 4;
        size_t n = len - 2;
        if (marker == 0xE1 && n >= 6 && memcmp(seg, "Exif\0\0", 6) == 0) return tiff_orientation(seg + 6, n - 6);
        p += 2 + len;
    }
    return 1;
}

/* Source pixel of output pixel (x, y) for each orientation, as PIL's
 * ImageOps.exif_transpose: 2 mirror, 3 rotate 180, 4 flip, 5 transpose,
 * 6 rotate 90 clockwise, 7 transverse, 8 rotate 90 anticlockwise. */
static void source_of(int32_t o, int32_t w, int32_t h, int32_t x, int32_t y, int32_t *sx, int32_t *sy) {
    switch (o) {
    case 2: *sx = w - 1 - x, *sy = y; break;
    case 3: *sx = w - 1 - x, *sy = h - 1 - y; break;
    case 4: *sx = x, *sy = h - 1 - y; break;
    case 5: *sx = y, *sy = x; break;
    case 6: *sx = y, *sy = h - 1 - x; break;
    case 7: *sx = w - 1 - y, *sy = h - 1 - x; break;
    case 8: *sx = w - 1 - y, *sy = x; break;
    default: *sx = x, *sy = y; break;
    }
}

ff_status ff_raw_image_orient(ff_decoder *d, ff_raw_image *img, int32_t orientation) {
    if (orientation < 2 || orientation > 8) return FF_OK;
    const int32_t w = img->width, h = img->height, ch = img->channels;
    const int swap = orientation >= 5;
    const int32_t ow = swap ? h : w, oh = swap ? w : h;
    const size_t bytes = (size_t)w * (size_t)h * (size_t)ch;
    /* the decoder's own second buffer: the decoded pixels stay the
     * decoder's, and a scorer orienting images of one size allocates once */
    FF_TRY(ff_grow_bytes(&d->oriented, &d->oriented_cap, bytes, "an oriented image"));
    uint8_t *out = d->oriented;
    for (int32_t y = 0; y < oh; y++)
        for (int32_t x = 0; x < ow; x++) {
            int32_t sx, sy;
            source_of(orientation, w, h, x, y, &sx, &sy);
            memcpy(out + ((size_t)y * ow + x) * ch, img->pixels + ((size_t)sy * w + sx) * ch, (size_t)ch);
        }
    img->pixels = out;
    img->width = ow;
    img->height = oh;
    return FF_OK;
}
