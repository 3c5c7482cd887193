/* Evaluation metrics: AUROC, AUPRO and the F1-optimal threshold against
 * sklearn and a transcription of the official MVTec AD evaluation code
 * (golden files from tools/reference/gen_metrics_golden.py), against
 * brute force on random inputs, on 6.5 million pixel scores, and on bad
 * input. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eval/components.h"
#include "tensor/safetensors.h"
#include "test_util.h"

#define TOL 1e-6

/* Raw data of a golden tensor of the given dtype, or NULL (counted as a
 * failure). */
#define MAX_COPIES 4096
static void *copies[MAX_COPIES];
static int n_copies;

static const void *golden(const ff_st_file *f, const char *name, ff_dtype dt, int64_t *numel) {
    const ff_st_tensor *t = ff_st_find(f, name);
    CHECK(t != NULL);
    if (!t) {
        fprintf(stderr, "golden tensor '%s' missing\n", name);
        return NULL;
    }
    CHECK(t->dtype == dt);
    if (t->dtype != dt) return NULL;
    if (numel) *numel = t->numel;
    /* Tensor data in a safetensors file need not be aligned: hand out an
     * aligned copy, freed by golden_release(). */
    void *copy = malloc(t->nbytes ? t->nbytes : 1);
    CHECK(copy != NULL && n_copies < MAX_COPIES);
    if (!copy || n_copies >= MAX_COPIES) {
        free(copy);
        return NULL;
    }
    memcpy(copy, t->data, t->nbytes);
    copies[n_copies++] = copy;
    return copy;
}

static void golden_release(void) {
    while (n_copies > 0) free(copies[--n_copies]);
}

static double golden_f64(const ff_st_file *f, const char *name, int64_t index) {
    const void *p = golden(f, name, FF_DT_F64, NULL);
    double v = NAN;
    if (p) memcpy(&v, (const uint8_t *)p + index * 8, sizeof v);
    return v;
}

/* Splits the metadata "cases" list into `names` (modified in place). */
static int case_names(const ff_st_file *f, char *buf, size_t cap, char **names, int max) {
    const char *cases = ff_st_meta(f, "cases");
    CHECK(cases != NULL);
    if (!cases) return 0;
    snprintf(buf, cap, "%s", cases);
    int n = 0;
    for (char *tok = strtok(buf, ","); tok && n < max; tok = strtok(NULL, ",")) names[n++] = tok;
    return n;
}

static void test_binary_golden(void) {
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path("metrics_binary.safetensors"), &f));
    if (!f) return;
    char buf[1024], *cases[32], name[256];
    int ncases = case_names(f, buf, sizeof buf, cases, 32);
    CHECK(ncases >= 8);
    double worst_auroc = 0, worst_f1 = 0;
    for (int c = 0; c < ncases; c++) {
        int64_t n = 0, nl = 0;
        snprintf(name, sizeof name, "%s.scores", cases[c]);
        const float *scores = golden(f, name, FF_DT_F32, &n);
        snprintf(name, sizeof name, "%s.labels", cases[c]);
        const uint8_t *labels = golden(f, name, FF_DT_U8, &nl);
        if (!scores || !labels || n != nl) {
            CHECK(0);
            continue;
        }
        snprintf(name, sizeof name, "%s.auroc", cases[c]);
        double ref_auroc = golden_f64(f, name, 0);
        snprintf(name, sizeof name, "%s.f1", cases[c]);
        double ref_f1 = golden_f64(f, name, 0);
        snprintf(name, sizeof name, "%s.threshold", cases[c]);
        const float *ref_thr = golden(f, name, FF_DT_F32, NULL);

        double auroc = -1;
        if (isnan(ref_auroc)) { /* one class only: sklearn refuses too */
            CHECK_STATUS(ff_metric_auroc(scores, labels, (uint64_t)n, &auroc),
                         FF_E_INVALID_ARGUMENT);
            CHECK_MSG("only one class present");
            CHECK(auroc == -1);
        } else {
            CHECK_OK(ff_metric_auroc(scores, labels, (uint64_t)n, &auroc));
            double d = fabs(auroc - ref_auroc);
            if (d > worst_auroc) worst_auroc = d;
            CHECK(d <= TOL);
            printf("%-14s n=%6lld auroc %.15f sklearn %.15f diff %.2e\n", cases[c], (long long)n,
                   auroc, ref_auroc, d);
        }
        double f1 = -1;
        float thr = NAN;
        CHECK_OK(ff_metric_f1_optimal(scores, labels, (uint64_t)n, &f1, &thr));
        double d = fabs(f1 - ref_f1);
        if (d > worst_f1) worst_f1 = d;
        CHECK(d <= TOL);
        CHECK(ref_thr && thr == ref_thr[0]); /* the same score, exactly */
        printf("%-14s n=%6lld f1 %.15f sklearn %.15f diff %.2e threshold %.9g (sklearn %.9g)\n",
               cases[c], (long long)n, f1, ref_f1, d, (double)thr,
               ref_thr ? (double)ref_thr[0] : NAN);
    }
    printf("max |diff| vs sklearn: auroc %.2e, f1 %.2e\n", worst_auroc, worst_f1);
    golden_release();
    ff_st_close(f);
}

static void test_pro_golden(void) {
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path("metrics_pro.safetensors"), &f));
    if (!f) return;
    char buf[1024], *cases[32], name[256];
    int ncases = case_names(f, buf, sizeof buf, cases, 32);
    CHECK(ncases >= 4);
    double worst = 0, worst64 = 0;
    for (int c = 0; c < ncases; c++) {
        snprintf(name, sizeof name, "%s.maps", cases[c]);
        const ff_st_tensor *tm = ff_st_find(f, name);
        snprintf(name, sizeof name, "%s.masks", cases[c]);
        const ff_st_tensor *tk = ff_st_find(f, name);
        CHECK(tm && tk && tm->ndim == 3 && tk->numel == tm->numel);
        if (!tm || !tk || tm->ndim != 3 || tk->numel != tm->numel) continue;
        int32_t n = (int32_t)tm->shape[0], h = (int32_t)tm->shape[1], w = (int32_t)tm->shape[2];
        const float *maps = (const float *)tm->data;
        const uint8_t *masks = tk->data;

        /* the regions are the 8-connected components (scipy's count) */
        snprintf(name, sizeof name, "%s.regions", cases[c]);
        const int64_t *ref_regions = golden(f, name, FF_DT_I64, NULL);
        uint32_t *labels = malloc((size_t)h * (size_t)w * 2 * sizeof *labels);
        uint64_t regions = 0;
        for (int32_t i = 0; labels && i < n; i++)
            regions += ff_label_components8(masks + (size_t)i * h * w, w, h, labels,
                                            labels + (size_t)h * w);
        free(labels);
        CHECK(ref_regions && regions == (uint64_t)ref_regions[0]);

        snprintf(name, sizeof name, "%s.max_fpr", cases[c]);
        int64_t nlim = 0;
        CHECK(golden(f, name, FF_DT_F64, &nlim) != NULL);
        for (int64_t k = 0; k < nlim; k++) {
            double lim = golden_f64(f, name, k);
            char ref_name[256];
            snprintf(ref_name, sizeof ref_name, "%s.aupro", cases[c]);
            double ref = golden_f64(f, ref_name, k);
            snprintf(ref_name, sizeof ref_name, "%s.aupro64", cases[c]);
            double ref64 = golden_f64(f, ref_name, k);
            double got = -1;
            CHECK_OK(ff_metric_pro(maps, masks, n, w, h, lim, &got));
            double d = fabs(got - ref), d64 = fabs(got - ref64);
            if (d > worst) worst = d;
            if (d64 > worst64) worst64 = d64;
            CHECK(d <= TOL);
            printf("%-9s %dx%dx%d regions %llu max_fpr %.2f aupro %.12f official %.12f diff "
                   "%.2e (float64-FPR variant diff %.2e)\n",
                   cases[c], (int)n, (int)h, (int)w, (unsigned long long)regions, lim, got, ref, d,
                   d64);
        }
    }
    printf("max |diff| vs the official AUPRO: %.2e (vs its float64-FPR variant %.2e)\n", worst,
           worst64);
    golden_release();
    ff_st_close(f);
}

/* xorshift64*: deterministic test data without libc rand(). */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static double next_unit(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ull) >> 11) / 9007199254740992.0;
}

/* The definition, O(n^2): P(score_pos > score_neg) + P(tie) / 2. */
static double brute_auroc(const float *s, const uint8_t *l, size_t n) {
    double num = 0, pairs = 0;
    for (size_t i = 0; i < n; i++) {
        if (!l[i]) continue;
        for (size_t j = 0; j < n; j++) {
            if (l[j]) continue;
            pairs += 1;
            num += s[i] > s[j] ? 1.0 : s[i] == s[j] ? 0.5 : 0.0;
        }
    }
    return num / pairs;
}

/* The definition: every distinct score as threshold, best F1, lowest
 * threshold on ties. */
static double brute_f1(const float *s, const uint8_t *l, size_t n, float *thr_out) {
    double best = -1;
    float best_t = 0;
    for (size_t k = 0; k < n; k++) {
        double tp = 0, fp = 0, pos = 0;
        for (size_t i = 0; i < n; i++) {
            pos += l[i];
            if (s[i] >= s[k]) {
                tp += l[i];
                fp += !l[i];
            }
        }
        double f1 = 2 * tp / (tp + fp + pos);
        if (f1 > best || (f1 == best && s[k] < best_t)) {
            best = f1;
            best_t = s[k];
        }
    }
    *thr_out = best_t;
    return best;
}

static void test_random_brute_force(void) {
    enum { N = 600 };
    float s[N];
    uint8_t l[N];
    double worst = 0;
    int f1_ok = 1;
    for (int trial = 0; trial < 20; trial++) {
        int levels = trial % 4 == 0 ? 3 : trial % 4 == 1 ? 50 : 1 << 20;
        size_t n = 5 + (size_t)(next_unit() * (N - 5));
        for (size_t i = 0; i < n; i++) {
            l[i] = next_unit() < 0.3;
            double v = next_unit() + 0.4 * l[i] - 0.7;
            s[i] = (float)(floor(v * levels) / levels);
        }
        l[0] = 1;
        l[1] = 0;
        double a = -1, f1 = -1;
        float thr = 0, bthr = 0;
        CHECK_OK(ff_metric_auroc(s, l, n, &a));
        double d = fabs(a - brute_auroc(s, l, n));
        if (d > worst) worst = d;
        CHECK_OK(ff_metric_f1_optimal(s, l, n, &f1, &thr));
        double bf1 = brute_f1(s, l, n, &bthr);
        if (fabs(f1 - bf1) > 1e-12 || thr != bthr) f1_ok = 0;
    }
    CHECK(worst <= 1e-12);
    CHECK(f1_ok);
    printf("20 random sets (3, 50, 2^20 levels) vs O(n^2) definitions: auroc max diff %.2e, f1 %s\n",
           worst, f1_ok ? "equal" : "DIFFERENT");
}

/* Pixel-level size: 100 maps of 256x256. Scores are quantised to 4096
 * levels so that an O(n) histogram computes the exact AUROC independently. */
static void test_pixel_scale(void) {
    const size_t n = 100u * 256u * 256u;
    enum { LEVELS = 4096 };
    float *s = malloc(n * sizeof *s);
    uint8_t *l = malloc(n);
    uint64_t *hist = calloc(2 * LEVELS, sizeof *hist);
    CHECK(s && l && hist);
    if (!s || !l || !hist) goto done;
    for (size_t i = 0; i < n; i++) {
        l[i] = next_unit() < 0.03;
        double v = next_unit() * 0.8 + 0.2 * l[i] * next_unit();
        int q = (int)(v * LEVELS);
        if (q >= LEVELS) q = LEVELS - 1;
        s[i] = (float)q / LEVELS - 1.0f;
        hist[l[i] * LEVELS + (size_t)q]++;
    }
    double u = 0, below = 0, npos = 0, nneg = 0;
    for (int q = 0; q < LEVELS; q++) {
        u += (double)hist[LEVELS + q] * (below + 0.5 * (double)hist[q]);
        below += (double)hist[q];
        npos += (double)hist[LEVELS + q];
    }
    nneg = (double)n - npos;
    double ref = u / (npos * nneg);

    struct timespec t0, t1;
    double auroc = -1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_OK(ff_metric_auroc(s, l, n, &auroc));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK(fabs(auroc - ref) <= 1e-12);
    printf("pixel AUROC over %zu values (100 x 256x256): %.12f (histogram %.12f) in %.1f ms\n", n,
           auroc, ref, ms);

    double aupro = -1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    CHECK_OK(ff_metric_pro(s, l, 100, 256, 256, 0.3, &aupro));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    ms = (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6;
    CHECK(aupro >= 0 && aupro <= 1);
    printf("AUPRO over the same maps: %.6f in %.1f ms\n", aupro, ms);
done:
    free(s);
    free(l);
    free(hist);
}

static void test_bad_input(void) {
    const float s[4] = {0.1f, 0.2f, 0.3f, 0.4f};
    const uint8_t l[4] = {0, 1, 0, 1};
    double out = 42;
    float thr = 42;

    CHECK_STATUS(ff_metric_auroc(NULL, l, 4, &out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("scores is NULL");
    CHECK_STATUS(ff_metric_auroc(s, NULL, 4, &out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("labels is NULL");
    CHECK_STATUS(ff_metric_auroc(s, l, 4, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("auroc_out is NULL");
    CHECK_STATUS(ff_metric_auroc(s, l, 0, &out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("n is 0");
    CHECK_STATUS(ff_metric_auroc(s, l, (uint64_t)1 << 33, &out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("exceeds 2^32-1");
    const uint8_t bad_l[4] = {0, 2, 0, 1};
    CHECK_STATUS(ff_metric_auroc(s, bad_l, 4, &out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("labels[1] = 2");
    const float nan_s[4] = {0.1f, NAN, 0.3f, 0.4f};
    CHECK_STATUS(ff_metric_auroc(nan_s, l, 4, &out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("scores[1]");
    CHECK_MSG("not finite");
    const float inf_s[4] = {0.1f, 0.2f, INFINITY, 0.4f};
    CHECK_STATUS(ff_metric_auroc(inf_s, l, 4, &out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("scores[2]");
    const uint8_t zeros[4] = {0, 0, 0, 0}, ones[4] = {1, 1, 1, 1};
    CHECK_STATUS(ff_metric_auroc(s, zeros, 4, &out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("only one class present (0 anomalous, 4 normal");
    CHECK_STATUS(ff_metric_auroc(s, ones, 4, &out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("only one class present (4 anomalous, 0 normal");
    CHECK(out == 42);

    CHECK_STATUS(ff_metric_f1_optimal(s, zeros, 4, &out, &thr), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("no anomalous sample");
    CHECK_STATUS(ff_metric_f1_optimal(nan_s, l, 4, &out, &thr), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("not finite");
    CHECK_STATUS(ff_metric_f1_optimal(NULL, l, 4, &out, &thr), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("scores is NULL");
    CHECK(out == 42 && thr == 42);
    /* both outputs are optional */
    CHECK_OK(ff_metric_f1_optimal(s, l, 4, NULL, NULL));
    CHECK_OK(ff_metric_f1_optimal(s, l, 4, &out, NULL));
    CHECK(fabs(out - 0.8) < 1e-15); /* threshold 0.2: TP 2, FP 1 */
    CHECK(ff_last_error_message()[0] == '\0');

    /* PRO: 2 images of 3x4 */
    float maps[24];
    uint8_t masks[24] = {0};
    for (int i = 0; i < 24; i++) maps[i] = (float)i / 24;
    masks[5] = masks[6] = masks[20] = 1;
    out = 42;
    CHECK_STATUS(ff_metric_pro(NULL, masks, 2, 4, 3, 0.3, &out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("maps is NULL");
    CHECK_STATUS(ff_metric_pro(maps, NULL, 2, 4, 3, 0.3, &out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("masks is NULL");
    CHECK_STATUS(ff_metric_pro(maps, masks, 2, 4, 3, 0.3, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("aupro_out is NULL");
    CHECK_STATUS(ff_metric_pro(maps, masks, 0, 4, 3, 0.3, &out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("must be positive");
    CHECK_STATUS(ff_metric_pro(maps, masks, 2, 4, -3, 0.3, &out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("must be positive");
    CHECK_STATUS(ff_metric_pro(maps, masks, 2, 4, 3, NAN, &out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("max_fpr");
    CHECK_STATUS(ff_metric_pro(maps, masks, 2, 4, 3, 0.0, &out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("must be in (0, 1]");
    CHECK_STATUS(ff_metric_pro(maps, masks, 2, 4, 3, 1.5, &out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("must be in (0, 1]");
    CHECK_STATUS(ff_metric_pro(maps, masks, 65536, 65536, 65536, 0.3, &out),
                 FF_E_INVALID_ARGUMENT);
    CHECK_MSG("exceed 2^32-1 pixels");
    masks[7] = 255;
    CHECK_STATUS(ff_metric_pro(maps, masks, 2, 4, 3, 0.3, &out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("masks[7] = 255");
    masks[7] = 0;
    maps[13] = NAN;
    CHECK_STATUS(ff_metric_pro(maps, masks, 2, 4, 3, 0.3, &out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("maps[13]");
    CHECK_MSG("(image 1)");
    maps[13] = 0.5f;
    CHECK_STATUS(ff_metric_pro(maps, zeros, 1, 2, 2, 0.3, &out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("no anomalous region");
    CHECK_STATUS(ff_metric_pro(maps, ones, 1, 2, 2, 0.3, &out), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("no normal pixel");
    CHECK(out == 42);
    CHECK_OK(ff_metric_pro(maps, masks, 2, 4, 3, 0.3, &out));
    CHECK(out >= 0 && out <= 1);
}

/* A hand-checked PRO: one 2x2 image, one region = the top-left pixel. */
static void test_pro_by_hand(void) {
    const float maps[4] = {0.9f, 0.1f, 0.5f, 0.3f};
    const uint8_t masks[4] = {1, 0, 0, 0};
    double out = -1;
    /* points: (0,1) at 0.9, then FPR 1/3, 2/3, 1 with PRO 1: the area up to
     * 0.3 is 0.3, normalised 1 */
    CHECK_OK(ff_metric_pro(maps, masks, 1, 2, 2, 0.3, &out));
    CHECK(fabs(out - 1.0) < 1e-15);
    /* the region scored lowest: PRO stays 0 until FPR 1 */
    const float low[4] = {0.0f, 0.1f, 0.5f, 0.3f};
    CHECK_OK(ff_metric_pro(low, masks, 1, 2, 2, 1.0, &out));
    CHECK(fabs(out - 0.0) < 1e-15);
    /* tied with one normal pixel: the point (1/3, 1) after (0,0); up to
     * 0.3 the segment is y = 3x: area 0.135, normalised 0.45 */
    const float tied[4] = {0.5f, 0.1f, 0.5f, 0.3f};
    CHECK_OK(ff_metric_pro(tied, masks, 1, 2, 2, 0.3, &out));
    CHECK(fabs(out - 0.45) < 1e-15);
    printf("hand-checked AUPRO cases ok\n");
}

int main(void) {
    test_binary_golden();
    test_pro_golden();
    test_random_brute_force();
    test_pro_by_hand();
    test_bad_input();
    test_pixel_scale();
    return ff_test_finish();
}
