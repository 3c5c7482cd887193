/* End-to-end scoring of encoded files: files on disk -> scores and maps.
 *
 *  1. Where the time goes: every file once, step by step on one thread
 *     (plus the computation threads): read, decode, resize (pre-processing:
 *     to float, antialiased resize, normalisation), backbone, flow (flows
 *     and raw anomaly maps), post-processing (score, map to the caller);
 *     each step's share of the total.
 *  2. Network-only images/s: ff_scorer_score_tensor on the same images
 *     pre-processed beforehand, at each batch size used below.
 *  3. ff_scorer_score_files images/s for each --config BATCH:JOBS (network
 *     batch, decoding threads; JOBS 0 = decode, then run, in turn), and its
 *     ratio to the network-only rate at the same batch (the target is
 *     >= 0.9: decoding hidden behind the network).
 * Times: min and median of --runs timed passes over all files after a
 * warm-up pass.
 *
 *   bench_pipeline (--model MODEL.safetensors | --weights RESNET18.safetensors [--size N])
 *                  [--runs N] [--threads T] [--config B:J]... [--no-maps] FILE|DIR...
 * A folder stands for its PNG/JPEG files (an MVTec AD category: its test
 * images). Without --model, a resnet18 FastFlow with random flow weights
 * (the speed does not depend on them) at --size (default 256).
 * bench/run_pipeline.sh runs it on ../shared's samples and sets. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"
#include "eval/dataset.h"
#include "image/image_input.h"
#include "score/scorer_internal.h"

#define MAX_CONFIGS 16
static const char *const PROG = "bench_pipeline";

typedef struct args {
    const char *model, *weights;
    int32_t size, runs, threads, maps;
    int32_t configs[MAX_CONFIGS][2];
    int n_configs;
    char **files;
    size_t n_files;
} args;

static void add_files(args *a, const char *arg) {
    ff_dataset *ds = NULL;
    size_t n = 1;
    char **src = (char **)&arg;
    if (ff_dataset_open(arg, NULL, &ds) == FF_OK) {
        n = ds->layout == FF_DATASET_MVTEC ? ds->num_test : ds->num_train;
        src = ds->layout == FF_DATASET_MVTEC ? ds->test_paths : ds->train_paths;
    }
    a->files = realloc(a->files, (a->n_files + n) * sizeof *a->files);
    for (size_t i = 0; i < n; i++) a->files[a->n_files++] = strdup(src[i]);
    ff_dataset_destroy(ds);
}

static int parse(int argc, char **argv, args *a) {
    a->size = 256;
    a->runs = 5;
    a->threads = 2;
    a->maps = 1;
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(argv[i], "--model") && v) a->model = argv[++i];
        else if (!strcmp(argv[i], "--weights") && v) a->weights = argv[++i];
        else if (!strcmp(argv[i], "--size") && v) a->size = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && v) a->runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && v) a->threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--no-maps")) a->maps = 0;
        else if (!strcmp(argv[i], "--config") && v && a->n_configs < MAX_CONFIGS) {
            int b = 0, j = 0;
            if (sscanf(argv[++i], "%d:%d", &b, &j) != 2) return 0;
            a->configs[a->n_configs][0] = b;
            a->configs[a->n_configs++][1] = j;
        } else if (argv[i][0] == '-') {
            return 0;
        } else {
            add_files(a, argv[i]);
        }
    }
    if (a->n_configs == 0) {
        static const int32_t def[][2] = {{1, 0}, {1, 1}, {4, 0}, {4, 1}, {8, 1}, {8, 2}};
        for (size_t k = 0; k < sizeof def / sizeof def[0]; k++) {
            a->configs[k][0] = def[k][0];
            a->configs[k][1] = def[k][1];
        }
        a->n_configs = (int)(sizeof def / sizeof def[0]);
    }
    return (a->model || a->weights) && a->n_files > 0 && a->runs > 0;
}

static ff_status make_flow(const args *a, ff_backbone **bb, ff_flow **flow) {
    if (a->model) return ff_flow_load(a->model, NULL, flow);
    ff_status st = ff_backbone_load("resnet18", a->weights, bb);
    ff_flow_options *o = NULL;
    if (st == FF_OK) st = ff_flow_options_create(&o);
    if (st == FF_OK) st = ff_flow_options_set_i32(o, FF_FLOW_INPUT_HEIGHT, a->size);
    if (st == FF_OK) st = ff_flow_options_set_i32(o, FF_FLOW_INPUT_WIDTH, a->size);
    if (st == FF_OK) st = ff_flow_create(*bb, o, flow);
    ff_flow_options_destroy(o);
    return st;
}

static void report(const char *what, double *t, int runs, size_t n) {
    bench_sort(t, runs);
    printf("%-34s %8.2f img/s (min time)  %8.2f img/s (median)\n", what, 1000.0 * (double)n / t[0],
           1000.0 * (double)n / t[runs / 2]);
}

/* 1: every step timed on its own, over all files. */
static int breakdown(const args *a, ff_scorer *s, const ff_flow *flow, float *map) {
    enum { READ, DECODE, RESIZE, BACKBONE, FLOW, POST, STEPS };
    static const char *const names[STEPS] = {"read", "decode", "resize", "backbone", "flow", "post-processing"};
    double t[STEPS] = {0};
    int32_t H, W;
    ff_scorer_model_size(s, &W, &H);
    ff_extractor *ex = NULL;
    ff_status st = ff_extractor_create(ff_flow_backbone(flow), &ex);
    if (st != FF_OK) return bench_fail(PROG, "extractor", st);
    ff_image_buffer buf = {0};
    float *input = malloc(sizeof(float) * 3 * (size_t)H * (size_t)W);
    for (int pass = 0; pass < 2; pass++) /* the first pass warms up */
        for (size_t i = 0; i < a->n_files; i++) {
            double t0 = bench_now_ms();
            size_t size = 0;
            if ((st = ff_image_read(&buf, a->files[i], &size)) != FF_OK) return bench_fail(PROG, a->files[i], st);
            double t1 = bench_now_ms();
            ff_raw_image img;
            if ((st = ff_decoder_run(&buf.dec, buf.file, size, a->files[i], &img)) != FF_OK)
                return bench_fail(PROG, a->files[i], st);
            double t2 = bench_now_ms();
            int32_t fmt = img.channels == 1 ? FF_PIXEL_GRAY8 : img.channels == 3 ? FF_PIXEL_RGB8 : FF_PIXEL_RGBA8;
            if (img.channels == 2) return bench_fail(PROG, "grey+alpha images are not benchmarked", FF_E_UNSUPPORTED);
            st = ff_preprocess_into(&buf.prep, img.pixels, img.width, img.height,
                                    (size_t)img.width * (size_t)img.channels, fmt, W, H, input);
            if (st != FF_OK) return bench_fail(PROG, a->files[i], st);
            double t3 = bench_now_ms();
            if ((st = ff_extractor_run(ex, input, 1, W, H)) != FF_OK) return bench_fail(PROG, "backbone", st);
            double t4 = bench_now_ms();
            if ((st = ff_scorer_run(s, input, 1)) != FF_OK) return bench_fail(PROG, "network", st);
            double t5 = bench_now_ms();
            float score;
            ff_scorer_finish_one(s, 0, 0, a->maps ? map : NULL, &score);
            double t6 = bench_now_ms();
            if (pass == 0) continue;
            t[READ] += t1 - t0;
            t[DECODE] += t2 - t1;
            t[RESIZE] += t3 - t2;
            t[BACKBONE] += t4 - t3;
            /* ff_scorer_run is backbone + flow: its flow part is the rest */
            t[FLOW] += (t5 - t4) - (t4 - t3);
            t[POST] += t6 - t5;
        }
    double total = 0;
    for (int k = 0; k < STEPS; k++) total += t[k];
    printf("time per image, step by step (%zu files, batch 1):\n", a->n_files);
    for (int k = 0; k < STEPS; k++)
        printf("  %-16s %8.3f ms  %5.1f%%\n", names[k], t[k] / (double)a->n_files, 100.0 * t[k] / total);
    printf("  %-16s %8.3f ms\n", "total", total / (double)a->n_files);
    ff_image_buffer_free(&buf);
    free(input);
    ff_extractor_destroy(ex);
    return 0;
}

int main(int argc, char **argv) {
    args a = {0};
    if (!parse(argc, argv, &a)) {
        fprintf(stderr,
                "usage: %s (--model MODEL | --weights RESNET18.safetensors [--size N]) [--runs N] [--threads T]\n"
                "       [--config BATCH:JOBS]... [--no-maps] FILE|DIR...\n", PROG);
        return 2;
    }
    ff_global_set_i64(FF_GLOBAL_NUM_THREADS, a.threads);
    ff_backbone *bb = NULL;
    ff_flow *flow = NULL;
    ff_scorer *s = NULL;
    ff_status st = make_flow(&a, &bb, &flow);
    if (st == FF_OK) st = ff_scorer_create(flow, &s);
    if (st != FF_OK) return bench_fail(PROG, "model", st);
    int32_t H, W;
    ff_scorer_model_size(s, &W, &H);
    size_t n = a.n_files, hw = (size_t)H * (size_t)W;
    printf("%zu files, model input %dx%d, %d computation threads, maps %s, %d timed runs\n", n, (int)W, (int)H,
           a.threads, a.maps ? "on" : "off", a.runs);
    float *maps = malloc(sizeof(float) * n * hw), *scores = malloc(sizeof(float) * n);
    int32_t *statuses = malloc(sizeof(int32_t) * n);
    if (breakdown(&a, s, flow, maps) != 0) return 1;

    /* the inputs, pre-processed once, for the network-only rate */
    float *inputs = malloc(sizeof(float) * 3 * hw * n);
    ff_image_buffer buf = {0};
    for (size_t i = 0; i < n; i++)
        if ((st = ff_image_file_to_input(&buf, a.files[i], W, H, inputs + 3 * hw * i)) != FF_OK)
            return bench_fail(PROG, a.files[i], st);
    ff_image_buffer_free(&buf);
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) bytes += strlen(a.files[i]) + 1;
    char *joined = malloc(bytes);
    for (size_t i = 0, at = 0; i < n; i++) {
        size_t len = strlen(a.files[i]) + 1;
        memcpy(joined + at, a.files[i], len);
        at += len;
    }

    double *t = malloc(sizeof(double) * (size_t)a.runs);
    double net_best[9] = {0};
    for (int c = 0; c < a.n_configs; c++) {
        int32_t b = a.configs[c][0];
        if (b < 1 || b > 8 || net_best[b] > 0) continue;
        for (int r = -1; r < a.runs; r++) {
            double t0 = bench_now_ms();
            for (size_t i = 0; i < n; i += (size_t)b) {
                int32_t k = n - i < (size_t)b ? (int32_t)(n - i) : b;
                st = ff_scorer_score_tensor(s, inputs + 3 * hw * i, k, a.maps ? maps + hw * i : NULL,
                                            a.maps ? hw * (size_t)k : 0, scores + i, (size_t)k);
                if (st != FF_OK) return bench_fail(PROG, "score_tensor", st);
            }
            if (r >= 0) t[r] = bench_now_ms() - t0;
        }
        char what[64];
        snprintf(what, sizeof what, "network only, batch %d:", (int)b);
        report(what, t, a.runs, n);
        net_best[b] = 1000.0 * (double)n / t[0];
    }
    for (int c = 0; c < a.n_configs; c++) {
        int32_t b = a.configs[c][0], j = a.configs[c][1];
        if ((st = ff_scorer_set_i32(s, FF_SCORER_BATCH, b)) != FF_OK ||
            (st = ff_scorer_set_i32(s, FF_SCORER_DECODE_THREADS, j)) != FF_OK)
            return bench_fail(PROG, "config", st);
        for (int r = -1; r < a.runs; r++) {
            double t0 = bench_now_ms();
            st = ff_scorer_score_files(s, joined, bytes, n, a.maps ? maps : NULL, a.maps ? n * hw : 0, scores, statuses);
            if (st != FF_OK) return bench_fail(PROG, "score_files", st);
            for (size_t i = 0; i < n; i++)
                if (statuses[i] != FF_OK) return bench_fail(PROG, a.files[i], statuses[i]);
            if (r >= 0) t[r] = bench_now_ms() - t0;
        }
        char what[64];
        snprintf(what, sizeof what, "files, batch %d, %d decode threads:", (int)b, (int)j);
        report(what, t, a.runs, n);
        printf("%-34s %8.3f (files / network-only images/s, min times)\n", "  ratio", 1000.0 * (double)n / t[0] / net_best[b]);
    }
    free(t);
    free(joined);
    free(inputs);
    free(maps);
    free(scores);
    free(statuses);
    for (size_t i = 0; i < n; i++) free(a.files[i]);
    free(a.files);
    ff_scorer_destroy(s);
    ff_flow_destroy(flow);
    ff_backbone_destroy(bb);
    return 0;
}
