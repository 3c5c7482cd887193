/* fastflow train: trains a FastFlow model on a folder of normal images (an
 * MVTec AD category's train/good, or a plain folder) and saves it as one
 * model file that embeds its backbone. On a terminal a progress bar
 * (epoch, batch, loss, time left) is redrawn in place; otherwise one plain
 * line per epoch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli_util.h"
#include "commands.h"
#include "eval/dataset.h"
#include "fastflow.h"

static const char *const CMD = "train";

static void help(void) {
    printf("usage: fastflow train --data DIR [--category NAME] --backbone ARCH --weights W.safetensors\n"
           "                      --epochs N --out MODEL.safetensors [options]\n\n"
           "Trains FastFlow on normal images and writes a model file that embeds the backbone.\n"
           "DIR is an MVTec AD category (its train/good is used; --category NAME means DIR/NAME)\n"
           "or a folder of normal PNG/JPEG images.\n\n"
           "  --data DIR          training data\n"
           "  --category NAME     MVTec AD category inside DIR\n"
           "  --backbone ARCH     resnet18, resnet34, resnet50 or wide_resnet50_2\n"
           "  --weights FILE      backbone state dict (safetensors)\n"
           "  --epochs N          training epochs\n"
           "  --batch N           batch size (default 32)\n"
           "  --lr X              Adam learning rate (default 1e-3)\n"
           "  --weight-decay X    L2 weight decay (default 1e-5)\n"
           "  --seed N            seeds the flow's initialisation and the shuffling (default 0)\n"
           "  --flow-steps N      coupling steps per level (default 8)\n"
           "  --hidden-ratio X    subnet hidden channels / input channels (default 1.0)\n"
           "  --conv3x3-only      3x3 convolutions in every step (default)\n"
           "  --alternate-kernels 3x3 in even steps, 1x1 in odd steps\n"
           "  --size N            model input side (default 256; divisible by 16)\n"
           "  --threads N         computation threads (default: all cores)\n"
           "  --out FILE          model file to write (atomically)\n");
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void format_duration(double s, char *buf, size_t n) {
    long t = (long)(s + 0.5);
    if (t >= 3600) snprintf(buf, n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60) snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, n, "%lds", t);
}

typedef struct {
    const char *data, *category, *arch, *weights, *out;
    int32_t epochs, batch, steps, size, conv3x3_only;
    int64_t seed, threads;
    float lr, wd, hidden_ratio;
} train_args;

static int parse(int argc, char **argv, train_args *a) {
    bool bad = false, alt = false, only3 = false;
    for (int i = 1; i < argc && !bad; i++) {
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            help();
            return -1;
        }
        if (cli_flag(argv, i, "--conv3x3-only")) {
            only3 = true;
            continue;
        }
        if (cli_flag(argv, i, "--alternate-kernels")) {
            alt = true;
            continue;
        }
        if (cli_opt_str(argc, argv, &i, "--data", &a->data, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--category", &a->category, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--backbone", &a->arch, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--weights", &a->weights, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--out", &a->out, &bad)) continue;
        if (cli_opt_i32(argc, argv, &i, "--epochs", 1, 1000000, &a->epochs, &bad)) continue;
        if (cli_opt_i32(argc, argv, &i, "--batch", 1, 4096, &a->batch, &bad)) continue;
        if (cli_opt_i32(argc, argv, &i, "--flow-steps", 1, 64, &a->steps, &bad)) continue;
        if (cli_opt_i32(argc, argv, &i, "--size", 32, 4096, &a->size, &bad)) continue;
        if (cli_opt_i64(argc, argv, &i, "--seed", INT64_MIN, INT64_MAX, &a->seed, &bad)) continue;
        if (cli_opt_i64(argc, argv, &i, "--threads", 0, 1024, &a->threads, &bad)) continue;
        if (cli_opt_f32(argc, argv, &i, "--lr", 1e-12f, 1.0f, &a->lr, &bad)) continue;
        if (cli_opt_f32(argc, argv, &i, "--weight-decay", 0.0f, 1.0f, &a->wd, &bad)) continue;
        if (cli_opt_f32(argc, argv, &i, "--hidden-ratio", 1e-6f, 16.0f, &a->hidden_ratio, &bad)) continue;
        fprintf(stderr, "fastflow %s: unknown option '%s'\n", CMD, argv[i]);
        bad = true;
    }
    if (bad) return cli_usage_error(CMD, "invalid arguments");
    if (!a->data || !a->arch || !a->weights || !a->out || a->epochs == 0)
        return cli_usage_error(CMD, "--data, --backbone, --weights, --epochs and --out are required");
    if (alt && only3) return cli_usage_error(CMD, "--conv3x3-only and --alternate-kernels exclude each other");
    if (a->size % 16) return cli_usage_error(CMD, "--size must be divisible by 16");
    a->conv3x3_only = alt ? 0 : 1;
    return 0;
}

static int build_flow(const train_args *a, ff_backbone *bb, ff_flow **flow) {
    ff_flow_options *o = NULL;
    ff_status st = ff_flow_options_create(&o);
    if (st == FF_OK) st = ff_flow_options_set_i32(o, FF_FLOW_INPUT_HEIGHT, a->size);
    if (st == FF_OK) st = ff_flow_options_set_i32(o, FF_FLOW_INPUT_WIDTH, a->size);
    if (st == FF_OK) st = ff_flow_options_set_i32(o, FF_FLOW_STEPS, a->steps);
    if (st == FF_OK) st = ff_flow_options_set_i32(o, FF_FLOW_CONV3X3_ONLY, a->conv3x3_only);
    if (st == FF_OK) st = ff_flow_options_set_f32(o, FF_FLOW_HIDDEN_RATIO, a->hidden_ratio);
    if (st == FF_OK) st = ff_flow_options_set_i64(o, FF_FLOW_SEED, a->seed);
    if (st == FF_OK) st = ff_flow_create(bb, o, flow);
    ff_flow_options_destroy(o);
    return st == FF_OK ? 0 : cli_fail(CMD, "creating the flow", st);
}

static int configure(const train_args *a, ff_trainer *t) {
    ff_status st = ff_trainer_set_i32(t, FF_TRAINER_BATCH_SIZE, a->batch);
    if (st == FF_OK) st = ff_trainer_set_f32(t, FF_TRAINER_LEARNING_RATE, a->lr);
    if (st == FF_OK) st = ff_trainer_set_f32(t, FF_TRAINER_WEIGHT_DECAY, a->wd);
    if (st == FF_OK) st = ff_trainer_set_i64(t, FF_TRAINER_SEED, a->seed);
    return st == FF_OK ? 0 : cli_fail(CMD, "configuring the trainer", st);
}

static int add_images(const ff_dataset *ds, ff_trainer *t, bool tty) {
    double t0 = now_seconds();
    for (size_t i = 0; i < ds->num_train; i++) {
        ff_status st = ff_trainer_add_image_file(t, ds->train_paths[i]);
        if (st != FF_OK) {
            if (tty) fputc('\n', stderr);
            return cli_fail(CMD, ds->train_paths[i], st);
        }
        if (tty) fprintf(stderr, "\rcaching features %zu/%zu", i + 1, ds->num_train);
    }
    int64_t bytes = 0;
    ff_trainer_get_i64(t, FF_TRAINER_FEATURE_BYTES, &bytes);
    if (tty) fputc('\n', stderr);
    printf("cached features of %zu images (%.1f MiB) in %.1f s\n", ds->num_train, (double)bytes / 1048576.0,
           now_seconds() - t0);
    fflush(stdout);
    return 0;
}

static void draw_bar(int32_t epoch, int32_t epochs, int64_t batch, int64_t batches, float loss, double left) {
    const int width = 24;
    int filled = (int)((double)width * (double)batch / (double)batches);
    char bar[32];
    for (int i = 0; i < width; i++) bar[i] = i < filled ? '#' : '.';
    bar[width] = '\0';
    char eta[32];
    format_duration(left, eta, sizeof eta);
    fprintf(stderr, "\repoch %d/%d [%s] batch %lld/%lld loss %.4g left %s   ", (int)epoch, (int)epochs, bar,
            (long long)batch, (long long)batches, (double)loss, eta);
    fflush(stderr);
}

static int train(const train_args *a, ff_trainer *t, bool tty) {
    int64_t batches = 0;
    ff_trainer_get_i64(t, FF_TRAINER_BATCHES_PER_EPOCH, &batches);
    double start = now_seconds(), epoch_total = 0.0;
    for (int32_t e = 1; e <= a->epochs; e++) {
        double t0 = now_seconds();
        double sum = 0.0;
        for (int64_t b = 1; b <= batches; b++) {
            float loss = 0.0f;
            ff_status st = ff_trainer_run_batch(t, &loss);
            if (st != FF_OK) {
                if (tty) fputc('\n', stderr);
                return cli_fail(CMD, "training", st);
            }
            sum += loss;
            if (tty) {
                double done = (double)(e - 1) * (double)batches + (double)b;
                double total = (double)a->epochs * (double)batches;
                double left = (now_seconds() - start) / done * (total - done);
                draw_bar(e, a->epochs, b, batches, loss, left);
            }
        }
        double secs = now_seconds() - t0;
        epoch_total += secs;
        if (tty) fputc('\n', stderr);
        printf("epoch %d/%d loss %.6g time %.2f s\n", (int)e, (int)a->epochs, sum / (double)batches, secs);
        fflush(stdout);
    }
    printf("trained %d epochs in %.1f s (%.2f s per epoch)\n", (int)a->epochs, epoch_total,
           epoch_total / (double)a->epochs);
    return 0;
}

int ff_cmd_train(int argc, char **argv) {
    train_args a = {0};
    a.batch = 32;
    a.steps = 8;
    a.size = 256;
    a.lr = 1e-3f;
    a.wd = 1e-5f;
    a.hidden_ratio = 1.0f;
    int rc = parse(argc, argv, &a);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (a.threads > 0) ff_global_set_i64(FF_GLOBAL_NUM_THREADS, a.threads);

    bool tty = isatty(fileno(stderr)) != 0;
    ff_dataset *ds = NULL;
    ff_backbone *bb = NULL;
    ff_flow *flow = NULL, *trained = NULL;
    ff_trainer *t = NULL;
    ff_status st = ff_dataset_open(a.data, a.category, &ds);
    if (st != FF_OK) return cli_fail(CMD, a.data, st);
    rc = 1;
    if (ds->num_train == 0) {
        fprintf(stderr, "fastflow %s: no training images in %s\n", CMD, ds->root);
        goto done;
    }
    printf("training on %zu images from %s\n", ds->num_train, ds->root);
    if ((st = ff_backbone_load(a.arch, a.weights, &bb)) != FF_OK) {
        rc = cli_fail(CMD, a.weights, st);
        goto done;
    }
    if ((rc = build_flow(&a, bb, &flow)) != 0) goto done;
    if ((st = ff_trainer_create(flow, &t)) != FF_OK) {
        rc = cli_fail(CMD, "creating the trainer", st);
        goto done;
    }
    if ((rc = configure(&a, t)) != 0 || (rc = add_images(ds, t, tty)) != 0 || (rc = train(&a, t, tty)) != 0)
        goto done;
    rc = 1;
    if ((st = ff_trainer_snapshot(t, &trained)) != FF_OK || (st = ff_flow_save(trained, a.out, 1)) != FF_OK) {
        rc = cli_fail(CMD, a.out, st);
        goto done;
    }
    printf("wrote %s\n", a.out);
    rc = 0;
done:
    ff_flow_destroy(trained);
    ff_trainer_destroy(t);
    ff_flow_destroy(flow);
    ff_backbone_destroy(bb);
    ff_dataset_destroy(ds);
    return rc;
}
