/* Per-object thread counts (FF_SCORER/TRAINER/EXTRACTOR_NUM_THREADS) and
 * the caller's OpenMP setting: the scope helper sets the count for a call
 * and restores omp_get_max_threads() on the way out, nested calls keep the
 * outer count; every computing entry point leaves the caller's setting as
 * it found it, on success and on failure; an object's own count of N gives
 * results identical to the global count N (scorer maps and scores, trainer
 * losses and trained flows, extractor features). Synthetic: a random
 * resnet18 at 64x64. */
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/settings.h"
#include "flow_testlib.h"
#include "test_util.h"

#define SIZE 64
#define NB 4
#define CALLER 3 /* the caller's own OpenMP setting, distinct from every count used here */

static float *inputs; /* [NB, 3, SIZE, SIZE] */

static void set_global(int64_t n) { CHECK_OK(ff_global_set_i64(FF_GLOBAL_NUM_THREADS, n)); }

static void test_scope(void) {
    omp_set_num_threads(CALLER);
    set_global(0);
    ff_threads_scope a = ff_threads_enter(2);
    CHECK(omp_get_max_threads() == 2);
    ff_threads_scope b = ff_threads_enter(5); /* nested: the outer call's count stays */
    CHECK(omp_get_max_threads() == 2);
    ff_threads_leave(b);
    CHECK(omp_get_max_threads() == 2);
    ff_threads_leave(a);
    CHECK(omp_get_max_threads() == CALLER);
    set_global(1);
    a = ff_threads_enter(0); /* 0: the global count */
    CHECK(omp_get_max_threads() == 1);
    ff_threads_leave(a);
    set_global(0);
    a = ff_threads_enter(0); /* global 0: every core */
    CHECK(omp_get_max_threads() == omp_get_num_procs());
    ff_threads_leave(a);
    CHECK(omp_get_max_threads() == CALLER);
}

#define KEPT() CHECK(omp_get_max_threads() == CALLER)

/* Every computing entry point, successful or failing inside its work,
 * leaves the caller's omp_get_max_threads() alone. */
static void test_caller_setting_kept(void) {
    omp_set_num_threads(CALLER);
    set_global(2);
    ff_backbone *bb = ft_backbone(5);
    KEPT();
    ff_flow *flow = bb ? ft_flow(bb, SIZE, 2, 1, 1) : NULL;
    KEPT();
    CHECK(flow != NULL);
    if (!flow) {
        ff_backbone_destroy(bb);
        return;
    }
    ff_scorer *s = NULL;
    CHECK_OK(ff_scorer_create(flow, &s));
    KEPT();
    float scores[NB], score;
    CHECK_OK(ff_scorer_score_tensor(s, inputs, NB, NULL, 0, scores, NB));
    KEPT();
    CHECK_OK(ff_scorer_set_i32(s, FF_SCORER_NUM_THREADS, 1));
    uint8_t *img = ft_image(1, 80, 60, 1);
    CHECK_OK(ff_scorer_score_image(s, img, 80, 60, 0, FF_PIXEL_RGB8, NULL, 0, &score));
    KEPT();
    CHECK_STATUS(ff_scorer_score_file(s, ft_path("missing.png"), NULL, 0, &score), FF_E_IO);
    KEPT();
    ff_trainer *t = NULL;
    CHECK_OK(ff_trainer_create(flow, &t));
    KEPT();
    CHECK_OK(ff_trainer_set_i32(t, FF_TRAINER_NUM_THREADS, 1));
    CHECK_OK(ff_trainer_set_i32(t, FF_TRAINER_BATCH_SIZE, 2));
    for (int i = 0; i < 3; i++) CHECK_OK(ff_trainer_add_image(t, img, 80, 60, 0, FF_PIXEL_RGB8));
    KEPT();
    CHECK_STATUS(ff_trainer_add_image_file(t, ft_path("missing.png")), FF_E_IO);
    KEPT();
    CHECK_OK(ff_trainer_run_batch(t, NULL));
    KEPT();
    CHECK_OK(ff_trainer_run_epoch(t, NULL));
    KEPT();
    ff_extractor *ex = NULL;
    CHECK_OK(ff_extractor_create(bb, &ex));
    CHECK_OK(ff_extractor_run(ex, inputs, 1, SIZE, SIZE));
    KEPT();
    CHECK_OK(ff_extractor_set_i32(ex, FF_EXTRACTOR_NUM_THREADS, 2));
    CHECK_OK(ff_extractor_run(ex, inputs, 2, SIZE, SIZE));
    KEPT();
    free(img);
    ff_extractor_destroy(ex);
    ff_trainer_destroy(t);
    ff_scorer_destroy(s);
    ff_flow_destroy(flow);
    ff_backbone_destroy(bb);
    set_global(0);
}

/* Maps and scores of a batch from a scorer with (object count, global count). */
static int score_with(const ff_flow *flow, int32_t own, int64_t global, float *maps, float *scores) {
    set_global(global);
    ff_scorer *s = NULL;
    int ok = ff_scorer_create(flow, &s) == FF_OK && ff_scorer_set_i32(s, FF_SCORER_NUM_THREADS, own) == FF_OK &&
             ff_scorer_score_tensor(s, inputs, NB, maps, (size_t)NB * SIZE * SIZE, scores, NB) == FF_OK;
    ff_scorer_destroy(s);
    return ok;
}

/* Losses of two epochs and the trained flow, with (object count, global count). */
static ff_flow *train_with(const ff_flow *flow, int32_t own, int64_t global, float loss[2]) {
    set_global(global);
    ff_trainer *t = NULL;
    ff_flow *out = NULL;
    if (ff_trainer_create(flow, &t) != FF_OK) return NULL;
    int ok = ff_trainer_set_i32(t, FF_TRAINER_NUM_THREADS, own) == FF_OK &&
             ff_trainer_set_i32(t, FF_TRAINER_BATCH_SIZE, 2) == FF_OK;
    for (int i = 0; ok && i < 4; i++) {
        uint8_t *img = ft_image(300 + (uint64_t)i, SIZE, SIZE, 0);
        ok = ff_trainer_add_image(t, img, SIZE, SIZE, 0, FF_PIXEL_RGB8) == FF_OK;
        free(img);
    }
    for (int e = 0; ok && e < 2; e++) ok = ff_trainer_run_epoch(t, &loss[e]) == FF_OK;
    if (ok) ff_trainer_snapshot(t, &out);
    ff_trainer_destroy(t);
    return out;
}

static void test_same_results(void) {
    ff_backbone *bb = ft_backbone(7);
    ff_flow *flow = bb ? ft_trained_flow(bb, SIZE) : NULL;
    CHECK(flow != NULL);
    if (!flow) {
        ff_backbone_destroy(bb);
        return;
    }
    const size_t n = (size_t)NB * SIZE * SIZE;
    float *m1 = malloc(n * sizeof(float)), *m2 = malloc(n * sizeof(float)), s1[NB], s2[NB];
    /* scorer: its own 1 thread (global: all cores) == the global 1; its own 2 == the global 2 */
    for (int32_t threads = 1; threads <= 2; threads++) {
        CHECK(score_with(flow, 0, threads, m1, s1));
        CHECK(score_with(flow, threads, 0, m2, s2));
        CHECK(memcmp(m1, m2, n * sizeof(float)) == 0 && memcmp(s1, s2, sizeof s1) == 0);
    }
    /* trainer: losses and trained parameters (seen through the maps they give) */
    float l1[2] = {0}, l2[2] = {0};
    ff_flow *t1 = train_with(flow, 0, 1, l1), *t2 = train_with(flow, 1, 0, l2);
    CHECK(t1 && t2 && memcmp(l1, l2, sizeof l1) == 0);
    if (t1 && t2) {
        CHECK(score_with(t1, 1, 1, m1, s1) && score_with(t2, 1, 1, m2, s2));
        CHECK(memcmp(m1, m2, n * sizeof(float)) == 0 && memcmp(s1, s2, sizeof s1) == 0);
    }
    /* extractor: level 2 features */
    int32_t c, w, h;
    CHECK_OK(ff_backbone_level_shape(bb, 2, SIZE, SIZE, &c, &w, &h));
    size_t nf = (size_t)NB * (size_t)(c * w * h);
    float *f1 = malloc(nf * sizeof(float)), *f2 = malloc(nf * sizeof(float));
    ff_extractor *e1 = NULL, *e2 = NULL;
    set_global(1);
    CHECK_OK(ff_extractor_create(bb, &e1));
    CHECK_OK(ff_extractor_run(e1, inputs, NB, SIZE, SIZE));
    CHECK_OK(ff_extractor_read(e1, 2, f1, nf));
    set_global(0);
    CHECK_OK(ff_extractor_create(bb, &e2));
    CHECK_OK(ff_extractor_set_i32(e2, FF_EXTRACTOR_NUM_THREADS, 1));
    CHECK_OK(ff_extractor_run(e2, inputs, NB, SIZE, SIZE));
    CHECK_OK(ff_extractor_read(e2, 2, f2, nf));
    CHECK(memcmp(f1, f2, nf * sizeof(float)) == 0);
    ff_extractor_destroy(e1);
    ff_extractor_destroy(e2);
    free(f1);
    free(f2);
    free(m1);
    free(m2);
    ff_flow_destroy(t1);
    ff_flow_destroy(t2);
    ff_flow_destroy(flow);
    ff_backbone_destroy(bb);
}

int main(void) {
    const size_t per = 3 * SIZE * SIZE;
    inputs = malloc(NB * per * sizeof(float));
    for (int i = 0; i < NB; i++) {
        uint8_t *img = ft_image(40 + (uint64_t)i, SIZE + 16, SIZE, i % 2);
        CHECK_OK(ff_image_preprocess(img, SIZE + 16, SIZE, 0, FF_PIXEL_RGB8, SIZE, SIZE, inputs + i * per, per));
        free(img);
    }
    test_scope();
    test_caller_setting_kept();
    test_same_results();
    free(inputs);
    return ff_test_finish();
}
