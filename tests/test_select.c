/* The stopping criteria of `fastflow train --epochs auto`
 * (tools/fastflow/select_*.c) against hand-computed values: each criterion
 * on a 4-image, 2-pixel set; the best-epoch tracker with patience; the
 * held-out split; the synthetic anomalies (changes only inside their
 * masks); the training record's text. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/fastflow/select_criteria.h"
#include "../tools/fastflow/select_run.h"
#include "../tools/fastflow/select_set.h"
#include "../tools/fastflow/select_synth.h"
#include "test_util.h"

static void test_criteria(void) {
    /* images 0, 1 normal; 2, 3 anomalous, each with one defect pixel */
    const float scores[4] = {0.1f, 0.3f, 0.2f, 0.5f};
    const uint8_t labels[4] = {0, 0, 1, 1};
    const float maps[8] = {-0.5f, -0.7f, -0.6f, -0.2f, -0.3f, -0.9f, -0.4f, -0.1f};
    const uint8_t masks[8] = {0, 0, 0, 0, 1, 0, 0, 1};
    sel_scored s = {4, 2, maps, scores, labels, masks};
    double v = 0;
    /* normal scores 0.1, 0.3: mean 0.2, population std 0.1 */
    CHECK(sel_criterion_value(SEL_NORMAL_SPREAD, &s, &v) == 0 && fabs(v - 0.1) < 1e-7);
    /* normal maps -0.5, -0.7, -0.6, -0.2: mean -0.5 */
    CHECK(sel_criterion_value(SEL_NORMAL_MEAN, &s, &v) == 0 && fabs(v + 0.5) < 1e-7);
    /* image pairs (normal, anomalous) ranked right: (0.1,0.2) (0.1,0.5) (0.3,0.5) of 4 */
    CHECK(sel_criterion_value(SEL_IMAGE_AUROC, &s, &v) == 0 && fabs(v - 0.75) < 1e-12);
    /* defect pixels -0.3 and -0.1 against 6 normal pixels: -0.3 is above 5 of them, -0.1 above all 6 */
    CHECK(sel_criterion_value(SEL_PIXEL_AUROC, &s, &v) == 0 && fabs(v - 11.0 / 12.0) < 1e-12);
    CHECK(sel_criterion_value(SEL_MEAN_AUROC, &s, &v) == 0 && fabs(v - (0.75 + 11.0 / 12.0) / 2) < 1e-12);
    /* without anomalies or masks the AUROC criteria do not apply; the normal ones still do */
    sel_scored normal_only = {4, 2, maps, scores, NULL, NULL};
    v = 42;
    CHECK(sel_criterion_value(SEL_IMAGE_AUROC, &normal_only, &v) == -1 && v == 42);
    CHECK(sel_criterion_value(SEL_NORMAL_SPREAD, &normal_only, &v) == 0);
    sel_scored no_masks = {4, 2, maps, scores, labels, NULL};
    CHECK(sel_criterion_value(SEL_PIXEL_AUROC, &no_masks, &v) == -1);
    CHECK(sel_criterion_value(SEL_IMAGE_AUROC, &no_masks, &v) == 0 && fabs(v - 0.75) < 1e-12);
    CHECK(sel_criterion_value(99, &s, &v) == -1);
    /* names and directions */
    for (int32_t c = 0; c < SEL_NUM_CRITERIA; c++)
        CHECK(sel_criterion_from_name(sel_criterion_name(c)) == c);
    CHECK(sel_criterion_from_name("best") == -1 && sel_criterion_name(SEL_NUM_CRITERIA) == NULL);
    CHECK(!sel_higher_is_better(SEL_NORMAL_MEAN) && !sel_higher_is_better(SEL_NORMAL_SPREAD));
    CHECK(sel_higher_is_better(SEL_MEAN_AUROC) && sel_higher_is_better(SEL_IMAGE_AUROC));
}

static void test_tracker(void) {
    sel_tracker t;
    sel_tracker_init(&t, 1, 3);
    const double up[6] = {0.5, 0.7, 0.7, 0.6, 0.65, 0.9};
    int stop_at = 0;
    for (int e = 1; e <= 6 && !stop_at; e++) {
        int better = sel_tracker_update(&t, e, up[e - 1]);
        CHECK(better == (e == 1 || e == 2)); /* the tie at epoch 3 keeps epoch 2 */
        if (sel_tracker_should_stop(&t)) stop_at = e;
    }
    CHECK(stop_at == 5 && t.best_epoch == 2 && t.best == 0.7); /* epochs 3, 4, 5 brought nothing */
    sel_tracker_init(&t, 0, 1);
    CHECK(!sel_tracker_should_stop(&t));
    sel_tracker_update(&t, 1, -0.5);
    sel_tracker_update(&t, 2, -0.6); /* lower is better */
    CHECK(t.best_epoch == 2 && !sel_tracker_should_stop(&t));
    sel_tracker_update(&t, 3, -0.55);
    CHECK(t.best_epoch == 2 && sel_tracker_should_stop(&t));
}

static void test_split(void) {
    size_t a[64], b[64], c[64];
    CHECK(sel_split_indices(2, 0, a) == 0);
    CHECK(sel_split_indices(3, 0, a) == 2);
    CHECK(sel_split_indices(1000, 0, a) == 16);
    size_t k = sel_split_indices(54, 0, a);
    CHECK(k == 5);
    CHECK(sel_split_indices(54, 0, b) == 5 && memcmp(a, b, 5 * sizeof *a) == 0); /* deterministic */
    CHECK(sel_split_indices(54, 1, c) == 5 && memcmp(a, c, 5 * sizeof *a) != 0); /* the seed draws them */
    for (size_t i = 0; i < k; i++) CHECK(a[i] < 54 && (i == 0 || a[i] > a[i - 1]));
}

static void test_synth(void) {
    enum { W = 64, H = 48, N = W * H };
    static float img[3 * N], orig[3 * N], donor[3 * N];
    static uint8_t mask[N];
    for (int i = 0; i < 3 * N; i++) {
        orig[i] = (float)((i * 37) % 101) / 50.0f - 1.0f;
        donor[i] = (float)((i * 53) % 97) / 40.0f - 1.2f;
    }
    for (int32_t kind = 0; kind < SEL_SYNTH_NUM_KINDS; kind++) {
        for (uint64_t seed = 0; seed < 8; seed++) {
            memcpy(img, orig, sizeof img);
            CHECK(sel_synth_paste(kind, seed, img, donor, W, H, mask) == 0);
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
        printf("synthetic %s: changes only inside its mask\n", sel_synth_kind_name(kind));
    }
    CHECK(sel_synth_paste(SEL_SYNTH_NUM_KINDS, 0, img, donor, W, H, mask) == -1);
    CHECK(sel_synth_paste(0, 0, img, donor, 8, H, mask) == -1);
}

static void test_record(void) {
    sel_source src = {NULL, 4, NULL, NULL, 0};
    sel_run r;
    CHECK(sel_run_init(&r, "test", SEL_MEAN_AUROC, 5, 2, &src) == 0);
    r.curve[0] = 0.5;
    r.curve[1] = 0.75;
    r.curve[2] = 0.625;
    r.epochs_run = 3;
    sel_tracker_update(&r.tracker, 1, 0.5);
    sel_tracker_update(&r.tracker, 2, 0.75);
    sel_tracker_update(&r.tracker, 3, 0.625);
    char buf[512];
    CHECK(sel_run_record(&r, buf, sizeof buf) == 0);
    CHECK(strcmp(buf, "{\"method\":\"epochs-auto\",\"criterion\":\"mean-auroc\",\"higher_is_better\":true,"
                      "\"selection_set\":\"4 held-out normal training images + 8 synthetic anomalies\","
                      "\"max_epochs\":5,\"patience\":2,\"epochs_run\":3,\"chosen_epoch\":2,"
                      "\"curve\":[0.5,0.75,0.625]}") == 0);
    CHECK(sel_run_record(&r, buf, 40) == -1);
    sel_run_free(&r);
}

int main(void) {
    test_criteria();
    test_tracker();
    test_split();
    test_synth();
    test_record();
    return ff_test_finish();
}
