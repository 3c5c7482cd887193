/* `fastflow train`, `score` and `eval` end to end over the full-size
 * transformers of issue 6 (deit_base_distilled_patch16_384, cait_m48_448)
 * with no flow option: random F16 weights generated here in C (no real
 * DeiT/CaiT file exists here), a tiny MVTec AD category of 96x96 images that
 * the pre-processing resizes to the native side. The summary line shows the
 * ViT defaults (native side, 20 steps, hidden ratio 0.16, alternating
 * kernels), the scores are finite and eval writes its JSON. Slow suite:
 * CaiT-M48 has 356M parameters and ~1.6 s per image forward. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tools/fastflow/commands.h"
#include "backbone/vit_arch.h"
#include "cli_testlib.h"
#include "test_util.h"
#include "vit_testlib.h"

#define SIDE 96

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void full_cli_case(const char *root, const char *arch_name) {
    const ff_vit_arch *a = ff_vit_arch_find(arch_name);
    CHECK(a != NULL);
    if (!a) return;
    char weights[700], model[700], out[700], json[700], img0[800], img1[800], want[256];
    snprintf(weights, sizeof weights, "%s/%s_w.safetensors", ff_test_tmpdir(), arch_name);
    snprintf(model, sizeof model, "%s/%s_model.safetensors", ff_test_tmpdir(), arch_name);
    snprintf(out, sizeof out, "%s/%s_out.txt", ff_test_tmpdir(), arch_name);
    snprintf(json, sizeof json, "%s/%s_eval.json", ff_test_tmpdir(), arch_name);
    snprintf(img0, sizeof img0, "%s/test/good/g0.png", root);
    snprintf(img1, sizeof img1, "%s/test/spot/s0.png", root);

    double t0 = now();
    size_t size = 0;
    uint8_t *w = vt_random_weights(a, 7, "", FF_DT_F16, &size);
    CHECK(w != NULL);
    if (!w) return;
    CHECK_OK(ff_write_file_atomic(weights, w, size));
    free(w);
    const double t_gen = now() - t0;

    /* no --size, --flow-steps, --hidden-ratio or kernel choice */
    t0 = now();
    const char *train[] = {"train", "--backbone", arch_name, "--weights", weights, "--data", root,
                           "--epochs", "1", "--batch", "2", "--out", model};
    CHECK(ct_run_to(out, ff_cmd_train, 13, train) == 0);
    const double t_train = now() - t0;
    char *log = ct_slurp(out);
    snprintf(want, sizeof want, "flow over %s: input %dx%d, 20 steps, hidden ratio 0.16, alternating 3x3/1x1 kernels",
             arch_name, (int)a->img, (int)a->img);
    CHECK(log && strstr(log, want));
    CHECK(log && strstr(log, "training on 3 images") && strstr(log, "epoch 1/1 loss"));
    if (log) fputs(log, stderr);
    free(log);
    remove(weights);

    /* score --json: one finite score per image, in order */
    t0 = now();
    const char *score[] = {"score", "--model", model, img0, img1, "--json"};
    CHECK(ct_run_to(out, ff_cmd_score, 6, score) == 0);
    const double t_score = now() - t0;
    char *text = ct_slurp(out);
    const char *p0 = text ? strstr(text, img0) : NULL, *p1 = text ? strstr(text, img1) : NULL;
    CHECK(text && text[0] == '[' && p0 && p1 && p0 < p1);
    const double s0 = ct_json_number(p0, "score"), s1 = ct_json_number(p1, "score");
    CHECK(isfinite(s0) && isfinite(s1));
    free(text);

    /* eval on the test split, the metrics as JSON */
    t0 = now();
    const char *ev[] = {"eval", "--model", model, "--data", root, "--json", json};
    CHECK(ct_run_to(out, ff_cmd_eval, 7, ev) == 0);
    const double t_eval = now() - t0;
    text = ct_slurp(json);
    const double img_auroc = ct_json_number(text, "image_auroc"), pix_auroc = ct_json_number(text, "pixel_auroc");
    CHECK(isfinite(img_auroc) && img_auroc >= 0.0 && img_auroc <= 1.0);
    CHECK(isfinite(pix_auroc) && pix_auroc >= 0.0 && pix_auroc <= 1.0);
    CHECK(ct_json_number(text, "n_good") == 2.0 && ct_json_number(text, "n_defect") == 2.0);
    CHECK(ct_json_number(text, "map_height") == a->img && ct_json_number(text, "map_width") == a->img);
    free(text);
    remove(model);
    printf("%s: weights %.1f MB generated in %.1f s; train %.1f s, score (2 images) %.1f s, eval (4 images) %.1f s; "
           "scores %.4g %.4g, image AUROC %.3f, pixel AUROC %.3f\n",
           arch_name, (double)size / 1e6, t_gen, t_train, t_score, t_eval, s0, s1, img_auroc, pix_auroc);
}

int main(void) {
    char root[512];
    snprintf(root, sizeof root, "%s/vitfullset", ff_test_tmpdir());
    /* 3 train/good, 2 test/good, 2 test/spot with masks */
    CHECK(ct_mvtec_set(root, SIDE, 3, 2, 2) == 0);
    full_cli_case(root, "deit_base_distilled_patch16_384");
    full_cli_case(root, "cait_m48_448");
    return ff_test_finish();
}
