/* ff_scorer: argument checks, image / file / tensor paths agree, batch
 * scoring equals one-by-one scoring (also across the 8-image chunking),
 * the score is the map's maximum, and two threads with their own scorers
 * on one shared flow give the results of one thread. Synthetic: a random
 * resnet18 at 64x64, 2 flow steps, briefly trained so the maps vary. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow_testlib.h"
#include "test_util.h"

#define SIZE 64
#define HW (SIZE * SIZE)
#define NB 10 /* more than one chunk of 8 */

static float *inputs;          /* [NB, 3, SIZE, SIZE] pre-processed */
static float ref_maps[NB][HW]; /* one-by-one results */
static float ref_scores[NB];

static void test_args(ff_scorer *s, const ff_flow *flow) {
    ff_scorer *x = NULL;
    CHECK_STATUS(ff_scorer_create(NULL, &x), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_create(flow, NULL), FF_E_INVALID_ARGUMENT);
    int32_t h = 0, w = 0;
    CHECK_OK(ff_scorer_map_shape(s, &w, &h));
    CHECK(h == SIZE && w == SIZE);
    CHECK_STATUS(ff_scorer_map_shape(s, &w, NULL), FF_E_INVALID_ARGUMENT);
    uint8_t *img = ft_image(1, 50, 40, 0);
    float map[HW], score = 7.0f;
    CHECK_STATUS(ff_scorer_score_image(s, img, 50, 40, 0, FF_PIXEL_RGB8, map, HW - 1, &score), FF_E_BUFFER_TOO_SMALL);
    CHECK_MSG("map buffer");
    CHECK(score == 7.0f);
    CHECK_STATUS(ff_scorer_score_image(s, NULL, 50, 40, 0, FF_PIXEL_RGB8, map, HW, &score), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_score_image(s, img, 50, 40, 0, FF_PIXEL_RGB8, map, HW, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_score_image(s, img, 0, 40, 0, FF_PIXEL_RGB8, map, HW, &score), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_score_image(s, img, 50, 40, 10, FF_PIXEL_RGB8, map, HW, &score), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_score_file(s, ft_path("nope.png"), map, HW, &score), FF_E_IO);
    CHECK_MSG("nope.png");
    CHECK(score == 7.0f);
    float scores[2];
    CHECK_STATUS(ff_scorer_score_tensor(s, inputs, 0, NULL, 0, scores, 2), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_score_tensor(s, inputs, 2, NULL, 0, scores, 1), FF_E_BUFFER_TOO_SMALL);
    CHECK_MSG("scores buffer");
    CHECK_STATUS(ff_scorer_score_tensor(s, inputs, 2, map, HW, scores, 2), FF_E_BUFFER_TOO_SMALL);
    CHECK_MSG("maps buffer");
    CHECK_STATUS(ff_scorer_score_tensor(s, NULL, 2, NULL, 0, scores, 2), FF_E_INVALID_ARGUMENT);
    float *bad = malloc(sizeof(float) * 3 * HW);
    memcpy(bad, inputs, sizeof(float) * 3 * HW);
    bad[123] = NAN;
    CHECK_STATUS(ff_scorer_score_tensor(s, bad, 1, NULL, 0, scores, 1), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("NaN");
    free(bad);
    free(img);
}

static void test_paths_agree(ff_scorer *s) {
    /* image buffer vs PNG file vs pre-processed tensor */
    uint8_t *img = ft_image(5, 90, 70, 1);
    float m1[HW], m2[HW], m3[HW], s1 = 0, s2 = 0, s3 = 0;
    CHECK_OK(ff_scorer_score_image(s, img, 90, 70, 0, FF_PIXEL_RGB8, m1, HW, &s1));
    const char *png = ft_path("img.png");
    CHECK_OK(ff_image_write_png(png, img, 90, 70, 0, FF_PIXEL_RGB8));
    CHECK_OK(ff_scorer_score_file(s, png, m2, HW, &s2));
    float *in = malloc(sizeof(float) * 3 * HW);
    CHECK_OK(ff_image_preprocess(img, 90, 70, 0, FF_PIXEL_RGB8, SIZE, SIZE, in, 3 * HW));
    CHECK_OK(ff_scorer_score_tensor(s, in, 1, m3, HW, &s3, 1));
    CHECK(memcmp(m1, m2, sizeof m1) == 0 && s1 == s2);
    CHECK(memcmp(m1, m3, sizeof m1) == 0 && s1 == s3);
    /* the score is the map's maximum; values in [-1, 0]; the map varies */
    float mx = -INFINITY, mn = INFINITY;
    for (int i = 0; i < HW; i++) {
        if (m1[i] > mx) mx = m1[i];
        if (m1[i] < mn) mn = m1[i];
    }
    CHECK(s1 == mx);
    CHECK(mn >= -1.0f && mx <= 0.0f && mn < mx);
    /* score only */
    float s4 = 0;
    CHECK_OK(ff_scorer_score_image(s, img, 90, 70, 0, FF_PIXEL_RGB8, NULL, 0, &s4));
    CHECK(s4 == s1);
    /* a padded row stride gives the same result */
    size_t stride = 90 * 3 + 13;
    uint8_t *padded = calloc(stride * 70, 1);
    for (int y = 0; y < 70; y++) memcpy(padded + (size_t)y * stride, img + (size_t)y * 270, 270);
    CHECK_OK(ff_scorer_score_image(s, padded, 90, 70, stride, FF_PIXEL_RGB8, m2, HW, &s2));
    CHECK(memcmp(m1, m2, sizeof m1) == 0);
    free(padded);
    free(in);
    free(img);
}

static void test_batch(ff_scorer *s) {
    for (int i = 0; i < NB; i++) CHECK_OK(ff_scorer_score_tensor(s, inputs + (size_t)i * 3 * HW, 1, ref_maps[i], HW,
                                                                   &ref_scores[i], 1));
    float *maps = malloc(sizeof(float) * NB * HW), scores[NB];
    CHECK_OK(ff_scorer_score_tensor(s, inputs, NB, maps, (size_t)NB * HW, scores, NB));
    double worst = 0;
    for (int i = 0; i < NB; i++)
        for (int j = 0; j < HW; j++) worst = fmax(worst, fabs((double)maps[i * HW + j] - ref_maps[i][j]));
    printf("batch of %d vs one by one: max |map difference| %.3g\n", NB, worst);
    CHECK(memcmp(maps, ref_maps, sizeof(float) * NB * HW) == 0);
    CHECK(memcmp(scores, ref_scores, sizeof scores) == 0);
    /* scores only */
    float scores2[NB];
    CHECK_OK(ff_scorer_score_tensor(s, inputs, NB, NULL, 0, scores2, NB));
    CHECK(memcmp(scores2, ref_scores, sizeof scores) == 0);
    /* different images score differently */
    CHECK(ref_scores[0] != ref_scores[1]);
    free(maps);
}

typedef struct {
    const ff_flow *flow;
    int ok;
} job;

static void *thread_main(void *arg) {
    job *j = arg;
    ff_scorer *s = NULL;
    j->ok = 0;
    if (ff_scorer_create(j->flow, &s) != FF_OK) return NULL;
    float map[HW], score;
    int ok = 1;
    for (int rep = 0; rep < 2; rep++)
        for (int i = 0; i < NB; i++) {
            if (ff_scorer_score_tensor(s, inputs + (size_t)i * 3 * HW, 1, map, HW, &score, 1) != FF_OK) ok = 0;
            else if (memcmp(map, ref_maps[i], sizeof map) != 0 || score != ref_scores[i]) ok = 0;
        }
    ff_scorer_destroy(s);
    j->ok = ok;
    return NULL;
}

static void test_threads(const ff_flow *flow) {
    pthread_t th[2];
    job jobs[2] = {{flow, 0}, {flow, 0}};
    for (int i = 0; i < 2; i++) CHECK(pthread_create(&th[i], NULL, thread_main, &jobs[i]) == 0);
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    CHECK(jobs[0].ok && jobs[1].ok);
}

int main(void) {
    /* default thread count (all cores): batch and threads must still agree exactly */
    ff_backbone *bb = ft_backbone(44);
    ff_flow *flow = bb ? ft_trained_flow(bb, SIZE) : NULL;
    CHECK(flow != NULL);
    inputs = malloc(sizeof(float) * NB * 3 * HW);
    for (int i = 0; i < NB; i++) {
        uint8_t *img = ft_image(300 + (uint64_t)i, 72, 64, i % 3 == 0);
        CHECK_OK(ff_image_preprocess(img, 72, 64, 0, FF_PIXEL_RGB8, SIZE, SIZE, inputs + (size_t)i * 3 * HW, 3 * HW));
        free(img);
    }
    ff_scorer *s = NULL;
    if (flow) CHECK_OK(ff_scorer_create(flow, &s));
    if (s) {
        test_args(s, flow);
        test_paths_agree(s);
        test_batch(s);
        test_threads(flow);
        /* the scorer keeps the flow (and its backbone) alive */
        ff_flow_destroy(flow);
        ff_backbone_destroy(bb);
        flow = NULL;
        bb = NULL;
        float map[HW], score = 0;
        CHECK_OK(ff_scorer_score_tensor(s, inputs + 3 * HW, 1, map, HW, &score, 1));
        CHECK(memcmp(map, ref_maps[1], sizeof map) == 0);
    }
    ff_scorer_destroy(s);
    ff_scorer_destroy(NULL);
    ff_flow_destroy(flow);
    ff_backbone_destroy(bb);
    free(inputs);
    return ff_test_finish();
}
