#include "core/float_text.h"

#include <stdio.h>
#include <stdlib.h>

const char *ff_float_text(float x, char *buf, size_t cap) {
    for (int digits = 1; digits <= 9; digits++) {
        snprintf(buf, cap, "%.*g", digits, (double)x);
        if (strtof(buf, NULL) == x) break; /* 9 digits always read back */
    }
    return buf;
}
