/* The stopping criteria of ff_selector and `fastflow train --epochs auto`
 * (lib/select) against hand-computed values: each criterion on a 4-image,
 * 2-pixel set; the best-epoch tracker with patience; the held-out split
 * (internal and ff_select_held_out); the synthetic anomalies (changes only
 * inside their masks). The training record's text: test_selector.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "select/criteria.h"
#include "select/select_set.h"
#include "select/synth.h"
#include "test_util.h"

static void test_criteria(void) {
    /* images 0, 1 normal; 2, 3 anomalous, each with one defect pixel */
    const float scores[4] = {0.1f, 0.3f, 0.2f, 0.5f};
    const uint8_t labels[4] = {0, 0, 1, 1};
    const float maps[8] = {-0.5f, -0.7f, -0.6f, -0.2f, -0.3f, -0.9f, -0.4f, -0.1f};
    const uint8_t masks[8] = {0, 0, 0, 0, 1, 0, 0, 1};
    ff_sel_scored s = {4, 2, maps, scores, labels, masks};
    double v = 0;
    /* normal scores 0.1, 0.3: mean 0.2, population std 0.1 */
    CHECK(ff_sel_criterion_value(FF_SELECT_NORMAL_SPREAD, &s, &v) == 0 && fabs(v - 0.1) < 1e-7);
    /* normal maps -0.5, -0.7, -0.6, -0.2: mean -0.5 */
    CHECK(ff_sel_criterion_value(FF_SELECT_NORMAL_MEAN, &s, &v) == 0 && fabs(v + 0.5) < 1e-7);
    /* image pairs (normal, anomalous) ranked right: (0.1,0.2) (0.1,0.5) (0.3,0.5) of 4 */
    CHECK(ff_sel_criterion_value(FF_SELECT_IMAGE_AUROC, &s, &v) == 0 && fabs(v - 0.75) < 1e-12);
    /* defect pixels -0.3 and -0.1 against 6 normal pixels: -0.3 is above 5 of them, -0.1 above all 6 */
    CHECK(ff_sel_criterion_value(FF_SELECT_PIXEL_AUROC, &s, &v) == 0 && fabs(v - 11.0 / 12.0) < 1e-12);
    CHECK(ff_sel_criterion_value(FF_SELECT_MEAN_AUROC, &s, &v) == 0 && fabs(v - (0.75 + 11.0 / 12.0) / 2) < 1e-12);
    /* without anomalies or masks the AUROC criteria do not apply; the normal ones still do */
    ff_sel_scored normal_only = {4, 2, maps, scores, NULL, NULL};
    v = 42;
    CHECK(ff_sel_criterion_value(FF_SELECT_IMAGE_AUROC, &normal_only, &v) == -1 && v == 42);
    CHECK(ff_sel_criterion_value(FF_SELECT_NORMAL_SPREAD, &normal_only, &v) == 0);
    ff_sel_scored no_masks = {4, 2, maps, scores, labels, NULL};
    CHECK(ff_sel_criterion_value(FF_SELECT_PIXEL_AUROC, &no_masks, &v) == -1);
    CHECK(ff_sel_criterion_value(FF_SELECT_IMAGE_AUROC, &no_masks, &v) == 0 && fabs(v - 0.75) < 1e-12);
    CHECK(ff_sel_criterion_value(99, &s, &v) == -1);
    /* names and directions */
    for (int32_t c = 0; c < FF_SEL_NUM_CRITERIA; c++) {
        int32_t back = -1;
        CHECK(ff_select_criterion_from_name(ff_select_criterion_name(c), &back) == FF_OK && back == c);
    }
    int32_t untouched = 7;
    CHECK(ff_select_criterion_from_name("best", &untouched) == FF_E_INVALID_ARGUMENT && untouched == 7);
    CHECK(ff_select_criterion_from_name(NULL, &untouched) == FF_E_INVALID_ARGUMENT && untouched == 7);
    CHECK(ff_select_criterion_name(FF_SEL_NUM_CRITERIA) == NULL && ff_select_criterion_name(-1) == NULL);
    CHECK(strcmp(ff_select_criterion_name(FF_SELECT_MEAN_AUROC), "mean-auroc") == 0);
    CHECK(!ff_sel_higher_is_better(FF_SELECT_NORMAL_MEAN) && !ff_sel_higher_is_better(FF_SELECT_NORMAL_SPREAD));
    CHECK(ff_sel_higher_is_better(FF_SELECT_MEAN_AUROC) && ff_sel_higher_is_better(FF_SELECT_IMAGE_AUROC));
}

static void test_tracker(void) {
    ff_sel_tracker t;
    ff_sel_tracker_init(&t, 1, 3);
    const double up[6] = {0.5, 0.7, 0.7, 0.6, 0.65, 0.9};
    int stop_at = 0;
    for (int e = 1; e <= 6 && !stop_at; e++) {
        int better = ff_sel_tracker_update(&t, e, up[e - 1]);
        CHECK(better == (e == 1 || e == 2)); /* the tie at epoch 3 keeps epoch 2 */
        if (ff_sel_tracker_should_stop(&t)) stop_at = e;
    }
    CHECK(stop_at == 5 && t.best_epoch == 2 && t.best == 0.7); /* epochs 3, 4, 5 brought nothing */
    ff_sel_tracker_init(&t, 0, 1);
    CHECK(!ff_sel_tracker_should_stop(&t));
    ff_sel_tracker_update(&t, 1, -0.5);
    ff_sel_tracker_update(&t, 2, -0.6); /* lower is better */
    CHECK(t.best_epoch == 2 && !ff_sel_tracker_should_stop(&t));
    ff_sel_tracker_update(&t, 3, -0.55);
    CHECK(t.best_epoch == 2 && ff_sel_tracker_should_stop(&t));
}

static void test_split(void) {
    size_t a[64], b[64], c[64];
    CHECK(ff_sel_split_indices(2, 0, a) == 0);
    CHECK(ff_sel_split_indices(3, 0, a) == 2);
    CHECK(ff_sel_split_indices(1000, 0, a) == 16);
    size_t k = ff_sel_split_indices(54, 0, a);
    CHECK(k == 5);
    CHECK(ff_sel_split_indices(54, 0, b) == 5 && memcmp(a, b, 5 * sizeof *a) == 0); /* deterministic */
    CHECK(ff_sel_split_indices(54, 1, c) == 5 && memcmp(a, c, 5 * sizeof *a) != 0); /* the seed draws them */
    for (size_t i = 0; i < k; i++) CHECK(a[i] < 54 && (i == 0 || a[i] > a[i - 1]));
    /* the public rule is the same split */
    uint64_t pub[16] = {0}, count = 0;
    CHECK(ff_select_held_out(54, 0, pub, 16, &count) == FF_OK && count == 5);
    for (size_t i = 0; i < k; i++) CHECK(pub[i] == a[i]);
    count = 99;
    CHECK(ff_select_held_out(54, 0, pub, 4, &count) == FF_E_BUFFER_TOO_SMALL && count == 5);
    count = 99;
    CHECK(ff_select_held_out(2, 0, pub, 16, &count) == FF_E_INVALID_ARGUMENT && count == 99);
    CHECK(ff_select_held_out(54, 0, pub, 16, NULL) == FF_E_INVALID_ARGUMENT);
    CHECK(ff_select_held_out(1000, 7, pub, 16, &count) == FF_OK && count == 16);
}

static void test_synth(void) {
    enum { W = 64, H = 48, N = W * H };
    static float img[3 * N], orig[3 * N], donor[3 * N];
    static uint8_t mask[N];
    for (int i = 0; i < 3 * N; i++) {
        orig[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
        donor[i] = (float)((i * 53) % 97) / 40.0f - 1.2f;
    }
    for (int32_t kind = 0; kind < FF_SEL_SYNTH_NUM_KINDS; kind++) {
        for (uint64_t seed = 0; seed < 8; seed++) {
            memcpy(img, orig, sizeof img);
            CHECK(ff_sel_synth_paste(kind, seed, img, donor, W, H, mask) == 0);
            size_t inside = 0, changed_outside = 0, changed_inside = 0;
            for (int p = 0; p < N; p++) {
                int changed = 0;
                for (int c = 0; c < 3; c++) changed |= img[c * N + p] != orig[c * N + p];
                CHECK(mask[p] <= 1);
                inside += mask[p];
                if (mask[p]) changed_inside += changed;
                else changed_outside += changed;
            }
            CHECK(inside > 0 && changed_outside == 0 && changed_inside * 2 > inside);
        }
        printf("synthetic %s: changes only inside its mask\n", ff_sel_synth_kind_name(kind));
    }
    CHECK(ff_sel_synth_paste(FF_SEL_SYNTH_NUM_KINDS, 0, img, donor, W, H, mask) == -1);
    CHECK(ff_sel_synth_paste(0, 0, img, donor, 8, H, mask) == -1);
}

int main(void) {
    test_criteria();
    test_tracker();
    test_split();
    test_synth();
    return ff_test_finish();
}
