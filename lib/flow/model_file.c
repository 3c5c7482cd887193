/* Model files: one safetensors file per trained flow (docs/model-format.md).
 *
 *   __metadata__: format "libfastflow", format_version "1", backbone,
 *                 input_height, input_width, flow_steps, hidden_ratio,
 *                 conv3x3_only ("true"/"false"), clamp, seed, and the
 *                 score statistics when the flow has them (score.*; read
 *                 from anomalib.* keys of converted checkpoints too)
 *   tensors:      anomalib's FastflowModel state-dict names (flow_names.h),
 *                 plus feature_extractor.<backbone names> when embedded.
 *
 * w_perm is written as I64 [C] indices; the loader also takes anomalib's
 * dense one-hot [C, C, 1, 1] matrix. w_perm_inv is never written and
 * ignored when present. Loading is strict: every number in the metadata is
 * parsed whole and range-checked, every tensor must be present with its
 * exact shape and finite values, and tensors the metadata does not account
 * for are rejected (they mean the metadata and the weights disagree). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backbone/backbone.h"
#include "core/error.h"
#include "core/finite.h"
#include "core/memory.h"
#include "core/params.h"
#include "flow/flow_internal.h"
#include "flow/flow_names.h"
#include "tensor/safetensors.h"

#define FF_MODEL_FORMAT "libfastflow"
#define FF_MODEL_FORMAT_VERSION "1"
#define FF_BACKBONE_PREFIX "feature_extractor."

/* ---------------------------------------------------------------- save -- */

static ff_status set_meta_int(ff_st_writer *w, const char *key, long long v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%lld", v);
    return ff_st_writer_set_meta(w, key, buf);
}

static ff_status set_meta_float(ff_st_writer *w, const char *key, float v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%.9g", (double)v); /* 9 digits: round-trips a float */
    return ff_st_writer_set_meta(w, key, buf);
}

static ff_status fill_writer(const ff_flow *flow, ff_st_writer *w, int32_t embed, int64_t *scratch) {
    const ff_flow_layout *L = &flow->layout;
    FF_TRY(ff_st_writer_set_meta(w, "format", FF_MODEL_FORMAT));
    FF_TRY(ff_st_writer_set_meta(w, "format_version", FF_MODEL_FORMAT_VERSION));
    FF_TRY(ff_st_writer_set_meta(w, "backbone", ff_backbone_arch(flow->backbone)));
    FF_TRY(ff_backbone_write_meta(flow->backbone, w)); /* transformers' configuration; nothing for ResNets */
    FF_TRY(set_meta_int(w, "input_height", L->in_h));
    FF_TRY(set_meta_int(w, "input_width", L->in_w));
    FF_TRY(set_meta_int(w, "flow_steps", L->num_steps));
    FF_TRY(set_meta_float(w, "hidden_ratio", L->hidden_ratio));
    FF_TRY(ff_st_writer_set_meta(w, "conv3x3_only", L->conv3x3_only ? "true" : "false"));
    FF_TRY(set_meta_float(w, "clamp", L->clamp));
    FF_TRY(set_meta_int(w, "seed", (long long)flow->seed));
    if (flow->has_stats) {
        FF_TRY(set_meta_float(w, "score.image_threshold", flow->stats[FF_STAT_IMAGE_THRESHOLD - 1]));
        FF_TRY(set_meta_float(w, "score.pixel_threshold", flow->stats[FF_STAT_PIXEL_THRESHOLD - 1]));
        FF_TRY(set_meta_float(w, "score.min", flow->stats[FF_STAT_MIN - 1]));
        FF_TRY(set_meta_float(w, "score.max", flow->stats[FF_STAT_MAX - 1]));
        FF_TRY(ff_st_writer_set_meta(w, "score.source", flow->stats_source));
    }
    if (flow->training_record) FF_TRY(ff_st_writer_set_meta(w, "training", flow->training_record));
    if (embed) FF_TRY(ff_backbone_export_tensors(flow->backbone, w, FF_BACKBONE_PREFIX));
    size_t n = ff_flow_names_count(L);
    for (size_t i = 0; i < n; i++) {
        ff_flow_tensor_name t;
        FF_TRY(ff_flow_names_get(L, i, &t));
        if (t.kind == FF_FLOW_NAME_PARAM) {
            FF_TRY(ff_st_writer_add_f32(w, t.name, t.ndim, t.shape, flow->params + t.offset));
        } else if (t.kind == FF_FLOW_NAME_PERM) {
            int32_t c = L->level[t.level].c;
            for (int32_t j = 0; j < c; j++) scratch[j] = flow->perms[t.offset + (size_t)j];
            const int64_t shape[1] = {c};
            FF_TRY(ff_st_writer_add_i64(w, t.name, 1, shape, scratch));
        } /* w_perm_inv: derived, not written */
    }
    return FF_OK;
}

ff_status ff_flow_save(const ff_flow *flow, const char *path, int32_t embed_backbone) {
    ff_clear_error();
    FF_CHECK_ARG(flow != NULL, "flow is NULL");
    FF_CHECK_ARG(path != NULL && path[0] != '\0', "path is NULL or empty");
    FF_CHECK_ARG(embed_backbone == 0 || embed_backbone == 1, "embed_backbone must be 0 or 1, got %d",
                 (int)embed_backbone);
    int32_t maxc = 0;
    for (int32_t l = 0; l < flow->layout.num_levels; l++)
        if (flow->layout.level[l].c > maxc) maxc = flow->layout.level[l].c;
    int64_t *scratch = malloc(sizeof(int64_t) * (size_t)maxc);
    if (scratch == NULL) return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate while saving '%s'", path);
    ff_st_writer *w = NULL;
    ff_status st = ff_st_writer_create(&w);
    if (st == FF_OK) st = fill_writer(flow, w, embed_backbone, scratch);
    if (st == FF_OK) st = ff_st_writer_save(w, path);
    ff_st_writer_destroy(w);
    free(scratch);
    if (st != FF_OK) return ff_fail_context(st, "saving model '%s'", path);
    return FF_OK;
}

/* ---------------------------------------------------------------- load -- */

static ff_status meta_required(const ff_st_file *f, const char *key, const char **out) {
    const char *v = ff_st_meta(f, key);
    if (v == NULL) return ff_fail(FF_E_BAD_FORMAT, "metadata key '%s' is missing", key);
    *out = v;
    return FF_OK;
}

/* A decimal integer, the whole string, that fits a long long. */
static ff_status meta_int(const ff_st_file *f, const char *key, long long *out) {
    const char *v = NULL;
    FF_TRY(meta_required(f, key, &v));
    const char *p = v;
    if (*p == '-') p++;
    if (*p < '0' || *p > '9')
        return ff_fail(FF_E_BAD_FORMAT, "metadata '%s' = '%s' is not an integer", key, v);
    errno = 0;
    char *end = NULL;
    long long x = strtoll(v, &end, 10);
    if (errno != 0 || end == NULL || *end != '\0')
        return ff_fail(FF_E_BAD_FORMAT, "metadata '%s' = '%s' is not an integer", key, v);
    *out = x;
    return FF_OK;
}

/* A finite decimal number, the whole string. */
static ff_status meta_float(const ff_st_file *f, const char *key, float *out) {
    const char *v = NULL;
    FF_TRY(meta_required(f, key, &v));
    const char *p = v;
    if (*p == '-' || *p == '+') p++;
    if (!((*p >= '0' && *p <= '9') || *p == '.'))
        return ff_fail(FF_E_BAD_FORMAT, "metadata '%s' = '%s' is not a number", key, v);
    errno = 0;
    char *end = NULL;
    float x = strtof(v, &end);
    if (errno != 0 || end == NULL || *end != '\0' || !isfinite(x))
        return ff_fail(FF_E_BAD_FORMAT, "metadata '%s' = '%s' is not a finite number", key, v);
    *out = x;
    return FF_OK;
}

/* A finite decimal number, the whole string, any sign (statistics). */
static ff_status meta_finite(const ff_st_file *f, const char *key, float *out) {
    const char *v = NULL;
    FF_TRY(meta_required(f, key, &v));
    const char *p = v;
    if (*p == '-' || *p == '+') p++;
    errno = 0;
    char *end = NULL;
    float x = strtof(v, &end);
    if (!((*p >= '0' && *p <= '9') || *p == '.') || errno != 0 || end == NULL || *end != '\0' || !isfinite(x))
        return ff_fail(FF_E_BAD_FORMAT, "metadata '%s' = '%s' is not a finite number", key, v);
    *out = x;
    return FF_OK;
}

/* Score statistics: libfastflow's score.* keys (all four or none), else
 * those an anomalib checkpoint carried (tools/anomalib_to_fastflow.py
 * copies them as anomalib.<state-dict name>), else none. */
static const char *const STAT_KEYS[4] = {"score.image_threshold", "score.pixel_threshold", "score.min",
                                         "score.max"};
static const char *const ANOMALIB_KEYS[2][4] = {
    {"anomalib.image_threshold.value", "anomalib.pixel_threshold.value", "anomalib.normalization_metrics.min",
     "anomalib.normalization_metrics.max"},
    {"anomalib.image_threshold.value", "anomalib.pixel_threshold.value", "anomalib.min_max.min",
     "anomalib.min_max.max"}};

static int has_all(const ff_st_file *f, const char *const keys[4]) {
    for (int i = 0; i < 4; i++)
        if (ff_st_meta(f, keys[i]) == NULL) return 0;
    return 1;
}

static ff_status read_stats(const ff_st_file *f, ff_flow *flow) {
    const char *const *keys = NULL;
    const char *source = NULL;
    int any = 0;
    for (int i = 0; i < 4; i++) any |= ff_st_meta(f, STAT_KEYS[i]) != NULL;
    if (any) {
        for (int i = 0; i < 4; i++)
            if (ff_st_meta(f, STAT_KEYS[i]) == NULL)
                return ff_fail(FF_E_BAD_FORMAT, "metadata key '%s' is missing (score.* statistics come as a set)",
                               STAT_KEYS[i]);
        keys = STAT_KEYS;
        source = ff_st_meta(f, "score.source");
        if (source == NULL) source = "unknown";
        /* refused, not truncated: ff_flow_with_statistics's rule */
        size_t len = strlen(source);
        if (len == 0 || len >= sizeof flow->stats_source)
            return ff_fail(FF_E_BAD_FORMAT, "metadata 'score.source' has %zu characters (1 to %zu allowed)", len,
                           sizeof flow->stats_source - 1);
        for (size_t i = 0; i < len; i++)
            if ((unsigned char)source[i] < 0x20 || (unsigned char)source[i] >= 0x7f)
                return ff_fail(FF_E_BAD_FORMAT, "metadata 'score.source' holds a non-printable or non-ASCII byte at %zu",
                               i);
    } else if (has_all(f, ANOMALIB_KEYS[0])) {
        keys = ANOMALIB_KEYS[0];
        source = "anomalib";
    } else if (has_all(f, ANOMALIB_KEYS[1])) {
        keys = ANOMALIB_KEYS[1];
        source = "anomalib";
    } else {
        return FF_OK;
    }
    float v[4];
    for (int i = 0; i < 4; i++) FF_TRY(meta_finite(f, keys[i], &v[i]));
    ff_status st = ff_flow_check_statistics(v[0], v[1], v[2], v[3]);
    if (st != FF_OK) return ff_fail_context(FF_E_BAD_FORMAT, "metadata '%s' ... '%s'", keys[0], keys[3]);
    memcpy(flow->stats, v, sizeof v);
    snprintf(flow->stats_source, sizeof flow->stats_source, "%s", source);
    flow->has_stats = 1;
    return FF_OK;
}

/* Metadata `key` holding flow option `param`: parsed, then checked against
 * the option's row of the table (core/params_table.c), as its setter
 * would check it. */
static ff_status meta_option_int(const ff_st_file *f, const char *key, int32_t param, long long *out) {
    FF_TRY(meta_int(f, key, out));
    if (ff_param_check_int(ff_param_find(FF_OBJECT_FLOW_OPTIONS, param), *out) != FF_OK)
        return ff_fail_context(FF_E_BAD_FORMAT, "metadata '%s'", key);
    return FF_OK;
}

static ff_status meta_option_f32(const ff_st_file *f, const char *key, int32_t param, float *out) {
    FF_TRY(meta_float(f, key, out));
    if (ff_param_check_f32(ff_param_find(FF_OBJECT_FLOW_OPTIONS, param), *out) != FF_OK)
        return ff_fail_context(FF_E_BAD_FORMAT, "metadata '%s'", key);
    return FF_OK;
}

static ff_status parse_options(const ff_st_file *f, struct ff_flow_options *o, const char **arch) {
    const char *v = NULL;
    FF_TRY(meta_required(f, "format", &v));
    if (strcmp(v, FF_MODEL_FORMAT) != 0)
        return ff_fail(FF_E_BAD_FORMAT, "metadata 'format' is '%s', expected '%s'", v, FF_MODEL_FORMAT);
    FF_TRY(meta_required(f, "format_version", &v));
    if (strcmp(v, FF_MODEL_FORMAT_VERSION) != 0)
        return ff_fail(FF_E_UNSUPPORTED, "metadata 'format_version' is '%s'; this library reads version %s", v,
                       FF_MODEL_FORMAT_VERSION);
    FF_TRY(meta_required(f, "backbone", arch));
    long long h, w, steps, seed = 0;
    FF_TRY(meta_option_int(f, "input_height", FF_FLOW_INPUT_HEIGHT, &h));
    FF_TRY(meta_option_int(f, "input_width", FF_FLOW_INPUT_WIDTH, &w));
    FF_TRY(meta_option_int(f, "flow_steps", FF_FLOW_STEPS, &steps));
    float hidden, clamp;
    FF_TRY(meta_option_f32(f, "hidden_ratio", FF_FLOW_HIDDEN_RATIO, &hidden));
    FF_TRY(meta_option_f32(f, "clamp", FF_FLOW_CLAMP, &clamp));
    FF_TRY(meta_required(f, "conv3x3_only", &v));
    int32_t only3;
    if (strcmp(v, "true") == 0) only3 = 1;
    else if (strcmp(v, "false") == 0) only3 = 0;
    else return ff_fail(FF_E_BAD_FORMAT, "metadata 'conv3x3_only' is '%s', expected 'true' or 'false'", v);
    if (ff_st_meta(f, "seed") != NULL) FF_TRY(meta_option_int(f, "seed", FF_FLOW_SEED, &seed));
    o->in_h = (int32_t)h;
    o->in_w = (int32_t)w;
    o->steps = (int32_t)steps;
    o->hidden_ratio = hidden;
    o->clamp = clamp;
    o->conv3x3_only = only3;
    o->seed = (int64_t)seed;
    return FF_OK;
}

static ff_status read_param(const ff_st_file *f, const ff_flow_layout *L, const ff_flow_tensor_name *t,
                            float *params) {
    const ff_st_tensor *x = ff_st_find(f, t->name);
    if (x == NULL) return ff_fail(FF_E_BAD_FORMAT, "missing tensor '%s'", t->name);
    /* A subnet weight whose kernel disagrees with conv3x3_only gets its own
     * message: the usual cause is metadata that does not match the weights. */
    if (t->ndim == 4 && t->shape[2] > 1 && x->ndim == 4 && x->shape[2] != t->shape[2] &&
        (strstr(t->name, ".subnet.1.weight") || strstr(t->name, ".subnet.4.weight")))
        return ff_fail(FF_E_BAD_FORMAT, "tensor '%s' has %lldx%lld kernels but conv3x3_only = %s expects %lldx%lld",
                       t->name, (long long)x->shape[2], (long long)x->shape[3], L->conv3x3_only ? "true" : "false",
                       (long long)t->shape[2], (long long)t->shape[3]);
    if (t->ndim == 4 && t->shape[2] == 1 && x->ndim == 4 && x->shape[2] != 1 &&
        (strstr(t->name, ".subnet.1.weight") || strstr(t->name, ".subnet.4.weight")))
        return ff_fail(FF_E_BAD_FORMAT, "tensor '%s' has %lldx%lld kernels but conv3x3_only = false expects 1x1",
                       t->name, (long long)x->shape[2], (long long)x->shape[3]);
    FF_TRY(ff_st_read_f32(f, t->name, t->ndim, t->shape, params + t->offset));
    if (!ff_all_finite(params + t->offset, t->count))
        return ff_fail(FF_E_BAD_FORMAT, "tensor '%s' holds NaN or infinite values", t->name);
    return FF_OK;
}

static ff_status read_perm(const ff_st_file *f, const ff_flow_tensor_name *t, int32_t c, int32_t *perm,
                           float *scratch) {
    const ff_st_tensor *x = ff_st_find(f, t->name);
    if (x == NULL) return ff_fail(FF_E_BAD_FORMAT, "missing tensor '%s'", t->name);
    if (x->ndim == 1) {
        const int64_t shape[1] = {c};
        int64_t *idx = (int64_t *)(void *)scratch; /* scratch holds c*c floats >= c int64 for c >= 2 */
        FF_TRY(ff_st_read_i64(f, t->name, 1, shape, idx));
        for (int32_t i = 0; i < c; i++) {
            if (idx[i] < 0 || idx[i] >= c)
                return ff_fail(FF_E_BAD_FORMAT, "tensor '%s': index %lld at %d is outside [0, %d)", t->name,
                               (long long)idx[i], (int)i, (int)c);
            perm[i] = (int32_t)idx[i];
        }
        if (!ff_flow_perm_valid(perm, c))
            return ff_fail(FF_E_BAD_FORMAT, "tensor '%s' is not a permutation (an index repeats)", t->name);
        return FF_OK;
    }
    const int64_t shape[4] = {c, c, 1, 1};
    if (x->ndim != 4)
        return ff_fail(FF_E_BAD_FORMAT, "tensor '%s' has %d dimensions; expected [%d] indices or a [%d, %d, 1, 1] "
                       "one-hot matrix", t->name, (int)x->ndim, (int)c, (int)c, (int)c);
    FF_TRY(ff_st_read_f32(f, t->name, 4, shape, scratch));
    ff_status st = ff_flow_perm_from_matrix(scratch, c, 0, perm);
    if (st != FF_OK) return ff_fail_context(st, "tensor '%s'", t->name);
    return FF_OK;
}

/* Rejects tensors that neither the backbone nor the flow layout names. */
static ff_status check_no_extra(const ff_st_file *f, const ff_flow_layout *L) {
    size_t n = ff_st_count(f);
    for (size_t i = 0; i < n; i++) {
        const char *name = ff_st_at(f, i)->name;
        if (strncmp(name, FF_BACKBONE_PREFIX, strlen(FF_BACKBONE_PREFIX)) == 0) continue;
        ff_flow_tensor_name t;
        if (ff_flow_names_find(L, name, &t) != FF_OK)
            return ff_fail(FF_E_BAD_FORMAT,
                           "unexpected tensor '%s' (not part of a flow with %d levels and %d steps; "
                           "do the metadata and the weights disagree?)",
                           name, (int)L->num_levels, (int)L->num_steps);
    }
    ff_clear_error(); /* the failed lookups above left messages */
    return FF_OK;
}

static ff_status read_flow(const ff_st_file *f, ff_flow *flow) {
    const ff_flow_layout *L = &flow->layout;
    FF_TRY(check_no_extra(f, L));
    int32_t maxc = 0;
    for (int32_t l = 0; l < L->num_levels; l++)
        if (L->level[l].c > maxc) maxc = L->level[l].c;
    float *scratch = NULL;
    FF_TRY(ff_alloc_floats((size_t)maxc * (size_t)maxc + 2 * (size_t)maxc, "permutation scratch", &scratch));
    ff_status st = FF_OK;
    size_t n = ff_flow_names_count(L);
    for (size_t i = 0; i < n && st == FF_OK; i++) {
        ff_flow_tensor_name t;
        st = ff_flow_names_get(L, i, &t);
        if (st != FF_OK) break;
        if (t.kind == FF_FLOW_NAME_PARAM) st = read_param(f, L, &t, flow->params);
        else if (t.kind == FF_FLOW_NAME_PERM)
            st = read_perm(f, &t, L->level[t.level].c, flow->perms + t.offset, scratch);
    }
    ff_free(scratch);
    return st;
}

static ff_status load_st(const ff_st_file *f, const ff_backbone *backbone, ff_flow **out) {
    struct ff_flow_options o;
    const char *arch = NULL;
    FF_TRY(parse_options(f, &o, &arch));
    ff_backbone *own = NULL;
    if (backbone != NULL) {
        if (strcmp(ff_backbone_arch(backbone), arch) != 0)
            return ff_fail(FF_E_INVALID_ARGUMENT, "the model was trained on backbone '%s' but '%s' was given", arch,
                           ff_backbone_arch(backbone));
    } else {
        int has = 0;
        for (size_t i = 0; i < ff_st_count(f) && !has; i++)
            has = strncmp(ff_st_at(f, i)->name, FF_BACKBONE_PREFIX, strlen(FF_BACKBONE_PREFIX)) == 0;
        if (!has)
            return ff_fail(FF_E_INVALID_ARGUMENT,
                           "the model embeds no backbone (no '" FF_BACKBONE_PREFIX "*' tensors); pass one");
        ff_status st = ff_backbone_load_st(arch, f, FF_BACKBONE_PREFIX, &own);
        if (st != FF_OK) return ff_fail_context(st, "embedded backbone '%s'", arch);
        backbone = own;
    }
    ff_flow_layout layout;
    ff_flow *flow = NULL;
    /* a transformer's configuration in the file must match the backbone's */
    ff_status st = ff_backbone_check_meta(backbone, f);
    if (st == FF_OK) st = ff_flow_layout_for_backbone(backbone, &o, &layout);
    if (st == FF_OK) st = ff_flow_alloc(backbone, &layout, o.seed, &flow);
    if (st == FF_OK) st = read_flow(f, flow);
    if (st == FF_OK) st = read_stats(f, flow);
    if (st == FF_OK && ff_flow_set_training_record(flow, ff_st_meta(f, "training")) != FF_OK)
        st = ff_fail_context(FF_E_BAD_FORMAT, "metadata 'training'");
    ff_backbone_destroy(own); /* the flow holds its own reference */
    if (st != FF_OK) {
        ff_flow_destroy(flow);
        return st;
    }
    *out = flow;
    return FF_OK;
}

ff_status ff_flow_load(const char *path, const ff_backbone *backbone, ff_flow **out) {
    ff_clear_error();
    FF_CHECK_ARG(path != NULL, "path is NULL");
    FF_CHECK_ARG(out != NULL, "out is NULL");
    ff_st_file *f = NULL;
    ff_status st = ff_st_open(path, &f);
    if (st == FF_OK) st = load_st(f, backbone, out);
    ff_st_close(f);
    if (st != FF_OK) return ff_fail_context(st, "model '%s'", path);
    return FF_OK;
}
