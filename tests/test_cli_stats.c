/* Score statistics and normalised scoring through the `fastflow` commands,
 * on a tiny synthetic set (random resnet18 weights, 64x64, 1 flow step):
 * `train --val-fraction` holds images out and stores the largest held-out
 * score as the thresholds; `train --val DIR` on an MVTec-like folder stores
 * F1 thresholds; `score --normalized` prints the library's normalised
 * scores and decisions (lines and JSON), `--heatmaps` writes PNG overlays
 * that decode back at the requested map size; `eval` reports the stored
 * threshold's confusion figures; usage errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../tools/fastflow/commands.h"
#include "cli_testlib.h"
#include "flow_testlib.h"
#include "tensor/safetensors.h"
#include "test_util.h"

#define SIZE 64
#define NTRAIN 6

static void write_image(const char *path, uint64_t seed, int32_t w, int32_t h, int defect) {
    uint8_t *img = ft_image(seed, w, h, defect);
    CHECK_OK(ff_image_write_png(path, img, w, h, 0, FF_PIXEL_RGB8));
    free(img);
}

static const char *meta_of(const char *model, const char *key, char *buf, size_t n) {
    ff_st_file *f = NULL;
    buf[0] = '\0';
    if (ff_st_open(model, &f) != FF_OK) return buf;
    const char *v = ff_st_meta(f, key);
    snprintf(buf, n, "%s", v ? v : "");
    ff_st_close(f);
    return buf;
}

int main(void) {
    const char *tmp = ff_test_tmpdir();
    char good[600], weights[600], model[600], model_f1[600], plain[600], out[600], heat[600], val[600];
    snprintf(good, sizeof good, "%s/good", tmp);
    snprintf(weights, sizeof weights, "%s/w.safetensors", tmp);
    snprintf(model, sizeof model, "%s/held.safetensors", tmp);
    snprintf(model_f1, sizeof model_f1, "%s/f1.safetensors", tmp);
    snprintf(plain, sizeof plain, "%s/plain.safetensors", tmp);
    snprintf(out, sizeof out, "%s/out.txt", tmp);
    snprintf(heat, sizeof heat, "%s/heat", tmp);
    snprintf(val, sizeof val, "%s/val", tmp);
    CHECK(mkdir(good, 0777) == 0);
    if (ct_write_resnet18_weights(weights, 45) != 0) {
        CHECK(!"writing random resnet18 weights");
        return ff_test_finish();
    }
    char paths[NTRAIN][700];
    for (int i = 0; i < NTRAIN; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/img%d.png", good, i);
        write_image(paths[i], 600 + (uint64_t)i, SIZE, SIZE, 0);
    }
    /* an MVTec-like validation folder: test/good, test/spot, ground_truth/spot */
    char d1[700], d2[700], d3[700], d4[700], p[800];
    snprintf(d1, sizeof d1, "%s/test", val);
    snprintf(d2, sizeof d2, "%s/test/good", val);
    snprintf(d3, sizeof d3, "%s/test/spot", val);
    snprintf(d4, sizeof d4, "%s/ground_truth", val);
    CHECK(mkdir(val, 0777) == 0 && mkdir(d1, 0777) == 0 && mkdir(d2, 0777) == 0 && mkdir(d3, 0777) == 0 &&
          mkdir(d4, 0777) == 0);
    snprintf(d4, sizeof d4, "%s/ground_truth/spot", val);
    CHECK(mkdir(d4, 0777) == 0);
    uint8_t mask[SIZE * SIZE];
    for (int i = 0; i < 2; i++) {
        snprintf(p, sizeof p, "%s/g%d.png", d2, i);
        write_image(p, 700 + (uint64_t)i, SIZE, SIZE, 0);
        snprintf(p, sizeof p, "%s/s%d.png", d3, i);
        write_image(p, 710 + (uint64_t)i, SIZE, SIZE, 1);
        for (int k = 0; k < SIZE * SIZE; k++) mask[k] = (k % SIZE > 20 && k % SIZE < 40 && k / SIZE > 20) ? 255 : 0;
        snprintf(p, sizeof p, "%s/s%d_mask.png", d4, i);
        CHECK_OK(ff_image_write_png(p, mask, SIZE, SIZE, 0, FF_PIXEL_GRAY8));
    }

    /* --val-fraction: 2 of 6 held out (images 2 and 5) */
    const char *train[] = {"train", "--data", good, "--backbone", "resnet18", "--weights", weights, "--epochs", "2",
                           "--batch", "2", "--flow-steps", "1", "--size", "64", "--val-fraction", "0.34", "--out",
                           model};
    CHECK(ct_run_to(out, ff_cmd_train, 19, train) == 0);
    char *log = ct_slurp(out);
    CHECK(log && strstr(log, "holding out 2 of 6") && strstr(log, "training on 4 images") &&
          strstr(log, "score statistics (heldout-normal-max, 2 images)"));
    free(log);
    char buf[128];
    CHECK(strcmp(meta_of(model, "score.source", buf, sizeof buf), "heldout-normal-max") == 0);
    ff_flow *flow = NULL;
    CHECK_OK(ff_flow_load(model, NULL, &flow));
    float it = 0, lo = 0, hi = 0, s2 = 0, s5 = 0;
    ff_scorer *sc = NULL;
    if (flow) {
        CHECK_OK(ff_flow_get_statistic(flow, FF_STAT_IMAGE_THRESHOLD, &it));
        CHECK_OK(ff_flow_get_statistic(flow, FF_STAT_MIN, &lo));
        CHECK_OK(ff_flow_get_statistic(flow, FF_STAT_MAX, &hi));
        CHECK_OK(ff_scorer_create(flow, &sc));
        CHECK_OK(ff_scorer_score_file(sc, paths[2], NULL, 0, &s2));
        CHECK_OK(ff_scorer_score_file(sc, paths[5], NULL, 0, &s5));
        CHECK(it == fmaxf(s2, s5)); /* the largest held-out score */
        CHECK(lo < hi);
    }

    /* --val DIR with a test split: F1 thresholds */
    const char *train_f1[] = {"train", "--data", good, "--backbone", "resnet18", "--weights", weights,
                              "--epochs", "1", "--batch", "3", "--flow-steps", "1", "--size", "64", "--val", val,
                              "--out", model_f1};
    CHECK(ct_run_to(out, ff_cmd_train, 19, train_f1) == 0);
    log = ct_slurp(out);
    CHECK(log && strstr(log, "training on 6 images") && strstr(log, "(2 good, 2 defect)") &&
          strstr(log, "score statistics (val-f1, 4 images)"));
    free(log);
    CHECK(strcmp(meta_of(model_f1, "score.source", buf, sizeof buf), "val-f1") == 0);
    /* no statistics option: none stored */
    const char *train_plain[] = {"train", "--data", good, "--backbone", "resnet18", "--weights", weights,
                                 "--epochs", "1", "--flow-steps", "1", "--size", "64", "--out", plain};
    CHECK(ct_run_to(out, ff_cmd_train, 15, train_plain) == 0);
    CHECK(meta_of(plain, "score.image_threshold", buf, sizeof buf)[0] == '\0');
    /* usage errors */
    const char *both[] = {"train", "--data", good, "--backbone", "resnet18", "--weights", weights, "--epochs", "1",
                          "--val", val, "--val-fraction", "0.2", "--out", plain};
    CHECK(ct_run(ff_cmd_train, 15, both) == 2);
    const char *frac1[] = {"train", "--data", good, "--backbone", "resnet18", "--weights", weights, "--epochs", "1",
                           "--val-fraction", "1", "--out", plain};
    CHECK(ct_run(ff_cmd_train, 13, frac1) == 2);
    const char *tiny[] = {"train", "--data", good, "--backbone", "resnet18", "--weights", weights, "--epochs", "1",
                          "--val-fraction", "0.1", "--out", plain};
    CHECK(ct_run(ff_cmd_train, 13, tiny) == 1); /* 10% of 6 images holds none out */

    /* score --normalized: lines with a decision, the library's values */
    char test_img[700];
    snprintf(test_img, sizeof test_img, "%s/probe.png", tmp);
    write_image(test_img, 900, 80, 72, 1);
    const char *norm[] = {"score", "--model", model, "--normalized", test_img, paths[5]};
    CHECK(ct_run_to(out, ff_cmd_score, 6, norm) == 0);
    log = ct_slurp(out);
    float ns = 0, ns5 = 0;
    if (sc && log) {
        float want = 0, want5 = 0;
        int32_t d = -1, d5 = -1;
        CHECK_OK(ff_scorer_set_i32(sc, FF_SCORER_NORMALIZED, 1));
        CHECK_OK(ff_scorer_score_file(sc, test_img, NULL, 0, &want));
        CHECK_OK(ff_scorer_last_decisions(sc, &d, 1));
        CHECK_OK(ff_scorer_score_file(sc, paths[5], NULL, 0, &want5));
        CHECK_OK(ff_scorer_last_decisions(sc, &d5, 1));
        char p1[800], w1[32], p2[800], w2[32];
        CHECK(sscanf(log, "%799s %g %31s\n%799s %g %31s", p1, &ns, w1, p2, &ns5, w2) == 6);
        CHECK(ns == want && ns5 == want5 && ns >= 0 && ns <= 1);
        CHECK(strcmp(w1, d ? "anomalous" : "normal") == 0 && strcmp(w2, d5 ? "anomalous" : "normal") == 0);
        CHECK(d5 == (s5 >= it));
    }
    free(log);
    /* --json --heatmaps at the image's size */
    const char *js[] = {"score", "--model", model, "--normalized", "--json", "--heatmaps", heat, "--map-size",
                        "image", "--sigma", "1", test_img};
    CHECK(ct_run_to(out, ff_cmd_score, 12, js) == 0);
    log = ct_slurp(out);
    CHECK(log && strstr(log, "\"anomalous\": ") && strstr(log, "\"score\": "));
    free(log);
    snprintf(p, sizeof p, "%s/probe.png", heat);
    int32_t hw = 0, hh = 0, hc = 0;
    CHECK_OK(ff_image_probe_file(p, &hc, &hw, &hh));
    CHECK(hw == 80 && hh == 72 && hc == 3);
    uint8_t *rgb = malloc(80 * 72 * 3);
    CHECK_OK(ff_image_decode_file(p, FF_PIXEL_RGB8, rgb, 80 * 72 * 3, 0));
    free(rgb);
    /* model-size heatmaps without statistics (raw scale) */
    const char *raw[] = {"score", "--model", plain, "--heatmaps", heat, test_img};
    CHECK(ct_run_to(out, ff_cmd_score, 6, raw) == 0);
    CHECK_OK(ff_image_probe_file(p, &hc, &hw, &hh));
    CHECK(hw == SIZE && hh == SIZE);
    /* errors */
    const char *nostats[] = {"score", "--model", plain, "--normalized", test_img};
    CHECK(ct_run_to(out, ff_cmd_score, 5, nostats) == 1);
    CHECK(strstr(ff_last_error_message(), "statistics") != NULL);
    const char *badsize[] = {"score", "--model", model, "--map-size", "huge", test_img};
    CHECK(ct_run(ff_cmd_score, 6, badsize) == 2);
    const char *badsigma[] = {"score", "--model", model, "--sigma", "65", test_img};
    CHECK(ct_run(ff_cmd_score, 6, badsigma) == 2);
    /* eval prints the stored threshold's confusion figures; a model without statistics does not */
    const char *ev[] = {"eval", "--model", model, "--data", val};
    CHECK(ct_run_to(out, ff_cmd_eval, 5, ev) == 0);
    log = ct_slurp(out);
    CHECK(log && strstr(log, "stored image threshold") && strstr(log, "of 2 defect images flagged") &&
          strstr(log, "of 2 good images flagged"));
    if (log) fputs(log, stderr);
    free(log);
    /* the HTML report of the same run: a gallery of 3 of the 4 images, the
     * stored threshold, numbers as the JSON writes them */
    char report[700], json[700];
    snprintf(report, sizeof report, "%s/r.html", tmp);
    snprintf(json, sizeof json, "%s/r.json", tmp);
    const char *ev_report[] = {"eval", "--model", model, "--data", val, "--report", report, "--report-max-images", "3",
                               "--json", json};
    CHECK(ct_run_to(out, ff_cmd_eval, 11, ev_report) == 0);
    char *html = ct_slurp(report), *jtext = ct_slurp(json);
    CHECK(html && strncmp(html, "<!DOCTYPE html>", 15) == 0 && strstr(html, "</html>"));
    CHECK(html && strstr(html, "Showing 3 of 4 test images") && strstr(html, "The model's stored image threshold"));
    size_t cards = 0;
    for (const char *p = html; p && (p = strstr(p, "<figure class=\"card ")) != NULL; p++) cards++;
    CHECK(cards == 3);
    char want[128];
    snprintf(want, sizeof want, "data-key=\"image_auroc\" data-value=\"%.9g\"", ct_json_number(jtext, "image_auroc"));
    CHECK(html && strstr(html, want));
    CHECK(html && !strstr(html, "<script") && !strstr(html, "http:") && !strstr(html, "https:"));
    free(html);
    free(jtext);
    const char *ev_plain[] = {"eval", "--model", plain, "--data", val};
    CHECK(ct_run_to(out, ff_cmd_eval, 5, ev_plain) == 0);
    log = ct_slurp(out);
    CHECK(log && strstr(log, "overall") && !strstr(log, "stored image threshold"));
    free(log);
    ff_scorer_destroy(sc);
    ff_flow_destroy(flow);
    return ff_test_finish();
}
