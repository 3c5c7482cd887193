#include "heatmap_png.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli_util.h"
#include "fastflow.h"

/* The mask grown by one pixel (3x3 dilation). ff_heatmap_draw_contour
 * draws the 2-pixel boundary of the grown mask, which is then a ring just
 * outside the defect: a thin scratch stays visible inside its contour. */
static uint8_t *dilate(const uint8_t *mask, int32_t h, int32_t w) {
    uint8_t *out = malloc((size_t)h * (size_t)w);
    if (!out) return NULL;
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) {
            uint8_t v = 0;
            for (int32_t dy = -1; dy <= 1 && !v; dy++)
                for (int32_t dx = -1; dx <= 1 && !v; dx++) {
                    int32_t yy = y + dy, xx = x + dx;
                    v = yy >= 0 && yy < h && xx >= 0 && xx < w && mask[(size_t)yy * (size_t)w + (size_t)xx];
                }
            out[(size_t)y * (size_t)w + (size_t)x] = v;
        }
    return out;
}

int cli_render_heatmap(const char *cmd, const char *what, const float *map, int32_t map_width, int32_t map_height,
                       float lo, float hi, const uint8_t *rgb, int32_t width, int32_t height, const uint8_t *mask,
                       float alpha, uint8_t *work) {
    size_t bytes = (size_t)map_height * (size_t)map_width * 3;
    ff_status st = ff_heatmap_render(map, map_width, map_height, lo, hi, rgb, width, height, 0, FF_PIXEL_RGB8, alpha,
                                     work, bytes, 0);
    if (st == FF_OK && mask) {
        uint8_t *grown = dilate(mask, map_height, map_width);
        if (!grown) {
            fprintf(stderr, "fastflow %s: out of memory\n", cmd);
            return 1;
        }
        st = ff_heatmap_draw_contour(grown, map_width, map_height, 0, CLI_HEATMAP_CONTOUR, work, map_width,
                                     map_height, bytes, 0);
        free(grown);
    }
    return st == FF_OK ? 0 : cli_fail(cmd, what, st);
}

int cli_write_heatmap(const char *cmd, const char *path, const float *map, int32_t map_width, int32_t map_height,
                      float lo, float hi, const uint8_t *rgb, int32_t width, int32_t height, const uint8_t *mask,
                      uint8_t *work) {
    if (cli_render_heatmap(cmd, path, map, map_width, map_height, lo, hi, rgb, width, height, mask,
                           CLI_HEATMAP_ALPHA, work) != 0)
        return 1;
    ff_status st = ff_image_write_png(path, work, map_width, map_height, 0, FF_PIXEL_RGB8);
    return st == FF_OK ? 0 : cli_fail(cmd, path, st);
}

ff_status cli_decode_rgb(const char *path, uint8_t **pixels, size_t *cap, int32_t *w, int32_t *h) {
    ff_status st = ff_image_probe_file(path, NULL, w, h);
    if (st != FF_OK) return st;
    size_t need = (size_t)*w * (size_t)*h * 3;
    if (need > *cap) {
        uint8_t *p = realloc(*pixels, need);
        if (!p) return FF_E_OUT_OF_MEMORY;
        *pixels = p;
        *cap = need;
    }
    return ff_image_decode_file(path, FF_PIXEL_RGB8, *pixels, *cap, 0);
}
