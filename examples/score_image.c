/*
 * score_image.c - score one image with a trained model, print the score and
 * write a heatmap.
 *
 *   score_image MODEL.safetensors IMAGE [HEATMAP.png]
 *
 * Prints "IMAGE SCORE" (the anomaly score: the maximum of the anomaly map;
 * higher is more anomalous), followed by "anomalous" or "normal" when the
 * model carries a threshold (score statistics, e.g. from
 * 'fastflow train --val-fraction'). With HEATMAP.png, also writes the anomaly map
 * as a Turbo-coloured overlay on the image, at the model's input size,
 * coloured from the map's own minimum to its maximum (to compare images,
 * use one fixed range for a whole data set instead).
 *
 * Every libfastflow call returns a status; on failure, ff_status_string()
 * names the kind of error and ff_last_error_message() gives the detail.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <fastflow.h>

/* Prints a failed call's error and returns 1 (the exit code). */
static int report(const char *what, ff_status st) {
    fprintf(stderr, "score_image: %s: %s: %s\n", what, ff_status_string(st), ff_last_error_message());
    return 1;
}

/* Decodes the image as RGB8, renders the map over it and writes a PNG. */
static int write_heatmap(const char *image_path, const float *map, int32_t mh, int32_t mw, const char *out_path) {
    int32_t w = 0, h = 0;
    ff_status st = ff_image_probe_file(image_path, NULL, &w, &h);
    if (st != FF_OK) return report(image_path, st);
    size_t image_bytes = (size_t)w * (size_t)h * 3;
    size_t out_bytes = (size_t)mw * (size_t)mh * 3;
    uint8_t *image = malloc(image_bytes);
    uint8_t *rgb = malloc(out_bytes);
    int rc = 1;
    if (image == NULL || rgb == NULL) {
        fprintf(stderr, "score_image: out of memory\n");
        goto done;
    }
    if ((st = ff_image_decode_file(image_path, FF_PIXEL_RGB8, image, image_bytes, 0)) != FF_OK) {
        rc = report(image_path, st);
        goto done;
    }
    float lo = map[0], hi = map[0];
    for (size_t i = 1; i < (size_t)mw * (size_t)mh; i++) {
        if (map[i] < lo) lo = map[i];
        if (map[i] > hi) hi = map[i];
    }
    if (!(hi > lo)) hi = lo + 1e-6f; /* a flat map: any colour will do */
    st = ff_heatmap_render(map, mw, mh, lo, hi, image, w, h, 0, FF_PIXEL_RGB8, 0.5f, rgb, out_bytes, 0);
    if (st != FF_OK) {
        rc = report("rendering the heatmap", st);
        goto done;
    }
    if ((st = ff_image_write_png(out_path, rgb, mw, mh, 0, FF_PIXEL_RGB8)) != FF_OK) {
        rc = report(out_path, st);
        goto done;
    }
    rc = 0;
done:
    free(image);
    free(rgb);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s MODEL.safetensors IMAGE [HEATMAP.png]\n", argv[0]);
        return 2;
    }
    const char *model = argv[1], *image = argv[2], *heatmap = argc == 4 ? argv[3] : NULL;

    ff_flow *flow = NULL;     /* the model: immutable, shareable between threads */
    ff_scorer *scorer = NULL; /* a per-thread workspace over it */
    float *map = NULL;
    int rc = 1;
    ff_status st = ff_flow_load(model, NULL, &flow); /* NULL: use the backbone embedded in the file */
    if (st != FF_OK) {
        rc = report(model, st);
        goto done;
    }
    if ((st = ff_scorer_create(flow, &scorer)) != FF_OK) {
        rc = report("creating the scorer", st);
        goto done;
    }
    int32_t mh = 0, mw = 0;
    if ((st = ff_scorer_map_shape(scorer, &mw, &mh)) != FF_OK) {
        rc = report("map shape", st);
        goto done;
    }
    size_t n = (size_t)mh * (size_t)mw;
    map = malloc(n * sizeof *map);
    if (map == NULL) {
        fprintf(stderr, "score_image: out of memory\n");
        goto done;
    }
    float score = 0.0f;
    if ((st = ff_scorer_score_file(scorer, image, map, n, &score)) != FF_OK) {
        rc = report(image, st);
        goto done;
    }
    /* The decision needs a threshold in the model: FF_E_STATE without one. */
    int32_t anomalous = -1;
    if (ff_scorer_last_decisions(scorer, &anomalous, 1) != FF_OK) anomalous = -1;
    printf("%s %.9g%s\n", image, (double)score, /* %.9g: the exact float */
           anomalous < 0 ? "" : anomalous ? " anomalous" : " normal");
    rc = heatmap ? write_heatmap(image, map, mh, mw, heatmap) : 0;
done:
    free(map);
    ff_scorer_destroy(scorer); /* destroy functions accept NULL */
    ff_flow_destroy(flow);
    return rc;
}
