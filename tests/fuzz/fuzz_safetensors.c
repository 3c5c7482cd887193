/* libFuzzer harness for the safetensors reader (and, through a re-write,
 * the writer). Build and run: tests/fuzz/build.sh safetensors, then
 *   build-fuzz/fuzz_safetensors -max_total_time=60 -dict=tests/fuzz/safetensors.dict CORPUS tests/golden
 * Invariants checked (abort() on violation, which libFuzzer reports):
 *  - a rejected input leaves a non-empty error message and no file object;
 *  - every accepted tensor lies inside the input and reads through the
 *    typed reader of its kind;
 *  - writing the accepted tensors and metadata back and reading the result
 *    gives the same names, dtypes, shapes, bytes and metadata. */
// fuzz-sources: lib/core lib/tensor
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "tensor/safetensors.h"

static void check(int cond) {
    if (!cond) abort();
}

static void rewrite_and_compare(const ff_st_file *f) {
    ff_st_writer *w = NULL;
    check(ff_st_writer_create(&w) == FF_OK);
    size_t n = ff_st_count(f);
    for (size_t i = 0; i < n; i++) {
        const ff_st_tensor *t = ff_st_at(f, i);
        check(ff_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data) == FF_OK);
    }
    for (size_t i = 0; i < ff_st_meta_count(f); i++) {
        const char *k, *v;
        ff_st_meta_at(f, i, &k, &v);
        check(ff_st_writer_set_meta(w, k, v) == FF_OK);
    }
    uint8_t *buf = NULL;
    size_t size = 0;
    check(ff_st_writer_serialize(w, &buf, &size) == FF_OK);
    ff_st_writer_destroy(w);
    ff_st_file *g = NULL;
    check(ff_st_open_memory(buf, size, "rewritten", &g) == FF_OK);
    check(ff_st_count(g) == n && ff_st_meta_count(g) == ff_st_meta_count(f));
    for (size_t i = 0; i < n; i++) {
        const ff_st_tensor *a = ff_st_at(f, i), *b = ff_st_at(g, i);
        check(strcmp(a->name, b->name) == 0 && a->dtype == b->dtype && a->ndim == b->ndim &&
              a->numel == b->numel && a->nbytes == b->nbytes);
        check(memcmp(a->shape, b->shape, (size_t)a->ndim * sizeof a->shape[0]) == 0);
        check(a->nbytes == 0 || memcmp(a->data, b->data, a->nbytes) == 0);
    }
    for (size_t i = 0; i < ff_st_meta_count(f); i++) {
        const char *k, *v;
        ff_st_meta_at(f, i, &k, &v);
        const char *v2 = ff_st_meta(g, k);
        check(v2 && strcmp(v, v2) == 0);
    }
    ff_st_close(g);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    ff_st_file *f = NULL;
    ff_clear_error();
    ff_status st = ff_st_open_memory(data, size, "fuzz", &f);
    if (st != FF_OK) {
        check(f == NULL && ff_last_error_message()[0] != '\0');
        check(st == FF_E_BAD_FORMAT || st == FF_E_OUT_OF_MEMORY);
        return 0;
    }
    size_t n = ff_st_count(f);
    for (size_t i = 0; i < n; i++) {
        const ff_st_tensor *t = ff_st_at(f, i);
        check(t && ff_st_find(f, t->name) != NULL);
        check(t->nbytes == (size_t)t->numel * ff_dtype_size(t->dtype) && t->nbytes <= size);
        size_t count = t->numel ? (size_t)t->numel : 1;
        if (ff_dtype_is_float(t->dtype)) {
            float *dst = malloc(count * sizeof *dst);
            check(dst != NULL);
            check(ff_st_read_f32(f, t->name, t->ndim, t->shape, dst) == FF_OK);
            check(ff_st_read_i64(f, t->name, 0, NULL, (int64_t *)dst) == FF_E_BAD_FORMAT);
            free(dst);
        } else {
            int64_t *dst = malloc(count * sizeof *dst);
            check(dst != NULL);
            st = ff_st_read_i64(f, t->name, t->ndim, t->shape, dst);
            check(st == FF_OK || (st == FF_E_BAD_FORMAT && t->dtype == FF_DT_U64));
            check(ff_st_read_f32(f, t->name, 0, NULL, (float *)dst) == FF_E_BAD_FORMAT);
            free(dst);
        }
    }
    for (size_t i = 0; i < ff_st_meta_count(f); i++) {
        const char *k, *v;
        ff_st_meta_at(f, i, &k, &v);
        check(k && v && ff_st_meta(f, k) == v);
    }
    rewrite_and_compare(f);
    ff_st_close(f);
    return 0;
}
