#include "report_base64.h"

static const char ALPHABET[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_write(FILE *f, const uint8_t *data, size_t n) {
    size_t i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        char out[4] = {ALPHABET[v >> 18], ALPHABET[(v >> 12) & 63], ALPHABET[(v >> 6) & 63], ALPHABET[v & 63]};
        fwrite(out, 1, 4, f);
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)data[i] << 16;
        char out[4] = {ALPHABET[v >> 18], ALPHABET[(v >> 12) & 63], '=', '='};
        fwrite(out, 1, 4, f);
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;
        char out[4] = {ALPHABET[v >> 18], ALPHABET[(v >> 12) & 63], ALPHABET[(v >> 6) & 63], '='};
        fwrite(out, 1, 4, f);
    }
}
