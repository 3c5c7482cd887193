#include "report_svg.h"

#include <math.h>
#include <stdlib.h>

#include "report_html.h"

/* The drawing: a 400 x 280 view box, the plot area inside these margins. */
#define VW 400.0
#define VH 280.0
#define L 56.0
#define R 376.0
#define T 24.0
#define B 228.0

static double px(double x, double lo, double hi) { return L + (x - lo) / (hi - lo) * (R - L); }
static double py(double y, double lo, double hi) { return B - (y - lo) / (hi - lo) * (B - T); }

static void open_svg(FILE *f, const char *id) {
    fprintf(f, "<svg class=\"plot\" id=\"");
    html_escape(f, id);
    fprintf(f, "\" viewBox=\"0 0 %.0f %.0f\" role=\"img\"", VW, VH);
}

static void close_open_tag(FILE *f, const char *title) {
    fputs("><title>", f);
    html_escape(f, title);
    fputs("</title>\n", f);
}

static void data_list(FILE *f, const char *name, const double *v, size_t n) {
    fprintf(f, " %s=\"", name);
    for (size_t i = 0; i < n; i++) fprintf(f, i ? " %.9g" : "%.9g", v[i]);
    fputc('"', f);
}

/* Axes, grid and tick labels; x from x_lo to x_hi, y from 0 to y_hi. */
static void axes(FILE *f, double x_lo, double x_hi, int x_ticks, double y_hi, int y_ticks, const char *x_label,
                 const char *y_label, const char *x_fmt, const char *y_fmt) {
    fputs("<g class=\"grid\">", f);
    for (int i = 0; i <= y_ticks; i++) {
        double v = y_hi * i / y_ticks, y = py(v, 0, y_hi);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", L, y, R, y);
    }
    for (int i = 0; i <= x_ticks; i++) {
        double x = px(x_lo + (x_hi - x_lo) * i / x_ticks, x_lo, x_hi);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x, T, x, B);
    }
    fputs("</g>\n<g class=\"ticks\">", f);
    for (int i = 0; i <= y_ticks; i++) {
        double v = y_hi * i / y_ticks;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", L - 6, py(v, 0, y_hi) + 4);
        fprintf(f, y_fmt, v);
        fputs("</text>", f);
    }
    for (int i = 0; i <= x_ticks; i++) {
        double v = x_lo + (x_hi - x_lo) * i / x_ticks;
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", px(v, x_lo, x_hi), B + 16);
        fprintf(f, x_fmt, v);
        fputs("</text>", f);
    }
    fprintf(f, "</g>\n<rect class=\"frame\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n", L, T, R - L,
            B - T);
    fprintf(f, "<text class=\"label\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", (L + R) / 2, VH - 14);
    html_escape(f, x_label);
    fprintf(f, "</text>\n<text class=\"label\" transform=\"translate(16 %.1f) rotate(-90)\" text-anchor=\"middle\">",
            (T + B) / 2);
    html_escape(f, y_label);
    fputs("</text>\n", f);
}

void svg_curve_plot(FILE *f, const svg_curve *c) {
    open_svg(f, c->id);
    data_list(f, "data-x", c->x, c->n);
    data_list(f, "data-y", c->y, c->n);
    close_open_tag(f, c->title);
    axes(f, 0.0, c->x_max, 5, 1.0, 5, c->x_label, c->y_label, c->x_max < 0.5 ? "%.2f" : "%.1f", "%.1f");
    if (c->diagonal)
        fprintf(f, "<line class=\"chance\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n", L, B, R, T);
    if (c->n > 0) {
        /* the area under the curve, then the curve on top */
        fprintf(f, "<path class=\"area\" d=\"M%.2f %.2f", px(c->x[0], 0, c->x_max), B);
        for (size_t i = 0; i < c->n; i++) fprintf(f, "L%.2f %.2f", px(c->x[i], 0, c->x_max), py(c->y[i], 0, 1));
        fprintf(f, "L%.2f %.2fZ\"/>\n<polyline class=\"curve\" points=\"", px(c->x[c->n - 1], 0, c->x_max), B);
        for (size_t i = 0; i < c->n; i++)
            fprintf(f, i ? " %.2f,%.2f" : "%.2f,%.2f", px(c->x[i], 0, c->x_max), py(c->y[i], 0, 1));
        fputs("\"/>\n", f);
    }
    if (c->note) {
        fprintf(f, "<text class=\"note\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">", R - 8, B - 10);
        html_escape(f, c->note);
        fputs("</text>\n", f);
    }
    fputs("</svg>\n", f);
}

/* A y axis top at a round count (steps 1, 2, 5, 10, 20, 50, ...) with at
 * most 5 ticks. */
static void count_axis(uint64_t max, double *top, int *ticks) {
    uint64_t step = 1, decade = 1;
    while (max > 5 * step) {
        if (step == decade) step = 2 * decade;
        else if (step == 2 * decade) step = 5 * decade;
        else step = decade *= 10;
    }
    *ticks = (int)((max + step - 1) / step);
    if (*ticks < 1) *ticks = 1;
    *top = (double)step * *ticks;
}

void svg_histogram(FILE *f, const svg_hist *h) {
    int bins = h->bins > 0 ? h->bins : 20;
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < h->n; i++) {
        if (h->scores[i] < lo) lo = h->scores[i];
        if (h->scores[i] > hi) hi = h->scores[i];
    }
    if (!(hi > lo)) { /* one distinct score (or none): a unit-wide range around it */
        lo = isfinite(lo) ? lo - 0.5 : 0.0;
        hi = lo + 1.0;
    }
    double *good = calloc((size_t)bins, sizeof *good), *bad = calloc((size_t)bins, sizeof *bad);
    if (!good || !bad) {
        free(good);
        free(bad);
        fputs("<p>(out of memory drawing the histogram)</p>\n", f);
        return;
    }
    uint64_t max = 1;
    for (size_t i = 0; i < h->n; i++) {
        int b = (int)((h->scores[i] - lo) / (hi - lo) * bins);
        if (b >= bins) b = bins - 1;
        if (b < 0) b = 0;
        double *c = h->labels[i] ? bad : good;
        c[b] += 1.0;
        if ((uint64_t)c[b] > max) max = (uint64_t)c[b];
    }
    double top = 1.0;
    int ticks = 1;
    count_axis(max, &top, &ticks);
    open_svg(f, h->id);
    fprintf(f, " data-lo=\"%.9g\" data-hi=\"%.9g\"", lo, hi);
    data_list(f, "data-good", good, (size_t)bins);
    data_list(f, "data-defect", bad, (size_t)bins);
    fputs(" data-threshold=\"", f);
    html_exact(f, h->threshold);
    fputc('"', f);
    close_open_tag(f, h->title);
    axes(f, lo, hi, 4, top, ticks, "image score", "images", "%.3g", "%.0f");
    double bw = (R - L) / bins;
    for (int pass = 0; pass < 2; pass++) {
        const double *c = pass ? bad : good;
        fprintf(f, "<g class=\"%s\">", pass ? "bar-defect" : "bar-good");
        for (int b = 0; b < bins; b++) {
            if (c[b] <= 0) continue;
            double y = py(c[b], 0, top);
            fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\"/>", L + b * bw + 0.5, y, bw - 1.0,
                    B - y);
        }
        fputs("</g>\n", f);
    }
    if (isfinite(h->threshold)) {
        double x = px(h->threshold, lo, hi);
        fprintf(f, "<line class=\"threshold\" x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\"/>", x, T - 2, x, B);
        /* the label above the frame, on the side with room */
        fprintf(f, "<text class=\"note\" x=\"%.2f\" y=\"%.1f\" text-anchor=\"%s\">threshold %.4g</text>\n",
                x + (x > (L + R) / 2 ? 4.0 : -4.0), T - 8, x > (L + R) / 2 ? "end" : "start", (double)h->threshold);
    }
    /* legend: below the axis, left of the axis label, clear of the bars */
    fprintf(f, "<g class=\"legend\"><rect class=\"bar-good\" x=\"%.1f\" y=\"%.1f\" width=\"10\" height=\"10\"/>"
               "<text x=\"%.1f\" y=\"%.1f\">good</text><rect class=\"bar-defect\" x=\"%.1f\" y=\"%.1f\" width=\"10\" "
               "height=\"10\"/><text x=\"%.1f\" y=\"%.1f\">defect</text></g>\n",
            L - 40, VH - 23, L - 26, VH - 14, L + 16, VH - 23, L + 30, VH - 14);
    fputs("</svg>\n", f);
    free(good);
    free(bad);
}
