/* safetensors files: a strict reader and an atomic writer.
 *
 * Format: 8-byte little-endian header length N, N bytes of JSON
 * {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 *  "__metadata__": {"key": "value", ...}}, then the data section; offsets are
 * relative to the data section. The reader validates everything before any
 * tensor is used: N within the file, JSON well-formed, known dtypes, every
 * tensor's dtype size x shape = its byte range, ranges inside the data
 * section and not overlapping, names unique, metadata values strings.
 *
 * Deliberate leniency: the safetensors spec wants the data section covered
 * exactly; holes between tensors and trailing bytes are accepted here
 * (harmless, and some writers pad), overlaps are not. Zero-byte tensors
 * overlap nothing. Tensor data need not be aligned; readers use memcpy.
 * An opened ff_st_file is immutable: concurrent reads are safe. */
#ifndef FF_TENSOR_SAFETENSORS_H
#define FF_TENSOR_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fastflow.h"
#include "core/file_io.h"

#define FF_ST_MAX_DIMS 8

typedef enum ff_dtype {
    FF_DT_F32 = 0,
    FF_DT_F16,
    FF_DT_BF16,
    FF_DT_F64,
    FF_DT_I64,
    FF_DT_I32,
    FF_DT_I16,
    FF_DT_I8,
    FF_DT_U8,
    FF_DT_BOOL,
    /* appended later; values above are pinned */
    FF_DT_U16,
    FF_DT_U32,
    FF_DT_U64
} ff_dtype;

#define FF_DT_COUNT ((int)FF_DT_U64 + 1)

/* Safetensors spelling ("F32", "BF16", ...); "?" for a value outside the
 * enum. Size in bytes; 0 outside the enum. */
const char *ff_dtype_name(ff_dtype dt);
size_t ff_dtype_size(ff_dtype dt);
/* Parses a safetensors dtype name; false when unknown (also for F8_* types,
 * which this library does not read). */
bool ff_dtype_from_name(const char *name, ff_dtype *out);
/* True for F32, F16, BF16, F64: the dtypes ff_st_read_f32 accepts. */
bool ff_dtype_is_float(ff_dtype dt);

/* Half-precision conversions (IEEE binary16 and bfloat16). To F32 is exact
 * (subnormals, infinities, NaN payloads kept); from F32 rounds to nearest
 * even, overflows to infinity and keeps NaN a (quiet) NaN. */
float ff_f16_to_f32(uint16_t h);
float ff_bf16_to_f32(uint16_t b);
uint16_t ff_f32_to_f16(float f);
uint16_t ff_f32_to_bf16(float f);

typedef struct ff_st_tensor {
    const char *name;
    ff_dtype dtype;
    int32_t ndim;
    int64_t shape[FF_ST_MAX_DIMS];
    int64_t numel;
    const uint8_t *data; /* inside the file image; numel * dtype size bytes */
    size_t nbytes;
} ff_st_tensor;

typedef struct ff_st_file ff_st_file;

/* Reads and validates a whole file (it is read into memory). Errors:
 * FF_E_IO (cannot open/read), FF_E_BAD_FORMAT (message names the problem,
 * the tensor and the byte offset). `what` names the file in messages. */
ff_status ff_st_open(const char *path, ff_st_file **out);
/* Copies `data`. */
ff_status ff_st_open_memory(const void *data, size_t size, const char *what, ff_st_file **out);
void ff_st_close(ff_st_file *f);

size_t ff_st_count(const ff_st_file *f);
const ff_st_tensor *ff_st_at(const ff_st_file *f, size_t index); /* in header (JSON) order */
const ff_st_tensor *ff_st_find(const ff_st_file *f, const char *name); /* NULL if absent */

/* Metadata: the value of `key` in __metadata__, or NULL. */
const char *ff_st_meta(const ff_st_file *f, const char *key);
size_t ff_st_meta_count(const ff_st_file *f);
void ff_st_meta_at(const ff_st_file *f, size_t index, const char **key, const char **value);

/* Reads tensor `name` as float32 into dst (F32, F16, BF16, F64 accepted).
 * When expect_shape is non-NULL the tensor must have exactly that shape;
 * errors (FF_E_BAD_FORMAT) name the tensor, what was expected and found. A
 * missing tensor is FF_E_BAD_FORMAT "missing tensor '<name>'". */
ff_status ff_st_read_f32(const ff_st_file *f, const char *name, int32_t ndim,
                         const int64_t *expect_shape, float *dst);
/* Without expect_shape, ndim is ignored and dst must hold the tensor's numel.
 * Same for integer tensors (I64, I32, I16, I8, U8, U16, U32, U64, BOOL) read
 * as int64; a U64 value above INT64_MAX is FF_E_BAD_FORMAT (dst untouched). */
ff_status ff_st_read_i64(const ff_st_file *f, const char *name, int32_t ndim,
                         const int64_t *expect_shape, int64_t *dst);

/* Writes a shape as "[64, 3, 7, 7]" (truncated to cap). */
void ff_st_format_shape(char *out, size_t cap, int32_t ndim, const int64_t *shape);

/* Finds the float tensor `name` (F32, F16, BF16 or F64) of exactly `shape`,
 * for a model loader. Errors (FF_E_BAD_FORMAT) name the tensor, `owner` (the
 * architecture that needs it) and both shapes. With optional != 0 an absent
 * tensor gives *out = NULL and FF_OK. */
ff_status ff_st_find_float(const ff_st_file *f, const char *name, int32_t ndim, const int64_t *shape,
                           const char *owner, int optional, const ff_st_tensor **out);

/* Longest tensor name (with its prefix) the loaders build, NUL included. */
#define FF_ST_NAME_CAP 512

/* The prefix P of a model's tensor names in f: P+stem names a tensor and,
 * when companion is not NULL, so does P+companion (which tells a model's
 * stem from tensors of the same name deeper inside it). Fails with
 * FF_E_BAD_FORMAT, naming `what` (e.g. "ResNet"), when no prefix or two
 * different ones qualify. out receives at most cap bytes. */
ff_status ff_st_detect_prefix(const ff_st_file *f, const char *stem, const char *companion, const char *what,
                              char *out, size_t cap);

/* Writer: collects tensors and metadata, then writes atomically (temporary
 * file in the same folder, fsync, rename, fsync of the folder). Tensor data
 * is copied when added. Names must be unique. */
typedef struct ff_st_writer ff_st_writer;
ff_status ff_st_writer_create(ff_st_writer **out);
void ff_st_writer_destroy(ff_st_writer *w);
ff_status ff_st_writer_add(ff_st_writer *w, const char *name, ff_dtype dtype, int32_t ndim,
                           const int64_t *shape, const void *data);
ff_status ff_st_writer_add_f32(ff_st_writer *w, const char *name, int32_t ndim, const int64_t *shape,
                               const float *data);
ff_status ff_st_writer_add_i64(ff_st_writer *w, const char *name, int32_t ndim, const int64_t *shape,
                               const int64_t *data);
ff_status ff_st_writer_set_meta(ff_st_writer *w, const char *key, const char *value);
ff_status ff_st_writer_save(const ff_st_writer *w, const char *path);
/* The serialised file in memory (malloc'd; free with free()). */
ff_status ff_st_writer_serialize(const ff_st_writer *w, uint8_t **data_out, size_t *size_out);

/* ff_read_file and ff_write_file_atomic live in core/file_io.h (included
 * above), since image decoding uses them too. */

#endif
