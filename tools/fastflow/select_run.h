/* `fastflow train --epochs auto`: drives the library's ff_selector (the
 * selection set, the criterion, the best epoch's flow and its training
 * record all live there). This file decodes the selection images from
 * their files, hands them to the selector after the first epoch (at the
 * flow's input size), prints one line per epoch and the choice. */
#ifndef FF_CLI_SELECT_RUN_H
#define FF_CLI_SELECT_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "fastflow.h"

/* Where the selection images come from (borrowed): held-out normal images
 * (labels NULL; synthetic anomalies are added, drawn from seed) or a
 * labelled set (labels, mask_paths may be NULL). */
typedef struct {
    char *const *paths;
    size_t n;
    const uint8_t *labels;
    char *const *mask_paths;
    int64_t seed;
} sel_source;

typedef struct sel_run {
    const char *cmd;
    int32_t criterion, max_epochs, patience;
    sel_source src;
    char set_desc[160];   /* e.g. "16 held-out normal training images + 32 synthetic anomalies" */
    ff_selector *sel;     /* created at the first epoch, with the images added */
    int32_t best_epoch;   /* for the log lines */
    double best;
    int32_t epochs_run;
    double seconds;       /* time spent scoring the selection set */
} sel_run;

/* Returns 0, or prints an error and returns 1. */
int sel_run_init(sel_run *r, const char *cmd, int32_t criterion, int32_t max_epochs, int32_t patience,
                 const sel_source *src);
/* Scores the trainer's parameters after epoch `epoch`; *stop is set when
 * patience ran out. Prints one line. Returns 0, or prints an error and
 * returns 1. */
int sel_run_epoch(sel_run *r, const ff_trainer *t, int32_t epoch, bool *stop);
/* The kept flow with its training record; the caller destroys it. */
int sel_run_finish(sel_run *r, ff_flow **out);
void sel_run_free(sel_run *r);

/* Decodes the image file at `path` as packed RGB8 (or, gray, GRAY8) into a
 * malloc'd *pixels of *width x *height. Returns 0, or prints an error and
 * returns 1. Also used by the study (tools/study). */
int sel_load_pixels(const char *cmd, const char *path, int gray, uint8_t **pixels, int32_t *width, int32_t *height);

#endif
