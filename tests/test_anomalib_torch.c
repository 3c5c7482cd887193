/* The whole import with PyTorch: tools/reference/make_anomalib_ckpt.py
 * saves anomalib-layout checkpoints (Lightning .ckpt with hyper-parameters,
 * the same with anomalib 0.x's omegaconf config, a bare state dict .pt, a
 * safetensors state dict) and the PyTorch maps; tools/anomalib_to_fastflow.py
 * converts each; libfastflow loads the result (embedded backbone) and must
 * give PyTorch's maps. The checkpoint converted without its backbone must be
 * byte for byte the committed golden model, so the golden cannot go stale.
 *
 * Needs torch and torchvision in /usr/bin/python3 (or $FF_PYTHON); CI has
 * neither, so this test alone exits 77 (skipped) there, even under CI=true.
 * test_anomalib_convert.c covers the converter without PyTorch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anomalib_testlib.h"
#include "backbone_testlib.h"
#include "tensor/safetensors.h"
#include "test_util.h"

#define OUT_CAP 8192

static char dir[1024];

static const char *in_dir(const char *name) {
    static char bufs[16][1200];
    static int k;
    char *b = bufs[k++ % 16];
    snprintf(b, 1200, "%s/%s", dir, name);
    return b;
}

/* Converts `input` (a file in dir) and checks the maps of the result. */
static void convert_and_score(const char *input, const char *extra, const char *expect_in_output) {
    char args[4096], out[OUT_CAP];
    const char *dst = in_dir("converted.safetensors");
    snprintf(args, sizeof args, "'%s' '%s' %s", in_dir(input), dst, extra);
    int rc = at_convert(args, out, sizeof out);
    CHECK(rc == 0);
    printf("%s -> %s", input, out);
    CHECK(strstr(out, expect_in_output) != NULL);
    if (!strstr(out, expect_in_output)) fprintf(stderr, "expected '%s' in the converter's output\n", expect_in_output);
    ff_flow *flow = NULL;
    CHECK_OK(ff_flow_load(dst, NULL, &flow));
    char what[256];
    snprintf(what, sizeof what, "PyTorch %s -> converter -> libfastflow", input);
    if (flow) at_check_maps(flow, what);
    ff_flow_destroy(flow);
}

static void expect_error(const char *input, const char *needle) {
    char args[4096], out[OUT_CAP];
    snprintf(args, sizeof args, "'%s' '%s'", in_dir(input), in_dir("never.safetensors"));
    int rc = at_convert(args, out, sizeof out);
    int ok = rc == 1 && strstr(out, needle) != NULL;
    CHECK(ok);
    if (!ok) fprintf(stderr, "converter on %s: exit %d, expected 1 and '%s' in:\n%s\n", input, rc, needle, out);
}

static int same_file(const char *a, const char *b) {
    uint8_t *da = NULL, *db = NULL;
    size_t na = 0, nb = 0;
    int same = ff_read_file(a, &da, &na) == FF_OK && ff_read_file(b, &db, &nb) == FF_OK && na == nb &&
               memcmp(da, db, na) == 0;
    free(da);
    free(db);
    return same;
}

/* The freshly generated reference equals the committed one. */
static void check_reference(void) {
    ff_st_file *g = NULL, *r = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path(AT_REF), &g));
    CHECK_OK(ff_st_open(in_dir("reference.safetensors"), &r));
    if (g && r) {
        static const char *const exact[] = {"images", "check.first", "check.last"};
        for (int i = 0; i < 3; i++) {
            const ff_st_tensor *a = ff_st_find(g, exact[i]), *b = ff_st_find(r, exact[i]);
            CHECK(a && b && a->nbytes == b->nbytes && memcmp(a->data, b->data, a->nbytes) == 0);
        }
        size_t n1 = 0, n2 = 0;
        float *m1 = bt_golden(g, "maps", &n1), *m2 = bt_golden(r, "maps", &n2);
        CHECK(m1 && m2 && n1 == n2);
        if (m1 && m2 && n1 == n2) ff_test_close_rel_max("regenerated PyTorch maps vs committed", m2, m1, n1, 1e-5);
        free(m1);
        free(m2);
    }
    ff_st_close(g);
    ff_st_close(r);
}

int main(void) {
    if (!at_python_has("torch, torchvision")) {
        /* the one skip allowed under CI=true: CI never has PyTorch */
        printf("SKIP: %s cannot import torch and torchvision; test_anomalib_convert covers the converter "
               "without them\n", at_python());
        return 77;
    }
    snprintf(dir, sizeof dir, "%s/ckpt", ff_test_tmpdir());
    const char *src = getenv("FF_SOURCE_DIR");
    char cmd[4096], out[OUT_CAP];
    snprintf(cmd, sizeof cmd, "'%s' '%s/tools/reference/make_anomalib_ckpt.py' --out-dir '%s'", at_python(),
             src ? src : ".", dir);
    int rc = at_run(cmd, out, sizeof out);
    CHECK(rc == 0);
    if (rc != 0) {
        fprintf(stderr, "make_anomalib_ckpt.py failed (%d):\n%s\n", rc, out);
        return ff_test_finish();
    }
    check_reference();

    /* Lightning checkpoint, anomalib 1.x style hyper-parameters */
    convert_and_score("fastflow.ckpt", "",
                      "resnet18, input 64x64, 4 steps, hidden_ratio 0.16, conv3x3_only false, backbone embedded; "
                      "anomalib statistics: image_threshold.value=");
    /* its flow alone is the committed golden, byte for byte */
    char args[4096];
    snprintf(args, sizeof args, "'%s' '%s' --no-backbone -q", in_dir("fastflow.ckpt"), in_dir("flow.safetensors"));
    CHECK(at_convert(args, out, sizeof out) == 0);
    CHECK(same_file(in_dir("flow.safetensors"), ff_test_golden_path(AT_MODEL)));
    /* anomalib 0.x: the config as an omegaconf DictConfig (omegaconf not installed) */
    convert_and_score("omegaconf_hparams.ckpt", "", "hidden_ratio 0.157");
    /* bare state dict: no prefix, no hyper-parameters, no statistics */
    convert_and_score("state_dict.pt", "", "hidden_ratio 0.16, conv3x3_only false, backbone embedded; "
                      "anomalib statistics: none");
    convert_and_score("state_dict.safetensors", "--backbone resnet18 --input-size 64",
                      "normalization_metrics.min=");

    expect_error("not_fastflow.ckpt", "not a FastFlow checkpoint");
    expect_error("missing_tensor.ckpt", "missing 1 tensor(s): model.fast_flow_blocks.1.module_list.2.subnet.4.bias");
    FILE *f = fopen(in_dir("junk.ckpt"), "wb");
    if (f) {
        fputs("PK\003\004 not really a zip", f);
        fclose(f);
    }
    expect_error("junk.ckpt", "not a PyTorch checkpoint");
    return ff_test_finish();
}
