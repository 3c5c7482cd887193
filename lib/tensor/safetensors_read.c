/* Safetensors reader: the whole file is held in memory and validated up
 * front, so that every tensor handed out is known to be consistent.
 *
 * Leniency (documented choice): the safetensors spec asks for the data
 * section to be covered exactly, without holes or trailing bytes. Files in
 * the wild (hand-written tools, padding for alignment) do not always honour
 * that and holes are harmless, so holes and trailing bytes are accepted;
 * what would make tensors alias each other or leave the file is rejected:
 * overlapping ranges and ranges outside the data section. Zero-byte tensors
 * overlap nothing. Tensors are listed in header (JSON) order. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "tensor/json.h"
#include "tensor/safetensors.h"

/* Same limit as the reference implementation: a header that large is a
 * corrupt length, not a real model. */
#define FF_ST_MAX_HEADER ((uint64_t)100000000)
#define FF_ST_JSON_DEPTH 16
#define FF_ST_META_KEY "__metadata__"

struct ff_st_file {
    uint8_t *buf;
    size_t size;
    char *what;
    ff_json_doc *doc; /* owns names and metadata strings */
    ff_st_tensor *tensors;
    size_t count;
    const ff_json_member *meta;
    size_t meta_count;
};

void ff_st_close(ff_st_file *f) {
    if (!f) return;
    free(f->buf);
    free(f->what);
    ff_json_free(f->doc);
    free(f->tensors);
    free(f);
}

static uint64_t le64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

void ff_st_format_shape(char *out, size_t cap, int32_t ndim, const int64_t *shape) {
    size_t n = 0;
    int w = snprintf(out, cap, "[");
    if (w > 0) n = (size_t)w;
    for (int32_t i = 0; i < ndim && n < cap; i++) {
        w = snprintf(out + n, cap - n, "%s%lld", i ? ", " : "", (long long)shape[i]);
        if (w < 0) break;
        n += (size_t)w;
    }
    if (n < cap) snprintf(out + n, cap - n, "]");
}

ff_status ff_st_find_float(const ff_st_file *f, const char *name, int32_t ndim, const int64_t *shape,
                           const char *owner, int optional, const ff_st_tensor **out) {
    char want[128], got[128];
    const ff_st_tensor *t = ff_st_find(f, name);
    ff_st_format_shape(want, sizeof want, ndim, shape);
    if (!t) {
        if (optional) {
            *out = NULL;
            return FF_OK;
        }
        return ff_fail(FF_E_BAD_FORMAT, "missing tensor '%s' (%s needs it, shape %s)", name, owner, want);
    }
    int same = t->ndim == ndim;
    for (int32_t i = 0; same && i < ndim; i++) same = t->shape[i] == shape[i];
    if (!same) {
        ff_st_format_shape(got, sizeof got, t->ndim, t->shape);
        return ff_fail(FF_E_BAD_FORMAT, "tensor '%s' has shape %s, expected %s for %s", name, got, want, owner);
    }
    if (t->dtype != FF_DT_F32 && t->dtype != FF_DT_F16 && t->dtype != FF_DT_BF16 && t->dtype != FF_DT_F64)
        return ff_fail(FF_E_BAD_FORMAT, "tensor '%s' has dtype %s; expected F32, F16, BF16 or F64", name,
                       ff_dtype_name(t->dtype));
    *out = t;
    return FF_OK;
}

static ff_status parse_metadata(ff_st_file *f, const ff_json_value *v) {
    if (v->kind != FF_JSON_OBJECT)
        return ff_fail(FF_E_BAD_FORMAT, "%s: %s is not an object of strings (found %s at header byte %zu)",
                       f->what, FF_ST_META_KEY, ff_json_kind_name(v->kind), v->offset);
    for (size_t i = 0; i < v->u.object.count; i++) {
        const ff_json_member *m = &v->u.object.members[i];
        if (m->value.kind != FF_JSON_STRING)
            return ff_fail(FF_E_BAD_FORMAT,
                           "%s: %s value of '%s' is not a string (found %s at header byte %zu)", f->what,
                           FF_ST_META_KEY, m->key, ff_json_kind_name(m->value.kind), m->value.offset);
    }
    f->meta = v->u.object.members;
    f->meta_count = v->u.object.count;
    return FF_OK;
}

/* Validates a non-negative integer array of `want` items (want < 0: any). */
static ff_status int_list(const ff_st_file *f, const char *tensor, const char *field,
                          const ff_json_value *v, int want) {
    if (!v)
        return ff_fail(FF_E_BAD_FORMAT, "%s: tensor '%s': missing \"%s\"", f->what, tensor, field);
    if (v->kind != FF_JSON_ARRAY || (want >= 0 && v->u.array.count != (size_t)want))
        return ff_fail(FF_E_BAD_FORMAT, "%s: tensor '%s': \"%s\" is not a list of %snon-negative integers (header byte %zu)",
                       f->what, tensor, field, want == 2 ? "two " : "", v->offset);
    for (size_t i = 0; i < v->u.array.count; i++) {
        const ff_json_value *it = &v->u.array.items[i];
        if (it->kind != FF_JSON_INT || it->u.integer < 0)
            return ff_fail(FF_E_BAD_FORMAT,
                           "%s: tensor '%s': \"%s\"[%zu] is not a non-negative integer (%s%s at header byte %zu)",
                           f->what, tensor, field, i, it->kind == FF_JSON_INT ? "negative " : "",
                           ff_json_kind_name(it->kind), it->offset);
    }
    return FF_OK;
}

static ff_status parse_tensor(ff_st_file *f, const ff_json_member *m, size_t data_size,
                              const uint8_t *data, ff_st_tensor *t) {
    const char *name = m->key;
    const ff_json_value *v = &m->value;
    if (v->kind != FF_JSON_OBJECT)
        return ff_fail(FF_E_BAD_FORMAT, "%s: tensor '%s': entry is not an object (found %s at header byte %zu)",
                       f->what, name, ff_json_kind_name(v->kind), v->offset);
    const ff_json_value *dt = ff_json_get(v, "dtype");
    if (!dt) return ff_fail(FF_E_BAD_FORMAT, "%s: tensor '%s': missing \"dtype\"", f->what, name);
    if (dt->kind != FF_JSON_STRING)
        return ff_fail(FF_E_BAD_FORMAT, "%s: tensor '%s': dtype is not a string (header byte %zu)", f->what,
                       name, dt->offset);
    if (!ff_dtype_from_name(dt->u.string.chars, &t->dtype))
        return ff_fail(FF_E_BAD_FORMAT, "%s: tensor '%s': unknown or unsupported dtype '%.32s' (header byte %zu)",
                       f->what, name, dt->u.string.chars, dt->offset);

    const ff_json_value *shape = ff_json_get(v, "shape");
    FF_TRY(int_list(f, name, "shape", shape, -1));
    if (shape->u.array.count > FF_ST_MAX_DIMS)
        return ff_fail(FF_E_BAD_FORMAT, "%s: tensor '%s': %zu dimensions (at most %d supported)", f->what,
                       name, shape->u.array.count, FF_ST_MAX_DIMS);
    t->ndim = (int32_t)shape->u.array.count;
    /* numel with a zero dimension is 0 whatever the others are; otherwise
     * the product must not overflow. */
    bool has_zero = false;
    for (int32_t i = 0; i < t->ndim; i++) {
        t->shape[i] = shape->u.array.items[i].u.integer;
        if (t->shape[i] == 0) has_zero = true;
    }
    size_t numel = 1;
    if (has_zero) numel = 0;
    else {
        for (int32_t i = 0; i < t->ndim; i++)
            if (!ff_mul_size(numel, (size_t)t->shape[i], &numel) || numel > (size_t)INT64_MAX)
                return ff_fail(FF_E_BAD_FORMAT, "%s: tensor '%s': element count of the shape overflows",
                               f->what, name);
    }
    size_t nbytes;
    if (!ff_mul_size(numel, ff_dtype_size(t->dtype), &nbytes))
        return ff_fail(FF_E_BAD_FORMAT, "%s: tensor '%s': byte size of the shape overflows", f->what, name);
    t->numel = (int64_t)numel;
    t->nbytes = nbytes;

    const ff_json_value *off = ff_json_get(v, "data_offsets");
    FF_TRY(int_list(f, name, "data_offsets", off, 2));
    uint64_t begin = (uint64_t)off->u.array.items[0].u.integer;
    uint64_t end = (uint64_t)off->u.array.items[1].u.integer;
    size_t data_start = (size_t)(data - f->buf);
    if (begin > end)
        return ff_fail(FF_E_BAD_FORMAT, "%s: tensor '%s': data_offsets [%llu, %llu] has begin > end (header byte %zu)",
                       f->what, name, (unsigned long long)begin, (unsigned long long)end, off->offset);
    if (end - begin != (uint64_t)nbytes) {
        char s[256];
        ff_st_format_shape(s, sizeof s, t->ndim, t->shape);
        return ff_fail(FF_E_BAD_FORMAT,
                       "%s: tensor '%s': data_offsets [%llu, %llu] span %llu bytes but %s %s needs %zu",
                       f->what, name, (unsigned long long)begin, (unsigned long long)end,
                       (unsigned long long)(end - begin), ff_dtype_name(t->dtype), s, nbytes);
    }
    if (end > (uint64_t)data_size)
        return ff_fail(FF_E_BAD_FORMAT,
                       "%s: tensor '%s': data_offsets [%llu, %llu] outside the data section of %zu bytes "
                       "(file bytes %zu..%llu, file size %zu)",
                       f->what, name, (unsigned long long)begin, (unsigned long long)end, data_size,
                       data_start + (size_t)(begin < data_size ? begin : data_size),
                       (unsigned long long)((uint64_t)data_start + end), f->size);
    t->name = name;
    t->data = data + begin;
    return FF_OK;
}

static int cmp_by_begin(const void *a, const void *b) {
    const ff_st_tensor *x = *(ff_st_tensor *const *)a, *y = *(ff_st_tensor *const *)b;
    if (x->data != y->data) return x->data < y->data ? -1 : 1;
    return x->nbytes < y->nbytes ? -1 : x->nbytes > y->nbytes;
}

static ff_status check_overlaps(ff_st_file *f, const uint8_t *data) {
    if (f->count < 2) return FF_OK;
    const ff_st_tensor **idx = malloc(f->count * sizeof *idx);
    if (!idx) return ff_fail(FF_E_OUT_OF_MEMORY, "%s: out of memory", f->what);
    size_t n = 0;
    for (size_t i = 0; i < f->count; i++)
        if (f->tensors[i].nbytes) idx[n++] = &f->tensors[i];
    qsort(idx, n, sizeof *idx, cmp_by_begin);
    const ff_st_tensor *reach = NULL; /* the range ending furthest so far */
    ff_status st = FF_OK;
    for (size_t i = 0; i < n; i++) {
        const ff_st_tensor *t = idx[i];
        if (reach && t->data < reach->data + reach->nbytes) {
            size_t tb = (size_t)(t->data - data), rb = (size_t)(reach->data - data);
            st = ff_fail(FF_E_BAD_FORMAT,
                         "%s: tensors '%s' [%zu, %zu] and '%s' [%zu, %zu] have overlapping data_offsets",
                         f->what, reach->name, rb, rb + reach->nbytes, t->name, tb, tb + t->nbytes);
            break;
        }
        if (!reach || t->data + t->nbytes > reach->data + reach->nbytes) reach = t;
    }
    free(idx);
    return st;
}

static ff_status parse_header(ff_st_file *f) {
    if (f->size < 8)
        return ff_fail(FF_E_BAD_FORMAT, "%s: file too short (%zu bytes) to hold the 8-byte header length",
                       f->what, f->size);
    uint64_t hlen = le64(f->buf);
    if (hlen > FF_ST_MAX_HEADER)
        return ff_fail(FF_E_BAD_FORMAT, "%s: header length %llu is absurd (limit %llu bytes; corrupt file?)",
                       f->what, (unsigned long long)hlen, (unsigned long long)FF_ST_MAX_HEADER);
    if (hlen > f->size - 8)
        return ff_fail(FF_E_BAD_FORMAT, "%s: header length %llu exceeds the file (%zu bytes after the length)",
                       f->what, (unsigned long long)hlen, f->size - 8);
    size_t hsize = (size_t)hlen;
    FF_TRY(ff_json_parse((const char *)f->buf + 8, hsize, FF_ST_JSON_DEPTH, f->what, 8, &f->doc));
    const ff_json_value *root = ff_json_root(f->doc);
    if (root->kind != FF_JSON_OBJECT)
        return ff_fail(FF_E_BAD_FORMAT, "%s: header is not a JSON object (found %s)", f->what,
                       ff_json_kind_name(root->kind));
    const uint8_t *data = f->buf + 8 + hsize;
    size_t data_size = f->size - 8 - hsize;
    size_t n = root->u.object.count;
    f->tensors = calloc(n ? n : 1, sizeof *f->tensors);
    if (!f->tensors) return ff_fail(FF_E_OUT_OF_MEMORY, "%s: out of memory for %zu tensors", f->what, n);
    /* Duplicate names are already rejected by the JSON parser (duplicate keys). */
    for (size_t i = 0; i < n; i++) {
        const ff_json_member *m = &root->u.object.members[i];
        if (strcmp(m->key, FF_ST_META_KEY) == 0) {
            FF_TRY(parse_metadata(f, &m->value));
            continue;
        }
        FF_TRY(parse_tensor(f, m, data_size, data, &f->tensors[f->count]));
        f->count++;
    }
    return check_overlaps(f, data);
}

/* Takes ownership of buf (size bytes, malloc'd). */
static ff_status open_owned(uint8_t *buf, size_t size, const char *what, ff_st_file **out) {
    ff_st_file *f = calloc(1, sizeof *f);
    char *w = ff_strdup(what);
    if (!f || !w) {
        free(f);
        free(w);
        free(buf);
        return ff_fail(FF_E_OUT_OF_MEMORY, "%s: out of memory", what);
    }
    f->buf = buf;
    f->size = size;
    f->what = w;
    ff_status st = parse_header(f);
    if (st != FF_OK) {
        ff_st_close(f);
        return st;
    }
    *out = f;
    return FF_OK;
}

ff_status ff_st_open(const char *path, ff_st_file **out) {
    FF_CHECK_ARG(path && out, "ff_st_open: NULL argument");
    uint8_t *buf;
    size_t size;
    FF_TRY(ff_read_file(path, &buf, &size));
    return open_owned(buf, size, path, out);
}

ff_status ff_st_open_memory(const void *data, size_t size, const char *what, ff_st_file **out) {
    FF_CHECK_ARG(data && out, "ff_st_open_memory: NULL argument");
    if (!what) what = "safetensors data";
    uint8_t *buf = malloc(size ? size : 1);
    if (!buf) return ff_fail(FF_E_OUT_OF_MEMORY, "%s: cannot copy %zu bytes", what, size);
    memcpy(buf, data, size);
    return open_owned(buf, size, what, out);
}

size_t ff_st_count(const ff_st_file *f) { return f ? f->count : 0; }

const ff_st_tensor *ff_st_at(const ff_st_file *f, size_t index) {
    return f && index < f->count ? &f->tensors[index] : NULL;
}

const ff_st_tensor *ff_st_find(const ff_st_file *f, const char *name) {
    if (!f || !name) return NULL;
    for (size_t i = 0; i < f->count; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

const char *ff_st_meta(const ff_st_file *f, const char *key) {
    if (!f || !key) return NULL;
    for (size_t i = 0; i < f->meta_count; i++)
        if (strcmp(f->meta[i].key, key) == 0) return f->meta[i].value.u.string.chars;
    return NULL;
}

size_t ff_st_meta_count(const ff_st_file *f) { return f ? f->meta_count : 0; }

void ff_st_meta_at(const ff_st_file *f, size_t index, const char **key, const char **value) {
    const char *k = NULL, *v = NULL;
    if (f && index < f->meta_count) {
        k = f->meta[index].key;
        v = f->meta[index].value.u.string.chars;
    }
    if (key) *key = k;
    if (value) *value = v;
}

/* Finds `name` and checks its shape against the expectation. */
static ff_status lookup(const ff_st_file *f, const char *name, int32_t ndim, const int64_t *expect,
                        const ff_st_tensor **out) {
    FF_CHECK_ARG(f && name, "safetensors read: NULL argument");
    FF_CHECK_ARG(!expect || (ndim >= 0 && ndim <= FF_ST_MAX_DIMS),
                 "safetensors read of '%s': ndim %d outside [0, %d]", name, (int)ndim, FF_ST_MAX_DIMS);
    const ff_st_tensor *t = ff_st_find(f, name);
    if (!t) return ff_fail(FF_E_BAD_FORMAT, "%s: missing tensor '%s'", f->what, name);
    if (expect) {
        bool same = t->ndim == ndim;
        for (int32_t i = 0; same && i < ndim; i++) same = t->shape[i] == expect[i];
        if (!same) {
            char want[256], got[256];
            ff_st_format_shape(want, sizeof want, ndim, expect);
            ff_st_format_shape(got, sizeof got, t->ndim, t->shape);
            return ff_fail(FF_E_BAD_FORMAT, "%s: tensor '%s' has shape %s, expected %s", f->what, name,
                           got, want);
        }
    }
    *out = t;
    return FF_OK;
}

ff_status ff_st_read_f32(const ff_st_file *f, const char *name, int32_t ndim,
                         const int64_t *expect_shape, float *dst) {
    FF_CHECK_ARG(dst, "ff_st_read_f32: NULL destination");
    const ff_st_tensor *t;
    FF_TRY(lookup(f, name, ndim, expect_shape, &t));
    if (!ff_dtype_is_float(t->dtype))
        return ff_fail(FF_E_BAD_FORMAT,
                       "%s: tensor '%s' has integer dtype %s; a floating-point tensor (F32, F16, BF16, F64) was expected",
                       f->what, name, ff_dtype_name(t->dtype));
    size_t n = (size_t)t->numel;
    const uint8_t *p = t->data; /* any alignment: read through memcpy */
    switch (t->dtype) {
    case FF_DT_F32:
        if (n) memcpy(dst, p, n * sizeof(float));
        break;
    case FF_DT_F16:
    case FF_DT_BF16:
        for (size_t i = 0; i < n; i++) {
            uint16_t h;
            memcpy(&h, p + 2 * i, 2);
            dst[i] = t->dtype == FF_DT_F16 ? ff_f16_to_f32(h) : ff_bf16_to_f32(h);
        }
        break;
    case FF_DT_F64:
        for (size_t i = 0; i < n; i++) {
            double d;
            memcpy(&d, p + 8 * i, 8);
            dst[i] = (float)d;
        }
        break;
    default:
        return ff_fail(FF_E_INTERNAL, "ff_st_read_f32: unhandled dtype");
    }
    return FF_OK;
}

ff_status ff_st_read_i64(const ff_st_file *f, const char *name, int32_t ndim,
                         const int64_t *expect_shape, int64_t *dst) {
    FF_CHECK_ARG(dst, "ff_st_read_i64: NULL destination");
    const ff_st_tensor *t;
    FF_TRY(lookup(f, name, ndim, expect_shape, &t));
    if (ff_dtype_is_float(t->dtype))
        return ff_fail(FF_E_BAD_FORMAT, "%s: tensor '%s' has floating-point dtype %s; an integer tensor was expected",
                       f->what, name, ff_dtype_name(t->dtype));
    size_t n = (size_t)t->numel;
    const uint8_t *p = t->data;
    if (t->dtype == FF_DT_U64) { /* check first so dst stays untouched on failure */
        for (size_t i = 0; i < n; i++) {
            uint64_t u;
            memcpy(&u, p + 8 * i, 8);
            if (u > (uint64_t)INT64_MAX)
                return ff_fail(FF_E_BAD_FORMAT, "%s: tensor '%s' (U64): element %zu = %llu exceeds the int64 range",
                               f->what, name, i, (unsigned long long)u);
        }
    }
    for (size_t i = 0; i < n; i++) {
        switch (t->dtype) {
        case FF_DT_I64:
        case FF_DT_U64: memcpy(&dst[i], p + 8 * i, 8); break;
        case FF_DT_I32: { int32_t v; memcpy(&v, p + 4 * i, 4); dst[i] = v; break; }
        case FF_DT_U32: { uint32_t v; memcpy(&v, p + 4 * i, 4); dst[i] = v; break; }
        case FF_DT_I16: { int16_t v; memcpy(&v, p + 2 * i, 2); dst[i] = v; break; }
        case FF_DT_U16: { uint16_t v; memcpy(&v, p + 2 * i, 2); dst[i] = v; break; }
        case FF_DT_I8: dst[i] = (int8_t)p[i]; break;
        case FF_DT_U8:
        case FF_DT_BOOL: dst[i] = p[i]; break;
        default: return ff_fail(FF_E_INTERNAL, "ff_st_read_i64: unhandled dtype");
        }
    }
    return FF_OK;
}
