/* Safetensors writer: tensors are copied when added and written in
 * insertion order, contiguously; metadata goes first under __metadata__
 * (as the reference implementation does). The JSON header is padded with
 * spaces to a multiple of 8 bytes so that the data section starts 8-byte
 * aligned in the file, like the reference implementation's output. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "tensor/json.h"
#include "tensor/safetensors.h"

typedef struct entry {
    char *name;
    ff_dtype dtype;
    int32_t ndim;
    int64_t shape[FF_ST_MAX_DIMS];
    size_t nbytes;
    uint8_t *data;
} entry;

typedef struct meta_entry {
    char *key, *value;
} meta_entry;

struct ff_st_writer {
    entry *entries;
    size_t count, cap;
    meta_entry *meta;
    size_t meta_count, meta_cap;
};

ff_status ff_st_writer_create(ff_st_writer **out) {
    FF_CHECK_ARG(out, "ff_st_writer_create: NULL argument");
    ff_st_writer *w = calloc(1, sizeof *w);
    if (!w) return ff_fail(FF_E_OUT_OF_MEMORY, "cannot allocate a safetensors writer");
    *out = w;
    return FF_OK;
}

void ff_st_writer_destroy(ff_st_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->count; i++) {
        free(w->entries[i].name);
        free(w->entries[i].data);
    }
    for (size_t i = 0; i < w->meta_count; i++) {
        free(w->meta[i].key);
        free(w->meta[i].value);
    }
    free(w->entries);
    free(w->meta);
    free(w);
}

/* The reader rejects malformed UTF-8, so the writer must never produce it. */
static bool valid_utf8(const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        size_t n;
        unsigned lo = 0x80, hi = 0xbf;
        if (c < 0x80) {
            p++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) n = 2;
        else if (c == 0xe0) n = 3, lo = 0xa0;
        else if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef) n = 3;
        else if (c == 0xed) n = 3, hi = 0x9f;
        else if (c == 0xf0) n = 4, lo = 0x90;
        else if (c >= 0xf1 && c <= 0xf3) n = 4;
        else if (c == 0xf4) n = 4, hi = 0x8f;
        else return false;
        if (p[1] < lo || p[1] > hi) return false;
        for (size_t i = 2; i < n; i++)
            if (p[i] < 0x80 || p[i] > 0xbf) return false;
        p += n;
    }
    return true;
}

static bool grow(void **arr, size_t *cap, size_t count, size_t elem) {
    if (count < *cap) return true;
    size_t ncap = *cap ? *cap * 2 : 16, bytes;
    if (!ff_mul_size(ncap, elem, &bytes)) return false;
    void *n = realloc(*arr, bytes);
    if (!n) return false;
    *arr = n;
    *cap = ncap;
    return true;
}

ff_status ff_st_writer_add(ff_st_writer *w, const char *name, ff_dtype dtype, int32_t ndim,
                           const int64_t *shape, const void *data) {
    FF_CHECK_ARG(w && name, "ff_st_writer_add: NULL argument");
    FF_CHECK_ARG(ff_dtype_size(dtype) != 0, "ff_st_writer_add '%s': invalid dtype %d", name, (int)dtype);
    FF_CHECK_ARG(ndim >= 0 && ndim <= FF_ST_MAX_DIMS, "ff_st_writer_add '%s': ndim %d outside [0, %d]",
                 name, (int)ndim, FF_ST_MAX_DIMS);
    FF_CHECK_ARG(ndim == 0 || shape, "ff_st_writer_add '%s': NULL shape", name);
    FF_CHECK_ARG(valid_utf8(name), "ff_st_writer_add: tensor name is not valid UTF-8");
    FF_CHECK_ARG(strcmp(name, "__metadata__") != 0, "ff_st_writer_add: '__metadata__' is reserved");
    /* As in the reader: a zero dimension makes the tensor empty whatever
     * the other dimensions are, so only non-empty shapes can overflow. */
    bool empty = false;
    for (int32_t i = 0; i < ndim; i++) {
        FF_CHECK_ARG(shape[i] >= 0 && shape[i] <= FF_JSON_MAX_INT,
                     "ff_st_writer_add '%s': dimension %d = %lld out of range", name, (int)i,
                     (long long)shape[i]);
        if (shape[i] == 0) empty = true;
    }
    size_t numel = empty ? 0 : 1;
    for (int32_t i = 0; i < ndim && !empty; i++)
        if (!ff_mul_size(numel, (size_t)shape[i], &numel))
            return ff_fail(FF_E_INVALID_ARGUMENT, "ff_st_writer_add '%s': element count overflows", name);
    size_t nbytes;
    if (!ff_mul_size(numel, ff_dtype_size(dtype), &nbytes) || nbytes > (size_t)FF_JSON_MAX_INT)
        return ff_fail(FF_E_INVALID_ARGUMENT, "ff_st_writer_add '%s': tensor too large", name);
    FF_CHECK_ARG(nbytes == 0 || data, "ff_st_writer_add '%s': NULL data", name);
    for (size_t i = 0; i < w->count; i++)
        FF_CHECK_ARG(strcmp(w->entries[i].name, name) != 0,
                     "ff_st_writer_add: duplicate tensor name '%s'", name);
    if (!grow((void **)&w->entries, &w->cap, w->count, sizeof *w->entries))
        return ff_fail(FF_E_OUT_OF_MEMORY, "ff_st_writer_add '%s': out of memory", name);
    entry e = {0};
    e.name = ff_strdup(name);
    e.data = malloc(nbytes ? nbytes : 1);
    if (!e.name || !e.data) {
        free(e.name);
        free(e.data);
        return ff_fail(FF_E_OUT_OF_MEMORY, "ff_st_writer_add '%s': cannot copy %zu bytes", name, nbytes);
    }
    if (nbytes) memcpy(e.data, data, nbytes);
    e.dtype = dtype;
    e.ndim = ndim;
    for (int32_t i = 0; i < ndim; i++) e.shape[i] = shape[i];
    e.nbytes = nbytes;
    w->entries[w->count++] = e;
    return FF_OK;
}

ff_status ff_st_writer_add_f32(ff_st_writer *w, const char *name, int32_t ndim, const int64_t *shape,
                               const float *data) {
    return ff_st_writer_add(w, name, FF_DT_F32, ndim, shape, data);
}

ff_status ff_st_writer_add_i64(ff_st_writer *w, const char *name, int32_t ndim, const int64_t *shape,
                               const int64_t *data) {
    return ff_st_writer_add(w, name, FF_DT_I64, ndim, shape, data);
}

/* Setting a key again replaces its value. */
ff_status ff_st_writer_set_meta(ff_st_writer *w, const char *key, const char *value) {
    FF_CHECK_ARG(w && key && value, "ff_st_writer_set_meta: NULL argument");
    FF_CHECK_ARG(valid_utf8(key) && valid_utf8(value), "ff_st_writer_set_meta '%s': not valid UTF-8",
                 valid_utf8(key) ? key : "?");
    char *v = ff_strdup(value);
    if (!v) return ff_fail(FF_E_OUT_OF_MEMORY, "ff_st_writer_set_meta: out of memory");
    for (size_t i = 0; i < w->meta_count; i++) {
        if (strcmp(w->meta[i].key, key) == 0) {
            free(w->meta[i].value);
            w->meta[i].value = v;
            return FF_OK;
        }
    }
    char *k = ff_strdup(key);
    if (!k || !grow((void **)&w->meta, &w->meta_cap, w->meta_count, sizeof *w->meta)) {
        free(k);
        free(v);
        return ff_fail(FF_E_OUT_OF_MEMORY, "ff_st_writer_set_meta: out of memory");
    }
    w->meta[w->meta_count].key = k;
    w->meta[w->meta_count].value = v;
    w->meta_count++;
    return FF_OK;
}

/* Growable text buffer for the header; `failed` makes errors sticky so the
 * builder code stays linear. */
typedef struct sbuf {
    char *p;
    size_t len, cap;
    bool failed;
} sbuf;

static void put(sbuf *b, const char *s, size_t n) {
    if (b->failed) return;
    size_t need;
    if (!ff_add_size(b->len, n, &need)) {
        b->failed = true;
        return;
    }
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < need) {
            if (cap > SIZE_MAX / 2) {
                b->failed = true;
                return;
            }
            cap *= 2;
        }
        char *np = realloc(b->p, cap);
        if (!np) {
            b->failed = true;
            return;
        }
        b->p = np;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }

static void put_u64(sbuf *b, unsigned long long v) {
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", v);
    put(b, tmp, (size_t)n);
}

static void put_json_string(sbuf *b, const char *s) {
    put(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"': put(b, "\\\"", 2); break;
        case '\\': put(b, "\\\\", 2); break;
        case '\n': put(b, "\\n", 2); break;
        case '\r': put(b, "\\r", 2); break;
        case '\t': put(b, "\\t", 2); break;
        case '\b': put(b, "\\b", 2); break;
        case '\f': put(b, "\\f", 2); break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                put(b, esc, 6);
            } else {
                put(b, (const char *)p, 1);
            }
        }
    }
    put(b, "\"", 1);
}

ff_status ff_st_writer_serialize(const ff_st_writer *w, uint8_t **data_out, size_t *size_out) {
    FF_CHECK_ARG(w && data_out && size_out, "ff_st_writer_serialize: NULL argument");
    sbuf b = {0};
    bool first = true;
    put(&b, "{", 1);
    if (w->meta_count) {
        puts_(&b, "\"__metadata__\":{");
        for (size_t i = 0; i < w->meta_count; i++) {
            if (i) put(&b, ",", 1);
            put_json_string(&b, w->meta[i].key);
            put(&b, ":", 1);
            put_json_string(&b, w->meta[i].value);
        }
        put(&b, "}", 1);
        first = false;
    }
    size_t offset = 0;
    for (size_t i = 0; i < w->count; i++) {
        const entry *e = &w->entries[i];
        if (!first) put(&b, ",", 1);
        first = false;
        put_json_string(&b, e->name);
        puts_(&b, ":{\"dtype\":\"");
        puts_(&b, ff_dtype_name(e->dtype));
        puts_(&b, "\",\"shape\":[");
        for (int32_t d = 0; d < e->ndim; d++) {
            if (d) put(&b, ",", 1);
            put_u64(&b, (unsigned long long)e->shape[d]);
        }
        puts_(&b, "],\"data_offsets\":[");
        put_u64(&b, offset);
        put(&b, ",", 1);
        if (!ff_add_size(offset, e->nbytes, &offset) || offset > (size_t)FF_JSON_MAX_INT) {
            free(b.p);
            return ff_fail(FF_E_INVALID_ARGUMENT, "ff_st_writer_serialize: total tensor data too large");
        }
        put_u64(&b, offset);
        puts_(&b, "]}");
    }
    put(&b, "}", 1);
    while (!b.failed && b.len % 8) put(&b, " ", 1);
    size_t total;
    if (b.failed || !ff_add_size(8 + b.len, offset, &total)) {
        free(b.p);
        return ff_fail(FF_E_OUT_OF_MEMORY, "ff_st_writer_serialize: out of memory for the header");
    }
    uint8_t *out = malloc(total);
    if (!out) {
        free(b.p);
        return ff_fail(FF_E_OUT_OF_MEMORY, "ff_st_writer_serialize: cannot allocate %zu bytes", total);
    }
    uint64_t hlen = b.len;
    for (int i = 0; i < 8; i++) out[i] = (uint8_t)(hlen >> (8 * i));
    memcpy(out + 8, b.p, b.len);
    free(b.p);
    uint8_t *p = out + 8 + hlen;
    for (size_t i = 0; i < w->count; i++) {
        if (w->entries[i].nbytes) memcpy(p, w->entries[i].data, w->entries[i].nbytes);
        p += w->entries[i].nbytes;
    }
    *data_out = out;
    *size_out = total;
    return FF_OK;
}

ff_status ff_st_writer_save(const ff_st_writer *w, const char *path) {
    FF_CHECK_ARG(w && path, "ff_st_writer_save: NULL argument");
    uint8_t *data;
    size_t size;
    FF_TRY(ff_st_writer_serialize(w, &data, &size));
    ff_status st = ff_write_file_atomic(path, data, size);
    free(data);
    return st;
}
