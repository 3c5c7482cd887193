/* End-to-end scoring speed of FF_PRECISION_BF16 and FF_PRECISION_FP32_WINOGRAD
 * next to FF_PRECISION_FP32 in the same run: ff_scorer_score_tensor from a pre-processed tensor to
 * maps and scores (backbone, LayerNorm, flows, maps), ms/image at batch 1
 * and 8, min and median over N timed runs after a warm-up. The two
 * scorers alternate run by run so that load on the machine hits both
 * alike. Also prints how far the bf16 maps are from the float32 ones.
 *
 *   bench_precision [--model FILE | --weights RESNET18.safetensors] [--runs N] [--threads T]
 *                   [--input FILE.f32] [--maps-out PREFIX]
 *
 * --input: 8 pre-processed images, raw float32 [8, 3, H, W] (as
 * bench/ort_export.py writes them; default: fixed pseudo-random values);
 * --maps-out: writes each precision's batch-8 maps to PREFIX<name>.f32.
 *
 * --model: a trained model file (e.g. the bottle model of
 * tools/train_eval_category.sh); --weights: a fresh resnet18 flow (8 steps,
 * 3x3) over those backbone weights; speed does not depend on the values. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_util.h"

#define PROG "bench_precision"

#define MODES 3
static const int32_t k_prec[MODES] = {FF_PRECISION_FP32, FF_PRECISION_BF16, FF_PRECISION_FP32_WINOGRAD};
static const char *const k_name[MODES] = {"fp32", "bf16", "fp32-winograd"};

static int run_once(ff_scorer *sc, const float *in, int32_t batch, float *maps, size_t cap, float *scores,
                    double *ms, double *cpu) {
    double t0 = bench_now_ms(), c0 = bench_cpu_ms();
    ff_status st = ff_scorer_score_tensor(sc, in, batch, maps, cap, scores, (size_t)batch);
    *ms = (bench_now_ms() - t0) / batch;
    *cpu = (bench_cpu_ms() - c0) / batch;
    if (st != FF_OK) return bench_fail(PROG, "ff_scorer_score_tensor", st);
    return 0;
}

/* Times every available mode at one batch size, round-robin. */
static const char *g_maps_out; /* --maps-out */

static int write_maps(const char *name, const float *maps, size_t n) {
    char path[4096];
    snprintf(path, sizeof path, "%s%s.f32", g_maps_out, name);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(maps, sizeof(float), n, f) == n;
    if (f && fclose(f) != 0) ok = 0;
    if (!ok) fprintf(stderr, "%s: cannot write %s\n", PROG, path);
    return !ok;
}

static int bench_batch(ff_scorer *const *sc, const float *in, int32_t batch, size_t hw, int runs) {
    size_t cap = (size_t)batch * hw;
    float *maps[MODES] = {0}, scores[MODES][8];
    double *t[MODES] = {0}, *c[MODES] = {0}, ms, cpu;
    int rc = 0;
    for (int m = 0; m < MODES; m++)
        if (sc[m] && (!(maps[m] = malloc(cap * sizeof(float))) || !(t[m] = malloc((size_t)runs * sizeof(double))) ||
                      !(c[m] = malloc((size_t)runs * sizeof(double)))))
            rc = 1;
    for (int w = 0; w < 3 && !rc; w++) /* warm-up: primitives, weight caches, page faults */
        for (int m = 0; m < MODES && !rc; m++)
            if (sc[m]) rc = run_once(sc[m], in, batch, maps[m], cap, scores[m], &ms, &cpu);
    for (int r = 0; r < runs && !rc; r++)
        for (int m = 0; m < MODES && !rc; m++)
            if (sc[m]) rc = run_once(sc[m], in, batch, maps[m], cap, scores[m], &t[m][r], &c[m][r]);
    for (int m = 0; m < MODES && !rc; m++) {
        if (!sc[m]) continue;
        bench_sort(t[m], runs);
        bench_sort(c[m], runs);
        double err = 0, ref = 0, serr = 0;
        for (size_t i = 0; i < cap; i++) {
            err = fmax(err, fabs((double)maps[m][i] - (double)maps[0][i]));
            ref = fmax(ref, fabs((double)maps[0][i]));
        }
        for (int32_t i = 0; i < batch; i++) serr = fmax(serr, fabs((double)scores[m][i] - (double)scores[0][i]));
        printf("scoring batch %d %s: min %.2f ms/image, median %.2f ms/image (%d runs; CPU time min %.2f ms/image)",
               (int)batch, k_name[m], t[m][0], t[m][runs / 2], runs, c[m][0]);
        if (m > 0)
            printf("; speed-up vs fp32 %.2fx (min), %.2fx (median), %.2fx (CPU time); map error max %.3g (%.3g of max|map|), score "
                   "error max %.3g",
                   t[0][0] / t[m][0], t[0][runs / 2] / t[m][runs / 2], c[0][0] / c[m][0], err, ref > 0 ? err / ref : err, serr);
        printf("\n");
        if (g_maps_out && batch == 8 && write_maps(k_name[m], maps[m], cap)) rc = 1;
    }
    for (int m = 0; m < MODES; m++) {
        free(maps[m]);
        free(t[m]);
        free(c[m]);
    }
    return rc;
}

int main(int argc, char **argv) {
    const char *model = NULL, *weights = NULL, *input = NULL;
    int runs = 20, threads = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) model = argv[++i];
        else if (!strcmp(argv[i], "--weights") && i + 1 < argc) weights = argv[++i];
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--input") && i + 1 < argc) input = argv[++i];
        else if (!strcmp(argv[i], "--maps-out") && i + 1 < argc) g_maps_out = argv[++i];
        else {
            fprintf(stderr, "usage: %s [--model FILE | --weights RESNET18] [--runs N] [--threads T]\n", PROG);
            return 2;
        }
    }
    if ((!model) == (!weights) || runs < 1) {
        fprintf(stderr, "%s: give exactly one of --model and --weights, and --runs >= 1\n", PROG);
        return 2;
    }
    int32_t bf16 = 0;
    ff_cpu_supports(FF_CPU_BF16, &bf16);
    if (!bf16) printf("%s: this CPU has no native bf16 (ff_cpu_supports): bf16 is left out\n", PROG);
    ff_status st = ff_global_set_i64(FF_GLOBAL_NUM_THREADS, threads);
    if (st != FF_OK) return bench_fail(PROG, "threads", st);
    ff_backbone *bb = NULL;
    ff_flow *flow = NULL;
    if (model) st = ff_flow_load(model, NULL, &flow);
    else if ((st = ff_backbone_load("resnet18", weights, &bb)) == FF_OK) st = ff_flow_create(bb, NULL, &flow);
    if (st != FF_OK) return bench_fail(PROG, model ? "loading the model" : "creating the flow", st);
    ff_scorer *sc[MODES] = {0};
    for (int m = 0; m < MODES; m++) {
        if (k_prec[m] == FF_PRECISION_BF16 && !bf16) continue;
        if ((st = ff_scorer_create(flow, &sc[m])) != FF_OK ||
            (st = ff_scorer_set_i32(sc[m], FF_SCORER_PRECISION, k_prec[m])) != FF_OK)
            return bench_fail(PROG, "creating the scorers", st);
    }
    int32_t h = 0, w = 0;
    ff_scorer_map_shape(sc[0], &w, &h);
    const size_t hw = (size_t)h * (size_t)w;
    float *in = malloc(8 * 3 * hw * sizeof *in);
    if (!in) return 1;
    if (input) {
        FILE *f = fopen(input, "rb");
        size_t got = f ? fread(in, sizeof(float), 8 * 3 * hw, f) : 0;
        if (f) fclose(f);
        if (got != 8 * 3 * hw) {
            fprintf(stderr, "%s: %s does not hold 8 inputs of 3x%dx%d floats\n", PROG, input, (int)h, (int)w);
            return 1;
        }
    } else {
        bench_fill_input(in, 8 * 3 * hw);
    }
    printf("%s: %s, %dx%d input, %d threads\n", PROG, ff_backbone_arch(ff_flow_backbone(flow)), (int)w, (int)h,
           threads);
    int rc = bench_batch(sc, in, 1, hw, runs) || bench_batch(sc, in, 8, hw, runs);
    free(in);
    for (int m = 0; m < MODES; m++) ff_scorer_destroy(sc[m]);
    ff_flow_destroy(flow);
    ff_backbone_destroy(bb);
    return rc;
}
