/* The synthetic inspection data set: determinism, masks that cover the
 * defects, defects that stand out, bad arguments. */
#include <ftw.h>
#include <stdlib.h>
#include <string.h>

#include "../tools/fastflow/synth_data.h"
#include "../tools/fastflow/synth_dataset.h"
#include "eval/dataset.h"
#include "test_util.h"

enum { N = 96 };

static float work[N * N * 3];

/* splitmix64's published first outputs for seed 0 (e.g. the reference
 * implementation at prng.di.unimi.it) */
static void test_splitmix(void) {
    uint64_t s = 0;
    CHECK(synth_splitmix64(&s) == UINT64_C(0xE220A8397B1DCDAF));
    CHECK(synth_splitmix64(&s) == UINT64_C(0x6E789E6AA1B965F4));
    CHECK(synth_splitmix64(&s) == UINT64_C(0x06C45D188009454F));
}

static void test_names(void) {
    CHECK(strcmp(synth_kind_name(SYNTH_SCRATCH), "scratch") == 0);
    CHECK(strcmp(synth_kind_name(SYNTH_GOOD), "good") == 0);
    CHECK(strcmp(synth_kind_name(SYNTH_CRACK), "crack") == 0 && strcmp(synth_kind_name(SYNTH_DENT), "dent") == 0);
    CHECK(synth_kind_name(SYNTH_NUM_KINDS) == NULL && synth_kind_name(-1) == NULL);
    CHECK(synth_texture_from_name("metal") == SYNTH_METAL);
    CHECK(synth_texture_from_name("granite") == SYNTH_GRANITE);
    CHECK(synth_texture_from_name("velvet") == -1 && synth_texture_from_name(NULL) == -1);
    CHECK(strcmp(synth_texture_name(SYNTH_FABRIC), "fabric") == 0 && synth_texture_name(3) == NULL);
}

static void test_determinism(void) {
    static uint8_t a[N * N * 3], b[N * N * 3], ma[N * N], mb[N * N];
    for (int32_t t = 0; t < SYNTH_NUM_TEXTURES; t++) {
        synth_params p = {N, t, 42};
        CHECK(synth_render(&p, SYNTH_TEST, SYNTH_SCRATCH, 3, work, a, ma) == 0);
        CHECK(synth_render(&p, SYNTH_TEST, SYNTH_SCRATCH, 3, work, b, mb) == 0);
        CHECK(memcmp(a, b, sizeof a) == 0 && memcmp(ma, mb, sizeof ma) == 0);
        /* another index, another seed, another split: different images */
        CHECK(synth_render(&p, SYNTH_TEST, SYNTH_SCRATCH, 4, work, b, mb) == 0);
        CHECK(memcmp(a, b, sizeof a) != 0 && memcmp(ma, mb, sizeof ma) != 0);
        synth_params q = {N, t, 43};
        CHECK(synth_render(&q, SYNTH_TEST, SYNTH_SCRATCH, 3, work, b, mb) == 0);
        CHECK(memcmp(a, b, sizeof a) != 0);
        CHECK(synth_render(&p, SYNTH_TRAIN, SYNTH_GOOD, 3, work, a, NULL) == 0);
        CHECK(synth_render(&p, SYNTH_TEST, SYNTH_GOOD, 3, work, b, NULL) == 0);
        CHECK(memcmp(a, b, sizeof a) != 0);
    }
}

/* Defect images: the mask is non-empty and compact, the image equals its
 * defect-free surface away from the mask, and the mask region differs from
 * the surface clearly (mean |difference| per channel). */
static void test_defects(void) {
    static uint8_t img[N * N * 3], surf[N * N * 3], mask[N * N];
    for (int32_t t = 0; t < SYNTH_NUM_TEXTURES; t++) {
        synth_params p = {N, t, 7};
        for (int32_t kind = SYNTH_GOOD; kind < SYNTH_NUM_KINDS; kind++) {
            for (int32_t idx = 0; idx < 4; idx++) {
                CHECK(synth_render(&p, SYNTH_TEST, kind, idx, work, img, mask) == 0);
                CHECK(synth_render_surface(&p, SYNTH_TEST, kind, idx, work, surf) == 0);
                size_t inside = 0, far_changed = 0, binary = 1;
                double diff_in = 0;
                for (int32_t y = 0; y < N; y++)
                    for (int32_t x = 0; x < N; x++) {
                        size_t i = (size_t)y * N + (size_t)x;
                        binary &= mask[i] == 0 || mask[i] == 255;
                        int d = 0;
                        for (int c = 0; c < 3; c++) d += abs(img[3 * i + c] - surf[3 * i + c]);
                        if (mask[i]) {
                            inside++;
                            diff_in += d / 3.0;
                            continue;
                        }
                        /* no mask pixel within 12 px (the stain's soft edge) */
                        bool near = false;
                        for (int32_t dy = -12; dy <= 12 && !near; dy++)
                            for (int32_t dx = -12; dx <= 12; dx++) {
                                int32_t yy = y + dy, xx = x + dx;
                                if (yy >= 0 && yy < N && xx >= 0 && xx < N && mask[yy * N + xx]) {
                                    near = true;
                                    break;
                                }
                            }
                        if (!near && d) far_changed++;
                    }
                CHECK(binary);
                CHECK(far_changed == 0);
                if (kind == SYNTH_GOOD) {
                    CHECK(inside == 0 && memcmp(img, surf, sizeof img) == 0);
                    continue;
                }
                /* sizes at 96 px: scratch >= 40 px of line, spot r 2-5 px,
                 * stain r 7-12 px, crack 15-27 segments, dent r 3-7 px; none
                 * covers a quarter of the image. The stain is faint and the
                 * dent (shading only, +-depth) fainter. */
                CHECK(inside >= 10 && inside < N * N / 4);
                double mean = diff_in / (double)(inside ? inside : 1);
                const double least = kind == SYNTH_DENT ? 5.0 : kind == SYNTH_STAIN ? 12.0 : 40.0;
                if (!(mean > least))
                    fprintf(stderr, "texture %d kind %d index %d: mean |diff| in mask %.1f\n", (int)t, (int)kind,
                            (int)idx, mean);
                CHECK(mean > least);
            }
        }
    }
}

static void test_bad_args(void) {
    static uint8_t img[N * N * 3];
    synth_params p = {N, SYNTH_METAL, 0};
    CHECK(synth_render(NULL, SYNTH_TEST, SYNTH_GOOD, 0, work, img, NULL) == -1);
    CHECK(synth_render(&p, SYNTH_TEST, SYNTH_GOOD, 0, NULL, img, NULL) == -1);
    CHECK(synth_render(&p, SYNTH_TEST, SYNTH_GOOD, 0, work, NULL, NULL) == -1);
    CHECK(synth_render(&p, SYNTH_TEST, SYNTH_NUM_KINDS, 0, work, img, NULL) == -1);
    CHECK(synth_render(&p, SYNTH_TEST, SYNTH_GOOD, -1, work, img, NULL) == -1);
    CHECK(synth_render(&p, 2, SYNTH_GOOD, 0, work, img, NULL) == -1);
    CHECK(synth_render(&p, SYNTH_TRAIN, SYNTH_SPOT, 0, work, img, NULL) == -1); /* training is defect-free */
    synth_params small = {16, SYNTH_METAL, 0}, tex = {N, 3, 0};
    CHECK(synth_render(&small, SYNTH_TEST, SYNTH_GOOD, 0, work, img, NULL) == -1);
    CHECK(synth_render(&tex, SYNTH_TEST, SYNTH_GOOD, 0, work, img, NULL) == -1);
    CHECK(synth_render_surface(&tex, SYNTH_TEST, SYNTH_GOOD, 0, work, img) == -1);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* A tiny set written in the MVTec layout reads back through the data set
 * reader, and every PNG decodes to exactly the rendered pixels. */
static void test_write_layout(void) {
    char dir[512];
    snprintf(dir, sizeof dir, "%s/synth", ff_test_tmpdir());
    synth_dataset_config c;
    synth_dataset_defaults(&c);
    CHECK(c.params.size == 256 && c.num_train == 60 && c.num_test_good == 10 && c.num_test_defect == 10);
    c.params.size = 48;
    c.params.texture = SYNTH_FABRIC;
    c.params.seed = 5;
    c.num_train = 3;
    c.num_test_good = 2;
    c.num_test_defect = 2;
    CHECK(synth_dataset_write("test", &c, dir) == 0);
    ff_dataset *ds = NULL;
    CHECK_OK(ff_dataset_open(dir, NULL, &ds));
    if (!ds) return;
    CHECK(ds->layout == FF_DATASET_MVTEC && ds->has_masks == 1);
    CHECK(ds->num_train == 3 && ds->num_test == 8 && ds->num_good == 2 && ds->num_defect == 6);
    CHECK(ds->num_types == 4);
    static uint8_t want[48 * 48 * 3], got[48 * 48 * 3], wmask[48 * 48], gmask[48 * 48];
    int32_t w = 0, h = 0, ch = 0;
    CHECK_OK(ff_image_probe_file(ds->train_paths[2], &ch, &w, &h));
    CHECK(w == 48 && h == 48 && ch == 3);
    CHECK(synth_render(&c.params, SYNTH_TRAIN, SYNTH_GOOD, 2, work, want, NULL) == 0);
    CHECK_OK(ff_image_decode_file(ds->train_paths[2], FF_PIXEL_RGB8, got, sizeof got, 0));
    CHECK(memcmp(want, got, sizeof got) == 0);
    size_t checked = 0;
    for (size_t i = 0; i < ds->num_test; i++) {
        int32_t kind = -1;
        for (int32_t k = 0; k < SYNTH_NUM_KINDS; k++)
            if (strcmp(synth_kind_name(k), ds->type_names[ds->test_types[i]]) == 0) kind = k;
        const char *slash = strrchr(ds->test_paths[i], '/');
        int32_t index = slash ? atoi(slash + 1) : -1;
        CHECK(kind >= 0 && index >= 0 && index < 2);
        if (kind < 0 || index < 0) continue;
        CHECK(synth_render(&c.params, SYNTH_TEST, kind, index, work, want, wmask) == 0);
        CHECK_OK(ff_image_decode_file(ds->test_paths[i], FF_PIXEL_RGB8, got, sizeof got, 0));
        CHECK(memcmp(want, got, sizeof got) == 0);
        CHECK((kind == SYNTH_GOOD) == (ds->test_mask_paths[i] == NULL));
        if (ds->test_mask_paths[i]) {
            CHECK_OK(ff_image_probe_file(ds->test_mask_paths[i], &ch, &w, &h));
            CHECK(ch == 1);
            CHECK_OK(ff_image_decode_file(ds->test_mask_paths[i], FF_PIXEL_GRAY8, gmask, sizeof gmask, 0));
            CHECK(memcmp(wmask, gmask, sizeof gmask) == 0);
        }
        checked++;
    }
    CHECK(checked == 8);
    ff_dataset_destroy(ds);
    /* an unwritable target fails with a message instead of crashing */
    CHECK(synth_dataset_write("test", &c, "/proc/no/such/dir") == 1);
    c.num_train = 0;
    CHECK(synth_dataset_write("test", &c, dir) == 1);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int main(void) {
    test_splitmix();
    test_names();
    test_determinism();
    test_defects();
    test_bad_args();
    test_write_layout();
    return ff_test_finish();
}
