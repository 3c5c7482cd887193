/* Safetensors reader/writer, JSON header parser, half-precision conversions
 * and atomic file writes. Malformed files are built here by byte
 * manipulation, one defect each; every failure checks status and message. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tensor/json.h"
#include "tensor/safetensors.h"
#include "test_util.h"

static uint32_t fbits(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

/* ---- dtypes and conversions ---------------------------------------- */

static void test_dtypes(void) {
    CHECK(ff_dtype_size(FF_DT_F32) == 4 && ff_dtype_size(FF_DT_BF16) == 2 && ff_dtype_size(FF_DT_I64) == 8);
    CHECK(ff_dtype_size(FF_DT_BOOL) == 1 && ff_dtype_size(FF_DT_U64) == 8);
    CHECK(ff_dtype_size((ff_dtype)99) == 0 && strcmp(ff_dtype_name((ff_dtype)99), "?") == 0);
    for (int i = 0; i < FF_DT_COUNT; i++) {
        ff_dtype d;
        CHECK(ff_dtype_from_name(ff_dtype_name((ff_dtype)i), &d) && d == (ff_dtype)i);
    }
    ff_dtype d;
    CHECK(!ff_dtype_from_name("F8_E4M3", &d) && !ff_dtype_from_name("f32", &d) && !ff_dtype_from_name(NULL, &d));

    /* F16 -> F32 edge values */
    CHECK(ff_f16_to_f32(0x3c00) == 1.0f);
    CHECK(ff_f16_to_f32(0xc000) == -2.0f);
    CHECK(ff_f16_to_f32(0x7bff) == 65504.0f);
    CHECK(ff_f16_to_f32(0x0400) == ldexpf(1, -14));      /* smallest normal */
    CHECK(ff_f16_to_f32(0x0001) == ldexpf(1, -24));      /* smallest subnormal */
    CHECK(ff_f16_to_f32(0x03ff) == ldexpf(1023, -24));   /* largest subnormal */
    CHECK(ff_f16_to_f32(0x8001) == -ldexpf(1, -24));
    CHECK(fbits(ff_f16_to_f32(0x8000)) == 0x80000000u);  /* -0 */
    CHECK(isinf(ff_f16_to_f32(0x7c00)) && ff_f16_to_f32(0x7c00) > 0);
    CHECK(isinf(ff_f16_to_f32(0xfc00)) && ff_f16_to_f32(0xfc00) < 0);
    CHECK(isnan(ff_f16_to_f32(0x7e00)) && isnan(ff_f16_to_f32(0x7c01)));
    /* Every F16 survives F16 -> F32 -> F16 (NaN stays NaN). */
    int bad = 0;
    for (uint32_t h = 0; h < 65536; h++) {
        float f = ff_f16_to_f32((uint16_t)h);
        uint16_t back = ff_f32_to_f16(f);
        bool nan_in = ((h & 0x7c00) == 0x7c00) && (h & 0x3ff);
        if (nan_in ? !(((back & 0x7c00) == 0x7c00) && (back & 0x3ff)) : back != h) bad++;
        uint16_t bback = ff_f32_to_bf16(ff_bf16_to_f32((uint16_t)h));
        bool bnan = ((h & 0x7f80) == 0x7f80) && (h & 0x7f);
        if (bnan ? !isnan(ff_bf16_to_f32(bback)) : bback != h) bad++;
    }
    CHECK(bad == 0);
    /* F32 -> F16 rounding: ties to even, overflow, underflow */
    CHECK(ff_f32_to_f16(1.0f + ldexpf(1, -11)) == 0x3c00);          /* tie -> even (down) */
    CHECK(ff_f32_to_f16(1.0f + 3 * ldexpf(1, -11)) == 0x3c02);      /* tie -> even (up) */
    CHECK(ff_f32_to_f16(1.0f + ldexpf(1, -11) + ldexpf(1, -20)) == 0x3c01);
    CHECK(ff_f32_to_f16(65519.0f) == 0x7bff);
    CHECK(ff_f32_to_f16(65520.0f) == 0x7c00);                       /* rounds to inf */
    CHECK(ff_f32_to_f16(1e10f) == 0x7c00 && ff_f32_to_f16(-1e10f) == 0xfc00);
    CHECK(ff_f32_to_f16(ldexpf(1, -25)) == 0x0000);                 /* tie -> even 0 */
    CHECK(ff_f32_to_f16(ldexpf(3, -26)) == 0x0001);                 /* 0.75 ulp -> 1 */
    CHECK(ff_f32_to_f16(ldexpf(3, -25)) == 0x0002);                 /* 1.5 ulp -> 2 (even) */
    CHECK(ff_f32_to_f16(ldexpf(1, -30)) == 0x0000 && ff_f32_to_f16(-ldexpf(1, -30)) == 0x8000);
    CHECK(ff_f32_to_f16(ldexpf(1, -14) - ldexpf(1, -26)) == 0x0400); /* subnormal rounds up to normal */
    CHECK(ff_f32_to_f16(INFINITY) == 0x7c00 && ff_f32_to_f16(-INFINITY) == 0xfc00);
    uint16_t hn = ff_f32_to_f16(NAN);
    CHECK((hn & 0x7c00) == 0x7c00 && (hn & 0x3ff));
    /* F32 -> BF16 */
    CHECK(ff_f32_to_bf16(1.0f) == 0x3f80);
    CHECK(ff_f32_to_bf16(1.0f + ldexpf(1, -8)) == 0x3f80);         /* tie -> even */
    CHECK(ff_f32_to_bf16(1.0f + 3 * ldexpf(1, -8)) == 0x3f82);
    CHECK(ff_f32_to_bf16(3.4e38f) == 0x7f80);                      /* rounds to inf */
    CHECK(isnan(ff_bf16_to_f32(ff_f32_to_bf16(NAN))));
    uint32_t sig_nan_bits = 0x7f800001u; /* payload only in the low bits */
    float sig_nan;
    memcpy(&sig_nan, &sig_nan_bits, 4);
    CHECK(isnan(ff_bf16_to_f32(ff_f32_to_bf16(sig_nan))));
    CHECK(ff_bf16_to_f32(0x0001) == ldexpf(1, -133));               /* bf16 subnormal */
}

/* ---- JSON ------------------------------------------------------------ */

static ff_status parse(const char *s, ff_json_doc **doc) {
    return ff_json_parse(s, strlen(s), 8, "j", 0, doc);
}

static void json_bad(const char *s, const char *frag) {
    ff_json_doc *doc = NULL;
    CHECK_STATUS(parse(s, &doc), FF_E_BAD_FORMAT);
    CHECK_MSG(frag);
    CHECK(doc == NULL);
}

static void test_json(void) {
    ff_json_doc *doc = NULL;
    CHECK_OK(parse(" {\"a\": [1, -2, 9007199254740992, 1.5e3, true, false, null],"
                   " \"s\": \"x\\u00e9\\u2713\\ud83d\\ude00\\n\\\"\\\\\\/\\b\\f\\r\\t\", \"o\": {}} ",
                   &doc));
    const ff_json_value *r = ff_json_root(doc);
    CHECK(r->kind == FF_JSON_OBJECT && r->u.object.count == 3);
    const ff_json_value *a = ff_json_get(r, "a");
    CHECK(a && a->kind == FF_JSON_ARRAY && a->u.array.count == 7);
    if (a && a->u.array.count == 7) {
        CHECK(a->u.array.items[0].u.integer == 1 && a->u.array.items[1].u.integer == -2);
        CHECK(a->u.array.items[2].u.integer == FF_JSON_MAX_INT);
        CHECK(a->u.array.items[3].kind == FF_JSON_FLOAT);
        CHECK(a->u.array.items[4].kind == FF_JSON_BOOL && a->u.array.items[4].u.boolean);
        CHECK(a->u.array.items[6].kind == FF_JSON_NULL);
        CHECK(a->u.array.items[1].offset == 11);
    }
    const ff_json_value *s = ff_json_get(r, "s");
    CHECK(s && s->kind == FF_JSON_STRING &&
          strcmp(s->u.string.chars, "x\xc3\xa9\xe2\x9c\x93\xf0\x9f\x98\x80\n\"\\/\b\f\r\t") == 0);
    CHECK(ff_json_get(r, "o") && ff_json_get(r, "o")->u.object.count == 0 && !ff_json_get(r, "zz"));
    ff_json_free(doc);
    /* 20 keys: the duplicate check switches to sorting above 16 */
    CHECK_OK(parse("{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,"
                   "\"ka\":0,\"kb\":1,\"kc\":2,\"kd\":3,\"ke\":4,\"kf\":5,\"kg\":6,\"kh\":7,\"ki\":8,\"kj\":9}",
                   &doc));
    ff_json_free(doc);
    json_bad("{\"k0\":0,\"k1\":1,\"k2\":2,\"k3\":3,\"k4\":4,\"k5\":5,\"k6\":6,\"k7\":7,\"k8\":8,\"k9\":9,"
             "\"ka\":0,\"kb\":1,\"kc\":2,\"kd\":3,\"k5\":4,\"kf\":5,\"kg\":6,\"kh\":7,\"ki\":8,\"kj\":9}",
             "duplicate key \"k5\"");
    json_bad("{\"a\":1,\"a\":2}", "duplicate key \"a\"");
    json_bad("", "unexpected end");
    json_bad("{\"a\":", "unexpected end");
    json_bad("{} x", "trailing characters");
    json_bad("{}{}", "trailing characters");
    json_bad("{\"a\":1,}", "expected a string key");
    json_bad("[1,]", "unexpected character");
    json_bad("[1 2]", "expected ',' or ']'");
    json_bad("{\"a\" 1}", "expected ':'");
    json_bad("{'a':1}", "expected a string key");
    json_bad("[01]", "leading zero");
    json_bad("[1.]", "invalid number");
    json_bad("[1e]", "invalid number");
    json_bad("[-]", "invalid number");
    json_bad("[+1]", "unexpected character");
    json_bad("[9007199254740993]", "beyond 2^53");
    json_bad("[-9007199254740993]", "beyond 2^53");
    json_bad("[99999999999999999999999999]", "beyond 2^53");
    json_bad("[tru]", "invalid literal");
    json_bad("[nul]", "invalid literal");
    json_bad("[\"abc]", "unterminated string");
    json_bad("[\"a\\qb\"]", "invalid escape");
    json_bad("[\"\\u12G4\"]", "invalid \\u escape");
    json_bad("[\"\\u12\"]", "invalid \\u escape");
    json_bad("[\"\\ud800\"]", "unpaired high surrogate");
    json_bad("[\"\\ud800\\u0041\"]", "unpaired high surrogate");
    json_bad("[\"\\udc00\"]", "unpaired low surrogate");
    json_bad("[\"a\\u0000b\"]", "\\u0000");
    json_bad("[\"a\tb\"]", "control character");
    json_bad("[\"\xc3\x28\"]", "invalid UTF-8");
    json_bad("[\"\xed\xa0\x80\"]", "invalid UTF-8"); /* encoded surrogate */
    json_bad("[\"\xc0\xaf\"]", "invalid UTF-8");     /* overlong */
    json_bad("[\"\xf4\x90\x80\x80\"]", "invalid UTF-8");
    json_bad("[\"\xe2\x9c\"]", "invalid UTF-8");     /* truncated */
    json_bad("[[[[[[[[[1]]]]]]]]]", "nesting too deep");
    CHECK_OK(parse("[[[[[[[[1]]]]]]]]", &doc)); /* exactly 8 levels */
    ff_json_free(doc);
    /* not NUL-terminated input: parse only the given length */
    CHECK_OK(ff_json_parse("[1]xyz", 3, 4, "j", 0, &doc));
    ff_json_free(doc);
    CHECK_STATUS(ff_json_parse(NULL, 0, 4, "j", 0, &doc), FF_E_INVALID_ARGUMENT);
    /* error positions count from base_offset */
    CHECK_STATUS(ff_json_parse("[1,]", 4, 4, "j", 100, &doc), FF_E_BAD_FORMAT);
    CHECK_MSG("at byte 103");
}

/* ---- helpers to build files ----------------------------------------- */

typedef struct buf {
    uint8_t *p;
    size_t n;
} buf;

/* 8-byte length + header + data_size bytes (value = index & 0xff). */
static buf make_file(const char *header, size_t data_size) {
    size_t h = strlen(header);
    buf b;
    b.n = 8 + h + data_size;
    b.p = malloc(b.n);
    for (int i = 0; i < 8; i++) b.p[i] = (uint8_t)((uint64_t)h >> (8 * i));
    memcpy(b.p + 8, header, h);
    for (size_t i = 0; i < data_size; i++) b.p[8 + h + i] = (uint8_t)i;
    return b;
}

static void open_bad(const char *header, size_t data_size, const char *frag1, const char *frag2) {
    buf b = make_file(header, data_size);
    ff_st_file *f = NULL;
    CHECK_STATUS(ff_st_open_memory(b.p, b.n, "bad.st", &f), FF_E_BAD_FORMAT);
    CHECK_MSG("bad.st: ");
    CHECK_MSG(frag1);
    if (frag2) CHECK_MSG(frag2);
    CHECK(f == NULL);
    free(b.p);
}

static void open_good(const char *header, size_t data_size, size_t count) {
    buf b = make_file(header, data_size);
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open_memory(b.p, b.n, "good.st", &f));
    CHECK(ff_st_count(f) == count);
    ff_st_close(f);
    free(b.p);
}

#define T(name, dtype, shape, offs) "\"" name "\":{\"dtype\":\"" dtype "\",\"shape\":" shape ",\"data_offsets\":" offs "}"

static void test_malformed(void) {
    ff_st_file *f = NULL;
    uint8_t tiny[5] = {1, 0, 0, 0, 0};
    CHECK_STATUS(ff_st_open_memory(tiny, sizeof tiny, "bad.st", &f), FF_E_BAD_FORMAT);
    CHECK_MSG("too short (5 bytes)");
    CHECK_STATUS(ff_st_open_memory(tiny, 0, "bad.st", &f), FF_E_BAD_FORMAT);
    CHECK_MSG("too short (0 bytes)");

    /* header length beyond the file / absurd */
    buf b = make_file("{}", 0);
    b.p[0] = 3; /* 3 > 2 bytes available */
    CHECK_STATUS(ff_st_open_memory(b.p, b.n, "bad.st", &f), FF_E_BAD_FORMAT);
    CHECK_MSG("header length 3 exceeds the file (2 bytes");
    b.p[0] = 0;
    b.p[7] = 0x80; /* 2^63 */
    CHECK_STATUS(ff_st_open_memory(b.p, b.n, "bad.st", &f), FF_E_BAD_FORMAT);
    CHECK_MSG("absurd");
    memset(b.p, 0, 8);
    b.p[0] = 0x01;
    b.p[3] = 0x06; /* 100663297 > 100e6 */
    CHECK_STATUS(ff_st_open_memory(b.p, b.n, "bad.st", &f), FF_E_BAD_FORMAT);
    CHECK_MSG("header length 100663297 is absurd");
    memset(b.p, 0, 8); /* N = 0: empty JSON */
    CHECK_STATUS(ff_st_open_memory(b.p, b.n, "bad.st", &f), FF_E_BAD_FORMAT);
    CHECK_MSG("JSON unexpected end of text at byte 8");
    free(b.p);

    /* JSON problems, positioned in file bytes */
    open_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}", 4, "JSON unterminated object", "byte 61");
    open_bad("{}x", 0, "JSON trailing characters", "byte 10");
    b = make_file("{}\0\0", 0); /* NUL padding is not JSON whitespace */
    b.p[0] = 4;
    b.n += 2;
    b.p = realloc(b.p, b.n);
    b.p[10] = b.p[11] = 0;
    CHECK_STATUS(ff_st_open_memory(b.p, b.n, "bad.st", &f), FF_E_BAD_FORMAT);
    CHECK_MSG("JSON trailing characters after the value at byte 10");
    free(b.p);
    open_bad("[]", 0, "header is not a JSON object (found array)", NULL);
    open_bad("\"x\"", 0, "header is not a JSON object (found string)", NULL);
    open_bad("{" T("a", "F32", "[1]", "[0,4]") "," T("a", "F32", "[1]", "[4,8]") "}", 8, "duplicate key \"a\"", NULL);

    /* tensor entries */
    open_bad("{\"a\":5}", 0, "tensor 'a': entry is not an object (found integer", NULL);
    open_bad("{" T("a", "F8_E4M3", "[1]", "[0,1]") "}", 1, "tensor 'a': unknown or unsupported dtype 'F8_E4M3'", NULL);
    open_bad("{" T("a", "f32", "[1]", "[0,4]") "}", 4, "unknown or unsupported dtype 'f32'", NULL);
    open_bad("{\"a\":{\"dtype\":7,\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'a': dtype is not a string", NULL);
    open_bad("{\"a\":{\"shape\":[1],\"data_offsets\":[0,4]}}", 4, "tensor 'a': missing \"dtype\"", NULL);
    open_bad("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}", 4, "tensor 'a': missing \"shape\"", NULL);
    open_bad("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4, "tensor 'a': missing \"data_offsets\"", NULL);
    open_bad("{" T("a", "F32", "3", "[0,12]") "}", 12, "tensor 'a': \"shape\" is not a list of non-negative integers", NULL);
    open_bad("{" T("a", "F32", "[-1]", "[0,4]") "}", 4, "\"shape\"[0] is not a non-negative integer (negative integer", NULL);
    open_bad("{" T("a", "F32", "[2,1.5]", "[0,4]") "}", 4, "\"shape\"[1] is not a non-negative integer (non-integer number", NULL);
    open_bad("{" T("a", "F32", "[\"2\"]", "[0,8]") "}", 8, "\"shape\"[0] is not a non-negative integer (string", NULL);
    open_bad("{" T("a", "F32", "[1,1,1,1,1,1,1,1,1]", "[0,4]") "}", 4, "tensor 'a': 9 dimensions (at most 8", NULL);
    open_bad("{" T("a", "F32", "[9007199254740992,9007199254740992]", "[0,4]") "}", 4, "tensor 'a': element count of the shape overflows", NULL);
    open_bad("{" T("a", "F64", "[9007199254740992,1024]", "[0,4]") "}", 4, "overflows", NULL);
    open_bad("{" T("a", "F32", "[1]", "[0]") "}", 4, "\"data_offsets\" is not a list of two non-negative integers", NULL);
    open_bad("{" T("a", "F32", "[1]", "[0,4,8]") "}", 8, "list of two non-negative integers", NULL);
    open_bad("{" T("a", "F32", "[1]", "{}") "}", 4, "list of two non-negative integers", NULL);
    open_bad("{" T("a", "F32", "[1]", "[-4,0]") "}", 4, "\"data_offsets\"[0] is not a non-negative integer", NULL);
    open_bad("{" T("a", "F32", "[1]", "[0,4.0]") "}", 4, "\"data_offsets\"[1] is not a non-negative integer", NULL);
    open_bad("{" T("a", "F32", "[0]", "[8,4]") "}", 8, "tensor 'a': data_offsets [8, 4] has begin > end", NULL);
    open_bad("{" T("a", "F32", "[2,3]", "[0,20]") "}", 24, "tensor 'a': data_offsets [0, 20] span 20 bytes but F32 [2, 3] needs 24", NULL);
    open_bad("{" T("a", "F16", "[2]", "[0,8]") "}", 8, "span 8 bytes but F16 [2] needs 4", NULL);
    open_bad("{" T("a", "F32", "[]", "[0,0]") "}", 4, "span 0 bytes but F32 [] needs 4", NULL);
    /* header is 55 bytes, so the data section starts at file byte 63 */
    open_bad("{" T("a", "F32", "[2]", "[4,12]") "}", 8,
             "tensor 'a': data_offsets [4, 12] outside the data section of 8 bytes", "file bytes 67..75, file size 71");
    open_bad("{" T("a", "U8", "[9007199254740000]", "[0,9007199254740000]") "}", 8, "outside the data section", NULL);
    open_bad("{" T("a", "F32", "[0]", "[9,9]") "}", 8, "outside the data section", NULL);
    open_bad("{" T("a", "F32", "[2]", "[0,8]") "," T("b", "F32", "[2]", "[4,12]") "}", 12,
             "tensors 'a' [0, 8] and 'b' [4, 12] have overlapping data_offsets", NULL);
    /* overlap found after sorting by begin, against the furthest range so far */
    open_bad("{" T("c", "U8", "[2]", "[10,12]") "," T("a", "U8", "[10]", "[0,10]") "," T("b", "U8", "[1]", "[2,3]") "}", 12,
             "tensors 'a' [0, 10] and 'b' [2, 3] have overlapping", NULL);
    open_bad("{" T("a", "U8", "[4]", "[0,4]") "," T("b", "U8", "[4]", "[0,4]") "}", 4, "overlapping", NULL);

    open_bad("{\"__metadata__\":{\"k\":[[[[[[[[[[[[[[[[[[[[\"deep\"]]]]]]]]]]]]]]]]]]]}}", 0, "JSON nesting too deep", NULL);

    /* metadata */
    open_bad("{\"__metadata__\":5}", 0, "__metadata__ is not an object of strings (found integer", NULL);
    open_bad("{\"__metadata__\":null}", 0, "__metadata__ is not an object of strings (found null", NULL);
    open_bad("{\"__metadata__\":{\"k\":\"v\",\"n\":1}}", 0, "__metadata__ value of 'n' is not a string (found integer", NULL);
    open_bad("{\"__metadata__\":{\"k\":{}}}", 0, "value of 'k' is not a string (found object", NULL);
    open_bad("{\"__metadata__\":{\"k\":\"a\",\"k\":\"b\"}}", 0, "duplicate key \"k\"", NULL);

    /* accepted leniencies and edge cases */
    open_good("{}", 0, 0);
    open_good("{}   ", 0, 0);                                  /* space padding */
    open_good("{}", 5, 0);                                     /* trailing bytes */
    open_good("{" T("a", "U8", "[2]", "[0,2]") "," T("b", "U8", "[2]", "[6,8]") "}", 8, 2); /* hole */
    open_good("{" T("a", "U8", "[8]", "[0,8]") "," T("z", "F32", "[0,5]", "[4,4]") "}", 8, 2); /* empty inside */
    open_good("{" T("z", "F32", "[0]", "[8,8]") "}", 8, 1);  /* empty at the very end */
    open_good("{" T("a", "U8", "[2]", "[6,8]") "," T("b", "U8", "[2]", "[0,2]") "}", 8, 2); /* any order */
    open_good("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1],\"extra\":[1.5]},\"__metadata__\":{}}", 1, 1);
    open_good("{" T("", "U8", "[1]", "[0,1]") "}", 1, 1);    /* empty name */
}

/* ---- round trip ------------------------------------------------------- */

static const char *tricky = "quote \" backslash \\ tab \t nl \n cr \r bell \a \x1f del \x7f caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80 /";

static void test_round_trip(void) {
    ff_st_writer *w = NULL;
    CHECK_OK(ff_st_writer_create(&w));
    float f32[6] = {1.5f, -2.0f, 0.0f, 3.25f, 1e-40f /* subnormal */, 65504.0f};
    int64_t s23[2] = {2, 3};
    CHECK_OK(ff_st_writer_add_f32(w, "f32", 2, s23, f32));
    /* F16 and BF16 through the converters, with specials */
    float src[8] = {1.0f, -0.0f, 0.1f, 65504.0f, ldexpf(1, -24), INFINITY, -INFINITY, NAN};
    uint16_t h[8], bf[8];
    for (int i = 0; i < 8; i++) {
        h[i] = ff_f32_to_f16(src[i]);
        bf[i] = ff_f32_to_bf16(src[i]);
    }
    int64_t s8[1] = {8};
    CHECK_OK(ff_st_writer_add(w, "f16", FF_DT_F16, 1, s8, h));
    CHECK_OK(ff_st_writer_add(w, "bf16", FF_DT_BF16, 1, s8, bf));
    double f64[3] = {0.1, -1e300, 1e-300};
    int64_t s3[1] = {3};
    CHECK_OK(ff_st_writer_add(w, "f64", FF_DT_F64, 1, s3, f64));
    int64_t i64[3] = {INT64_MIN, -1, INT64_MAX};
    CHECK_OK(ff_st_writer_add_i64(w, "i64", 1, s3, i64));
    int32_t i32[3] = {INT32_MIN, 0, INT32_MAX};
    CHECK_OK(ff_st_writer_add(w, "i32", FF_DT_I32, 1, s3, i32));
    int16_t i16[3] = {INT16_MIN, 1, INT16_MAX};
    CHECK_OK(ff_st_writer_add(w, "i16", FF_DT_I16, 1, s3, i16));
    int8_t i8[3] = {-128, 0, 127};
    CHECK_OK(ff_st_writer_add(w, "i8", FF_DT_I8, 1, s3, i8));
    uint8_t u8[3] = {0, 1, 255};
    CHECK_OK(ff_st_writer_add(w, "u8", FF_DT_U8, 1, s3, u8));
    uint8_t bools[3] = {1, 0, 1};
    CHECK_OK(ff_st_writer_add(w, "bool", FF_DT_BOOL, 1, s3, bools));
    uint16_t u16[3] = {0, 1, 65535};
    CHECK_OK(ff_st_writer_add(w, "u16", FF_DT_U16, 1, s3, u16));
    uint32_t u32[3] = {0, 1, UINT32_MAX};
    CHECK_OK(ff_st_writer_add(w, "u32", FF_DT_U32, 1, s3, u32));
    uint64_t u64[3] = {0, 1, (uint64_t)INT64_MAX};
    CHECK_OK(ff_st_writer_add(w, "u64", FF_DT_U64, 1, s3, u64));
    uint64_t u64big[1] = {(uint64_t)INT64_MAX + 1};
    int64_t s1[1] = {1};
    CHECK_OK(ff_st_writer_add(w, "u64big", FF_DT_U64, 1, s1, u64big));
    float scalar = 7.0f;
    CHECK_OK(ff_st_writer_add_f32(w, "scalar", 0, NULL, &scalar));
    int64_t s_empty[3] = {4, 0, 2};
    CHECK_OK(ff_st_writer_add_f32(w, "empty", 3, s_empty, NULL));
    int64_t s_empty_huge[3] = {FF_JSON_MAX_INT, 0, FF_JSON_MAX_INT}; /* empty: no overflow */
    CHECK_OK(ff_st_writer_add_f32(w, "empty_huge", 3, s_empty_huge, NULL));
    CHECK_OK(ff_st_writer_add(w, tricky, FF_DT_U8, 1, s1, u8));
    CHECK_OK(ff_st_writer_set_meta(w, "arch", "first"));
    CHECK_OK(ff_st_writer_set_meta(w, tricky, tricky));
    CHECK_OK(ff_st_writer_set_meta(w, "arch", "resnet18")); /* replaces */
    CHECK_OK(ff_st_writer_set_meta(w, "", ""));

    char path[512];
    snprintf(path, sizeof path, "%s/rt.safetensors", ff_test_tmpdir());
    CHECK_OK(ff_st_writer_save(w, path));
    uint8_t *mem = NULL, *disk = NULL;
    size_t mem_n = 0, disk_n = 0;
    CHECK_OK(ff_st_writer_serialize(w, &mem, &mem_n));
    CHECK_OK(ff_read_file(path, &disk, &disk_n));
    CHECK(mem_n == disk_n && mem && disk && memcmp(mem, disk, mem_n) == 0);
    CHECK(disk && disk[disk_n] == 0); /* NUL beyond size */
    /* header padded with spaces so the data section starts 8-aligned */
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | mem[i];
    CHECK(hlen % 8 == 0 && hlen < mem_n);
    CHECK(mem[8] == '{');
    size_t last = 8 + hlen - 1;
    while (mem[last] == ' ') last--;
    CHECK(mem[last] == '}' && 8 + hlen - 1 - last < 8);
    CHECK(memcmp(mem + 8, "{\"__metadata__\":{\"arch\":\"resnet18\"", 34) == 0);
    free(mem);
    free(disk);
    ff_st_writer_destroy(w);

    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open(path, &f));
    CHECK(ff_st_count(f) == 18);
    const char *order[18] = {"f32", "f16", "bf16", "f64", "i64", "i32", "i16", "i8", "u8",
                             "bool", "u16", "u32", "u64", "u64big", "scalar", "empty", "empty_huge", tricky};
    for (size_t i = 0; i < 18; i++) CHECK(ff_st_at(f, i) && strcmp(ff_st_at(f, i)->name, order[i]) == 0);
    CHECK(ff_st_at(f, 18) == NULL);
    const ff_st_tensor *t = ff_st_find(f, "f32");
    CHECK(t && t->dtype == FF_DT_F32 && t->ndim == 2 && t->shape[0] == 2 && t->shape[1] == 3 && t->numel == 6 &&
          t->nbytes == 24 && memcmp(t->data, f32, 24) == 0);
    t = ff_st_find(f, "scalar");
    CHECK(t && t->ndim == 0 && t->numel == 1 && t->nbytes == 4);
    t = ff_st_find(f, "empty");
    CHECK(t && t->ndim == 3 && t->numel == 0 && t->nbytes == 0 && t->shape[0] == 4 && t->shape[1] == 0);
    t = ff_st_find(f, "empty_huge");
    CHECK(t && t->numel == 0 && t->shape[2] == FF_JSON_MAX_INT);
    t = ff_st_find(f, "u64");
    CHECK(t && t->dtype == FF_DT_U64 && memcmp(t->data, u64, sizeof u64) == 0);

    float out[8];
    CHECK_OK(ff_st_read_f32(f, "f32", 2, s23, out));
    CHECK(memcmp(out, f32, sizeof f32) == 0);
    CHECK_OK(ff_st_read_f32(f, "f32", 0, NULL, out)); /* no shape check */
    CHECK_OK(ff_st_read_f32(f, "f16", 1, s8, out));
    CHECK(out[0] == 1.0f && fbits(out[1]) == 0x80000000u && out[3] == 65504.0f && out[4] == ldexpf(1, -24));
    CHECK(out[2] == ff_f16_to_f32(0x2e66) && fabsf(out[2] - 0.1f) < 1e-4f);
    CHECK(isinf(out[5]) && out[5] > 0 && isinf(out[6]) && out[6] < 0 && isnan(out[7]));
    CHECK_OK(ff_st_read_f32(f, "bf16", 1, s8, out));
    CHECK(out[0] == 1.0f && fbits(out[1]) == 0x80000000u && fabsf(out[2] - 0.1f) < 1e-3f && out[2] != 0.1f);
    CHECK(out[3] == 65536.0f && isinf(out[5]) && isinf(out[6]) && isnan(out[7]));
    CHECK_OK(ff_st_read_f32(f, "f64", 1, s3, out));
    CHECK(out[0] == 0.1f && isinf(out[1]) && out[1] < 0 && out[2] == 0.0f);
    CHECK_OK(ff_st_read_f32(f, "scalar", 0, NULL, out));
    CHECK(out[0] == 7.0f);
    int64_t s_none[1];
    CHECK_OK(ff_st_read_f32(f, "scalar", 0, s_none, out));
    out[0] = 123.0f;
    CHECK_OK(ff_st_read_f32(f, "empty", 3, s_empty, out));
    CHECK(out[0] == 123.0f);

    int64_t iv[3];
    CHECK_OK(ff_st_read_i64(f, "i64", 1, s3, iv));
    CHECK(iv[0] == INT64_MIN && iv[1] == -1 && iv[2] == INT64_MAX);
    CHECK_OK(ff_st_read_i64(f, "i32", 1, s3, iv));
    CHECK(iv[0] == INT32_MIN && iv[1] == 0 && iv[2] == INT32_MAX);
    CHECK_OK(ff_st_read_i64(f, "i16", 1, s3, iv));
    CHECK(iv[0] == INT16_MIN && iv[1] == 1 && iv[2] == INT16_MAX);
    CHECK_OK(ff_st_read_i64(f, "i8", 1, s3, iv));
    CHECK(iv[0] == -128 && iv[1] == 0 && iv[2] == 127);
    CHECK_OK(ff_st_read_i64(f, "u8", 1, s3, iv));
    CHECK(iv[0] == 0 && iv[1] == 1 && iv[2] == 255);
    CHECK_OK(ff_st_read_i64(f, "bool", 1, s3, iv));
    CHECK(iv[0] == 1 && iv[1] == 0 && iv[2] == 1);
    CHECK_OK(ff_st_read_i64(f, "u16", 1, s3, iv));
    CHECK(iv[2] == 65535);
    CHECK_OK(ff_st_read_i64(f, "u32", 1, s3, iv));
    CHECK(iv[2] == (int64_t)UINT32_MAX);
    CHECK_OK(ff_st_read_i64(f, "u64", 1, s3, iv));
    CHECK(iv[2] == INT64_MAX);
    iv[0] = 5;
    CHECK_STATUS(ff_st_read_i64(f, "u64big", 1, s1, iv), FF_E_BAD_FORMAT);
    CHECK_MSG("tensor 'u64big' (U64): element 0 = 9223372036854775808 exceeds the int64 range");
    CHECK(iv[0] == 5);

    /* errors of the typed readers */
    out[0] = 99.0f;
    CHECK_STATUS(ff_st_read_f32(f, "nope", 1, s3, out), FF_E_BAD_FORMAT);
    CHECK_MSG("missing tensor 'nope'");
    int64_t s32[2] = {3, 2};
    CHECK_STATUS(ff_st_read_f32(f, "f32", 2, s32, out), FF_E_BAD_FORMAT);
    CHECK_MSG("tensor 'f32' has shape [2, 3], expected [3, 2]");
    CHECK_STATUS(ff_st_read_f32(f, "f32", 1, s3, out), FF_E_BAD_FORMAT);
    CHECK_MSG("has shape [2, 3], expected [3]");
    CHECK_STATUS(ff_st_read_f32(f, "i64", 1, s3, out), FF_E_BAD_FORMAT);
    CHECK_MSG("tensor 'i64' has integer dtype I64; a floating-point tensor");
    CHECK(out[0] == 99.0f);
    CHECK_STATUS(ff_st_read_i64(f, "f32", 2, s23, iv), FF_E_BAD_FORMAT);
    CHECK_MSG("tensor 'f32' has floating-point dtype F32; an integer tensor was expected");
    CHECK_STATUS(ff_st_read_i64(f, "nope", 0, NULL, iv), FF_E_BAD_FORMAT);
    CHECK_MSG("missing tensor 'nope'");
    CHECK_STATUS(ff_st_read_f32(f, "f32", 9, s23, out), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_st_read_f32(f, "f32", -1, s23, out), FF_E_INVALID_ARGUMENT);

    /* metadata */
    CHECK(ff_st_meta_count(f) == 3);
    CHECK(ff_st_meta(f, "arch") && strcmp(ff_st_meta(f, "arch"), "resnet18") == 0);
    CHECK(ff_st_meta(f, tricky) && strcmp(ff_st_meta(f, tricky), tricky) == 0);
    CHECK(ff_st_meta(f, "") && ff_st_meta(f, "")[0] == '\0');
    CHECK(ff_st_meta(f, "missing") == NULL);
    const char *k = "x", *v = "y";
    ff_st_meta_at(f, 1, &k, &v);
    CHECK(strcmp(k, tricky) == 0 && strcmp(v, tricky) == 0);
    ff_st_meta_at(f, 3, &k, &v);
    CHECK(k == NULL && v == NULL);
    ff_st_close(f);

    /* an empty writer gives a valid empty file */
    CHECK_OK(ff_st_writer_create(&w));
    CHECK_OK(ff_st_writer_serialize(w, &mem, &mem_n));
    CHECK(mem_n == 16 && memcmp(mem + 8, "{}      ", 8) == 0);
    CHECK_OK(ff_st_open_memory(mem, mem_n, "empty", &f));
    CHECK(ff_st_count(f) == 0 && ff_st_meta_count(f) == 0);
    ff_st_close(f);
    free(mem);
    ff_st_writer_destroy(w);
}

/* ---- golden file written by tools/reference/st_io.py ------------------- */

static void test_golden(void) {
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path("st_reference.safetensors"), &f));
    if (!f) return;
    CHECK(ff_st_count(f) == 10);
    CHECK(strcmp(ff_st_at(f, 0)->name, "conv.weight") == 0 && strcmp(ff_st_at(f, 9)->name, "single") == 0);
    float v[12];
    int64_t s23[2] = {2, 3};
    CHECK_OK(ff_st_read_f32(f, "conv.weight", 2, s23, v));
    for (int i = 0; i < 6; i++) CHECK(v[i] == (float)i * 0.5f - 1.0f);
    int64_t s12[1] = {12};
    CHECK_OK(ff_st_read_f32(f, "half", 1, s12, v));
    CHECK(v[0] == 0.0f && fbits(v[1]) == 0x80000000u && v[2] == 1.0f && v[3] == -2.5f && v[4] == 65504.0f);
    CHECK(v[5] == ldexpf(1, -14) && v[6] == ldexpf(1, -24) && v[11] == ldexpf(3, -24));
    CHECK(isinf(v[7]) && v[7] > 0 && isinf(v[8]) && v[8] < 0 && isnan(v[9]));
    CHECK(v[10] == ldexpf(1365, -12)); /* numpy's f16(1/3) = 0x3555 */
    int64_t s3[1] = {3};
    CHECK_OK(ff_st_read_f32(f, "f64", 1, s3, v));
    CHECK(v[0] == 1.0f && v[1] == 0.5f && v[2] == (float)(1.0 / 3.0));
    int64_t iv[3];
    CHECK_OK(ff_st_read_i64(f, "steps", 1, s3, iv));
    CHECK(iv[0] == 0 && iv[1] == -5 && iv[2] == ((int64_t)1 << 40));
    int64_t s12b[2] = {1, 2};
    CHECK_OK(ff_st_read_i64(f, "i32", 2, s12b, iv));
    CHECK(iv[0] == -7 && iv[1] == 7);
    CHECK_OK(ff_st_read_i64(f, "u8", 1, s3, iv));
    CHECK(iv[0] == 0 && iv[1] == 255 && iv[2] == 128);
    int64_t s2[1] = {2};
    CHECK_OK(ff_st_read_i64(f, "i8", 1, s2, iv));
    CHECK(iv[0] == -128 && iv[1] == 127);
    CHECK_OK(ff_st_read_i64(f, "i16", 1, s2, iv)); /* unaligned: data offset 109 */
    CHECK(iv[0] == -32768 && iv[1] == 32767);
    int64_t s04[2] = {0, 4};
    CHECK_OK(ff_st_read_f32(f, "empty", 2, s04, v));
    int64_t s1[1] = {1};
    CHECK_OK(ff_st_read_f32(f, "single", 1, s1, v)); /* unaligned: data offset 113 */
    CHECK(v[0] == 42.0f);
    const ff_st_tensor *t = ff_st_find(f, "single");
    CHECK(t && ((uintptr_t)t->data & 3) != 0);
    CHECK(ff_st_meta_count(f) == 2);
    CHECK(ff_st_meta(f, "format") && strcmp(ff_st_meta(f, "format"), "st_reference") == 0);
    const char *want = "quote \" backslash \\ tab \t newline \n caf\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x98\x80";
    CHECK(ff_st_meta(f, "tricky") && strcmp(ff_st_meta(f, "tricky"), want) == 0);
    ff_st_close(f);
}

/* ---- files and atomic writes ------------------------------------------ */

static int count_temp_files(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strstr(e->d_name, ".tmp-")) n++;
    closedir(d);
    return n;
}

static void test_files(void) {
    const char *tmp = ff_test_tmpdir();
    char path[1024], dirpath[600];
    ff_st_file *f = NULL;
    snprintf(path, sizeof path, "%s/does-not-exist.safetensors", tmp);
    CHECK_STATUS(ff_st_open(path, &f), FF_E_IO);
    CHECK_MSG("cannot open");
    CHECK_MSG("does-not-exist.safetensors");
    CHECK_STATUS(ff_st_open(tmp, &f), FF_E_IO); /* a folder */
    CHECK_MSG("not a regular file");
    CHECK(f == NULL);
    /* a truncated real file names the path */
    snprintf(path, sizeof path, "%s/short.safetensors", tmp);
    CHECK_OK(ff_write_file_atomic(path, "abc", 3));
    CHECK_STATUS(ff_st_open(path, &f), FF_E_BAD_FORMAT);
    CHECK_MSG("short.safetensors: file too short (3 bytes)");

    /* nonexistent folder: clean failure, nothing created */
    snprintf(dirpath, sizeof dirpath, "%s/no-such-dir", tmp);
    snprintf(path, sizeof path, "%s/x.safetensors", dirpath);
    CHECK_STATUS(ff_write_file_atomic(path, "abc", 3), FF_E_IO);
    CHECK_MSG("cannot create a temporary file beside");
    struct stat st;
    CHECK(stat(dirpath, &st) != 0);
    ff_st_writer *w = NULL;
    CHECK_OK(ff_st_writer_create(&w));
    CHECK_STATUS(ff_st_writer_save(w, path), FF_E_IO);
    CHECK(count_temp_files(tmp) == 0);

    /* rename fails (target is a non-empty folder): temp removed, target intact */
    snprintf(dirpath, sizeof dirpath, "%s/target-dir", tmp);
    CHECK(mkdir(dirpath, 0755) == 0);
    snprintf(path, sizeof path, "%s/keep", dirpath);
    CHECK_OK(ff_write_file_atomic(path, "k", 1));
    CHECK_STATUS(ff_st_writer_save(w, dirpath), FF_E_IO);
    CHECK_MSG("target left unchanged");
    CHECK(count_temp_files(tmp) == 0 && stat(path, &st) == 0 && S_ISREG(st.st_mode));
    CHECK_STATUS(ff_write_file_atomic("", "a", 1), FF_E_INVALID_ARGUMENT);
    snprintf(path, sizeof path, "%s/", tmp);
    CHECK_STATUS(ff_write_file_atomic(path, "a", 1), FF_E_INVALID_ARGUMENT);
    ff_st_writer_destroy(w);

    /* new files are 0644; an overwritten file keeps its mode */
    snprintf(path, sizeof path, "%s/mode", tmp);
    CHECK_OK(ff_write_file_atomic(path, "a", 1));
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644);
    CHECK(chmod(path, 0600) == 0);
    CHECK_OK(ff_write_file_atomic(path, "bb", 2));
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600 && st.st_size == 2);
    CHECK_OK(ff_write_file_atomic(path, NULL, 0)); /* empty file */
    CHECK(stat(path, &st) == 0 && st.st_size == 0);
    uint8_t *data = NULL;
    size_t n = 1;
    CHECK_OK(ff_read_file(path, &data, &n));
    CHECK(n == 0 && data && data[0] == 0);
    free(data);

    /* Overwriting: a concurrent reader sees the old or the new content in
     * full, never a mix or a truncated file. */
    enum { SIZE = 8192, ROUNDS = 40 };
    static uint8_t a[SIZE], b[SIZE];
    memset(a, 'A', SIZE);
    memset(b, 'B', SIZE);
    snprintf(path, sizeof path, "%s/overwrite", tmp);
    CHECK_OK(ff_write_file_atomic(path, a, SIZE));
    pid_t child = fork();
    if (child == 0) {
        int torn = 0;
        for (int i = 0; i < 2000; i++) {
            uint8_t *d = NULL;
            size_t dn = 0;
            if (ff_read_file(path, &d, &dn) != FF_OK) {
                torn++;
                continue;
            }
            if (dn != SIZE || (memcmp(d, a, SIZE) != 0 && memcmp(d, b, SIZE) != 0)) torn++;
            free(d);
        }
        _exit(torn ? 1 : 0);
    }
    for (int i = 0; i < ROUNDS; i++) CHECK_OK(ff_write_file_atomic(path, (i & 1) ? a : b, SIZE));
    int status = 0;
    CHECK(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK_OK(ff_read_file(path, &data, &n));
    CHECK(n == SIZE && memcmp(data, a, SIZE) == 0); /* last round wrote `a` */
    free(data);
    CHECK(count_temp_files(tmp) == 0);
}

/* ---- argument validation ----------------------------------------------- */

static void test_null_args(void) {
    ff_st_file *f = NULL;
    uint8_t byte = 0;
    CHECK_STATUS(ff_st_open(NULL, &f), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_st_open("x", NULL), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_st_open("", &f), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_st_open_memory(NULL, 8, "m", &f), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_st_open_memory(&byte, 1, "m", NULL), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_st_open_memory(&byte, 1, NULL, &f), FF_E_BAD_FORMAT); /* default name */
    CHECK_MSG("safetensors data: file too short");
    CHECK(f == NULL);
    ff_st_close(NULL);
    CHECK(ff_st_count(NULL) == 0 && ff_st_at(NULL, 0) == NULL && ff_st_find(NULL, "a") == NULL);
    CHECK(ff_st_meta(NULL, "a") == NULL && ff_st_meta_count(NULL) == 0);
    const char *k = "x", *v = "y";
    ff_st_meta_at(NULL, 0, &k, &v);
    CHECK(k == NULL && v == NULL);
    ff_st_meta_at(NULL, 0, NULL, NULL);
    float out;
    int64_t iout;
    CHECK_STATUS(ff_st_read_f32(NULL, "a", 0, NULL, &out), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_st_read_i64(NULL, "a", 0, NULL, &iout), FF_E_INVALID_ARGUMENT);

    buf b = make_file("{" T("a", "F32", "[1]", "[0,4]") "}", 4);
    CHECK_OK(ff_st_open_memory(b.p, b.n, "m", &f));
    memset(b.p, 0xff, b.n); /* the file keeps its own copy */
    free(b.p);
    CHECK(ff_st_find(f, NULL) == NULL && ff_st_meta(f, NULL) == NULL);
    CHECK_STATUS(ff_st_read_f32(f, NULL, 0, NULL, &out), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_st_read_f32(f, "a", 0, NULL, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_st_read_i64(f, "a", 0, NULL, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_OK(ff_st_read_f32(f, "a", 0, NULL, &out));
    uint32_t expect_bits = 0x03020100u; /* make_file fills data with 0, 1, 2, 3 */
    CHECK(fbits(out) == expect_bits);
    ff_st_close(f);

    CHECK_STATUS(ff_st_writer_create(NULL), FF_E_INVALID_ARGUMENT);
    ff_st_writer_destroy(NULL);
    ff_st_writer *w = NULL;
    CHECK_OK(ff_st_writer_create(&w));
    float data[4] = {1, 2, 3, 4};
    int64_t s4[1] = {4}, sneg[1] = {-1}, s9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 4};
    CHECK_STATUS(ff_st_writer_add_f32(NULL, "a", 1, s4, data), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_st_writer_add_f32(w, NULL, 1, s4, data), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_st_writer_add_f32(w, "a", 1, NULL, data), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("NULL shape");
    CHECK_STATUS(ff_st_writer_add_f32(w, "a", 1, s4, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("NULL data");
    CHECK_STATUS(ff_st_writer_add_f32(w, "a", 1, sneg, data), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("dimension 0 = -1 out of range");
    CHECK_STATUS(ff_st_writer_add_f32(w, "a", 9, s9, data), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("ndim 9 outside [0, 8]");
    CHECK_STATUS(ff_st_writer_add_f32(w, "a", -1, s4, data), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_st_writer_add(w, "a", (ff_dtype)77, 1, s4, data), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("invalid dtype 77");
    CHECK_STATUS(ff_st_writer_add_f32(w, "__metadata__", 1, s4, data), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("reserved");
    CHECK_STATUS(ff_st_writer_add_f32(w, "bad\xff", 1, s4, data), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("not valid UTF-8");
    int64_t huge[2] = {(int64_t)1 << 40, (int64_t)1 << 40};
    CHECK_STATUS(ff_st_writer_add_f32(w, "huge", 2, huge, data), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("element count overflows");
    int64_t big[2] = {(int64_t)1 << 50, 16}; /* 2^56 bytes: beyond what JSON offsets carry */
    CHECK_STATUS(ff_st_writer_add_f32(w, "big", 2, big, data), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("too large");
    CHECK_OK(ff_st_writer_add_f32(w, "a", 1, s4, data));
    CHECK_STATUS(ff_st_writer_add_f32(w, "a", 1, s4, data), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("duplicate tensor name 'a'");
    CHECK_STATUS(ff_st_writer_set_meta(NULL, "k", "v"), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_st_writer_set_meta(w, NULL, "v"), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_st_writer_set_meta(w, "k", NULL), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_st_writer_set_meta(w, "k", "\xc3"), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("not valid UTF-8");
    uint8_t *mem;
    size_t n;
    CHECK_STATUS(ff_st_writer_serialize(NULL, &mem, &n), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_st_writer_serialize(w, NULL, &n), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_st_writer_serialize(w, &mem, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_st_writer_save(NULL, "x"), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_st_writer_save(w, NULL), FF_E_INVALID_ARGUMENT);
    /* data were copied at add time */
    data[0] = -1;
    CHECK_OK(ff_st_writer_serialize(w, &mem, &n));
    CHECK_OK(ff_st_open_memory(mem, n, "m", &f));
    CHECK_OK(ff_st_read_f32(f, "a", 1, s4, data));
    CHECK(data[0] == 1 && data[3] == 4 && ff_st_count(f) == 1);
    ff_st_close(f);
    free(mem);
    ff_st_writer_destroy(w);

    CHECK_STATUS(ff_write_file_atomic(NULL, "a", 1), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_write_file_atomic("x", NULL, 1), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_read_file(NULL, &mem, &n), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_read_file("x", NULL, &n), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_read_file("x", &mem, NULL), FF_E_INVALID_ARGUMENT);
}

int main(void) {
    test_dtypes();
    test_json();
    test_malformed();
    test_round_trip();
    test_golden();
    test_files();
    test_null_args();
    return ff_test_finish();
}
