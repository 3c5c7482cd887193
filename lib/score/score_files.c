/* ff_scorer_score_files: many encoded files through one scorer, with
 * reading, decoding and pre-processing on helper threads overlapped with
 * the network.
 *
 * Files go in batches of FF_SCORER_BATCH. Two batches of input slots take
 * turns: while the calling thread runs the network on batch k (slot set
 * k % 2), the decoding threads fill batch k + 1 (the other set); a thread
 * that has claimed a file of batch k + 2 waits until batch k is finished.
 * Files are claimed in order from one counter, so every file lands in a
 * fixed slot, and results do not depend on the number of threads or on
 * timing: each image goes through the same pre-processing and the network
 * gives the same map for an image whatever the batch (test_scorer), so the
 * results equal one-by-one ff_scorer_score_file bit for bit.
 *
 * A file that cannot be read or decoded gets its status and the others go
 * on. If the network fails on a batch (e.g. FF_E_NUMERIC on one image), its
 * images are run one by one so that only the culprit fails. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/error.h"
#include "core/memory.h"
#include "core/settings.h"
#include "score/scorer_internal.h"

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void ff_files_state_free(ff_files_state *f) {
    ff_free(f->slots);
    for (int32_t i = 0; i < f->decoders_count; i++) ff_image_buffer_free(&f->decoders[i]);
    free(f->decoders);
    free(f->paths);
    f->paths = NULL;
    f->paths_cap = 0;
    f->slots = NULL;
    f->decoders = NULL;
    f->slots_cap = 0;
    f->decoders_count = 0;
}

typedef struct job {
    ff_scorer *s;
    ff_files_state *f;
    const char *const *paths;
    size_t count;
    int32_t batch;
    size_t per_input; /* floats per pre-processed image */
    int32_t h, w;
    pthread_mutex_t mu;
    pthread_cond_t filled;   /* a slot was filled */
    pthread_cond_t released; /* a batch was finished by the network */
    size_t next;             /* next file to claim */
    size_t finished;         /* batches the network is done with */
    int32_t ready[2];        /* slots filled per set */
} job;

static float *slot_input(job *j, size_t i) {
    size_t set = (i / (size_t)j->batch) % 2, pos = i % (size_t)j->batch;
    return j->f->slots + (set * (size_t)j->batch + pos) * j->per_input;
}
static int32_t *slot_status(job *j, size_t i) {
    size_t set = (i / (size_t)j->batch) % 2, pos = i % (size_t)j->batch;
    return &j->f->slot_status[set * (size_t)j->batch + pos];
}

/* Reads, decodes and pre-processes file i into its slot. */
static void fill(job *j, ff_image_buffer *b, size_t i) {
    ff_status st = ff_image_file_to_input(b, j->paths[i], j->w, j->h, slot_input(j, i));
    *slot_status(j, i) = st;
}

/* Claims files in order and fills their slots; waits while a file's slot
 * set still holds a batch the network has not finished. */
static void decode_loop(job *j, ff_image_buffer *b) {
    pthread_mutex_lock(&j->mu);
    for (;;) {
        size_t i = j->next;
        if (i >= j->count) break;
        size_t k = i / (size_t)j->batch;
        if (k >= j->finished + 2) {
            pthread_cond_wait(&j->released, &j->mu);
            continue;
        }
        j->next++;
        pthread_mutex_unlock(&j->mu);
        fill(j, b, i);
        pthread_mutex_lock(&j->mu);
        j->ready[k % 2]++;
        pthread_cond_broadcast(&j->filled);
    }
    pthread_mutex_unlock(&j->mu);
}

typedef struct worker {
    job *j;
    ff_image_buffer *b;
} worker;

static void *worker_main(void *arg) {
    worker *w = arg;
    decode_loop(w->j, w->b);
    return NULL;
}

/* Network and outputs for batch k, whose slots are all filled. */
static void run_batch(job *j, size_t k, float *maps_out, float *scores_out, int32_t *statuses_out) {
    ff_files_progress *p = &j->f->progress;
    size_t first = k * (size_t)j->batch, n = j->count - first;
    if (n > (size_t)j->batch) n = (size_t)j->batch;
    size_t map_size = (size_t)j->h * (size_t)j->w;
    /* the decoded images, packed to the front of the set in file order */
    float *base = slot_input(j, first);
    size_t idx[FF_SCORER_CHUNK], ok = 0;
    for (size_t t = 0; t < n; t++) {
        size_t i = first + t;
        int32_t st = *slot_status(j, i);
        statuses_out[i] = st;
        if (st != FF_OK) continue;
        if (ok != t) memmove(base + ok * j->per_input, slot_input(j, i), j->per_input * sizeof(float));
        idx[ok++] = i;
    }
    if (ok > 0 && ff_scorer_run(j->s, base, (int32_t)ok) == FF_OK) {
        for (size_t t = 0; t < ok; t++)
            ff_scorer_finish_one(j->s, (int32_t)t, idx[t], maps_out ? maps_out + idx[t] * map_size : NULL,
                                 &scores_out[idx[t]]);
    } else {
        for (size_t t = 0; t < ok; t++) {
            ff_status st = ff_scorer_run(j->s, base + t * j->per_input, 1);
            statuses_out[idx[t]] = st;
            if (st == FF_OK)
                ff_scorer_finish_one(j->s, 0, idx[t], maps_out ? maps_out + idx[t] * map_size : NULL,
                                     &scores_out[idx[t]]);
        }
    }
    int64_t failed = 0;
    for (size_t t = 0; t < n; t++) failed += statuses_out[first + t] != FF_OK;
    /* done before failed, and ff_scorer_progress reads them the other way
     * round, so that a reader never sees more failures than files done */
    atomic_fetch_add(&p->done, (int64_t)n);
    atomic_fetch_add(&p->failed, failed);
}

static ff_status grow_state(ff_files_state *f, int32_t batch, size_t per_input, int32_t threads) {
    size_t floats;
    if (!ff_mul_size(2 * (size_t)batch, per_input, &floats))
        return ff_fail(FF_E_INVALID_ARGUMENT, "input slots overflow");
    FF_TRY(ff_grow_floats(&f->slots, &f->slots_cap, floats, "input slots"));
    if (threads > f->decoders_count) {
        ff_image_buffer *d = realloc(f->decoders, (size_t)threads * sizeof *d);
        if (!d) return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate decoders");
        for (int32_t i = f->decoders_count; i < threads; i++) d[i] = (ff_image_buffer){0};
        f->decoders = d;
        f->decoders_count = threads;
    }
    return FF_OK;
}

/* Splits `bytes` bytes of back-to-back NUL-terminated paths into count
 * pointers (f->paths, grown as needed). */
static ff_status split_paths(ff_files_state *f, const char *paths, size_t bytes, size_t count) {
    if (count > f->paths_cap) {
        const char **p = realloc(f->paths, count * sizeof *p);
        if (!p) return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate %zu path pointers", count);
        f->paths = p;
        f->paths_cap = count;
    }
    size_t at = 0;
    for (size_t i = 0; i < count; i++) {
        const char *end = at < bytes ? memchr(paths + at, '\0', bytes - at) : NULL;
        if (!end)
            return ff_fail(FF_E_INVALID_ARGUMENT, "paths holds %zu NUL-terminated paths in its %zu bytes; count is %zu",
                           i, bytes, count);
        if (end == paths + at) return ff_fail(FF_E_INVALID_ARGUMENT, "path %zu is empty", i);
        f->paths[i] = paths + at;
        at = (size_t)(end - paths) + 1;
    }
    if (at != bytes)
        return ff_fail(FF_E_INVALID_ARGUMENT, "paths has %zu bytes after its %zu paths", bytes - at, count);
    return FF_OK;
}

static ff_status locked_scorer_score_files(ff_scorer *s, const char *paths, size_t paths_bytes, size_t count, float *maps_out,
                                size_t maps_capacity, float *scores_out, int32_t *statuses_out) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "scorer is NULL");
    FF_CHECK_ARG(paths != NULL || (paths_bytes == 0 && count == 0), "paths is NULL");
    FF_CHECK_ARG(scores_out != NULL && statuses_out != NULL, "scores_out or statuses_out is NULL");
    FF_TRY(split_paths(ff_scorer_files(s), paths, paths_bytes, count));
    ff_files_state *f = ff_scorer_files(s);
    job j = {.s = s, .f = f, .paths = f->paths, .count = count, .batch = f->batch};
    ff_scorer_model_size(s, &j.w, &j.h);
    size_t map_size = (size_t)j.h * (size_t)j.w, need;
    if (!ff_mul_size(map_size, count, &need)) return ff_fail(FF_E_INVALID_ARGUMENT, "%zu maps overflow", count);
    if (maps_out != NULL && maps_capacity < need)
        return ff_fail(FF_E_BUFFER_TOO_SMALL, "maps buffer holds %zu floats; %zu maps of %dx%d need %zu",
                       maps_capacity, count, (int)j.h, (int)j.w, need);
    j.per_input = 3 * map_size;
    int32_t threads = f->jobs;
    FF_TRY(grow_state(f, j.batch, j.per_input, threads > 0 ? threads : 1));
    FF_TRY(ff_scorer_begin(s, count));
    ff_files_progress *p = &f->progress;
    atomic_store(&p->failed, 0);
    atomic_store(&p->done, 0);
    atomic_store(&p->end_ns, 0);
    atomic_store(&p->start_ns, now_ns());
    atomic_store(&p->total, (int64_t)count);

    ff_threads_scope ts = ff_threads_enter(ff_scorer_num_threads(s));
    pthread_mutex_init(&j.mu, NULL);
    pthread_cond_init(&j.filled, NULL);
    pthread_cond_init(&j.released, NULL);
    pthread_t tid[FF_SCORER_MAX_DECODE_THREADS];
    worker wk[FF_SCORER_MAX_DECODE_THREADS];
    int32_t started = 0;
    for (int32_t t = 0; t < threads; t++) {
        wk[t] = (worker){&j, &f->decoders[t]};
        if (pthread_create(&tid[t], NULL, worker_main, &wk[t]) != 0) break;
        started++;
    }
    size_t batches = (count + (size_t)j.batch - 1) / (size_t)j.batch;
    for (size_t k = 0; k < batches; k++) {
        size_t n = count - k * (size_t)j.batch;
        if (n > (size_t)j.batch) n = (size_t)j.batch;
        if (started == 0) {
            /* no helper threads (FF_SCORER_DECODE_THREADS 0, or none could
             * start): decode here, then run */
            for (size_t t = 0; t < n; t++) fill(&j, ff_scorer_image_buffer(s), k * (size_t)j.batch + t);
        } else {
            pthread_mutex_lock(&j.mu);
            while ((size_t)j.ready[k % 2] < n) pthread_cond_wait(&j.filled, &j.mu);
            pthread_mutex_unlock(&j.mu);
        }
        run_batch(&j, k, maps_out, scores_out, statuses_out);
        pthread_mutex_lock(&j.mu);
        j.ready[k % 2] = 0;
        j.finished++;
        pthread_cond_broadcast(&j.released);
        pthread_mutex_unlock(&j.mu);
    }
    for (int32_t t = 0; t < started; t++) pthread_join(tid[t], NULL);
    pthread_cond_destroy(&j.released);
    pthread_cond_destroy(&j.filled);
    pthread_mutex_destroy(&j.mu);
    ff_threads_leave(ts);
    atomic_store(&p->end_ns, now_ns());
    ff_scorer_end(s, count);
    return FF_OK;
}

ff_status ff_scorer_score_files(ff_scorer *s, const char *paths, size_t paths_bytes, size_t count, float *maps_out,
                                size_t maps_capacity, float *scores_out, int32_t *statuses_out) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "scorer is NULL");
    FF_TRY(ff_scorer_busy_enter(s));
    ff_status st = locked_scorer_score_files(s, paths, paths_bytes, count, maps_out, maps_capacity, scores_out, statuses_out);
    ff_scorer_busy_leave(s);
    return st;
}

ff_status ff_scorer_progress(const ff_scorer *s, int64_t *done_out, int64_t *total_out, int64_t *failed_out,
                             double *elapsed_seconds_out) {
    ff_clear_error();
    FF_CHECK_ARG(s != NULL, "scorer is NULL");
    ff_files_progress *p = &ff_scorer_files((ff_scorer *)(uintptr_t)s)->progress;
    int64_t start = atomic_load(&p->start_ns), end = atomic_load(&p->end_ns);
    int64_t failed = atomic_load(&p->failed), done = atomic_load(&p->done);
    if (done_out) *done_out = done;
    if (total_out) *total_out = atomic_load(&p->total);
    if (failed_out) *failed_out = failed;
    if (elapsed_seconds_out) *elapsed_seconds_out = start == 0 ? 0.0 : (double)((end ? end : now_ns()) - start) * 1e-9;
    return FF_OK;
}
