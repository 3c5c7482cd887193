/* File-system helpers of the fastflow tool: folders and file names. */
#ifndef FF_CLI_PATHS_H
#define FF_CLI_PATHS_H

#include <stdbool.h>
#include <stddef.h>

/* Creates `dir` and any missing parents (mode 0777 before umask). Returns
 * 0, or prints "fastflow <cmd>: cannot create DIR: reason" and returns 1. */
int cli_mkdir_p(const char *cmd, const char *dir);

/* The file name without folders and without its last extension. */
void cli_stem(const char *path, char *out, size_t n);

/* out = a "/" b (or a when b is empty); false when it does not fit. */
bool cli_join(char *out, size_t n, const char *a, const char *b);

/* Whether `path` names an existing regular file. */
bool cli_is_file(const char *path);

#endif
