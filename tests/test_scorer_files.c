/* ff_scorer_score_files: results equal one-by-one ff_scorer_score_file bit
 * for bit for every batch size and number of decoding threads; a missing
 * and a corrupt file fail alone with their own statuses and leave their
 * outputs untouched; ff_scorer_progress, polled from another thread while
 * the call runs, only moves forward and ends at the call's counts; bad
 * arguments and option values are rejected without writing. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow_testlib.h"
#include "test_util.h"

#define SIZE 64
#define HW (SIZE * SIZE)
#define NF 13 /* not a multiple of any batch tried */
#define MISSING 4
#define CORRUPT 9

static const char *paths[NF];
static char path_store[NF][512];
static char joined[NF * 512]; /* the paths back to back, each with its NUL */
static size_t joined_bytes, two_bytes; /* all; the first two */
static float ref_maps[NF][HW], ref_scores[NF];

static void make_files(void) {
    for (int i = 0; i < NF; i++) {
        char name[32];
        snprintf(name, sizeof name, "f%02d.png", i);
        snprintf(path_store[i], sizeof path_store[i], "%s", ft_path(name));
        paths[i] = path_store[i];
        size_t len = strlen(paths[i]) + 1;
        memcpy(joined + joined_bytes, paths[i], len);
        joined_bytes += len;
        if (i == 1) two_bytes = joined_bytes;
        if (i == MISSING) continue;
        if (i == CORRUPT) {
            FILE *f = fopen(paths[i], "wb");
            fputs("\x89PNG\r\n\x1a\nthis is not a PNG", f);
            fclose(f);
            continue;
        }
        int32_t w = 50 + 7 * i, h = 90 - 3 * i;
        uint8_t *img = ft_image(900 + (uint64_t)i, w, h, i % 3 == 0);
        CHECK_OK(ff_image_write_png(paths[i], img, w, h, 0, FF_PIXEL_RGB8));
        free(img);
    }
}

typedef struct poller {
    const ff_scorer *s;
    atomic_int stop;
    int ok;          /* monotone and within bounds */
    int64_t polls;
} poller;

static void *poll_main(void *arg) {
    poller *p = arg;
    int64_t last = 0;
    double last_el = 0;
    p->ok = 1;
    while (!atomic_load(&p->stop)) {
        int64_t done = 0, total = 0, failed = 0;
        double el = 0;
        if (ff_scorer_progress(p->s, &done, &total, &failed, &el) != FF_OK) p->ok = 0;
        /* While a call runs its elapsed time grows from poll to poll; a poll
         * that does not see it grow straddles the end of one call and the
         * start of the next (the counters are read one by one), or sees an
         * ended call: only the first kind is checked. */
        if (el > last_el && (done < last || (total > 0 && done > total) || failed > done)) p->ok = 0;
        if (el < 0) p->ok = 0;
        last_el = el;
        last = done;
        p->polls++;
    }
    return NULL;
}

static void run_config(ff_scorer *s, int32_t batch, int32_t jobs) {
    CHECK_OK(ff_scorer_set_i32(s, FF_SCORER_BATCH, batch));
    CHECK_OK(ff_scorer_set_i32(s, FF_SCORER_DECODE_THREADS, jobs));
    float *maps = malloc(sizeof(float) * NF * HW), scores[NF];
    int32_t st[NF];
    for (size_t i = 0; i < (size_t)NF * HW; i++) maps[i] = 42.0f;
    for (int i = 0; i < NF; i++) scores[i] = 42.0f;
    /* an empty call first: the poller sees only the counters of the call
     * below, never the previous call's */
    CHECK_OK(ff_scorer_score_files(s, NULL, 0, 0, NULL, 0, scores, st));
    poller p = {.s = s};
    pthread_t th;
    CHECK(pthread_create(&th, NULL, poll_main, &p) == 0);
    CHECK_OK(ff_scorer_score_files(s, joined, joined_bytes, NF, maps, (size_t)NF * HW, scores, st));
    atomic_store(&p.stop, 1);
    pthread_join(th, NULL);
    CHECK(p.ok);
    int same = 1;
    for (int i = 0; i < NF; i++) {
        if (i == MISSING || i == CORRUPT) continue;
        same &= st[i] == FF_OK && scores[i] == ref_scores[i] && memcmp(maps + (size_t)i * HW, ref_maps[i], sizeof ref_maps[i]) == 0;
    }
    if (!same) fprintf(stderr, "batch %d, %d threads: results differ from one-by-one scoring\n", batch, jobs);
    CHECK(same);
    CHECK(st[MISSING] == FF_E_IO && st[CORRUPT] == FF_E_BAD_FORMAT);
    int untouched = scores[MISSING] == 42.0f && scores[CORRUPT] == 42.0f;
    for (int k = 0; k < HW; k++)
        untouched &= maps[(size_t)MISSING * HW + k] == 42.0f && maps[(size_t)CORRUPT * HW + k] == 42.0f;
    CHECK(untouched);
    int64_t done = 0, total = 0, failed = 0;
    double el = -1;
    CHECK_OK(ff_scorer_progress(s, &done, &total, &failed, &el));
    CHECK(done == NF && total == NF && failed == 2 && el > 0);
    double el2 = -1;
    CHECK_OK(ff_scorer_progress(s, NULL, NULL, NULL, &el2));
    CHECK(el2 == el); /* frozen once the call has ended */

    /* scores only */
    float scores2[NF];
    int32_t st2[NF];
    CHECK_OK(ff_scorer_score_files(s, joined, joined_bytes, NF, NULL, 0, scores2, st2));
    for (int i = 0; i < NF; i++)
        if (i != MISSING && i != CORRUPT) CHECK(st2[i] == FF_OK && scores2[i] == ref_scores[i]);
    free(maps);
}

int main(void) {
    ff_backbone *bb = ft_backbone(44);
    ff_flow *flow = bb ? ft_trained_flow(bb, SIZE) : NULL;
    ff_scorer *s = NULL;
    CHECK(flow != NULL);
    if (flow) CHECK_OK(ff_scorer_create(flow, &s));
    if (!s) return ff_test_finish();
    make_files();

    int64_t done = -1, total = -1, failed = -1;
    double el = -1;
    CHECK_OK(ff_scorer_progress(s, &done, &total, &failed, &el));
    CHECK(done == 0 && total == 0 && failed == 0 && el == 0.0);

    for (int i = 0; i < NF; i++) {
        if (i == MISSING || i == CORRUPT) continue;
        CHECK_OK(ff_scorer_score_file(s, paths[i], ref_maps[i], HW, &ref_scores[i]));
    }
    int32_t v = 0;
    CHECK_OK(ff_scorer_get_i32(s, FF_SCORER_BATCH, &v));
    CHECK(v >= 1 && v <= 8);
    CHECK_OK(ff_scorer_get_i32(s, FF_SCORER_DECODE_THREADS, &v));
    CHECK(v >= 0 && v <= 16);
    const int32_t configs[][2] = {{1, 0}, {4, 1}, {8, 2}, {3, 3}};
    for (size_t c = 0; c < sizeof configs / sizeof configs[0]; c++) run_config(s, configs[c][0], configs[c][1]);

    /* option bounds */
    CHECK_STATUS(ff_scorer_set_i32(s, FF_SCORER_BATCH, 0), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_set_i32(s, FF_SCORER_BATCH, 9), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_set_i32(s, FF_SCORER_DECODE_THREADS, -1), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_set_i32(s, FF_SCORER_DECODE_THREADS, 17), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_set_f32(s, FF_SCORER_BATCH, 1.0f), FF_E_INVALID_ARGUMENT);

    /* bad arguments write nothing */
    float maps[2 * HW], scores[2] = {7, 7};
    int32_t st[2] = {7, 7};
    CHECK_STATUS(ff_scorer_score_files(NULL, joined, two_bytes, 2, NULL, 0, scores, st), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_score_files(s, NULL, two_bytes, 2, NULL, 0, scores, st), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_score_files(s, joined, two_bytes, 2, NULL, 0, NULL, st), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_score_files(s, joined, two_bytes, 2, NULL, 0, scores, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_score_files(s, joined, two_bytes, 2, maps, 2 * HW - 1, scores, st), FF_E_BUFFER_TOO_SMALL);
    CHECK_MSG("maps buffer");
    /* malformed path lists: one path short, bytes after the last path, an
     * empty path, no NUL at the end */
    CHECK_STATUS(ff_scorer_score_files(s, joined, two_bytes, 3, NULL, 0, scores, st), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("count is 3");
    CHECK_STATUS(ff_scorer_score_files(s, joined, two_bytes + 1, 2, NULL, 0, scores, st), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_scorer_score_files(s, "a.png\0\0", 7, 2, NULL, 0, scores, st), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("empty");
    CHECK_STATUS(ff_scorer_score_files(s, "a.png", 5, 1, NULL, 0, scores, st), FF_E_INVALID_ARGUMENT);
    CHECK(scores[0] == 7 && scores[1] == 7 && st[0] == 7 && st[1] == 7);
    CHECK_STATUS(ff_scorer_progress(NULL, NULL, NULL, NULL, NULL), FF_E_INVALID_ARGUMENT);
    /* no files: nothing to do */
    CHECK_OK(ff_scorer_score_files(s, NULL, 0, 0, NULL, 0, scores, st));

    ff_scorer_destroy(s);
    ff_flow_destroy(flow);
    ff_backbone_destroy(bb);
    return ff_test_finish();
}
