/* libFuzzer harness for the PNG/JPEG decoders (probe + decode from memory,
 * then pre-processing of what decoded). Not part of any test suite.
 *
 * Build and run (from the repository root; needs clang and
 * libclang-rt-14-dev, plus python3-pil for the seeds):
 *   tests/fuzz/build.sh image
 *   /usr/bin/python3 tests/fuzz/image_seeds.py build-fuzz/image-seeds
 *   mkdir -p build-fuzz/image-corpus
 *   build-fuzz/fuzz_image -max_total_time=60 -rss_limit_mb=2048 \
 *       -dict=tests/fuzz/image.dict build-fuzz/image-corpus build-fuzz/image-seeds
 *
 * Invariants (abort() on violation, which libFuzzer reports):
 *  - every call returns FF_OK or a documented failure for hostile data
 *    (FF_E_BAD_FORMAT, FF_E_LIMIT_EXCEEDED, FF_E_UNSUPPORTED,
 *    FF_E_OUT_OF_MEMORY), never FF_E_INTERNAL, and a failure has a message;
 *  - probe and decode agree: what probes fine and decodes fine has the
 *    probed size; a failed decode leaves the buffer untouched;
 *  - pre-processing a decoded image gives finite values.
 * The pixel limit is lowered to 4 megapixels so that the fuzzer does not
 * spend its time on legitimately huge images. */
// fuzz-sources: lib/core lib/image lib/tensor
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fastflow.h"

static void check(int cond) {
    if (!cond) abort();
}

static int hostile_failure(ff_status st) {
    return st == FF_E_BAD_FORMAT || st == FF_E_LIMIT_EXCEEDED || st == FF_E_UNSUPPORTED ||
           st == FF_E_OUT_OF_MEMORY;
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    (void)argc;
    (void)argv;
    check(ff_global_set_i64(FF_GLOBAL_MAX_IMAGE_PIXELS, 4 << 20) == FF_OK);
    check(ff_global_set_i64(FF_GLOBAL_NUM_THREADS, 1) == FF_OK);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    int32_t w = 0, h = 0, ch = 0;
    ff_status st = ff_image_probe_memory(data, size, &ch, &w, &h);
    if (st != FF_OK) {
        check(hostile_failure(st) && ff_last_error_message()[0] != '\0');
        return 0;
    }
    check(w > 0 && h > 0 && ch >= 1 && ch <= 4);
    if ((int64_t)w * h > (4 << 20)) {
        /* decode must refuse before allocating anything */
        uint8_t px[4];
        st = ff_image_decode_memory(data, size, FF_PIXEL_RGB8, px, sizeof px, 0);
        check(st == FF_E_LIMIT_EXCEEDED || st == FF_E_BAD_FORMAT);
        return 0;
    }
    /* vary the output format with the input */
    const int32_t fmt = 1 + (int32_t)(size % 4);
    const size_t cap = (size_t)w * (size_t)h * (size_t)ff_pixel_format_channels(fmt);
    uint8_t *px = malloc(cap);
    check(px != NULL);
    memset(px, 0xA5, cap);
    st = ff_image_decode_memory(data, size, fmt, px, cap, 0);
    if (st != FF_OK) {
        check(hostile_failure(st) && ff_last_error_message()[0] != '\0');
        for (size_t i = 0; i < cap; i++) check(px[i] == 0xA5);
        free(px);
        return 0;
    }
    float out[3 * 7 * 5];
    st = ff_image_preprocess(px, w, h, 0, fmt, 7, 5, out, sizeof out / sizeof *out);
    check(st == FF_OK);
    for (size_t i = 0; i < sizeof out / sizeof *out; i++) check(isfinite(out[i]));
    free(px);
    return 0;
}
