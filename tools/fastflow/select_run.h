/* `fastflow train --epochs auto`: after every epoch the trainer's current
 * parameters (their moving average with --ema: what ff_trainer_snapshot
 * returns) score the selection set (select_set.h), the criterion
 * (select_criteria.h) turns that into one number, the best epoch's flow is
 * kept in memory, and training stops after `patience` epochs without
 * improvement or at max_epochs. The kept flow carries a training record
 * (ff_flow_with_training_record): the method, the criterion, the selection
 * set, the chosen epoch, the criterion's curve and any EMA decay. */
#ifndef FF_CLI_SELECT_RUN_H
#define FF_CLI_SELECT_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "fastflow.h"
#include "select_criteria.h"
#include "select_set.h"

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
    int32_t criterion, max_epochs;
    sel_source src;
    sel_set set;          /* built at the first epoch, at the flow's input size */
    char set_desc[160];   /* e.g. "16 held-out normal training images + 32 synthetic anomalies" */
    sel_tracker tracker;
    ff_flow *best;        /* the best epoch's parameters */
    double *curve;        /* value after epoch e at curve[e - 1] */
    int32_t epochs_run;
    float ema_decay;      /* the trainer's FF_TRAINER_EMA_DECAY (0: off), for the record */
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
/* The record's JSON text into buf (malloc'd by the caller, cap bytes); 0 or -1 when it does not fit. */
int sel_run_record(const sel_run *r, char *buf, size_t cap);
void sel_run_free(sel_run *r);

#endif
