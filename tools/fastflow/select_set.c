#include "select_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "eval/mask.h"
#include "select_synth.h"
#include "synth_data.h"

size_t sel_split_indices(size_t n, int64_t seed, size_t *held) {
    if (n < 3) return 0;
    size_t k = (n + 5) / 10;
    if (k < 2) k = 2;
    if (k > 16) k = 16;
    if (k > n - 1) k = n - 1;
    size_t *idx = malloc(n * sizeof *idx);
    if (idx == NULL) return 0;
    for (size_t i = 0; i < n; i++) idx[i] = i;
    uint64_t s = (uint64_t)seed ^ UINT64_C(0x5E1EC7105E1EC710);
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)(synth_splitmix64(&s) % (uint64_t)(i + 1));
        size_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
    /* the first k of the shuffle, sorted (insertion sort: k <= 16) */
    for (size_t i = 0; i < k; i++) {
        size_t v = idx[i], j = i;
        while (j > 0 && held[j - 1] > v) {
            held[j] = held[j - 1];
            j--;
        }
        held[j] = v;
    }
    free(idx);
    return k;
}

static int alloc_set(const char *cmd, int32_t n, int32_t width, int32_t height, int with_masks, sel_set *s) {
    memset(s, 0, sizeof *s);
    s->n = n;
    s->width = width;
    s->height = height;
    s->hw = (size_t)width * (size_t)height;
    s->inputs = malloc((size_t)n * 3 * s->hw * sizeof(float));
    s->labels = calloc((size_t)n, 1);
    s->maps = malloc((size_t)n * s->hw * sizeof(float));
    s->scores = malloc((size_t)n * sizeof(float));
    if (with_masks) s->masks = calloc((size_t)n * s->hw, 1);
    if (!s->inputs || !s->labels || !s->maps || !s->scores || (with_masks && !s->masks)) {
        sel_set_free(s);
        fprintf(stderr, "fastflow %s: out of memory for %d selection images\n", cmd, (int)n);
        return 1;
    }
    return 0;
}

/* Decodes `path` and pre-processes it into input (3 * hw floats). */
static int load_input(const char *cmd, const char *path, int32_t width, int32_t height, float *input) {
    int32_t w = 0, h = 0;
    ff_status st = ff_image_probe_file(path, NULL, &w, &h);
    uint8_t *px = NULL;
    if (st == FF_OK) {
        px = malloc((size_t)w * (size_t)h * 3);
        if (px == NULL) {
            fprintf(stderr, "fastflow %s: %s: out of memory\n", cmd, path);
            return 1;
        }
        st = ff_image_decode_file(path, FF_PIXEL_RGB8, px, (size_t)w * (size_t)h * 3, 0);
    }
    if (st == FF_OK)
        st = ff_image_preprocess(px, w, h, 0, FF_PIXEL_RGB8, width, height, input, 3 * (size_t)width * height);
    free(px);
    return st == FF_OK ? 0 : cli_fail(cmd, path, st);
}

int sel_set_synthetic(const char *cmd, char *const *paths, size_t n, int32_t width, int32_t height, int64_t seed,
                      sel_set *out) {
    sel_set s;
    int32_t total = (int32_t)(n * (1 + SEL_SYNTH_PER_IMAGE));
    if (alloc_set(cmd, total, width, height, 1, &s) != 0) return 1;
    size_t img = 3 * s.hw;
    for (size_t i = 0; i < n; i++)
        if (load_input(cmd, paths[i], width, height, s.inputs + i * img) != 0) {
            sel_set_free(&s);
            return 1;
        }
    /* anomalous copies after the normal images; CutPaste takes its patch
     * from the next held-out image */
    uint64_t base = (uint64_t)seed ^ UINT64_C(0xA5A5F00DCAFE1234);
    for (size_t i = 0; i < n; i++)
        for (int32_t k = 0; k < SEL_SYNTH_PER_IMAGE; k++) {
            size_t j = n + i * SEL_SYNTH_PER_IMAGE + (size_t)k;
            int32_t kind = (int32_t)((i * SEL_SYNTH_PER_IMAGE + (size_t)k) % SEL_SYNTH_NUM_KINDS);
            uint64_t st = base + j;
            uint64_t stream = synth_splitmix64(&st);
            float *dst = s.inputs + j * img;
            memcpy(dst, s.inputs + i * img, img * sizeof(float));
            sel_synth_paste(kind, stream, dst, s.inputs + ((i + 1) % n) * img, width, height, s.masks + j * s.hw);
            s.labels[j] = 1;
        }
    *out = s;
    return 0;
}

int sel_set_labelled(const char *cmd, char *const *paths, const uint8_t *labels, char *const *mask_paths, size_t n,
                     int32_t width, int32_t height, sel_set *out) {
    sel_set s;
    if (alloc_set(cmd, (int32_t)n, width, height, mask_paths != NULL, &s) != 0) return 1;
    for (size_t i = 0; i < n; i++) {
        if (load_input(cmd, paths[i], width, height, s.inputs + i * 3 * s.hw) != 0) goto fail;
        s.labels[i] = labels[i];
        if (mask_paths && mask_paths[i]) {
            ff_status st = ff_mask_load(mask_paths[i], width, height, s.masks + i * s.hw);
            if (st != FF_OK) {
                cli_fail(cmd, mask_paths[i], st);
                goto fail;
            }
        }
    }
    *out = s;
    return 0;
fail:
    sel_set_free(&s);
    return 1;
}

int sel_set_score(const char *cmd, sel_set *set, const ff_flow *flow, sel_scored *s) {
    ff_scorer *sc = NULL;
    ff_status st = ff_scorer_create(flow, &sc);
    if (st == FF_OK)
        st = ff_scorer_score_tensor(sc, set->inputs, set->n, set->maps, (size_t)set->n * set->hw, set->scores,
                                    (size_t)set->n);
    ff_scorer_destroy(sc);
    if (st != FF_OK) return cli_fail(cmd, "scoring the selection images", st);
    *s = (sel_scored){set->n, set->hw, set->maps, set->scores, set->labels, set->masks};
    return 0;
}

void sel_set_free(sel_set *set) {
    if (set == NULL) return;
    free(set->inputs);
    free(set->labels);
    free(set->masks);
    free(set->maps);
    free(set->scores);
    memset(set, 0, sizeof *set);
}
