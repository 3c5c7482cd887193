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

#include "backbone/vit_arch.h"
#include "fastflow.h"
#include "vit_testlib.h"
#include "bench_util.h"

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
        if (!data) return bench_fail("bench_vit", "generating random weights", FF_E_OUT_OF_MEMORY);
        st = ff_backbone_load_from_memory(arch, data, size, &bb);
        free(data);
    }
    if (st != FF_OK) return bench_fail("bench_vit", "loading the backbone", st);
    const int32_t side = a->img;
    const size_t n = (size_t)batch * 3 * (size_t)side * (size_t)side;
    float *in = malloc(n * sizeof *in);
    double *t = malloc((size_t)runs * sizeof *t);
    if (!in || !t) return 1;
    bench_fill_input(in, n);
    ff_extractor *ex = NULL;
    st = ff_extractor_create(bb, &ex);
    if (st != FF_OK) return bench_fail("bench_vit", "ff_extractor_create", st);
    st = ff_extractor_run(ex, in, batch, side, side); /* warm-up (builds the primitives) */
    for (int i = 0; i < runs && st == FF_OK; i++) {
        const double t0 = bench_now_ms();
        st = ff_extractor_run(ex, in, batch, side, side);
        t[i] = (bench_now_ms() - t0) / batch;
    }
    if (st != FF_OK) return bench_fail("bench_vit", "ff_extractor_run", st);
    bench_sort(t, runs);
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
    if (st != FF_OK) return bench_fail("bench_vit", "threads", st);
    if (arch) return bench(arch, weights, batch, runs);
    return bench("deit_base_distilled_patch16_384", NULL, batch, runs) ||
           bench("cait_m48_448", NULL, batch, runs);
}
