/* fastflow score: scores images with a trained model. Prints one
 * "path score" line per image (or a JSON array with --json); with --maps
 * DIR, writes each anomaly map (the model's input size) as DIR/<stem>.npy,
 * float32 C-order [H, W], each file written atomically. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "cli_util.h"
#include "commands.h"
#include "fastflow.h"
#include "tensor/safetensors.h"

static const char *const CMD = "score";

static void help(void) {
    printf("usage: fastflow score --model MODEL.safetensors [--maps DIR] [--json] IMAGE...\n\n"
           "Prints each image's anomaly score (the maximum of its anomaly map; higher is more\n"
           "anomalous), as 'path score' lines or, with --json, a JSON array.\n\n"
           "  --model FILE   model file written by 'fastflow train'\n"
           "  --maps DIR     also write each anomaly map as DIR/<image stem>.npy\n"
           "                 (float32, C order, shape [H, W] at the model's input size)\n"
           "  --json         print [{\"path\": ..., \"score\": ...}, ...]\n"
           "  --threads N    computation threads (default: all cores)\n");
}

/* The file name without folders and without its last extension. */
static void stem_of(const char *path, char *out, size_t n) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    snprintf(out, n, "%s", base);
    char *dot = strrchr(out, '.');
    if (dot && dot != out) *dot = '\0';
}

/* NPY format version 1.0: magic, version, little-endian u16 header length,
 * a Python dict literal padded with spaces to a 64-byte boundary and ended
 * by a newline, then the raw little-endian float32 data. */
static int write_npy(const char *path, const float *map, int32_t h, int32_t w) {
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

int ff_cmd_score(int argc, char **argv) {
    const char *model = NULL, *maps_dir = NULL;
    bool json = false, bad = false;
    int64_t threads = 0;
    char **images = calloc((size_t)argc + 1, sizeof *images);
    int n_images = 0;
    if (!images) return 1;
    for (int i = 1; i < argc && !bad; i++) {
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            help();
            free(images);
            return 0;
        }
        if (cli_flag(argv, i, "--json")) {
            json = true;
            continue;
        }
        if (cli_opt_str(argc, argv, &i, "--model", &model, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--maps", &maps_dir, &bad)) continue;
        if (cli_opt_i64(argc, argv, &i, "--threads", 0, 1024, &threads, &bad)) continue;
        if (argv[i][0] == '-' && argv[i][1] != '\0') {
            fprintf(stderr, "fastflow %s: unknown option '%s'\n", CMD, argv[i]);
            bad = true;
            continue;
        }
        images[n_images++] = argv[i];
    }
    if (bad || !model || n_images == 0) {
        free(images);
        return cli_usage_error(CMD, bad ? "invalid arguments" : "--model and at least one image are required");
    }
    if (threads > 0) ff_global_set_i64(FF_GLOBAL_NUM_THREADS, threads);
    /* maps of two images with the same stem would overwrite each other */
    if (maps_dir) {
        for (int i = 0; i < n_images; i++)
            for (int j = 0; j < i; j++) {
                char a[1024], b[1024];
                stem_of(images[i], a, sizeof a);
                stem_of(images[j], b, sizeof b);
                if (strcmp(a, b) == 0) {
                    fprintf(stderr, "fastflow %s: %s and %s would both write %s/%s.npy\n", CMD, images[j],
                            images[i], maps_dir, a);
                    free(images);
                    return 2;
                }
            }
    }

    if (maps_dir && mkdir(maps_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "fastflow %s: cannot create %s: %s\n", CMD, maps_dir, strerror(errno));
        free(images);
        return 1;
    }

    ff_flow *flow = NULL;
    ff_scorer *sc = NULL;
    float *map = NULL;
    int rc = 1;
    int32_t h = 0, w = 0;
    ff_status st = ff_flow_load(model, NULL, &flow);
    if (st != FF_OK) {
        rc = cli_fail(CMD, model, st);
        goto done;
    }
    if ((st = ff_scorer_create(flow, &sc)) != FF_OK || (st = ff_scorer_map_shape(sc, &h, &w)) != FF_OK) {
        rc = cli_fail(CMD, "creating the scorer", st);
        goto done;
    }
    size_t map_n = (size_t)h * (size_t)w;
    map = malloc(map_n * sizeof(float));
    if (!map) goto done;
    if (json) printf("[");
    for (int i = 0; i < n_images; i++) {
        float score = 0.0f;
        st = ff_scorer_score_file(sc, images[i], maps_dir ? map : NULL, map_n, &score);
        if (st != FF_OK) {
            if (json) printf("]\n");
            rc = cli_fail(CMD, images[i], st);
            goto done;
        }
        if (json) {
            printf("%s\n  {\"path\": ", i ? "," : "");
            print_json_string(images[i]);
            printf(", \"score\": %.9g}", (double)score);
        } else {
            printf("%s %.9g\n", images[i], (double)score);
        }
        if (maps_dir) {
            char stem[1024], path[4096];
            stem_of(images[i], stem, sizeof stem);
            snprintf(path, sizeof path, "%s/%s.npy", maps_dir, stem);
            if ((rc = write_npy(path, map, h, w)) != 0) {
                if (json) printf("]\n");
                goto done;
            }
        }
        fflush(stdout);
    }
    if (json) printf("\n]\n");
    rc = 0;
done:
    free(map);
    free(images);
    ff_scorer_destroy(sc);
    ff_flow_destroy(flow);
    return rc;
}
