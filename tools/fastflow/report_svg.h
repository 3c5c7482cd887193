/* The report's plots as inline SVG, written from the evaluation's own
 * numbers: a curve (ROC, PRO) and a two-class score histogram. Each <svg>
 * also carries its data in data-* attributes (space-separated %.9g), so a
 * test can check that what is drawn is what was measured. Colours and
 * fonts come from the page's CSS classes (report_page.c). */
#ifndef FF_CLI_REPORT_SVG_H
#define FF_CLI_REPORT_SVG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct {
    const char *id;              /* element id */
    const char *title;           /* accessible title */
    const char *x_label, *y_label;
    double x_max;                /* the x axis spans [0, x_max]; y spans [0, 1] */
    const double *x, *y;         /* the curve, x non-decreasing */
    size_t n;
    int diagonal;                /* draw the chance line y = x */
    const char *note;            /* shown in the lower right, e.g. "AUROC 0.9312" */
} svg_curve;

void svg_curve_plot(FILE *f, const svg_curve *c);

typedef struct {
    const char *id, *title;
    const float *scores;
    const uint8_t *labels;       /* 1 = defect */
    size_t n;
    float threshold;             /* drawn as a dashed line; NaN: none */
    int bins;
} svg_hist;

/* Bins [min, max] of the scores into `bins` equal bins (the last one
 * closed), good and defect counts drawn as overlapping bars. data-lo,
 * data-hi, data-good, data-defect and data-threshold hold the numbers. */
void svg_histogram(FILE *f, const svg_hist *h);

#endif
