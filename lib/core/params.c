/* ff_param_*: the public queries over the option tables, and the checks
 * every setter uses (params.h). */
#include "core/params.h"

#include <math.h>
#include <string.h>

#include "core/error.h"
#include "core/params_tables.h"

static const ff_param_table *table_of(int32_t kind) {
    for (int32_t i = 0; i < ff_param_table_count; i++)
        if (ff_param_tables[i].kind == kind) return &ff_param_tables[i];
    return NULL;
}

const ff_param_desc *ff_param_find(int32_t kind, int32_t key) {
    const ff_param_table *t = table_of(kind);
    for (int32_t i = 0; t && i < t->count; i++)
        if (t->rows[i].key == key) return &t->rows[i];
    return NULL;
}

static const char *type_name(int32_t type) {
    return type == FF_PARAM_I32 ? "i32" : type == FF_PARAM_I64 ? "i64" : "f32";
}

ff_status ff_param_lookup(int32_t kind, int32_t key, int32_t type, int32_t for_set, const ff_param_desc **out) {
    const ff_param_table *t = table_of(kind);
    const ff_param_desc *d = ff_param_find(kind, key);
    if (t == NULL || d == NULL)
        return ff_fail(FF_E_INVALID_ARGUMENT, "unknown %s key %d", t ? t->what : "object kind's", (int)key);
    if (d->type != type)
        return ff_fail(FF_E_INVALID_ARGUMENT, "%s %s is %s, not %s (use %s_%s_%s)", t->what, d->enum_name,
                       type_name(d->type), type_name(type), t->api, for_set ? "set" : "get", type_name(d->type));
    if (for_set && (d->flags & FF_PARAM_READ_ONLY))
        return ff_fail(FF_E_INVALID_ARGUMENT, "%s %s is read-only", t->what, d->enum_name);
    if (out) *out = d;
    return FF_OK;
}

/* Integer bounds as int64_t: the doubles of full-range i64 keys are +-2^63,
 * which saturate to INT64_MIN / INT64_MAX. */
static int64_t bound_i64(double x) {
    if (x >= 9223372036854775807.0) return INT64_MAX;
    if (x <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)x;
}

/* label: how the message names the value (the key's enum name by default). */
static ff_status check_int(const ff_param_desc *d, const char *label, int64_t v) {
    const int64_t lo = bound_i64(d->min), hi = bound_i64(d->max);
    const int excl = (d->flags & FF_PARAM_MIN_EXCLUSIVE) != 0;
    const int mul16 = (d->flags & FF_PARAM_MULTIPLE_OF_16) != 0;
    if ((excl ? v > lo : v >= lo) && v <= hi && (!mul16 || v % 16 == 0)) return FF_OK;
    if (lo == 0 && hi == 1 && !excl)
        return ff_fail(FF_E_INVALID_ARGUMENT, "%s must be 0 or 1, got %lld", label, (long long)v);
    return ff_fail(FF_E_INVALID_ARGUMENT, "%s must be %sin %c%lld, %lld], got %lld", label,
                   mul16 ? "divisible by 16 and " : "", excl ? '(' : '[', (long long)lo, (long long)hi, (long long)v);
}

ff_status ff_param_check_int(const ff_param_desc *d, int64_t v) { return check_int(d, d->enum_name, v); }

ff_status ff_param_check_f32(const ff_param_desc *d, float v) {
    const int excl = (d->flags & FF_PARAM_MIN_EXCLUSIVE) != 0;
    const double x = (double)v;
    /* NaN fails every comparison; infinities are above or below any bound */
    if (isfinite(v) && (excl ? x > d->min : x >= d->min) && x <= d->max) return FF_OK;
    return ff_fail(FF_E_INVALID_ARGUMENT, "%s must be in %c%g, %g], got %g", d->enum_name, excl ? '(' : '[', d->min,
                   d->max, x);
}

ff_status ff_param_set_check_int(int32_t kind, int32_t key, int32_t type, int64_t value) {
    const ff_param_desc *d = NULL;
    FF_TRY(ff_param_lookup(kind, key, type, 1, &d));
    return ff_param_check_int(d, value);
}

ff_status ff_param_set_check_f32(int32_t kind, int32_t key, float value) {
    const ff_param_desc *d = NULL;
    FF_TRY(ff_param_lookup(kind, key, FF_PARAM_F32, 1, &d));
    return ff_param_check_f32(d, value);
}

int64_t ff_param_default_int(int32_t kind, int32_t key) {
    const ff_param_desc *d = ff_param_find(kind, key);
    return d ? bound_i64(d->def) : 0;
}

float ff_param_default_f32(int32_t kind, int32_t key) {
    const ff_param_desc *d = ff_param_find(kind, key);
    return d ? (float)d->def : 0.0f;
}

ff_status ff_param_check_input_side(const char *label, int32_t key, int64_t value) {
    return check_int(ff_param_find(FF_OBJECT_FLOW_OPTIONS, key), label, value);
}

/* ---- public queries ------------------------------------------------------ */

static ff_status check_kind(int32_t kind, const ff_param_table **out) {
    *out = table_of(kind);
    if (*out == NULL) return ff_fail(FF_E_INVALID_ARGUMENT, "unknown object kind %d", (int)kind);
    return FF_OK;
}

ff_status ff_param_count(int32_t kind, int32_t *count_out) {
    ff_clear_error();
    const ff_param_table *t;
    FF_TRY(check_kind(kind, &t));
    FF_CHECK_ARG(count_out != NULL, "count_out is NULL");
    *count_out = t->count;
    return FF_OK;
}

ff_status ff_param_key_at(int32_t kind, int32_t index, int32_t *key_out) {
    ff_clear_error();
    const ff_param_table *t;
    FF_TRY(check_kind(kind, &t));
    FF_CHECK_ARG(key_out != NULL, "key_out is NULL");
    FF_CHECK_ARG(index >= 0 && index < t->count, "index must be in [0, %d], got %d", (int)t->count - 1, (int)index);
    *key_out = t->rows[index].key;
    return FF_OK;
}

ff_status ff_param_info(int32_t kind, int32_t key, int32_t *type_out, double *min_out, double *max_out,
                        double *default_out, int32_t *flags_out) {
    ff_clear_error();
    const ff_param_table *t;
    FF_TRY(check_kind(kind, &t));
    const ff_param_desc *d = ff_param_find(kind, key);
    if (d == NULL) return ff_fail(FF_E_INVALID_ARGUMENT, "unknown %s key %d", t->what, (int)key);
    if (type_out) *type_out = d->type;
    if (min_out) *min_out = d->min;
    if (max_out) *max_out = d->max;
    if (default_out) *default_out = d->def;
    if (flags_out) *flags_out = d->flags;
    return FF_OK;
}

const char *ff_param_name(int32_t kind, int32_t key) {
    const ff_param_desc *d = ff_param_find(kind, key);
    return d ? d->name : NULL;
}

ff_status ff_param_key(int32_t kind, const char *name, int32_t *key_out) {
    ff_clear_error();
    const ff_param_table *t;
    FF_TRY(check_kind(kind, &t));
    FF_CHECK_ARG(name != NULL && key_out != NULL, "name or key_out is NULL");
    for (int32_t i = 0; i < t->count; i++)
        if (strcmp(t->rows[i].name, name) == 0) {
            *key_out = t->rows[i].key;
            return FF_OK;
        }
    return ff_fail(FF_E_INVALID_ARGUMENT, "unknown %s '%s'", t->what, name);
}
