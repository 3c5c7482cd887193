/* Soak test (issue 12 item 11; not in the test suite): T threads, each
 * with its own scorer over one shared flow, score N images in total by
 * cycling through a set of image files, for hours if asked. Checks that
 *  - every result (score and map) is bit-identical to one thread's, and
 *  - the process RSS, sampled every 1000 images, stays flat (within
 *    --rss-tolerance-kb, default 1024) after a warm-up of one pass per
 *    thread over the set.
 * Prints the RSS samples and exits 1 on any difference.
 *
 *   bench/soak MODEL.safetensors IMAGE... [--threads 4] [--total 20000]
 *             [--omp-threads 1] [--rss-tolerance-kb 1024]
 *
 * The model may be any fastflow model file (e.g. one trained by
 * `fastflow train`); docs/reliability.md gives the command used. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_util.h"

static const ff_flow *g_flow;
static const char **g_paths;
static int g_n_paths;
static float *g_ref_scores, *g_ref_maps;
static size_t g_map;
static long g_total;
static atomic_long g_next, g_done, g_mismatch, g_errors;
static long *g_rss_kb; /* one sample per 1000 images */
static atomic_long g_samples;

static long rss_kb(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static void *work(void *arg) {
    (void)arg;
    ff_scorer *sc = NULL;
    if (ff_scorer_create(g_flow, &sc) != FF_OK) {
        atomic_fetch_add(&g_errors, 1);
        return NULL;
    }
    float *map = malloc(g_map * sizeof *map);
    for (;;) {
        long i = atomic_fetch_add(&g_next, 1);
        if (i >= g_total) break;
        int k = (int)(i % g_n_paths);
        float score = 0.0f;
        ff_status st = ff_scorer_score_file(sc, g_paths[k], map, g_map, &score);
        if (st != FF_OK) {
            fprintf(stderr, "soak: %s: %s\n", g_paths[k], ff_last_error_message());
            atomic_fetch_add(&g_errors, 1);
        } else if (memcmp(&score, &g_ref_scores[k], sizeof score) != 0 ||
                   memcmp(map, g_ref_maps + (size_t)k * g_map, g_map * sizeof *map) != 0) {
            atomic_fetch_add(&g_mismatch, 1);
        }
        long done = atomic_fetch_add(&g_done, 1) + 1;
        if (done % 1000 == 0) g_rss_kb[atomic_fetch_add(&g_samples, 1)] = rss_kb();
    }
    free(map);
    ff_scorer_destroy(sc);
    return NULL;
}

int main(int argc, char **argv) {
    int threads = 4;
    long omp = 1, tol_kb = 1024;
    g_total = 20000;
    const char *model = NULL;
    g_paths = calloc((size_t)argc, sizeof *g_paths);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--total") && i + 1 < argc) g_total = atol(argv[++i]);
        else if (!strcmp(argv[i], "--omp-threads") && i + 1 < argc) omp = atol(argv[++i]);
        else if (!strcmp(argv[i], "--rss-tolerance-kb") && i + 1 < argc) tol_kb = atol(argv[++i]);
        else if (!model) model = argv[i];
        else g_paths[g_n_paths++] = argv[i];
    }
    if (!model || g_n_paths == 0 || threads < 1 || threads > 64 || g_total < 1000) {
        fprintf(stderr, "usage: soak MODEL IMAGE... [--threads T] [--total N>=1000] [--omp-threads K] "
                        "[--rss-tolerance-kb KB]\n");
        return 2;
    }
    ff_global_set_i64(FF_GLOBAL_NUM_THREADS, omp);
    ff_flow *flow = NULL;
    ff_status st = ff_flow_load(model, NULL, &flow);
    if (st != FF_OK) return bench_fail("soak", model, st);
    g_flow = flow;
    ff_scorer *one = NULL;
    int32_t w = 0, h = 0;
    if ((st = ff_scorer_create(flow, &one)) != FF_OK) return bench_fail("soak", "scorer", st);
    ff_scorer_map_shape(one, &w, &h);
    g_map = (size_t)w * (size_t)h;
    g_ref_scores = malloc((size_t)g_n_paths * sizeof *g_ref_scores);
    g_ref_maps = malloc((size_t)g_n_paths * g_map * sizeof *g_ref_maps);
    for (int k = 0; k < g_n_paths; k++)
        if ((st = ff_scorer_score_file(one, g_paths[k], g_ref_maps + (size_t)k * g_map, g_map, &g_ref_scores[k])) !=
            FF_OK)
            return bench_fail("soak", g_paths[k], st);
    ff_scorer_destroy(one);
    g_rss_kb = calloc((size_t)(g_total / 1000 + 2), sizeof *g_rss_kb);
    double t0 = bench_now_ms();
    pthread_t *tid = malloc((size_t)threads * sizeof *tid);
    for (int i = 0; i < threads; i++) pthread_create(&tid[i], NULL, work, NULL);
    for (int i = 0; i < threads; i++) pthread_join(tid[i], NULL);
    double secs = (bench_now_ms() - t0) / 1000.0;
    long n = atomic_load(&g_samples);
    /* warm-up: every thread's first pass over the set */
    long warm = ((long)threads * g_n_paths + 999) / 1000;
    long lo = -1, hi = -1;
    printf("soak: %ld images, %d threads x %ld OpenMP threads, %d distinct images, %.1f s (%.2f ms/image)\n",
           g_total, threads, omp, g_n_paths, secs, secs * 1000.0 / (double)g_total);
    printf("RSS every 1000 images (KiB):");
    for (long i = 0; i < n; i++) {
        printf("%s%ld", i % 10 ? " " : "\n  ", g_rss_kb[i]);
        if (i >= warm) {
            if (lo < 0 || g_rss_kb[i] < lo) lo = g_rss_kb[i];
            if (g_rss_kb[i] > hi) hi = g_rss_kb[i];
        }
    }
    printf("\nafter warm-up (%ld samples skipped): min %ld KiB, max %ld KiB, spread %ld KiB (tolerance %ld)\n",
           warm, lo, hi, hi - lo, tol_kb);
    printf("results differing from one thread: %ld; errors: %ld\n", atomic_load(&g_mismatch),
           atomic_load(&g_errors));
    int ok = atomic_load(&g_mismatch) == 0 && atomic_load(&g_errors) == 0 && lo >= 0 && hi - lo <= tol_kb;
    printf("%s\n", ok ? "PASS" : "FAIL");
    ff_flow_destroy(flow);
    return ok ? 0 : 1;
}
