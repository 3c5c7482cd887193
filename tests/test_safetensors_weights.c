/* The real backbone weights file (slow suite: needs ../shared): opens and
 * validates it, checks the tensor census and conv1.weight, reads every
 * tensor through the typed readers, and rewrites it with the writer to
 * check a byte-identical tensor round trip on real data. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/safetensors.h"
#include "test_util.h"

int main(void) {
    const char *path = ff_test_shared_path("weights/resnet18-in1k-to-layer3.safetensors");
    if (!path) ff_test_skip("weights/resnet18-in1k-to-layer3.safetensors not found under the shared folder");
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open(path, &f));
    if (!f) return ff_test_finish();

    size_t n = ff_st_count(f), n_f32 = 0, n_i64 = 0, max_numel = 0;
    for (size_t i = 0; i < n; i++) {
        const ff_st_tensor *t = ff_st_at(f, i);
        if (t->dtype == FF_DT_F32) n_f32++;
        if (t->dtype == FF_DT_I64) n_i64++;
        if ((size_t)t->numel > max_numel) max_numel = (size_t)t->numel;
    }
    printf("%zu tensors (%zu F32, %zu I64), largest %zu elements\n", n, n_f32, n_i64, max_numel);
    /* conv1..layer3 of resnet18: 15 BatchNorms (num_batches_tracked is I64) */
    CHECK(n == 90 && n_f32 == 75 && n_i64 == 15);
    CHECK(ff_st_meta(f, "arch") && strcmp(ff_st_meta(f, "arch"), "resnet18") == 0);

    int64_t conv1_shape[4] = {64, 3, 7, 7};
    float *buf = malloc((max_numel ? max_numel : 1) * sizeof(float));
    int64_t *ibuf = malloc((max_numel ? max_numel : 1) * sizeof(int64_t));
    CHECK_OK(ff_st_read_f32(f, "conv1.weight", 4, conv1_shape, buf));
    double sum = 0;
    for (size_t i = 0; i < 64 * 3 * 7 * 7; i++) sum += buf[i];
    /* figures from tools/reference/st_io.py load() of the same file */
    printf("conv1.weight[0..2] = %.8g %.8g %.8g, sum %.6f\n", buf[0], buf[1], buf[2], sum);
    CHECK(fabsf(buf[0] - -0.00253601f) < 1e-7f && fabsf(buf[1] - -0.00149337f) < 1e-7f);
    CHECK(fabs(sum - -0.6087066) < 1e-4);
    int64_t wrong[4] = {64, 3, 3, 3};
    CHECK_STATUS(ff_st_read_f32(f, "conv1.weight", 4, wrong, buf), FF_E_BAD_FORMAT);
    CHECK_MSG("has shape [64, 3, 7, 7], expected [64, 3, 3, 3]");

    /* every tensor through the typed reader, finite, and re-written */
    ff_st_writer *w = NULL;
    CHECK_OK(ff_st_writer_create(&w));
    size_t nonfinite = 0;
    for (size_t i = 0; i < n; i++) {
        const ff_st_tensor *t = ff_st_at(f, i);
        if (ff_dtype_is_float(t->dtype)) {
            CHECK_OK(ff_st_read_f32(f, t->name, t->ndim, t->shape, buf));
            for (int64_t k = 0; k < t->numel; k++) nonfinite += !isfinite(buf[k]);
        } else {
            CHECK_OK(ff_st_read_i64(f, t->name, t->ndim, t->shape, ibuf));
        }
        CHECK_OK(ff_st_writer_add(w, t->name, t->dtype, t->ndim, t->shape, t->data));
    }
    CHECK(nonfinite == 0);
    for (size_t i = 0; i < ff_st_meta_count(f); i++) {
        const char *k, *v;
        ff_st_meta_at(f, i, &k, &v);
        CHECK_OK(ff_st_writer_set_meta(w, k, v));
    }
    char out[1024];
    snprintf(out, sizeof out, "%s/rewritten.safetensors", ff_test_tmpdir());
    CHECK_OK(ff_st_writer_save(w, out));
    ff_st_writer_destroy(w);
    ff_st_file *g = NULL;
    CHECK_OK(ff_st_open(out, &g));
    CHECK(ff_st_count(g) == n && ff_st_meta_count(g) == ff_st_meta_count(f));
    size_t mismatched = 0;
    for (size_t i = 0; g && i < n; i++) {
        const ff_st_tensor *a = ff_st_at(f, i), *b = ff_st_at(g, i);
        if (strcmp(a->name, b->name) != 0 || a->dtype != b->dtype || a->nbytes != b->nbytes ||
            memcmp(a->data, b->data, a->nbytes) != 0)
            mismatched++;
    }
    CHECK(mismatched == 0);
    ff_st_close(g);
    remove(out);
    free(buf);
    free(ibuf);
    ff_st_close(f);
    return ff_test_finish();
}
