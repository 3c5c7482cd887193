/* Small helpers shared by the subcommands: option parsing and error
 * printing. */
#ifndef FF_CLI_UTIL_H
#define FF_CLI_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "fastflow.h"

/* Prints "fastflow <cmd>: <what>: <status string>: <detail>" to stderr and
 * returns 1. */
int cli_fail(const char *cmd, const char *what, ff_status st);
/* Prints "fastflow <cmd>: <message>" and the hint to use --help; returns 2. */
int cli_usage_error(const char *cmd, const char *message);

/* Option parsing: `--name value` or `--name=value`. Each helper checks
 * whether argv[*i] is the option `name`; if so it consumes the value
 * (advancing *i) and stores it, returning true. On a malformed value it
 * prints a usage error and sets *bad. */
bool cli_opt_str(int argc, char **argv, int *i, const char *name, const char **out, bool *bad);
bool cli_opt_i32(int argc, char **argv, int *i, const char *name, int32_t lo, int32_t hi, int32_t *out,
                 bool *bad);
bool cli_opt_i64(int argc, char **argv, int *i, const char *name, int64_t lo, int64_t hi, int64_t *out,
                 bool *bad);
bool cli_opt_f32(int argc, char **argv, int *i, const char *name, float lo, float hi, float *out, bool *bad);
bool cli_flag(char **argv, int i, const char *name);
/* A byte size: digits with an optional binary suffix K, M, G or T (also
 * KiB, MiB, GiB, TiB), e.g. `--cache-memory 4G`; at most 2^50. */
bool cli_opt_size(int argc, char **argv, int *i, const char *name, int64_t *out, bool *bad);
/* `--precision fp32|bf16|winograd` into enum ff_precision. */
bool cli_opt_precision(int argc, char **argv, int *i, int32_t *out, bool *bad);
/* Help line for --precision, shared by the commands that take it. */
#define CLI_PRECISION_HELP                                                                          \
    "  --precision P    network arithmetic: fp32 (default), bf16 (needs AVX512-BF16; maps\n"      \
    "                   within ~1e-3) or winograd (fp32, Winograd 3x3 convolutions)\n"


/* Options that set a library option (kind: enum ff_object_kind, key: its
 * enum): type, bounds, the exclusive minimum and the multiple of 16 come
 * from the library's table (ff_param_info), so the CLI never re-types a
 * limit. The key must have the helper's type. */
bool cli_opt_param_i32(int argc, char **argv, int *i, const char *name, int32_t kind, int32_t key, int32_t *out,
                       bool *bad);
bool cli_opt_param_i64(int argc, char **argv, int *i, const char *name, int32_t kind, int32_t key, int64_t *out,
                       bool *bad);
bool cli_opt_param_f32(int argc, char **argv, int *i, const char *name, int32_t kind, int32_t key, float *out,
                       bool *bad);
/* The option's bounds and default for help texts, e.g. "[1, 4096], default
 * 32" or "(0, 16], divisible by 16, default 1" (written into buf). */
const char *cli_param_help(int32_t kind, int32_t key, char *buf, size_t cap);
/* The option's default (exact for i32 and f32 keys). */
double cli_param_default(int32_t kind, int32_t key);
/* The bounds alone: "[1, 4096]". */
const char *cli_param_bounds(int32_t kind, int32_t key, char *buf, size_t cap);
/* The backbone architectures the library supports, comma-separated, with
 * a line break and `indent` spaces wherever a line would pass 80 columns
 * at `column` (written into buf). */
const char *cli_arch_list(int column, int indent, char *buf, size_t cap);

/* A file written in memory first, then atomically (a reader never sees
 * half of it): cli_buffer_open, write to b->f, cli_buffer_commit. */
typedef struct {
    FILE *f;
    char *buf;
    size_t len;
} cli_buffer;

/* Returns 0, or prints "out of memory" and returns 1. */
int cli_buffer_open(const char *cmd, cli_buffer *b);
/* Closes the stream and, when `ok`, writes the bytes to `path`
 * (ff_write_file_atomic); frees the buffer either way. Returns 0, or
 * prints an error and returns 1 (also when !ok, printing nothing). */
int cli_buffer_commit(const char *cmd, cli_buffer *b, const char *path, bool ok);

#endif
