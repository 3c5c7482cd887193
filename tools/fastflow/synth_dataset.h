/* Writes the synthetic inspection set (synth_data.h) to disk in the MVTec
 * AD layout:
 *   DIR/train/good/NNN.png                  normal training images
 *   DIR/test/good/NNN.png                   normal test images
 *   DIR/test/{scratch,spot,stain}/NNN.png   defect test images
 *   DIR/ground_truth/<type>/NNN_mask.png    their masks (GRAY8, 0 / 255) */
#ifndef FF_CLI_SYNTH_DATASET_H
#define FF_CLI_SYNTH_DATASET_H

#include <stdint.h>

#include "synth_data.h"

typedef struct {
    synth_params params;
    int32_t num_train;       /* training images (train/good) */
    int32_t num_test_good;   /* test/good images */
    int32_t num_test_defect; /* images per defect type */
    uint32_t kinds;          /* defect types written: bit k = enum synth_kind k; the demo's scratch,
                                spot and stain by default */
} synth_dataset_config;

/* Defaults for a quick demo: 256 px metal, seed 0, 60 train, 10 good and
 * 10 per defect type in test. */
void synth_dataset_defaults(synth_dataset_config *c);

/* Writes the set under `dir` (created when missing; existing files of the
 * same names are replaced). Returns 0, or prints an error prefixed with
 * "fastflow <cmd>:" and returns 1. */
int synth_dataset_write(const char *cmd, const synth_dataset_config *c, const char *dir);

#endif
