#include "synth_dataset.h"

#include <stdio.h>
#include <stdlib.h>

#include "cli_paths.h"
#include "cli_util.h"
#include "fastflow.h"

void synth_dataset_defaults(synth_dataset_config *c) {
    c->params.size = 256;
    c->params.texture = SYNTH_METAL;
    c->params.seed = 0;
    c->num_train = 60;
    c->num_test_good = 10;
    c->num_test_defect = 10;
    c->kinds = 1u << SYNTH_SCRATCH | 1u << SYNTH_SPOT | 1u << SYNTH_STAIN;
}

static int write_split(const char *cmd, const synth_dataset_config *c, const char *dir, int32_t split, int32_t kind,
                       int32_t count, float *work, uint8_t *rgb, uint8_t *mask) {
    const char *type = synth_kind_name(kind);
    char img_dir[4096], mask_dir[4096], path[4200];
    int a = snprintf(img_dir, sizeof img_dir, "%s/%s/%s", dir, split == SYNTH_TRAIN ? "train" : "test", type);
    int b = snprintf(mask_dir, sizeof mask_dir, "%s/ground_truth/%s", dir, type);
    if (a < 0 || b < 0 || (size_t)a >= sizeof img_dir || (size_t)b >= sizeof mask_dir) {
        fprintf(stderr, "fastflow %s: folder name too long: %s\n", cmd, dir);
        return 1;
    }
    if (cli_mkdir_p(cmd, img_dir) != 0) return 1;
    bool masks = kind != SYNTH_GOOD;
    if (masks && cli_mkdir_p(cmd, mask_dir) != 0) return 1;
    const int32_t n = c->params.size;
    for (int32_t i = 0; i < count; i++) {
        if (synth_render(&c->params, split, kind, i, work, rgb, masks ? mask : NULL) != 0) {
            fprintf(stderr, "fastflow %s: bad synthetic data set parameters\n", cmd);
            return 1;
        }
        snprintf(path, sizeof path, "%s/%03d.png", img_dir, (int)(i % 1000000));
        ff_status st = ff_image_write_png(path, rgb, n, n, 0, FF_PIXEL_RGB8);
        if (st != FF_OK) return cli_fail(cmd, path, st);
        if (!masks) continue;
        snprintf(path, sizeof path, "%s/%03d_mask.png", mask_dir, (int)(i % 1000000));
        st = ff_image_write_png(path, mask, n, n, 0, FF_PIXEL_GRAY8);
        if (st != FF_OK) return cli_fail(cmd, path, st);
    }
    return 0;
}

int synth_dataset_write(const char *cmd, const synth_dataset_config *c, const char *dir) {
    if (c->num_train < 1 || c->num_test_good < 1 || c->num_test_defect < 1 || c->num_train > 100000 ||
        c->num_test_good > 100000 || c->num_test_defect > 100000) {
        fprintf(stderr, "fastflow %s: image counts must be in [1, 100000]\n", cmd);
        return 1;
    }
    const size_t n = (size_t)c->params.size;
    float *work = malloc(sizeof(float) * (size_t)synth_work_floats(c->params.size));
    uint8_t *rgb = malloc(3 * n * n), *mask = malloc(n * n);
    int rc = 1;
    if (!work || !rgb || !mask) {
        fprintf(stderr, "fastflow %s: out of memory\n", cmd);
        goto done;
    }
    if (write_split(cmd, c, dir, SYNTH_TRAIN, SYNTH_GOOD, c->num_train, work, rgb, mask) != 0) goto done;
    for (int32_t kind = 0; kind < SYNTH_NUM_KINDS; kind++) {
        if (kind != SYNTH_GOOD && !(c->kinds >> kind & 1u)) continue;
        if (write_split(cmd, c, dir, SYNTH_TEST, kind, kind == SYNTH_GOOD ? c->num_test_good : c->num_test_defect,
                        work, rgb, mask) != 0)
            goto done;
    }
    rc = 0;
done:
    free(work);
    free(rgb);
    free(mask);
    return rc;
}
