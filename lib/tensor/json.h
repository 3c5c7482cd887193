/* A small strict JSON parser for safetensors headers (RFC 8259 subset that
 * safetensors needs, with limits for untrusted input).
 *
 * Strictness: UTF-8 is validated, control characters in strings and lone
 * surrogates are rejected, \u0000 is rejected (names are C strings),
 * duplicate object keys are rejected, trailing non-whitespace is rejected,
 * nesting is limited. Numbers without fraction/exponent are integers and
 * must lie within +-2^53 (what every JSON implementation represents
 * exactly); numbers with a fraction or exponent are kept as FF_JSON_FLOAT
 * without a value, since safetensors headers never need one. */
#ifndef FF_TENSOR_JSON_H
#define FF_TENSOR_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"

#define FF_JSON_MAX_INT ((int64_t)1 << 53)

typedef enum ff_json_kind {
    FF_JSON_NULL = 0,
    FF_JSON_BOOL,
    FF_JSON_INT,
    FF_JSON_FLOAT,
    FF_JSON_STRING,
    FF_JSON_ARRAY,
    FF_JSON_OBJECT
} ff_json_kind;

typedef struct ff_json_value ff_json_value;
typedef struct ff_json_member ff_json_member;

struct ff_json_value {
    ff_json_kind kind;
    size_t offset; /* byte offset of the value in the parsed text */
    union {
        bool boolean;
        int64_t integer;
        struct {
            const char *chars; /* NUL-terminated UTF-8, no embedded NUL */
            size_t len;
        } string;
        struct {
            ff_json_value *items;
            size_t count;
        } array;
        struct {
            ff_json_member *members; /* in document order */
            size_t count;
        } object;
    } u;
};

struct ff_json_member {
    const char *key; /* NUL-terminated UTF-8 */
    size_t key_len;
    ff_json_value value;
};

typedef struct ff_json_doc ff_json_doc;

/* Parses `len` bytes of `text` (need not be NUL-terminated). On failure
 * returns FF_E_BAD_FORMAT with "<what>: JSON <problem> at byte <n>" (n
 * counted from `base_offset`, so callers can report file offsets), or
 * FF_E_OUT_OF_MEMORY. */
ff_status ff_json_parse(const char *text, size_t len, int max_depth, const char *what,
                        size_t base_offset, ff_json_doc **out);
const ff_json_value *ff_json_root(const ff_json_doc *doc);
void ff_json_free(ff_json_doc *doc);

/* Member `key` of an object value, or NULL (also when v is not an object). */
const ff_json_value *ff_json_get(const ff_json_value *v, const char *key);
const char *ff_json_kind_name(ff_json_kind kind);

#endif
