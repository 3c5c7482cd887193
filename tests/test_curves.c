/* The plotted metric curves (lib/eval/curves.h): the ROC curve by hand
 * and against ff_metric_auroc (its trapezoid area is the AUROC), the PRO
 * curve's area equal bit for bit to ff_metric_pro and to the trapezoid
 * over its own points, the min_step thinning, and bad input. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eval/curves.h"
#include "test_util.h"

static double trapezoid(const ff_curve *c) {
    double a = 0.0;
    for (size_t i = 1; i < c->n; i++) a += 0.5 * (c->y[i] + c->y[i - 1]) * (c->x[i] - c->x[i - 1]);
    return a;
}

static uint64_t rng_state = 88172645463325252ull;
static double rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static void test_roc_by_hand(void) {
    /* sklearn.metrics.roc_curve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) with
     * drop_intermediate=False: fpr [0, 0, .5, .5, 1], tpr [0, .5, .5, 1, 1] */
    const float s[4] = {0.1f, 0.4f, 0.35f, 0.8f};
    const uint8_t l[4] = {0, 0, 1, 1};
    const double fx[5] = {0, 0, 0.5, 0.5, 1}, fy[5] = {0, 0.5, 0.5, 1, 1};
    ff_curve c;
    ff_curve_init(&c, 0.0);
    CHECK_OK(ff_roc_curve(s, l, 4, &c));
    CHECK(c.n == 5);
    for (size_t i = 0; i < 5 && i < c.n; i++) CHECK(c.x[i] == fx[i] && c.y[i] == fy[i]);
    double auroc = 0;
    CHECK_OK(ff_metric_auroc(s, l, 4, &auroc));
    CHECK(trapezoid(&c) == auroc && auroc == 0.75);
    ff_curve_free(&c);
}

static void test_roc_random(void) {
    enum { N = 3000 };
    float *s = malloc(N * sizeof *s);
    uint8_t *l = malloc(N);
    if (!s || !l) {
        CHECK(!"out of memory");
        return;
    }
    for (int i = 0; i < N; i++) {
        l[i] = rnd() < 0.3;
        s[i] = (float)floor((rnd() + 0.4 * l[i]) * 200.0) / 200.0f; /* many ties */
    }
    ff_curve all, thin;
    ff_curve_init(&all, 0.0);
    ff_curve_init(&thin, 0.01);
    CHECK_OK(ff_roc_curve(s, l, N, &all));
    CHECK_OK(ff_roc_curve(s, l, N, &thin));
    double auroc = 0;
    CHECK_OK(ff_metric_auroc(s, l, N, &auroc));
    CHECK(fabs(trapezoid(&all) - auroc) < 1e-12);
    bool monotone = all.n > 2 && all.x[0] == 0 && all.y[0] == 0 && all.x[all.n - 1] == 1 && all.y[all.n - 1] == 1;
    for (size_t i = 1; i < all.n; i++) monotone = monotone && all.x[i] >= all.x[i - 1] && all.y[i] >= all.y[i - 1];
    CHECK(monotone);
    CHECK(thin.n < all.n && thin.n > 10 && thin.x[thin.n - 1] == 1 && thin.y[thin.n - 1] == 1);
    bool spaced = true;
    for (size_t i = 1; i + 1 < thin.n; i++)
        spaced = spaced && (thin.x[i] - thin.x[i - 1] >= 0.01 || thin.y[i] - thin.y[i - 1] >= 0.01);
    CHECK(spaced);
    printf("ROC of %d scores: %zu points (%zu at step 0.01), AUROC %.12f, trapezoid %.12f\n", N, all.n, thin.n,
           auroc, trapezoid(&all));
    ff_curve_free(&all);
    ff_curve_free(&thin);
    free(s);
    free(l);
}

static void test_pro(void) {
    enum { IMAGES = 6, W = 40, H = 24 };
    size_t n = (size_t)IMAGES * W * H;
    float *maps = malloc(n * sizeof *maps);
    uint8_t *masks = calloc(n, 1);
    if (!maps || !masks) {
        CHECK(!"out of memory");
        return;
    }
    for (int i = 0; i < IMAGES; i++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                size_t p = ((size_t)i * H + (size_t)y) * W + (size_t)x;
                int in = i >= 2 && x >= 5 + 4 * i && x < 12 + 4 * i && y >= 3 + i && y < 9 + 2 * i;
                masks[p] = (uint8_t)in;
                maps[p] = (float)(rnd() + (in ? 0.5 * rnd() : 0.0));
            }
    const double limits[3] = {0.3, 0.05, 1.0};
    for (int k = 0; k < 3; k++) {
        double ref = -1, got = -2;
        ff_curve c;
        ff_curve_init(&c, 0.0);
        CHECK_OK(ff_metric_pro(maps, masks, IMAGES, W, H, limits[k], &ref));
        CHECK_OK(ff_pro_curve(maps, masks, IMAGES, W, H, limits[k], &c, &got));
        CHECK(got == ref); /* bit for bit: the same code */
        CHECK(c.n > 2 && c.x[0] == 0.0 && c.y[0] == 0.0 && c.x[c.n - 1] == limits[k]);
        CHECK(trapezoid(&c) / limits[k] == ref);
        bool inside = true;
        for (size_t i = 0; i < c.n; i++) inside = inside && c.x[i] <= limits[k] && c.y[i] >= 0 && c.y[i] <= 1;
        CHECK(inside);
        printf("PRO to FPR %.2f: %.12f, %zu curve points\n", limits[k], ref, c.n);
        ff_curve_free(&c);
    }
    double area = -1;
    CHECK_OK(ff_pro_curve(maps, masks, IMAGES, W, H, 0.3, NULL, &area)); /* the area alone */
    ff_curve c;
    ff_curve_init(&c, 0.0);
    memset(masks, 0, n);
    CHECK_STATUS(ff_pro_curve(maps, masks, IMAGES, W, H, 0.3, &c, &area), FF_E_INVALID_ARGUMENT);
    CHECK(c.n == 0 && c.x == NULL);
    free(maps);
    free(masks);
}

static void test_bad_input(void) {
    const float s[2] = {0.1f, NAN};
    const uint8_t one_class[2] = {1, 1}, l[2] = {0, 1};
    ff_curve c;
    ff_curve_init(&c, 0.0);
    CHECK_STATUS(ff_roc_curve(s, one_class, 1, &c), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_roc_curve(s, l, 2, &c), FF_E_INVALID_ARGUMENT); /* NaN */
    CHECK_STATUS(ff_roc_curve(NULL, l, 2, &c), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_roc_curve(s, l, 1, NULL), FF_E_INVALID_ARGUMENT);
    CHECK(c.n == 0);
}

int main(void) {
    test_roc_by_hand();
    test_roc_random();
    test_pro();
    test_bad_input();
    return ff_test_finish();
}
