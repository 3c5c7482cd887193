/* Transformer backbone speed: deit_base_distilled_patch16_384 and
 * cait_m48_448 in ms per image at their input size, after a warm-up run;
 * min and median over N timed runs. Without --weights the weights are
 * random (generated here, F32; speed does not depend on the values).
 * bench/run_vit.sh prints it next to the PyTorch reference's figure.
 *
 *   bench_vit [--arch NAME] [--weights W.safetensors] [--batch N] [--runs N] [--threads T]
 *
 * Without --arch both architectures run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backbone/vit_arch.h"
#include "fastflow.h"
#include "vit_testlib.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int fail(const char *what, ff_status st) {
    fprintf(stderr, "bench_vit: %s: %s: %s\n", what, ff_status_string(st), ff_last_error_message());
    return 1;
}

static int bench(const char *arch, const char *weights, int32_t batch, int runs) {
    const ff_vit_arch *a = ff_vit_arch_find(arch);
    if (!a) {
        fprintf(stderr, "bench_vit: unknown transformer '%s'\n", arch);
        return 2;
    }
    ff_backbone *bb = NULL;
    ff_status st;
    if (weights) {
        st = ff_backbone_load(arch, weights, &bb);
    } else {
        size_t size = 0;
        uint8_t *data = vt_random_weights(a, 1, "", FF_DT_F32, &size);
        if (!data) return fail("generating random weights", FF_E_OUT_OF_MEMORY);
        st = ff_backbone_load_from_memory(arch, data, size, &bb);
        free(data);
    }
    if (st != FF_OK) return fail("loading the backbone", st);
    const int32_t side = a->img;
    const size_t n = (size_t)batch * 3 * (size_t)side * (size_t)side;
    float *in = malloc(n * sizeof *in);
    double *t = malloc((size_t)runs * sizeof *t);
    if (!in || !t) return 1;
    uint32_t s = 12345;
    for (size_t i = 0; i < n; i++) {
        s = s * 1664525u + 1013904223u;
        in[i] = (float)(s >> 8) / 16777216.0f * 4.0f - 2.0f;
    }
    ff_extractor *ex = NULL;
    st = ff_extractor_create(bb, &ex);
    if (st != FF_OK) return fail("ff_extractor_create", st);
    st = ff_extractor_run(ex, in, batch, side, side); /* warm-up (builds the primitives) */
    for (int i = 0; i < runs && st == FF_OK; i++) {
        const double t0 = now_ms();
        st = ff_extractor_run(ex, in, batch, side, side);
        t[i] = (now_ms() - t0) / batch;
    }
    if (st != FF_OK) return fail("ff_extractor_run", st);
    qsort(t, (size_t)runs, sizeof *t, cmp);
    printf("C       %s %dx%d batch %d: min %.1f ms/image, median %.1f ms/image (%d runs)\n", arch, (int)side,
           (int)side, (int)batch, t[0], t[runs / 2], runs);
    ff_extractor_destroy(ex);
    ff_backbone_destroy(bb);
    free(in);
    free(t);
    return 0;
}

int main(int argc, char **argv) {
    const char *arch = NULL, *weights = NULL;
    int runs = 3, threads = 2, batch = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--arch") && i + 1 < argc) arch = argv[++i];
        else if (!strcmp(argv[i], "--weights") && i + 1 < argc) weights = argv[++i];
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else {
            fprintf(stderr,
                    "usage: %s [--arch NAME] [--weights W.safetensors] [--batch N] [--runs N] [--threads T]\n",
                    argv[0]);
            return 2;
        }
    }
    if (runs < 1) runs = 1;
    if (batch < 1) batch = 1;
    if (weights && !arch) {
        fprintf(stderr, "bench_vit: --weights needs --arch\n");
        return 2;
    }
    ff_status st = ff_global_set_i64(FF_GLOBAL_NUM_THREADS, threads);
    if (st != FF_OK) return fail("threads", st);
    if (arch) return bench(arch, weights, batch, runs);
    return bench("deit_base_distilled_patch16_384", NULL, batch, runs) ||
           bench("cait_m48_448", NULL, batch, runs);
}
