/* fastflow train: trains a FastFlow model on a folder of normal images (an
 * MVTec AD category's train/good, or a plain folder) and saves it as one
 * model file that embeds its backbone. On a terminal a progress bar
 * (epoch, batch, loss, time left) is redrawn in place; otherwise one plain
 * line per epoch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "eval/dataset.h"
#include "fastflow.h"
#include "train_loop.h"

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

int ff_cmd_train(int argc, char **argv) {
    train_args a;
    train_args_defaults(&a);
    int rc = parse(argc, argv, &a);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (a.threads > 0) ff_global_set_i64(FF_GLOBAL_NUM_THREADS, a.threads);

    ff_dataset *ds = NULL;
    ff_flow *trained = NULL;
    ff_status st = ff_dataset_open(a.data, a.category, &ds);
    if (st != FF_OK) return cli_fail(CMD, a.data, st);
    rc = 1;
    if (ds->num_train == 0) {
        fprintf(stderr, "fastflow %s: no training images in %s\n", CMD, ds->root);
        goto done;
    }
    printf("training on %zu images from %s\n", ds->num_train, ds->root);
    if ((rc = train_model(CMD, &a, ds, &trained)) != 0) goto done;
    rc = 1;
    if ((st = ff_flow_save(trained, a.out, 1)) != FF_OK) {
        rc = cli_fail(CMD, a.out, st);
        goto done;
    }
    printf("wrote %s\n", a.out);
    rc = 0;
done:
    ff_flow_destroy(trained);
    ff_dataset_destroy(ds);
    return rc;
}
