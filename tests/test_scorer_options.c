/* Scorer options, decisions and score statistics: setters' bounds and
 * errors; maps at the image's size equal the bilinear resize of the model-
 * size map (the resize itself is checked against torch in test_map_post.c)
 * and leave the score alone; smoothing changes the score to the smoothed
 * map's maximum; normalisation follows anomalib's formula; decisions agree
 * with the threshold; statistics (normal-only and labelled) and their
 * round trip through save/load, including anomalib.* metadata; batch equals
 * one by one and 4 threads equal 1 with every option on. Synthetic: a
 * random resnet18 at 64x64 with 2 briefly trained flow steps. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow_testlib.h"
#include "score/map_post.h"
#include "tensor/safetensors.h"
#include "test_util.h"

#define SIZE 64
#define HW (SIZE * SIZE)
#define NB 10 /* more than one chunk of 8 */
#define IW 90
#define IH 70

static float *inputs; /* [NB, 3, SIZE, SIZE] */

static void test_setters(ff_scorer *s) {
    int32_t v = -1;
    float f = -1.0f;
    CHECK_OK(ff_scorer_get_i32(s, FF_SCORER_MAP_SIZE, &v));
    CHECK(v == FF_SCORER_MAP_MODEL_SIZE);
    CHECK_OK(ff_scorer_get_i32(s, FF_SCORER_NORMALIZED, &v));
    CHECK(v == 0);
    CHECK_OK(ff_scorer_get_f32(s, FF_SCORER_SMOOTH_SIGMA, &f));
    CHECK(f == 0.0f);
    CHECK_STATUS(ff_scorer_set_i32(s, FF_SCORER_MAP_SIZE, 2), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("FF_SCORER_MAP_SIZE");
    CHECK_STATUS(ff_scorer_set_i32(s, FF_SCORER_MAP_SIZE, -1), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_set_i32(s, FF_SCORER_NORMALIZED, 2), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("0 or 1");
    CHECK_STATUS(ff_scorer_set_f32(s, FF_SCORER_SMOOTH_SIGMA, -0.5f), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("[0, 64]");
    CHECK_STATUS(ff_scorer_set_f32(s, FF_SCORER_SMOOTH_SIGMA, 64.5f), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_set_f32(s, FF_SCORER_SMOOTH_SIGMA, NAN), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_set_f32(s, FF_SCORER_SMOOTH_SIGMA, INFINITY), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_set_i32(s, FF_SCORER_SMOOTH_SIGMA, 1), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("ff_scorer_set_f32");
    CHECK_STATUS(ff_scorer_set_f32(s, FF_SCORER_MAP_SIZE, 1.0f), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("ff_scorer_set_i32");
    CHECK_STATUS(ff_scorer_set_i32(s, 99, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("unknown scorer option");
    CHECK_STATUS(ff_scorer_get_f32(s, FF_SCORER_NORMALIZED, &f), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_get_i32(s, FF_SCORER_MAP_SIZE, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_set_i32(NULL, FF_SCORER_MAP_SIZE, 0), FF_E_INVALID_ARGUMENT);
    /* failures left every option unchanged */
    CHECK_OK(ff_scorer_get_i32(s, FF_SCORER_MAP_SIZE, &v));
    CHECK(v == 0);
    CHECK_OK(ff_scorer_get_f32(s, FF_SCORER_SMOOTH_SIGMA, &f));
    CHECK(f == 0.0f);
    /* bounds are inclusive */
    CHECK_OK(ff_scorer_set_f32(s, FF_SCORER_SMOOTH_SIGMA, 64.0f));
    CHECK_OK(ff_scorer_set_f32(s, FF_SCORER_SMOOTH_SIGMA, 0.0f));
    /* normalisation needs statistics; decisions too */
    CHECK_STATUS(ff_scorer_set_i32(s, FF_SCORER_NORMALIZED, 1), FF_E_STATE);
    CHECK_MSG("statistics");
    int32_t d[1];
    CHECK_STATUS(ff_scorer_last_decisions(s, d, 1), FF_E_STATE);
    CHECK_MSG("statistics");
    /* shapes */
    int32_t h = 0, w = 0;
    CHECK_OK(ff_scorer_map_shape_for(s, IW, IH, &w, &h));
    CHECK(h == SIZE && w == SIZE);
    CHECK_OK(ff_scorer_set_i32(s, FF_SCORER_MAP_SIZE, FF_SCORER_MAP_IMAGE_SIZE));
    CHECK_OK(ff_scorer_map_shape_for(s, IW, IH, &w, &h));
    CHECK(h == IH && w == IW);
    CHECK_OK(ff_scorer_map_shape(s, &w, &h)); /* still the model's size */
    CHECK(h == SIZE && w == SIZE);
    CHECK_STATUS(ff_scorer_map_shape_for(s, 0, IH, &w, &h), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_map_shape_for(s, IW, IH, &w, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_OK(ff_global_set_i64(FF_GLOBAL_MAX_IMAGE_PIXELS, 1000));
    CHECK_STATUS(ff_scorer_map_shape_for(s, 100, 11, &w, &h), FF_E_LIMIT_EXCEEDED);
    CHECK_OK(ff_global_set_i64(FF_GLOBAL_MAX_IMAGE_PIXELS, 100000000));
    CHECK_OK(ff_scorer_set_i32(s, FF_SCORER_MAP_SIZE, FF_SCORER_MAP_MODEL_SIZE));
}

/* Map at the image's size = resize of the model-size map; same score. */
static void test_image_size(ff_scorer *s) {
    uint8_t *img = ft_image(5, IW, IH, 1);
    float model_map[HW], s_model = 0, s_img = 0;
    CHECK_OK(ff_scorer_score_image(s, img, IW, IH, 0, FF_PIXEL_RGB8, model_map, HW, &s_model));
    CHECK_OK(ff_scorer_set_i32(s, FF_SCORER_MAP_SIZE, FF_SCORER_MAP_IMAGE_SIZE));
    float *big = malloc(sizeof(float) * IW * IH), *want = malloc(sizeof(float) * IW * IH);
    float keep = 3.0f;
    CHECK_STATUS(ff_scorer_score_image(s, img, IW, IH, 0, FF_PIXEL_RGB8, big, IW * IH - 1, &keep),
                 FF_E_BUFFER_TOO_SMALL);
    CHECK_MSG("70x90");
    CHECK(keep == 3.0f);
    CHECK_OK(ff_scorer_score_image(s, img, IW, IH, 0, FF_PIXEL_RGB8, big, IW * IH, &s_img));
    ff_resize_bilinear(model_map, SIZE, SIZE, want, IH, IW);
    CHECK(memcmp(big, want, sizeof(float) * IW * IH) == 0);
    CHECK(s_img == s_model);
    /* from a file: same map */
    const char *png = ft_path("opt.png");
    CHECK_OK(ff_image_write_png(png, img, IW, IH, 0, FF_PIXEL_RGB8));
    float s_file = 0;
    memset(big, 0, sizeof(float) * IW * IH);
    CHECK_STATUS(ff_scorer_score_file(s, png, big, HW, &s_file), FF_E_BUFFER_TOO_SMALL);
    CHECK_OK(ff_scorer_score_file(s, png, big, IW * IH, &s_file));
    CHECK(memcmp(big, want, sizeof(float) * IW * IH) == 0 && s_file == s_model);
    /* score only needs no buffer */
    CHECK_OK(ff_scorer_score_file(s, png, NULL, 0, &s_file));
    CHECK(s_file == s_model);
    CHECK_OK(ff_scorer_set_i32(s, FF_SCORER_MAP_SIZE, FF_SCORER_MAP_MODEL_SIZE));
    free(big);
    free(want);
    free(img);
}

/* Smoothing: the map is the blurred raw map, the score its maximum. */
static void test_smoothing(ff_scorer *s) {
    float raw[HW], sm[HW], want[HW], tmp[HW], kernel[FF_SMOOTH_MAX_KERNEL], s_raw = 0, s_sm = 0;
    CHECK_OK(ff_scorer_score_tensor(s, inputs, 1, raw, HW, &s_raw, 1));
    CHECK_OK(ff_scorer_set_f32(s, FF_SCORER_SMOOTH_SIGMA, 4.0f));
    CHECK_OK(ff_scorer_score_tensor(s, inputs, 1, sm, HW, &s_sm, 1));
    memcpy(want, raw, sizeof raw);
    ff_gauss_kernel(4.0f, kernel, 33);
    ff_gauss_blur(want, SIZE, SIZE, kernel, 33, tmp);
    CHECK(memcmp(sm, want, sizeof sm) == 0);
    float mx = -INFINITY;
    for (int i = 0; i < HW; i++) mx = fmaxf(mx, sm[i]);
    CHECK(s_sm == mx && s_sm < s_raw); /* a blur lowers the peak */
    CHECK_OK(ff_scorer_set_f32(s, FF_SCORER_SMOOTH_SIGMA, 0.0f));
    float again[HW], s_again = 0;
    CHECK_OK(ff_scorer_score_tensor(s, inputs, 1, again, HW, &s_again, 1));
    CHECK(memcmp(again, raw, sizeof raw) == 0 && s_again == s_raw); /* off again: bit-identical */
}

/* Statistics from normal-only and labelled sets; argument errors. */
static ff_flow *test_statistics(ff_scorer *s, const ff_flow *flow) {
    float *maps = malloc(sizeof(float) * NB * HW), scores[NB];
    CHECK_OK(ff_scorer_score_tensor(s, inputs, NB, maps, (size_t)NB * HW, scores, NB));
    float it = 0, pt = 0, lo = 0, hi = 0, smax = -INFINITY, mmin = INFINITY, mmax = -INFINITY;
    for (int i = 0; i < NB; i++) smax = fmaxf(smax, scores[i]);
    for (int i = 0; i < NB * HW; i++) {
        mmin = fminf(mmin, maps[i]);
        mmax = fmaxf(mmax, maps[i]);
    }
    CHECK_OK(ff_score_statistics(maps, scores, NULL, NULL, NB, SIZE, SIZE, &it, &pt, &lo, &hi));
    CHECK(it == smax && pt == smax && lo == mmin && hi == mmax);
    /* labelled: images 0, 3, 6, 9 carry the bright square */
    uint8_t labels[NB];
    for (int i = 0; i < NB; i++) labels[i] = i % 3 == 0;
    uint8_t *masks = calloc((size_t)NB * HW, 1);
    for (int i = 0; i < NB; i++)
        if (labels[i])
            for (int j = 0; j < HW; j += 7) masks[(size_t)i * HW + (size_t)j] = 1;
    float f1_img = 0, f1_px = 0;
    CHECK_OK(ff_metric_f1_optimal(scores, labels, NB, NULL, &f1_img));
    CHECK_OK(ff_metric_f1_optimal(maps, masks, (uint64_t)NB * HW, NULL, &f1_px));
    CHECK_OK(ff_score_statistics(maps, scores, labels, masks, NB, SIZE, SIZE, &it, &pt, &lo, &hi));
    CHECK(it == f1_img && pt == f1_px && lo == mmin && hi == mmax);
    CHECK_OK(ff_score_statistics(maps, scores, labels, NULL, NB, SIZE, SIZE, &it, &pt, &lo, &hi));
    CHECK(it == f1_img && pt == f1_img); /* no masks: the pixel threshold is the image one */
    /* errors leave the outputs alone */
    float keep = 42.0f;
    CHECK_STATUS(ff_score_statistics(maps, scores, NULL, masks, NB, SIZE, SIZE, &keep, &pt, &lo, &hi),
                 FF_E_INVALID_ARGUMENT);
    CHECK_MSG("labels");
    labels[2] = 2;
    CHECK_STATUS(ff_score_statistics(maps, scores, labels, NULL, NB, SIZE, SIZE, &keep, &pt, &lo, &hi),
                 FF_E_INVALID_ARGUMENT);
    CHECK_MSG("labels[2]");
    float saved = scores[4];
    scores[4] = NAN;
    CHECK_STATUS(ff_score_statistics(maps, scores, NULL, NULL, NB, SIZE, SIZE, &keep, &pt, &lo, &hi),
                 FF_E_INVALID_ARGUMENT);
    CHECK_MSG("scores[4]");
    scores[4] = saved;
    CHECK_STATUS(ff_score_statistics(maps, scores, NULL, NULL, 0, SIZE, SIZE, &keep, &pt, &lo, &hi),
                 FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_score_statistics(maps, scores, NULL, NULL, NB, SIZE, SIZE, NULL, &pt, &lo, &hi),
                 FF_E_INVALID_ARGUMENT);
    float flat[4] = {-0.5f, -0.5f, -0.5f, -0.5f}, fs[1] = {-0.5f};
    CHECK_STATUS(ff_score_statistics(flat, fs, NULL, NULL, 1, 2, 2, &keep, &pt, &lo, &hi), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("no range");
    CHECK(keep == 42.0f);

    /* a flow with the normal-only statistics */
    CHECK_OK(ff_score_statistics(maps, scores, NULL, NULL, NB, SIZE, SIZE, &it, &pt, &lo, &hi));
    ff_flow *x = NULL;
    CHECK_STATUS(ff_flow_with_statistics(flow, it, pt, hi, lo, NULL, &x), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("must exceed");
    CHECK_STATUS(ff_flow_with_statistics(flow, NAN, pt, lo, hi, NULL, &x), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("finite");
    CHECK_STATUS(ff_flow_with_statistics(flow, it, pt, lo, hi, "bad\nsource", &x), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_flow_with_statistics(flow, it, pt, lo, hi, "", &x), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_flow_with_statistics(flow, it, pt, lo, hi, "0123456789012345678901234567890123", &x),
                 FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_flow_with_statistics(NULL, it, pt, lo, hi, NULL, &x), FF_E_INVALID_ARGUMENT);
    CHECK(x == NULL);
    float v = 0;
    CHECK_STATUS(ff_flow_get_statistic(flow, FF_STAT_MIN, &v), FF_E_STATE);
    CHECK_MSG("no score statistics");
    ff_flow *with = NULL;
    CHECK_OK(ff_flow_with_statistics(flow, it, pt, lo, hi, "test-normal-max", &with));
    CHECK_STATUS(ff_flow_get_statistic(with, 0, &v), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_flow_get_statistic(with, 5, &v), FF_E_INVALID_ARGUMENT);
    CHECK_OK(ff_flow_get_statistic(with, FF_STAT_IMAGE_THRESHOLD, &v));
    CHECK(v == it);
    CHECK_OK(ff_flow_get_statistic(with, FF_STAT_MAX, &v));
    CHECK(v == hi);
    CHECK_STATUS(ff_flow_get_statistic(flow, FF_STAT_MIN, &v), FF_E_STATE); /* the original is unchanged */
    free(masks);
    free(maps);
    return with;
}

/* Normalised scores and maps follow the formula; decisions the threshold. */
static void test_normalized(const ff_flow *with) {
    ff_scorer *s = NULL;
    CHECK_OK(ff_scorer_create(with, &s));
    float it, pt, lo, hi;
    ff_flow_get_statistic(with, FF_STAT_IMAGE_THRESHOLD, &it);
    ff_flow_get_statistic(with, FF_STAT_PIXEL_THRESHOLD, &pt);
    ff_flow_get_statistic(with, FF_STAT_MIN, &lo);
    ff_flow_get_statistic(with, FF_STAT_MAX, &hi);
    float raw[NB * HW], raw_s[NB];
    CHECK_OK(ff_scorer_score_tensor(s, inputs, NB, raw, (size_t)NB * HW, raw_s, NB));
    int32_t d[NB], d2[NB];
    CHECK_STATUS(ff_scorer_last_decisions(s, d, NB - 1), FF_E_BUFFER_TOO_SMALL);
    CHECK_OK(ff_scorer_last_decisions(s, d, NB));
    int n_anom = 0;
    for (int i = 0; i < NB; i++) {
        CHECK(d[i] == (raw_s[i] >= it));
        n_anom += d[i];
    }
    CHECK(n_anom == 1); /* the threshold is the largest score: only that image reaches it */
    CHECK_OK(ff_scorer_set_i32(s, FF_SCORER_NORMALIZED, 1));
    float nm[NB * HW], ns[NB];
    CHECK_OK(ff_scorer_score_tensor(s, inputs, NB, nm, (size_t)NB * HW, ns, NB));
    CHECK_OK(ff_scorer_last_decisions(s, d2, NB));
    CHECK(memcmp(d, d2, sizeof d) == 0); /* decisions do not depend on normalisation */
    int formula_ok = 1;
    for (int i = 0; i < NB; i++) {
        float want = (raw_s[i] - it) / (hi - lo) + 0.5f;
        want = want < 0 ? 0 : (want > 1 ? 1 : want);
        formula_ok &= ns[i] == want && (ns[i] >= 0.5f) == (d[i] == 1);
    }
    for (int i = 0; i < NB * HW; i++) {
        float want = (raw[i] - pt) / (hi - lo) + 0.5f;
        want = want < 0 ? 0 : (want > 1 ? 1 : want);
        formula_ok &= nm[i] == want && nm[i] >= 0.0f && nm[i] <= 1.0f;
    }
    CHECK(formula_ok);
    /* a failed call leaves no decisions readable */
    float sc;
    CHECK_STATUS(ff_scorer_score_file(s, ft_path("missing.png"), NULL, 0, &sc), FF_E_IO);
    CHECK_STATUS(ff_scorer_last_decisions(s, d, NB), FF_E_STATE);
    CHECK_MSG("failed");
    ff_scorer_destroy(s);
}

static int same_stats(const ff_flow *a, const ff_flow *b) {
    for (int32_t k = FF_STAT_IMAGE_THRESHOLD; k <= FF_STAT_MAX; k++) {
        float x = 0, y = 1;
        if (ff_flow_get_statistic(a, k, &x) != FF_OK || ff_flow_get_statistic(b, k, &y) != FF_OK || x != y) return 0;
    }
    return 1;
}

static void test_round_trip(const ff_flow *with, const ff_backbone *bb) {
    const char *path = ft_path("stats.safetensors");
    CHECK_OK(ff_flow_save(with, path, 0));
    ff_flow *back = NULL;
    CHECK_OK(ff_flow_load(path, bb, &back));
    CHECK(back && same_stats(with, back));
    ff_flow_destroy(back);
    /* an incomplete set is a format error naming the missing key */
    const char *p2 = ft_path("stats_partial.safetensors");
    ft_edit e = {0};
    e.meta_key = "score.min";
    CHECK(ft_rewrite(path, p2, &e) == 0);
    back = NULL;
    CHECK_STATUS(ff_flow_load(p2, bb, &back), FF_E_BAD_FORMAT);
    CHECK_MSG("score.min");
    e.meta_key = "score.max";
    e.meta_value = "nan";
    CHECK(ft_rewrite(path, p2, &e) == 0);
    CHECK_STATUS(ff_flow_load(p2, bb, &back), FF_E_BAD_FORMAT);
    CHECK_MSG("score.max");
    e.meta_value = "-5"; /* below min */
    CHECK(ft_rewrite(path, p2, &e) == 0);
    CHECK_STATUS(ff_flow_load(p2, bb, &back), FF_E_BAD_FORMAT);
    CHECK_MSG("must exceed");
    CHECK(back == NULL);
    /* anomalib's keys (as the converter writes them) are statistics too */
    const char *src = ft_path("nostats.safetensors");
    ff_flow *plain = NULL;
    CHECK_OK(ff_flow_load(path, bb, &plain));
    const char *keys[4][2] = {{"anomalib.image_threshold.value", "-0.25"},
                              {"anomalib.pixel_threshold.value", "-0.375"},
                              {"anomalib.normalization_metrics.min", "-0.875"},
                              {"anomalib.normalization_metrics.max", "-0.0625"}};
    const char *stat_keys[4] = {"score.image_threshold", "score.pixel_threshold", "score.min", "score.max"};
    /* strip score.*, then add anomalib.* one key at a time */
    const char *cur = path;
    char tmp_names[8][64];
    for (int i = 0; i < 4; i++) {
        snprintf(tmp_names[i], sizeof tmp_names[i], "strip%d.safetensors", i);
        ft_edit se = {0};
        se.meta_key = stat_keys[i];
        const char *next = ft_path(tmp_names[i]);
        CHECK(ft_rewrite(cur, next, &se) == 0);
        cur = next;
    }
    static char cur_buf[4096];
    snprintf(cur_buf, sizeof cur_buf, "%s", cur);
    CHECK(ft_rewrite(cur_buf, src, &(ft_edit){0}) == 0);
    ff_flow *none = NULL;
    CHECK_OK(ff_flow_load(src, bb, &none));
    float v;
    CHECK_STATUS(ff_flow_get_statistic(none, FF_STAT_MIN, &v), FF_E_STATE);
    ff_flow_destroy(none);
    cur = src;
    for (int i = 0; i < 4; i++) {
        snprintf(tmp_names[4 + i], sizeof tmp_names[4 + i], "anomalib%d.safetensors", i);
        ft_edit ae = {0};
        ae.meta_key = keys[i][0];
        ae.meta_value = keys[i][1];
        const char *next = ft_path(tmp_names[4 + i]);
        CHECK(ft_rewrite(cur, next, &ae) == 0);
        cur = next;
        ff_flow *a = NULL;
        CHECK_OK(ff_flow_load(cur, bb, &a));
        int has = ff_flow_get_statistic(a, FF_STAT_MIN, &v) == FF_OK;
        CHECK(has == (i == 3)); /* only the complete set counts */
        if (i == 3) {
            float w[4];
            for (int k = 0; k < 4; k++) ff_flow_get_statistic(a, k + 1, &w[k]);
            CHECK(w[0] == -0.25f && w[1] == -0.375f && w[2] == -0.875f && w[3] == -0.0625f);
        }
        ff_flow_destroy(a);
    }
    ff_flow_destroy(plain);
    /* the anomalib converter's committed output carries anomalib's statistics */
    ff_flow *conv = NULL;
    CHECK_OK(ff_flow_load(ff_test_golden_path("anomalib_resnet18_model.safetensors"), bb, &conv));
    if (conv) {
        float w[4];
        for (int k = 0; k < 4; k++) CHECK_OK(ff_flow_get_statistic(conv, k + 1, &w[k]));
        CHECK(w[0] == -0.09789108f && w[1] == -0.18468377f && w[2] == -0.7024522f && w[3] == -0.07129807f);
        /* saved again, they become score.* keys with source "anomalib" */
        const char *re = ft_path("conv_resaved.safetensors");
        CHECK_OK(ff_flow_save(conv, re, 0));
        ff_st_file *f = NULL;
        CHECK_OK(ff_st_open(re, &f));
        if (f) {
            const char *src = ff_st_meta(f, "score.source"), *thr = ff_st_meta(f, "score.image_threshold");
            CHECK(src && strcmp(src, "anomalib") == 0 && thr && strtof(thr, NULL) == -0.09789108f);
            ff_st_close(f);
        }
    }
    ff_flow_destroy(conv);
}

/* Batch == one by one, and 4 threads == 1, with every option on. */
typedef struct {
    const ff_flow *flow;
    const float *ref_maps, *ref_scores, *ref_big;
    const int32_t *ref_dec;
    int ok;
} job;

static int configure(ff_scorer *s, int32_t map_mode) {
    return ff_scorer_set_f32(s, FF_SCORER_SMOOTH_SIGMA, 1.5f) == FF_OK &&
           ff_scorer_set_i32(s, FF_SCORER_NORMALIZED, 1) == FF_OK &&
           ff_scorer_set_i32(s, FF_SCORER_MAP_SIZE, map_mode) == FF_OK;
}

static uint8_t *image_of(int i) { return ft_image(300 + (uint64_t)i, IW, IH, i % 3 == 0); }

static void *thread_main(void *arg) {
    job *j = arg;
    ff_scorer *s = NULL;
    j->ok = 0;
    if (ff_scorer_create(j->flow, &s) != FF_OK) return NULL;
    int ok = configure(s, FF_SCORER_MAP_IMAGE_SIZE);
    float *big = malloc(sizeof(float) * IW * IH), map[HW], score;
    int32_t dec = -1;
    for (int rep = 0; rep < 1 && ok; rep++)
        for (int i = 0; i < NB && ok; i++) {
            ok &= ff_scorer_score_tensor(s, inputs + (size_t)i * 3 * HW, 1, map, HW, &score, 1) == FF_OK;
            ok &= memcmp(map, j->ref_maps + (size_t)i * HW, sizeof map) == 0 && score == j->ref_scores[i];
            ok &= ff_scorer_last_decisions(s, &dec, 1) == FF_OK && dec == j->ref_dec[i];
            if (i < 3) {
                uint8_t *img = image_of(i);
                ok &= ff_scorer_score_image(s, img, IW, IH, 0, FF_PIXEL_RGB8, big, IW * IH, &score) == FF_OK;
                ok &= memcmp(big, j->ref_big + (size_t)i * IW * IH, sizeof(float) * IW * IH) == 0;
                free(img);
            }
        }
    free(big);
    ff_scorer_destroy(s);
    j->ok = ok;
    return NULL;
}

static void test_batch_and_threads(const ff_flow *with) {
    ff_scorer *s = NULL;
    CHECK_OK(ff_scorer_create(with, &s));
    CHECK(configure(s, FF_SCORER_MAP_IMAGE_SIZE)); /* tensors stay at model size */
    float *one = malloc(sizeof(float) * NB * HW), *all = malloc(sizeof(float) * NB * HW), s1[NB], sa[NB];
    float *big = malloc(sizeof(float) * 3 * IW * IH);
    int32_t d1[NB], da[NB];
    for (int i = 0; i < NB; i++) {
        CHECK_OK(ff_scorer_score_tensor(s, inputs + (size_t)i * 3 * HW, 1, one + (size_t)i * HW, HW, &s1[i], 1));
        CHECK_OK(ff_scorer_last_decisions(s, &d1[i], 1));
    }
    for (int i = 0; i < 3; i++) {
        uint8_t *img = image_of(i);
        float sc;
        CHECK_OK(ff_scorer_score_image(s, img, IW, IH, 0, FF_PIXEL_RGB8, big + (size_t)i * IW * IH, IW * IH, &sc));
        free(img);
    }
    CHECK_OK(ff_scorer_score_tensor(s, inputs, NB, all, (size_t)NB * HW, sa, NB));
    CHECK_OK(ff_scorer_last_decisions(s, da, NB));
    CHECK(memcmp(one, all, sizeof(float) * NB * HW) == 0);
    CHECK(memcmp(s1, sa, sizeof s1) == 0 && memcmp(d1, da, sizeof d1) == 0);
    ff_scorer_destroy(s);

    pthread_t th[4];
    job jobs[4];
    for (int i = 0; i < 4; i++) {
        jobs[i] = (job){with, one, s1, big, d1, 0};
        CHECK(pthread_create(&th[i], NULL, thread_main, &jobs[i]) == 0);
    }
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) CHECK(jobs[i].ok);
    free(one);
    free(all);
    free(big);
}

int main(void) {
    ff_backbone *bb = ft_backbone(44);
    ff_flow *flow = bb ? ft_trained_flow(bb, SIZE) : NULL;
    CHECK(flow != NULL);
    if (!flow) return ff_test_finish();
    inputs = malloc(sizeof(float) * NB * 3 * HW);
    for (int i = 0; i < NB; i++) {
        uint8_t *img = image_of(i);
        CHECK_OK(ff_image_preprocess(img, IW, IH, 0, FF_PIXEL_RGB8, SIZE, SIZE, inputs + (size_t)i * 3 * HW, 3 * HW));
        free(img);
    }
    ff_scorer *s = NULL;
    CHECK_OK(ff_scorer_create(flow, &s));
    test_setters(s);
    test_image_size(s);
    test_smoothing(s);
    ff_flow *with = test_statistics(s, flow);
    ff_scorer_destroy(s);
    if (with) {
        test_normalized(with);
        test_round_trip(with, bb);
        test_batch_and_threads(with);
    }
    ff_flow_destroy(with);
    ff_flow_destroy(flow);
    ff_backbone_destroy(bb);
    free(inputs);
    return ff_test_finish();
}
