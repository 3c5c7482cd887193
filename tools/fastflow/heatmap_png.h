/* Writing one heatmap overlay PNG, as `fastflow eval` and `fastflow demo`
 * do (and `fastflow score` can): the picture resized to the map's size,
 * the Turbo-coloured map at alpha 0.5 on the colour scale [lo, hi], and
 * the mask's contour in white when a mask is given, as a 2-pixel ring just
 * outside the defect. */
#ifndef FF_CLI_HEATMAP_PNG_H
#define FF_CLI_HEATMAP_PNG_H

#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"

/* Blend weight of the colour over the picture. */
#define CLI_HEATMAP_ALPHA 0.5f
#define CLI_HEATMAP_CONTOUR 0xFFFFFFu

/* map: map_height x map_width floats; rgb: the picture, width x height
 * packed RGB8; mask: NULL or map_height x map_width bytes (non-zero =
 * defect). `work` holds map_height * map_width * 3 bytes. Returns 0, or
 * prints an error prefixed with "fastflow <cmd>:" and returns 1. */
int cli_write_heatmap(const char *cmd, const char *path, const float *map, int32_t map_width, int32_t map_height,
                      float lo, float hi, const uint8_t *rgb, int32_t width, int32_t height, const uint8_t *mask,
                      uint8_t *work);

/* The same overlay rendered into `work` only, at blend weight `alpha`
 * (0 gives the picture alone at the map's size); errors name `what`. */
int cli_render_heatmap(const char *cmd, const char *what, const float *map, int32_t map_width, int32_t map_height,
                       float lo, float hi, const uint8_t *rgb, int32_t width, int32_t height, const uint8_t *mask,
                       float alpha, uint8_t *work);

/* Decodes `path` as packed RGB8 into *pixels, grown (realloc) to *cap
 * bytes as needed; *w, *h receive its size. */
ff_status cli_decode_rgb(const char *path, uint8_t **pixels, size_t *cap, int32_t *w, int32_t *h);

#endif
