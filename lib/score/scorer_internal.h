/* What the scorer shares with its many-file pipeline (score_files.c), and
 * internals that tests query. */
#ifndef FF_SCORE_SCORER_INTERNAL_H
#define FF_SCORE_SCORER_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"
#include "image/image_input.h"

/* Images the network runs at once (the scorer's buffers hold this many). */
#define FF_SCORER_CHUNK 8
/* The upper bound of FF_SCORER_DECODE_THREADS (core/params_table.c). */
#define FF_SCORER_MAX_DECODE_THREADS 16

/* Counters of a running ff_scorer_score_files, read by ff_scorer_progress
 * from any thread. */
typedef struct ff_files_progress {
    _Atomic int64_t done, total, failed;
    _Atomic int64_t start_ns, end_ns; /* CLOCK_MONOTONIC; end 0 while running */
} ff_files_progress;

/* The pipeline's buffers, kept from call to call (grown, never shrunk). */
typedef struct ff_files_state {
    ff_files_progress progress;
    float *slots;                 /* [2, batch, 3, H, W]: two batches of inputs */
    size_t slots_cap;             /* floats */
    int32_t slot_status[2 * FF_SCORER_CHUNK]; /* [2, batch] */
    ff_image_buffer *decoders;    /* one per decoding thread */
    int32_t decoders_count;
    const char **paths;           /* the call's paths, split */
    size_t paths_cap;
    int32_t batch, jobs;          /* options FF_SCORER_BATCH, FF_SCORER_DECODE_THREADS */
} ff_files_state;

void ff_files_state_free(ff_files_state *f);

/* FF_SCORER_NUM_THREADS (0 = the global count), for ff_threads_enter. */
int32_t ff_scorer_num_threads(const ff_scorer *s);
/* Model geometry: input width and height. */
void ff_scorer_model_size(const ff_scorer *s, int32_t *w, int32_t *h);
ff_files_state *ff_scorer_files(ff_scorer *s);
ff_image_buffer *ff_scorer_image_buffer(ff_scorer *s);
/* Room for the decisions of n images; forgets the last call's. */
/* The scorer's busy flag (core/busy.h), for the public entry points kept
 * outside scorer.c: enter fails with FF_E_STATE while another call runs. */
ff_status ff_scorer_busy_enter(const ff_scorer *s);
void ff_scorer_busy_leave(const ff_scorer *s);
ff_status ff_scorer_begin(ff_scorer *s, size_t n);
/* The last call's decisions become readable (n of them). */
void ff_scorer_end(ff_scorer *s, size_t n);
/* Runs n <= FF_SCORER_CHUNK pre-processed images; their raw maps stay in
 * the scorer until the next run (ff_scorer_finish_one reads them). */
ff_status ff_scorer_run(ff_scorer *s, const float *input, int32_t n);
/* Post-processes raw map j of the last run as image `index` of the call:
 * model-size map to map_out (NULL = none), the score, the decision. */
void ff_scorer_finish_one(ff_scorer *s, int32_t j, size_t index, float *map_out, float *score_out);

/* Backbone plans the scorer's extractor has built (see
 * ff_extractor_plan_builds). */
int64_t ff_scorer_plan_builds(const ff_scorer *s);

#endif
