/* The training loop shared by fastflow train and fastflow demo (moved out
 * of cmd_train.c unchanged, except that the command name is a parameter). */
#include "train_loop.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_util.h"
#include "progress.h"

void train_args_defaults(train_args *a) {
    memset(a, 0, sizeof *a);
    /* the trainer's own defaults, from the library's option table */
    a->batch = (int32_t)cli_param_default(FF_OBJECT_TRAINER, FF_TRAINER_BATCH_SIZE);
    a->lr = (float)cli_param_default(FF_OBJECT_TRAINER, FF_TRAINER_LEARNING_RATE);
    a->wd = (float)cli_param_default(FF_OBJECT_TRAINER, FF_TRAINER_WEIGHT_DECAY);
    a->conv3x3_only = -1; /* steps, size, hidden_ratio 0: unset */
}

double cli_now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int build_flow(const char *CMD, const train_args *a, ff_backbone *bb, ff_flow **flow) {
    ff_flow_options *o = NULL;
    ff_status st = ff_flow_options_create(&o);
    /* Only what the user gave; the library fills in the backbone's defaults
     * (ResNets 256 / 8 steps / 3x3 / 1.0, ViTs native side / 20 / alternating / 0.16). */
    if (st == FF_OK && a->size > 0) st = ff_flow_options_set_i32(o, FF_FLOW_INPUT_HEIGHT, a->size);
    if (st == FF_OK && a->size > 0) st = ff_flow_options_set_i32(o, FF_FLOW_INPUT_WIDTH, a->size);
    if (st == FF_OK && a->steps > 0) st = ff_flow_options_set_i32(o, FF_FLOW_STEPS, a->steps);
    if (st == FF_OK && a->conv3x3_only >= 0) st = ff_flow_options_set_i32(o, FF_FLOW_CONV3X3_ONLY, a->conv3x3_only);
    if (st == FF_OK && a->hidden_ratio > 0.0f) st = ff_flow_options_set_f32(o, FF_FLOW_HIDDEN_RATIO, a->hidden_ratio);
    if (st == FF_OK) st = ff_flow_options_set_i64(o, FF_FLOW_SEED, a->seed);
    if (st == FF_OK) st = ff_flow_create(bb, o, flow);
    ff_flow_options_destroy(o);
    if (st != FF_OK) return cli_fail(CMD, "creating the flow", st);
    int32_t h = 0, w = 0, steps = 0, only3 = 0;
    float hidden = 0.0f;
    ff_flow_get_i32(*flow, FF_FLOW_INPUT_HEIGHT, &h);
    ff_flow_get_i32(*flow, FF_FLOW_INPUT_WIDTH, &w);
    ff_flow_get_i32(*flow, FF_FLOW_STEPS, &steps);
    ff_flow_get_i32(*flow, FF_FLOW_CONV3X3_ONLY, &only3);
    ff_flow_get_f32(*flow, FF_FLOW_HIDDEN_RATIO, &hidden);
    printf("flow over %s: input %dx%d, %d steps, hidden ratio %g, %s kernels\n", a->arch, (int)w, (int)h,
           (int)steps, (double)hidden, only3 ? "3x3-only" : "alternating 3x3/1x1");
    fflush(stdout);
    return 0;
}

static int configure(const char *CMD, const train_args *a, ff_trainer *t) {
    ff_status st = ff_trainer_set_i32(t, FF_TRAINER_BATCH_SIZE, a->batch);
    if (st == FF_OK) st = ff_trainer_set_f32(t, FF_TRAINER_LEARNING_RATE, a->lr);
    if (st == FF_OK) st = ff_trainer_set_f32(t, FF_TRAINER_WEIGHT_DECAY, a->wd);
    if (st == FF_OK) st = ff_trainer_set_i64(t, FF_TRAINER_SEED, a->seed);
    if (st == FF_OK) st = ff_trainer_set_i64(t, FF_TRAINER_CACHE_MEMORY, a->cache_memory);
    return st == FF_OK ? 0 : cli_fail(CMD, "configuring the trainer", st);
}

static int add_images(const char *CMD, const ff_dataset *ds, ff_trainer *t) {
    double t0 = cli_now_seconds();
    cli_progress p;
    progress_begin(&p, "caching features", ds->num_train);
    for (size_t i = 0; i < ds->num_train; i++) {
        ff_status st = ff_trainer_add_image_file(t, ds->train_paths[i]);
        if (st != FF_OK) {
            progress_end(&p);
            return cli_fail(CMD, ds->train_paths[i], st);
        }
        progress_update(&p, i + 1, NULL);
    }
    progress_end(&p);
    int64_t bytes = 0, spilled = 0;
    ff_trainer_get_i64(t, FF_TRAINER_FEATURE_BYTES, &bytes);
    ff_trainer_get_i64(t, FF_TRAINER_FEATURE_BYTES_SPILLED, &spilled);
    printf("cached features of %zu images (%.1f MiB", ds->num_train, (double)bytes / 1048576.0);
    if (spilled > 0) printf(", %.1f MiB of them in a temporary file beyond --cache-memory", (double)spilled / 1048576.0);
    printf(") in %.1f s\n", cli_now_seconds() - t0);
    fflush(stdout);
    return 0;
}

/* One progress line over the whole run, counted in images (the ETA is the
 * training's), relabelled per epoch and erased before each epoch's log line. */
static int train(const char *CMD, const train_args *a, ff_trainer *t, uint64_t images) {
    int64_t batches = 0;
    ff_trainer_get_i64(t, FF_TRAINER_BATCHES_PER_EPOCH, &batches);
    uint64_t batch = (uint64_t)a->batch;
    double epoch_total = 0.0;
    cli_progress p;
    progress_begin(&p, "epoch", (uint64_t)a->epochs * images);
    for (int32_t e = 1; e <= a->epochs; e++) {
        double t0 = cli_now_seconds();
        double sum = 0.0;
        char label[64], extra[64];
        snprintf(label, sizeof label, "epoch %d/%d", (int)e, (int)a->epochs);
        progress_label(&p, label);
        for (int64_t b = 1; b <= batches; b++) {
            float loss = 0.0f;
            ff_status st = ff_trainer_run_batch(t, &loss);
            if (st != FF_OK) {
                progress_end(&p);
                return cli_fail(CMD, "training", st);
            }
            sum += loss;
            /* the last batch of an epoch may be short: count what was seen */
            uint64_t seen = (uint64_t)b * batch < images ? (uint64_t)b * batch : images;
            snprintf(extra, sizeof extra, "batch %lld/%lld  loss %.4g", (long long)b, (long long)batches,
                     (double)loss);
            progress_update(&p, (uint64_t)(e - 1) * images + seen, extra);
        }
        double secs = cli_now_seconds() - t0;
        epoch_total += secs;
        progress_clear(&p);
        printf("epoch %d/%d loss %.6g time %.2f s\n", (int)e, (int)a->epochs, sum / (double)batches, secs);
        fflush(stdout);
    }
    progress_end(&p);
    printf("trained %d epochs in %.1f s (%.2f s per epoch)\n", (int)a->epochs, epoch_total,
           epoch_total / (double)a->epochs);
    return 0;
}

int train_model(const char *CMD, const train_args *a, const ff_dataset *ds, ff_flow **trained) {
    ff_backbone *bb = NULL;
    ff_flow *flow = NULL;
    ff_trainer *t = NULL;
    int rc = 1;
    ff_status st = ff_backbone_load(a->arch, a->weights, &bb);
    if (st != FF_OK) {
        rc = cli_fail(CMD, a->weights, st);
        goto done;
    }
    if ((rc = build_flow(CMD, a, bb, &flow)) != 0) goto done;
    if ((st = ff_trainer_create(flow, &t)) != FF_OK) {
        rc = cli_fail(CMD, "creating the trainer", st);
        goto done;
    }
    if ((rc = configure(CMD, a, t)) != 0 || (rc = add_images(CMD, ds, t)) != 0 ||
        (rc = train(CMD, a, t, ds->num_train)) != 0)
        goto done;
    if ((st = ff_trainer_snapshot(t, trained)) != FF_OK) rc = cli_fail(CMD, "taking the trained flow", st);
done:
    ff_trainer_destroy(t);
    ff_flow_destroy(flow);
    ff_backbone_destroy(bb);
    return rc;
}
