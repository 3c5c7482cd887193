/* `fastflow demo` end to end on a tiny configuration (64x64 images, a few
 * of them, one epoch), then `fastflow eval` on what it wrote: the outputs
 * exist, the heatmaps decode back, the metrics are sane and the saved model
 * evaluates exactly as the one in memory did. Needs the real resnet18
 * weights (slow suite). With --fast, only what needs no weights: usage
 * errors, --generate-only, and eval refusing a missing model (fast suite).
 * usage: test_cli_demo /path/to/fastflow [--fast] */
#include <ftw.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_util.h"

static const char *exe;

/* Runs exe with the given arguments (NULL-terminated); returns the exit
 * code, or -1 when it did not exit normally. */
static int run(const char *const *args) {
    const char *argv[32];
    int n = 0;
    argv[n++] = exe;
    for (; args[n - 1] && n < 31; n++) argv[n] = args[n - 1];
    argv[n] = NULL;
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid == 0) {
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid) return -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static bool exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && sb.st_size > 0;
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *buf = calloc(1, 1 << 16);
    if (buf && fread(buf, 1, (1 << 16) - 1, f) == 0) buf[0] = 0;
    fclose(f);
    return buf;
}

/* The number after "key": in a JSON text; NAN when absent or null. */
static double json_number(const char *json, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = json ? strstr(json, pat) : NULL;
    if (!p || strncmp(p + strlen(pat), "null", 4) == 0) return NAN;
    return strtod(p + strlen(pat), NULL);
}

static void check_heatmap(const char *path, int32_t size) {
    int32_t w = 0, h = 0, ch = 0;
    CHECK_OK(ff_image_probe_file(path, &ch, &w, &h));
    CHECK(w == size && h == size && ch == 3);
    uint8_t *px = malloc((size_t)size * (size_t)size * 3);
    if (!px) return;
    CHECK_OK(ff_image_decode_file(path, FF_PIXEL_RGB8, px, (size_t)size * (size_t)size * 3, 0));
    free(px);
}

static int remove_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw) {
    (void)sb, (void)flag, (void)ftw;
    return remove(path);
}

/* Everything that runs without the backbone weights. */
static void fast_checks(void) {
    char out[512], path[1024];
    snprintf(out, sizeof out, "%s/gen", ff_test_tmpdir());
    CHECK(run((const char *[]){"demo", "--size", "60", NULL}) == 2);
    CHECK(run((const char *[]){"demo", "--texture", "velvet", NULL}) == 2);
    CHECK(run((const char *[]){"demo", "--epochs", "0", NULL}) == 2);
    CHECK(run((const char *[]){"demo", "--category", "x", NULL}) == 2);
    CHECK(run((const char *[]){"demo", "--generate-only", "--data", out, NULL}) == 2);
    CHECK(run((const char *[]){"demo", "--bogus", NULL}) == 2);
    CHECK(run((const char *[]){"demo", "--weights", "/nonexistent/w.safetensors", "--out", out, NULL}) == 1);
    CHECK(run((const char *[]){"eval", "--model", "m.safetensors", NULL}) == 2);
    CHECK(run((const char *[]){"demo", "--help", NULL}) == 0);
    CHECK(run((const char *[]){"eval", "--help", NULL}) == 0);
    CHECK(run((const char *[]){"demo", "--generate-only", "--out", out, "--size", "48", "--train", "3",
                               "--test-good", "2", "--test-defect", "1", "--texture", "granite", NULL}) == 0);
    const char *files[] = {"train/good/002.png", "test/good/001.png", "test/scratch/000.png", "test/spot/000.png",
                           "test/stain/000.png", "ground_truth/spot/000_mask.png"};
    for (int i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "%s/data/%s", out, files[i]);
        int32_t w = 0, h = 0;
        CHECK_OK(ff_image_probe_file(path, NULL, &w, &h));
        CHECK(w == 48 && h == 48);
    }
    snprintf(path, sizeof path, "%s/data/train/good/003.png", out);
    CHECK(!exists(path));
    /* a model that does not exist: a message and exit 1, not a crash */
    snprintf(path, sizeof path, "%s/data", out);
    CHECK(run((const char *[]){"eval", "--model", "/nonexistent/m.safetensors", "--data", path, NULL}) == 1);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: %s FASTFLOW_EXECUTABLE [--fast]\n", argv[0]);
        return 1;
    }
    exe = argv[1];
    if (argc > 2 && strcmp(argv[2], "--fast") == 0) {
        fast_checks();
        nftw(ff_test_tmpdir(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        return ff_test_finish();
    }
    const char *weights = ff_test_shared_path("weights/resnet18-in1k-to-layer3.safetensors");
    if (!weights) ff_test_skip("../shared/weights/resnet18-in1k-to-layer3.safetensors is absent");
    char w[1024], out[512], path[1024], data[600], model[600], ejson[600], eheat[600];
    snprintf(w, sizeof w, "%s", weights);
    snprintf(out, sizeof out, "%s/demo", ff_test_tmpdir());

    const char *demo[] = {"demo", "--out", out, "--weights", w, "--size", "64", "--train", "8", "--test-good", "3",
                          "--test-defect", "2", "--epochs", "1", "--batch", "4", "--threads", "2", NULL};
    CHECK(run(demo) == 0);

    snprintf(model, sizeof model, "%s/model.safetensors", out);
    snprintf(data, sizeof data, "%s/data", out);
    CHECK(exists(model));
    snprintf(path, sizeof path, "%s/data/train/good/007.png", out);
    CHECK(exists(path));
    snprintf(path, sizeof path, "%s/data/ground_truth/stain/001_mask.png", out);
    CHECK(exists(path));
    const char *types[] = {"good", "scratch", "spot", "stain"};
    for (int t = 0; t < 4; t++)
        for (int i = 0; i < 2; i++) {
            snprintf(path, sizeof path, "%s/heatmaps/%s/%03d.png", out, types[t], i);
            check_heatmap(path, 64);
        }
    /* the report, self-contained, with a gallery of every test image */
    snprintf(path, sizeof path, "%s/report.html", out);
    CHECK(exists(path));
    FILE *rf = fopen(path, "rb");
    char *html = calloc(1, 1 << 22);
    if (rf && html && fread(html, 1, (1 << 22) - 1, rf) > 0) {
        CHECK(strncmp(html, "<!DOCTYPE html>", 15) == 0 && strstr(html, "</html>"));
        CHECK(strstr(html, "Showing 9 of 9 test images") != NULL);
        CHECK(strstr(html, "<svg class=\"plot\" id=\"roc\"") && strstr(html, "id=\"pro-curve\"") &&
              strstr(html, "id=\"histogram\""));
    } else {
        CHECK(!"reading report.html");
    }
    if (rf) fclose(rf);
    free(html);
    snprintf(path, sizeof path, "%s/metrics.json", out);
    char *metrics = slurp(path);
    CHECK(metrics != NULL);
    double auroc = json_number(metrics, "image_auroc"), pix = json_number(metrics, "pixel_auroc");
    double pro = json_number(metrics, "pro");
    CHECK(auroc >= 0.0 && auroc <= 1.0);
    CHECK(pix >= 0.0 && pix <= 1.0);
    CHECK(pro >= 0.0 && pro <= 1.0);
    CHECK(json_number(metrics, "n_good") == 3.0 && json_number(metrics, "n_defect") == 6.0);
    CHECK(metrics && strstr(metrics, "\"scratch\": {\"n\": 2,") != NULL);

    /* the saved model, evaluated from its file, gives the same numbers */
    snprintf(ejson, sizeof ejson, "%s/eval.json", ff_test_tmpdir());
    snprintf(eheat, sizeof eheat, "%s/eval_heatmaps", ff_test_tmpdir());
    CHECK(run((const char *[]){"eval", "--model", model, "--data", data, "--json", ejson, "--heatmaps", eheat,
                               "--threads", "2", NULL}) == 0);
    char *again = slurp(ejson);
    CHECK(again != NULL);
    CHECK(json_number(again, "image_auroc") == auroc);
    CHECK(json_number(again, "pixel_auroc") == pix);
    CHECK(json_number(again, "pro") == pro);
    snprintf(path, sizeof path, "%s/spot/001.png", eheat);
    check_heatmap(path, 64);
    /* a folder without a test split is refused */
    snprintf(path, sizeof path, "%s/train/good", data);
    CHECK(run((const char *[]){"eval", "--model", model, "--data", path, NULL}) == 1);
    free(metrics);
    free(again);
    nftw(ff_test_tmpdir(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    return ff_test_finish();
}
