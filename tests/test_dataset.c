/* Data set reader (MVTec AD layout, plain folders) on synthetic trees in a
 * temporary folder, the mask pipeline's nearest-neighbour resize against
 * PyTorch's F.interpolate(mode="nearest") (golden file from
 * tools/reference/gen_metrics_golden.py), and mask files written as PNG and
 * loaded back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "eval/dataset.h"
#include "eval/mask.h"
#include "tensor/safetensors.h"
#include "test_util.h"

static void make_dir(const char *root, const char *rel) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    if (mkdir(p, 0755) != 0) perror(p);
}

/* An empty placeholder: the reader lists files, it decodes nothing. */
static void touch(const char *root, const char *rel) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", root, rel);
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL);
    if (f) fclose(f);
}

static const char *base_name(const char *path) {
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* Ends with "<dir>/<name>": checks both the file and its folder. */
static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* cat/: an MVTec AD category with three test types, masks for the defects,
 * and files the reader must ignore. */
static void build_mvtec_tree(const char *root) {
    static const char *dirs[] = {"cat", "cat/train", "cat/train/good", "cat/train/good/sub.png",
                                 "cat/test", "cat/test/good", "cat/test/scratch",
                                 "cat/test/crack", "cat/test/.cache", "cat/ground_truth",
                                 "cat/ground_truth/scratch", "cat/ground_truth/crack"};
    static const char *files[] = {
        "cat/train/good/b.png", "cat/train/good/a.PNG", "cat/train/good/c.jpeg",
        "cat/train/good/.hidden.png", "cat/train/good/notes.txt", "cat/train/good/png",
        "cat/test/good/001.jpg", "cat/test/good/000.png", "cat/test/scratch/001.png",
        "cat/test/scratch/000.png", "cat/test/crack/x.JPG", "cat/test/readme.txt",
        "cat/ground_truth/scratch/000_mask.png", "cat/ground_truth/scratch/001_mask.png",
        "cat/ground_truth/crack/x_mask.png"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) make_dir(root, dirs[i]);
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) touch(root, files[i]);
}

static void test_mvtec_layout(const char *root) {
    ff_dataset *ds = NULL;
    CHECK_OK(ff_dataset_open(root, "cat", &ds));
    if (!ds) return;
    CHECK(ds->layout == FF_DATASET_MVTEC);
    CHECK(ds->has_masks == 1);
    CHECK(ends_with(ds->root, "/cat"));

    /* train/good: images only, hidden and other files and folders skipped,
     * byte order (upper case first) */
    CHECK(ds->num_train == 3);
    if (ds->num_train == 3) {
        CHECK(ends_with(ds->train_paths[0], "cat/train/good/a.PNG"));
        CHECK(strcmp(base_name(ds->train_paths[1]), "b.png") == 0);
        CHECK(strcmp(base_name(ds->train_paths[2]), "c.jpeg") == 0);
    }

    /* types sorted, hidden folder skipped */
    CHECK(ds->num_types == 3);
    if (ds->num_types == 3) {
        CHECK(strcmp(ds->type_names[0], "crack") == 0);
        CHECK(strcmp(ds->type_names[1], "good") == 0);
        CHECK(strcmp(ds->type_names[2], "scratch") == 0);
    }
    static const char *want[] = {"cat/test/crack/x.JPG", "cat/test/good/000.png",
                                 "cat/test/good/001.jpg", "cat/test/scratch/000.png",
                                 "cat/test/scratch/001.png"};
    static const char *want_mask[] = {"cat/ground_truth/crack/x_mask.png", NULL, NULL,
                                      "cat/ground_truth/scratch/000_mask.png",
                                      "cat/ground_truth/scratch/001_mask.png"};
    static const uint8_t want_label[] = {1, 0, 0, 1, 1};
    static const int32_t want_type[] = {0, 1, 1, 2, 2};
    CHECK(ds->num_test == 5);
    CHECK(ds->num_good == 2 && ds->num_defect == 3);
    for (size_t i = 0; i < ds->num_test && i < 5; i++) {
        CHECK(ends_with(ds->test_paths[i], want[i]));
        CHECK(ds->test_labels[i] == want_label[i]);
        CHECK(ds->test_types[i] == want_type[i]);
        if (want_mask[i]) CHECK(ds->test_mask_paths[i] && ends_with(ds->test_mask_paths[i], want_mask[i]));
        else CHECK(ds->test_mask_paths[i] == NULL);
    }
    ff_dataset_destroy(ds);

    /* the same folder given whole, with a trailing slash */
    char p[4096];
    snprintf(p, sizeof p, "%s/cat/", root);
    ds = NULL;
    CHECK_OK(ff_dataset_open(p, NULL, &ds));
    CHECK(ds && ds->num_train == 3 && ds->num_test == 5);
    ff_dataset_destroy(ds);
}

static void test_missing_mask(const char *root) {
    char p[4096];
    snprintf(p, sizeof p, "%s/cat/ground_truth/scratch/001_mask.png", root);
    CHECK(unlink(p) == 0);
    ff_dataset *ds = (ff_dataset *)(uintptr_t)1;
    CHECK_STATUS(ff_dataset_open(root, "cat", &ds), FF_E_BAD_FORMAT);
    CHECK_MSG("cat/test/scratch/001.png' has no mask");
    CHECK_MSG("cat/ground_truth/scratch/001_mask.png' not found");
    CHECK(ds == (ff_dataset *)(uintptr_t)1);
    touch(root, "cat/ground_truth/scratch/001_mask.png");
}

/* Without any ground_truth folder: an image-level set, no mask paths. */
static void test_image_level(const char *root) {
    static const char *dirs[] = {"lvl", "lvl/train", "lvl/train/good", "lvl/test",
                                 "lvl/test/good", "lvl/test/bad"};
    static const char *files[] = {"lvl/train/good/0.png", "lvl/test/good/0.png",
                                  "lvl/test/bad/0.png", "lvl/test/bad/1.jpg"};
    for (size_t i = 0; i < sizeof dirs / sizeof *dirs; i++) make_dir(root, dirs[i]);
    for (size_t i = 0; i < sizeof files / sizeof *files; i++) touch(root, files[i]);
    ff_dataset *ds = NULL;
    CHECK_OK(ff_dataset_open(root, "lvl", &ds));
    if (!ds) return;
    CHECK(ds->has_masks == 0);
    CHECK(ds->num_train == 1 && ds->num_test == 3 && ds->num_defect == 2 && ds->num_good == 1);
    for (size_t i = 0; i < ds->num_test; i++) CHECK(ds->test_mask_paths[i] == NULL);
    CHECK(ds->num_types == 2 && strcmp(ds->type_names[0], "bad") == 0);
    ff_dataset_destroy(ds);
}

static void test_plain_folder(const char *root) {
    make_dir(root, "plain");
    touch(root, "plain/z.jpg");
    touch(root, "plain/y.png");
    touch(root, "plain/x.bmp");
    touch(root, "plain/.w.png");
    ff_dataset *ds = NULL;
    CHECK_OK(ff_dataset_open(root, "plain", &ds));
    if (ds) {
        CHECK(ds->layout == FF_DATASET_PLAIN);
        CHECK(ds->num_train == 2 && ds->num_test == 0 && ds->has_masks == 0);
        if (ds->num_train == 2) {
            CHECK(strcmp(base_name(ds->train_paths[0]), "y.png") == 0);
            CHECK(strcmp(base_name(ds->train_paths[1]), "z.jpg") == 0);
        }
        ff_dataset_destroy(ds);
    }
    make_dir(root, "empty");
    touch(root, "empty/readme.txt");
    CHECK_STATUS(ff_dataset_open(root, "empty", &ds), FF_E_BAD_FORMAT);
    CHECK_MSG("no images in '");
    CHECK_MSG("/empty'");
}

static void test_bad_layouts(const char *root) {
    ff_dataset *ds = NULL;
    CHECK_STATUS(ff_dataset_open(root, "does_not_exist", &ds), FF_E_IO);
    CHECK_MSG("/does_not_exist' does not exist");
    make_dir(root, "notrain");
    make_dir(root, "notrain/train");
    make_dir(root, "notrain/train/normal");
    CHECK_STATUS(ff_dataset_open(root, "notrain", &ds), FF_E_BAD_FORMAT);
    CHECK_MSG("has no 'good' folder");
    CHECK_STATUS(ff_dataset_open(NULL, NULL, &ds), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("dir is NULL");
    CHECK_STATUS(ff_dataset_open("", NULL, &ds), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_dataset_open(root, NULL, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("out is NULL");
    CHECK(ds == NULL);
    ff_dataset_destroy(NULL);
}

/* Source indices and the resize against PyTorch's nearest interpolation. */
static void test_nearest_golden(void) {
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path("metrics_mask_nearest.safetensors"), &f));
    if (!f) return;
    const char *cases = ff_st_meta(f, "cases");
    CHECK(cases != NULL);
    char buf[1024], name[256];
    snprintf(buf, sizeof buf, "%s", cases ? cases : "");
    int ncases = 0, mismatches = 0;
    for (char *c = strtok(buf, ","); c; c = strtok(NULL, ",")) {
        int64_t size[4], rows[4096], cols[4096];
        snprintf(name, sizeof name, "%s.size", c);
        int64_t shape4[1] = {4};
        CHECK_OK(ff_st_read_i64(f, name, 1, shape4, size));
        int32_t ih = (int32_t)size[0], iw = (int32_t)size[1], oh = (int32_t)size[2],
                ow = (int32_t)size[3];
        int64_t sh[1] = {oh}, sw[1] = {ow};
        snprintf(name, sizeof name, "%s.rows", c);
        CHECK_OK(ff_st_read_i64(f, name, 1, sh, rows));
        snprintf(name, sizeof name, "%s.cols", c);
        CHECK_OK(ff_st_read_i64(f, name, 1, sw, cols));
        for (int32_t y = 0; y < oh; y++) mismatches += ff_nearest_source_index(y, ih, oh) != rows[y];
        for (int32_t x = 0; x < ow; x++) mismatches += ff_nearest_source_index(x, iw, ow) != cols[x];

        /* the resize picks those pixels and binarises them */
        uint8_t *src = malloc((size_t)ih * (size_t)iw), *dst = malloc((size_t)oh * (size_t)ow);
        CHECK(src && dst);
        if (src && dst) {
            for (size_t i = 0; i < (size_t)ih * (size_t)iw; i++) src[i] = (uint8_t)((i * 7919u) % 5 ? 0 : i % 256);
            ff_mask_resize_nearest(src, ih, iw, (size_t)iw, oh, ow, dst);
            int bad = 0;
            for (int32_t y = 0; y < oh; y++)
                for (int32_t x = 0; x < ow; x++)
                    bad += dst[(size_t)y * ow + x] != (src[rows[y] * iw + cols[x]] != 0);
            CHECK(bad == 0);
        }
        free(src);
        free(dst);
        ncases++;
    }
    CHECK(ncases >= 8);
    CHECK(mismatches == 0);
    printf("nearest indices vs torch F.interpolate: %d size pairs, %d mismatches\n", ncases,
           mismatches);
    ff_st_close(f);
}

/* Mask files: written as PNG (grey and colour), decoded, resized with the
 * PyTorch nearest rule, "> 0" -> 1. */
static void test_mask_files(const char *root) {
    enum { W = 9, H = 7 };
    uint8_t grey[H * W], rgb[H * W * 3];
    for (int i = 0; i < H * W; i++) {
        /* 0 background, a faint 1 (still a defect), 255 */
        grey[i] = (uint8_t)(i % 5 == 0 ? 255 : i % 7 == 0 ? 1 : 0);
        rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = grey[i] ? 255 : 0;
    }
    char gpath[4096], cpath[4096], bad[4096];
    snprintf(gpath, sizeof gpath, "%s/m_grey.png", root);
    snprintf(cpath, sizeof cpath, "%s/m_rgb.png", root);
    CHECK_OK(ff_image_write_png(gpath, grey, W, H, 0, FF_PIXEL_GRAY8));
    CHECK_OK(ff_image_write_png(cpath, rgb, W, H, 0, FF_PIXEL_RGB8));

    static const int32_t sizes[][2] = {{H, W}, {2 * H, 2 * W}, {4, 5}, {16, 16}, {1, 1}};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        int32_t oh = sizes[s][0], ow = sizes[s][1];
        uint8_t got[16 * 18], want[16 * 18];
        memset(got, 7, sizeof got);
        ff_mask_resize_nearest(grey, H, W, W, oh, ow, want);
        int ok_values = 1;
        for (int32_t y = 0; y < oh; y++)
            for (int32_t x = 0; x < ow; x++) {
                uint8_t src = grey[ff_nearest_source_index(y, H, oh) * W +
                                   ff_nearest_source_index(x, W, ow)];
                ok_values &= want[y * ow + x] == (src != 0);
            }
        CHECK(ok_values);
        CHECK_OK(ff_mask_load(gpath, ow, oh, got));
        CHECK(memcmp(got, want, (size_t)(oh * ow)) == 0);
        memset(got, 7, sizeof got);
        CHECK_OK(ff_mask_load(cpath, ow, oh, got));
        CHECK(memcmp(got, want, (size_t)(oh * ow)) == 0);
    }
    /* at its own size the mask is the file, binarised (the faint 1 too) */
    uint8_t same[H * W];
    CHECK_OK(ff_mask_load(gpath, W, H, same));
    int equal = 1, faint = 0;
    for (int i = 0; i < H * W; i++) {
        equal &= same[i] == (grey[i] != 0);
        faint += grey[i] == 1 && same[i] == 1;
    }
    CHECK(equal);
    CHECK(faint > 0);

    /* a broken mask file names its path */
    uint8_t out[4] = {0};
    snprintf(bad, sizeof bad, "%s/cat/ground_truth/crack/x_mask.png", root); /* empty file */
    ff_status st = ff_mask_load(bad, 2, 2, out);
    CHECK(st == FF_E_BAD_FORMAT || st == FF_E_IO);
    CHECK_MSG("x_mask.png");
    snprintf(bad, sizeof bad, "%s/no_such_mask.png", root);
    CHECK_STATUS(ff_mask_load(bad, 2, 2, out), FF_E_IO);
    CHECK_MSG("no_such_mask.png");
    CHECK_STATUS(ff_mask_load(gpath, 2, 0, out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("must be positive");
    CHECK_STATUS(ff_mask_load(NULL, 2, 2, out), FF_E_INVALID_ARGUMENT);
}

int main(void) {
    const char *root = ff_test_tmpdir();
    build_mvtec_tree(root);
    test_mvtec_layout(root);
    test_missing_mask(root);
    test_image_level(root);
    test_plain_folder(root);
    test_bad_layouts(root);
    test_nearest_golden();
    test_mask_files(root);
    return ff_test_finish();
}
