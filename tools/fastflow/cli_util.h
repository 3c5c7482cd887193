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
