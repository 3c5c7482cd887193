/* fastflow score: scores images with a trained model. Prints one
 * "path score" line per image (or a JSON array with --json); with --maps
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
#include "cli_util.h"
#include "commands.h"
#include "fastflow.h"
#include "heatmap_png.h"
#include "progress.h"
#include "tensor/safetensors.h"

static const char *const CMD = "score";

static void help(void) {
    char sigma[96], threads[96];
    printf("usage: fastflow score --model MODEL.safetensors [options] IMAGE...\n\n"
           "Prints each image's anomaly score (the maximum of its anomaly map; higher is more\n"
           "anomalous), as 'path score' lines or, with --json, a JSON array.\n\n"
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
           "  --threads N      computation threads, %s (0: all cores)\n" CLI_PRECISION_HELP,
           cli_param_help(FF_OBJECT_SCORER, FF_SCORER_SMOOTH_SIGMA, sigma, sizeof sigma),
           cli_param_help(FF_OBJECT_GLOBAL, FF_GLOBAL_NUM_THREADS, threads, sizeof threads));
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
    int32_t precision;
    char **images;
    int n_images;
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
    /* maps or heatmaps of two images with the same stem would overwrite each other */
    if (a->maps_dir || a->heat_dir) {
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
    }
    return 0;
}

static int configure(ff_scorer *sc, const score_args *a) {
    ff_status st = ff_scorer_set_f32(sc, FF_SCORER_SMOOTH_SIGMA, a->sigma);
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
    uint8_t *pixels, *rgb;
    size_t pix_cap, rgb_cap;
} buffers;

/* Scores one image; the map (when wanted) lands in b->map at *mh x *mw. */
static int score_one(ff_scorer *sc, const score_args *a, const char *path, buffers *b, bool want_map, float *score,
                     int32_t *mw, int32_t *mh, int32_t *iw, int32_t *ih) {
    ff_status st = FF_OK;
    if (a->heat_dir) { /* decode once: the picture is needed for the overlay */
        if ((st = ff_image_probe_file(path, NULL, iw, ih)) != FF_OK) return cli_fail(CMD, path, st);
        size_t bytes = (size_t)*iw * (size_t)*ih * 3;
        if (!grow((void **)&b->pixels, &b->pix_cap, bytes, 1)) return cli_fail(CMD, path, FF_E_OUT_OF_MEMORY);
        if ((st = ff_image_decode_file(path, FF_PIXEL_RGB8, b->pixels, b->pix_cap, 0)) != FF_OK)
            return cli_fail(CMD, path, st);
    } else if (want_map && (st = ff_image_probe_file(path, NULL, iw, ih)) != FF_OK) {
        return cli_fail(CMD, path, st);
    }
    size_t n = 0;
    if (want_map) {
        if ((st = ff_scorer_map_shape_for(sc, *iw, *ih, mw, mh)) != FF_OK) return cli_fail(CMD, path, st);
        n = (size_t)*mh * (size_t)*mw;
        if (!grow((void **)&b->map, &b->map_cap, n, sizeof(float))) return cli_fail(CMD, path, FF_E_OUT_OF_MEMORY);
    }
    if (a->heat_dir)
        st = ff_scorer_score_image(sc, b->pixels, *iw, *ih, 0, FF_PIXEL_RGB8, b->map, n, score);
    else
        st = ff_scorer_score_file(sc, path, want_map ? b->map : NULL, n, score);
    return st == FF_OK ? 0 : cli_fail(CMD, path, st);
}

static int make_dir(const char *dir) {
    if (dir && mkdir(dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "fastflow %s: cannot create %s: %s\n", CMD, dir, strerror(errno));
        return 1;
    }
    return 0;
}

int ff_cmd_score(int argc, char **argv) {
    score_args a = {0};
    a.images = calloc((size_t)argc + 1, sizeof *a.images);
    if (!a.images) return 1;
    int rc = parse(argc, argv, &a);
    if (rc != 0) {
        free(a.images);
        return rc < 0 ? 0 : rc;
    }
    if (a.threads > 0) ff_global_set_i64(FF_GLOBAL_NUM_THREADS, a.threads);
    if (make_dir(a.maps_dir) != 0 || make_dir(a.heat_dir) != 0) {
        free(a.images);
        return 1;
    }

    ff_flow *flow = NULL;
    ff_scorer *sc = NULL;
    buffers b = {0};
    rc = 1;
    bool want_map = a.maps_dir || a.heat_dir, open_json = false;
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
    progress_begin(&progress, "scoring", (uint64_t)a.n_images);
    for (int i = 0; i < a.n_images; i++) {
        const char *img = a.images[i];
        float score = 0.0f;
        int32_t mh = 0, mw = 0, iw = 0, ih = 0, anomalous = 0;
        int failed = score_one(sc, &a, img, &b, want_map, &score, &mw, &mh, &iw, &ih);
        progress_clear(&progress); /* the result line (or the error) goes where the bar was */
        if (failed) goto done;
        if (a.normalized && (st = ff_scorer_last_decisions(sc, &anomalous, 1)) != FF_OK) {
            rc = cli_fail(CMD, img, st);
            goto done;
        }
        if (a.json) {
            printf("%s\n  {\"path\": ", i ? "," : "");
            print_json_string(img);
            printf(", \"score\": %.9g", (double)score);
            if (a.normalized) printf(", \"anomalous\": %s", anomalous ? "true" : "false");
            printf("}");
        } else if (a.normalized) {
            printf("%s %.9g %s\n", img, (double)score, anomalous ? "anomalous" : "normal");
        } else {
            printf("%s %.9g\n", img, (double)score);
        }
        char stem[1024], path[4096];
        stem_of(img, stem, sizeof stem);
        if (a.maps_dir) {
            snprintf(path, sizeof path, "%s/%s.npy", a.maps_dir, stem);
            if (write_npy(path, b.map, mw, mh) != 0) goto done;
        }
        if (a.heat_dir) {
            size_t need = (size_t)mh * (size_t)mw * 3;
            if (!grow((void **)&b.rgb, &b.rgb_cap, need, 1)) {
                rc = cli_fail(CMD, img, FF_E_OUT_OF_MEMORY);
                goto done;
            }
            snprintf(path, sizeof path, "%s/%s.png", a.heat_dir, stem);
            if (cli_write_heatmap(CMD, path, b.map, mw, mh, lo, hi, b.pixels, iw, ih, NULL, b.rgb) != 0) goto done;
        }
        fflush(stdout);
        progress_update(&progress, (uint64_t)i + 1, NULL);
    }
    rc = 0;
done:
    progress_end(&progress);
    if (open_json) printf(rc == 0 ? "\n]\n" : "]\n");
    free(b.map);
    free(b.pixels);
    free(b.rgb);
    free(a.images);
    ff_scorer_destroy(sc);
    ff_flow_destroy(flow);
    return rc;
}
