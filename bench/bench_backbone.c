/* Backbone speed: resnet18 to layer3 with the real weights, 256x256, in
 * ms per image at batch 1 and batch 8, after a warm-up; min and median
 * over N timed runs. bench/run_backbone.sh prints it next to PyTorch's.
 *
 *   bench_backbone [--weights W.safetensors] [--runs N] [--threads T]
 *
 * Default weights: $FF_SHARED_DIR/weights/resnet18-in1k-to-layer3.safetensors
 * (FF_SHARED_DIR defaults to ../shared). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastflow.h"
#include "bench_util.h"

static int bench(ff_backbone *bb, int32_t batch, int runs) {
    const int32_t side = 256;
    const size_t n = (size_t)batch * 3 * side * side;
    float *in = malloc(n * sizeof *in);
    double *t = malloc((size_t)runs * sizeof *t);
    if (!in || !t) return 1;
    bench_fill_input(in, n);
    ff_extractor *ex = NULL;
    ff_status st = ff_extractor_create(bb, &ex);
    if (st != FF_OK) return bench_fail("bench_backbone", "ff_extractor_create", st);
    for (int i = 0; i < 3 && st == FF_OK; i++) st = ff_extractor_run(ex, in, batch, side, side); /* warm-up */
    for (int i = 0; i < runs && st == FF_OK; i++) {
        double t0 = bench_now_ms();
        st = ff_extractor_run(ex, in, batch, side, side);
        t[i] = (bench_now_ms() - t0) / batch;
    }
    if (st != FF_OK) return bench_fail("bench_backbone", "ff_extractor_run", st);
    bench_sort(t, runs);
    printf("C       resnet18 256x256 batch %d: min %.2f ms/image, median %.2f ms/image (%d runs)\n", (int)batch, t[0],
           t[runs / 2], runs);
    ff_extractor_destroy(ex);
    free(in);
    free(t);
    return 0;
}

int main(int argc, char **argv) {
    const char *weights = NULL;
    int runs = 20, threads = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--weights") && i + 1 < argc) weights = argv[++i];
        else if (!strcmp(argv[i], "--runs") && i + 1 < argc) runs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: %s [--weights W.safetensors] [--runs N] [--threads T]\n", argv[0]);
            return 2;
        }
    }
    if (runs < 1) runs = 1;
    char path[4096];
    if (!weights) {
        const char *shared = getenv("FF_SHARED_DIR");
        snprintf(path, sizeof path, "%s/weights/resnet18-in1k-to-layer3.safetensors",
                 shared && *shared ? shared : "../shared");
        weights = path;
    }
    ff_status st = ff_global_set_i64(FF_GLOBAL_NUM_THREADS, threads);
    if (st != FF_OK) return bench_fail("bench_backbone", "threads", st);
    ff_backbone *bb = NULL;
    st = ff_backbone_load("resnet18", weights, &bb);
    if (st != FF_OK) return bench_fail("bench_backbone", "ff_backbone_load", st);
    int rc = bench(bb, 1, runs) || bench(bb, 8, runs);
    ff_backbone_destroy(bb);
    return rc;
}
