#include "anomalib_testlib.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "backbone_testlib.h"
#include "tensor/safetensors.h"
#include "test_util.h"

ff_backbone *at_backbone(void) {
    ff_st_file *ref = NULL;
    if (ff_st_open(ff_test_golden_path(AT_REF), &ref) != FF_OK) {
        fprintf(stderr, "cannot open %s: %s\n", AT_REF, ff_last_error_message());
        return NULL;
    }
    const char *seed_s = ff_st_meta(ref, "backbone_seed");
    const char *arch = ff_st_meta(ref, "backbone");
    float *first = bt_golden(ref, "check.first", NULL), *last = bt_golden(ref, "check.last", NULL);
    ff_backbone *bb = NULL;
    if (seed_s && arch && first && last) {
        float g_first[8], g_last[8];
        size_t size = 0;
        uint8_t *w = bt_random_weights(arch, strtoull(seed_s, NULL, 10), "", NULL, NULL, &size, g_first, g_last);
        /* the C and Python generators must agree bit for bit */
        CHECK(w != NULL && memcmp(g_first, first, sizeof g_first) == 0 && memcmp(g_last, last, sizeof g_last) == 0);
        if (w) CHECK_OK(ff_backbone_load_from_memory(arch, w, size, &bb));
        free(w);
    } else {
        fprintf(stderr, "%s lacks backbone, backbone_seed or check tensors\n", AT_REF);
        CHECK(0);
    }
    free(first);
    free(last);
    ff_st_close(ref);
    return bb;
}

unsigned long long at_backbone_seed(void) {
    ff_st_file *ref = NULL;
    unsigned long long seed = 0;
    if (ff_st_open(ff_test_golden_path(AT_REF), &ref) == FF_OK && ff_st_meta(ref, "backbone_seed"))
        seed = strtoull(ff_st_meta(ref, "backbone_seed"), NULL, 10);
    ff_st_close(ref);
    return seed;
}

void at_check_maps(const ff_flow *flow, const char *what) { at_check_maps_at(flow, what, FF_PRECISION_FP32, 1e-4, NULL); }

void at_check_maps_at(const ff_flow *flow, const char *what, int32_t precision, double tol, float **maps_out) {
    if (maps_out) *maps_out = NULL;
    ff_st_file *ref = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path(AT_REF), &ref));
    if (!ref || !flow) {
        CHECK(0);
        ff_st_close(ref);
        return;
    }
    const ff_st_tensor *images = ff_st_find(ref, "images");
    size_t nmaps = 0, nscores = 0;
    float *maps = bt_golden(ref, "maps", &nmaps), *scores = bt_golden(ref, "scores", &nscores);
    ff_scorer *sc = NULL;
    CHECK_OK(ff_scorer_create(flow, &sc));
    int32_t mh = 0, mw = 0;
    if (sc) CHECK_OK(ff_scorer_map_shape(sc, &mw, &mh));
    if (sc && precision != FF_PRECISION_FP32) CHECK_OK(ff_scorer_set_i32(sc, FF_SCORER_PRECISION, precision));
    CHECK(images != NULL && images->dtype == FF_DT_U8 && images->ndim == 4 && images->shape[3] == 3);
    if (sc && images && maps && scores && images->ndim == 4 && (size_t)images->shape[0] == nscores &&
        nmaps == nscores * (size_t)mh * (size_t)mw) {
        const int32_t n = (int32_t)images->shape[0], h = (int32_t)images->shape[1], w = (int32_t)images->shape[2];
        size_t hw = (size_t)mh * (size_t)mw;
        float *got = malloc(nmaps * sizeof *got), *got_scores = malloc(nscores * sizeof *got_scores);
        for (int32_t i = 0; got && got_scores && i < n; i++)
            CHECK_OK(ff_scorer_score_image(sc, images->data + (size_t)i * (size_t)h * (size_t)w * 3, w, h, 0,
                                           FF_PIXEL_RGB8, got + (size_t)i * hw, hw, got_scores + i));
        char label[256];
        snprintf(label, sizeof label, "%s: maps", what);
        if (got) ff_test_close_rel_max(label, got, maps, nmaps, tol);
        snprintf(label, sizeof label, "%s: scores", what);
        if (got_scores) ff_test_close_rel_max(label, got_scores, scores, nscores, tol);
        if (maps_out) {
            *maps_out = got;
            got = NULL;
        }
        free(got);
        free(got_scores);
    } else {
        fprintf(stderr, "%s: golden shapes do not fit the model's %dx%d map\n", what, (int)mh, (int)mw);
        CHECK(0);
    }
    ff_scorer_destroy(sc);
    free(maps);
    free(scores);
    ff_st_close(ref);
}

const char *at_python(void) {
    const char *p = getenv("FF_PYTHON");
    return p && *p ? p : "/usr/bin/python3";
}

int at_run(const char *cmd, char *out, size_t cap) {
    char full[8192];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p) return -1;
    size_t n = 0;
    if (cap) out[0] = '\0';
    char buf[4096];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, p)) > 0) {
        if (cap && n + 1 < cap) {
            size_t k = got < cap - 1 - n ? got : cap - 1 - n;
            memcpy(out + n, buf, k);
            n += k;
            out[n] = '\0';
        }
    }
    int st = pclose(p);
    return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int at_python_has(const char *module) {
    char cmd[1024], out[4096];
    snprintf(cmd, sizeof cmd, "'%s' -c 'import %s'", at_python(), module);
    return at_run(cmd, out, sizeof out) == 0;
}

int at_convert(const char *args, char *out, size_t cap) {
    const char *src = getenv("FF_SOURCE_DIR");
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' '%s/tools/anomalib_to_fastflow.py' %s", at_python(), src ? src : ".", args);
    return at_run(cmd, out, cap);
}
