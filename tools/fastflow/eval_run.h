/* The MVTec AD evaluation shared by `fastflow eval` and `fastflow demo`:
 * scores every test image with one scorer, computes the metrics overall and
 * per defect type, prints a table, writes JSON and heatmap overlays. */
#ifndef FF_CLI_EVAL_RUN_H
#define FF_CLI_EVAL_RUN_H

#include <stddef.h>
#include <stdio.h>

#include "eval/curves.h"
#include "eval/dataset.h"
#include "fastflow.h"

/* Metrics of one defect type against the good test images; NaN where not
 * defined (pixel metrics of a set without masks). */
typedef struct {
    const char *name; /* borrowed from the data set */
    size_t n;         /* images of this type */
    double image_auroc, pixel_auroc, pro;
} eval_type_result;

typedef struct {
    size_t n_good, n_defect;
    double image_auroc;
    double pixel_auroc, pro; /* NaN when the set has no masks */
    double image_f1;         /* F1 at the F1-optimal image threshold */
    float image_threshold;   /* that threshold (an image score) */
    float map_lo, map_hi;    /* range of all maps; the heatmaps' colour scale */
    size_t num_types;        /* defect types (good excluded) */
    eval_type_result *types;
    /* the model's stored image threshold (score statistics) applied to
     * the test images: an image is predicted anomalous when score >= it */
    int32_t has_stored;
    float stored_threshold;
    size_t tp, fp, tn, fn;
    double seconds;          /* scoring time, decoding included */
    int32_t map_height, map_width;
    /* the curves behind image AUROC and PRO (lib/eval/curves.h; empty when
     * undefined), for the report's plots */
    ff_curve roc, pro_curve;
    /* with keep_images: every test image's score, label (1 = defect), map
     * and mask (map_height x map_width each; zeros for good images), in
     * the data set's order; NULL otherwise */
    size_t n_images;
    float *scores, *maps;
    uint8_t *labels, *masks;
} eval_result;

/* PRO is integrated up to this false-positive rate (MVTec AD protocol). */
#define EVAL_PRO_MAX_FPR 0.3
/* Resolution of the PRO curve kept for plotting (points closer than this
 * in FPR and PRO are merged; the area is computed from every point). */
#define EVAL_PRO_CURVE_STEP 1e-3

/* Scores ds's test split with `flow` at `precision` (enum ff_precision)
 * and fills *out. With heatmaps_dir,
 * writes each test image's overlay to heatmaps_dir/<type>/<stem>.png: the
 * picture at the model's input size, the Turbo-coloured anomaly map on one
 * colour scale for the whole set (the minimum to the maximum of all maps),
 * alpha 0.5, and the ground-truth contour in white when a mask is known.
 * keep_images keeps the per-image results in *out (for the report).
 * Returns 0, or prints an error prefixed with "fastflow <cmd>:" and
 * returns 1. */
int eval_run(const char *cmd, const ff_flow *flow, const ff_dataset *ds, const char *heatmaps_dir, int keep_images,
             int32_t precision, eval_result *out);
void eval_result_free(eval_result *r);

/* The per-type and overall table. */
void eval_print_table(const eval_result *r, FILE *f);

/* With score statistics in the model: the confusion figures of its stored
 * image threshold on the test set (nothing otherwise). */
void eval_print_stored_threshold(const eval_result *r, FILE *f);

/* Writes the results as JSON, atomically: {"image_auroc", "pixel_auroc",
 * "pro", "image_f1", "image_threshold", "n_good", "n_defect", "per_type":
 * {type: {"n", "image_auroc", "pixel_auroc", "pro"}}, "model", "data"},
 * null for undefined values. Returns 0 or prints an error and returns 1. */
int eval_write_json(const char *cmd, const eval_result *r, const char *model, const char *data, const char *path);

#endif
