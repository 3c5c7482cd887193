#include "cli_testlib.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backbone_testlib.h"
#include "fastflow.h"
#include "flow_testlib.h"

int ct_run(int (*cmd)(int, char **), int argc, const char **argv) {
    fflush(stdout);
    return cmd(argc, (char **)(uintptr_t)argv);
}

int ct_run_to(const char *path, int (*cmd)(int, char **), int argc, const char **argv) {
    fflush(stdout);
    int fd = dup(fileno(stdout));
    if (fd < 0) return -1;
    if (!freopen(path, "w", stdout)) {
        close(fd);
        return -1;
    }
    int rc = cmd(argc, (char **)(uintptr_t)argv);
    fflush(stdout);
    dup2(fd, fileno(stdout));
    close(fd);
    return rc;
}

char *ct_slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0) buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf) buf[n] = 0;
    fclose(f);
    return buf;
}

double ct_json_number(const char *json, const char *key) {
    char pat[96];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = json ? strstr(json, pat) : NULL;
    if (!p || strncmp(p + strlen(pat), "null", 4) == 0) return NAN;
    char *end = NULL;
    double v = strtod(p + strlen(pat), &end);
    return end == p + strlen(pat) ? NAN : v;
}

int ct_write_resnet18_weights(const char *path, uint64_t seed) {
    size_t size = 0;
    uint8_t *w = bt_random_weights("resnet18", seed, "", NULL, NULL, &size, NULL, NULL);
    if (!w) return -1;
    ff_status st = ff_write_file_atomic(path, w, size);
    free(w);
    return st == FF_OK ? 0 : -1;
}

static int write_image(const char *path, uint64_t seed, int32_t side, int defect) {
    uint8_t *img = ft_image(seed, side, side, defect);
    if (!img) return -1;
    ff_status st = ff_image_write_png(path, img, side, side, 0, FF_PIXEL_RGB8);
    free(img);
    return st == FF_OK ? 0 : -1;
}

int ct_mvtec_set(const char *root, int32_t side, int n_train, int n_good, int n_defect) {
    static const char *sub[] = {"", "/train", "/train/good", "/test", "/test/good", "/test/spot", "/ground_truth",
                                "/ground_truth/spot"};
    char d[8][1024], p[1100];
    for (int i = 0; i < 8; i++) {
        snprintf(d[i], sizeof d[i], "%s%s", root, sub[i]);
        if (mkdir(d[i], 0777) != 0) return -1;
    }
    for (int i = 0; i < n_train; i++) {
        snprintf(p, sizeof p, "%s/n%d.png", d[2], i);
        if (write_image(p, 800 + (uint64_t)i, side, 0)) return -1;
    }
    for (int i = 0; i < n_good; i++) {
        snprintf(p, sizeof p, "%s/g%d.png", d[4], i);
        if (write_image(p, 900 + (uint64_t)i, side, 0)) return -1;
    }
    /* a rough region (not ft_image's exact square): pixel AUROC only needs both classes */
    const size_t npx = (size_t)side * (size_t)side;
    uint8_t *mask = malloc(npx);
    if (!mask) return -1;
    for (size_t k = 0; k < npx; k++) {
        const size_t x = k % (size_t)side, y = k / (size_t)side;
        mask[k] = (x * 64 > (size_t)side * 20 && x * 64 < (size_t)side * 40 && y * 64 > (size_t)side * 20) ? 255 : 0;
    }
    int rc = 0;
    for (int i = 0; i < n_defect && rc == 0; i++) {
        snprintf(p, sizeof p, "%s/s%d.png", d[5], i);
        rc = write_image(p, 910 + (uint64_t)i, side, 1);
        snprintf(p, sizeof p, "%s/s%d_mask.png", d[7], i);
        if (rc == 0 && ff_image_write_png(p, mask, side, side, 0, FF_PIXEL_GRAY8) != FF_OK) rc = -1;
    }
    free(mask);
    return rc;
}
