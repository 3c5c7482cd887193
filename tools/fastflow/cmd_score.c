/* fastflow score: scores images (and the images in folders) with a trained
 * model. Prints one "path score" line per image (or a JSON array with
 * --json); with --maps
 * DIR, writes each anomaly map as DIR/<stem>.npy, float32 C-order [H, W],
 * each file written atomically; with --heatmaps DIR, a PNG overlay per
 * image (heatmap_png.h). --normalized uses the model's score statistics:
 * scores and maps in [0, 1] with 0.5 at the threshold, and a decision. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_paths.h"
#include "eval/dataset.h"
#include "cli_util.h"
#include "commands.h"
#include "fastflow.h"
#include "heatmap_png.h"
#include "progress.h"
#include "tensor/safetensors.h"

static const char *const CMD = "score";

/* Files per ff_scorer_score_files call: output appears group by group and
 * the maps of one group are held at a time. */
#define SCORE_GROUP 64

static void help(void) {
    char sigma[96], threads[96], batch[96], jobs[96];
    printf("usage: fastflow score --model MODEL.safetensors [options] IMAGE|DIR...\n\n"
           "Prints each image's anomaly score (the maximum of its anomaly map; higher is more\n"
           "anomalous), as 'path score' lines or, with --json, a JSON array. A folder stands\n"
           "for its PNG/JPEG files, sorted by name (an MVTec AD category: its test images).\n\n"
           "  --model FILE     model file written by 'fastflow train'\n"
           "  --maps DIR       also write each anomaly map as DIR/<image stem>.npy\n"
           "                   (float32, C order, shape [H, W])\n"
           "  --heatmaps DIR   also write each image with its map as a PNG overlay,\n"
           "                   DIR/<image stem>.png (Turbo colours, alpha 0.5; colour scale [0, 1]\n"
           "                   with --normalized, else the model's statistics' [min, max], else [-1, 0])\n"
           "  --map-size WHICH 'model' (default: the model's input size) or 'image' (each\n"
           "                   image's own size, bilinear) for --maps and --heatmaps\n"
           "  --sigma S        Gaussian smoothing of the maps before the score, %s (0 = off)\n"
           "  --normalized     scores and maps normalised to [0, 1] with 0.5 at the threshold,\n"
           "                   and a decision (anomalous/normal) per image; needs a model with\n"
           "                   score statistics ('fastflow train --val-fraction F' or '--val DIR')\n"
           "  --json           print [{\"path\": ..., \"score\": ...[, \"anomalous\": ...]}, ...]\n"
           "  --threads N      computation threads, %s (0: all cores)\n"
           "  --batch N        images the network runs at once, %s\n"
           "  --jobs N         threads that read and decode the next images while the network\n"
           "                   runs, %s (0: decode, then run, in turn). Not used\n"
           "                   with --heatmaps or --map-size image (one image at a time)\n" CLI_PRECISION_HELP,
           cli_param_help(FF_OBJECT_SCORER, FF_SCORER_SMOOTH_SIGMA, sigma, sizeof sigma),
           cli_param_help(FF_OBJECT_GLOBAL, FF_GLOBAL_NUM_THREADS, threads, sizeof threads),
           cli_param_help(FF_OBJECT_SCORER, FF_SCORER_BATCH, batch, sizeof batch),
           cli_param_help(FF_OBJECT_SCORER, FF_SCORER_DECODE_THREADS, jobs, sizeof jobs));
}

/* The file name without folders and without its last extension. */
static void stem_of(const char *path, char *out, size_t n) { cli_stem(path, out, n); }

/* NPY format version 1.0: magic, version, little-endian u16 header length,
 * a Python dict literal padded with spaces to a 64-byte boundary and ended
 * by a newline, then the raw little-endian float32 data. */
static int write_npy(const char *path, const float *map, int32_t w, int32_t h) {
    char dict[128];
    int dn = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%d, %d), }", (int)h,
                      (int)w);
    size_t header = 10 + (size_t)dn + 1; /* magic(6)+version(2)+len(2) + dict + '\n' */
    size_t padded = (header + 63) / 64 * 64;
    size_t hlen = padded - 10;
    size_t data = (size_t)h * (size_t)w * sizeof(float);
    uint8_t *buf = malloc(padded + data);
    if (!buf) {
        fprintf(stderr, "fastflow %s: out of memory writing %s\n", CMD, path);
        return 1;
    }
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (uint8_t)(hlen & 0xff);
    buf[9] = (uint8_t)(hlen >> 8);
    memcpy(buf + 10, dict, (size_t)dn);
    memset(buf + 10 + dn, ' ', padded - 10 - (size_t)dn - 1);
    buf[padded - 1] = '\n';
    /* float32 little-endian: the host order on every supported platform */
    memcpy(buf + padded, map, data);
    ff_status st = ff_write_file_atomic(path, buf, padded + data);
    free(buf);
    return st == FF_OK ? 0 : cli_fail(CMD, path, st);
}

static void print_json_string(const char *s) {
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') printf("\\%c", *p);
        else if (*p < 0x20) printf("\\u%04x", *p);
        else putchar(*p);
    }
    putchar('"');
}

typedef struct {
    const char *model, *maps_dir, *heat_dir, *map_size;
    bool json, normalized;
    float sigma;
    int64_t threads;
    int32_t batch, jobs; /* 0 and -1: unset (the library's defaults) */
    int32_t precision;
    char **images;
    int n_images;
    ff_dataset **folders; /* the folders among the arguments, expanded into images */
    int n_folders;
} score_args;

/* 0 to go on, -1 after --help, 2 on a usage error. */
static int parse(int argc, char **argv, score_args *a) {
    bool bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            help();
            return -1;
        }
        if (cli_flag(argv, i, "--json")) {
            a->json = true;
            continue;
        }
        if (cli_flag(argv, i, "--normalized")) {
            a->normalized = true;
            continue;
        }
        if (cli_opt_str(argc, argv, &i, "--model", &a->model, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--maps", &a->maps_dir, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--heatmaps", &a->heat_dir, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--map-size", &a->map_size, &bad)) continue;
        if (cli_opt_param_f32(argc, argv, &i, "--sigma", FF_OBJECT_SCORER, FF_SCORER_SMOOTH_SIGMA, &a->sigma, &bad))
            continue;
        if (cli_opt_param_i64(argc, argv, &i, "--threads", FF_OBJECT_GLOBAL, FF_GLOBAL_NUM_THREADS, &a->threads,
                              &bad))
            continue;
        if (cli_opt_param_i32(argc, argv, &i, "--batch", FF_OBJECT_SCORER, FF_SCORER_BATCH, &a->batch, &bad))
            continue;
        if (cli_opt_param_i32(argc, argv, &i, "--jobs", FF_OBJECT_SCORER, FF_SCORER_DECODE_THREADS, &a->jobs, &bad))
            continue;
        if (cli_opt_precision(argc, argv, &i, &a->precision, &bad)) continue;
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "fastflow %s: unknown option '%s'\n", CMD, argv[i]);
            bad = true;
            continue;
        }
        a->images[a->n_images++] = argv[i];
    }
    if (bad) return cli_usage_error(CMD, "invalid arguments");
    if (!a->model || a->n_images == 0) return cli_usage_error(CMD, "--model and at least one image are required");
    if (a->map_size && strcmp(a->map_size, "model") != 0 && strcmp(a->map_size, "image") != 0)
        return cli_usage_error(CMD, "--map-size must be 'model' or 'image'");
    return 0;
}

/* Replaces every folder among the images by its images (ff_dataset: sorted
 * PNG/JPEG files; an MVTec AD category's test images). 0, or 1 after a
 * message. */
static int expand_folders(score_args *a) {
    size_t total = 0;
    a->folders = calloc((size_t)a->n_images, sizeof *a->folders);
    if (!a->folders) return cli_fail(CMD, "listing images", FF_E_OUT_OF_MEMORY);
    for (int i = 0; i < a->n_images; i++) {
        struct stat st;
        if (stat(a->images[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            total++;
            continue;
        }
        ff_dataset *ds = NULL;
        ff_status s = ff_dataset_open(a->images[i], NULL, &ds);
        if (s != FF_OK) return cli_fail(CMD, a->images[i], s);
        a->folders[a->n_folders++] = ds;
        total += ds->layout == FF_DATASET_MVTEC ? ds->num_test : ds->num_train;
    }
    if (a->n_folders == 0) return 0;
    char **all = calloc(total + 1, sizeof *all);
    if (!all) return cli_fail(CMD, "listing images", FF_E_OUT_OF_MEMORY);
    size_t n = 0;
    int f = 0;
    for (int i = 0; i < a->n_images; i++) {
        struct stat st;
        if (stat(a->images[i], &st) != 0 || !S_ISDIR(st.st_mode)) {
            all[n++] = a->images[i];
            continue;
        }
        const ff_dataset *ds = a->folders[f++];
        size_t k = ds->layout == FF_DATASET_MVTEC ? ds->num_test : ds->num_train;
        char **paths = ds->layout == FF_DATASET_MVTEC ? ds->test_paths : ds->train_paths;
        for (size_t j = 0; j < k; j++) all[n++] = paths[j];
    }
    free(a->images);
    a->images = all;
    a->n_images = (int)n;
    return 0;
}

/* Maps or heatmaps of two images with the same stem would overwrite each
 * other: a usage error (2) before anything is scored. */
static int check_stems(const score_args *a) {
    if (!a->maps_dir && !a->heat_dir) return 0;
    for (int i = 0; i < a->n_images; i++)
        for (int j = 0; j < i; j++) {
            char x[1024], y[1024];
            stem_of(a->images[i], x, sizeof x);
            stem_of(a->images[j], y, sizeof y);
            if (strcmp(x, y) == 0) {
                fprintf(stderr, "fastflow %s: %s and %s would both write %s/%s.%s\n", CMD, a->images[j],
                        a->images[i], a->maps_dir ? a->maps_dir : a->heat_dir, x, a->maps_dir ? "npy" : "png");
                return 2;
            }
        }
    return 0;
}

static int configure(ff_scorer *sc, const score_args *a) {
    ff_status st = ff_scorer_set_f32(sc, FF_SCORER_SMOOTH_SIGMA, a->sigma);
    /* unset: the library's defaults */
    if (st == FF_OK && a->batch > 0) st = ff_scorer_set_i32(sc, FF_SCORER_BATCH, a->batch);
    if (st == FF_OK && a->jobs >= 0) st = ff_scorer_set_i32(sc, FF_SCORER_DECODE_THREADS, a->jobs);
    if (st == FF_OK && a->map_size && strcmp(a->map_size, "image") == 0)
        st = ff_scorer_set_i32(sc, FF_SCORER_MAP_SIZE, FF_SCORER_MAP_IMAGE_SIZE);
    if (st == FF_OK && a->normalized) st = ff_scorer_set_i32(sc, FF_SCORER_NORMALIZED, 1);
    if (st == FF_OK) st = ff_scorer_set_i32(sc, FF_SCORER_PRECISION, a->precision);
    return st == FF_OK ? 0 : cli_fail(CMD, a->model, st);
}

/* Grows a malloc'd buffer to at least `need` elements of `size` bytes. */
static bool grow(void **buf, size_t *cap, size_t need, size_t size) {
    if (need <= *cap) return true;
    void *p = realloc(*buf, need * size);
    if (!p) return false;
    *buf = p;
    *cap = need;
    return true;
}

/* Colour scale of the heatmaps: [0, 1] normalised; the statistics' range;
 * else the full range of raw maps. */
static void heat_scale(const ff_flow *flow, bool normalized, float *lo, float *hi) {
    *lo = -1.0f;
    *hi = 0.0f;
    if (normalized) {
        *lo = 0.0f;
        *hi = 1.0f;
    } else if (ff_flow_get_statistic(flow, FF_STAT_MIN, lo) != FF_OK ||
               ff_flow_get_statistic(flow, FF_STAT_MAX, hi) != FF_OK) {
        *lo = -1.0f;
        *hi = 0.0f;
    }
}

typedef struct {
    float *map;
    size_t map_cap;
    uint8_t *pixels, *rgb, *file;
    size_t pix_cap, rgb_cap, file_cap;
} buffers;

/* Scores one image; the map (when wanted) lands in b->map at *mw x *mh. The
 * file is read once: its size, its pixels for the overlay and its score
 * all come from those bytes. */
static int score_one(ff_scorer *sc, const score_args *a, const char *path, buffers *b, bool want_map, float *score,
                     int32_t *mw, int32_t *mh, int32_t *iw, int32_t *ih) {
    size_t size = 0;
    ff_status st = ff_read_file_into(path, &b->file, &b->file_cap, &size);
    if (st == FF_OK && want_map) st = ff_image_probe_memory(b->file, size, NULL, iw, ih);
    if (st == FF_OK && a->heat_dir) { /* the picture is needed for the overlay */
        size_t bytes = (size_t)*iw * (size_t)*ih * 3;
        if (!grow((void **)&b->pixels, &b->pix_cap, bytes, 1)) return cli_fail(CMD, path, FF_E_OUT_OF_MEMORY);
        st = ff_image_decode_memory(b->file, size, FF_PIXEL_RGB8, b->pixels, b->pix_cap, 0);
    }
    if (st != FF_OK) return cli_fail(CMD, path, st);
    size_t n = 0;
    if (want_map) {
        if ((st = ff_scorer_map_shape_for(sc, *iw, *ih, mw, mh)) != FF_OK) return cli_fail(CMD, path, st);
        n = (size_t)*mh * (size_t)*mw;
        if (!grow((void **)&b->map, &b->map_cap, n, sizeof(float))) return cli_fail(CMD, path, FF_E_OUT_OF_MEMORY);
    }
    if (a->heat_dir)
        st = ff_scorer_score_image(sc, b->pixels, *iw, *ih, 0, FF_PIXEL_RGB8, b->map, n, score);
    else
        st = ff_scorer_score_memory(sc, b->file, size, want_map ? b->map : NULL, n, score);
    return st == FF_OK ? 0 : cli_fail(CMD, path, st);
}

static int make_dir(const char *dir) {
    if (dir && mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "fastflow %s: cannot create %s: %s\n", CMD, dir, strerror(errno));
        return 1;
    }
    return 0;
}

/* One image's line or JSON entry (the i-th printed). */
static void print_result(const score_args *a, int i, const char *img, float score, int32_t anomalous) {
    if (a->json) {
        printf("%s\n  {\"path\": ", i ? "," : "");
        print_json_string(img);
        printf(", \"score\": %.9g", (double)score);
        if (a->normalized) printf(", \"anomalous\": %s", anomalous ? "true" : "false");
        printf("}");
    } else if (a->normalized) {
        printf("%s %.9g %s\n", img, (double)score, anomalous ? "anomalous" : "normal");
    } else {
        printf("%s %.9g\n", img, (double)score);
    }
}

static int write_map(const score_args *a, const char *img, const float *map, int32_t mw, int32_t mh) {
    if (!a->maps_dir) return 0;
    char stem[1024], path[4096];
    stem_of(img, stem, sizeof stem);
    snprintf(path, sizeof path, "%s/%s.npy", a->maps_dir, stem);
    return write_npy(path, map, mw, mh);
}

/* One image at a time: for heatmaps (the decoded picture is needed) and
 * image-size maps (each map has its image's shape). */
static int score_one_by_one(ff_scorer *sc, const score_args *a, float lo, float hi, cli_progress *progress) {
    buffers b = {0};
    bool want_map = a->maps_dir || a->heat_dir;
    int rc = 1;
    for (int i = 0; i < a->n_images; i++) {
        const char *img = a->images[i];
        float score = 0.0f;
        int32_t mh = 0, mw = 0, iw = 0, ih = 0, anomalous = 0;
        int failed = score_one(sc, a, img, &b, want_map, &score, &mw, &mh, &iw, &ih);
        progress_clear(progress); /* the result line (or the error) goes where the bar was */
        if (failed) goto done;
        ff_status st;
        if (a->normalized && (st = ff_scorer_last_decisions(sc, &anomalous, 1)) != FF_OK) {
            cli_fail(CMD, img, st);
            goto done;
        }
        /* the files first: an image's line is printed only once its .npy and
         * heatmap are written, so a failure (a full disk) never follows its line */
        if (write_map(a, img, b.map, mw, mh) != 0) goto done;
        if (a->heat_dir) {
            size_t need = (size_t)mh * (size_t)mw * 3;
            if (!grow((void **)&b.rgb, &b.rgb_cap, need, 1)) {
                cli_fail(CMD, img, FF_E_OUT_OF_MEMORY);
                goto done;
            }
            char stem[1024], path[4096];
            stem_of(img, stem, sizeof stem);
            snprintf(path, sizeof path, "%s/%s.png", a->heat_dir, stem);
            if (cli_write_heatmap(CMD, path, b.map, mw, mh, lo, hi, b.pixels, iw, ih, NULL, b.rgb) != 0) goto done;
        }
        print_result(a, i, img, score, anomalous);
        fflush(stdout);
        progress_update(progress, (uint64_t)i + 1, NULL);
    }
    rc = 0;
done:
    free(b.map);
    free(b.pixels);
    free(b.rgb);
    free(b.file);
    return rc;
}

/* Groups of files through ff_scorer_score_files (decoding overlapped with
 * the network). The first file that fails stops the command, as one by one:
 * the results before it are printed, and scoring it alone gives the
 * library's message for it. */
static int score_pipelined(ff_scorer *sc, const score_args *a, cli_progress *progress) {
    int32_t mh = 0, mw = 0;
    ff_status st = ff_scorer_map_shape(sc, &mw, &mh);
    if (st != FF_OK) return cli_fail(CMD, a->model, st);
    size_t map_size = (size_t)mh * (size_t)mw, group = SCORE_GROUP, bytes_cap = 0;
    float *maps = a->maps_dir ? malloc(group * map_size * sizeof(float)) : NULL;
    float *scores = malloc(group * sizeof(float));
    int32_t *statuses = malloc(group * sizeof(int32_t)), *decisions = malloc(group * sizeof(int32_t));
    char *joined = NULL;
    int rc = 1;
    if ((a->maps_dir && !maps) || !scores || !statuses || !decisions) {
        cli_fail(CMD, "scoring", FF_E_OUT_OF_MEMORY);
        goto done;
    }
    for (size_t first = 0; first < (size_t)a->n_images; first += group) {
        size_t n = (size_t)a->n_images - first < group ? (size_t)a->n_images - first : group, bytes = 0;
        for (size_t i = 0; i < n; i++) bytes += strlen(a->images[first + i]) + 1;
        if (!grow((void **)&joined, &bytes_cap, bytes, 1)) {
            cli_fail(CMD, "scoring", FF_E_OUT_OF_MEMORY);
            goto done;
        }
        for (size_t i = 0, at = 0; i < n; i++) {
            size_t len = strlen(a->images[first + i]) + 1;
            memcpy(joined + at, a->images[first + i], len);
            at += len;
        }
        st = ff_scorer_score_files(sc, joined, bytes, n, maps, maps ? n * map_size : 0, scores, statuses);
        progress_clear(progress); /* the result lines (or the error) go where the bar was */
        if (st != FF_OK) {
            cli_fail(CMD, "scoring", st);
            goto done;
        }
        if (a->normalized && (st = ff_scorer_last_decisions(sc, decisions, n)) != FF_OK) {
            cli_fail(CMD, a->images[first], st);
            goto done;
        }
        for (size_t i = 0; i < n; i++) {
            const char *img = a->images[first + i];
            if (statuses[i] != FF_OK) {
                float s = 0.0f;
                st = ff_scorer_score_file(sc, img, NULL, 0, &s);
                cli_fail(CMD, img, st != FF_OK ? st : statuses[i]);
                goto done;
            }
            /* the .npy first, so a failure never follows the image's line */
            if (maps && write_map(a, img, maps + i * map_size, mw, mh) != 0) goto done;
            print_result(a, (int)(first + i), img, scores[i], a->normalized ? decisions[i] : 0);
        }
        fflush(stdout);
        progress_update(progress, (uint64_t)(first + n), NULL);
    }
    rc = 0;
done:
    free(maps);
    free(scores);
    free(statuses);
    free(decisions);
    free(joined);
    return rc;
}

int ff_cmd_score(int argc, char **argv) {
    score_args a = {0};
    a.jobs = -1;
    a.images = calloc((size_t)argc + 1, sizeof *a.images);
    if (!a.images) return 1;
    int rc = parse(argc, argv, &a);
    if (rc == 0 && expand_folders(&a) != 0) rc = 1;
    if (rc == 0) rc = check_stems(&a);
    if (rc != 0) goto args_done;
    if (a.threads > 0) ff_global_set_i64(FF_GLOBAL_NUM_THREADS, a.threads);
    if (make_dir(a.maps_dir) != 0 || make_dir(a.heat_dir) != 0) {
        rc = 1;
        goto args_done;
    }

    ff_flow *flow = NULL;
    ff_scorer *sc = NULL;
    rc = 1;
    bool open_json = false;
    cli_progress progress = {0};
    float lo = 0, hi = 0;
    ff_status st = ff_flow_load(a.model, NULL, &flow);
    if (st != FF_OK) {
        rc = cli_fail(CMD, a.model, st);
        goto done;
    }
    if ((st = ff_scorer_create(flow, &sc)) != FF_OK) {
        rc = cli_fail(CMD, "creating the scorer", st);
        goto done;
    }
    if (configure(sc, &a) != 0) goto done;
    heat_scale(flow, a.normalized, &lo, &hi);
    if (a.json) {
        printf("[");
        open_json = true;
    }
    bool image_size = a.map_size && strcmp(a.map_size, "image") == 0;
    progress_begin(&progress, "scoring", (uint64_t)a.n_images);
    if (a.heat_dir || (image_size && a.maps_dir))
        rc = score_one_by_one(sc, &a, lo, hi, &progress);
    else
        rc = score_pipelined(sc, &a, &progress);
done:
    progress_end(&progress);
    if (open_json) printf(rc == 0 ? "\n]\n" : "]\n");
    ff_scorer_destroy(sc);
    ff_flow_destroy(flow);
args_done:
    for (int i = 0; i < a.n_folders; i++) ff_dataset_destroy(a.folders[i]);
    free(a.folders);
    free(a.images);
    return rc < 0 ? 0 : rc;
}
