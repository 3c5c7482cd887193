/* The `fastflow train` and `fastflow score` commands end to end on a tiny
 * synthetic set (random resnet18 weights, 64x64, 1 flow step): exit codes,
 * the model file, the score lines, --json, and the .npy maps (format and
 * contents equal to the library's maps); train --precision. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tools/fastflow/commands.h"
#include "cli_testlib.h"
#include "flow_testlib.h"
#include "tensor/safetensors.h"
#include "test_util.h"

#define SIZE 64

static int same_file(const char *a, const char *b) {
    FILE *fa = fopen(a, "rb"), *fb = fopen(b, "rb");
    int same_bytes = fa && fb;
    for (int ca = 0, cb = 0; same_bytes && ca != EOF;) {
        ca = fgetc(fa);
        cb = fgetc(fb);
        same_bytes = ca == cb;
    }
    if (fa) fclose(fa);
    if (fb) fclose(fb);
    return same_bytes;
}

int main(void) {
    char dir[512], weights[600], model[600], maps[600], good[600], out[600];
    snprintf(dir, sizeof dir, "%s/set", ff_test_tmpdir());
    snprintf(good, sizeof good, "%s/train", dir);
    snprintf(weights, sizeof weights, "%s/w.safetensors", ff_test_tmpdir());
    snprintf(model, sizeof model, "%s/model.safetensors", ff_test_tmpdir());
    snprintf(maps, sizeof maps, "%s/maps", ff_test_tmpdir());
    snprintf(out, sizeof out, "%s/out.txt", ff_test_tmpdir());
    CHECK(mkdir(dir, 0777) == 0 && mkdir(good, 0777) == 0);
    if (ct_write_resnet18_weights(weights, 45) != 0) {
        CHECK(!"writing random resnet18 weights");
        return ff_test_finish();
    }
    char img_path[4][700];
    for (int i = 0; i < 4; i++) {
        uint8_t *img = ft_image(500 + (uint64_t)i, SIZE, SIZE, i == 3);
        /* a plain folder of images; one test image outside it */
        snprintf(img_path[i], sizeof img_path[i], i < 3 ? "%s/img%d.png" : "%s/../defect%d.png", good, i);
        CHECK_OK(ff_image_write_png(img_path[i], img, SIZE, SIZE, 0, FF_PIXEL_RGB8));
        free(img);
    }

    const char *train[] = {"train", "--data", good, "--backbone", "resnet18", "--weights", weights,
                           "--epochs", "2", "--batch", "2", "--flow-steps", "1", "--size", "64",
                           "--out", model};
    CHECK(ct_run_to(out, ff_cmd_train, 17, train) == 0);
    char *log = ct_slurp(out);
    CHECK(log && strstr(log, "training on 3 images") && strstr(log, "epoch 2/2 loss") && strstr(log, "s per epoch"));
    free(log);
    ff_flow *flow = NULL;
    CHECK_OK(ff_flow_load(model, NULL, &flow));
    int32_t v = 0;
    if (flow) {
        CHECK_OK(ff_flow_get_i32(flow, FF_FLOW_STEPS, &v));
        CHECK(v == 1);
        CHECK_OK(ff_flow_get_i32(flow, FF_FLOW_INPUT_HEIGHT, &v));
        CHECK(v == SIZE);
    }
    /* --cache-memory 1K: every image's features spill to the temporary file; the model is the same bytes */
    char model2[700];
    snprintf(model2, sizeof model2, "%s.spilled.safetensors", model);
    const char *train_spill[] = {"train", "--data", good, "--backbone", "resnet18", "--weights", weights,
                                 "--epochs", "2", "--batch", "2", "--flow-steps", "1", "--size", "64",
                                 "--cache-memory", "1K", "--out", model2};
    CHECK(ct_run_to(out, ff_cmd_train, 19, train_spill) == 0);
    log = ct_slurp(out);
    CHECK(log && strstr(log, "in a temporary file beyond --cache-memory"));
    free(log);
    CHECK(same_file(model, model2));
    /* --precision: fp32 is the default (same bytes); bf16 trains another
     * model where the CPU has bf16 and is refused (exit 1) elsewhere */
    const char *train_fp32[] = {"train", "--data", good, "--backbone", "resnet18", "--weights", weights,
                                "--epochs", "2", "--batch", "2", "--flow-steps", "1", "--size", "64",
                                "--precision", "fp32", "--out", model2};
    CHECK(ct_run(ff_cmd_train, 19, train_fp32) == 0);
    CHECK(same_file(model, model2));
    int32_t bf16 = 0;
    CHECK_OK(ff_cpu_supports(FF_CPU_BF16, &bf16));
    const char *train_bf16[] = {"train", "--data", good, "--backbone", "resnet18", "--weights", weights,
                                "--epochs", "2", "--batch", "2", "--flow-steps", "1", "--size", "64",
                                "--precision", "bf16", "--out", model2};
    CHECK(ct_run_to(out, ff_cmd_train, 19, train_bf16) == (bf16 ? 0 : 1));
    log = ct_slurp(out);
    if (bf16) CHECK(log && strstr(log, "epoch 2/2 loss")); /* else the reason is on stderr */
    free(log);
    if (bf16) CHECK(!same_file(model, model2));
    const char *bad_precision[] = {"train", "--data", good, "--backbone", "resnet18", "--weights", weights,
                                   "--epochs", "1", "--precision", "fp16", "--out", model2};
    CHECK(ct_run(ff_cmd_train, 13, bad_precision) == 2);
    const char *bad_size[] = {"train", "--data", good, "--backbone", "resnet18", "--weights", weights, "--epochs",
                              "1", "--cache-memory", "4X", "--out", model2};
    CHECK(ct_run(ff_cmd_train, 13, bad_size) == 2);
    /* usage errors */
    const char *no_out[] = {"train", "--data", good, "--backbone", "resnet18", "--weights", weights, "--epochs", "1"};
    CHECK(ct_run(ff_cmd_train, 9, no_out) == 2);
    const char *both[] = {"train", "--data", good, "--backbone", "resnet18", "--weights", weights, "--epochs", "1",
                          "--out", model, "--conv3x3-only", "--alternate-kernels"};
    CHECK(ct_run(ff_cmd_train, 13, both) == 2);
    const char *bad_w[] = {"train", "--data", good, "--backbone", "resnet18", "--weights", img_path[0], "--epochs",
                           "1", "--size", "64", "--out", model};
    CHECK(ct_run(ff_cmd_train, 13, bad_w) == 1); /* a PNG is no weights file */
    const char *bad_data[] = {"train", "--data", maps, "--backbone", "resnet18", "--weights", weights, "--epochs",
                              "1", "--size", "64", "--out", model};
    CHECK(ct_run(ff_cmd_train, 13, bad_data) == 1); /* no such folder */

    /* score: plain lines */
    const char *score[] = {"score", "--model", model, img_path[0], img_path[3]};
    CHECK(ct_run_to(out, ff_cmd_score, 5, score) == 0);
    char *text = ct_slurp(out);
    float s0 = NAN, s3 = NAN;
    char p0[800], p3[800];
    CHECK(text && sscanf(text, "%799s %f\n%799s %f", p0, &s0, p3, &s3) == 4);
    CHECK(strcmp(p0, img_path[0]) == 0 && strcmp(p3, img_path[3]) == 0);
    free(text);
    /* the library's own scores and maps of the same files */
    ff_scorer *sc = NULL;
    float m0[SIZE * SIZE], m3[SIZE * SIZE], l0 = 0, l3 = 0;
    if (flow) CHECK_OK(ff_scorer_create(flow, &sc));
    if (sc) {
        CHECK_OK(ff_scorer_score_file(sc, img_path[0], m0, SIZE * SIZE, &l0));
        CHECK_OK(ff_scorer_score_file(sc, img_path[3], m3, SIZE * SIZE, &l3));
        CHECK(fabsf(l0 - s0) <= 1e-6f * fabsf(l0) && fabsf(l3 - s3) <= 1e-6f * fabsf(l3));
    }
    /* --precision winograd: float32 to 1e-4; an unknown precision is a usage error */
    const char *wino[] = {"score", "--model", model, "--precision", "winograd", img_path[0]};
    CHECK(ct_run_to(out, ff_cmd_score, 6, wino) == 0);
    text = ct_slurp(out);
    float w0 = NAN;
    CHECK(text && sscanf(text, "%799s %f", p0, &w0) == 2);
    CHECK(fabsf(w0 - s0) <= 1e-4f * fabsf(s0));
    free(text);
    const char *bad_prec[] = {"score", "--model", model, "--precision", "fp16", img_path[0]};
    CHECK(ct_run(ff_cmd_score, 6, bad_prec) == 2);
    /* --json and --maps */
    const char *js[] = {"score", "--json", "--maps", maps, "--model", model, img_path[0], img_path[3]};
    CHECK(ct_run_to(out, ff_cmd_score, 8, js) == 0);
    text = ct_slurp(out);
    CHECK(text && text[0] == '[' && strstr(text, "\"path\": \"") && strstr(text, "\"score\": ") && strstr(text, "]\n"));
    free(text);
    char npy[800];
    snprintf(npy, sizeof npy, "%s/defect3.npy", maps);
    uint8_t *d = NULL;
    size_t n = 0;
    CHECK_OK(ff_read_file(npy, &d, &n));
    if (d) {
        size_t hlen = (size_t)d[8] | ((size_t)d[9] << 8);
        CHECK(memcmp(d, "\x93NUMPY\x01\x00", 8) == 0);
        CHECK((10 + hlen) % 64 == 0 && d[10 + hlen - 1] == '\n');
        CHECK(n == 10 + hlen + sizeof m3);
        char header[256] = {0};
        memcpy(header, d + 10, hlen < 255 ? hlen : 255);
        CHECK(strstr(header, "'descr': '<f4'") && strstr(header, "'fortran_order': False") &&
              strstr(header, "'shape': (64, 64)"));
        if (n == 10 + hlen + sizeof m3) CHECK(memcmp(d + 10 + hlen, m3, sizeof m3) == 0);
        free(d);
    }
    /* a folder stands for its images; --batch and --jobs change nothing in
     * the output */
    const char *dir_a[] = {"score", "--json", "--model", model, "--batch", "3", "--jobs", "2", good};
    CHECK(ct_run_to(out, ff_cmd_score, 9, dir_a) == 0);
    char *ta = ct_slurp(out);
    const char *dir_b[] = {"score", "--json", "--model", model, "--batch", "1", "--jobs", "0", good};
    CHECK(ct_run_to(out, ff_cmd_score, 9, dir_b) == 0);
    char *tb = ct_slurp(out);
    CHECK(ta && tb && strcmp(ta, tb) == 0 && strstr(ta, "\"score\": "));
    free(ta);
    free(tb);
    const char *bad_batch[] = {"score", "--model", model, "--batch", "9", good};
    CHECK(ct_run(ff_cmd_score, 6, bad_batch) == 2);
    const char *bad_jobs[] = {"score", "--model", model, "--jobs", "-1", good};
    CHECK(ct_run(ff_cmd_score, 6, bad_jobs) == 2);
    /* same stem twice with --maps is refused; a bad model or image fails */
    const char *dup_args[] = {"score", "--maps", maps, "--model", model, img_path[0], img_path[0]};
    CHECK(ct_run(ff_cmd_score, 7, dup_args) == 2);
    const char *nomodel[] = {"score", "--model", weights, img_path[0]};
    CHECK(ct_run(ff_cmd_score, 4, nomodel) == 1);
    const char *noimg[] = {"score", "--model", model, "/nonexistent.png"};
    CHECK(ct_run_to(out, ff_cmd_score, 4, noimg) == 1);
    const char *noargs[] = {"score", "--model", model};
    CHECK(ct_run(ff_cmd_score, 3, noargs) == 2);
    ff_scorer_destroy(sc);
    ff_flow_destroy(flow);
    return ff_test_finish();
}
