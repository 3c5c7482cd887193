/* Flow engine speed: resnet18's three feature maps at 256x256
 * ([64,64,64], [128,32,32], [256,16,16]), 8 steps, 3x3 kernels only
 * (anomalib's resnet18 FastFlow), random parameters and features.
 *   inference: LayerNorm + flow + anomaly map, ms/image at batch 1 and 8
 *   training:  forward + backward (all parameter gradients), ms/image at
 *              batch 32
 * min and median over N timed runs after a warm-up. bench/run_flow.sh
 * prints it next to the PyTorch reference (bench/flow_ref.py).
 *
 * Inference uses constant-parameter mode (weights kept in oneDNN's
 * formats between calls, as a scorer on a read-only flow should);
 * --reorder-weights measures the per-call weight reorders instead.
 * --train-precision bf16 runs the training step's convolutions in bf16
 * (FF_TRAINER_PRECISION's path; needs a CPU with native bf16).
 *
 *   bench_flow [--runs N] [--train-runs M] [--threads T] [--only infer|train] [--reorder-weights]
 *              [--train-precision fp32|bf16] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "flow/flow_engine.h"
#include "flow/flow_layout.h"
#include "bench_util.h"

static uint32_t g_rng = 12345;
static float uni(void) { return bench_uniform(&g_rng); } /* [0, 1) */

/* PyTorch's default Conv2d init, global_scale at its init (g = 1), a
 * slightly perturbed LayerNorm and random permutations. */
static void init_params(const ff_flow_layout *L, float *p, int32_t *perm) {
    for (int32_t l = 0; l < L->num_levels; l++) {
        const ff_flow_level_layout *lv = &L->level[l];
        size_t chw = (size_t)lv->c * lv->h * lv->w;
        for (size_t i = 0; i < chw; i++) {
            p[lv->norm_w + i] = 1.0f + 0.1f * (uni() - 0.5f);
            p[lv->norm_b + i] = 0.1f * (uni() - 0.5f);
        }
        for (int32_t k = 0; k < L->num_steps; k++) {
            const ff_flow_step_layout *s = &lv->step[k];
            size_t kk = (size_t)s->kernel * s->kernel;
            float b1 = 1.0f / sqrtf((float)(lv->c1 * kk)), b2 = 1.0f / sqrtf((float)(lv->hidden * kk));
            for (size_t i = s->w1; i < s->b1 + (size_t)lv->hidden; i++) p[i] = b1 * (2.0f * uni() - 1.0f);
            for (size_t i = s->w2; i < s->b2 + (size_t)(2 * lv->c2); i++) p[i] = b2 * (2.0f * uni() - 1.0f);
            for (int32_t c = 0; c < lv->c; c++) {
                p[s->global_scale + (size_t)c] = 9.986478501101022f;
                p[s->global_offset + (size_t)c] = 0.0f;
            }
            int32_t *q = perm + s->perm;
            for (int32_t c = 0; c < lv->c; c++) q[c] = c;
            for (int32_t c = lv->c - 1; c > 0; c--) {
                int32_t j = (int32_t)(uni() * (float)(c + 1));
                if (j > c) j = c;
                int32_t t = q[c];
                q[c] = q[j];
                q[j] = t;
            }
        }
    }
}

static void report(const char *what, int32_t batch, double *t, int runs) {
    bench_sort(t, runs);
    printf("C       flow %s batch %d: min %.2f ms/image, median %.2f ms/image (%d runs)\n", what, (int)batch, t[0],
           t[runs / 2], runs);
}

int main(int argc, char **argv) {
    int runs = 20, train_runs = 3, threads = 2, constant = 1;
    const char *only = NULL;
    int32_t train_precision = FF_PRECISION_FP32;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--train-runs") && i + 1 < argc) train_runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--reorder-weights")) constant = 0;
        else if (!strcmp(argv[i], "--train-precision") && i + 1 < argc && !strcmp(argv[i + 1], "bf16") && ++i)
            train_precision = FF_PRECISION_BF16;
        else if (!strcmp(argv[i], "--train-precision") && i + 1 < argc && !strcmp(argv[i + 1], "fp32") && ++i)
            train_precision = FF_PRECISION_FP32;
        else {
            fprintf(stderr, "usage: bench_flow [--runs N] [--train-runs M] [--threads T] [--only infer|train] "
                            "[--reorder-weights] [--train-precision fp32|bf16]\n");
            return 2;
        }
    }
    if (runs < 1 || train_runs < 1) return 2;
    ff_status st = ff_global_set_i64(FF_GLOBAL_NUM_THREADS, threads);
    if (st != FF_OK) return bench_fail("bench_flow", "ff_global_set_i64", st);
    const int32_t chw[3][3] = {{64, 64, 64}, {128, 32, 32}, {256, 16, 16}};
    ff_flow_layout L;
    st = ff_flow_layout_init(&L, 3, chw, 256, 256, 8, 1, 1.0f, 2.0f, 1);
    if (st != FF_OK) return bench_fail("bench_flow", "ff_flow_layout_init", st);
    float *params = malloc(L.num_params * sizeof(float));
    int32_t *perms = malloc(L.num_perm * sizeof(int32_t));
    const int32_t max_batch = 32;
    float *feats[3];
    for (int l = 0; l < 3; l++) {
        size_t n = (size_t)max_batch * chw[l][0] * chw[l][1] * chw[l][2];
        feats[l] = malloc(n * sizeof(float));
        if (!feats[l]) return 1;
        /* post-ReLU-like features */
        for (size_t i = 0; i < n; i++) {
            float v = 3.0f * uni() - 1.0f;
            feats[l][i] = v > 0.0f ? v : 0.0f;
        }
    }
    float *maps = malloc((size_t)max_batch * 256 * 256 * sizeof(float));
    float *grads = malloc(L.num_params * sizeof(float));
    double *t = malloc((size_t)(runs > train_runs ? runs : train_runs) * sizeof(double));
    if (!params || !perms || !maps || !grads || !t) return 1;
    init_params(&L, params, perms);
    const float *const *fp = (const float *const *)feats;

    if (!only || !strcmp(only, "infer")) {
        ff_flow_engine *e = NULL;
        if ((st = ff_flow_engine_create(&L, 0, &e)) != FF_OK)
            return bench_fail("bench_flow", "ff_flow_engine_create", st);
        if ((st = ff_flow_engine_set_params_constant(e, constant)) != FF_OK)
            return bench_fail("bench_flow", "constant params", st);
        const int32_t batches[2] = {1, 8};
        for (int b = 0; b < 2; b++) {
            int32_t n = batches[b];
            for (int i = 0; i < runs + 2; i++) { /* 2 warm-up runs */
                double t0 = bench_now_ms();
                if ((st = ff_flow_engine_forward(e, params, perms, fp, n, NULL, NULL, NULL)) != FF_OK)
                    return bench_fail("bench_flow", "forward", st);
                if ((st = ff_flow_engine_anomaly_maps(e, maps, (size_t)n * 256 * 256)) != FF_OK)
                    return bench_fail("bench_flow", "anomaly maps", st);
                if (i >= 2) t[i - 2] = (bench_now_ms() - t0) / n;
            }
            report("inference", n, t, runs);
        }
        ff_flow_engine_destroy(e);
    }
    if (!only || !strcmp(only, "train")) {
        ff_flow_engine *e = NULL;
        if ((st = ff_flow_engine_create(&L, 1, &e)) != FF_OK)
            return bench_fail("bench_flow", "ff_flow_engine_create", st);
        if ((st = ff_flow_engine_set_precision(e, train_precision)) != FF_OK)
            return bench_fail("bench_flow", "--train-precision", st);
        float loss = 0.0f;
        for (int i = 0; i < train_runs + 1; i++) { /* 1 warm-up run */
            double t0 = bench_now_ms();
            if ((st = ff_flow_engine_forward(e, params, perms, fp, max_batch, NULL, NULL, &loss)) != FF_OK)
                return bench_fail("bench_flow", "forward", st);
            if ((st = ff_flow_engine_backward(e, params, perms, grads)) != FF_OK)
                return bench_fail("bench_flow", "backward", st);
            if (i >= 1) t[i - 1] = (bench_now_ms() - t0) / max_batch;
        }
        report(train_precision == FF_PRECISION_BF16 ? "training step bf16" : "training step", max_batch, t,
               train_runs);
        ff_flow_engine_destroy(e);
    }
    for (int l = 0; l < 3; l++) free(feats[l]);
    free(params);
    free(perms);
    free(maps);
    free(grads);
    free(t);
    return 0;
}
