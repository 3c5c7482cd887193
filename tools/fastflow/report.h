/* The HTML evaluation report of `fastflow eval --report` and `fastflow
 * demo`: one self-contained file (inline CSS and SVG, images as data:
 * URIs, no script, nothing fetched) with the summary, the ROC and PRO
 * curves, the score histogram, the per-type table and a gallery of test
 * images ordered worst errors first (report_gallery.h). */
#ifndef FF_CLI_REPORT_H
#define FF_CLI_REPORT_H

#include <stddef.h>

#include "eval/dataset.h"
#include "eval_run.h"
#include "fastflow.h"

/* Gallery size when not given (--report-max-images). */
#define REPORT_DEFAULT_MAX_IMAGES 100

typedef struct {
    const char *model_path;  /* as given; its metadata is read for training facts */
    const ff_flow *flow;
    const ff_dataset *ds;
    const eval_result *r;    /* from eval_run with keep_images */
    size_t max_images;       /* at most this many gallery images (0: none) */
} report_input;

/* Writes the report to `path` atomically. Returns 0, or prints an error
 * prefixed with "fastflow <cmd>:" and returns 1. */
int report_write(const char *cmd, const char *path, const report_input *in);

#endif
