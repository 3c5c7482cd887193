/* fastflow demo: the whole pipeline on a fresh machine. Generates the
 * synthetic inspection set (unless --data is given), trains a resnet18
 * FastFlow model on its normal images, evaluates it on the test split,
 * writes heatmaps and prints a summary. Training and evaluation are the
 * same code as `fastflow train` and `fastflow eval` (train_loop.c,
 * eval_run.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_paths.h"
#include "cli_util.h"
#include "commands.h"
#include "eval/dataset.h"
#include "eval_run.h"
#include "fastflow.h"
#include "report.h"
#include "synth_dataset.h"
#include "train_loop.h"

static const char *const CMD = "demo";

/* The resnet18 weights file as ../shared keeps it, where scripts/demo.sh
 * downloads the published one (relative to the source tree), and its URL. */
#define SHARED_WEIGHTS "../shared/weights/resnet18-in1k-to-layer3.safetensors"
#define FETCHED_WEIGHTS "weights/resnet18.tv_in1k.safetensors"
#define WEIGHTS_URL "https://huggingface.co/timm/resnet18.tv_in1k/resolve/main/model.safetensors"

#ifdef FF_CLI_SOURCE_DIR
#define SOURCE_DIR FF_CLI_SOURCE_DIR
#else
#define SOURCE_DIR "."
#endif

static void help(void) {
    char batch[96], side[96], threads[96];
    printf("usage: fastflow demo [--out DIR] [--data DIR [--category NAME]] [--epochs N]\n"
           "                     [--weights W.safetensors] [options]\n\n"
           "Runs the whole pipeline: generates a synthetic inspection data set (brushed metal,\n"
           "fabric or granite surfaces with scratches, spots and stains, with masks; the same\n"
           "bytes for the same seed) in DIR/data, trains a resnet18 FastFlow model on its normal\n"
           "images, evaluates it, and writes DIR/model.safetensors, DIR/metrics.json,\n"
           "heatmap overlays in DIR/heatmaps/<type>/ and the HTML report DIR/report.html.\n\n"
           "  --out DIR          output folder (default fastflow-demo)\n"
           "  --data DIR         use this MVTec AD category instead of generating one\n"
           "  --category NAME    with --data: DIR/NAME\n"
           "  --epochs N         training epochs (default 8)\n"
           "  --batch N          batch size, %s (default 16)\n"
           "  --weights FILE     resnet18 weights (torchvision/timm safetensors); default: the\n"
           "                     first of $FASTFLOW_WEIGHTS, " SHARED_WEIGHTS "\n"
           "                     and " FETCHED_WEIGHTS ", each looked up from the\n"
           "                     current folder and from the source tree\n"
           "  --size N           image and model input side (default 256): %s,\n"
           "                     and at most 1024 for the synthetic images\n"
           "  --texture NAME     synthetic surface: metal (default), fabric or granite\n"
           "  --train N          synthetic training images (default 60)\n"
           "  --test-good N      synthetic good test images (default 10)\n"
           "  --test-defect N    synthetic test images per defect type (default 10)\n"
           "  --seed N           data set, flow initialisation and shuffling seed (default 0)\n"
           "  --generate-only    only write the synthetic data set to DIR/data (no weights needed)\n"
           "  --threads N        computation threads, %s (0: all cores)\n",
           cli_param_bounds(FF_OBJECT_TRAINER, FF_TRAINER_BATCH_SIZE, batch, sizeof batch),
           cli_param_bounds(FF_OBJECT_FLOW_OPTIONS, FF_FLOW_INPUT_WIDTH, side, sizeof side),
           cli_param_help(FF_OBJECT_GLOBAL, FF_GLOBAL_NUM_THREADS, threads, sizeof threads));
}

/* The first existing weights file among the documented places, or NULL. */
static const char *find_weights(const char *given, char *buf, size_t n) {
    if (given) return given;
    const char *env = getenv("FASTFLOW_WEIGHTS");
    if (env && env[0]) return env;
    const char *const rel[2] = {SHARED_WEIGHTS, FETCHED_WEIGHTS};
    for (int i = 0; i < 2; i++) {
        if (cli_is_file(rel[i])) return rel[i];
        if (cli_join(buf, n, SOURCE_DIR, rel[i]) && cli_is_file(buf)) return buf;
    }
    return NULL;
}

static void explain_weights(void) {
    fprintf(stderr,
            "fastflow %s: no resnet18 weights found. The demo needs ImageNet resnet18 weights, e.g.\n"
            "timm's resnet18.tv_in1k (BSD-3-Clause, 47 MB). Download them:\n"
            "  mkdir -p %s/weights\n"
            "  curl -L -o %s/" FETCHED_WEIGHTS " \\\n"
            "       " WEIGHTS_URL "\n"
            "(scripts/demo.sh does this), then run the demo again; or pass --weights FILE, or set\n"
            "FASTFLOW_WEIGHTS=FILE. Looked for: --weights, $FASTFLOW_WEIGHTS, " SHARED_WEIGHTS " and\n"
            FETCHED_WEIGHTS " (from the current folder and from %s).\n",
            CMD, SOURCE_DIR, SOURCE_DIR, SOURCE_DIR);
}

typedef struct {
    const char *out, *data, *category, *weights, *texture;
    int32_t epochs, batch, size, n_train, n_good, n_defect;
    int64_t seed, threads;
    bool generate_only;
} demo_args;

static int parse(int argc, char **argv, demo_args *a) {
    bool bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            help();
            return -1;
        }
        if (cli_flag(argv, i, "--generate-only")) {
            a->generate_only = true;
            continue;
        }
        if (cli_opt_str(argc, argv, &i, "--out", &a->out, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--data", &a->data, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--category", &a->category, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--weights", &a->weights, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--texture", &a->texture, &bad)) continue;
        if (cli_opt_i32(argc, argv, &i, "--epochs", 1, 100000, &a->epochs, &bad)) continue;
        if (cli_opt_param_i32(argc, argv, &i, "--batch", FF_OBJECT_TRAINER, FF_TRAINER_BATCH_SIZE, &a->batch, &bad))
            continue;
        if (cli_opt_param_i32(argc, argv, &i, "--size", FF_OBJECT_FLOW_OPTIONS, FF_FLOW_INPUT_WIDTH, &a->size, &bad))
            continue;
        if (cli_opt_i32(argc, argv, &i, "--train", 1, 100000, &a->n_train, &bad)) continue;
        if (cli_opt_i32(argc, argv, &i, "--test-good", 1, 100000, &a->n_good, &bad)) continue;
        if (cli_opt_i32(argc, argv, &i, "--test-defect", 1, 100000, &a->n_defect, &bad)) continue;
        if (cli_opt_param_i64(argc, argv, &i, "--seed", FF_OBJECT_FLOW_OPTIONS, FF_FLOW_SEED, &a->seed, &bad)) continue;
        if (cli_opt_param_i64(argc, argv, &i, "--threads", FF_OBJECT_GLOBAL, FF_GLOBAL_NUM_THREADS, &a->threads,
                              &bad))
            continue;
        fprintf(stderr, "fastflow %s: unknown option '%s'\n", CMD, argv[i]);
        bad = true;
    }
    if (bad) return cli_usage_error(CMD, "invalid arguments");
    /* the synthetic images are drawn at the model's size: keep them small */
    if (a->size > 1024) return cli_usage_error(CMD, "--size is at most 1024 for the demo");
    if (a->category && !a->data) return cli_usage_error(CMD, "--category needs --data");
    if (a->generate_only && a->data) return cli_usage_error(CMD, "--generate-only and --data exclude each other");
    if (a->texture && synth_texture_from_name(a->texture) < 0)
        return cli_usage_error(CMD, "--texture must be metal, fabric or granite");
    return 0;
}

int ff_cmd_demo(int argc, char **argv) {
    demo_args a = {0};
    a.out = "fastflow-demo";
    a.epochs = 8;
    a.batch = 16;
    a.size = 256;
    a.n_train = 60;
    a.n_good = 10;
    a.n_defect = 10;
    int rc = parse(argc, argv, &a);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (a.threads > 0) ff_global_set_i64(FF_GLOBAL_NUM_THREADS, a.threads);

    char wbuf[4096];
    const char *weights = find_weights(a.weights, wbuf, sizeof wbuf);
    if (!weights && !a.generate_only) {
        explain_weights();
        return 1;
    }
    if (!a.generate_only && !cli_is_file(weights)) {
        fprintf(stderr, "fastflow %s: weights file %s%s does not exist\n", CMD, weights,
                a.weights ? "" : " (from $FASTFLOW_WEIGHTS)");
        return 1;
    }
    if (cli_mkdir_p(CMD, a.out) != 0) return 1;

    char data_dir[4096], model_path[4096], heat_dir[4096], json_path[4096], report_path[4096];
    if (!cli_join(model_path, sizeof model_path, a.out, "model.safetensors") ||
        !cli_join(heat_dir, sizeof heat_dir, a.out, "heatmaps") ||
        !cli_join(json_path, sizeof json_path, a.out, "metrics.json") ||
        !cli_join(report_path, sizeof report_path, a.out, "report.html") ||
        !cli_join(data_dir, sizeof data_dir, a.out, "data")) {
        fprintf(stderr, "fastflow %s: output folder name too long\n", CMD);
        return 1;
    }
    double t_start = cli_now_seconds(), t_data = 0.0;
    if (!a.data) {
        synth_dataset_config c;
        synth_dataset_defaults(&c);
        c.params.size = a.size;
        c.params.seed = (uint64_t)a.seed;
        if (a.texture) c.params.texture = synth_texture_from_name(a.texture);
        c.num_train = a.n_train;
        c.num_test_good = a.n_good;
        c.num_test_defect = a.n_defect;
        printf("[1/3] generating the synthetic data set (%s, %dx%d, seed %lld) in %s\n",
               synth_texture_name(c.params.texture), (int)a.size, (int)a.size, (long long)a.seed, data_dir);
        fflush(stdout);
        if (synth_dataset_write(CMD, &c, data_dir) != 0) return 1;
        t_data = cli_now_seconds() - t_start;
        printf("      %d training images, %d good and 3 x %d defect test images with masks (%.1f s)\n",
               (int)a.n_train, (int)a.n_good, (int)a.n_defect, t_data);
        if (a.generate_only) return 0;
    } else {
        printf("[1/3] using the data set %s%s%s\n", a.data, a.category ? "/" : "", a.category ? a.category : "");
    }

    ff_dataset *ds = NULL;
    ff_flow *flow = NULL;
    eval_result r = {0};
    rc = 1;
    ff_status st = ff_dataset_open(a.data ? a.data : data_dir, a.category, &ds);
    if (st != FF_OK) return cli_fail(CMD, a.data ? a.data : data_dir, st);
    if (ds->num_train == 0 || ds->num_test == 0) {
        fprintf(stderr, "fastflow %s: %s needs train/good and test images\n", CMD, ds->root);
        goto done;
    }

    train_args t;
    train_args_defaults(&t);
    t.arch = "resnet18";
    t.weights = weights;
    t.epochs = a.epochs;
    t.batch = a.batch;
    t.size = a.size;
    t.seed = a.seed;
    printf("[2/3] training resnet18 FastFlow (%d epochs, batch %d, %dx%d) on %zu images; weights %s\n",
           (int)a.epochs, (int)a.batch, (int)a.size, (int)a.size, ds->num_train, weights);
    fflush(stdout);
    double t0 = cli_now_seconds();
    if (train_model(CMD, &t, ds, &flow) != 0) goto done;
    double t_train = cli_now_seconds() - t0;
    if ((st = ff_flow_save(flow, model_path, 1)) != FF_OK) {
        rc = cli_fail(CMD, model_path, st);
        goto done;
    }

    printf("[3/3] evaluating on %zu test images\n", ds->num_test);
    fflush(stdout);
    if (eval_run(CMD, flow, ds, heat_dir, 1, FF_PRECISION_FP32, &r) != 0) goto done;
    if (eval_write_json(CMD, &r, model_path, ds->root, json_path) != 0) goto done;
    report_input in = {model_path, flow, ds, &r, REPORT_DEFAULT_MAX_IMAGES};
    if (report_write(CMD, report_path, &in) != 0) goto done;

    printf("\n");
    eval_print_table(&r, stdout);
    printf("\ntime: data %.1f s, training %.1f s, evaluation %.1f s (%.1f ms per image), total %.1f s\n", t_data,
           t_train, r.seconds, 1e3 * r.seconds / (double)ds->num_test, cli_now_seconds() - t_start);
    printf("model    %s\nmetrics  %s\nheatmaps %s/<type>/<image>.png\n", model_path, json_path, heat_dir);
    if (!a.data) printf("data     %s\n", data_dir);
    printf("report   %s (open it in a browser)\n", report_path);
    rc = 0;
done:
    eval_result_free(&r);
    ff_flow_destroy(flow);
    ff_dataset_destroy(ds);
    return rc;
}
