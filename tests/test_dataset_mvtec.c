/* The data set reader on the real data sets in ../shared/datasets (slow
 * suite): MVTec AD bottle and two sets in the same layout. Counts were taken
 * by listing the folders (ls | wc -l). Every mask is decoded and resized to
 * 256x256, as the evaluation will; the anomalous pixel totals are PIL's
 * decode + torch F.interpolate(mode="nearest") + "> 0", computed once with
 * /usr/bin/python3. magnetic_tile has 4 all-black masks of "uneven" images
 * (exp3_num_45042, exp4_num_124690, exp4_num_352527, exp4_num_45057). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval/dataset.h"
#include "eval/mask.h"
#include "test_util.h"

typedef struct expected_type {
    const char *name;
    size_t count;
} expected_type;

typedef struct expected_set {
    const char *name;
    size_t train;
    size_t num_types;
    expected_type types[8];
    uint64_t mask_pixels; /* anomalous pixels over all masks at 256x256 */
    size_t empty_masks;   /* masks without any anomalous pixel (in the file) */
} expected_set;

static const expected_set sets[] = {
    {"bottle", 209, 4, {{"broken_large", 20}, {"broken_small", 22}, {"contamination", 21}, {"good", 20}}, 314384, 0},
    {"magnetic_tile", 761, 6,
     {{"blowhole", 115}, {"break", 85}, {"crack", 57}, {"fray", 32}, {"good", 191}, {"uneven", 103}},
     2301364, 4},
    {"mpdd_metal_plate", 54, 2, {{"defect", 71}, {"good", 26}}, 750666, 0},
};

static void check_set(const char *datasets, const expected_set *e, int decode_masks) {
    ff_dataset *ds = NULL;
    CHECK_OK(ff_dataset_open(datasets, e->name, &ds));
    if (!ds) return;
    CHECK(ds->layout == FF_DATASET_MVTEC && ds->has_masks == 1);
    CHECK(ds->num_train == e->train);
    CHECK(ds->num_types == e->num_types);
    size_t total = 0, defects = 0;
    for (size_t t = 0; t < e->num_types && t < ds->num_types; t++) {
        CHECK(strcmp(ds->type_names[t], e->types[t].name) == 0);
        size_t n = 0;
        for (size_t i = 0; i < ds->num_test; i++) n += ds->test_types[i] == (int32_t)t;
        CHECK(n == e->types[t].count);
        total += e->types[t].count;
        if (strcmp(e->types[t].name, "good") != 0) defects += e->types[t].count;
    }
    CHECK(ds->num_test == total && ds->num_defect == defects && ds->num_good == total - defects);
    printf("%s: train %zu, test %zu (%zu good, %zu defect), %zu types\n", e->name, ds->num_train,
           ds->num_test, ds->num_good, ds->num_defect, ds->num_types);

    /* every defect image has its mask, and the decoded, resized masks hold
     * exactly the reference's anomalous pixels */
    if (decode_masks) {
        uint8_t *mask = malloc(256 * 256);
        size_t decoded = 0, empty = 0;
        uint64_t pixels = 0;
        for (size_t i = 0; mask && i < ds->num_test; i++) {
            if (!ds->test_labels[i]) {
                CHECK(ds->test_mask_paths[i] == NULL);
                continue;
            }
            CHECK_OK(ff_mask_load(ds->test_mask_paths[i], 256, 256, mask));
            size_t on = 0;
            for (size_t p = 0; p < 256 * 256; p++) on += mask[p];
            empty += on == 0;
            pixels += on;
            decoded++;
        }
        free(mask);
        CHECK(decoded == ds->num_defect);
        CHECK(empty == e->empty_masks);
        CHECK(pixels == e->mask_pixels);
        printf("%s: %zu masks decoded at 256x256: %llu anomalous pixels (reference %llu), %zu "
               "empty\n",
               e->name, decoded, (unsigned long long)pixels, (unsigned long long)e->mask_pixels,
               empty);
    }
    ff_dataset_destroy(ds);
}

int main(void) {
    const char *datasets = ff_test_shared_path("datasets");
    if (!datasets) ff_test_skip("shared datasets folder not found");
    for (size_t i = 0; i < sizeof sets / sizeof *sets; i++) {
        char probe[64];
        snprintf(probe, sizeof probe, "datasets/%s", sets[i].name);
        if (!ff_test_shared_path(probe)) {
            if (i == 0) ff_test_skip("shared datasets/bottle not found");
            continue;
        }
        check_set(datasets, &sets[i], 1);
    }
    return ff_test_finish();
}
