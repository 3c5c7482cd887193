#include "select_run.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "train_loop.h"

int sel_run_init(sel_run *r, const char *cmd, int32_t criterion, int32_t max_epochs, int32_t patience,
                 const sel_source *src) {
    memset(r, 0, sizeof *r);
    r->cmd = cmd;
    r->criterion = criterion;
    r->max_epochs = max_epochs;
    r->src = *src;
    size_t bad = 0;
    for (size_t i = 0; src->labels && i < src->n; i++) bad += src->labels[i] != 0;
    if (src->labels)
        snprintf(r->set_desc, sizeof r->set_desc, "%zu labelled images (%zu good, %zu defect)", src->n, src->n - bad,
                 bad);
    else
        snprintf(r->set_desc, sizeof r->set_desc, "%zu held-out normal training images + %zu synthetic anomalies",
                 src->n, src->n * SEL_SYNTH_PER_IMAGE);
    sel_tracker_init(&r->tracker, sel_higher_is_better(criterion), patience);
    r->curve = calloc((size_t)max_epochs, sizeof *r->curve);
    if (r->curve == NULL) {
        fprintf(stderr, "fastflow %s: out of memory\n", cmd);
        return 1;
    }
    return 0;
}

static int build_set(sel_run *r, const ff_flow *flow) {
    int32_t w = 0, h = 0;
    ff_flow_get_i32(flow, FF_FLOW_INPUT_WIDTH, &w);
    ff_flow_get_i32(flow, FF_FLOW_INPUT_HEIGHT, &h);
    if (r->src.labels)
        return sel_set_labelled(r->cmd, r->src.paths, r->src.labels, r->src.mask_paths, r->src.n, w, h, &r->set);
    return sel_set_synthetic(r->cmd, r->src.paths, r->src.n, w, h, r->src.seed, &r->set);
}

int sel_run_epoch(sel_run *r, const ff_trainer *t, int32_t epoch, bool *stop) {
    double t0 = cli_now_seconds();
    ff_flow *now = NULL;
    ff_trainer_get_f32(t, FF_TRAINER_EMA_DECAY, &r->ema_decay);
    /* the moving average when the trainer keeps one: the study's "ema" rules */
    ff_status st = ff_trainer_snapshot(t, &now);
    if (st != FF_OK) return cli_fail(r->cmd, "taking the epoch's flow", st);
    if (r->set.n == 0 && build_set(r, now) != 0) {
        ff_flow_destroy(now);
        return 1;
    }
    sel_scored s;
    double v = 0.0;
    if (sel_set_score(r->cmd, &r->set, now, &s) != 0) {
        ff_flow_destroy(now);
        return 1;
    }
    if (sel_criterion_value(r->criterion, &s, &v) != 0) {
        ff_flow_destroy(now);
        fprintf(stderr, "fastflow %s: the criterion %s cannot be computed on the selection set (%s)\n", r->cmd,
                sel_criterion_name(r->criterion), r->set_desc);
        return 1;
    }
    r->curve[epoch - 1] = v;
    r->epochs_run = epoch;
    if (sel_tracker_update(&r->tracker, epoch, v)) {
        ff_flow_destroy(r->best);
        r->best = now;
    } else {
        ff_flow_destroy(now);
    }
    r->seconds += cli_now_seconds() - t0;
    *stop = sel_tracker_should_stop(&r->tracker);
    printf("epoch %d %s %.6f (best epoch %d: %.6f)%s\n", (int)epoch, sel_criterion_name(r->criterion), v,
           (int)r->tracker.best_epoch, r->tracker.best,
           *stop ? "; stopping: no improvement for the patience" : "");
    fflush(stdout);
    return 0;
}

int sel_run_record(const sel_run *r, char *buf, size_t cap) {
    /* "ema_decay" only with the average on: records without it stay as before */
    char ema[64] = "", d[32];
    if (r->ema_decay > 0.0f)
        snprintf(ema, sizeof ema, "\"ema_decay\":%s,", cli_float_text(r->ema_decay, d, sizeof d));
    size_t n = 0;
    int k = snprintf(buf, cap,
                     "{\"method\":\"epochs-auto\",\"criterion\":\"%s\",\"higher_is_better\":%s,"
                     "\"selection_set\":\"%s\",\"max_epochs\":%d,\"patience\":%d,%s\"epochs_run\":%d,"
                     "\"chosen_epoch\":%d,\"curve\":[",
                     sel_criterion_name(r->criterion), r->tracker.higher_better ? "true" : "false", r->set_desc,
                     (int)r->max_epochs, (int)r->tracker.patience, ema, (int)r->epochs_run,
                     (int)r->tracker.best_epoch);
    if (k < 0 || (size_t)k >= cap) return -1;
    n = (size_t)k;
    for (int32_t e = 0; e < r->epochs_run; e++) {
        k = snprintf(buf + n, cap - n, "%s%.9g", e ? "," : "", r->curve[e]);
        if (k < 0 || (size_t)k >= cap - n) return -1;
        n += (size_t)k;
    }
    k = snprintf(buf + n, cap - n, "]}");
    return k < 0 || (size_t)k >= cap - n ? -1 : 0;
}

int sel_run_finish(sel_run *r, ff_flow **out) {
    if (r->best == NULL) {
        fprintf(stderr, "fastflow %s: no epoch was scored\n", r->cmd);
        return 1;
    }
    size_t cap = 512 + 32 * (size_t)r->max_epochs;
    char *rec = malloc(cap);
    if (rec == NULL || sel_run_record(r, rec, cap) != 0) {
        free(rec);
        fprintf(stderr, "fastflow %s: cannot format the training record\n", r->cmd);
        return 1;
    }
    ff_status st = ff_flow_with_training_record(r->best, rec, out);
    if (st == FF_OK)
        printf("chose epoch %d of %d by %s on %s (%.1f s spent scoring it)\ntraining record: %s\n",
               (int)r->tracker.best_epoch, (int)r->epochs_run, sel_criterion_name(r->criterion), r->set_desc,
               r->seconds, rec);
    free(rec);
    return st == FF_OK ? 0 : cli_fail(r->cmd, "recording the selection", st);
}

void sel_run_free(sel_run *r) {
    ff_flow_destroy(r->best);
    sel_set_free(&r->set);
    free(r->curve);
    memset(r, 0, sizeof *r);
}
