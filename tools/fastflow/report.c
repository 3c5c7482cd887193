#include "report.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_paths.h"
#include "cli_util.h"
#include "heatmap_png.h"
#include "image/image_internal.h"
#include "progress.h"
#include "report_base64.h"
#include "report_gallery.h"
#include "report_html.h"
#include "report_style.h"
#include "report_svg.h"
#include "tensor/safetensors.h"

static const char *const KIND_CLASS[4] = {"missed", "false-alarm", "detected", "passed"};
static const char *const KIND_TEXT[4] = {"missed defect", "false alarm", "detected", "passed"};

/* <img> with the RGB8 picture as an embedded PNG. */
static int embed_png(const char *cmd, FILE *f, const uint8_t *rgb, int32_t w, int32_t h, const char *alt) {
    uint8_t *png = NULL;
    size_t size = 0;
    ff_status st = ff_png_encode(rgb, w, h, (size_t)w * 3, FF_PIXEL_RGB8, "report image", &png, &size);
    if (st != FF_OK) return cli_fail(cmd, "encoding a report image", st);
    fprintf(f, "<img width=\"%d\" height=\"%d\" alt=\"", (int)w, (int)h);
    html_escape(f, alt);
    fputs("\" src=\"data:image/png;base64,", f);
    base64_write(f, png, size);
    fputs("\">", f);
    free(png);
    return 0;
}

static void kpi(FILE *f, const char *label, const char *key, double v, int decimals, const char *detail) {
    fputs("<div class=\"kpi\"><div class=\"k\">", f);
    html_escape(f, label);
    fputs("</div><div class=\"v\">", f);
    html_metric(f, key, v, decimals);
    fputs("</div>", f);
    if (detail) fprintf(f, "<div class=\"d\">%s</div>", detail); /* detail is markup built here */
    fputs("</div>\n", f);
}

static void fact(FILE *f, const char *key, const char *value) {
    fputs("<dt>", f);
    html_escape(f, key);
    fputs("</dt><dd>", f);
    html_escape(f, value);
    fputs("</dd>", f);
}

/* A fact whose value may be long (a training record is JSON of up to
 * 64 KiB): its start, and the whole text when unfolded. */
static void long_fact(FILE *f, const char *key, const char *value) {
    enum { SHOWN = 160 };
    if (strlen(value) <= SHOWN) {
        fact(f, key, value);
        return;
    }
    char head[SHOWN + 1];
    memcpy(head, value, SHOWN);
    head[SHOWN] = '\0';
    fputs("<dt>", f);
    html_escape(f, key);
    fputs("</dt><dd><details><summary>", f);
    html_escape(f, head);
    fputs("&hellip;</summary>", f);
    html_escape(f, value);
    fputs("</details></dd>", f);
}

/* The model box: the flow's settings, and what the model file's metadata
 * says about training (keys mentioning train or epoch) and statistics. */
static void model_facts(FILE *f, const report_input *in) {
    char buf[256];
    int32_t h = 0, w = 0, steps = 0, only3 = 0;
    float hidden = 0.0f, clamp = 0.0f;
    int64_t seed = 0;
    ff_flow_get_i32(in->flow, FF_FLOW_INPUT_HEIGHT, &h);
    ff_flow_get_i32(in->flow, FF_FLOW_INPUT_WIDTH, &w);
    ff_flow_get_i32(in->flow, FF_FLOW_STEPS, &steps);
    ff_flow_get_i32(in->flow, FF_FLOW_CONV3X3_ONLY, &only3);
    ff_flow_get_f32(in->flow, FF_FLOW_HIDDEN_RATIO, &hidden);
    ff_flow_get_f32(in->flow, FF_FLOW_CLAMP, &clamp);
    ff_flow_get_i64(in->flow, FF_FLOW_SEED, &seed);
    fputs("<div class=\"box\"><h3>Model</h3><dl>", f);
    fact(f, "file", in->model_path);
    fact(f, "backbone", ff_backbone_arch(ff_flow_backbone(in->flow)));
    snprintf(buf, sizeof buf, "%d x %d", (int)w, (int)h);
    fact(f, "input size", buf);
    snprintf(buf, sizeof buf, "%d step%s, hidden ratio %g, %s kernels, clamp %g, seed %lld", (int)steps,
             steps == 1 ? "" : "s", (double)hidden, only3 ? "3x3-only" : "alternating 3x3/1x1", (double)clamp, (long long)seed);
    fact(f, "flow", buf);
    ff_st_file *st = NULL;
    int training = 0;
    if (ff_st_open(in->model_path, &st) == FF_OK) {
        for (size_t i = 0; i < ff_st_meta_count(st); i++) {
            const char *k = NULL, *v = NULL;
            ff_st_meta_at(st, i, &k, &v);
            if (k && v && (strstr(k, "train") || strstr(k, "epoch"))) {
                long_fact(f, k, v);
                training++;
            }
        }
        const char *source = ff_st_meta(st, "score.source");
        float thr = 0.0f;
        if (source && ff_flow_get_statistic(in->flow, FF_STAT_IMAGE_THRESHOLD, &thr) == FF_OK) {
            snprintf(buf, sizeof buf, "image threshold %.6g (%s)", (double)thr, source);
            fact(f, "score statistics", buf);
        }
        ff_st_close(st);
    }
    if (!training) fact(f, "training", "images and epochs not recorded in the model file");
    fputs("</dl></div>\n", f);
}

static void data_facts(FILE *f, const report_input *in) {
    const eval_result *r = in->r;
    char buf[256];
    fputs("<div class=\"box\"><h3>Data and run</h3><dl>", f);
    fact(f, "data set", in->ds->root);
    fputs("<dt>test images</dt><dd>", f);
    fprintf(f, "<span data-key=\"n_total\">%zu</span>: <span data-key=\"n_good\">%zu</span> good, "
               "<span data-key=\"n_defect\">%zu</span> defect in %zu type%s</dd>",
            r->n_good + r->n_defect, r->n_good, r->n_defect, r->num_types, r->num_types == 1 ? "" : "s");
    fact(f, "masks", in->ds->has_masks ? "yes (pixel metrics)" : "no (image metrics only)");
    snprintf(buf, sizeof buf, "%d x %d", (int)r->map_width, (int)r->map_height);
    fact(f, "map size", buf);
    fputs("<dt>timing</dt><dd>scoring includes decoding each image</dd>", f);
    fputs("</dl></div>\n", f);
}

static void summary(FILE *f, const report_input *in) {
    const eval_result *r = in->r;
    char detail[160];
    fputs("<section class=\"kpis\">\n", f);
    kpi(f, "Image AUROC", "image_auroc", r->image_auroc, 4, "good vs defect images");
    kpi(f, "Pixel AUROC", "pixel_auroc", r->pixel_auroc, 4, in->ds->has_masks ? "every pixel of every map" : "no masks");
    snprintf(detail, sizeof detail, "integrated to FPR %.1f", EVAL_PRO_MAX_FPR);
    kpi(f, "PRO", "pro", r->pro, 4, in->ds->has_masks ? detail : "no masks");
    snprintf(detail, sizeof detail, "at threshold <span data-key=\"image_threshold\" data-value=\"%.9g\">%.4g</span>",
             (double)r->image_threshold, (double)r->image_threshold);
    kpi(f, "Image F1", "image_f1", r->image_f1, 4, isfinite(r->image_threshold) ? detail : NULL);
    snprintf(detail, sizeof detail, "ms per image (%.1f s for %zu)", r->seconds, r->n_good + r->n_defect);
    kpi(f, "Time", "ms_per_image", 1e3 * r->seconds / (double)(r->n_good + r->n_defect), 1, detail);
    fputs("</section>\n<section class=\"facts\">\n", f);
    model_facts(f, in);
    data_facts(f, in);
    fputs("</section>\n", f);
}

static void plots(FILE *f, const report_input *in) {
    const eval_result *r = in->r;
    char note[64];
    fputs("<h2>Curves and scores</h2>\n<section class=\"plots\">\n", f);
    fputs("<figure><figcaption>Image ROC</figcaption>\n", f);
    snprintf(note, sizeof note, "AUROC %.4f", r->image_auroc);
    svg_curve c = {"roc", "Image ROC curve", "false positive rate (good images flagged)",
                   "true positive rate", 1.0, r->roc.x, r->roc.y, r->roc.n, 1, note};
    svg_curve_plot(f, &c);
    fputs("<p class=\"cap\">Each point is one image score taken as the threshold.</p></figure>\n", f);
    fputs("<figure><figcaption>PRO curve</figcaption>\n", f);
    if (r->pro_curve.n > 0) {
        snprintf(note, sizeof note, "PRO %.4f", r->pro);
        svg_curve p = {"pro-curve", "Per-region overlap curve", "false positive rate (normal pixels)",
                       "per-region overlap", EVAL_PRO_MAX_FPR, r->pro_curve.x, r->pro_curve.y, r->pro_curve.n, 0, note};
        svg_curve_plot(f, &p);
        fprintf(f, "<p class=\"cap\">Mean fraction of each defect region found, up to FPR %.1f; the area, "
                   "normalised, is the PRO.</p>", EVAL_PRO_MAX_FPR);
    } else {
        fputs("<p class=\"cap\">Not available: the data set has no masks.</p>", f);
    }
    fputs("</figure>\n<figure><figcaption>Image scores</figcaption>\n", f);
    svg_hist h = {"histogram", "Histogram of image scores", r->scores, r->labels, r->n_images, r->image_threshold, 20};
    svg_histogram(f, &h);
    fputs("<p class=\"cap\">Images at or above the dashed F1-optimal threshold are flagged.</p></figure>\n"
          "</section>\n", f);
}

static void type_row(FILE *f, const char *cls, const char *name, const char *key, size_t n, double ia, double pa,
                     double pro) {
    char k[512];
    fprintf(f, "<tr%s%s%s><td>", cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
    html_escape(f, name);
    fprintf(f, "</td><td>%zu</td><td>", n);
    snprintf(k, sizeof k, "%s.image_auroc", key);
    html_metric(f, k, ia, 4);
    fputs("</td><td>", f);
    snprintf(k, sizeof k, "%s.pixel_auroc", key);
    html_metric(f, k, pa, 4);
    fputs("</td><td>", f);
    snprintf(k, sizeof k, "%s.pro", key);
    html_metric(f, k, pro, 4);
    fputs("</td></tr>\n", f);
}

static void type_table(FILE *f, const eval_result *r) {
    fputs("<h2>Per defect type</h2>\n<table id=\"per-type\"><thead><tr><th>defect type</th><th>images</th>"
          "<th>image AUROC</th><th>pixel AUROC</th><th>PRO</th></tr></thead><tbody>\n", f);
    for (size_t t = 0; t < r->num_types; t++) {
        const eval_type_result *e = &r->types[t];
        char key[300];
        snprintf(key, sizeof key, "per_type.%s", e->name);
        type_row(f, NULL, e->name, key, e->n, e->image_auroc, e->pixel_auroc, e->pro);
    }
    type_row(f, "overall", "overall", "overall", r->n_good + r->n_defect, r->image_auroc, r->pixel_auroc, r->pro);
    fputs("</tbody></table>\n<p class=\"note-line\">Each type is scored against the good images.</p>\n", f);
    if (r->has_stored)
        fprintf(f, "<p class=\"note-line\">The model's stored image threshold %.6g flags %zu of %zu defect images "
                   "and %zu of %zu good images.</p>\n",
                (double)r->stored_threshold, r->tp, r->tp + r->fn, r->fp, r->fp + r->tn);
}

/* The Turbo colour scale of the overlays, from the set's lowest to its
 * highest map value, as a 256 x 1 strip rendered by the library. */
static int colour_scale(const char *cmd, FILE *f, const eval_result *r) {
    float ramp[256];
    uint8_t rgb[256 * 3];
    for (int i = 0; i < 256; i++) ramp[i] = r->map_lo + (r->map_hi - r->map_lo) * (float)i / 255.0f;
    ff_status st = ff_heatmap_render(ramp, 256, 1, r->map_lo, r->map_hi, NULL, 0, 0, 0, FF_PIXEL_RGB8, 1.0f, rgb,
                                     sizeof rgb, 0);
    if (st != FF_OK) return cli_fail(cmd, "rendering the colour scale", st);
    fprintf(f, "<div class=\"scale\">map %.4g", (double)r->map_lo);
    if (embed_png(cmd, f, rgb, 256, 1, "colour scale") != 0) return 1;
    fprintf(f, "%.4g &nbsp; white outline: ground-truth defect</div>\n", (double)r->map_hi);
    return 0;
}

static int gallery(const char *cmd, FILE *f, const report_input *in) {
    const eval_result *r = in->r;
    const ff_dataset *ds = in->ds;
    size_t n = r->n_images, shown = n < in->max_images ? n : in->max_images;
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    size_t hw = (size_t)r->map_height * (size_t)r->map_width;
    uint8_t *pixels = NULL, *pic = malloc(hw * 3), *overlay = malloc(hw * 3);
    size_t cap = 0, missed = 0, alarms = 0;
    int rc = 1;
    cli_progress p;
    progress_begin(&p, "writing the report", shown);
    if (!order || !pic || !overlay ||
        gallery_order(r->scores, r->labels, n, r->image_threshold, order) != 0) {
        fprintf(stderr, "fastflow %s: out of memory\n", cmd);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        gallery_kind k = gallery_classify(r->scores[i], r->labels[i], r->image_threshold);
        missed += k == GALLERY_MISSED;
        alarms += k == GALLERY_FALSE_ALARM;
    }
    fputs("<h2>Test images</h2>\n", f);
    fprintf(f, "<p class=\"note-line\" id=\"gallery-count\" data-shown=\"%zu\" data-total=\"%zu\">Showing %zu of %zu "
               "test images. At the F1-optimal threshold %.4g, %zu defect%s missed and %zu good image%s flagged; "
               "they come first, then the rest by descending score.%s</p>\n",
            shown, n, shown, n, (double)r->image_threshold, missed, missed == 1 ? " is" : "s are", alarms,
            alarms == 1 ? " is" : "s are",
            shown < n ? " Raise --report-max-images to see more." : "");
    if (colour_scale(cmd, f, r) != 0) goto done;
    fputs("<section class=\"gallery\">\n", f);
    for (size_t j = 0; j < shown; j++) {
        size_t i = order[j];
        const char *path = ds->test_paths[i];
        int32_t w = 0, h = 0;
        ff_status st = cli_decode_rgb(path, &pixels, &cap, &w, &h);
        if (st != FF_OK) {
            progress_end(&p);
            rc = cli_fail(cmd, path, st);
            goto done;
        }
        const float *map = r->maps + i * hw;
        const uint8_t *mask = ds->has_masks && r->labels[i] ? r->masks + i * hw : NULL;
        if (cli_render_heatmap(cmd, path, map, r->map_width, r->map_height, r->map_lo, r->map_hi, pixels, w, h, NULL,
                               0.0f, pic) != 0 ||
            cli_render_heatmap(cmd, path, map, r->map_width, r->map_height, r->map_lo, r->map_hi, pixels, w, h, mask,
                               CLI_HEATMAP_ALPHA, overlay) != 0)
            goto done;
        gallery_kind k = gallery_classify(r->scores[i], r->labels[i], r->image_threshold);
        const char *type = ds->type_names[ds->test_types[i]];
        fprintf(f, "<figure class=\"card %s\" data-score=\"%.9g\" data-kind=\"%s\" data-label=\"%d\"><div class=\"pair\">",
                KIND_CLASS[k], (double)r->scores[i], KIND_CLASS[k], (int)r->labels[i]);
        if (embed_png(cmd, f, pic, r->map_width, r->map_height, path) != 0 ||
            embed_png(cmd, f, overlay, r->map_width, r->map_height, "anomaly map overlay") != 0)
            goto done;
        char stem[1024];
        cli_stem(path, stem, sizeof stem);
        fprintf(f, "</div><figcaption><span class=\"badge\">%s</span> <b>", KIND_TEXT[k]);
        html_escape(f, type);
        fputs("</b> <span class=\"file\" title=\"", f);
        html_escape(f, path);
        fputs("\">", f);
        html_escape(f, stem);
        fprintf(f, "</span><br>score <b>%.4f</b></figcaption></figure>\n", (double)r->scores[i]);
        progress_update(&p, j + 1, NULL);
    }
    fputs("</section>\n", f);
    rc = 0;
done:
    progress_end(&p);
    free(order);
    free(pixels);
    free(pic);
    free(overlay);
    return rc;
}

int report_write(const char *cmd, const char *path, const report_input *in) {
    cli_buffer b;
    if (cli_buffer_open(cmd, &b) != 0) return 1;
    FILE *f = b.f;
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          /* nothing may be fetched: no scripts, images only from data: */
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
          "img-src data:\">\n<title>FastFlow evaluation: ", f);
    html_escape(f, in->ds->root);
    fputs("</title>\n<style>\n", f);
    for (const char *const *css = report_css; *css; css++) fputs(*css, f);
    fputs("</style></head>\n<body><main>\n<h1>FastFlow evaluation report</h1>\n<p class=\"sub\">", f);
    html_escape(f, in->ds->root);
    fputs("</p>\n", f);
    summary(f, in);
    plots(f, in);
    type_table(f, in->r);
    int rc = gallery(cmd, f, in);
    fprintf(f, "<footer>Written by fastflow %s (libfastflow %s). Metrics as in the JSON of <code>fastflow eval "
               "--json</code>.</footer>\n</main></body></html>\n",
            FF_VERSION_STRING, ff_version_string());
    int written = cli_buffer_commit(cmd, &b, path, rc == 0);
    return rc != 0 ? rc : written;
}
