#include "cli_util.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tensor/safetensors.h"

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

/* ---- options backed by the library's option table ------------------------ */

/* Bounds text: "[1, 4096]", "(0, 16]", with ", divisible by 16". */
static void bounds_text(int32_t type, double lo, double hi, int32_t flags, char *buf, size_t cap) {
    char a[32], b[32];
    if (type == FF_PARAM_F32) {
        snprintf(a, sizeof a, "%g", lo);
        snprintf(b, sizeof b, "%g", hi);
    } else {
        snprintf(a, sizeof a, "%.0f", lo);
        snprintf(b, sizeof b, "%.0f", hi);
    }
    snprintf(buf, cap, "%c%s, %s]%s", (flags & FF_PARAM_MIN_EXCLUSIVE) ? '(' : '[', a, b,
             (flags & FF_PARAM_MULTIPLE_OF_16) ? ", divisible by 16" : "");
}

/* Integer bounds as int64_t: full-range i64 keys report +-2^63 (see ff_param_info). */
static int64_t bound_i64(double x) {
    if (x >= 9223372036854775807.0) return INT64_MAX;
    if (x <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)x;
}

/* Parses argv's value of option `name` and checks it against the key's row
 * as ff_param_info documents the bounds: *iv for integer keys, *fv for f32. */
static bool opt_param(int argc, char **argv, int *i, const char *name, int32_t kind, int32_t key, int32_t want,
                      int64_t *iv, double *fv, bool *bad) {
    const char *v = NULL;
    if (!cli_opt_str(argc, argv, i, name, &v, bad)) return false;
    if (*bad) return true;
    int32_t type = 0, flags = 0;
    double lo = 0, hi = 0;
    if (ff_param_info(kind, key, &type, &lo, &hi, NULL, &flags) != FF_OK || type != want) {
        fprintf(stderr, "fastflow: option %s: no such library option (a bug)\n", name);
        *bad = true;
        return true;
    }
    const bool excl = (flags & FF_PARAM_MIN_EXCLUSIVE) != 0;
    char *end;
    errno = 0;
    bool ok;
    if (type == FF_PARAM_F32) {
        double x = strtod(v, &end);
        ok = errno == 0 && end != v && *end == '\0' && isfinite(x) && (excl ? x > lo : x >= lo) && x <= hi;
        *fv = x;
    } else {
        long long x = strtoll(v, &end, 10);
        int64_t l = bound_i64(lo), h = bound_i64(hi);
        ok = errno == 0 && end != v && *end == '\0' && (excl ? x > l : x >= l) && x <= h &&
             (!(flags & FF_PARAM_MULTIPLE_OF_16) || x % 16 == 0);
        *iv = (int64_t)x;
    }
    if (!ok) {
        char range[96];
        bounds_text(type, lo, hi, flags, range, sizeof range);
        fprintf(stderr, "fastflow: option %s takes %s in %s, got '%s'\n", name,
                type == FF_PARAM_F32 ? "a number" : "a whole number", range, v);
        *bad = true;
    }
    return true;
}

bool cli_opt_param_i32(int argc, char **argv, int *i, const char *name, int32_t kind, int32_t key, int32_t *out,
                       bool *bad) {
    int64_t x = 0;
    double unused = 0;
    if (!opt_param(argc, argv, i, name, kind, key, FF_PARAM_I32, &x, &unused, bad)) return false;
    if (!*bad) *out = (int32_t)x;
    return true;
}

bool cli_opt_param_i64(int argc, char **argv, int *i, const char *name, int32_t kind, int32_t key, int64_t *out,
                       bool *bad) {
    int64_t x = 0;
    double unused = 0;
    if (!opt_param(argc, argv, i, name, kind, key, FF_PARAM_I64, &x, &unused, bad)) return false;
    if (!*bad) *out = x;
    return true;
}

bool cli_opt_param_f32(int argc, char **argv, int *i, const char *name, int32_t kind, int32_t key, float *out,
                       bool *bad) {
    int64_t unused = 0;
    double x = 0;
    if (!opt_param(argc, argv, i, name, kind, key, FF_PARAM_F32, &unused, &x, bad)) return false;
    if (!*bad) *out = (float)x;
    return true;
}

const char *cli_param_help(int32_t kind, int32_t key, char *buf, size_t cap) {
    int32_t type = 0, flags = 0;
    double lo = 0, hi = 0, def = 0;
    if (ff_param_info(kind, key, &type, &lo, &hi, &def, &flags) != FF_OK) {
        snprintf(buf, cap, "?");
        return buf;
    }
    char range[96];
    bounds_text(type, lo, hi, flags, range, sizeof range);
    if (type == FF_PARAM_F32) snprintf(buf, cap, "%s, default %g", range, (double)(float)def);
    else snprintf(buf, cap, "%s, default %.0f", range, def);
    return buf;
}

double cli_param_default(int32_t kind, int32_t key) {
    double def = 0;
    return ff_param_info(kind, key, NULL, NULL, NULL, &def, NULL) == FF_OK ? def : 0;
}

const char *cli_param_bounds(int32_t kind, int32_t key, char *buf, size_t cap) {
    int32_t type = 0, flags = 0;
    double lo = 0, hi = 0;
    if (ff_param_info(kind, key, &type, &lo, &hi, NULL, &flags) != FF_OK) snprintf(buf, cap, "?");
    else bounds_text(type, lo, hi, flags, buf, cap);
    return buf;
}

const char *cli_arch_list(int column, int indent, char *buf, size_t cap) {
    size_t used = 0;
    int col = column;
    buf[0] = '\0';
    for (int32_t i = 0; i < ff_backbone_arch_count() && used < cap; i++) {
        const char *name = ff_backbone_arch_name(i);
        int last = i + 1 == ff_backbone_arch_count();
        int len = (int)strlen(name) + (last ? 0 : 1);
        int k;
        if (i > 0 && col + 1 + len > 80) {
            k = snprintf(buf + used, cap - used, "\n%*s%s%s", indent, "", name, last ? "" : ",");
            col = indent + len;
        } else {
            k = snprintf(buf + used, cap - used, "%s%s%s", i ? " " : "", name, last ? "" : ",");
            col += (i ? 1 : 0) + len;
        }
        if (k < 0) break;
        used += (size_t)k;
    }
    return buf;
}

int cli_buffer_open(const char *cmd, cli_buffer *b) {
    b->buf = NULL;
    b->len = 0;
    b->f = open_memstream(&b->buf, &b->len);
    if (b->f) return 0;
    fprintf(stderr, "fastflow %s: out of memory\n", cmd);
    return 1;
}

int cli_buffer_commit(const char *cmd, cli_buffer *b, const char *path, bool ok) {
    int rc = 0;
    if (fclose(b->f) != 0 || !b->buf) {
        fprintf(stderr, "fastflow %s: out of memory\n", cmd);
        rc = 1;
    } else if (!ok) {
        rc = 1;
    } else {
        ff_status st = ff_write_file_atomic(path, b->buf, b->len);
        if (st != FF_OK) rc = cli_fail(cmd, path, st);
    }
    free(b->buf);
    b->buf = NULL;
    b->f = NULL;
    return rc;
}
