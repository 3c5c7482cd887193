/* ff_all_finite (lib/core/finite.c), the library's one NaN/Inf check: every
 * kind of non-finite value is found at the first, a middle and the last
 * position, on the serial path and on the threaded one (>= 2^20 values);
 * the largest finite floats, subnormals and -0 are finite. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "core/finite.h"
#include "test_util.h"

static void check_size(size_t n) {
    float *x = malloc(n * sizeof *x);
    CHECK(x != NULL);
    if (x == NULL) return;
    for (size_t i = 0; i < n; i++) x[i] = (float)(i % 7) - 3.0f;
    x[0] = FLT_MAX;
    x[n / 3] = -FLT_MAX;
    x[n / 2] = FLT_MIN / 4.0f; /* subnormal */
    x[n - 1] = -0.0f;
    CHECK(ff_all_finite(x, n) == 1);
    const float bad[] = {NAN, -NAN, INFINITY, -INFINITY};
    const size_t where[] = {0, n / 2, n - 1};
    for (size_t b = 0; b < 4; b++)
        for (size_t w = 0; w < 3; w++) {
            float keep = x[where[w]];
            x[where[w]] = bad[b];
            CHECK(ff_all_finite(x, n) == 0);
            x[where[w]] = keep;
        }
    CHECK(ff_all_finite(x, n) == 1);
    free(x);
}

int main(void) {
    CHECK(ff_all_finite(NULL, 0) == 1); /* nothing to check */
    check_size(1);
    check_size(3);
    check_size(1000);
    check_size((size_t)1 << 20);       /* threaded path */
    check_size(((size_t)1 << 20) + 17);
    return ff_test_finish();
}
