/* fastflow eval: the MVTec AD protocol on a data set's test split, with a
 * per-type table, JSON and heatmap overlays (eval_run.c). */
#include <stdio.h>

#include "cli_util.h"
#include "commands.h"
#include "eval/dataset.h"
#include "eval_run.h"
#include "fastflow.h"
#include "report.h"

static const char *const CMD = "eval";

static void help(void) {
    char threads[96];
    printf("usage: fastflow eval --model MODEL.safetensors --data DIR [--category NAME]\n"
           "                     [--json OUT.json] [--heatmaps DIR] [--report OUT.html]\n"
           "                     [--report-max-images N] [--threads N] [--precision P]\n\n"
           "Scores every test image of an MVTec AD layout (DIR/test/<type>/*, masks in\n"
           "DIR/ground_truth/<type>/<stem>_mask.png) and prints image AUROC, pixel AUROC and\n"
           "PRO (integrated to FPR 0.3) per defect type (against the good images) and overall,\n"
           "and the image F1 at its best threshold. A set without a ground_truth folder gets\n"
           "image metrics only (pixel metrics are null).\n\n"
           "  --model FILE     model file written by 'fastflow train'\n"
           "  --data DIR       MVTec AD category folder (or the folder holding --category)\n"
           "  --category NAME  evaluate DIR/NAME\n"
           "  --json FILE      write the metrics as JSON\n"
           "  --heatmaps DIR   write overlays to DIR/<type>/<stem>.png (model input size;\n"
           "                   Turbo colours on one scale for the whole set; mask contour white)\n"
           "  --report FILE    write an HTML report: summary, ROC and PRO curves, score\n"
           "                   histogram, per-type table and a gallery of test images, worst\n"
           "                   errors first (one self-contained file; open it in a browser)\n"
           "  --report-max-images N  images in the report's gallery (default 100)\n"
           "  --threads N      computation threads, %s (0: all cores)\n" CLI_PRECISION_HELP,
           cli_param_help(FF_OBJECT_GLOBAL, FF_GLOBAL_NUM_THREADS, threads, sizeof threads));
}

int ff_cmd_eval(int argc, char **argv) {
    const char *model = NULL, *data = NULL, *category = NULL, *json = NULL, *heatmaps = NULL, *report = NULL;
    int64_t threads = 0, max_images = REPORT_DEFAULT_MAX_IMAGES;
    int32_t precision = FF_PRECISION_FP32;
    bool bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            help();
            return 0;
        }
        if (cli_opt_str(argc, argv, &i, "--model", &model, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--data", &data, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--category", &category, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--json", &json, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--heatmaps", &heatmaps, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--report", &report, &bad)) continue;
        if (cli_opt_i64(argc, argv, &i, "--report-max-images", 0, 1000000, &max_images, &bad)) continue;
        if (cli_opt_param_i64(argc, argv, &i, "--threads", FF_OBJECT_GLOBAL, FF_GLOBAL_NUM_THREADS, &threads, &bad))
            continue;
        if (cli_opt_precision(argc, argv, &i, &precision, &bad)) continue;
        fprintf(stderr, "fastflow %s: unknown option '%s'\n", CMD, argv[i]);
        bad = true;
    }
    if (bad) return cli_usage_error(CMD, "invalid arguments");
    if (!model || !data) return cli_usage_error(CMD, "--model and --data are required");
    if (threads > 0) ff_global_set_i64(FF_GLOBAL_NUM_THREADS, threads);

    ff_dataset *ds = NULL;
    ff_flow *flow = NULL;
    eval_result r = {0};
    int rc = 1;
    ff_status st = ff_dataset_open(data, category, &ds);
    if (st != FF_OK) return cli_fail(CMD, data, st);
    if (ds->layout != FF_DATASET_MVTEC || ds->num_test == 0) {
        fprintf(stderr, "fastflow %s: %s has no test split (expected DIR/test/<type>/)\n", CMD, ds->root);
        goto done;
    }
    if ((st = ff_flow_load(model, NULL, &flow)) != FF_OK) {
        rc = cli_fail(CMD, model, st);
        goto done;
    }
    printf("evaluating %s on %zu test images of %s\n", model, ds->num_test, ds->root);
    fflush(stdout);
    if (eval_run(CMD, flow, ds, heatmaps, report != NULL, precision, &r) != 0) goto done;
    eval_print_table(&r, stdout);
    eval_print_stored_threshold(&r, stdout);
    printf("scored %zu images in %.1f s (%.1f ms per image)\n", ds->num_test, r.seconds,
           1e3 * r.seconds / (double)ds->num_test);
    if (heatmaps) printf("heatmaps in %s\n", heatmaps);
    if (json) {
        if (eval_write_json(CMD, &r, model, ds->root, json) != 0) goto done;
        printf("wrote %s\n", json);
    }
    if (report) {
        report_input in = {model, flow, ds, &r, (size_t)max_images};
        if (report_write(CMD, report, &in) != 0) goto done;
        printf("report %s\n", report);
    }
    rc = 0;
done:
    eval_result_free(&r);
    ff_flow_destroy(flow);
    ff_dataset_destroy(ds);
    return rc;
}
