#include "flow_testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backbone_testlib.h"
#include "core/rng.h"
#include "tensor/safetensors.h"
#include "test_util.h"

ff_backbone *ft_backbone(uint64_t seed) {
    size_t size = 0;
    uint8_t *data = bt_random_weights("resnet18", seed, "", NULL, NULL, &size, NULL, NULL);
    if (!data) return NULL;
    ff_backbone *bb = NULL;
    ff_status st = ff_backbone_load_from_memory("resnet18", data, size, &bb);
    free(data);
    if (st != FF_OK) fprintf(stderr, "ft_backbone: %s\n", ff_last_error_message());
    return bb;
}

ff_flow *ft_flow(const ff_backbone *bb, int32_t size, int32_t steps, int32_t conv3x3_only, int64_t seed) {
    ff_flow_options *o = NULL;
    ff_flow *f = NULL;
    if (ff_flow_options_create(&o) != FF_OK) return NULL;
    ff_status st = ff_flow_options_set_i32(o, FF_FLOW_INPUT_HEIGHT, size);
    if (st == FF_OK) st = ff_flow_options_set_i32(o, FF_FLOW_INPUT_WIDTH, size);
    if (st == FF_OK) st = ff_flow_options_set_i32(o, FF_FLOW_STEPS, steps);
    if (st == FF_OK) st = ff_flow_options_set_i32(o, FF_FLOW_CONV3X3_ONLY, conv3x3_only);
    if (st == FF_OK) st = ff_flow_options_set_i64(o, FF_FLOW_SEED, seed);
    if (st == FF_OK) st = ff_flow_create(bb, o, &f);
    if (st != FF_OK) fprintf(stderr, "ft_flow: %s\n", ff_last_error_message());
    ff_flow_options_destroy(o);
    return f;
}

uint8_t *ft_image(uint64_t seed, int32_t w, int32_t h, int defect) {
    uint8_t *p = malloc((size_t)w * (size_t)h * 3);
    if (!p) return NULL;
    ff_rng r;
    ff_rng_seed(&r, seed);
    float phase = ff_rng_uniform(&r) * 6.28f;
    for (int32_t y = 0; y < h; y++)
        for (int32_t x = 0; x < w; x++)
            for (int32_t c = 0; c < 3; c++) {
                float v = 120.0f + 40.0f * sinf(0.3f * (float)x + phase + (float)c) * cosf(0.2f * (float)y) +
                          20.0f * ff_rng_uniform(&r);
                if (defect && x > w / 3 && x < w / 2 && y > h / 3 && y < h / 2) v = 250.0f - 30.0f * (float)c;
                p[((size_t)y * (size_t)w + (size_t)x) * 3 + (size_t)c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
    return p;
}

const char *ft_path(const char *name) {
    static char bufs[4][512];
    static int k;
    char *b = bufs[k++ % 4];
    snprintf(b, 512, "%s/%s", ff_test_tmpdir(), name);
    return b;
}

static int is(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

int ft_rewrite(const char *src, const char *dst, const ft_edit *e) {
    ff_st_file *f = NULL;
    ff_st_writer *w = NULL;
    int rc = 1;
    if (ff_st_open(src, &f) != FF_OK || ff_st_writer_create(&w) != FF_OK) goto done;
    for (size_t i = 0; i < ff_st_meta_count(f); i++) {
        const char *k, *v;
        ff_st_meta_at(f, i, &k, &v);
        if (is(k, e->meta_key)) continue;
        if (ff_st_writer_set_meta(w, k, v) != FF_OK) goto done;
    }
    if (e->meta_key && e->meta_value && ff_st_writer_set_meta(w, e->meta_key, e->meta_value) != FF_OK) goto done;
    for (size_t i = 0; i < ff_st_count(f); i++) {
        const ff_st_tensor *t = ff_st_at(f, i);
        if (is(t->name, e->drop)) continue;
        int64_t shape[FF_ST_MAX_DIMS + 1];
        int32_t nd = t->ndim;
        memcpy(shape, t->shape, sizeof(int64_t) * (size_t)nd);
        uint8_t *data = malloc(t->nbytes + 8);
        if (!data) goto done;
        memcpy(data, t->data, t->nbytes);
        ff_status st;
        size_t len = strlen(t->name);
        int is_perm = len > 7 && strcmp(t->name + len - 7, ".w_perm") == 0;
        if (is(t->name, e->reshape)) {
            memmove(shape + 1, shape, sizeof(int64_t) * (size_t)nd);
            shape[0] = 1;
            nd++;
        }
        if (is(t->name, e->poison) && t->dtype == FF_DT_F32) {
            float nan = NAN;
            memcpy(data, &nan, sizeof nan);
        }
        if (is(t->name, e->break_perm) && t->dtype == FF_DT_I64) memcpy(data + 8, data, 8);
        if (e->dense_perms && is_perm && t->dtype == FF_DT_I64) {
            int64_t c = t->shape[0];
            float *m = calloc((size_t)(c * c), sizeof(float));
            float *mi = calloc((size_t)(c * c), sizeof(float));
            const int64_t s4[4] = {c, c, 1, 1};
            for (int64_t r = 0; r < c; r++) {
                int64_t j;
                memcpy(&j, t->data + 8 * r, 8);
                m[r * c + j] = 1.0f;
                mi[j * c + r] = 1.0f;
            }
            char inv[256];
            snprintf(inv, sizeof inv, "%s_inv", t->name);
            st = ff_st_writer_add_f32(w, t->name, 4, s4, m);
            if (st == FF_OK) st = ff_st_writer_add_f32(w, inv, 4, s4, mi);
            free(m);
            free(mi);
        } else {
            st = ff_st_writer_add(w, t->name, t->dtype, nd, shape, data);
        }
        free(data);
        if (st != FF_OK) goto done;
    }
    if (e->extra) {
        const int64_t one[1] = {1};
        const float z = 0.0f;
        if (ff_st_writer_add_f32(w, e->extra, 1, one, &z) != FF_OK) goto done;
    }
    if (ff_st_writer_save(w, dst) != FF_OK) goto done;
    rc = 0;
done:
    if (rc) fprintf(stderr, "ft_rewrite %s: %s\n", src, ff_last_error_message());
    ff_st_writer_destroy(w);
    ff_st_close(f);
    return rc;
}

ff_flow *ft_trained_flow(const ff_backbone *bb, int32_t size) {
    ff_flow *f = ft_flow(bb, size, 2, 0, 4), *out = NULL;
    ff_trainer *t = NULL;
    if (!f || ff_trainer_create(f, &t) != FF_OK) goto done;
    ff_trainer_set_i32(t, FF_TRAINER_BATCH_SIZE, 4);
    for (int i = 0; i < 4; i++) {
        uint8_t *img = ft_image(200 + (uint64_t)i, size, size, 0);
        ff_trainer_add_image(t, img, size, size, 0, FF_PIXEL_RGB8);
        free(img);
    }
    for (int e = 0; e < 3; e++) ff_trainer_run_epoch(t, NULL);
    ff_trainer_snapshot(t, &out);
done:
    ff_trainer_destroy(t);
    ff_flow_destroy(f);
    return out;
}

ff_status ft_add_images(ff_trainer *t, int n, uint64_t seed0) {
    for (int i = 0; i < n; i++) {
        uint8_t *img = ft_image(seed0 + (uint64_t)i, 70, 64, 0);
        ff_status st = img ? ff_trainer_add_image(t, img, 70, 64, 0, FF_PIXEL_RGB8) : FF_E_OUT_OF_MEMORY;
        free(img);
        if (st != FF_OK) {
            fprintf(stderr, "add_image: %s\n", ff_last_error_message());
            return st;
        }
    }
    return FF_OK;
}
