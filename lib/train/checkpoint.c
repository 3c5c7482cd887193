/* Trainer checkpoints: the whole state of an ff_trainer (parameters,
 * Adam's moments and step count, epoch and batch position with the
 * current epoch's shuffled order, the shuffling generator, the settings)
 * in a safetensors file, so that a run stopped at any batch and resumed
 * trains exactly as one that was never stopped.
 *
 * Tensors: params, adam.m, adam.v (F32 [num_params]); order (I32
 * [epoch_images], only in the middle of an epoch); ema (F32 [num_params],
 * the moving average, only with FF_TRAINER_EMA_DECAY > 0 after the first
 * epoch). Metadata (all strings):
 *   format = "libfastflow-trainer-checkpoint", checkpoint.version = "1"
 *   (or "2" with the moving average on, which adds ema_decay_bits and
 *   ema_decay: a trainer without the average writes the same files as
 *   before it existed, and a reader of version 1 refuses an averaged run
 *   instead of dropping its average),
 *   backbone.arch, num_params, num_images, data_fingerprint and
 *   flow_fingerprint (FNV-1a 64 in hex: the added images' pre-processed
 *   inputs; the starting flow's parameters and permutations), epoch,
 *   batch_in_epoch, steps, in_epoch, epoch_images, batch_size, seed, rng
 *   (4 x 16 hex digits), lr_bits / weight_decay_bits (float bits in hex;
 *   lr / weight_decay repeat them readably), epoch_loss_sum_bits (double
 *   bits), checksum (FNV-1a 64 over the tensors' bytes, in the order
 *   above, which the safetensors layer does not check), and precision =
 *   "bf16" for a run with bf16 convolutions (absent: fp32, so fp32 runs
 *   write the same files as before bf16 training existed). A restore
 *   refuses a file of the other precision instead of switching the
 *   trainer's: the caller chose it, and a silent switch would change
 *   what the resumed run computes.
 * Written with the library's atomic writer (temporary file, fsync,
 * rename): an interrupted save leaves the previous checkpoint as it was.
 * Restoring validates everything before it changes the trainer. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/bits.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/params.h"
#include "flow/flow_internal.h"
#include "tensor/safetensors.h"
#include "train/trainer_state.h"

#define CKPT_FORMAT "libfastflow-trainer-checkpoint"
#define CKPT_VERSION "1"
#define CKPT_VERSION_EMA "2" /* version 1 + the moving average */

static uint64_t flow_fingerprint(const ff_flow *f) {
    uint64_t h = ff_fnv1a64(FF_FNV_OFFSET, f->params, f->layout.num_params * sizeof(float));
    return ff_fnv1a64(h, f->perms, f->layout.num_perm * sizeof(int32_t));
}

/* ema: the moving average when the file holds it, else NULL */
static uint64_t tensors_checksum(const ff_trainer_state *s, const int32_t *order, int64_t n_order, const float *ema) {
    size_t bytes = s->num_params * sizeof(float);
    uint64_t h = ff_fnv1a64(FF_FNV_OFFSET, s->params, bytes);
    h = ff_fnv1a64(h, s->m, bytes);
    h = ff_fnv1a64(h, s->v, bytes);
    if (order) h = ff_fnv1a64(h, order, (size_t)n_order * sizeof(int32_t));
    if (ema) h = ff_fnv1a64(h, ema, bytes);
    return h;
}

static ff_status meta_i64(ff_st_writer *w, const char *key, int64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRId64, v);
    return ff_st_writer_set_meta(w, key, buf);
}

static ff_status meta_hex(ff_st_writer *w, const char *key, uint64_t v, int digits) {
    char buf[32];
    snprintf(buf, sizeof buf, "%0*" PRIx64, digits, v);
    return ff_st_writer_set_meta(w, key, buf);
}

static ff_status write_meta(ff_st_writer *w, const ff_trainer_state *s, uint64_t checksum) {
    char buf[96];
    const int ema_on = *s->ema_decay > 0.0f;
    ff_status st = ff_st_writer_set_meta(w, "format", CKPT_FORMAT);
    if (st == FF_OK) st = ff_st_writer_set_meta(w, "checkpoint.version", ema_on ? CKPT_VERSION_EMA : CKPT_VERSION);
    if (st == FF_OK) st = ff_st_writer_set_meta(w, "backbone.arch", ff_backbone_arch(s->flow->backbone));
    if (st == FF_OK) st = meta_i64(w, "num_params", (int64_t)s->num_params);
    if (st == FF_OK) st = meta_i64(w, "num_images", s->num_images);
    if (st == FF_OK) st = meta_hex(w, "data_fingerprint", s->data_hash, 16);
    if (st == FF_OK) st = meta_hex(w, "flow_fingerprint", flow_fingerprint(s->flow), 16);
    if (st == FF_OK) st = meta_i64(w, "epoch", *s->epoch);
    if (st == FF_OK) st = meta_i64(w, "batch_in_epoch", *s->batch_in_epoch);
    if (st == FF_OK) st = meta_i64(w, "steps", *s->steps);
    if (st == FF_OK) st = meta_i64(w, "in_epoch", *s->in_epoch);
    if (st == FF_OK) st = meta_i64(w, "epoch_images", *s->in_epoch ? *s->epoch_images : 0);
    if (st == FF_OK) st = meta_i64(w, "batch_size", *s->batch_size);
    if (st == FF_OK) st = meta_i64(w, "seed", *s->seed);
    snprintf(buf, sizeof buf, "%016" PRIx64 "%016" PRIx64 "%016" PRIx64 "%016" PRIx64, s->rng->s[0], s->rng->s[1],
             s->rng->s[2], s->rng->s[3]);
    if (st == FF_OK) st = ff_st_writer_set_meta(w, "rng", buf);
    if (st == FF_OK) st = meta_hex(w, "lr_bits", ff_f32_bits(*s->lr), 8);
    if (st == FF_OK) st = meta_hex(w, "weight_decay_bits", ff_f32_bits(*s->weight_decay), 8);
    snprintf(buf, sizeof buf, "%.9g", (double)*s->lr);
    if (st == FF_OK) st = ff_st_writer_set_meta(w, "lr", buf);
    snprintf(buf, sizeof buf, "%.9g", (double)*s->weight_decay);
    if (st == FF_OK) st = ff_st_writer_set_meta(w, "weight_decay", buf);
    if (st == FF_OK) st = meta_hex(w, "epoch_loss_sum_bits", ff_f64_bits(*s->epoch_loss_sum), 16);
    if (st == FF_OK && ema_on) st = meta_hex(w, "ema_decay_bits", ff_f32_bits(*s->ema_decay), 8);
    snprintf(buf, sizeof buf, "%.9g", (double)*s->ema_decay);
    if (st == FF_OK && ema_on) st = ff_st_writer_set_meta(w, "ema_decay", buf);
    if (st == FF_OK && s->bf16) st = ff_st_writer_set_meta(w, "precision", "bf16");
    if (st == FF_OK) st = meta_hex(w, "checksum", checksum, 16);
    return st;
}

static ff_status locked_trainer_save_checkpoint(const ff_trainer *trainer, const char *path) {
    ff_clear_error();
    FF_CHECK_ARG(trainer != NULL, "trainer is NULL");
    FF_CHECK_ARG(path != NULL && path[0] != '\0', "path is NULL or empty");
    ff_trainer_state s;
    ff_trainer_state_of((ff_trainer *)(uintptr_t)trainer, &s);
    const int32_t *order = *s.in_epoch ? *s.order : NULL;
    int64_t n_order = *s.in_epoch ? *s.epoch_images : 0;
    const float *ema = ff_trainer_has_ema(*s.ema_decay, *s.epoch) ? *s.ema : NULL;
    ff_st_writer *w = NULL;
    FF_TRY(ff_st_writer_create(&w));
    int64_t shape = (int64_t)s.num_params;
    ff_status st = ff_st_writer_add_f32(w, "params", 1, &shape, s.params);
    if (st == FF_OK) st = ff_st_writer_add_f32(w, "adam.m", 1, &shape, s.m);
    if (st == FF_OK) st = ff_st_writer_add_f32(w, "adam.v", 1, &shape, s.v);
    if (st == FF_OK && order) st = ff_st_writer_add(w, "order", FF_DT_I32, 1, &n_order, order);
    if (st == FF_OK && ema) st = ff_st_writer_add_f32(w, "ema", 1, &shape, ema);
    if (st == FF_OK) st = write_meta(w, &s, tensors_checksum(&s, order, n_order, ema));
    if (st == FF_OK) st = ff_st_writer_save(w, path);
    ff_st_writer_destroy(w);
    if (st != FF_OK) return ff_fail_context(st, "saving the trainer checkpoint '%s'", path);
    return FF_OK;
}

ff_status ff_trainer_save_checkpoint(const ff_trainer *trainer, const char *path) {
    ff_clear_error();
    FF_CHECK_ARG(trainer != NULL, "trainer is NULL");
    FF_TRY(ff_trainer_busy_enter(trainer));
    ff_status busy_st = locked_trainer_save_checkpoint(trainer, path);
    ff_trainer_busy_leave(trainer);
    return busy_st;
}

/* ------------------------------------------------------------- restore -- */

/* Everything a checkpoint sets, parsed and checked before any of it is applied. */
typedef struct {
    int64_t epoch, batch_in_epoch, steps, in_epoch, epoch_images, batch_size, seed;
    ff_rng rng;
    float lr, weight_decay, ema_decay;
    double loss_sum;
    float *params, *m, *v;
    float *ema; /* ff_alloc'd when ema_decay > 0 (holding the average when the file has one) */
    int32_t *order;
} parsed;

static ff_status need_meta(const ff_st_file *f, const char *key, const char **out) {
    *out = ff_st_meta(f, key);
    if (*out == NULL) return ff_fail(FF_E_BAD_FORMAT, "metadata '%s' is missing", key);
    return FF_OK;
}

static ff_status meta_int(const ff_st_file *f, const char *key, int64_t lo, int64_t hi, int64_t *out) {
    const char *v;
    FF_TRY(need_meta(f, key, &v));
    char *end = NULL;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end != '\0' || x < lo || x > hi)
        return ff_fail(FF_E_BAD_FORMAT, "metadata '%s' = '%s' is not an integer in [%lld, %lld]", key, v,
                       (long long)lo, (long long)hi);
    *out = x;
    return FF_OK;
}

static ff_status hex_digits(const char *key, const char *v, int digits, uint64_t *out, int count) {
    if (strlen(v) != (size_t)(digits * count))
        return ff_fail(FF_E_BAD_FORMAT, "metadata '%s' is not %d hex digits", key, digits * count);
    for (int k = 0; k < count; k++) {
        uint64_t x = 0;
        for (int i = 0; i < digits; i++) {
            char c = v[k * digits + i];
            int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
            if (d < 0) return ff_fail(FF_E_BAD_FORMAT, "metadata '%s' is not %d hex digits", key, digits * count);
            x = x << 4 | (uint64_t)d;
        }
        out[k] = x;
    }
    return FF_OK;
}

static ff_status meta_hex_get(const ff_st_file *f, const char *key, int digits, uint64_t *out) {
    const char *v;
    FF_TRY(need_meta(f, key, &v));
    return hex_digits(key, v, digits, out, 1);
}

/* *version receives 1 or 2 */
static ff_status check_identity(const ff_st_file *f, const ff_trainer_state *s, int *version) {
    const char *v;
    FF_TRY(need_meta(f, "format", &v));
    if (strcmp(v, CKPT_FORMAT) != 0)
        return ff_fail(FF_E_BAD_FORMAT, "not a libfastflow trainer checkpoint (format '%s')", v);
    FF_TRY(need_meta(f, "checkpoint.version", &v));
    if (strcmp(v, CKPT_VERSION) != 0 && strcmp(v, CKPT_VERSION_EMA) != 0)
        return ff_fail(FF_E_UNSUPPORTED,
                       "checkpoint version '%s' (this library reads versions " CKPT_VERSION " and " CKPT_VERSION_EMA ")",
                       v);
    *version = strcmp(v, CKPT_VERSION) == 0 ? 1 : 2;
    FF_TRY(need_meta(f, "backbone.arch", &v));
    const char *arch = ff_backbone_arch(s->flow->backbone);
    int64_t np = 0, ni = 0;
    uint64_t flow_fp = 0, data_fp = 0;
    FF_TRY(meta_int(f, "num_params", 0, INT64_MAX, &np));
    FF_TRY(meta_hex_get(f, "flow_fingerprint", 16, &flow_fp));
    if (strcmp(v, arch) != 0 || np != (int64_t)s->num_params || flow_fp != flow_fingerprint(s->flow))
        return ff_fail(FF_E_STATE,
                       "the checkpoint belongs to another flow (%s, %lld parameters, start %016" PRIx64
                       "; this trainer: %s, %zu, %016" PRIx64 "): create the trainer from the same flow "
                       "(backbone, flow options and seed) as the interrupted run",
                       v, (long long)np, flow_fp, arch, s->num_params, flow_fingerprint(s->flow));
    FF_TRY(meta_int(f, "num_images", 0, INT64_MAX, &ni));
    FF_TRY(meta_hex_get(f, "data_fingerprint", 16, &data_fp));
    if (ni != s->num_images || data_fp != s->data_hash)
        return ff_fail(FF_E_STATE,
                       "the checkpoint was trained on other images (%lld images, fingerprint %016" PRIx64
                       "; this trainer has %lld, %016" PRIx64 "): add the same images in the same order as "
                       "the interrupted run before restoring",
                       (long long)ni, data_fp, (long long)s->num_images, s->data_hash);
    const char *prec = ff_st_meta(f, "precision");
    if (prec && strcmp(prec, "bf16") != 0)
        return ff_fail(FF_E_BAD_FORMAT, "metadata 'precision' is '%s', expected 'bf16' or absent (fp32)", prec);
    const int file_bf16 = prec != NULL;
    if (file_bf16 != s->bf16)
        return ff_fail(FF_E_STATE,
                       "the checkpoint was trained with %s convolutions and this trainer uses %s: set "
                       "FF_TRAINER_PRECISION (fastflow train --precision) to %s to resume it",
                       file_bf16 ? "bf16" : "fp32", s->bf16 ? "bf16" : "fp32", file_bf16 ? "bf16" : "fp32");
    return FF_OK;
}

static ff_status read_counters(const ff_st_file *f, const ff_trainer_state *s, int version, parsed *p) {
    FF_TRY(meta_int(f, "epoch", 0, INT64_MAX, &p->epoch));
    FF_TRY(meta_int(f, "steps", 0, INT64_MAX, &p->steps));
    FF_TRY(meta_int(f, "in_epoch", 0, 1, &p->in_epoch));
    FF_TRY(meta_int(f, "batch_size", 1, 4096, &p->batch_size));
    FF_TRY(meta_int(f, "seed", INT64_MIN, INT64_MAX, &p->seed));
    FF_TRY(meta_int(f, "epoch_images", 0, p->in_epoch ? s->num_images : 0, &p->epoch_images));
    int64_t batches = p->in_epoch ? (p->epoch_images + p->batch_size - 1) / p->batch_size : 1;
    FF_TRY(meta_int(f, "batch_in_epoch", p->in_epoch ? 1 : 0, p->in_epoch ? batches - 1 : 0, &p->batch_in_epoch));
    if (p->in_epoch && p->epoch_images != s->num_images)
        return ff_fail(FF_E_BAD_FORMAT, "epoch_images %lld differs from num_images %lld", (long long)p->epoch_images,
                       (long long)s->num_images);
    const char *v;
    FF_TRY(need_meta(f, "rng", &v));
    FF_TRY(hex_digits("rng", v, 16, p->rng.s, 4));
    uint64_t bits = 0;
    FF_TRY(meta_hex_get(f, "lr_bits", 8, &bits));
    p->lr = ff_bits_f32((uint32_t)bits);
    FF_TRY(meta_hex_get(f, "weight_decay_bits", 8, &bits));
    p->weight_decay = ff_bits_f32((uint32_t)bits);
    FF_TRY(meta_hex_get(f, "epoch_loss_sum_bits", 16, &bits));
    p->loss_sum = ff_bits_f64(bits);
    if (!(isfinite(p->lr) && p->lr > 0.0f && p->lr <= 1.0f) ||
        !(isfinite(p->weight_decay) && p->weight_decay >= 0.0f && p->weight_decay <= 1.0f) ||
        !isfinite(p->loss_sum))
        return ff_fail(FF_E_BAD_FORMAT, "learning rate, weight decay or loss sum out of range");
    p->ema_decay = 0.0f; /* version 1: no average */
    if (version >= 2) {
        FF_TRY(meta_hex_get(f, "ema_decay_bits", 8, &bits));
        p->ema_decay = ff_bits_f32((uint32_t)bits);
        if (ff_param_set_check_f32(FF_OBJECT_TRAINER, FF_TRAINER_EMA_DECAY, p->ema_decay) != FF_OK)
            return ff_fail(FF_E_BAD_FORMAT, "metadata 'ema_decay_bits' is not an EMA decay in [0, 0.999]");
    }
    return FF_OK;
}

static ff_status read_tensors(const ff_st_file *f, const ff_trainer_state *s, parsed *p) {
    int64_t shape = (int64_t)s->num_params;
    p->params = malloc(s->num_params * sizeof(float));
    p->m = malloc(s->num_params * sizeof(float));
    p->v = malloc(s->num_params * sizeof(float));
    if (!p->params || !p->m || !p->v) return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate the checkpoint's state");
    FF_TRY(ff_st_read_f32(f, "params", 1, &shape, p->params));
    FF_TRY(ff_st_read_f32(f, "adam.m", 1, &shape, p->m));
    FF_TRY(ff_st_read_f32(f, "adam.v", 1, &shape, p->v));
    if (p->in_epoch) {
        const ff_st_tensor *t = ff_st_find(f, "order");
        if (t == NULL || t->dtype != FF_DT_I32 || t->ndim != 1 || t->shape[0] != p->epoch_images)
            return ff_fail(FF_E_BAD_FORMAT, "tensor 'order' missing or not I32 [%lld]", (long long)p->epoch_images);
        p->order = malloc((size_t)p->epoch_images * sizeof(int32_t) + 1);
        uint8_t *seen = calloc((size_t)p->epoch_images + 1, 1);
        if (!p->order || !seen) {
            free(seen);
            return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate the checkpoint's order");
        }
        memcpy(p->order, t->data, t->nbytes);
        for (int64_t i = 0; i < p->epoch_images; i++) {
            int32_t k = p->order[i];
            if (k < 0 || k >= p->epoch_images || seen[k]) {
                free(seen);
                return ff_fail(FF_E_BAD_FORMAT, "tensor 'order' is not a permutation of the images");
            }
            seen[k] = 1;
        }
        free(seen);
    }
    if (p->ema_decay > 0.0f) {
        /* the trainer's buffer to be, also when the file has no average yet */
        FF_TRY(ff_alloc_floats(s->num_params, "moving average of the parameters", &p->ema));
        if (ff_trainer_has_ema(p->ema_decay, p->epoch)) FF_TRY(ff_st_read_f32(f, "ema", 1, &shape, p->ema));
    }
    uint64_t sum = 0;
    FF_TRY(meta_hex_get(f, "checksum", 16, &sum));
    ff_trainer_state got = *s;
    got.params = p->params;
    got.m = p->m;
    got.v = p->v;
    if (tensors_checksum(&got, p->order, p->epoch_images, ff_trainer_has_ema(p->ema_decay, p->epoch) ? p->ema : NULL) != sum)
        return ff_fail(FF_E_BAD_FORMAT, "checksum mismatch: the checkpoint's tensors are corrupt");
    return FF_OK;
}

static ff_status parse(const ff_st_file *f, const ff_trainer_state *s, parsed *p) {
    int version = 0;
    FF_TRY(check_identity(f, s, &version));
    FF_TRY(read_counters(f, s, version, p));
    return read_tensors(f, s, p);
}

static ff_status locked_trainer_restore_checkpoint(ff_trainer *trainer, const char *path) {
    ff_clear_error();
    FF_CHECK_ARG(trainer != NULL, "trainer is NULL");
    FF_CHECK_ARG(path != NULL && path[0] != '\0', "path is NULL or empty");
    ff_trainer_state s;
    ff_trainer_state_of(trainer, &s);
    ff_st_file *f = NULL;
    parsed p = {0};
    ff_status st = ff_st_open(path, &f);
    if (st == FF_OK) st = parse(f, &s, &p);
    if (st == FF_OK && p.in_epoch && *s.order_cap < p.epoch_images) {
        int32_t *o = realloc(*s.order, (size_t)p.epoch_images * sizeof(int32_t));
        if (o == NULL) st = ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate the shuffle order");
        else {
            *s.order = o;
            *s.order_cap = p.epoch_images;
        }
    }
    if (st == FF_OK) {
        memcpy(s.params, p.params, s.num_params * sizeof(float));
        memcpy(s.m, p.m, s.num_params * sizeof(float));
        memcpy(s.v, p.v, s.num_params * sizeof(float));
        if (p.in_epoch) memcpy(*s.order, p.order, (size_t)p.epoch_images * sizeof(int32_t));
        *s.epoch = p.epoch;
        *s.batch_in_epoch = p.batch_in_epoch;
        *s.steps = p.steps;
        *s.in_epoch = (int32_t)p.in_epoch;
        *s.epoch_images = p.epoch_images;
        *s.batch_size = (int32_t)p.batch_size;
        *s.seed = p.seed;
        *s.rng = p.rng;
        *s.lr = p.lr;
        *s.weight_decay = p.weight_decay;
        *s.epoch_loss_sum = p.loss_sum;
        *s.ema_decay = p.ema_decay;
        if (p.ema) { /* the trainer takes the parsed buffer; its old one (if any) is freed below */
            float *old = *s.ema;
            *s.ema = p.ema;
            p.ema = old;
        }
    }
    free(p.params);
    free(p.m);
    free(p.v);
    ff_free(p.ema);
    free(p.order);
    ff_st_close(f);
    if (st != FF_OK) return ff_fail_context(st, "restoring the trainer checkpoint '%s'", path);
    return FF_OK;
}

ff_status ff_trainer_restore_checkpoint(ff_trainer *trainer, const char *path) {
    ff_clear_error();
    FF_CHECK_ARG(trainer != NULL, "trainer is NULL");
    FF_TRY(ff_trainer_busy_enter(trainer));
    ff_status busy_st = locked_trainer_restore_checkpoint(trainer, path);
    ff_trainer_busy_leave(trainer);
    return busy_st;
}
