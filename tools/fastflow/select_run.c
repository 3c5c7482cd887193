#include "select_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "select/select_set.h"
#include "train_loop.h"

int sel_run_init(sel_run *r, const char *cmd, int32_t criterion, int32_t max_epochs, int32_t patience,
                 const sel_source *src) {
    memset(r, 0, sizeof *r);
    r->cmd = cmd;
    r->criterion = criterion;
    r->max_epochs = max_epochs;
    r->patience = patience;
    r->src = *src;
    /* the words of the selector's record (ff_sel_describe), for the log
     * line that announces the run before the selector exists */
    size_t bad = 0;
    for (size_t i = 0; src->labels && i < src->n; i++) bad += src->labels[i] != 0;
    ff_sel_describe(src->labels != NULL, src->n, bad, r->set_desc, sizeof r->set_desc);
    return 0;
}

int sel_load_pixels(const char *cmd, const char *path, int gray, uint8_t **pixels, int32_t *width, int32_t *height) {
    int32_t w = 0, h = 0;
    int32_t ch = gray ? 1 : 3;
    ff_status st = ff_image_probe_file(path, NULL, &w, &h);
    uint8_t *px = NULL;
    if (st == FF_OK) {
        px = malloc((size_t)w * (size_t)h * (size_t)ch);
        if (px == NULL) {
            fprintf(stderr, "fastflow %s: %s: out of memory\n", cmd, path);
            return 1;
        }
        st = ff_image_decode_file(path, gray ? FF_PIXEL_GRAY8 : FF_PIXEL_RGB8, px, (size_t)w * (size_t)h * (size_t)ch,
                                  0);
    }
    if (st != FF_OK) {
        free(px);
        return cli_fail(cmd, path, st);
    }
    *pixels = px;
    *width = w;
    *height = h;
    return 0;
}

/* Decodes the source's images (and masks) into the new selector. */
static int add_images(sel_run *r) {
    for (size_t i = 0; i < r->src.n; i++) {
        uint8_t *px = NULL, *mask = NULL;
        int32_t w = 0, h = 0, mw = 0, mh = 0;
        const char *mpath = r->src.labels && r->src.mask_paths ? r->src.mask_paths[i] : NULL;
        if (sel_load_pixels(r->cmd, r->src.paths[i], 0, &px, &w, &h) != 0) return 1;
        if (mpath && sel_load_pixels(r->cmd, mpath, 1, &mask, &mw, &mh) != 0) {
            free(px);
            return 1;
        }
        ff_status st = r->src.labels ? ff_selector_add_labelled_image(r->sel, px, w, h, 0, FF_PIXEL_RGB8,
                                                                      r->src.labels[i] != 0, mask, mw, mh, 0)
                                     : ff_selector_add_normal_image(r->sel, px, w, h, 0, FF_PIXEL_RGB8);
        free(px);
        free(mask);
        if (st != FF_OK) return cli_fail(r->cmd, r->src.paths[i], st);
    }
    return 0;
}

static int create_selector(sel_run *r, const ff_trainer *t) {
    /* a snapshot for the input size: the selector reads nothing else of it */
    ff_flow *now = NULL;
    ff_status st = ff_trainer_snapshot(t, &now);
    if (st != FF_OK) return cli_fail(r->cmd, "taking the epoch's flow", st);
    st = ff_selector_create(now, r->criterion, r->max_epochs, r->patience, r->src.seed, &r->sel);
    ff_flow_destroy(now);
    if (st != FF_OK) return cli_fail(r->cmd, "creating the selector", st);
    return add_images(r);
}

int sel_run_epoch(sel_run *r, const ff_trainer *t, int32_t epoch, bool *stop) {
    double t0 = cli_now_seconds();
    if (r->sel == NULL && create_selector(r, t) != 0) return 1;
    double v = 0.0;
    int32_t improved = 0;
    /* the selector's stop also counts max_epochs; the loop ends there itself */
    ff_status st = ff_selector_update(r->sel, t, &v, &improved, NULL);
    if (st == FF_E_STATE) {
        /* "the criterion ... cannot be computed on the selection set (...)" */
        fprintf(stderr, "fastflow %s: %s\n", r->cmd, ff_last_error_message());
        return 1;
    }
    if (st != FF_OK) return cli_fail(r->cmd, "scoring the selection images", st);
    r->epochs_run = epoch;
    if (improved) {
        r->best_epoch = epoch;
        r->best = v;
    }
    r->seconds += cli_now_seconds() - t0;
    *stop = epoch - r->best_epoch >= r->patience;
    printf("epoch %d %s %.6f (best epoch %d: %.6f)%s\n", (int)epoch, ff_select_criterion_name(r->criterion), v,
           (int)r->best_epoch, r->best, *stop ? "; stopping: no improvement for the patience" : "");
    fflush(stdout);
    return 0;
}

int sel_run_finish(sel_run *r, ff_flow **out) {
    if (r->sel == NULL) {
        fprintf(stderr, "fastflow %s: no epoch was scored\n", r->cmd);
        return 1;
    }
    ff_flow *f = NULL;
    ff_status st = ff_selector_best(r->sel, &f, NULL);
    if (st != FF_OK) return cli_fail(r->cmd, "recording the selection", st);
    size_t len = 0;
    ff_flow_get_training_record(f, NULL, 0, &len);
    char *rec = malloc(len + 1);
    if (rec == NULL || ff_flow_get_training_record(f, rec, len + 1, NULL) != FF_OK) {
        free(rec);
        ff_flow_destroy(f);
        fprintf(stderr, "fastflow %s: cannot format the training record\n", r->cmd);
        return 1;
    }
    printf("chose epoch %d of %d by %s on %s (%.1f s spent scoring it)\ntraining record: %s\n", (int)r->best_epoch,
           (int)r->epochs_run, ff_select_criterion_name(r->criterion), r->set_desc, r->seconds, rec);
    free(rec);
    *out = f;
    return 0;
}

void sel_run_free(sel_run *r) {
    ff_selector_destroy(r->sel);
    memset(r, 0, sizeof *r);
}
