/* Training memory with a feature-cache budget (FF_TRAINER_CACHE_MEMORY):
 * trains a flow over a backbone with random weights (the tests' seeded
 * generator; memory and time do not depend on the values) on N generated
 * images for one epoch and reports the peak RSS, the bytes of features in
 * memory and in the spill file, the time to add the images (one backbone
 * forward each: what recomputing the features would cost per epoch) and
 * the time of the epoch.
 *
 *   bench_train_memory [--arch A] [--images N] [--size S] [--batch B] [--cache-memory BYTES]
 *                      [--epochs E] [--max-batches M] [--threads T]
 *
 * --max-batches M stops after M batches of the first epoch: the peak RSS is
 * reached in the first batch (every buffer exists from then on), so this
 * measures the memory of a budget without the hour an epoch takes.
 *
 * Defaults: wide_resnet50_2, 3000 images of 256x256, batch 8, no budget,
 * 1 epoch, 2 threads. bench/run_train_memory.sh runs the cases. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "backbone_testlib.h"
#include "bench_util.h"

#define PROG "bench_train_memory"

/* A smooth pseudo-random texture with a few blobs: varied enough that the
 * features are not constant (speed does not depend on them). */
static void make_image(uint32_t seed, int32_t side, uint8_t *rgb) {
    uint32_t s = seed * 2654435761u + 1u;
    const float fx = 0.02f + 0.1f * bench_uniform(&s), fy = 0.02f + 0.1f * bench_uniform(&s);
    const float bx = side * bench_uniform(&s), by = side * bench_uniform(&s), r2 = 40.0f + 400.0f * bench_uniform(&s);
    for (int32_t y = 0; y < side; y++)
        for (int32_t x = 0; x < side; x++) {
            float v = 127.0f + 60.0f * (float)((x * 7 + y * 13) % 17) / 17.0f;
            v += 40.0f * (float)(((int32_t)(x * fx) + (int32_t)(y * fy)) & 1);
            if ((x - bx) * (x - bx) + (y - by) * (y - by) < r2) v *= 0.5f;
            uint8_t *p = rgb + 3 * ((size_t)y * (size_t)side + (size_t)x);
            p[0] = (uint8_t)v;
            p[1] = (uint8_t)(v * 0.9f);
            p[2] = (uint8_t)(255.0f - v);
        }
}

static double peak_rss_mib(void) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_maxrss / 1024.0; /* KiB on Linux */
}

int main(int argc, char **argv) {
    const char *arch = "wide_resnet50_2";
    int32_t images = 3000, size = 256, batch = 8, epochs = 1;
    int64_t max_batches = 0; /* 0: whole epochs */
    int64_t budget = 0, threads = 2;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--arch") && i + 1 < argc) arch = argv[++i];
        else if (!strcmp(argv[i], "--images") && i + 1 < argc) images = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--size") && i + 1 < argc) size = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) batch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--epochs") && i + 1 < argc) epochs = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--cache-memory") && i + 1 < argc) budget = strtoll(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--max-batches") && i + 1 < argc) max_batches = strtoll(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = strtoll(argv[++i], NULL, 10);
        else {
            fprintf(stderr,
                    "usage: %s [--arch A] [--images N] [--size S] [--batch B] [--cache-memory BYTES] [--epochs E] "
                    "[--max-batches M] [--threads T]\n",
                    PROG);
            return 2;
        }
    }
    ff_status st = ff_global_set_i64(FF_GLOBAL_NUM_THREADS, threads);
    if (st != FF_OK) return bench_fail(PROG, "threads", st);
    size_t wsize = 0;
    uint8_t *weights = bt_random_weights(arch, 1, "", NULL, NULL, &wsize, NULL, NULL);
    if (!weights) {
        fprintf(stderr, "%s: no random weights for %s\n", PROG, arch);
        return 1;
    }
    ff_backbone *bb = NULL;
    ff_flow_options *opts = NULL;
    ff_flow *flow = NULL;
    ff_trainer *tr = NULL;
    if ((st = ff_backbone_load_from_memory(arch, weights, wsize, &bb)) != FF_OK) return bench_fail(PROG, "backbone", st);
    free(weights);
    if ((st = ff_flow_options_create(&opts)) != FF_OK || (st = ff_flow_options_set_i32(opts, FF_FLOW_INPUT_HEIGHT, size)) ||
        (st = ff_flow_options_set_i32(opts, FF_FLOW_INPUT_WIDTH, size)) || (st = ff_flow_create(bb, opts, &flow)) ||
        (st = ff_trainer_create(flow, &tr)) || (st = ff_trainer_set_i32(tr, FF_TRAINER_BATCH_SIZE, batch)) ||
        (st = ff_trainer_set_i64(tr, FF_TRAINER_CACHE_MEMORY, budget)))
        return bench_fail(PROG, "creating the trainer", st);
    int32_t only3 = 0;
    ff_flow_get_i32(flow, FF_FLOW_CONV3X3_ONLY, &only3);
    printf("%s: %s, %d images of %dx%d, %s kernels, batch %d, cache budget %lld bytes%s, %lld threads\n", PROG, arch,
           (int)images, (int)size, (int)size, only3 ? "3x3-only" : "alternating 3x3/1x1", (int)batch, (long long)budget,
           budget ? "" : " (none)", (long long)threads);
    fflush(stdout);
    printf("peak RSS after creating the trainer: %.0f MiB\n", peak_rss_mib());
    uint8_t *rgb = malloc((size_t)size * (size_t)size * 3);
    if (!rgb) return 1;
    double t0 = bench_now_ms();
    for (int32_t i = 0; i < images; i++) {
        make_image((uint32_t)i, size, rgb);
        if ((st = ff_trainer_add_image(tr, rgb, size, size, 0, FF_PIXEL_RGB8)) != FF_OK)
            return bench_fail(PROG, "adding an image", st);
    }
    double add_ms = bench_now_ms() - t0;
    free(rgb);
    int64_t bytes = 0, spilled = 0;
    ff_trainer_get_i64(tr, FF_TRAINER_FEATURE_BYTES, &bytes);
    ff_trainer_get_i64(tr, FF_TRAINER_FEATURE_BYTES_SPILLED, &spilled);
    printf("added %d images in %.1f s (%.1f ms per image: the backbone forward a recompute-per-epoch cache would "
           "repeat every epoch); features %.1f MiB, %.1f MiB of them spilled; peak RSS %.0f MiB\n",
           (int)images, add_ms / 1e3, add_ms / images, (double)bytes / 1048576.0, (double)spilled / 1048576.0,
           peak_rss_mib());
    fflush(stdout);
    int64_t nb = 0;
    ff_trainer_get_i64(tr, FF_TRAINER_BATCHES_PER_EPOCH, &nb);
    const int64_t every = nb >= 10 ? nb / 10 : 1; /* a progress line per tenth of the epoch */
    int stopped = 0;
    for (int32_t e = 0; e < epochs; e++) {
        double sum = 0;
        t0 = bench_now_ms();
        /* batch by batch (as ff_trainer_run_epoch does), so that a long run
         * shows its peak RSS (reached in the first batch) and its rate early */
        for (int64_t b = 1; b <= nb; b++) {
            float loss = 0;
            if ((st = ff_trainer_run_batch(tr, &loss)) != FF_OK) return bench_fail(PROG, "training", st);
            sum += loss;
            if (b == max_batches) {
                const double ms = bench_now_ms() - t0;
                printf("stopped after %lld of %lld batches (--max-batches): %.1f s (%.1f ms per image); peak RSS %.0f "
                       "MiB\n",
                       (long long)b, (long long)nb, ms / 1e3, ms / (double)(b * batch), peak_rss_mib());
                stopped = 1;
                break;
            }
            if (b % every == 0 && b < nb) {
                const double ms = bench_now_ms() - t0;
                printf("  epoch %d: batch %lld/%lld, %.0f s, %.0f s to go; peak RSS %.0f MiB\n", (int)e + 1,
                       (long long)b, (long long)nb, ms / 1e3, ms / 1e3 * (double)(nb - b) / (double)b, peak_rss_mib());
                fflush(stdout);
            }
        }
        if (stopped) break;
        double ms = bench_now_ms() - t0;
        printf("epoch %d: %.1f s (%.1f ms per image), loss %g; peak RSS %.0f MiB\n", (int)e + 1, ms / 1e3, ms / images,
               sum / (double)nb, peak_rss_mib());
        fflush(stdout);
    }
    ff_trainer_destroy(tr);
    ff_flow_destroy(flow);
    ff_flow_options_destroy(opts);
    ff_backbone_destroy(bb);
    return 0;
}
