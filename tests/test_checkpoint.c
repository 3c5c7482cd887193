/* Trainer checkpoints (ff_trainer_save_checkpoint / _restore_checkpoint):
 * a run stopped at an epoch boundary or in the middle of an epoch and
 * resumed from its checkpoint in a new trainer ends bit-identical to an
 * uninterrupted run; a save killed with SIGKILL at any moment leaves the
 * previous checkpoint usable; corrupt, truncated and mismatched files are
 * refused with a clear message and leave the trainer unchanged. The same
 * resumes with the moving average on (FF_TRAINER_EMA_DECAY: its average is
 * bit-identical too); without it the file stays version 1 as before, and a
 * version 1 file turns a trainer's average off. Synthetic: a random
 * resnet18 at 64x64, 2 flow steps. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "flow/flow_internal.h"
#include "flow_testlib.h"
#include "tensor/safetensors.h"
#include "test_util.h"

#define SIZE 64
#define NIMG 7
#define BATCH 3 /* 3 batches per epoch, the last one smaller */

static float ema_decay; /* FF_TRAINER_EMA_DECAY of the trainers below */

static ff_trainer *trainer_for(const ff_flow *flow, int first_image) {
    ff_trainer *t = NULL;
    if (ff_trainer_create(flow, &t) != FF_OK) return NULL;
    ff_trainer_set_f32(t, FF_TRAINER_EMA_DECAY, ema_decay);
    ff_trainer_set_i32(t, FF_TRAINER_BATCH_SIZE, BATCH);
    ff_trainer_set_i64(t, FF_TRAINER_SEED, 5);
    ff_trainer_set_f32(t, FF_TRAINER_LEARNING_RATE, 2e-3f);
    for (int i = 0; i < NIMG; i++) {
        uint8_t *img = ft_image(200 + (uint64_t)(first_image + i), SIZE, SIZE, 0);
        ff_status st = img ? ff_trainer_add_image(t, img, SIZE, SIZE, 0, FF_PIXEL_RGB8) : FF_E_OUT_OF_MEMORY;
        free(img);
        if (st != FF_OK) {
            ff_trainer_destroy(t);
            return NULL;
        }
    }
    return t;
}

static int64_t get(const ff_trainer *t, int32_t key) {
    int64_t v = -1;
    ff_trainer_get_i64(t, key, &v);
    return v;
}

/* Trains until `epochs` epochs are complete. */
static void finish(ff_trainer *t, int64_t epochs) {
    while (get(t, FF_TRAINER_EPOCH) < epochs) CHECK_OK(ff_trainer_run_batch(t, NULL));
}

static ff_flow *snap(const ff_trainer *t) {
    ff_flow *f = NULL;
    CHECK_OK(ff_trainer_snapshot(t, &f));
    return f;
}

static ff_flow *snap_raw(const ff_trainer *t) {
    ff_flow *f = NULL;
    CHECK_OK(ff_trainer_snapshot_raw(t, &f));
    return f;
}

static int same_params(const ff_flow *a, const ff_flow *b) {
    return a && b && memcmp(a->params, b->params, a->layout.num_params * sizeof(float)) == 0;
}

/* Stops after `batches` batches, saves, and resumes in a fresh trainer;
 * reference is the uninterrupted run's snapshot, reference_raw its raw one. */
static void test_resume(const ff_flow *flow, const ff_flow *reference, const ff_flow *reference_raw, int64_t batches,
                        const char *path) {
    ff_trainer *a = trainer_for(flow, 0);
    CHECK(a != NULL);
    if (!a) return;
    for (int64_t b = 0; b < batches; b++) CHECK_OK(ff_trainer_run_batch(a, NULL));
    CHECK_OK(ff_trainer_save_checkpoint(a, path));
    ff_trainer_destroy(a);

    ff_trainer *r = trainer_for(flow, 0);
    CHECK(r != NULL);
    if (!r) return;
    /* settings come from the checkpoint */
    CHECK_OK(ff_trainer_set_f32(r, FF_TRAINER_LEARNING_RATE, 0.5f));
    CHECK_OK(ff_trainer_set_f32(r, FF_TRAINER_EMA_DECAY, ema_decay > 0 ? 0.0f : 0.9f));
    CHECK_OK(ff_trainer_restore_checkpoint(r, path));
    float lr = 0, decay = -1;
    CHECK_OK(ff_trainer_get_f32(r, FF_TRAINER_LEARNING_RATE, &lr));
    CHECK(lr == 2e-3f);
    CHECK_OK(ff_trainer_get_f32(r, FF_TRAINER_EMA_DECAY, &decay));
    CHECK(decay == ema_decay);
    CHECK(get(r, FF_TRAINER_STEPS) == batches);
    CHECK(get(r, FF_TRAINER_EPOCH) == batches / 3 && get(r, FF_TRAINER_BATCH_IN_EPOCH) == batches % 3);
    finish(r, 3);
    ff_flow *got = snap(r), *got_raw = snap_raw(r);
    CHECK(same_params(got, reference));
    CHECK(same_params(got_raw, reference_raw));
    printf("EMA decay %g: stopped after %lld batches, resumed: %s\n", (double)ema_decay, (long long)batches,
           same_params(got, reference) && same_params(got_raw, reference_raw) ? "bit-identical" : "DIFFERENT");
    ff_flow_destroy(got);
    ff_flow_destroy(got_raw);
    ff_trainer_destroy(r);
}

/* A child saves checkpoint B over checkpoint A in a loop and is killed
 * with SIGKILL at increasing delays: each time, the file restores to A or
 * to B, never to anything else. */
static void test_kill_during_save(const ff_flow *flow, const char *path) {
    ff_trainer *t = trainer_for(flow, 0);
    CHECK(t != NULL);
    if (!t) return;
    CHECK_OK(ff_trainer_run_batch(t, NULL));
    ff_flow *state_a = snap(t);
    CHECK_OK(ff_trainer_save_checkpoint(t, path));
    CHECK_OK(ff_trainer_run_epoch(t, NULL));
    ff_flow *state_b = snap(t);
    int saw_a = 0, saw_b = 0;
    ff_trainer *r = trainer_for(flow, 0); /* restored into again and again */
    CHECK(r != NULL);
    for (int round = 0; r && round < 12; round++) {
        fflush(NULL);
        pid_t pid = fork();
        if (pid == 0) {
            for (;;) ff_trainer_save_checkpoint(t, path);
        }
        CHECK(pid > 0);
        if (pid <= 0) break;
        /* 0.5 ms .. 1 s: early kills land inside the first save (its fsync alone takes longer),
         * later ones after some saves completed */
        long ns = 500000L << round;
        struct timespec d = {ns / 1000000000L, ns % 1000000000L};
        nanosleep(&d, NULL);
        kill(pid, SIGKILL);
        int status = 0;
        waitpid(pid, &status, 0);
        CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        CHECK_OK(ff_trainer_restore_checkpoint(r, path));
        ff_flow *got = snap(r);
        int is_a = same_params(got, state_a), is_b = same_params(got, state_b);
        CHECK(is_a || is_b);
        saw_a += is_a;
        saw_b += is_b;
        ff_flow_destroy(got);
    }
    ff_trainer_destroy(r);
    printf("SIGKILL during saves: the checkpoint restored %d times to the old state, %d times to the new one\n",
           saw_a, saw_b);
    ff_flow_destroy(state_a);
    ff_flow_destroy(state_b);
    ff_trainer_destroy(t);
}

static long file_size(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

/* Copies src to dst, keeping `keep` bytes (all when < 0) and xoring byte
 * `flip` (when >= 0) with 0x40. */
static void copy_damaged(const char *src, const char *dst, long keep, long flip) {
    long n = file_size(src);
    FILE *in = fopen(src, "rb"), *out = fopen(dst, "wb");
    CHECK(in && out && n > 0);
    if (in && out && n > 0) {
        unsigned char *buf = malloc((size_t)n);
        CHECK(buf && fread(buf, 1, (size_t)n, in) == (size_t)n);
        if (buf && flip >= 0 && flip < n) buf[flip] ^= 0x40;
        if (buf) fwrite(buf, 1, (size_t)(keep >= 0 ? keep : n), out);
        free(buf);
    }
    if (in) fclose(in);
    if (out) fclose(out);
}

static void test_refused(const ff_backbone *bb, const ff_flow *flow, const char *good) {
    char bad[1024];
    snprintf(bad, sizeof bad, "%s/damaged.ckpt", ff_test_tmpdir());
    ff_trainer *t = trainer_for(flow, 0);
    CHECK(t != NULL);
    if (!t) return;
    CHECK_OK(ff_trainer_run_batch(t, NULL));
    ff_flow *before = snap(t);
    long n = file_size(good);

    copy_damaged(good, bad, n / 2, -1); /* a torn write */
    CHECK_STATUS(ff_trainer_restore_checkpoint(t, bad), FF_E_BAD_FORMAT);
    CHECK_MSG("damaged.ckpt");
    copy_damaged(good, bad, -1, n - 100); /* a flipped bit in the tensors */
    CHECK_STATUS(ff_trainer_restore_checkpoint(t, bad), FF_E_BAD_FORMAT);
    CHECK_MSG("checksum mismatch");
    CHECK_STATUS(ff_trainer_restore_checkpoint(t, "/nonexistent/x.ckpt"), FF_E_IO);
    CHECK_STATUS(ff_trainer_restore_checkpoint(t, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_trainer_save_checkpoint(NULL, good), FF_E_INVALID_ARGUMENT);
    /* a model file is not a checkpoint */
    CHECK_OK(ff_flow_save(flow, bad, 0));
    CHECK_STATUS(ff_trainer_restore_checkpoint(t, bad), FF_E_BAD_FORMAT);
    CHECK_MSG("not a libfastflow trainer checkpoint");

    /* other images: refused, naming what to do */
    ff_trainer *other = trainer_for(flow, 1);
    CHECK(other != NULL);
    if (other) {
        CHECK_STATUS(ff_trainer_restore_checkpoint(other, good), FF_E_STATE);
        CHECK_MSG("trained on other images");
        CHECK(get(other, FF_TRAINER_STEPS) == 0);
    }
    ff_trainer_destroy(other);
    /* another flow (other seed): refused */
    ff_flow *f2 = ft_flow(bb, SIZE, 2, 1, 99);
    ff_trainer *t2 = f2 ? trainer_for(f2, 0) : NULL;
    CHECK(t2 != NULL);
    if (t2) {
        CHECK_STATUS(ff_trainer_restore_checkpoint(t2, good), FF_E_STATE);
        CHECK_MSG("belongs to another flow");
    }
    ff_trainer_destroy(t2);
    ff_flow_destroy(f2);

    /* every refusal left the trainer as it was */
    ff_flow *after = snap(t);
    CHECK(same_params(before, after));
    CHECK(get(t, FF_TRAINER_STEPS) == 1 && get(t, FF_TRAINER_BATCH_IN_EPOCH) == 1);
    ff_flow_destroy(after);
    ff_flow_destroy(before);
    ff_trainer_destroy(t);
}

/* The checkpoint's version and whether it holds the average. */
static void check_file(const char *path, const char *version, int with_ema) {
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open(path, &f));
    if (!f) return;
    const char *v = ff_st_meta(f, "checkpoint.version");
    CHECK(v && strcmp(v, version) == 0);
    CHECK((ff_st_find(f, "ema") != NULL) == with_ema);
    CHECK((ff_st_meta(f, "ema_decay_bits") != NULL) == (strcmp(version, "2") == 0));
    ff_st_close(f);
}

/* With the average on: resumes at an epoch boundary, in the middle of an
 * epoch and before the first epoch completed (no average in the file yet)
 * give the uninterrupted run's average and parameters; a flipped byte of
 * the average is caught by the checksum; a version 1 file (no average)
 * restores into a trainer that had one, turning it off. */
static void test_ema(const ff_flow *flow, const char *path) {
    ema_decay = 0.6f;
    ff_trainer *u = trainer_for(flow, 0);
    CHECK(u != NULL);
    if (u) {
        finish(u, 3);
        ff_flow *reference = snap(u), *reference_raw = snap_raw(u);
        CHECK(!same_params(reference, reference_raw));
        test_resume(flow, reference, reference_raw, 3, path);
        check_file(path, "2", 1);
        test_resume(flow, reference, reference_raw, 7, path);
        test_resume(flow, reference, reference_raw, 1, path);
        check_file(path, "2", 0);
        ff_flow_destroy(reference);
        ff_flow_destroy(reference_raw);
    }
    ff_trainer_destroy(u);

    /* the average is covered by the checksum (it is the last tensor) */
    ff_trainer *t = trainer_for(flow, 0);
    char bad[1024];
    snprintf(bad, sizeof bad, "%s/damaged-ema.ckpt", ff_test_tmpdir());
    if (t) {
        finish(t, 2);
        CHECK_OK(ff_trainer_save_checkpoint(t, path));
        check_file(path, "2", 1);
        copy_damaged(path, bad, -1, file_size(path) - 2); /* tensors are stored in the order written */
        ff_trainer *r = trainer_for(flow, 0);
        if (r) {
            CHECK_STATUS(ff_trainer_restore_checkpoint(r, bad), FF_E_BAD_FORMAT);
            CHECK_MSG("checksum mismatch");
        }
        ff_trainer_destroy(r);
    }
    ff_trainer_destroy(t);

    /* without the average: version 1, as before; it turns a trainer's average off */
    ema_decay = 0.0f;
    t = trainer_for(flow, 0);
    if (t) {
        finish(t, 1);
        CHECK_OK(ff_trainer_save_checkpoint(t, path));
        check_file(path, "1", 0);
        ff_flow *want = snap(t);
        ema_decay = 0.6f;
        ff_trainer *r = trainer_for(flow, 0);
        if (r) {
            CHECK_OK(ff_trainer_restore_checkpoint(r, path));
            float decay = -1;
            CHECK_OK(ff_trainer_get_f32(r, FF_TRAINER_EMA_DECAY, &decay));
            CHECK(decay == 0.0f);
            finish(r, 2);
            CHECK_OK(ff_trainer_run_epoch(t, NULL));
            ff_flow *a = snap(t), *b = snap(r);
            CHECK(same_params(a, b));
            ff_flow_destroy(a);
            ff_flow_destroy(b);
        }
        ff_trainer_destroy(r);
        ff_flow_destroy(want);
    }
    ff_trainer_destroy(t);
    ema_decay = 0.0f;
}

int main(void) {
    ff_global_set_i64(FF_GLOBAL_NUM_THREADS, 2);
    ff_backbone *bb = ft_backbone(43);
    ff_flow *flow = bb ? ft_flow(bb, SIZE, 2, 1, 1) : NULL;
    CHECK(flow != NULL);
    if (flow) {
        char path[1024];
        snprintf(path, sizeof path, "%s/trainer.ckpt", ff_test_tmpdir());
        ff_trainer *u = trainer_for(flow, 0);
        CHECK(u != NULL);
        if (u) {
            finish(u, 3); /* the uninterrupted run: 3 epochs of 3 batches */
            ff_flow *reference = snap(u);
            test_resume(flow, reference, reference, 3, path); /* at an epoch boundary */
            check_file(path, "1", 0);
            test_resume(flow, reference, reference, 7, path); /* in the middle of epoch 3 */
            test_resume(flow, reference, reference, 1, path); /* after the first batch */
            test_refused(bb, flow, path);
            test_kill_during_save(flow, path);
            test_ema(flow, path);
            ff_flow_destroy(reference);
        }
        ff_trainer_destroy(u);
    }
    ff_flow_destroy(flow);
    ff_backbone_destroy(bb);
    return ff_test_finish();
}
