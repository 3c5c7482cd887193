/* Reading an anomaly-detection data set from disk.
 *
 * Two layouts are accepted:
 *
 *  - MVTec AD (a category folder DIR, recognised by DIR/train or DIR/test):
 *      DIR/train/good/<images>              normal training images
 *      DIR/test/<type>/<images>             test images; type "good" is
 *                                           label 0, every other type 1
 *      DIR/ground_truth/<type>/<stem>_mask.png  mask of each defect image
 *    A defect image without its mask is FF_E_BAD_FORMAT naming both paths,
 *    unless DIR has no ground_truth folder at all: such an image-level set
 *    has has_masks = 0 and is evaluated on image metrics only.
 *  - A plain folder of images (no train/ or test/ inside): all of them are
 *    normal training images, and there is no test split.
 *
 * Images are files ending in .png, .jpg or .jpeg (any case); hidden entries
 * (starting with '.') and anything else are ignored. Folders and files are
 * sorted by name (byte order) so the order is the same on every machine. */
#ifndef FF_EVAL_DATASET_H
#define FF_EVAL_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"

enum ff_dataset_layout { FF_DATASET_MVTEC = 1, FF_DATASET_PLAIN = 2 };

typedef struct ff_dataset {
    char *root;         /* the category folder that was read */
    int32_t layout;     /* enum ff_dataset_layout */
    int32_t has_masks;  /* 1 when DIR/ground_truth exists (pixel metrics) */

    size_t num_train;
    char **train_paths; /* num_train paths */

    size_t num_test;        /* test images, grouped by type, types in order */
    char **test_paths;      /* num_test paths */
    uint8_t *test_labels;   /* 0 good, 1 defect */
    char **test_mask_paths; /* NULL for good images and when has_masks == 0 */
    int32_t *test_types;    /* index into type_names */
    size_t num_good, num_defect;

    size_t num_types;  /* test/<type> folders, sorted; "good" among them */
    char **type_names;
} ff_dataset;

/* Reads the layout of `dir` (or of dir/category when category is neither
 * NULL nor ""). Lists files only; no image is decoded. Errors: FF_E_IO (a
 * folder cannot be read), FF_E_BAD_FORMAT (missing mask, train/ without
 * good/, a plain folder without images), FF_E_INVALID_ARGUMENT. */
ff_status ff_dataset_open(const char *dir, const char *category, ff_dataset **out);
void ff_dataset_destroy(ff_dataset *ds);

#endif
