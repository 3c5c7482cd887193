/* Strict JSON parser (see json.h). Recursive descent bounded by max_depth;
 * all nodes and strings live in one arena freed with the document. While an
 * array or object is being parsed its children sit on a shared growable
 * stack, and are copied into the arena once their number is known, so no
 * per-node malloc and no quadratic regrowth. */
#include "tensor/json.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"

typedef struct arena_block {
    struct arena_block *next;
    size_t used, cap;
    _Alignas(16) unsigned char data[];
} arena_block;

struct ff_json_doc {
    arena_block *blocks;
    ff_json_value root;
};

typedef struct parser {
    const unsigned char *p, *end, *start;
    const char *what;
    size_t base;
    int max_depth;
    ff_json_doc *doc;
    /* child stacks */
    ff_json_value *vals;
    size_t nvals, capvals;
    ff_json_member *mems;
    size_t nmems, capmems;
} parser;

#define ARENA_BLOCK 65536u

static void *arena_alloc(ff_json_doc *doc, size_t bytes) {
    size_t need;
    if (!ff_add_size(bytes, 15, &need)) return NULL;
    need &= ~(size_t)15;
    if (need == 0) need = 16;
    arena_block *b = doc->blocks;
    if (!b || b->cap - b->used < need) {
        size_t cap = need > ARENA_BLOCK ? need : ARENA_BLOCK, total;
        if (!ff_add_size(sizeof(arena_block), cap, &total)) return NULL;
        arena_block *nb = malloc(total);
        if (!nb) return NULL;
        nb->next = doc->blocks;
        nb->used = 0;
        nb->cap = cap;
        doc->blocks = nb;
        b = nb;
    }
    void *r = b->data + b->used;
    b->used += need;
    return r;
}

static size_t pos(const parser *ps) { return ps->base + (size_t)(ps->p - ps->start); }

static ff_status syntax(const parser *ps, const char *problem) {
    return ff_fail(FF_E_BAD_FORMAT, "%s: JSON %s at byte %zu", ps->what, problem, pos(ps));
}

static ff_status oom(const parser *ps) {
    return ff_fail(FF_E_OUT_OF_MEMORY, "%s: out of memory while parsing the JSON header", ps->what);
}

static void skip_ws(parser *ps) {
    while (ps->p < ps->end &&
           (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

static bool push_value(parser *ps, const ff_json_value *v) {
    if (ps->nvals == ps->capvals) {
        size_t cap = ps->capvals ? ps->capvals * 2 : 64, bytes;
        if (!ff_mul_size(cap, sizeof *ps->vals, &bytes)) return false;
        ff_json_value *n = realloc(ps->vals, bytes);
        if (!n) return false;
        ps->vals = n;
        ps->capvals = cap;
    }
    ps->vals[ps->nvals++] = *v;
    return true;
}

static bool push_member(parser *ps, const ff_json_member *m) {
    if (ps->nmems == ps->capmems) {
        size_t cap = ps->capmems ? ps->capmems * 2 : 64, bytes;
        if (!ff_mul_size(cap, sizeof *ps->mems, &bytes)) return false;
        ff_json_member *n = realloc(ps->mems, bytes);
        if (!n) return false;
        ps->mems = n;
        ps->capmems = cap;
    }
    ps->mems[ps->nmems++] = *m;
    return true;
}

/* Length of a valid UTF-8 sequence starting at p (first byte >= 0x80), or 0. */
static size_t utf8_seq(const unsigned char *p, const unsigned char *end) {
    unsigned c = p[0];
    size_t n;
    unsigned lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) n = 2;
    else if (c == 0xe0) n = 3, lo = 0xa0;
    else if (c >= 0xe1 && c <= 0xec) n = 3;
    else if (c == 0xed) n = 3, hi = 0x9f; /* no UTF-16 surrogates */
    else if (c >= 0xee && c <= 0xef) n = 3;
    else if (c == 0xf0) n = 4, lo = 0x90;
    else if (c >= 0xf1 && c <= 0xf3) n = 4;
    else if (c == 0xf4) n = 4, hi = 0x8f; /* <= U+10FFFF */
    else return 0;
    if ((size_t)(end - p) < n) return 0;
    if (p[1] < lo || p[1] > hi) return 0;
    for (size_t i = 2; i < n; i++)
        if (p[i] < 0x80 || p[i] > 0xbf) return 0;
    return n;
}

static int hex4(const unsigned char *p, const unsigned char *end, unsigned *out) {
    if (end - p < 4) return 0;
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        unsigned c = p[i], d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
        else return 0;
        v = v * 16 + d;
    }
    *out = v;
    return 1;
}

static size_t put_utf8(unsigned char *o, unsigned cp) {
    if (cp < 0x80) {
        o[0] = (unsigned char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (unsigned char)(0xc0 | (cp >> 6));
        o[1] = (unsigned char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (unsigned char)(0xe0 | (cp >> 12));
        o[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
        o[2] = (unsigned char)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (unsigned char)(0xf0 | (cp >> 18));
    o[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
    o[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
    o[3] = (unsigned char)(0x80 | (cp & 0x3f));
    return 4;
}

/* At the opening quote. The decoded text is never longer than the escaped
 * text, so the raw span (found first) bounds the allocation. */
static ff_status parse_string(parser *ps, const char **chars, size_t *len) {
    const unsigned char *q = ps->p + 1;
    while (q < ps->end && *q != '"') q += (*q == '\\' && q + 1 < ps->end) ? 2 : 1;
    if (q >= ps->end) return syntax(ps, "unterminated string");
    size_t raw = (size_t)(q - (ps->p + 1));
    unsigned char *out = arena_alloc(ps->doc, raw + 1);
    if (!out) return oom(ps);
    size_t n = 0;
    ps->p++;
    while (*ps->p != '"') {
        unsigned c = *ps->p;
        if (c < 0x20) return syntax(ps, "control character in string");
        if (c >= 0x80) {
            size_t k = utf8_seq(ps->p, ps->end);
            if (!k) return syntax(ps, "invalid UTF-8 in string");
            memcpy(out + n, ps->p, k);
            n += k;
            ps->p += k;
            continue;
        }
        if (c != '\\') {
            out[n++] = (unsigned char)c;
            ps->p++;
            continue;
        }
        unsigned e = ps->p[1];
        unsigned cp;
        switch (e) {
        case '"': out[n++] = '"'; ps->p += 2; continue;
        case '\\': out[n++] = '\\'; ps->p += 2; continue;
        case '/': out[n++] = '/'; ps->p += 2; continue;
        case 'b': out[n++] = '\b'; ps->p += 2; continue;
        case 'f': out[n++] = '\f'; ps->p += 2; continue;
        case 'n': out[n++] = '\n'; ps->p += 2; continue;
        case 'r': out[n++] = '\r'; ps->p += 2; continue;
        case 't': out[n++] = '\t'; ps->p += 2; continue;
        case 'u': break;
        default: return syntax(ps, "invalid escape in string");
        }
        if (!hex4(ps->p + 2, ps->end, &cp)) return syntax(ps, "invalid \\u escape");
        ps->p += 6;
        if (cp >= 0xdc00 && cp <= 0xdfff) return syntax(ps, "unpaired low surrogate");
        if (cp >= 0xd800 && cp <= 0xdbff) {
            unsigned lo;
            if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' ||
                !hex4(ps->p + 2, ps->end, &lo) || lo < 0xdc00 || lo > 0xdfff)
                return syntax(ps, "unpaired high surrogate");
            ps->p += 6;
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
        }
        if (cp == 0) return syntax(ps, "\\u0000 in string (not allowed)");
        /* 6 escaped bytes (12 for a pair) always cover the <= 4 decoded ones */
        n += put_utf8(out + n, cp);
    }
    ps->p++; /* closing quote */
    out[n] = '\0';
    *chars = (const char *)out;
    *len = n;
    return FF_OK;
}

static ff_status parse_number(parser *ps, ff_json_value *v) {
    const unsigned char *s = ps->p;
    bool neg = false;
    if (*ps->p == '-') {
        neg = true;
        ps->p++;
    }
    if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return syntax(ps, "invalid number");
    uint64_t mag = 0;
    bool too_big = false;
    if (*ps->p == '0') {
        ps->p++;
        if (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9')
            return syntax(ps, "leading zero in number");
    } else {
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
            if (!too_big) {
                mag = mag * 10 + (uint64_t)(*ps->p - '0');
                if (mag > (uint64_t)FF_JSON_MAX_INT) too_big = true;
            }
            ps->p++;
        }
    }
    bool is_float = false;
    if (ps->p < ps->end && *ps->p == '.') {
        is_float = true;
        ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return syntax(ps, "invalid number");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
    }
    if (ps->p < ps->end && (*ps->p == 'e' || *ps->p == 'E')) {
        is_float = true;
        ps->p++;
        if (ps->p < ps->end && (*ps->p == '+' || *ps->p == '-')) ps->p++;
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9') return syntax(ps, "invalid number");
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') ps->p++;
    }
    v->offset = ps->base + (size_t)(s - ps->start);
    if (is_float) {
        v->kind = FF_JSON_FLOAT;
        return FF_OK;
    }
    if (too_big) {
        ps->p = s;
        return syntax(ps, "integer beyond 2^53");
    }
    v->kind = FF_JSON_INT;
    v->u.integer = neg ? -(int64_t)mag : (int64_t)mag;
    return FF_OK;
}

static int cmp_member_ptr(const void *a, const void *b) {
    const ff_json_member *x = *(ff_json_member *const *)a, *y = *(ff_json_member *const *)b;
    return strcmp(x->key, y->key);
}

/* Keys cannot contain NUL (rejected above), so strcmp compares them fully. */
static ff_status check_duplicates(parser *ps, const ff_json_member *m, size_t n) {
    if (n < 2) return FF_OK;
    if (n <= 16) {
        for (size_t i = 1; i < n; i++)
            for (size_t j = 0; j < i; j++)
                if (strcmp(m[i].key, m[j].key) == 0)
                    return ff_fail(FF_E_BAD_FORMAT, "%s: JSON duplicate key \"%s\" at byte %zu",
                                   ps->what, m[i].key, m[i].value.offset);
        return FF_OK;
    }
    const ff_json_member **idx = malloc(n * sizeof *idx);
    if (!idx) return oom(ps);
    for (size_t i = 0; i < n; i++) idx[i] = &m[i];
    qsort(idx, n, sizeof *idx, cmp_member_ptr);
    for (size_t i = 1; i < n; i++) {
        if (strcmp(idx[i]->key, idx[i - 1]->key) == 0) {
            const ff_json_member *later = idx[i] > idx[i - 1] ? idx[i] : idx[i - 1];
            ff_status st = ff_fail(FF_E_BAD_FORMAT, "%s: JSON duplicate key \"%s\" at byte %zu",
                                   ps->what, later->key, later->value.offset);
            free(idx);
            return st;
        }
    }
    free(idx);
    return FF_OK;
}

static ff_status parse_value(parser *ps, ff_json_value *v, int depth);

static ff_status parse_array(parser *ps, ff_json_value *v, int depth) {
    size_t mark = ps->nvals;
    ps->p++; /* [ */
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == ']') {
        ps->p++;
    } else {
        for (;;) {
            ff_json_value item;
            ff_status st = parse_value(ps, &item, depth + 1);
            if (st != FF_OK) return st;
            if (!push_value(ps, &item)) return oom(ps);
            skip_ws(ps);
            if (ps->p >= ps->end) return syntax(ps, "unterminated array");
            if (*ps->p == ',') {
                ps->p++;
                continue;
            }
            if (*ps->p == ']') {
                ps->p++;
                break;
            }
            return syntax(ps, "expected ',' or ']'");
        }
    }
    size_t n = ps->nvals - mark;
    v->kind = FF_JSON_ARRAY;
    v->u.array.count = n;
    v->u.array.items = NULL;
    if (n) {
        v->u.array.items = arena_alloc(ps->doc, n * sizeof(ff_json_value));
        if (!v->u.array.items) return oom(ps);
        memcpy(v->u.array.items, ps->vals + mark, n * sizeof(ff_json_value));
    }
    ps->nvals = mark;
    return FF_OK;
}

static ff_status parse_object(parser *ps, ff_json_value *v, int depth) {
    size_t mark = ps->nmems;
    ps->p++; /* { */
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
    } else {
        for (;;) {
            ff_json_member m;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != '"') return syntax(ps, "expected a string key");
            ff_status st = parse_string(ps, &m.key, &m.key_len);
            if (st != FF_OK) return st;
            skip_ws(ps);
            if (ps->p >= ps->end || *ps->p != ':') return syntax(ps, "expected ':'");
            ps->p++;
            st = parse_value(ps, &m.value, depth + 1);
            if (st != FF_OK) return st;
            if (!push_member(ps, &m)) return oom(ps);
            skip_ws(ps);
            if (ps->p >= ps->end) return syntax(ps, "unterminated object");
            if (*ps->p == ',') {
                ps->p++;
                continue;
            }
            if (*ps->p == '}') {
                ps->p++;
                break;
            }
            return syntax(ps, "expected ',' or '}'");
        }
    }
    size_t n = ps->nmems - mark;
    if (n > 1) FF_TRY(check_duplicates(ps, ps->mems + mark, n)); /* mems may still be NULL */
    v->kind = FF_JSON_OBJECT;
    v->u.object.count = n;
    v->u.object.members = NULL;
    if (n) {
        v->u.object.members = arena_alloc(ps->doc, n * sizeof(ff_json_member));
        if (!v->u.object.members) return oom(ps);
        memcpy(v->u.object.members, ps->mems + mark, n * sizeof(ff_json_member));
    }
    ps->nmems = mark;
    return FF_OK;
}

static bool literal(parser *ps, const char *word) {
    size_t n = strlen(word);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0) return false;
    ps->p += n;
    return true;
}

static ff_status parse_value(parser *ps, ff_json_value *v, int depth) {
    skip_ws(ps);
    if (ps->p >= ps->end) return syntax(ps, "unexpected end of text");
    memset(v, 0, sizeof *v);
    v->offset = pos(ps);
    switch (*ps->p) {
    case '{':
    case '[':
        if (depth >= ps->max_depth) return syntax(ps, "nesting too deep");
        return *ps->p == '{' ? parse_object(ps, v, depth) : parse_array(ps, v, depth);
    case '"':
        v->kind = FF_JSON_STRING;
        return parse_string(ps, &v->u.string.chars, &v->u.string.len);
    case 't':
    case 'f':
        v->kind = FF_JSON_BOOL;
        v->u.boolean = *ps->p == 't';
        if (literal(ps, v->u.boolean ? "true" : "false")) return FF_OK;
        return syntax(ps, "invalid literal");
    case 'n':
        v->kind = FF_JSON_NULL;
        if (literal(ps, "null")) return FF_OK;
        return syntax(ps, "invalid literal");
    default:
        if (*ps->p == '-' || (*ps->p >= '0' && *ps->p <= '9')) return parse_number(ps, v);
        return syntax(ps, "unexpected character");
    }
}

ff_status ff_json_parse(const char *text, size_t len, int max_depth, const char *what,
                        size_t base_offset, ff_json_doc **out) {
    if (!text || !out || max_depth < 1)
        return ff_fail(FF_E_INVALID_ARGUMENT, "ff_json_parse: NULL argument or bad depth");
    ff_json_doc *doc = calloc(1, sizeof *doc);
    if (!doc) return ff_fail(FF_E_OUT_OF_MEMORY, "%s: out of memory", what ? what : "JSON");
    parser ps = {0};
    ps.start = ps.p = (const unsigned char *)text;
    ps.end = ps.start + len;
    ps.what = what ? what : "JSON";
    ps.base = base_offset;
    ps.max_depth = max_depth;
    ps.doc = doc;
    ff_status st = parse_value(&ps, &doc->root, 0);
    if (st == FF_OK) {
        skip_ws(&ps);
        if (ps.p != ps.end) st = syntax(&ps, "trailing characters after the value");
    }
    free(ps.vals);
    free(ps.mems);
    if (st != FF_OK) {
        ff_json_free(doc);
        return st;
    }
    *out = doc;
    return FF_OK;
}

const ff_json_value *ff_json_root(const ff_json_doc *doc) { return doc ? &doc->root : NULL; }

void ff_json_free(ff_json_doc *doc) {
    if (!doc) return;
    arena_block *b = doc->blocks;
    while (b) {
        arena_block *n = b->next;
        free(b);
        b = n;
    }
    free(doc);
}

const ff_json_value *ff_json_get(const ff_json_value *v, const char *key) {
    if (!v || v->kind != FF_JSON_OBJECT || !key) return NULL;
    for (size_t i = 0; i < v->u.object.count; i++)
        if (strcmp(v->u.object.members[i].key, key) == 0) return &v->u.object.members[i].value;
    return NULL;
}

const char *ff_json_kind_name(ff_json_kind kind) {
    switch (kind) {
    case FF_JSON_NULL: return "null";
    case FF_JSON_BOOL: return "boolean";
    case FF_JSON_INT: return "integer";
    case FF_JSON_FLOAT: return "non-integer number";
    case FF_JSON_STRING: return "string";
    case FF_JSON_ARRAY: return "array";
    case FF_JSON_OBJECT: return "object";
    }
    return "?";
}
