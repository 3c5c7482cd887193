#include "select/select_set.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/rng.h"
#include "image/resample.h"
#include "select/synth.h"

void ff_sel_describe(int labelled, size_t n, size_t n_defect, char *buf, size_t cap) {
    if (labelled)
        snprintf(buf, cap, "%zu labelled images (%zu good, %zu defect)", n, n - n_defect, n_defect);
    else
        snprintf(buf, cap, "%zu held-out normal training images + %zu synthetic anomalies", n,
                 n * FF_SEL_SYNTH_PER_IMAGE);
}

size_t ff_sel_split_indices(size_t n, int64_t seed, size_t *held) {
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
        size_t j = (size_t)(ff_splitmix64(&s) % (uint64_t)(i + 1));
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

void ff_sel_set_init(ff_sel_set *s, int32_t width, int32_t height) {
    memset(s, 0, sizeof *s);
    s->width = width;
    s->height = height;
    s->hw = (size_t)width * (size_t)height;
}

/* Room for `need` images (and masks when with_masks); the set is unchanged on failure. */
static ff_status reserve(ff_sel_set *s, int32_t need, int with_masks) {
    if (need <= s->cap && (!with_masks || s->masks)) return FF_OK;
    int32_t cap = s->cap;
    if (need > cap) cap = need > 2 * cap ? need : 2 * cap;
    float *in = s->inputs;
    uint8_t *lab = s->labels, *masks = s->masks;
    if (cap > s->cap) {
        if (!(in = realloc(s->inputs, (size_t)cap * 3 * s->hw * sizeof(float)))) goto oom;
        s->inputs = in;
        if (!(lab = realloc(s->labels, (size_t)cap))) goto oom;
        s->labels = lab;
        if (s->masks) {
            if (!(masks = realloc(s->masks, (size_t)cap * s->hw))) goto oom;
            s->masks = masks;
        }
    }
    if (with_masks && !s->masks) {
        /* images before the first mask are all normal pixels */
        if (!(masks = calloc((size_t)cap, s->hw))) goto oom;
        s->masks = masks;
    }
    s->cap = cap; /* every array above has room for cap images now */
    return FF_OK;
oom:
    /* the arrays that grew keep their content; cap stays the smallest room */
    return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory for %d selection images", (int)need);
}

ff_status ff_sel_set_add(ff_sel_set *s, const uint8_t *pixels, int32_t width, int32_t height, size_t row_stride,
                         int32_t pixel_format, uint8_t label, const uint8_t *mask, int32_t mask_width,
                         int32_t mask_height, size_t mask_row_stride) {
    FF_TRY(reserve(s, s->n + 1, mask != NULL));
    size_t img = 3 * s->hw;
    FF_TRY(ff_image_preprocess(pixels, width, height, row_stride, pixel_format, s->width, s->height,
                               s->inputs + (size_t)s->n * img, img));
    if (s->masks) {
        uint8_t *m = s->masks + (size_t)s->n * s->hw;
        if (mask)
            ff_mask_resize_nearest(mask, mask_height, mask_width, mask_row_stride ? mask_row_stride : (size_t)mask_width,
                                   s->height, s->width, m);
        else
            memset(m, 0, s->hw);
    }
    s->labels[s->n++] = label;
    return FF_OK;
}

ff_status ff_sel_set_add_synthetic(ff_sel_set *s, int64_t seed) {
    int32_t n = s->n;
    FF_TRY(reserve(s, n * (1 + FF_SEL_SYNTH_PER_IMAGE), 1));
    size_t img = 3 * s->hw;
    /* anomalous copies after the normal images; CutPaste takes its patch
     * from the next held-out image */
    uint64_t base = (uint64_t)seed ^ UINT64_C(0xA5A5F00DCAFE1234);
    for (size_t i = 0; i < (size_t)n; i++)
        for (int32_t k = 0; k < FF_SEL_SYNTH_PER_IMAGE; k++) {
            size_t j = (size_t)n + i * FF_SEL_SYNTH_PER_IMAGE + (size_t)k;
            int32_t kind = (int32_t)((i * FF_SEL_SYNTH_PER_IMAGE + (size_t)k) % FF_SEL_SYNTH_NUM_KINDS);
            uint64_t st = base + j;
            uint64_t stream = ff_splitmix64(&st);
            float *dst = s->inputs + j * img;
            memcpy(dst, s->inputs + i * img, img * sizeof(float));
            if (ff_sel_synth_paste(kind, stream, dst, s->inputs + ((i + 1) % (size_t)n) * img, s->width, s->height,
                                   s->masks + j * s->hw) != 0)
                return ff_fail(FF_E_INVALID_ARGUMENT, "synthetic anomalies need a model input of 16x16 to 4096x4096");
            s->labels[j] = 1;
        }
    s->n = n * (1 + FF_SEL_SYNTH_PER_IMAGE);
    return FF_OK;
}

ff_status ff_sel_set_score(ff_sel_set *s, const ff_flow *flow, ff_sel_scored *out) {
    if (s->scored_n < s->n) {
        float *maps = malloc((size_t)s->n * s->hw * sizeof(float)), *scores = malloc((size_t)s->n * sizeof(float));
        if (!maps || !scores) {
            free(maps);
            free(scores);
            return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory for the maps of %d selection images", (int)s->n);
        }
        free(s->maps);
        free(s->scores);
        s->maps = maps;
        s->scores = scores;
        s->scored_n = s->n;
    }
    ff_scorer *sc = NULL;
    ff_status st = ff_scorer_create(flow, &sc);
    if (st == FF_OK)
        st = ff_scorer_score_tensor(sc, s->inputs, s->n, s->maps, (size_t)s->n * s->hw, s->scores, (size_t)s->n);
    ff_scorer_destroy(sc);
    if (st != FF_OK) return ff_fail_context(st, "scoring the selection images");
    *out = (ff_sel_scored){s->n, s->hw, s->maps, s->scores, s->labels, s->masks};
    return FF_OK;
}

void ff_sel_set_free(ff_sel_set *s) {
    if (s == NULL) return;
    free(s->inputs);
    free(s->labels);
    free(s->masks);
    free(s->maps);
    free(s->scores);
    memset(s, 0, sizeof *s);
}
