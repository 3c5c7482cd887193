/* ff_selector (the epoch selection of the C API) on a tiny synthetic set:
 * random resnet18 weights, 64x64, one flow step, six training images,
 * FF_TRAINER_EMA_DECAY on. Selectors of every criterion (held-out normal
 * images with synthetic anomalies, and a labelled set with masks) follow
 * one trainer epoch by epoch:
 *  - every value equals the criterion computed independently (the select
 *    layer's set and criteria on a snapshot taken after that epoch);
 *  - improved/stop at every epoch are the best-so-far and patience rules;
 *  - the best flow holds exactly the parameters of the snapshot of the
 *    chosen epoch (the moving average), with the training record written
 *    (compared as text); the chosen epoch is the curve's best;
 *  - bad arguments give FF_E_INVALID_ARGUMENT, wrong states FF_E_STATE,
 *    outputs untouched. The CLI's use of it: test_cli_select. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow_internal.h"
#include "flow_testlib.h"
#include "select/criteria.h"
#include "select/select_set.h"
#include "test_util.h"

enum { SIZE = 64, MAX_EPOCHS = 6, N_TRAIN = 6, N_HELD = 3, N_SEL = 6 };

static int same_params(const ff_flow *a, const ff_flow *b) {
    return a && b && a->layout.num_params == b->layout.num_params &&
           memcmp(a->params, b->params, a->layout.num_params * sizeof(float)) == 0;
}

/* A mask of the ft_image defect square, w x h. */
static uint8_t *defect_mask(int32_t w, int32_t h) {
    uint8_t *m = calloc((size_t)w * (size_t)h, 1);
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++) m[(size_t)y * w + x] = (x > w / 3 && x < w / 2 && y > h / 3 && y < h / 2) * 255;
    return m;
}

typedef struct {
    ff_selector *sel;
    int32_t criterion, patience, labelled;
    double curve[MAX_EPOCHS];
    int32_t run, stopped_at; /* epochs scored; the epoch whose update said stop (0: none yet) */
} tracked;

static uint8_t *held[N_HELD], *lab[4], *lab_mask[4];
static const int32_t LW = 80, LH = 72; /* the labelled images' size: resized by the selector */

static void add_set(tracked *t) {
    for (int i = 0; i < (t->labelled ? 4 : N_HELD); i++) {
        if (t->labelled)
            CHECK_OK(ff_selector_add_labelled_image(t->sel, lab[i], LW, LH, 0, FF_PIXEL_RGB8, i >= 2,
                                                    i >= 2 ? lab_mask[i] : NULL, LW, LH, 0));
        else
            CHECK_OK(ff_selector_add_normal_image(t->sel, held[i], SIZE, SIZE, 0, FF_PIXEL_RGB8));
    }
}

/* The criterion of `flow` computed without the selector. */
static double independent_value(const tracked *t, const ff_flow *flow) {
    ff_sel_set s;
    ff_sel_set_init(&s, SIZE, SIZE);
    for (int i = 0; i < (t->labelled ? 4 : N_HELD); i++) {
        if (t->labelled)
            CHECK_OK(ff_sel_set_add(&s, lab[i], LW, LH, 0, FF_PIXEL_RGB8, i >= 2, i >= 2 ? lab_mask[i] : NULL, LW,
                                    LH, 0));
        else
            CHECK_OK(ff_sel_set_add(&s, held[i], SIZE, SIZE, 0, FF_PIXEL_RGB8, 0, NULL, 0, 0, 0));
    }
    if (!t->labelled) CHECK_OK(ff_sel_set_add_synthetic(&s, 11));
    ff_sel_scored sc;
    double v = NAN;
    CHECK_OK(ff_sel_set_score(&s, flow, &sc));
    CHECK(ff_sel_criterion_value(t->criterion, &sc, &v) == 0);
    ff_sel_set_free(&s);
    return v;
}

static void test_bad_arguments(const ff_flow *flow, const ff_flow *small_flow, ff_trainer *trainer) {
    ff_selector *const SENTINEL = (ff_selector *)(uintptr_t)0x1234;
    ff_selector *out = SENTINEL;
    CHECK_STATUS(ff_selector_create(NULL, FF_SELECT_MEAN_AUROC, 5, 2, 0, &out), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_selector_create(flow, 5, 5, 2, 0, &out), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_selector_create(flow, -1, 5, 2, 0, &out), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_selector_create(flow, FF_SELECT_MEAN_AUROC, 0, 2, 0, &out), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_selector_create(flow, FF_SELECT_MEAN_AUROC, 5, 0, 0, &out), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_selector_create(flow, FF_SELECT_MEAN_AUROC, 5, 2, 0, NULL), FF_E_INVALID_ARGUMENT);
    CHECK(out == SENTINEL);
    ff_selector_destroy(NULL);

    ff_selector *s = NULL;
    CHECK_OK(ff_selector_create(flow, FF_SELECT_IMAGE_AUROC, 2, 1, 0, &s));
    CHECK_STATUS(ff_selector_add_normal_image(NULL, held[0], SIZE, SIZE, 0, FF_PIXEL_RGB8), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_selector_add_normal_image(s, NULL, SIZE, SIZE, 0, FF_PIXEL_RGB8), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_selector_add_normal_image(s, held[0], 0, SIZE, 0, FF_PIXEL_RGB8), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_selector_add_normal_image(s, held[0], SIZE, SIZE, 0, 99), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_selector_add_normal_image(s, held[0], SIZE, SIZE, 3, FF_PIXEL_RGB8), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_selector_add_labelled_image(s, lab[0], LW, LH, 0, FF_PIXEL_RGB8, 2, NULL, 0, 0, 0),
                 FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_selector_add_labelled_image(s, lab[2], LW, LH, 0, FF_PIXEL_RGB8, 1, lab_mask[2], 0, LH, 0),
                 FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_selector_add_labelled_image(s, lab[2], LW, LH, 0, FF_PIXEL_RGB8, 1, lab_mask[2], LW, LH, 5),
                 FF_E_INVALID_ARGUMENT);
    /* nothing to score yet; no best yet */
    double v = 42.0;
    int32_t imp = 42, stop = 42, epoch = 42;
    CHECK_STATUS(ff_selector_update(s, trainer, &v, &imp, &stop), FF_E_STATE);
    CHECK_STATUS(ff_selector_update(s, NULL, &v, &imp, &stop), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_selector_update(NULL, trainer, &v, &imp, &stop), FF_E_INVALID_ARGUMENT);
    ff_flow *f = (ff_flow *)(uintptr_t)0x1234;
    CHECK_STATUS(ff_selector_best(s, &f, &epoch), FF_E_STATE);
    CHECK_STATUS(ff_selector_best(s, NULL, &epoch), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_selector_best(NULL, &f, &epoch), FF_E_INVALID_ARGUMENT);
    CHECK(v == 42.0 && imp == 42 && stop == 42 && epoch == 42 && f == (ff_flow *)(uintptr_t)0x1234);
    /* a labelled set of good images only: no image AUROC; normal and labelled images do not mix */
    CHECK_OK(ff_selector_add_labelled_image(s, lab[0], LW, LH, 0, FF_PIXEL_RGB8, 0, NULL, 0, 0, 0));
    CHECK_STATUS(ff_selector_add_normal_image(s, held[0], SIZE, SIZE, 0, FF_PIXEL_RGB8), FF_E_STATE);
    CHECK_STATUS(ff_selector_update(s, trainer, &v, &imp, &stop), FF_E_STATE);
    CHECK_MSG("the criterion image-auroc cannot be computed on the selection set (1 labelled images (1 good, 0 defect))");
    CHECK(v == 42.0 && imp == 42 && stop == 42);
    CHECK_STATUS(ff_selector_best(s, &f, &epoch), FF_E_STATE);
    ff_selector_destroy(s);

    /* max_epochs reached: stop, then a further update is refused */
    CHECK_OK(ff_selector_create(flow, FF_SELECT_NORMAL_SPREAD, 1, 5, 0, &s));
    CHECK_OK(ff_selector_add_normal_image(s, held[0], SIZE, SIZE, 0, FF_PIXEL_RGB8));
    CHECK_OK(ff_selector_update(s, trainer, &v, &imp, &stop));
    CHECK(imp == 1 && stop == 1);
    v = 42.0;
    CHECK_STATUS(ff_selector_update(s, trainer, &v, NULL, NULL), FF_E_STATE);
    CHECK(v == 42.0);
    CHECK_OK(ff_selector_best(s, &f, &epoch));
    CHECK(epoch == 1);
    ff_flow_destroy(f);
    ff_selector_destroy(s);
    v = 42.0, imp = 42, stop = 42;

    /* a trainer of another input size */
    CHECK_OK(ff_selector_create(small_flow, FF_SELECT_NORMAL_MEAN, 2, 1, 0, &s));
    CHECK_OK(ff_selector_add_normal_image(s, held[0], SIZE, SIZE, 0, FF_PIXEL_RGB8));
    CHECK_STATUS(ff_selector_update(s, trainer, &v, &imp, &stop), FF_E_INVALID_ARGUMENT);
    CHECK(v == 42.0 && imp == 42 && stop == 42);
    ff_selector_destroy(s);
}

int main(void) {
    ff_global_set_i64(FF_GLOBAL_NUM_THREADS, 2);
    ff_backbone *bb = ft_backbone(7);
    ff_flow *flow = bb ? ft_flow(bb, SIZE, 1, 1, 3) : NULL;
    ff_flow *small_flow = bb ? ft_flow(bb, 32, 1, 1, 3) : NULL;
    CHECK(flow && small_flow);
    if (!flow || !small_flow) return ff_test_finish();
    ff_trainer *trainer = NULL;
    CHECK_OK(ff_trainer_create(flow, &trainer));
    CHECK_OK(ff_trainer_set_i32(trainer, FF_TRAINER_BATCH_SIZE, 3));
    CHECK_OK(ff_trainer_set_f32(trainer, FF_TRAINER_EMA_DECAY, 0.5f));
    for (int i = 0; i < N_TRAIN; i++) {
        uint8_t *im = ft_image(100 + (uint64_t)i, SIZE, SIZE, 0);
        CHECK_OK(ff_trainer_add_image(trainer, im, SIZE, SIZE, 0, FF_PIXEL_RGB8));
        free(im);
    }
    for (int i = 0; i < N_HELD; i++) held[i] = ft_image(200 + (uint64_t)i, SIZE, SIZE, 0);
    for (int i = 0; i < 4; i++) {
        lab[i] = ft_image(300 + (uint64_t)i, LW, LH, i >= 2);
        lab_mask[i] = defect_mask(LW, LH);
    }
    test_bad_arguments(flow, small_flow, trainer);

    /* every criterion on the synthetic set (patience 1 and 2), pixel AUROC on the labelled one */
    tracked t[N_SEL] = {{NULL, FF_SELECT_NORMAL_SPREAD, 1, 0, {0}, 0, 0},
                        {NULL, FF_SELECT_NORMAL_MEAN, 2, 0, {0}, 0, 0},
                        {NULL, FF_SELECT_IMAGE_AUROC, 1, 0, {0}, 0, 0},
                        {NULL, FF_SELECT_PIXEL_AUROC, 2, 0, {0}, 0, 0},
                        {NULL, FF_SELECT_MEAN_AUROC, 1, 0, {0}, 0, 0},
                        {NULL, FF_SELECT_PIXEL_AUROC, 1, 1, {0}, 0, 0}};
    for (int k = 0; k < N_SEL; k++) {
        CHECK_OK(ff_selector_create(flow, t[k].criterion, MAX_EPOCHS, t[k].patience, 11, &t[k].sel));
        add_set(&t[k]);
    }
    ff_flow *snap[MAX_EPOCHS] = {0};
    for (int32_t e = 1; e <= MAX_EPOCHS; e++) {
        float loss = 0.0f;
        CHECK_OK(ff_trainer_run_epoch(trainer, &loss));
        CHECK_OK(ff_trainer_snapshot(trainer, &snap[e - 1]));
        for (int k = 0; k < N_SEL; k++) {
            if (t[k].stopped_at) continue; /* the caller stops there */
            double v = NAN;
            int32_t improved = -1, stop = -1;
            CHECK_OK(ff_selector_update(t[k].sel, trainer, &v, &improved, &stop));
            CHECK(v == independent_value(&t[k], snap[e - 1]));
            t[k].curve[e - 1] = v;
            t[k].run = e;
            /* the rules: strictly better than every earlier epoch; stop after `patience` without */
            int higher = t[k].criterion >= FF_SELECT_IMAGE_AUROC, best = 1;
            for (int32_t j = 2; j <= e; j++)
                if (higher ? t[k].curve[j - 1] > t[k].curve[best - 1] : t[k].curve[j - 1] < t[k].curve[best - 1])
                    best = j;
            CHECK(improved == (best == e));
            CHECK(stop == (e - best >= t[k].patience || e == MAX_EPOCHS));
            if (stop) t[k].stopped_at = e;
        }
    }
    /* adding after the first update: refused */
    CHECK_STATUS(ff_selector_add_normal_image(t[0].sel, held[0], SIZE, SIZE, 0, FF_PIXEL_RGB8), FF_E_STATE);

    int patience_stops = 0;
    for (int k = 0; k < N_SEL; k++) {
        int higher = t[k].criterion >= FF_SELECT_IMAGE_AUROC, best = 1;
        for (int32_t j = 2; j <= t[k].run; j++)
            if (higher ? t[k].curve[j - 1] > t[k].curve[best - 1] : t[k].curve[j - 1] < t[k].curve[best - 1]) best = j;
        ff_flow *kept = NULL;
        int32_t chosen = 0;
        CHECK_OK(ff_selector_best(t[k].sel, &kept, &chosen));
        CHECK(chosen == best);
        CHECK(same_params(kept, snap[chosen - 1]));
        patience_stops += t[k].run < MAX_EPOCHS;
        /* the record, as `fastflow train --epochs auto` writes it */
        char want[1024], rec[1024] = "";
        int n = snprintf(want, sizeof want,
                         "{\"method\":\"epochs-auto\",\"criterion\":\"%s\",\"higher_is_better\":%s,"
                         "\"selection_set\":\"%s\",\"max_epochs\":%d,\"patience\":%d,\"ema_decay\":0.5,"
                         "\"epochs_run\":%d,\"chosen_epoch\":%d,\"curve\":[",
                         ff_select_criterion_name(t[k].criterion), higher ? "true" : "false",
                         t[k].labelled ? "4 labelled images (2 good, 2 defect)"
                                       : "3 held-out normal training images + 6 synthetic anomalies",
                         MAX_EPOCHS, (int)t[k].patience, (int)t[k].run, (int)chosen);
        for (int32_t j = 0; j < t[k].run; j++) n += snprintf(want + n, sizeof want - n, "%s%.9g", j ? "," : "", t[k].curve[j]);
        snprintf(want + n, sizeof want - n, "]}");
        if (kept) CHECK_OK(ff_flow_get_training_record(kept, rec, sizeof rec, NULL));
        CHECK(strcmp(rec, want) == 0);
        if (strcmp(rec, want) != 0) printf("expected: %s\n", want);
        printf("%s%s: %s\n", ff_select_criterion_name(t[k].criterion), t[k].labelled ? " (labelled)" : "", rec);
        ff_flow_destroy(kept);
        ff_selector_destroy(t[k].sel);
    }
    printf("%d of %d selectors stopped on their patience before max_epochs\n", patience_stops, N_SEL);

    for (int e = 0; e < MAX_EPOCHS; e++) ff_flow_destroy(snap[e]);
    for (int i = 0; i < N_HELD; i++) free(held[i]);
    for (int i = 0; i < 4; i++) {
        free(lab[i]);
        free(lab_mask[i]);
    }
    ff_trainer_destroy(trainer);
    ff_flow_destroy(small_flow);
    ff_flow_destroy(flow);
    ff_backbone_destroy(bb);
    return ff_test_finish();
}
