/* Misuse of one working object from several threads at once (issue 12
 * item 1): ff_scorer, ff_extractor and ff_trainer are for one thread at a
 * time, and a call that overlaps another on the same object must fail with
 * FF_E_STATE and a message saying what to do, touching nothing; the call
 * under way must finish with the right result. Without the busy flag,
 * threads sharing a scorer corrupt each other's buffers (wrong scores,
 * oneDNN errors, crashes under ASan).
 *
 *  - hammer: 8 threads share one scorer and score the same batch 25 times
 *    each; every call either succeeds with exactly the single-thread
 *    result or fails with FF_E_STATE (and its message);
 *  - overlap: while one thread runs a long call (a batch of 24 images, an
 *    epoch, a backbone batch), another polls the same object; the poller
 *    must see FF_E_STATE (retried over a few rounds, since a loaded machine
 *    may not schedule the poller during the call), its output untouched,
 *    and the long call's result is still exact. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "flow_testlib.h"
#include "test_util.h"

#define SIZE 64
#define HW (SIZE * SIZE)
#define NB 3
#define THREADS 8
#define ROUNDS 25

static ff_flow *g_flow;
static ff_scorer *g_shared;
static float g_input[NB * 3 * HW];
static float g_ref_scores[NB], g_ref_maps[NB * HW];
static float *g_long_ref; /* scores of the long scorer batch, one thread */
static atomic_int g_wrong, g_state, g_ok, g_other, g_bad_msg;
static pthread_barrier_t g_start;

static void *hammer(void *arg) {
    (void)arg;
    float *maps = malloc(sizeof(float) * NB * HW);
    float scores[NB];
    pthread_barrier_wait(&g_start);
    for (int r = 0; r < ROUNDS; r++) {
        ff_status st = ff_scorer_score_tensor(g_shared, g_input, NB, maps, NB * HW, scores, NB);
        if (st == FF_OK) {
            atomic_fetch_add(&g_ok, 1);
            if (memcmp(scores, g_ref_scores, sizeof scores) != 0 || memcmp(maps, g_ref_maps, sizeof(float) * NB * HW) != 0)
                atomic_fetch_add(&g_wrong, 1);
        } else if (st == FF_E_STATE) {
            atomic_fetch_add(&g_state, 1);
            if (!strstr(ff_last_error_message(), "one scorer per thread")) atomic_fetch_add(&g_bad_msg, 1);
        } else {
            atomic_fetch_add(&g_other, 1);
            fprintf(stderr, "hammer: unexpected status %d: %s\n", (int)st, ff_last_error_message());
        }
    }
    free(maps);
    return NULL;
}

static void test_hammer(void) {
    CHECK_OK(ff_scorer_create(g_flow, &g_shared));
    CHECK_OK(ff_scorer_score_tensor(g_shared, g_input, NB, g_ref_maps, NB * HW, g_ref_scores, NB));
    pthread_t tid[THREADS];
    pthread_barrier_init(&g_start, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) pthread_create(&tid[i], NULL, hammer, NULL);
    for (int i = 0; i < THREADS; i++) pthread_join(tid[i], NULL);
    pthread_barrier_destroy(&g_start);
    printf("hammer: %d calls succeeded, %d refused with FF_E_STATE\n", atomic_load(&g_ok), atomic_load(&g_state));
    CHECK(atomic_load(&g_ok) + atomic_load(&g_state) == THREADS * ROUNDS);
    CHECK(atomic_load(&g_ok) > 0);
    CHECK(atomic_load(&g_wrong) == 0);
    CHECK(atomic_load(&g_other) == 0);
    CHECK(atomic_load(&g_bad_msg) == 0);
    /* the scorer is intact afterwards */
    float scores[NB];
    CHECK_OK(ff_scorer_score_tensor(g_shared, g_input, NB, NULL, 0, scores, NB));
    CHECK(memcmp(scores, g_ref_scores, sizeof scores) == 0);
    ff_scorer_destroy(g_shared);
}

/* ------------------------------------------------------------ overlap -- */

typedef enum { OBJ_SCORER, OBJ_EXTRACTOR, OBJ_TRAINER } obj_kind;

typedef struct overlap {
    obj_kind kind;
    void *obj;
    const float *input; /* long call's input */
    int32_t batch;
    ff_status long_status;
    atomic_int done;
} overlap;

/* The long call, retried while the poller holds the object (a refusal is
 * the expected outcome for whichever call comes second). */
static ff_status long_call_once(overlap *o) {
    if (o->kind == OBJ_SCORER) {
        float *scores = malloc(sizeof(float) * (size_t)o->batch);
        ff_status st = ff_scorer_score_tensor(o->obj, o->input, o->batch, NULL, 0, scores, (size_t)o->batch);
        for (int32_t i = 0; i < o->batch && st == FF_OK; i++)
            if (scores[i] != g_long_ref[i]) st = -1;
        free(scores);
        return st;
    }
    if (o->kind == OBJ_EXTRACTOR) return ff_extractor_run(o->obj, o->input, o->batch, SIZE, SIZE);
    return ff_trainer_run_epoch(o->obj, NULL);
}

static void *long_call(void *arg) {
    overlap *o = arg;
    do o->long_status = long_call_once(o);
    while (o->long_status == FF_E_STATE && strstr(ff_last_error_message(), "in use by another thread"));
    atomic_store(&o->done, 1);
    return NULL;
}

/* One poll of the object; returns its status. The outputs must stay at
 * their sentinels when the call is refused. */
static ff_status poll_once(overlap *o, int *untouched) {
    ff_status st;
    if (o->kind == OBJ_SCORER) {
        int32_t v = -7;
        st = ff_scorer_get_i32(o->obj, FF_SCORER_MAP_SIZE, &v);
        *untouched = v == -7;
    } else if (o->kind == OBJ_EXTRACTOR) {
        float v = -7.0f;
        st = ff_extractor_read(o->obj, 0, &v, 1); /* refused before the size check */
        *untouched = v == -7.0f;
    } else {
        int64_t v = -7;
        st = ff_trainer_get_i64(o->obj, FF_TRAINER_EPOCH, &v);
        *untouched = v == -7;
    }
    return st;
}

static void run_overlap(obj_kind kind, void *obj, const float *input, int32_t batch, const char *advice) {
    int seen = 0, untouched_ok = 1, msg_ok = 1, long_ok = 1;
    for (int round = 0; round < 20 && !seen; round++) {
        overlap o = {kind, obj, input, batch, FF_OK, 0};
        pthread_t tid;
        pthread_create(&tid, NULL, long_call, &o);
        while (!atomic_load(&o.done)) {
            int untouched = 1;
            ff_status st = poll_once(&o, &untouched);
            if (st == FF_E_STATE) {
                seen = 1;
                untouched_ok &= untouched;
                msg_ok &= strstr(ff_last_error_message(), advice) != NULL &&
                          strstr(ff_last_error_message(), "in use by another thread") != NULL;
            }
        }
        pthread_join(tid, NULL);
        long_ok &= o.long_status == FF_OK;
    }
    printf("overlap (object kind %d): refused while busy: %s\n", (int)kind, seen ? "yes" : "no");
    CHECK(seen);
    CHECK(untouched_ok);
    CHECK(msg_ok);
    CHECK(long_ok);
}

static void test_overlap(const ff_backbone *bb) {
    enum { LONG = 24 };
    float *big = malloc(sizeof(float) * LONG * 3 * HW);
    for (int i = 0; i < LONG; i++) memcpy(big + (size_t)i * 3 * HW, g_input + (size_t)(i % NB) * 3 * HW, sizeof(float) * 3 * HW);

    ff_scorer *s = NULL;
    CHECK_OK(ff_scorer_create(g_flow, &s));
    g_long_ref = malloc(sizeof(float) * LONG);
    CHECK_OK(ff_scorer_score_tensor(s, big, LONG, NULL, 0, g_long_ref, LONG));
    run_overlap(OBJ_SCORER, s, big, LONG, "one scorer per thread");
    ff_scorer_destroy(s);

    ff_extractor *ex = NULL;
    CHECK_OK(ff_extractor_create(bb, &ex));
    CHECK_OK(ff_extractor_run(ex, big, 1, SIZE, SIZE)); /* readable: a refusal is the busy flag's */
    run_overlap(OBJ_EXTRACTOR, ex, big, LONG, "one extractor per thread");
    ff_extractor_destroy(ex);

    ff_trainer *t = NULL;
    CHECK_OK(ff_trainer_create(g_flow, &t));
    CHECK_OK(ff_trainer_set_i32(t, FF_TRAINER_BATCH_SIZE, 2));
    for (int i = 0; i < 6; i++) {
        uint8_t *img = ft_image(100 + (uint64_t)i, SIZE, SIZE, 0);
        CHECK_OK(ff_trainer_add_image(t, img, SIZE, SIZE, 0, FF_PIXEL_RGB8));
        free(img);
    }
    run_overlap(OBJ_TRAINER, t, NULL, 0, "serialise them with a lock");
    ff_trainer_destroy(t);
    free(big);
    free(g_long_ref);
}

int main(void) {
    ff_global_set_i64(FF_GLOBAL_NUM_THREADS, 1);
    ff_backbone *bb = ft_backbone(3);
    g_flow = bb ? ft_trained_flow(bb, SIZE) : NULL;
    CHECK(g_flow != NULL);
    if (!g_flow) return 1;
    for (int i = 0; i < NB; i++) {
        uint8_t *img = ft_image(10 + (uint64_t)i, 80, 70, i == 1);
        CHECK_OK(ff_image_preprocess(img, 80, 70, 0, FF_PIXEL_RGB8, SIZE, SIZE, g_input + (size_t)i * 3 * HW, 3 * HW));
        free(img);
    }
    test_hammer();
    test_overlap(bb);
    ff_flow_destroy(g_flow);
    ff_backbone_destroy(bb);
    return ff_test_finish();
}
