/* The training loop shared by `fastflow train` and `fastflow demo`: loads
 * the backbone, creates a flow, caches the training images' features and
 * runs the epochs with progress output (a bar redrawn on a terminal, one
 * plain line per epoch otherwise). */
#ifndef FF_CLI_TRAIN_LOOP_H
#define FF_CLI_TRAIN_LOOP_H

#include <stdint.h>

#include "eval/dataset.h"
#include "fastflow.h"

struct sel_run;

typedef struct {
    const char *data, *category, *arch, *weights, *out;
    int32_t epochs, batch, steps, size, conv3x3_only;
    int64_t seed, threads;
    int64_t cache_memory; /* FF_TRAINER_CACHE_MEMORY, 0 = no limit */
    float lr, wd, hidden_ratio;
    /* FF_TRAINER_EMA_DECAY, 0 = off: the model written (and with --epochs
     * auto, the one scored and kept) is the parameters' moving average */
    float ema;
    /* FF_TRAINER_PRECISION (enum ff_precision) */
    int32_t precision;
    /* resuming: a trainer checkpoint written every checkpoint_every epochs
     * (0: never) to `checkpoint`; `resume` restores one before training */
    int32_t checkpoint_every;
    const char *checkpoint, *resume;
    /* --epochs auto: when set, up to select->max_epochs epochs, stopping as
     * it says, and *trained is its kept flow (select_run.h) */
    struct sel_run *select;
} train_args;

/* batch 32, lr 1e-3, weight decay 1e-5, seed 0, no EMA, fp32; no paths, epochs 0. The
 * flow settings start unset (steps, size, hidden_ratio 0, conv3x3_only -1)
 * so that the flow takes its backbone's defaults for those not given. */
void train_args_defaults(train_args *a);

/* Trains on ds's training images with a's backbone and options; on
 * success *trained receives the trained flow (the caller destroys it).
 * Returns 0, or prints an error prefixed with "fastflow <cmd>:" and
 * returns 1. */
int train_model(const char *cmd, const train_args *a, const ff_dataset *ds, ff_flow **trained);

/* The steps before the first epoch: loads the backbone, creates the flow
 * (*flow_out, the untrained start) and a trainer over it (*trainer_out)
 * configured from `a`, with ds's training images added. The caller
 * destroys both. Returns 0, or prints an error and returns 1. */
int train_prepare(const char *cmd, const train_args *a, const ff_dataset *ds, ff_flow **flow_out,
                  ff_trainer **trainer_out);

/* Monotonic clock in seconds. */
double cli_now_seconds(void);

#endif
