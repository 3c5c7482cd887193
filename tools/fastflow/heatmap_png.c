#include "heatmap_png.h"

#include "cli_util.h"
#include "fastflow.h"

int cli_write_heatmap(const char *cmd, const char *path, const float *map, int32_t map_height, int32_t map_width,
                      float lo, float hi, const uint8_t *rgb, int32_t width, int32_t height, const uint8_t *mask,
                      uint8_t *work) {
    size_t bytes = (size_t)map_height * (size_t)map_width * 3;
    ff_status st = ff_heatmap_render(map, map_width, map_height, lo, hi, rgb, width, height, 0, FF_PIXEL_RGB8,
                                     CLI_HEATMAP_ALPHA, work, bytes, 0);
    if (st == FF_OK && mask)
        st = ff_heatmap_draw_contour(mask, map_width, map_height, 0, CLI_HEATMAP_CONTOUR, work, map_width,
                                     map_height, bytes, 0);
    if (st == FF_OK) st = ff_image_write_png(path, work, map_width, map_height, 0, FF_PIXEL_RGB8);
    return st == FF_OK ? 0 : cli_fail(cmd, path, st);
}
