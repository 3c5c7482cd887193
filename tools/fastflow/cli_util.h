/* Small helpers shared by the subcommands: option parsing and error
 * printing. */
#ifndef FF_CLI_UTIL_H
#define FF_CLI_UTIL_H

#include <stdbool.h>
#include <stdint.h>

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


#endif
