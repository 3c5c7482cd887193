/* select_study: one training run of the stopping-criteria study
 * (docs/results.md, "Choosing the epoch"). Trains FastFlow (resnet18,
 * 3x3-only, 8 steps, batch 32, lr 1e-3) on a data set's training images
 * minus the held-out ones `fastflow train --epochs auto` would hold out for
 * this seed, for --max-epochs epochs, and after every epoch writes one
 * JSON line with, for the trained parameters ("raw") and for their
 * exponential moving average over epochs ("ema"):
 *   - every stopping criterion (lib/select/criteria.h) on the selection set of
 *     --epochs auto (held-out normal images and synthetic anomalies), and the
 *     AUROC criteria on a handful of real labelled defects ("val": --val-count
 *     defect and as many good test images drawn by the seed, which then leave
 *     the test set of every column);
 *   - for the trained parameters, the test metrics (image AUROC, pixel AUROC, PRO at FPR 0.3) per group
 *     of defect types (--group NAME=type,type; "all" without any).
 * The EMA's test metrics are computed after training, and only at the
 * epochs an EMA rule can choose ({"ema_epoch": e, "test": ...} lines).
 * tools/study/select_table.py replays each selection rule on these lines
 * (chosen epoch, fixed epoch count, best epoch in hindsight), so one run per
 * (set, seed) gives every column of the table.
 *
 * usage: select_study --data DIR --weights W --seed S --max-epochs N [--ema D] [--val-count K]
 *                     [--group NAME=t1,t2]... [--threads T] --out FILE.jsonl */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fastflow/cli_util.h"
#include "../fastflow/select_run.h"
#include "../fastflow/synth_data.h"
#include "../fastflow/train_loop.h"
#include "eval/dataset.h"
#include "eval/mask.h"
#include "fastflow.h"
#include "flow/flow_internal.h"
#include "select/criteria.h"
#include "select/select_set.h"

static const char *const CMD = "select_study";
#define MAX_GROUPS 4

typedef struct {
    const char *name;
    char types[256];
} group;

typedef struct {
    size_t n;
    float *inputs, *maps, *scores;
    uint8_t *labels, *masks;
    int32_t *types;
} test_set;

static void die(const char *msg) {
    fprintf(stderr, "select_study: %s\n", msg);
    exit(1);
}

/* A selection set of the library's select layer (the one ff_selector
 * scores) from image files: labels NULL = held-out normal images with
 * synthetic anomalies drawn from seed; else labelled, masks when
 * mask_paths (entries may be NULL). Exits on an error. */
static void set_from_files(char *const *paths, const uint8_t *labels, char *const *mask_paths, size_t n,
                           int32_t side, int64_t seed, ff_sel_set *out) {
    ff_sel_set_init(out, side, side);
    for (size_t i = 0; i < n; i++) {
        uint8_t *px = NULL, *mask = NULL;
        int32_t w = 0, h = 0, mw = 0, mh = 0;
        const char *mp = labels && mask_paths ? mask_paths[i] : NULL;
        if (sel_load_pixels(CMD, paths[i], 0, &px, &w, &h) != 0) exit(1);
        if (mp && sel_load_pixels(CMD, mp, 1, &mask, &mw, &mh) != 0) exit(1);
        ff_status st = ff_sel_set_add(out, px, w, h, 0, FF_PIXEL_RGB8, labels ? labels[i] : 0, mask, mw, mh, 0);
        free(px);
        free(mask);
        if (st != FF_OK) die(ff_last_error_message());
    }
    if (!labels && ff_sel_set_add_synthetic(out, seed) != FF_OK) die(ff_last_error_message());
}

static bool in_group(const group *g, const char *type) {
    if (strcmp(type, "good") == 0 || strcmp(g->types, "*") == 0) return true;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", g->types);
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ","))
        if (strcmp(tok, type) == 0) return true;
    return false;
}

/* K good and K defect test images drawn by the seed (splitmix64). */
static void pick_val(const ff_dataset *ds, int64_t seed, size_t k, uint8_t *is_val) {
    uint64_t s = (uint64_t)seed ^ UINT64_C(0x7A1D7A1D7A1D7A1D);
    for (int label = 0; label <= 1; label++) {
        size_t want = k;
        size_t avail = label ? ds->num_defect : ds->num_good;
        if (want > avail / 2) want = avail / 2;
        while (want > 0) {
            size_t i = (size_t)(synth_splitmix64(&s) % ds->num_test);
            if (ds->test_labels[i] != label || is_val[i]) continue;
            is_val[i] = 1;
            want--;
        }
    }
}

static void score_tensor(ff_scorer *sc, const float *inputs, size_t n, size_t hw, float *maps, float *scores) {
    for (size_t i = 0; i < n; i += 8) {
        int32_t b = (int32_t)(n - i < 8 ? n - i : 8);
        if (ff_scorer_score_tensor(sc, inputs + i * 3 * hw, b, maps + i * hw, (size_t)b * hw, scores + i,
                                   (size_t)b) != FF_OK)
            die(ff_last_error_message());
    }
}

static void test_metrics(FILE *out, const ff_dataset *ds, const test_set *ts, size_t hw, int32_t side,
                         const group *groups, int ng) {
    fprintf(out, "\"test\":{");
    float *gm = malloc(ts->n * hw * sizeof(float)), *gs = malloc(ts->n * sizeof(float));
    uint8_t *gl = malloc(ts->n), *gk = malloc(ts->n * hw);
    if (!gm || !gs || !gl || !gk) die("out of memory");
    for (int g = 0; g < ng; g++) {
        size_t m = 0;
        for (size_t i = 0; i < ts->n; i++) {
            if (!in_group(&groups[g], ds->type_names[ts->types[i]])) continue;
            memcpy(gm + m * hw, ts->maps + i * hw, hw * sizeof(float));
            memcpy(gk + m * hw, ts->masks + i * hw, hw);
            gs[m] = ts->scores[i];
            gl[m] = ts->labels[i];
            m++;
        }
        double img = -1, pix = -1, pro = -1;
        ff_metric_auroc(gs, gl, m, &img);
        if (ds->has_masks) {
            ff_metric_auroc(gm, gk, (uint64_t)m * hw, &pix);
            ff_metric_pro(gm, gk, (int32_t)m, side, side, 0.3, &pro);
        }
        fprintf(out, "%s\"%s\":{\"n\":%zu,\"image_auroc\":%.6f,\"pixel_auroc\":%.6f,\"pro\":%.6f}", g ? "," : "",
                groups[g].name, m, img, pix, pro);
    }
    fprintf(out, "}");
    free(gm);
    free(gs);
    free(gl);
    free(gk);
}

static void criteria(FILE *out, const char *key, ff_sel_set *set, const ff_flow *flow, int anomalies_only,
                     double *values) {
    ff_sel_scored s;
    if (ff_sel_set_score(set, flow, &s) != FF_OK) die(ff_last_error_message());
    fprintf(out, "\"%s\":{", key);
    bool first = true;
    for (int32_t c = 0; c < FF_SEL_NUM_CRITERIA; c++) {
        if (anomalies_only && !ff_sel_needs_anomalies(c)) continue;
        double v = 0;
        values[c] = NAN;
        if (ff_sel_criterion_value(c, &s, &v) != 0) continue;
        values[c] = v;
        fprintf(out, "%s\"%s\":%.9g", first ? "" : ",", ff_select_criterion_name(c), v);
        first = false;
    }
    fprintf(out, "}");
}

static void test_eval(FILE *out, const ff_flow *flow, const ff_dataset *ds, test_set *ts, size_t hw, int32_t side,
                      const group *groups, int ng) {
    ff_scorer *sc = NULL;
    if (ff_scorer_create(flow, &sc) != FF_OK) die(ff_last_error_message());
    score_tensor(sc, ts->inputs, ts->n, hw, ts->maps, ts->scores);
    ff_scorer_destroy(sc);
    test_metrics(out, ds, ts, hw, side, groups, ng);
}

/* The criteria of `flow` on the synthetic and val sets; values[c] and
 * vvalues[c] receive them (NAN when a criterion does not apply). */
static void evaluate(FILE *out, const char *key, const ff_flow *flow, ff_sel_set *synth, ff_sel_set *val,
                     double *values, double *vvalues) {
    fprintf(out, "\"%s\":{", key);
    criteria(out, "synthetic", synth, flow, 0, values);
    if (val->n > 0) {
        fprintf(out, ",");
        criteria(out, "val", val, flow, 1, vvalues);
    }
}

int main(int argc, char **argv) {
    const char *data = NULL, *weights = NULL, *outp = NULL;
    int64_t seed = 0, threads = 0;
    int32_t max_epochs = 0, val_count = 5;
    float ema_decay = 0.6f;
    group groups[MAX_GROUPS];
    int ng = 0;
    bool bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        const char *g = NULL;
        if (cli_opt_str(argc, argv, &i, "--data", &data, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--weights", &weights, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--out", &outp, &bad)) continue;
        if (cli_opt_i64(argc, argv, &i, "--seed", 0, 1000000, &seed, &bad)) continue;
        if (cli_opt_i64(argc, argv, &i, "--threads", 0, 64, &threads, &bad)) continue;
        if (cli_opt_i32(argc, argv, &i, "--max-epochs", 1, 1000, &max_epochs, &bad)) continue;
        if (cli_opt_i32(argc, argv, &i, "--val-count", 0, 100, &val_count, &bad)) continue;
        if (cli_opt_f32(argc, argv, &i, "--ema", 0.0f, 0.999f, &ema_decay, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--group", &g, &bad)) {
            const char *eq = strchr(g, '=');
            if (!eq || ng == MAX_GROUPS) die("--group NAME=type,type (at most 4)");
            groups[ng].name = strndup(g, (size_t)(eq - g));
            snprintf(groups[ng].types, sizeof groups[ng].types, "%s", eq + 1);
            ng++;
            continue;
        }
        fprintf(stderr, "select_study: unknown option %s\n", argv[i]);
        bad = true;
    }
    if (bad || !data || !weights || !outp || !max_epochs) die("usage: see the comment at the top of select_study.c");
    if (ng == 0) groups[ng++] = (group){"all", "*"};
    if (threads > 0) ff_global_set_i64(FF_GLOBAL_NUM_THREADS, threads);

    ff_dataset *ds = NULL;
    if (ff_dataset_open(data, NULL, &ds) != FF_OK) die(ff_last_error_message());
    uint64_t held_idx[16], count = 0;
    char **held = malloc(ds->num_train * sizeof *held), **train = malloc(ds->num_train * sizeof *train);
    if (ff_select_held_out(ds->num_train, seed, held_idx, 16, &count) != FF_OK) die(ff_last_error_message());
    size_t nh = (size_t)count, nt = 0;
    for (size_t i = 0, h = 0; i < ds->num_train; i++) {
        if (h < nh && held_idx[h] == i) held[h++] = ds->train_paths[i];
        else train[nt++] = ds->train_paths[i];
    }
    ff_dataset train_set = *ds;
    train_set.train_paths = train;
    train_set.num_train = nt;

    train_args a;
    train_args_defaults(&a);
    a.arch = "resnet18";
    a.weights = weights;
    a.steps = 8;
    a.conv3x3_only = 1;
    a.seed = seed;
    a.epochs = 0; /* prepared only: this tool runs the epochs itself */
    ff_trainer *t = NULL;
    ff_flow *init = NULL;
    if (train_prepare(CMD, &a, &train_set, &init, &t) != 0) return 1;
    int32_t side = 0;
    ff_flow_get_i32(init, FF_FLOW_INPUT_HEIGHT, &side);
    size_t hw = (size_t)side * (size_t)side;

    ff_sel_set synth, val = {0};
    set_from_files(held, NULL, NULL, nh, side, seed, &synth);
    uint8_t *is_val = calloc(ds->num_test, 1);
    if (val_count > 0) pick_val(ds, seed, (size_t)val_count, is_val);
    size_t nv = 0;
    char **vp = malloc(ds->num_test * sizeof *vp), **vm = malloc(ds->num_test * sizeof *vm);
    uint8_t *vl = malloc(ds->num_test);
    test_set ts = {0};
    ts.inputs = malloc(ds->num_test * 3 * hw * sizeof(float));
    ts.maps = malloc(ds->num_test * hw * sizeof(float));
    ts.scores = malloc(ds->num_test * sizeof(float));
    ts.labels = malloc(ds->num_test);
    ts.masks = calloc(ds->num_test * hw, 1);
    ts.types = malloc(ds->num_test * sizeof(int32_t));
    if (!ts.inputs || !ts.maps || !ts.masks) die("out of memory for the test set");
    for (size_t i = 0; i < ds->num_test; i++) {
        if (is_val[i]) {
            vp[nv] = ds->test_paths[i];
            vm[nv] = ds->has_masks ? ds->test_mask_paths[i] : NULL;
            vl[nv++] = ds->test_labels[i];
            continue;
        }
        ff_sel_set one;
        char *p = ds->test_paths[i];
        char *mp = ds->has_masks ? ds->test_mask_paths[i] : NULL;
        set_from_files(&p, &ds->test_labels[i], ds->has_masks ? &mp : NULL, 1, side, seed, &one);
        memcpy(ts.inputs + ts.n * 3 * hw, one.inputs, 3 * hw * sizeof(float));
        if (one.masks) memcpy(ts.masks + ts.n * hw, one.masks, hw);
        ts.labels[ts.n] = ds->test_labels[i];
        ts.types[ts.n] = ds->test_types[i];
        ts.n++;
        ff_sel_set_free(&one);
    }
    if (nv > 0) set_from_files(vp, vl, ds->has_masks ? vm : NULL, nv, side, seed, &val);

    FILE *out = fopen(outp, "w");
    if (!out) die("cannot open --out");
    fprintf(out, "{\"data\":\"%s\",\"seed\":%lld,\"train\":%zu,\"held_out\":%zu,\"synthetic\":%d,\"val\":%zu,"
            "\"test\":%zu,\"ema\":%g,\"max_epochs\":%d}\n",
            ds->root, (long long)seed, nt, nh, synth.n - (int32_t)nh, nv, ts.n, (double)ema_decay, (int)max_epochs);
    fflush(out);
    size_t np = init->layout.num_params;
    /* EMA parameters of every epoch: their test metrics are computed after
     * training, only at the epochs an EMA rule can choose (see below) */
    float **ema = calloc((size_t)max_epochs + 1, sizeof *ema);
    double (*ev)[FF_SEL_NUM_CRITERIA] = calloc((size_t)max_epochs + 1, sizeof *ev);
    double (*evv)[FF_SEL_NUM_CRITERIA] = calloc((size_t)max_epochs + 1, sizeof *evv);
    double raw_v[FF_SEL_NUM_CRITERIA], raw_vv[FF_SEL_NUM_CRITERIA];
    for (int32_t e = 1; e <= max_epochs; e++) {
        double t0 = cli_now_seconds();
        float loss = 0;
        if (ff_trainer_run_epoch(t, &loss) != FF_OK) die(ff_last_error_message());
        double train_s = cli_now_seconds() - t0;
        ff_flow *raw = NULL, *avg = NULL;
        if (ff_trainer_snapshot(t, &raw) != FF_OK || ff_trainer_snapshot(t, &avg) != FF_OK)
            die(ff_last_error_message());
        ema[e] = malloc(np * sizeof(float));
        if (!ema[e]) die("out of memory");
        for (size_t k = 0; k < np; k++)
            ema[e][k] = e == 1 ? raw->params[k] : ema_decay * ema[e - 1][k] + (1.0f - ema_decay) * raw->params[k];
        memcpy(avg->params, ema[e], np * sizeof(float));
        fprintf(out, "{\"epoch\":%d,\"loss\":%.7g,\"train_s\":%.3f,", (int)e, (double)loss, train_s);
        t0 = cli_now_seconds();
        evaluate(out, "raw", raw, &synth, &val, raw_v, raw_vv);
        double sel_s = cli_now_seconds() - t0;
        fprintf(out, ",");
        test_eval(out, raw, ds, &ts, hw, side, groups, ng);
        fprintf(out, "},\"select_s\":%.3f,", sel_s);
        evaluate(out, "ema", avg, &synth, &val, ev[e], evv[e]);
        fprintf(out, "}}\n");
        fflush(out);
        ff_flow_destroy(raw);
        ff_flow_destroy(avg);
        fprintf(stderr, "%s seed %lld epoch %d done\n", ds->root, (long long)seed, (int)e);
    }
    /* EMA test metrics at the epochs some rule can pick: every criterion
     * (synthetic and val) with patience 1-4 and none, and the fixed counts
     * 5, 10 and max */
    uint8_t *want = calloc((size_t)max_epochs + 1, 1);
    want[max_epochs] = 1;
    if (max_epochs >= 10) want[10] = 1;
    if (max_epochs >= 5) want[5] = 1;
    for (int which = 0; which < 2; which++)
        for (int32_t c = 0; c < FF_SEL_NUM_CRITERIA; c++)
            for (int32_t p = 1; p <= 5; p++) {
                ff_sel_tracker tr;
                ff_sel_tracker_init(&tr, ff_sel_higher_is_better(c), p == 5 ? max_epochs : p);
                for (int32_t e = 1; e <= max_epochs; e++) {
                    double v = which ? evv[e][c] : ev[e][c];
                    if (isnan(v)) break;
                    ff_sel_tracker_update(&tr, e, v);
                    if (ff_sel_tracker_should_stop(&tr)) break;
                }
                if (tr.best_epoch > 0) want[tr.best_epoch] = 1;
            }
    ff_flow *avg = NULL;
    if (ff_trainer_snapshot(t, &avg) != FF_OK) die(ff_last_error_message());
    for (int32_t e = 1; e <= max_epochs; e++) {
        if (!want[e]) continue;
        memcpy(avg->params, ema[e], np * sizeof(float));
        fprintf(out, "{\"ema_epoch\":%d,", (int)e);
        test_eval(out, avg, ds, &ts, hw, side, groups, ng);
        fprintf(out, "}\n");
        fflush(out);
    }
    ff_flow_destroy(avg);
    fclose(out);
    return 0;
}
