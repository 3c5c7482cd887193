/* libFuzzer harness for the whole model-file loader, ff_flow_load: the
 * safetensors reader, the metadata parser, the layout checks, parameter and
 * permutation validation and the score statistics. Each input is written
 * to a temporary file and loaded twice: over a fixed random resnet18
 * backbone, and alone (which exercises the embedded-backbone path).
 *
 * Build, make seeds (small models in every variant), run:
 *   tests/fuzz/build.sh flow_load
 *   FF_FUZZ_WRITE_SEEDS=build-fuzz/flow-seeds build-fuzz/fuzz_flow_load
 *   mkdir -p build-fuzz/flow-corpus
 *   build-fuzz/fuzz_flow_load -max_total_time=60 -dict=tests/fuzz/flow_load.dict \
 *       build-fuzz/flow-corpus build-fuzz/flow-seeds
 *
 * Invariants (abort() on violation):
 *  - a failure is a documented status for a bad file (FF_E_BAD_FORMAT,
 *    FF_E_UNSUPPORTED, FF_E_INVALID_ARGUMENT for a backbone mismatch or a
 *    missing embedded backbone, FF_E_LIMIT_EXCEEDED, FF_E_OUT_OF_MEMORY),
 *    never FF_E_INTERNAL, with a message, and *out untouched;
 *  - a loaded flow saves, and the saved file loads back with the same
 *    options and statistics;
 *  - a loaded flow with a small input size scores a batch: FF_OK with
 *    finite scores, or FF_E_NUMERIC (finite but huge parameters may
 *    overflow), nothing else. */
// fuzz-sources: lib tests/backbone_testlib.c tests/test_util.c
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../backbone_testlib.h"
#include "fastflow.h"

static void check(int cond) {
    if (!cond) abort();
}

static ff_backbone *g_backbone;
static char g_in[64], g_out[64];

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static ff_flow *seed_flow(int32_t side, int32_t steps, int32_t only3, float hidden, int64_t seed) {
    ff_flow_options *o = NULL;
    ff_flow *f = NULL;
    check(ff_flow_options_create(&o) == FF_OK);
    check(ff_flow_options_set_i32(o, FF_FLOW_INPUT_HEIGHT, side) == FF_OK);
    check(ff_flow_options_set_i32(o, FF_FLOW_INPUT_WIDTH, side + 16) == FF_OK);
    check(ff_flow_options_set_i32(o, FF_FLOW_STEPS, steps) == FF_OK);
    check(ff_flow_options_set_i32(o, FF_FLOW_CONV3X3_ONLY, only3) == FF_OK);
    check(ff_flow_options_set_f32(o, FF_FLOW_HIDDEN_RATIO, hidden) == FF_OK);
    check(ff_flow_options_set_i64(o, FF_FLOW_SEED, seed) == FF_OK);
    check(ff_flow_create(g_backbone, o, &f) == FF_OK);
    ff_flow_options_destroy(o);
    return f;
}

/* Small models in each variant the format has: 3x3-only and alternating
 * subnets, with and without score statistics. */
static void write_seeds(const char *dir) {
    char path[512];
    mkdir(dir, 0755);
    for (int v = 0; v < 4; v++) {
        ff_flow *f = seed_flow(32, 1 + v % 2, v % 2, 0.0625f * (float)(1 + v), v);
        if (v >= 2) {
            ff_flow *g = NULL;
            check(ff_flow_with_statistics(f, -0.5f, -0.6f, -1.0f, -0.1f, v == 3 ? "seed" : NULL, &g) == FF_OK);
            ff_flow_destroy(f);
            f = g;
        }
        snprintf(path, sizeof path, "%s/model%d.safetensors", dir, v);
        check(ff_flow_save(f, path, 0) == FF_OK);
        ff_flow_destroy(f);
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    check(ff_global_set_i64(FF_GLOBAL_NUM_THREADS, 1) == FF_OK);
    check(ff_global_set_i64(FF_GLOBAL_MAX_IMAGE_PIXELS, 1 << 20) == FF_OK);
    size_t size = 0;
    uint8_t *w = bt_random_weights("resnet18", 7, "", NULL, NULL, &size, NULL, NULL);
    check(w != NULL);
    check(ff_backbone_load_from_memory("resnet18", w, size, &g_backbone) == FF_OK);
    free(w);
    const char *tmp = getenv("TMPDIR");
    snprintf(g_in, sizeof g_in, "%.30s/ff_fuzz_flow_%d.in", tmp ? tmp : "/tmp", (int)getpid());
    snprintf(g_out, sizeof g_out, "%.30s/ff_fuzz_flow_%d.out", tmp ? tmp : "/tmp", (int)getpid());
    const char *seeds = getenv("FF_FUZZ_WRITE_SEEDS");
    if (seeds) {
        write_seeds(seeds);
        exit(0);
    }
    return 0;
}

static int bad_file_status(ff_status st) {
    return st == FF_E_BAD_FORMAT || st == FF_E_UNSUPPORTED || st == FF_E_INVALID_ARGUMENT ||
           st == FF_E_LIMIT_EXCEEDED || st == FF_E_OUT_OF_MEMORY;
}

static void same_flow(const ff_flow *a, const ff_flow *b) {
    for (int32_t k = FF_FLOW_INPUT_HEIGHT; k <= FF_FLOW_CONV3X3_ONLY; k++) {
        int32_t x = -1, y = -2;
        check(ff_flow_get_i32(a, k, &x) == FF_OK && ff_flow_get_i32(b, k, &y) == FF_OK && x == y);
    }
    for (int32_t k = FF_FLOW_HIDDEN_RATIO; k <= FF_FLOW_CLAMP; k++) {
        float x = -1, y = -2;
        check(ff_flow_get_f32(a, k, &x) == FF_OK && ff_flow_get_f32(b, k, &y) == FF_OK && x == y);
    }
    for (int32_t k = FF_STAT_IMAGE_THRESHOLD; k <= FF_STAT_MAX; k++) {
        float x = -1, y = -2;
        ff_status sa = ff_flow_get_statistic(a, k, &x), sb = ff_flow_get_statistic(b, k, &y);
        check(sa == sb && (sa != FF_OK || x == y));
    }
}

static void exercise(const ff_flow *flow) {
    check(ff_flow_save(flow, g_out, 0) == FF_OK);
    ff_flow *back = NULL;
    check(ff_flow_load(g_out, g_backbone, &back) == FF_OK);
    same_flow(flow, back);
    ff_flow_destroy(back);
    int32_t h = 0, w = 0;
    check(ff_flow_get_i32(flow, FF_FLOW_INPUT_HEIGHT, &h) == FF_OK);
    check(ff_flow_get_i32(flow, FF_FLOW_INPUT_WIDTH, &w) == FF_OK);
    if ((int64_t)h * w > 64 * 64) return; /* keep executions fast */
    ff_scorer *sc = NULL;
    check(ff_scorer_create(flow, &sc) == FF_OK);
    float *in = calloc((size_t)3 * h * w, sizeof *in);
    check(in != NULL);
    float score = 0;
    ff_status st = ff_scorer_score_tensor(sc, in, 1, NULL, 0, &score, 1);
    check(st == FF_E_NUMERIC || (st == FF_OK && isfinite(score)));
    free(in);
    ff_scorer_destroy(sc);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    FILE *f = fopen(g_in, "wb");
    check(f != NULL);
    check(size == 0 || fwrite(data, 1, size, f) == size);
    check(fclose(f) == 0);
    for (int alone = 0; alone < 2; alone++) {
        ff_flow *flow = (ff_flow *)(uintptr_t)1; /* must stay untouched on failure */
        ff_status st = ff_flow_load(g_in, alone ? NULL : g_backbone, &flow);
        if (st != FF_OK) {
            check(bad_file_status(st) && ff_last_error_message()[0] != '\0');
            check(flow == (ff_flow *)(uintptr_t)1);
            continue;
        }
        if (!alone) exercise(flow);
        ff_flow_destroy(flow);
    }
    return 0;
}
