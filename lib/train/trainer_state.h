/* The trainer's state as the checkpoint code (checkpoint.c) sees it:
 * pointers into one ff_trainer, so that saving and restoring live in their
 * own file while the struct stays private to trainer.c. */
#ifndef FF_TRAIN_TRAINER_STATE_H
#define FF_TRAIN_TRAINER_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "fastflow.h"

/* FNV-1a, 64-bit: the fingerprint of the images added to a trainer is
 * this hash over their pre-processed inputs (float32 bytes, in the order
 * added), which does not depend on the thread count. */
#define FF_FNV_OFFSET UINT64_C(0xCBF29CE484222325)
static inline uint64_t ff_fnv1a64(uint64_t h, const void *data, size_t n) {
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * UINT64_C(0x100000001B3);
    return h;
}

/* The moving average of the parameters exists from the first completed
 * epoch on, when a decay is set: snapshots return it and checkpoints carry
 * it from then. */
static inline int ff_trainer_has_ema(float decay, int64_t epoch) {
    return decay > 0.0f && epoch >= 1;
}

typedef struct {
    const ff_flow *flow; /* the flow the trainer started from */
    float *params, *m, *v;
    size_t num_params;
    int32_t *batch_size;
    float *lr, *weight_decay;
    float *ema_decay;
    float **ema; /* ff_alloc'd, the trainer's; NULL until a decay > 0 was set */
    int64_t *seed;
    ff_rng *rng;
    int32_t **order; /* this epoch's shuffled indices (malloc'd, *order_cap entries) */
    int64_t *order_cap;
    int32_t *in_epoch;
    int64_t *epoch_images, *epoch, *batch_in_epoch, *steps;
    double *epoch_loss_sum;
    int64_t num_images;
    uint64_t data_hash;
    int32_t bf16; /* the engine trains in bf16 (FF_TRAINER_PRECISION); a restore checks, never changes, it */
} ff_trainer_state;

void ff_trainer_state_of(ff_trainer *t, ff_trainer_state *s);
/* The trainer's busy flag (core/busy.h) for the entry points outside
 * trainer.c: enter fails with FF_E_STATE while another call runs. */
ff_status ff_trainer_busy_enter(const ff_trainer *t);
void ff_trainer_busy_leave(const ff_trainer *t);

#endif
