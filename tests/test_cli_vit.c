/* `fastflow train`, `score` and `eval` over a transformer backbone without
 * any flow option (the tiny DeiT test configuration, 64x64): the flow gets
 * the ViT defaults (native side, 20 steps, hidden ratio 0.16, alternating
 * kernels), the summary line shows them, and the model scores and
 * evaluates end to end; `features` takes the native side by default. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/fastflow/commands.h"
#include "cli_testlib.h"
#include "tensor/safetensors.h"
#include "test_util.h"

#define SIZE 64

int main(void) {
    char root[512], d[8][700], model[700], out[700];
    const char *weights = ff_test_golden_path("vit_deit_tiny.safetensors");
    snprintf(root, sizeof root, "%s/vitset", ff_test_tmpdir());
    /* an MVTec AD category: train/good, test/good, test/spot, ground_truth/spot */
    const char *sub[] = {"", "/train", "/train/good", "/test", "/test/good", "/test/spot", "/ground_truth",
                         "/ground_truth/spot"};
    for (int i = 0; i < 8; i++) snprintf(d[i], sizeof d[i], "%s%s", root, sub[i]);
    CHECK(ct_mvtec_set(root, SIZE, 4, 2, 2) == 0);
    snprintf(model, sizeof model, "%s/vit_model.safetensors", ff_test_tmpdir());
    snprintf(out, sizeof out, "%s/vit_out.txt", ff_test_tmpdir());
    /* no --size, --flow-steps, --hidden-ratio or kernel choice */
    const char *train[] = {"train", "--data", root, "--backbone", "deit_tiny_test", "--weights", weights,
                           "--epochs", "1", "--batch", "4", "--out", model};
    CHECK(ct_run_to(out, ff_cmd_train, 13, train) == 0);
    char *log = ct_slurp(out);
    CHECK(log && strstr(log, "flow over deit_tiny_test: input 64x64, 20 steps, hidden ratio 0.16, "
                             "alternating 3x3/1x1 kernels") &&
          strstr(log, "epoch 1/1 loss"));
    if (log) fputs(log, stderr);
    free(log);
    ff_flow *flow = NULL;
    CHECK_OK(ff_flow_load(model, NULL, &flow));
    if (flow) {
        int32_t v = 0;
        float h = 0.0f;
        CHECK_OK(ff_flow_get_i32(flow, FF_FLOW_STEPS, &v));
        CHECK(v == 20);
        CHECK_OK(ff_flow_get_i32(flow, FF_FLOW_INPUT_WIDTH, &v));
        CHECK(v == SIZE);
        CHECK_OK(ff_flow_get_i32(flow, FF_FLOW_CONV3X3_ONLY, &v));
        CHECK(v == 0);
        CHECK_OK(ff_flow_get_f32(flow, FF_FLOW_HIDDEN_RATIO, &h));
        CHECK(h == 0.16f);
    }
    ff_flow_destroy(flow);

    /* score: one finite score per image */
    char img0[800], img1[800];
    snprintf(img0, sizeof img0, "%s/g0.png", d[4]);
    snprintf(img1, sizeof img1, "%s/s0.png", d[5]);
    const char *score[] = {"score", "--model", model, img0, img1};
    CHECK(ct_run_to(out, ff_cmd_score, 5, score) == 0);
    char *text = ct_slurp(out);
    float s0 = NAN, s1 = NAN;
    char p0[800], p1[800];
    CHECK(text && sscanf(text, "%799s %f\n%799s %f", p0, &s0, p1, &s1) == 4);
    CHECK(isfinite(s0) && isfinite(s1) && strcmp(p1, img1) == 0);
    free(text);

    /* eval on the category's test split */
    const char *ev[] = {"eval", "--model", model, "--data", root};
    CHECK(ct_run_to(out, ff_cmd_eval, 5, ev) == 0);
    log = ct_slurp(out);
    CHECK(log && strstr(log, "overall"));
    if (log) fputs(log, stderr);
    free(log);

    /* features: the transformer's native side without --size */
    char feat[700];
    snprintf(feat, sizeof feat, "%s/vit_feat.safetensors", ff_test_tmpdir());
    const char *fe[] = {"features", "--backbone", "deit_tiny_test", "--weights", weights, "--image", img0, "--out", feat};
    CHECK(ct_run_to(out, ff_cmd_features, 9, fe) == 0);
    ff_st_file *ff = NULL;
    CHECK_OK(ff_st_open(feat, &ff));
    if (ff) {
        const ff_st_tensor *t = ff_st_find(ff, "features.0");
        CHECK(t && t->ndim == 4 && t->shape[1] == 64 && t->shape[2] == SIZE / 16 && t->shape[3] == SIZE / 16);
        CHECK(ff_st_find(ff, "features.1") == NULL);
    }
    ff_st_close(ff);

    /* a size the transformer cannot take fails with its reason */
    const char *bad[] = {"train", "--data", root, "--backbone", "deit_tiny_test", "--weights", weights,
                         "--epochs", "1", "--size", "128", "--out", model};
    CHECK(ct_run_to(out, ff_cmd_train, 13, bad) == 1);
    CHECK_MSG("64x64 inputs only");
    return ff_test_finish();
}
