/* fastflow features: an image in, the backbone's feature maps out, as F32
 * tensors features.0..features.{L-1} [1, C, H, W] in a safetensors file
 * (before any LayerNorm). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_util.h"
#include "commands.h"
#include "fastflow.h"
#include "tensor/safetensors.h"

static const char *const CMD = "features";

/* the flow options' table (ff_param_info) bounds the input sides */
enum { FLOW = FF_OBJECT_FLOW_OPTIONS };

static void help(void) {
    char archs[512], sides[96];
    printf("usage: fastflow features --backbone ARCH --weights W.safetensors --image IMG\n"
           "                         [--size N | --height H --width W] --out F.safetensors\n\n"
           "Writes the backbone's feature maps of IMG (pre-processed as the model expects) as\n"
           "F32 tensors features.0, features.1, ... each [1, C, H, W].\n\n"
           "  --backbone ARCH   %s\n"
           "  --weights FILE    torchvision/timm state dict (safetensors)\n"
           "  --image FILE      PNG or JPEG\n"
           "  --size N          model input side (default: the backbone's, 256 for ResNets and\n"
           "                    the native side for transformers), %s\n"
           "  --out FILE        output safetensors file (written atomically)\n",
           cli_arch_list(20, 20, archs, sizeof archs), cli_param_bounds(FLOW, FF_FLOW_INPUT_WIDTH, sides, sizeof sides));
}

/* The backbone's default input side, as a flow over it takes by default
 * (256 for ResNets, the native side for transformers): read back from a
 * throwaway flow, which is cheap next to the extraction. */
static ff_status default_side(const ff_backbone *bb, int32_t *side) {
    ff_flow *f = NULL;
    ff_status st = ff_flow_create(bb, NULL, &f);
    if (st == FF_OK) st = ff_flow_get_i32(f, FF_FLOW_INPUT_HEIGHT, side);
    ff_flow_destroy(f);
    return st;
}

/* Decodes and pre-processes `path` into a fresh [3, h, w] tensor. */
static int load_input(const char *path, int32_t w, int32_t h, float **out) {
    int32_t iw = 0, ih = 0;
    ff_status st = ff_image_probe_file(path, NULL, &iw, &ih);
    if (st != FF_OK) return cli_fail(CMD, path, st);
    size_t bytes = (size_t)iw * (size_t)ih * 3;
    uint8_t *pixels = malloc(bytes);
    float *input = malloc(sizeof(float) * 3 * (size_t)h * (size_t)w);
    if (!pixels || !input) {
        free(pixels);
        free(input);
        fprintf(stderr, "fastflow %s: out of memory for %s\n", CMD, path);
        return 1;
    }
    st = ff_image_decode_file(path, FF_PIXEL_RGB8, pixels, bytes, 0);
    if (st == FF_OK) st = ff_image_preprocess(pixels, iw, ih, 0, FF_PIXEL_RGB8, w, h, input, 3 * (size_t)h * (size_t)w);
    free(pixels);
    if (st != FF_OK) {
        free(input);
        return cli_fail(CMD, path, st);
    }
    *out = input;
    return 0;
}

int ff_cmd_features(int argc, char **argv) {
    const char *arch = NULL, *weights = NULL, *image = NULL, *out_path = NULL;
    int32_t size = 0, height = 0, width = 0; /* 0: the backbone's default side */
    bool bad = false;
    for (int i = 1; i < argc && !bad; i++) {
        if (cli_flag(argv, i, "--help") || cli_flag(argv, i, "-h")) {
            help();
            return 0;
        }
        if (cli_opt_str(argc, argv, &i, "--backbone", &arch, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--weights", &weights, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--image", &image, &bad)) continue;
        if (cli_opt_str(argc, argv, &i, "--out", &out_path, &bad)) continue;
        if (cli_opt_param_i32(argc, argv, &i, "--size", FLOW, FF_FLOW_INPUT_WIDTH, &size, &bad)) continue;
        if (cli_opt_param_i32(argc, argv, &i, "--height", FLOW, FF_FLOW_INPUT_HEIGHT, &height, &bad)) continue;
        if (cli_opt_param_i32(argc, argv, &i, "--width", FLOW, FF_FLOW_INPUT_WIDTH, &width, &bad)) continue;
        fprintf(stderr, "fastflow %s: unknown option '%s'\n", CMD, argv[i]);
        bad = true;
    }
    if (bad) return cli_usage_error(CMD, "invalid arguments");
    if (!arch || !weights || !image || !out_path)
        return cli_usage_error(CMD, "--backbone, --weights, --image and --out are required");
    if (!height) height = size;
    if (!width) width = size;

    ff_backbone *bb = NULL;
    ff_extractor *ex = NULL;
    ff_st_writer *wr = NULL;
    float *input = NULL, *map = NULL;
    int rc = 1;
    ff_status st = ff_backbone_load(arch, weights, &bb);
    if (st != FF_OK) {
        rc = cli_fail(CMD, weights, st);
        goto done;
    }
    if (!height || !width) {
        int32_t side = 0;
        if ((st = default_side(bb, &side)) != FF_OK) {
            rc = cli_fail(CMD, "default input size", st);
            goto done;
        }
        if (!height) height = side;
        if (!width) width = side;
    }
    if ((rc = load_input(image, width, height, &input)) != 0) goto done;
    rc = 1;
    if ((st = ff_extractor_create(bb, &ex)) != FF_OK || (st = ff_extractor_run(ex, input, 1, width, height)) != FF_OK ||
        (st = ff_st_writer_create(&wr)) != FF_OK) {
        rc = cli_fail(CMD, "extracting features", st);
        goto done;
    }
    int32_t levels = 0;
    ff_backbone_num_levels(bb, &levels);
    for (int32_t l = 0; l < levels; l++) {
        int32_t c, h, w;
        if ((st = ff_backbone_level_shape(bb, l, width, height, &c, &w, &h)) != FF_OK) {
            rc = cli_fail(CMD, "feature shape", st);
            goto done;
        }
        size_t n = (size_t)c * (size_t)h * (size_t)w;
        float *m = realloc(map, n * sizeof(float));
        if (!m) {
            fprintf(stderr, "fastflow %s: out of memory\n", CMD);
            goto done;
        }
        map = m;
        char name[32];
        snprintf(name, sizeof name, "features.%d", (int)l);
        const int64_t shape[4] = {1, c, h, w};
        if ((st = ff_extractor_read(ex, l, map, n)) != FF_OK ||
            (st = ff_st_writer_add_f32(wr, name, 4, shape, map)) != FF_OK) {
            rc = cli_fail(CMD, name, st);
            goto done;
        }
    }
    if ((st = ff_st_writer_set_meta(wr, "backbone", arch)) != FF_OK ||
        (st = ff_st_writer_set_meta(wr, "image", image)) != FF_OK ||
        (st = ff_st_writer_save(wr, out_path)) != FF_OK) {
        rc = cli_fail(CMD, out_path, st);
        goto done;
    }
    printf("wrote %d feature maps of %s to %s\n", (int)levels, image, out_path);
    rc = 0;
done:
    free(map);
    free(input);
    ff_st_writer_destroy(wr);
    ff_extractor_destroy(ex);
    ff_backbone_destroy(bb);
    return rc;
}
