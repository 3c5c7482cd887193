#include "eval_run.h"

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli_paths.h"
#include "cli_util.h"
#include "eval/mask.h"
#include "heatmap_png.h"
#include "progress.h"
#include "tensor/safetensors.h"
#include "train_loop.h"

typedef struct {
    size_t n, hw;
    float *scores, *maps;
    uint8_t *labels, *masks; /* masks: n * hw of 0/1, zeros for good images */
} scored_set;

static void scored_free(scored_set *s) {
    free(s->scores);
    free(s->maps);
    free(s->labels);
    free(s->masks);
}

static int score_all(const char *cmd, const ff_flow *flow, const ff_dataset *ds, int32_t precision, int32_t *mh,
                     int32_t *mw, scored_set *s) {
    ff_scorer *sc = NULL;
    uint8_t *pixels = NULL;
    size_t cap = 0;
    int rc = 1;
    cli_progress p;
    ff_status st = ff_scorer_create(flow, &sc);
    if (st == FF_OK) st = ff_scorer_set_i32(sc, FF_SCORER_PRECISION, precision);
    if (st == FF_OK) st = ff_scorer_map_shape(sc, mw, mh);
    if (st != FF_OK) return cli_fail(cmd, "creating the scorer", st);
    s->n = ds->num_test;
    s->hw = (size_t)*mh * (size_t)*mw;
    s->scores = malloc(s->n * sizeof(float));
    s->maps = malloc(s->n * s->hw * sizeof(float));
    s->labels = malloc(s->n);
    s->masks = calloc(s->n * s->hw, 1);
    if (!s->scores || !s->maps || !s->labels || !s->masks) {
        fprintf(stderr, "fastflow %s: out of memory for %zu maps of %dx%d\n", cmd, s->n, (int)*mw, (int)*mh);
        goto done;
    }
    progress_begin(&p, "scoring", s->n);
    for (size_t i = 0; i < s->n; i++) {
        const char *path = ds->test_paths[i];
        int32_t w = 0, h = 0;
        if ((st = cli_decode_rgb(path, &pixels, &cap, &w, &h)) != FF_OK ||
            (st = ff_scorer_score_image(sc, pixels, w, h, 0, FF_PIXEL_RGB8, s->maps + i * s->hw, s->hw,
                                        &s->scores[i])) != FF_OK) {
            progress_end(&p);
            rc = cli_fail(cmd, path, st);
            goto done;
        }
        s->labels[i] = ds->test_labels[i] ? 1 : 0;
        if (ds->has_masks && ds->test_mask_paths[i] &&
            (st = ff_mask_load(ds->test_mask_paths[i], *mw, *mh, s->masks + i * s->hw)) != FF_OK) {
            progress_end(&p);
            rc = cli_fail(cmd, ds->test_mask_paths[i], st);
            goto done;
        }
        progress_update(&p, i + 1, NULL);
    }
    progress_end(&p);
    rc = 0;
done:
    free(pixels);
    ff_scorer_destroy(sc);
    return rc;
}

/* A metric that needs both classes; NaN (with a warning) when the call
 * fails, e.g. on a mask set without any defect pixel. */
static double metric_or_nan(const char *cmd, const char *what, ff_status st, double v) {
    if (st == FF_OK) return v;
    fprintf(stderr, "fastflow %s: warning: %s undefined: %s\n", cmd, what, ff_last_error_message());
    return NAN;
}

static double auroc(const char *cmd, const char *what, const float *x, const uint8_t *y, uint64_t n) {
    double v = NAN;
    ff_status st = ff_metric_auroc(x, y, n, &v);
    return metric_or_nan(cmd, what, st, v);
}

static double pro(const char *cmd, const char *what, const float *maps, const uint8_t *masks, size_t n, int32_t w,
                  int32_t h) {
    double v = NAN;
    ff_status st = ff_metric_pro(maps, masks, (int32_t)n, w, h, EVAL_PRO_MAX_FPR, &v);
    return metric_or_nan(cmd, what, st, v);
}

/* Per-type metrics: the type's images against the good ones, gathered into
 * contiguous buffers (the data set groups test images by type, but good is
 * one group among them). */
static int per_type(const char *cmd, const ff_dataset *ds, const scored_set *s, int32_t mh, int32_t mw,
                    eval_result *r) {
    int32_t good = -1;
    for (size_t t = 0; t < ds->num_types; t++)
        if (strcmp(ds->type_names[t], "good") == 0) good = (int32_t)t;
    r->types = calloc(ds->num_types ? ds->num_types : 1, sizeof *r->types);
    size_t max_n = s->n;
    float *sc = malloc(max_n * sizeof(float));
    uint8_t *lb = malloc(max_n);
    float *maps = ds->has_masks ? malloc(max_n * s->hw * sizeof(float)) : NULL;
    uint8_t *masks = ds->has_masks ? malloc(max_n * s->hw) : NULL;
    int rc = 1;
    if (!r->types || !sc || !lb || (ds->has_masks && (!maps || !masks))) {
        fprintf(stderr, "fastflow %s: out of memory\n", cmd);
        goto done;
    }
    for (size_t t = 0; t < ds->num_types; t++) {
        if ((int32_t)t == good) continue;
        size_t k = 0, n_type = 0;
        for (size_t i = 0; i < s->n; i++) {
            if (ds->test_types[i] != (int32_t)t && ds->test_types[i] != good) continue;
            sc[k] = s->scores[i];
            lb[k] = s->labels[i];
            if (maps) {
                memcpy(maps + k * s->hw, s->maps + i * s->hw, s->hw * sizeof(float));
                memcpy(masks + k * s->hw, s->masks + i * s->hw, s->hw);
            }
            n_type += ds->test_types[i] == (int32_t)t;
            k++;
        }
        eval_type_result *e = &r->types[r->num_types++];
        e->name = ds->type_names[t];
        e->n = n_type;
        char what[256];
        snprintf(what, sizeof what, "image AUROC of %s", e->name);
        e->image_auroc = auroc(cmd, what, sc, lb, k);
        e->pixel_auroc = e->pro = NAN;
        if (maps) {
            snprintf(what, sizeof what, "pixel AUROC of %s", e->name);
            e->pixel_auroc = auroc(cmd, what, maps, masks, (uint64_t)k * s->hw);
            snprintf(what, sizeof what, "PRO of %s", e->name);
            e->pro = pro(cmd, what, maps, masks, k, mw, mh);
        }
    }
    rc = 0;
done:
    free(sc);
    free(lb);
    free(maps);
    free(masks);
    return rc;
}

static int write_heatmaps(const char *cmd, const ff_dataset *ds, const scored_set *s, int32_t mh, int32_t mw,
                          float lo, float hi, const char *dir) {
    uint8_t *pixels = NULL, *rgb = malloc(s->hw * 3);
    size_t cap = 0;
    int rc = 1;
    if (!rgb) {
        fprintf(stderr, "fastflow %s: out of memory\n", cmd);
        return 1;
    }
    for (size_t t = 0; t < ds->num_types; t++) {
        char sub[4096];
        if (!cli_join(sub, sizeof sub, dir, ds->type_names[t]) || cli_mkdir_p(cmd, sub) != 0) goto done;
    }
    for (size_t i = 0; i < s->n; i++) {
        const char *path = ds->test_paths[i];
        int32_t w = 0, h = 0;
        char stem[1024], out[4096];
        cli_stem(path, stem, sizeof stem);
        snprintf(out, sizeof out, "%s/%s/%s.png", dir, ds->type_names[ds->test_types[i]], stem);
        ff_status st = cli_decode_rgb(path, &pixels, &cap, &w, &h);
        if (st != FF_OK) {
            rc = cli_fail(cmd, path, st);
            goto done;
        }
        const uint8_t *mask = ds->has_masks && s->labels[i] ? s->masks + i * s->hw : NULL;
        if (cli_write_heatmap(cmd, out, s->maps + i * s->hw, mw, mh, lo, hi, pixels, w, h, mask, rgb) != 0) goto done;
    }
    rc = 0;
done:
    free(pixels);
    free(rgb);
    return rc;
}

int eval_run(const char *cmd, const ff_flow *flow, const ff_dataset *ds, const char *heatmaps_dir, int keep_images,
             int32_t precision, eval_result *out) {
    if (ds->num_good == 0 || ds->num_defect == 0) {
        fprintf(stderr, "fastflow %s: %s needs good and defect test images (found %zu good, %zu defect)\n", cmd,
                ds->root, ds->num_good, ds->num_defect);
        return 1;
    }
    eval_result r;
    memset(&r, 0, sizeof r);
    ff_curve_init(&r.roc, 0.0);
    ff_curve_init(&r.pro_curve, EVAL_PRO_CURVE_STEP);
    scored_set s;
    memset(&s, 0, sizeof s);
    double t0 = cli_now_seconds();
    int rc = score_all(cmd, flow, ds, precision, &r.map_height, &r.map_width, &s);
    r.seconds = cli_now_seconds() - t0;
    if (rc != 0) goto fail;
    r.n_good = ds->num_good;
    r.n_defect = ds->num_defect;
    r.image_auroc = auroc(cmd, "image AUROC", s.scores, s.labels, s.n);
    if (isfinite(r.image_auroc) && ff_roc_curve(s.scores, s.labels, s.n, &r.roc) != FF_OK)
        fprintf(stderr, "fastflow %s: warning: no ROC curve: %s\n", cmd, ff_last_error_message());
    double f1 = NAN;
    float thr = NAN;
    ff_status st = ff_metric_f1_optimal(s.scores, s.labels, s.n, &f1, &thr);
    r.image_f1 = metric_or_nan(cmd, "image F1", st, f1);
    r.image_threshold = st == FF_OK ? thr : NAN;
    r.pixel_auroc = r.pro = NAN;
    if (ds->has_masks) {
        r.pixel_auroc = auroc(cmd, "pixel AUROC", s.maps, s.masks, (uint64_t)s.n * s.hw);
        /* the area of the plotted curve, equal to ff_metric_pro's */
        double v = NAN;
        st = ff_pro_curve(s.maps, s.masks, (int32_t)s.n, r.map_width, r.map_height, EVAL_PRO_MAX_FPR, &r.pro_curve,
                          &v);
        r.pro = metric_or_nan(cmd, "PRO", st, v);
    }
    if ((rc = per_type(cmd, ds, &s, r.map_height, r.map_width, &r)) != 0) goto fail;
    if (ff_flow_get_statistic(flow, FF_STAT_IMAGE_THRESHOLD, &r.stored_threshold) == FF_OK) {
        r.has_stored = 1;
        for (size_t i = 0; i < s.n; i++) {
            bool pred = s.scores[i] >= r.stored_threshold;
            if (s.labels[i]) pred ? r.tp++ : r.fn++;
            else pred ? r.fp++ : r.tn++;
        }
    }
    r.map_lo = INFINITY, r.map_hi = -INFINITY;
    for (size_t i = 0; i < s.n * s.hw; i++) {
        if (s.maps[i] < r.map_lo) r.map_lo = s.maps[i];
        if (s.maps[i] > r.map_hi) r.map_hi = s.maps[i];
    }
    if (!(r.map_hi > r.map_lo)) r.map_hi = r.map_lo + 1.0f; /* a constant map still renders */
    if (heatmaps_dir &&
        (rc = write_heatmaps(cmd, ds, &s, r.map_height, r.map_width, r.map_lo, r.map_hi, heatmaps_dir)) != 0)
        goto fail;
    if (keep_images) { /* hand the buffers over */
        r.n_images = s.n;
        r.scores = s.scores;
        r.labels = s.labels;
        r.maps = s.maps;
        r.masks = s.masks;
        memset(&s, 0, sizeof s);
    }
    scored_free(&s);
    *out = r;
    return 0;
fail:
    scored_free(&s);
    eval_result_free(&r);
    return 1;
}

void eval_result_free(eval_result *r) {
    free(r->types);
    r->types = NULL;
    r->num_types = 0;
    ff_curve_free(&r->roc);
    ff_curve_free(&r->pro_curve);
    free(r->scores);
    free(r->maps);
    free(r->labels);
    free(r->masks);
    r->scores = r->maps = NULL;
    r->labels = r->masks = NULL;
    r->n_images = 0;
}

static void print_metric(FILE *f, double v) {
    if (isnan(v)) fprintf(f, " %9s", "-");
    else fprintf(f, " %9.4f", v);
}

void eval_print_table(const eval_result *r, FILE *f) {
    fprintf(f, "%-20s %6s %9s %9s %9s\n", "defect type", "images", "img AUROC", "pix AUROC", "PRO@0.3");
    for (size_t t = 0; t < r->num_types; t++) {
        const eval_type_result *e = &r->types[t];
        fprintf(f, "%-20.20s %6zu", e->name, e->n);
        print_metric(f, e->image_auroc);
        print_metric(f, e->pixel_auroc);
        print_metric(f, e->pro);
        fputc('\n', f);
    }
    fprintf(f, "%-20s %6zu", "overall", r->n_good + r->n_defect);
    print_metric(f, r->image_auroc);
    print_metric(f, r->pixel_auroc);
    print_metric(f, r->pro);
    fprintf(f, "\n(%zu good, %zu defect images; image F1 %.4f at threshold %.6g; types are scored against the "
               "good images)\n",
            r->n_good, r->n_defect, r->image_f1, (double)r->image_threshold);
}

static void json_number(FILE *f, double v) {
    if (isnan(v) || isinf(v)) fputs("null", f);
    else fprintf(f, "%.9g", v);
}

static void json_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(f, "\\%c", *p);
        else if (*p < 0x20) fprintf(f, "\\u%04x", *p);
        else fputc(*p, f);
    }
    fputc('"', f);
}

int eval_write_json(const char *cmd, const eval_result *r, const char *model, const char *data, const char *path) {
    cli_buffer b;
    if (cli_buffer_open(cmd, &b) != 0) return 1;
    FILE *f = b.f;
    fputs("{\n  \"image_auroc\": ", f);
    json_number(f, r->image_auroc);
    fputs(",\n  \"pixel_auroc\": ", f);
    json_number(f, r->pixel_auroc);
    fputs(",\n  \"pro\": ", f);
    json_number(f, r->pro);
    fputs(",\n  \"image_f1\": ", f);
    json_number(f, r->image_f1);
    fputs(",\n  \"image_threshold\": ", f);
    json_number(f, r->image_threshold);
    fprintf(f, ",\n  \"n_good\": %zu,\n  \"n_defect\": %zu,\n  \"pro_max_fpr\": %g,\n  \"per_type\": {", r->n_good,
            r->n_defect, EVAL_PRO_MAX_FPR);
    for (size_t t = 0; t < r->num_types; t++) {
        const eval_type_result *e = &r->types[t];
        fputs(t ? ",\n    " : "\n    ", f);
        json_string(f, e->name);
        fprintf(f, ": {\"n\": %zu, \"image_auroc\": ", e->n);
        json_number(f, e->image_auroc);
        fputs(", \"pixel_auroc\": ", f);
        json_number(f, e->pixel_auroc);
        fputs(", \"pro\": ", f);
        json_number(f, e->pro);
        fputc('}', f);
    }
    fputs(r->num_types ? "\n  },\n  \"model\": " : "},\n  \"model\": ", f);
    json_string(f, model ? model : "");
    fputs(",\n  \"data\": ", f);
    json_string(f, data ? data : "");
    fprintf(f, ",\n  \"map_height\": %d,\n  \"map_width\": %d,\n  \"seconds\": %.3f\n}\n", (int)r->map_height,
            (int)r->map_width, r->seconds);
    return cli_buffer_commit(cmd, &b, path, true);
}

void eval_print_stored_threshold(const eval_result *r, FILE *f) {
    if (!r->has_stored) return;
    double precision = r->tp + r->fp ? (double)r->tp / (double)(r->tp + r->fp) : NAN;
    double recall = r->tp + r->fn ? (double)r->tp / (double)(r->tp + r->fn) : NAN;
    double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
    fprintf(f, "stored image threshold %.6g: %zu of %zu defect images flagged, %zu of %zu good images flagged "
            "(precision %.4f, recall %.4f, F1 %.4f)\n",
            (double)r->stored_threshold, r->tp, r->tp + r->fn, r->fp, r->fp + r->tn, precision, recall, f1);
}
