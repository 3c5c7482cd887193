#include "calibrate.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli_util.h"
#include "eval/mask.h"
#include "progress.h"

int calib_split(const char *cmd, const ff_dataset *ds, float fraction, char ***train, size_t *n_train,
                char ***held, size_t *n_held) {
    size_t n = ds->num_train;
    char **t = malloc((n ? n : 1) * sizeof *t), **h = malloc((n ? n : 1) * sizeof *h);
    if (!t || !h) {
        free(t);
        free(h);
        fprintf(stderr, "fastflow %s: out of memory\n", cmd);
        return 1;
    }
    size_t nt = 0, nh = 0;
    for (size_t i = 0; i < n; i++) {
        bool out = floor((double)(i + 1) * fraction) > floor((double)i * fraction);
        if (out) h[nh++] = ds->train_paths[i];
        else t[nt++] = ds->train_paths[i];
    }
    if (nh == 0 || nt == 0) {
        fprintf(stderr, "fastflow %s: --val-fraction %g of %zu training images leaves %zu to train on and %zu to "
                "hold out; both need at least one\n", cmd, (double)fraction, n, nt, nh);
        free(t);
        free(h);
        return 1;
    }
    *train = t;
    *n_train = nt;
    *held = h;
    *n_held = nh;
    return 0;
}

/* Decodes and scores every image; loads masks of a labelled set. */
static int score_set(const char *cmd, ff_scorer *sc, const calib_set *set, size_t hw, int32_t mh, int32_t mw,
                     float *maps, float *scores, uint8_t *masks) {
    cli_progress p;
    progress_begin(&p, "scoring validation images", set->n);
    for (size_t i = 0; i < set->n; i++) {
        ff_status st = ff_scorer_score_file(sc, set->paths[i], maps + i * hw, hw, &scores[i]);
        if (st != FF_OK) {
            progress_end(&p);
            return cli_fail(cmd, set->paths[i], st);
        }
        if (masks && set->mask_paths && set->mask_paths[i] &&
            (st = ff_mask_load(set->mask_paths[i], mw, mh, masks + i * hw)) != FF_OK) {
            progress_end(&p);
            return cli_fail(cmd, set->mask_paths[i], st);
        }
        progress_update(&p, i + 1, NULL);
    }
    progress_end(&p);
    return 0;
}

int calib_run(const char *cmd, const ff_flow *flow, const calib_set *set, ff_flow **out) {
    ff_scorer *sc = NULL;
    int32_t mh = 0, mw = 0;
    ff_status st = ff_scorer_create(flow, &sc);
    if (st == FF_OK) st = ff_scorer_map_shape(sc, &mw, &mh);
    if (st != FF_OK) {
        ff_scorer_destroy(sc);
        return cli_fail(cmd, "creating the scorer", st);
    }
    size_t hw = (size_t)mh * (size_t)mw;
    float *maps = malloc(set->n * hw * sizeof(float)), *scores = malloc(set->n * sizeof(float));
    bool with_masks = set->labels != NULL && set->mask_paths != NULL;
    uint8_t *masks = with_masks ? calloc(set->n * hw, 1) : NULL;
    int rc = 1;
    if (!maps || !scores || (with_masks && !masks)) {
        fprintf(stderr, "fastflow %s: out of memory for %zu validation maps\n", cmd, set->n);
        goto done;
    }
    if (score_set(cmd, sc, set, hw, mh, mw, maps, scores, masks) != 0) goto done;
    float it = 0, pt = 0, lo = 0, hi = 0;
    st = ff_score_statistics(maps, scores, set->labels, masks, (int32_t)set->n, mw, mh, &it, &pt, &lo, &hi);
    if (st == FF_OK) st = ff_flow_with_statistics(flow, it, pt, lo, hi, set->source, out);
    if (st != FF_OK) {
        rc = cli_fail(cmd, "computing score statistics", st);
        goto done;
    }
    printf("score statistics (%s, %zu images): image threshold %.9g, pixel threshold %.9g, min %.9g, max %.9g\n",
           set->source, set->n, (double)it, (double)pt, (double)lo, (double)hi);
    rc = 0;
done:
    free(maps);
    free(scores);
    free(masks);
    ff_scorer_destroy(sc);
    return rc;
}
