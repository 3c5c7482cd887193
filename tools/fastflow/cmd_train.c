/* fastflow train: trains a FastFlow model on a folder of normal images (an
 * MVTec AD category's train/good, or a plain folder) and saves it as one
 * model file that embeds its backbone. On a terminal a progress bar
 * (epoch, batch, loss, time left) is redrawn in place; otherwise one plain
 * line per epoch. With --val-fraction or --val, score statistics
 * (thresholds, normalisation range) are computed after training on
 * validation images and stored in the model (calibrate.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "core/float_text.h"
#include "commands.h"
#include "eval/dataset.h"
#include "fastflow.h"
#include "calibrate.h"
#include "core/file_io.h"
#include "select_run.h"
#include "train_loop.h"

static const char *const CMD = "train";

/* option tables (ff_param_info) behind the options' bounds and defaults */
enum { GLOBAL = FF_OBJECT_GLOBAL, FLOW = FF_OBJECT_FLOW_OPTIONS, TRAINER = FF_OBJECT_TRAINER };

static void help(void) {
    char archs[512], b[6][96];
    printf("usage: fastflow train --data DIR [--category NAME] --backbone ARCH --weights W.safetensors\n"
           "                      --epochs N --out MODEL.safetensors [options]\n\n"
           "Trains FastFlow on normal images and writes a model file that embeds the backbone.\n"
           "DIR is an MVTec AD category (its train/good is used; --category NAME means DIR/NAME)\n"
           "or a folder of normal PNG/JPEG images.\n\n"
           "  --data DIR          training data\n"
           "  --category NAME     MVTec AD category inside DIR\n"
           "  --backbone ARCH     %s\n"
           "  --weights FILE      backbone state dict (safetensors)\n"
           "  --epochs N|auto     training epochs, or auto: choose the stopping epoch (below)\n"
           "  --batch N           batch size, %s\n"
           "  --lr X              Adam learning rate, %s\n"
           "  --weight-decay X    L2 weight decay, %s\n"
           "  --ema D             keep an exponential moving average of the parameters over\n"
           "                      epochs, %s (0: off); the model written is the\n"
           "                      average (with --epochs auto, also the one scored and kept)\n"
           "  --seed N            seeds the flow's initialisation and the shuffling (default 0)\n"
           "  --threads N         computation threads, %s (0: all cores)\n"
           "  --precision P       the flow's convolutions during training: fp32 (default) or bf16\n"
           "                      (needs AVX512-BF16; parameters, optimiser state and loss stay\n"
           "                      fp32; winograd trains as fp32)\n"
           "  --cache-memory SIZE memory for cached features (e.g. 4G; default: no limit); the\n"
           "                      features beyond it go to a temporary file in $TMPDIR (else /tmp)\n"
           "                      and are read back each epoch; the model is the same either way\n"
           "  --out FILE          model file to write (atomically)\n\n",
           cli_arch_list(22, 22, archs, sizeof archs),
           cli_param_help(TRAINER, FF_TRAINER_BATCH_SIZE, b[0], sizeof b[0]),
           cli_param_help(TRAINER, FF_TRAINER_LEARNING_RATE, b[1], sizeof b[1]),
           cli_param_help(TRAINER, FF_TRAINER_WEIGHT_DECAY, b[2], sizeof b[2]),
           cli_param_help(TRAINER, FF_TRAINER_EMA_DECAY, b[5], sizeof b[5]),
           cli_param_help(GLOBAL, FF_GLOBAL_NUM_THREADS, b[3], sizeof b[3]));
    printf("Resuming (not with --epochs auto):\n"
           "  --checkpoint-every N  write a trainer checkpoint after every N-th epoch\n"
           "  --checkpoint FILE   where (default: the --out path + \".ckpt\"; written atomically)\n"
           "  --resume FILE       continue the run that wrote this checkpoint (same data and\n"
           "                      options); the model equals an uninterrupted run's bit for bit\n\n"
           "Choosing the epoch (--epochs auto; the fixed count stays the default):\n"
           "  --max-epochs N      at most N epochs (default 20)\n"
           "  --patience P        stop after P epochs without improvement (default 3)\n"
           "  --select NAME       the criterion, computed after every epoch (default mean-auroc):\n"
           "                      image-auroc, pixel-auroc, mean-auroc (their mean), normal-mean,\n"
           "                      normal-spread. The selection set: with --val DIR (an MVTec AD\n"
           "                      category with defects), DIR's test images; otherwise 10%% of\n"
           "                      the training images (2 to 16, drawn by --seed) are held out and\n"
           "                      each gets two synthetic anomalies (CutPaste, noise patch,\n"
           "                      scratch, spot). The best epoch's parameters are saved, with\n"
           "                      the criterion's curve in the model's \"training\" metadata.\n\n");
    printf("Flow settings (default: the backbone's; ResNets 8 steps, hidden ratio 1.0, size 256,\n"
           "3x3-only for resnet18, alternating for the other ResNets; transformers 20 steps,\n"
           "hidden ratio 0.16, alternating, their native side):\n"
           "  --flow-steps N      coupling steps per level, %s\n"
           "  --hidden-ratio X    subnet hidden channels / input channels, %s\n"
           "  --conv3x3-only      3x3 convolutions in every step\n"
           "  --alternate-kernels 3x3 in even steps, 1x1 in odd steps\n"
           "  --size N            model input side, %s\n"
           "                      (transformers take only theirs)\n\n",
           cli_param_bounds(FLOW, FF_FLOW_STEPS, b[0], sizeof b[0]),
           cli_param_bounds(FLOW, FF_FLOW_HIDDEN_RATIO, b[1], sizeof b[1]),
           cli_param_bounds(FLOW, FF_FLOW_INPUT_WIDTH, b[4], sizeof b[4]));
    printf(
           "Score statistics (for 'fastflow score --normalized' and its decisions; default: none):\n"
           "  --val-fraction F    hold out this fraction of the training images (0 < F < 1, spread\n"
           "                      evenly over the sorted list) and compute the statistics on them:\n"
           "                      both thresholds = the largest held-out image score\n"
           "  --val DIR           compute them on DIR instead (all images are used for training):\n"
           "                      an MVTec AD category with a test split gives F1-optimal thresholds\n"
           "                      (masks for the pixel threshold); a plain folder of normal images\n"
           "                      gives the largest score, as --val-fraction\n");
}

typedef struct {
    const char *val;
    float val_fraction;
    bool auto_epochs, select_given;
    int32_t max_epochs, patience, criterion;
} stats_args;

static int parse(int argc, char **argv, train_args *a, stats_args *v) {
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
        const char *s = NULL;
        if ((cli_flag(argv, i, "--epochs") && i + 1 < argc && strcmp(argv[i + 1], "auto") == 0) ||
            strcmp(argv[i], "--epochs=auto") == 0) {
            v->auto_epochs = true;
            i += argv[i][8] == '=' ? 0 : 1;
            continue;
        }
        if (cli_opt_i32(argc, argv, &i, "--epochs", 1, 1000000, &a->epochs, &bad)) continue;
        if (cli_opt_i32(argc, argv, &i, "--max-epochs", 1, 1000000, &v->max_epochs, &bad)) continue;
        if (cli_opt_i32(argc, argv, &i, "--patience", 1, 1000000, &v->patience, &bad)) continue;
        if (cli_opt_i32(argc, argv, &i, "--checkpoint-every", 1, 1000000, &a->checkpoint_every, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--checkpoint", &a->checkpoint, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--resume", &a->resume, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--select", &s, &bad)) {
            if (ff_select_criterion_from_name(s, &v->criterion) != FF_OK) v->criterion = -1;
            v->select_given = true;
            if (v->criterion < 0) {
                fprintf(stderr, "fastflow %s: unknown --select '%s'\n", CMD, s);
                bad = true;
            }
            continue;
        }
        if (cli_opt_param_i32(argc, argv, &i, "--batch", TRAINER, FF_TRAINER_BATCH_SIZE, &a->batch, &bad)) continue;
        if (cli_opt_param_i32(argc, argv, &i, "--flow-steps", FLOW, FF_FLOW_STEPS, &a->steps, &bad)) continue;
        if (cli_opt_param_i32(argc, argv, &i, "--size", FLOW, FF_FLOW_INPUT_WIDTH, &a->size, &bad)) continue;
        if (cli_opt_param_i64(argc, argv, &i, "--seed", FLOW, FF_FLOW_SEED, &a->seed, &bad)) continue;
        if (cli_opt_param_i64(argc, argv, &i, "--threads", GLOBAL, FF_GLOBAL_NUM_THREADS, &a->threads, &bad)) continue;
        if (cli_opt_param_f32(argc, argv, &i, "--lr", TRAINER, FF_TRAINER_LEARNING_RATE, &a->lr, &bad)) continue;
        if (cli_opt_param_f32(argc, argv, &i, "--weight-decay", TRAINER, FF_TRAINER_WEIGHT_DECAY, &a->wd, &bad))
            continue;
        if (cli_opt_param_f32(argc, argv, &i, "--ema", TRAINER, FF_TRAINER_EMA_DECAY, &a->ema, &bad)) continue;
        if (cli_opt_param_f32(argc, argv, &i, "--hidden-ratio", FLOW, FF_FLOW_HIDDEN_RATIO, &a->hidden_ratio, &bad))
            continue;
        if (cli_opt_size(argc, argv, &i, "--cache-memory", &a->cache_memory, &bad)) continue;
        if (cli_opt_precision(argc, argv, &i, &a->precision, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--val", &v->val, &bad)) continue;
        if (cli_opt_f32(argc, argv, &i, "--val-fraction", 1e-6f, 0.999f, &v->val_fraction, &bad)) continue;
        fprintf(stderr, "fastflow %s: unknown option '%s'\n", CMD, argv[i]);
        bad = true;
    }
    if (bad) return cli_usage_error(CMD, "invalid arguments");
    if (!a->data || !a->arch || !a->weights || !a->out || (a->epochs == 0 && !v->auto_epochs))
        return cli_usage_error(CMD, "--data, --backbone, --weights, --epochs and --out are required");
    if (!v->auto_epochs && (v->max_epochs || v->patience || v->select_given))
        return cli_usage_error(CMD, "--max-epochs, --patience and --select go with --epochs auto");
    if (v->auto_epochs && (a->checkpoint_every || a->resume))
        return cli_usage_error(CMD, "--checkpoint-every and --resume do not work with --epochs auto yet");
    if (v->auto_epochs && v->val_fraction > 0.0f)
        return cli_usage_error(CMD, "--val-fraction and --epochs auto exclude each other (both hold out images)");
    if (a->checkpoint && !a->checkpoint_every)
        return cli_usage_error(CMD, "--checkpoint needs --checkpoint-every");
    if (v->max_epochs == 0) v->max_epochs = 20;
    if (v->patience == 0) v->patience = 3;
    if (v->val && v->val_fraction > 0.0f) return cli_usage_error(CMD, "--val and --val-fraction exclude each other");
    if (alt && only3) return cli_usage_error(CMD, "--conv3x3-only and --alternate-kernels exclude each other");
    if (alt || only3) a->conv3x3_only = alt ? 0 : 1; /* else unset: the backbone's default */
    return 0;
}

/* Statistics on a --val folder: labelled when it is an MVTec AD category
 * with a test split, else its (normal) images. */
static int stats_from_folder(const char *dir, const ff_flow *trained, ff_flow **out) {
    ff_dataset *vs = NULL;
    ff_status st = ff_dataset_open(dir, NULL, &vs);
    if (st != FF_OK) return cli_fail(CMD, dir, st);
    calib_set set = {0};
    if (vs->layout == FF_DATASET_MVTEC && vs->num_test > 0) {
        set = (calib_set){vs->num_test, vs->test_paths, vs->test_labels, vs->has_masks ? vs->test_mask_paths : NULL,
                          "val-f1"};
        printf("score statistics on %zu test images of %s (%zu good, %zu defect)\n", vs->num_test, vs->root,
               vs->num_good, vs->num_defect);
    } else {
        set = (calib_set){vs->num_train, vs->train_paths, NULL, NULL, "val-normal-max"};
        printf("score statistics on %zu normal images of %s\n", vs->num_train, vs->root);
    }
    int rc = set.n ? calib_run(CMD, trained, &set, out) : 1;
    if (!set.n) fprintf(stderr, "fastflow %s: no validation images in %s\n", CMD, vs->root);
    ff_dataset_destroy(vs);
    return rc;
}

/* --epochs auto: the selection images. With --val DIR, DIR's labelled test
 * images (an MVTec AD category with defects) or its normal images (a plain
 * folder; synthetic anomalies are added); otherwise held-out training
 * images (held/kept receive the split) with synthetic anomalies. */
static int select_source(const train_args *a, const stats_args *v, const ff_dataset *ds, ff_dataset **vs,
                         char ***kept, size_t *n_kept, char ***held, size_t *n_held, sel_run *sel) {
    sel_source src = {0};
    src.seed = a->seed;
    if (v->val) {
        ff_status st = ff_dataset_open(v->val, NULL, vs);
        if (st != FF_OK) return cli_fail(CMD, v->val, st);
        const ff_dataset *d = *vs;
        if (d->layout == FF_DATASET_MVTEC && d->num_defect > 0 && d->num_good > 0) {
            if (!d->has_masks && (v->criterion == FF_SELECT_PIXEL_AUROC || v->criterion == FF_SELECT_MEAN_AUROC)) {
                fprintf(stderr, "fastflow %s: %s has no ground_truth masks: --select %s needs them (image-auroc "
                        "does not)\n", CMD, d->root, ff_select_criterion_name(v->criterion));
                return 1;
            }
            src = (sel_source){d->test_paths, d->num_test, d->test_labels, d->has_masks ? d->test_mask_paths : NULL,
                               a->seed};
        } else if (d->num_train > 0) {
            src = (sel_source){d->train_paths, d->num_train, NULL, NULL, a->seed};
        } else {
            fprintf(stderr, "fastflow %s: %s has neither good and defect test images nor normal images to choose "
                    "the epoch with\n", CMD, d->root);
            return 1;
        }
    } else {
        size_t n = ds->num_train;
        *kept = malloc((n ? n : 1) * sizeof **kept);
        *held = malloc((n ? n : 1) * sizeof **held);
        if (!*kept || !*held) {
            fprintf(stderr, "fastflow %s: out of memory\n", CMD);
            return 1;
        }
        /* the library's rule (ff_select_held_out): programs reproduce it */
        uint64_t idx[16], count = 0;
        size_t k = ff_select_held_out(n, a->seed, idx, 16, &count) == FF_OK ? (size_t)count : 0, h = 0, t = 0;
        for (size_t i = 0; i < n; i++) {
            if (h < k && idx[h] == i) (*held)[h++] = ds->train_paths[i];
            else (*kept)[t++] = ds->train_paths[i];
        }
        if (k == 0) {
            fprintf(stderr, "fastflow %s: --epochs auto needs at least 3 training images (or --val DIR), %zu in %s\n",
                    CMD, n, ds->root);
            return 1;
        }
        *n_held = k;
        *n_kept = t;
        src = (sel_source){*held, k, NULL, NULL, a->seed};
        printf("holding out %zu of %zu training images (drawn by seed %lld) to choose the epoch\n", k, n,
               (long long)a->seed);
    }
    if (sel_run_init(sel, CMD, v->criterion, v->max_epochs, v->patience, &src) != 0) return 1;
    char d[32] = "";
    if (a->ema > 0.0f) ff_float_text(a->ema, d, sizeof d);
    printf("choosing the epoch by %s on %s: at most %d epochs, patience %d%s%s%s\n", ff_select_criterion_name(v->criterion),
           sel->set_desc, (int)v->max_epochs, (int)v->patience, d[0] ? "; scoring the moving average (decay " : "", d,
           d[0] ? ")" : "");
    return 0;
}

int ff_cmd_train(int argc, char **argv) {
    train_args a;
    stats_args v = {0};
    v.criterion = FF_SELECT_MEAN_AUROC;
    train_args_defaults(&a);
    int rc = parse(argc, argv, &a, &v);
    if (rc != 0) return rc < 0 ? 0 : rc;
    char ckpt[4096];
    if (a.checkpoint_every && !a.checkpoint) {
        if (snprintf(ckpt, sizeof ckpt, "%s.ckpt", a.out) >= (int)sizeof ckpt)
            return cli_usage_error(CMD, "--out is too long for the default checkpoint path");
        a.checkpoint = ckpt;
    }
    if (a.threads > 0) ff_global_set_i64(FF_GLOBAL_NUM_THREADS, a.threads);
    /* before hours of training, not after: a missing folder, a read-only
     * or full file system, a directory named as --out */
    ff_status st = ff_check_can_write(a.out);
    if (st != FF_OK) return cli_fail(CMD, a.out, st);
    if (a.checkpoint && (st = ff_check_can_write(a.checkpoint)) != FF_OK) return cli_fail(CMD, a.checkpoint, st);

    ff_dataset *ds = NULL, *vs = NULL;
    ff_flow *trained = NULL, *with_stats = NULL;
    char **kept = NULL, **held = NULL;
    size_t n_kept = 0, n_held = 0;
    sel_run sel = {0};
    st = ff_dataset_open(a.data, a.category, &ds);
    if (st != FF_OK) return cli_fail(CMD, a.data, st);
    rc = 1;
    if (ds->num_train == 0) {
        /* the documented layout: fastflow <command>: <what>: <status string>: <detail> */
        fprintf(stderr, "fastflow %s: %s: %s: no training images (an MVTec AD category needs .png/.jpg/.jpeg "
                        "files in train/good)\n",
                CMD, ds->root, ff_status_string(FF_E_BAD_FORMAT));
        goto done;
    }
    /* held-out images leave the training set: train on a shallow copy of
     * the data set whose training list is the kept images */
    ff_dataset train_set = *ds;
    if (v.val_fraction > 0.0f) {
        if (calib_split(CMD, ds, v.val_fraction, &kept, &n_kept, &held, &n_held) != 0) goto done;
        train_set.train_paths = kept;
        train_set.num_train = n_kept;
        printf("holding out %zu of %zu training images for score statistics\n", n_held, ds->num_train);
    }
    if (v.auto_epochs) {
        if (select_source(&a, &v, ds, &vs, &kept, &n_kept, &held, &n_held, &sel) != 0) goto done;
        if (n_held) {
            train_set.train_paths = kept;
            train_set.num_train = n_kept;
        }
        a.select = &sel;
    }
    printf("training on %zu images from %s\n", train_set.num_train, ds->root);
    if ((rc = train_model(CMD, &a, &train_set, &trained)) != 0) goto done;
    rc = 1;
    if (v.val_fraction > 0.0f) {
        calib_set set = {n_held, held, NULL, NULL, "heldout-normal-max"};
        if (calib_run(CMD, trained, &set, &with_stats) != 0) goto done;
    } else if (v.val) {
        if (stats_from_folder(v.val, trained, &with_stats) != 0) goto done;
    }
    if ((st = ff_flow_save(with_stats ? with_stats : trained, a.out, 1)) != FF_OK) {
        rc = cli_fail(CMD, a.out, st);
        goto done;
    }
    printf("wrote %s\n", a.out);
    rc = 0;
done:
    sel_run_free(&sel);
    ff_dataset_destroy(vs);
    free(kept);
    free(held);
    ff_flow_destroy(with_stats);
    ff_flow_destroy(trained);
    ff_dataset_destroy(ds);
    return rc;
}
