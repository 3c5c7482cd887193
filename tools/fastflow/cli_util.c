#include "cli_util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_fail(const char *cmd, const char *what, ff_status st) {
    const char *detail = ff_last_error_message();
    fprintf(stderr, "fastflow %s: %s: %s%s%s\n", cmd, what, ff_status_string(st), detail[0] ? ": " : "", detail);
    return 1;
}

int cli_usage_error(const char *cmd, const char *message) {
    fprintf(stderr, "fastflow %s: %s\nTry 'fastflow %s --help'.\n", cmd, message, cmd);
    return 2;
}

/* Matches --name or --name=value; returns the value (or NULL when it is the
 * next argument) through *inline_value. */
static bool match(char **argv, int i, const char *name, const char **inline_value) {
    size_t n = strlen(name);
    if (strncmp(argv[i], name, n) != 0) return false;
    if (argv[i][n] == '\0') {
        *inline_value = NULL;
        return true;
    }
    if (argv[i][n] == '=') {
        *inline_value = argv[i] + n + 1;
        return true;
    }
    return false;
}

bool cli_opt_str(int argc, char **argv, int *i, const char *name, const char **out, bool *bad) {
    const char *v;
    if (!match(argv, *i, name, &v)) return false;
    if (!v) {
        if (*i + 1 >= argc) {
            fprintf(stderr, "fastflow: option %s needs a value\n", name);
            *bad = true;
            return true;
        }
        v = argv[++*i];
    }
    *out = v;
    return true;
}

bool cli_opt_size(int argc, char **argv, int *i, const char *name, int64_t *out, bool *bad) {
    const char *v = NULL;
    if (!cli_opt_str(argc, argv, i, name, &v, bad)) return false;
    if (*bad) return true;
    static const char *const units[] = {"", "K", "M", "G", "T"};
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(v, &end, 10);
    int shift = -1;
    for (int u = 0; u < 5 && end != v && errno == 0 && v[0] != '-'; u++) {
        char full[8];
        snprintf(full, sizeof full, "%siB", units[u]);
        if (strcmp(end, units[u]) == 0 || (u > 0 && strcmp(end, full) == 0)) shift = 10 * u;
    }
    if (shift < 0 || n > (1ull << 50) >> shift) {
        fprintf(stderr, "fastflow: %s must be a size such as 4G, 512M or 1000000 (at most 1P), got '%s'\n", name, v);
        *bad = true;
        return true;
    }
    *out = (int64_t)(n << shift);
    return true;
}

bool cli_opt_precision(int argc, char **argv, int *i, int32_t *out, bool *bad) {
    const char *v = NULL;
    if (!cli_opt_str(argc, argv, i, "--precision", &v, bad)) return false;
    if (*bad) return true;
    static const struct {
        const char *name;
        int32_t value;
    } names[] = {{"fp32", FF_PRECISION_FP32}, {"bf16", FF_PRECISION_BF16}, {"winograd", FF_PRECISION_FP32_WINOGRAD}};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (strcmp(v, names[k].name) == 0) {
            *out = names[k].value;
            return true;
        }
    fprintf(stderr, "fastflow: --precision must be fp32, bf16 or winograd, got '%s'\n", v);
    *bad = true;
    return true;
}

bool cli_opt_i64(int argc, char **argv, int *i, const char *name, int64_t lo, int64_t hi, int64_t *out,
                 bool *bad) {
    const char *v = NULL;
    if (!cli_opt_str(argc, argv, i, name, &v, bad)) return false;
    if (*bad) return true;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        fprintf(stderr, "fastflow: option %s takes a whole number in [%lld, %lld], got '%s'\n", name, (long long)lo,
                (long long)hi, v);
        *bad = true;
        return true;
    }
    *out = (int64_t)x;
    return true;
}

bool cli_opt_i32(int argc, char **argv, int *i, const char *name, int32_t lo, int32_t hi, int32_t *out,
                 bool *bad) {
    int64_t x = 0;
    if (!cli_opt_i64(argc, argv, i, name, lo, hi, &x, bad)) return false;
    if (!*bad) *out = (int32_t)x;
    return true;
}

bool cli_opt_f32(int argc, char **argv, int *i, const char *name, float lo, float hi, float *out, bool *bad) {
    const char *v = NULL;
    if (!cli_opt_str(argc, argv, i, name, &v, bad)) return false;
    if (*bad) return true;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(x) || x < lo || x > hi) {
        fprintf(stderr, "fastflow: option %s takes a number in [%g, %g], got '%s'\n", name, (double)lo, (double)hi,
                v);
        *bad = true;
        return true;
    }
    *out = (float)x;
    return true;
}

bool cli_flag(char **argv, int i, const char *name) { return strcmp(argv[i], name) == 0; }
