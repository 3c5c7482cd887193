/* The training loop shared by fastflow train and fastflow demo (moved out
 * of cmd_train.c unchanged, except that the command name is a parameter). */
#include "train_loop.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_util.h"
#include "core/float_text.h"
#include "progress.h"
#include "select_run.h"

void train_args_defaults(train_args *a) {
    memset(a, 0, sizeof *a);
    /* the trainer's own defaults, from the library's option table */
    a->batch = (int32_t)cli_param_default(FF_OBJECT_TRAINER, FF_TRAINER_BATCH_SIZE);
    a->lr = (float)cli_param_default(FF_OBJECT_TRAINER, FF_TRAINER_LEARNING_RATE);
    a->wd = (float)cli_param_default(FF_OBJECT_TRAINER, FF_TRAINER_WEIGHT_DECAY);
    a->ema = (float)cli_param_default(FF_OBJECT_TRAINER, FF_TRAINER_EMA_DECAY);
    a->precision = (int32_t)cli_param_default(FF_OBJECT_TRAINER, FF_TRAINER_PRECISION);
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
    if (st == FF_OK) st = ff_trainer_set_f32(t, FF_TRAINER_EMA_DECAY, a->ema);
    if (st == FF_OK) st = ff_trainer_set_i32(t, FF_TRAINER_PRECISION, a->precision);
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

static int save_checkpoint(const char *CMD, const train_args *a, const ff_trainer *t, int32_t epoch) {
    ff_status st = ff_trainer_save_checkpoint(t, a->checkpoint);
    if (st != FF_OK) return cli_fail(CMD, a->checkpoint, st);
    printf("checkpoint after epoch %d: %s\n", (int)epoch, a->checkpoint);
    fflush(stdout);
    return 0;
}

/* One progress line over the whole run, counted in images (the ETA is the
 * training's), relabelled per epoch and erased before each epoch's log line.
 * A resumed trainer starts after its completed epochs (and batches); with
 * --epochs auto the selection decides after each epoch whether to go on. */
static int train(const char *CMD, const train_args *a, ff_trainer *t, uint64_t images) {
    int64_t batches = 0, done = 0, skip = 0;
    ff_trainer_get_i64(t, FF_TRAINER_BATCHES_PER_EPOCH, &batches);
    ff_trainer_get_i64(t, FF_TRAINER_EPOCH, &done);
    ff_trainer_get_i64(t, FF_TRAINER_BATCH_IN_EPOCH, &skip);
    const int32_t epochs = a->select ? a->select->max_epochs : a->epochs;
    if (done > 0 || skip > 0) {
        printf("resuming after epoch %lld%s\n", (long long)done, skip ? " (in the middle of the next)" : "");
        fflush(stdout);
    }
    uint64_t batch = (uint64_t)a->batch;
    double epoch_total = 0.0;
    int32_t run = 0;
    cli_progress p;
    progress_begin(&p, "epoch", (uint64_t)epochs * images);
    for (int32_t e = (int32_t)done + 1; e <= epochs; e++) {
        double t0 = cli_now_seconds();
        double sum = 0.0;
        char label[64], extra[64];
        snprintf(label, sizeof label, "epoch %d/%d", (int)e, (int)epochs);
        progress_label(&p, label);
        int64_t first = e == done + 1 ? skip + 1 : 1;
        for (int64_t b = first; b <= batches; b++) {
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
        run++;
        progress_clear(&p);
        printf("epoch %d/%d loss %.6g time %.2f s\n", (int)e, (int)epochs, sum / (double)(batches - first + 1),
               secs);
        fflush(stdout);
        bool stop = false;
        if (a->select && sel_run_epoch(a->select, t, e, &stop) != 0) {
            progress_end(&p);
            return 1;
        }
        if (a->checkpoint_every > 0 && e % a->checkpoint_every == 0 && e < epochs && !stop &&
            save_checkpoint(CMD, a, t, e) != 0) {
            progress_end(&p);
            return 1;
        }
        if (stop) break;
    }
    progress_end(&p);
    if (run > 0)
        printf("trained %d epochs in %.1f s (%.2f s per epoch)\n", (int)run, epoch_total, epoch_total / (double)run);
    return 0;
}

/* Restores a->resume into t; the run's settings must be the checkpoint's. */
static int resume(const char *CMD, const train_args *a, ff_trainer *t) {
    ff_status st = ff_trainer_restore_checkpoint(t, a->resume);
    if (st != FF_OK) return cli_fail(CMD, a->resume, st);
    int32_t batch = 0;
    float lr = 0.0f, wd = 0.0f, ema = 0.0f;
    ff_trainer_get_i32(t, FF_TRAINER_BATCH_SIZE, &batch);
    ff_trainer_get_f32(t, FF_TRAINER_LEARNING_RATE, &lr);
    ff_trainer_get_f32(t, FF_TRAINER_WEIGHT_DECAY, &wd);
    ff_trainer_get_f32(t, FF_TRAINER_EMA_DECAY, &ema);
    if (batch != a->batch || lr != a->lr || wd != a->wd || ema != a->ema) {
        /* --ema is named only when one of the runs used it */
        char e1[48] = "", e2[48] = "", d[32];
        if (ema > 0.0f || a->ema > 0.0f) {
            snprintf(e1, sizeof e1, " --ema %s", ff_float_text(ema, d, sizeof d));
            snprintf(e2, sizeof e2, " --ema %s", ff_float_text(a->ema, d, sizeof d));
        }
        fprintf(stderr,
                "fastflow %s: %s: the checkpoint was written with --batch %d --lr %g --weight-decay %g%s; resume "
                "with the options of the interrupted run (this run: --batch %d --lr %g --weight-decay %g%s)\n",
                CMD, a->resume, (int)batch, (double)lr, (double)wd, e1, (int)a->batch, (double)a->lr, (double)a->wd,
                e2);
        return 1;
    }
    return 0;
}

int train_prepare(const char *CMD, const train_args *a, const ff_dataset *ds, ff_flow **flow_out,
                  ff_trainer **trainer_out) {
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
    if ((rc = configure(CMD, a, t)) != 0 || (rc = add_images(CMD, ds, t)) != 0) goto done;
    *flow_out = flow;
    *trainer_out = t;
    flow = NULL;
    t = NULL;
done:
    ff_trainer_destroy(t);
    ff_flow_destroy(flow);
    ff_backbone_destroy(bb); /* the flow keeps it alive */
    return rc;
}

/* The trained flow of a fixed epoch count. With --ema it is the moving
 * average and with --precision bf16 it was trained in bf16; a training
 * record says so (a record otherwise stays absent, as before the options
 * existed). */
static int take_trained(const char *CMD, const train_args *a, const ff_trainer *t, ff_flow **trained) {
    ff_flow *snap = NULL;
    ff_status st = ff_trainer_snapshot(t, &snap);
    if (st != FF_OK) return cli_fail(CMD, "taking the trained flow", st);
    const int bf16 = a->precision == FF_PRECISION_BF16;
    if (a->ema <= 0.0f && !bf16) {
        *trained = snap;
        return 0;
    }
    char rec[160], d[32];
    snprintf(rec, sizeof rec, "{\"method\":\"epochs-fixed\",\"epochs\":%d,\"ema_decay\":%s%s}", (int)a->epochs,
             ff_float_text(a->ema, d, sizeof d), bf16 ? ",\"precision\":\"bf16\"" : "");
    st = ff_flow_with_training_record(snap, rec, trained);
    ff_flow_destroy(snap);
    if (st != FF_OK) return cli_fail(CMD, "recording the training", st);
    if (a->ema > 0.0f) printf("the model is the moving average of the parameters over epochs (decay %s)\n", d);
    printf("training record: %s\n", rec);
    return 0;
}

int train_model(const char *CMD, const train_args *a, const ff_dataset *ds, ff_flow **trained) {
    ff_flow *flow = NULL;
    ff_trainer *t = NULL;
    int rc = train_prepare(CMD, a, ds, &flow, &t);
    if (rc == 0 && a->resume) rc = resume(CMD, a, t);
    if (rc == 0 && (rc = train(CMD, a, t, ds->num_train)) == 0) {
        if (a->select) {
            rc = sel_run_finish(a->select, trained);
        } else {
            rc = take_trained(CMD, a, t, trained);
        }
    }
    ff_trainer_destroy(t);
    ff_flow_destroy(flow);
    return rc;
}
