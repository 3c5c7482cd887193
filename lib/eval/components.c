/* Flood fill with an explicit stack: every pixel is labelled when pushed,
 * so it is pushed at most once and the stack never exceeds the image. */
#include "eval/components.h"

#include <stddef.h>
#include <string.h>

uint32_t ff_label_components8(const uint8_t *mask, int32_t width, int32_t height,
                              uint32_t *labels, uint32_t *stack) {
    size_t w = (size_t)width, h = (size_t)height;
    memset(labels, 0, w * h * sizeof *labels);
    uint32_t count = 0;
    for (size_t start = 0; start < w * h; start++) {
        if (!mask[start] || labels[start]) continue;
        uint32_t id = ++count;
        size_t top = 0;
        labels[start] = id;
        stack[top++] = (uint32_t)start;
        while (top > 0) {
            size_t p = stack[--top];
            size_t y = p / w, x = p % w;
            size_t y0 = y > 0 ? y - 1 : 0, y1 = y + 1 < h ? y + 1 : y;
            size_t x0 = x > 0 ? x - 1 : 0, x1 = x + 1 < w ? x + 1 : x;
            for (size_t yy = y0; yy <= y1; yy++) {
                for (size_t xx = x0; xx <= x1; xx++) {
                    size_t q = yy * w + xx;
                    if (mask[q] && !labels[q]) {
                        labels[q] = id;
                        stack[top++] = (uint32_t)q;
                    }
                }
            }
        }
    }
    return count;
}
