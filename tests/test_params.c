/* The option tables (ff_param_*): every key of every keyed object is walked
 * through the public queries, and the bounds they report are the bounds
 * the setters enforce (min and max accepted; min-1 / max+1, or the float
 * just outside, rejected and the value left unchanged; a non-multiple of 16
 * rejected where the flag says so), the default is what a fresh object
 * reports, read-only keys refuse every setter, and every key is documented
 * in docs/api-reference.md. Also: the architecture list, and the input-side
 * bounds shared by the flow layout, the backbone and the extractor. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow_layout.h"
#include "flow_testlib.h"
#include "test_util.h"

#define SIZE 64

/* The objects under test, one per kind (global settings have none). */
typedef struct objects {
    ff_flow_options *opts;
    ff_scorer *scorer;
    ff_trainer *trainer;
    ff_extractor *extractor;
} objects;

static const int32_t KINDS[] = {FF_OBJECT_GLOBAL, FF_OBJECT_FLOW_OPTIONS, FF_OBJECT_SCORER, FF_OBJECT_TRAINER,
                                FF_OBJECT_EXTRACTOR};

/* The enumerator prefix of a kind, for the documentation check. */
static const char *prefix_of(int32_t kind) {
    switch (kind) {
    case FF_OBJECT_GLOBAL: return "FF_GLOBAL_";
    case FF_OBJECT_FLOW_OPTIONS: return "FF_FLOW_";
    case FF_OBJECT_SCORER: return "FF_SCORER_";
    case FF_OBJECT_TRAINER: return "FF_TRAINER_";
    default: return "FF_EXTRACTOR_";
    }
}

/* ---- typed setters and getters of every kind, behind one interface ---- */

static ff_status set_int(const objects *o, int32_t kind, int32_t type, int32_t key, int64_t v) {
    if (type == FF_PARAM_I32) {
        int32_t x = (int32_t)v;
        switch (kind) {
        case FF_OBJECT_FLOW_OPTIONS: return ff_flow_options_set_i32(o->opts, key, x);
        case FF_OBJECT_SCORER: return ff_scorer_set_i32(o->scorer, key, x);
        case FF_OBJECT_TRAINER: return ff_trainer_set_i32(o->trainer, key, x);
        case FF_OBJECT_EXTRACTOR: return ff_extractor_set_i32(o->extractor, key, x);
        default: return FF_E_UNSUPPORTED; /* global settings are i64 only */
        }
    }
    switch (kind) {
    case FF_OBJECT_GLOBAL: return ff_global_set_i64(key, v);
    case FF_OBJECT_FLOW_OPTIONS: return ff_flow_options_set_i64(o->opts, key, v);
    case FF_OBJECT_TRAINER: return ff_trainer_set_i64(o->trainer, key, v);
    default: return FF_E_UNSUPPORTED; /* no i64 setter */
    }
}

static ff_status get_int(const objects *o, int32_t kind, int32_t type, int32_t key, int64_t *v) {
    ff_status st = FF_E_UNSUPPORTED;
    if (type == FF_PARAM_I32) {
        int32_t x = 0;
        switch (kind) {
        case FF_OBJECT_FLOW_OPTIONS: st = ff_flow_options_get_i32(o->opts, key, &x); break;
        case FF_OBJECT_SCORER: st = ff_scorer_get_i32(o->scorer, key, &x); break;
        case FF_OBJECT_TRAINER: st = ff_trainer_get_i32(o->trainer, key, &x); break;
        case FF_OBJECT_EXTRACTOR: st = ff_extractor_get_i32(o->extractor, key, &x); break;
        default: break;
        }
        *v = x;
        return st;
    }
    switch (kind) {
    case FF_OBJECT_GLOBAL: return ff_global_get_i64(key, v);
    case FF_OBJECT_FLOW_OPTIONS: return ff_flow_options_get_i64(o->opts, key, v);
    case FF_OBJECT_TRAINER: return ff_trainer_get_i64(o->trainer, key, v);
    default: return st;
    }
}

static ff_status set_f32(const objects *o, int32_t kind, int32_t key, float v) {
    switch (kind) {
    case FF_OBJECT_FLOW_OPTIONS: return ff_flow_options_set_f32(o->opts, key, v);
    case FF_OBJECT_SCORER: return ff_scorer_set_f32(o->scorer, key, v);
    case FF_OBJECT_TRAINER: return ff_trainer_set_f32(o->trainer, key, v);
    default: return FF_E_UNSUPPORTED;
    }
}

static ff_status get_f32(const objects *o, int32_t kind, int32_t key, float *v) {
    switch (kind) {
    case FF_OBJECT_FLOW_OPTIONS: return ff_flow_options_get_f32(o->opts, key, v);
    case FF_OBJECT_SCORER: return ff_scorer_get_f32(o->scorer, key, v);
    case FF_OBJECT_TRAINER: return ff_trainer_get_f32(o->trainer, key, v);
    default: return FF_E_UNSUPPORTED;
    }
}

/* ---- one key ------------------------------------------------------------ */

static int64_t to_i64(double x) {
    if (x >= 9223372036854775807.0) return INT64_MAX;
    if (x <= -9223372036854775808.0) return INT64_MIN;
    return (int64_t)x;
}

static void expect_int(const objects *o, int32_t kind, int32_t type, int32_t key, int64_t v, int ok, int64_t now,
                       const char *name) {
    ff_status st = set_int(o, kind, type, key, v);
    int64_t back = 0;
    CHECK_OK(get_int(o, kind, type, key, &back));
    if ((st == FF_OK) != ok || back != (ok ? v : now))
        fprintf(stderr, "  %s = %lld: status %d, reads %lld\n", name, (long long)v, (int)st, (long long)back);
    CHECK(ok ? st == FF_OK : st == FF_E_INVALID_ARGUMENT);
    CHECK(back == (ok ? v : now)); /* a rejected value leaves the option unchanged */
}

static void walk_int(const objects *o, int32_t kind, int32_t type, int32_t key, double min, double max,
                     int32_t flags, const char *name) {
    const int64_t type_min = type == FF_PARAM_I32 ? INT32_MIN : INT64_MIN;
    const int64_t type_max = type == FF_PARAM_I32 ? INT32_MAX : INT64_MAX;
    int64_t lo = to_i64(min), hi = to_i64(max);
    CHECK(lo >= type_min && hi <= type_max && lo <= hi);
    const int64_t first = (flags & FF_PARAM_MIN_EXCLUSIVE) ? lo + 1 : lo; /* the smallest valid value */
    expect_int(o, kind, type, key, first, 1, 0, name);
    expect_int(o, kind, type, key, hi, 1, first, name);
    if (first > type_min) expect_int(o, kind, type, key, first - 1, 0, hi, name);
    if (hi < type_max) expect_int(o, kind, type, key, hi + 1, 0, hi, name);
    if (flags & FF_PARAM_MULTIPLE_OF_16) {
        CHECK(first % 16 == 0 && hi % 16 == 0);
        expect_int(o, kind, type, key, first + 8, 0, hi, name);
    }
}

static void expect_f32(const objects *o, int32_t kind, int32_t key, float v, int ok, float now, const char *name) {
    ff_status st = set_f32(o, kind, key, v);
    float back = -12345.0f;
    CHECK_OK(get_f32(o, kind, key, &back));
    if ((st == FF_OK) != ok || back != (ok ? v : now))
        fprintf(stderr, "  %s = %.9g: status %d, reads %.9g\n", name, (double)v, (int)st, (double)back);
    CHECK(ok ? st == FF_OK : st == FF_E_INVALID_ARGUMENT);
    CHECK(back == (ok ? v : now));
}

static void walk_f32(const objects *o, int32_t kind, int32_t key, double min, double max, int32_t flags,
                     const char *name) {
    const float lo = (float)min, hi = (float)max;
    CHECK((double)lo == min && (double)hi == max); /* f32 bounds are exact */
    const float first = (flags & FF_PARAM_MIN_EXCLUSIVE) ? nextafterf(lo, INFINITY) : lo;
    const float below = (flags & FF_PARAM_MIN_EXCLUSIVE) ? lo : nextafterf(lo, -INFINITY);
    expect_f32(o, kind, key, first, 1, 0.0f, name);
    expect_f32(o, kind, key, hi, 1, first, name);
    expect_f32(o, kind, key, below, 0, hi, name);
    expect_f32(o, kind, key, nextafterf(hi, INFINITY), 0, hi, name);
    expect_f32(o, kind, key, NAN, 0, hi, name);
    expect_f32(o, kind, key, INFINITY, 0, hi, name);
}

/* The key's enumerator ("FF_FLOW_STEPS") appears in the API reference. */
static void check_documented(const char *doc, int32_t kind, const char *name) {
    char en[96];
    size_t n = (size_t)snprintf(en, sizeof en, "`%s", prefix_of(kind));
    for (const char *p = name; *p && n + 2 < sizeof en; p++) en[n++] = (char)(*p >= 'a' && *p <= 'z' ? *p - 32 : *p);
    en[n++] = '`';
    en[n] = '\0';
    if (!doc || !strstr(doc, en)) fprintf(stderr, "  %s is not in docs/api-reference.md\n", en);
    CHECK(doc && strstr(doc, en));
}

static void walk_key(const objects *o, int32_t kind, int32_t key, const char *doc) {
    int32_t type = 0, flags = 0;
    double min = 0, max = 0, def = 0;
    CHECK_OK(ff_param_info(kind, key, &type, &min, &max, &def, &flags));
    const char *name = ff_param_name(kind, key);
    CHECK(name != NULL);
    if (!name) return;
    int32_t back = -1;
    CHECK_OK(ff_param_key(kind, name, &back));
    CHECK(back == key);
    check_documented(doc, kind, name);
    CHECK(type == FF_PARAM_I32 || type == FF_PARAM_I64 || type == FF_PARAM_F32);
    CHECK(min <= def && def <= max);
    /* the default is what the fresh object reports */
    if (type == FF_PARAM_F32) {
        float v = -1.0f;
        CHECK_OK(get_f32(o, kind, key, &v));
        CHECK(v == (float)def);
    } else {
        int64_t v = -1;
        CHECK_OK(get_int(o, kind, type, key, &v));
        if (v != to_i64(def)) fprintf(stderr, "  %s: fresh %lld, default %g\n", name, (long long)v, def);
        CHECK(v == to_i64(def));
    }
    /* a setter of another type never applies */
    if (type != FF_PARAM_F32 && kind != FF_OBJECT_GLOBAL && kind != FF_OBJECT_EXTRACTOR)
        CHECK_STATUS(set_f32(o, kind, key, 1.0f), FF_E_INVALID_ARGUMENT);
    if (flags & FF_PARAM_READ_ONLY) {
        CHECK_STATUS(set_int(o, kind, type, key, to_i64(def)), FF_E_INVALID_ARGUMENT);
        CHECK_MSG("read-only");
        return;
    }
    if (type == FF_PARAM_F32) walk_f32(o, kind, key, min, max, flags, name);
    else walk_int(o, kind, type, key, min, max, flags, name);
    /* back to the default, so that later keys see a default object */
    if (type == FF_PARAM_F32) CHECK_OK(set_f32(o, kind, key, (float)def));
    else CHECK_OK(set_int(o, kind, type, key, to_i64(def)));
}

static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (s && fread(s, 1, (size_t)n, f) == (size_t)n) s[n] = '\0';
    else {
        free(s);
        s = NULL;
    }
    fclose(f);
    return s;
}

static void test_walk(const objects *o) {
    const char *src = getenv("FF_SOURCE_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/docs/api-reference.md", src ? src : ".");
    char *doc = slurp(path);
    CHECK(doc != NULL);
    int total = 0;
    for (size_t k = 0; k < sizeof KINDS / sizeof KINDS[0]; k++) {
        int32_t count = 0, prev = 0;
        CHECK_OK(ff_param_count(KINDS[k], &count));
        CHECK(count >= 1);
        for (int32_t i = 0; i < count; i++) {
            int32_t key = 0;
            CHECK_OK(ff_param_key_at(KINDS[k], i, &key));
            CHECK(key > prev); /* increasing key order */
            prev = key;
            walk_key(o, KINDS[k], key, doc);
            total++;
        }
        int32_t key = 0;
        CHECK_STATUS(ff_param_key_at(KINDS[k], count, &key), FF_E_INVALID_ARGUMENT);
        CHECK_STATUS(ff_param_key_at(KINDS[k], -1, &key), FF_E_INVALID_ARGUMENT);
        CHECK_STATUS(ff_param_info(KINDS[k], 9999, NULL, NULL, NULL, NULL, NULL), FF_E_INVALID_ARGUMENT);
        CHECK(ff_param_name(KINDS[k], 9999) == NULL);
        CHECK_STATUS(ff_param_key(KINDS[k], "no_such_option", &key), FF_E_INVALID_ARGUMENT);
    }
    CHECK(total == 3 + 7 + 7 + 15 + 1);
    free(doc);
    /* unknown kinds and NULL arguments */
    int32_t v = 0;
    CHECK_STATUS(ff_param_count(0, &v), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_param_count(FF_OBJECT_SCORER, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_param_info(99, 1, NULL, NULL, NULL, NULL, NULL), FF_E_INVALID_ARGUMENT);
    CHECK(ff_param_name(99, 1) == NULL);
    CHECK_STATUS(ff_param_key(FF_OBJECT_SCORER, NULL, &v), FF_E_INVALID_ARGUMENT);
}

/* A few rows spelled out, so that a table edit that still passes the walk
 * (bounds and setters moving together) is noticed. */
static void test_known_rows(void) {
    int32_t type = 0, flags = 0;
    double min = 0, max = 0, def = 0;
    CHECK_OK(ff_param_info(FF_OBJECT_FLOW_OPTIONS, FF_FLOW_INPUT_WIDTH, &type, &min, &max, &def, &flags));
    CHECK(type == FF_PARAM_I32 && min == 32 && max == 4096 && def == 256);
    CHECK(flags == (FF_PARAM_MULTIPLE_OF_16 | FF_PARAM_BACKBONE_DEFAULT));
    CHECK_OK(ff_param_info(FF_OBJECT_FLOW_OPTIONS, FF_FLOW_HIDDEN_RATIO, &type, &min, &max, &def, &flags));
    CHECK(type == FF_PARAM_F32 && min == 0 && max == 16 && def == 1.0 && (flags & FF_PARAM_MIN_EXCLUSIVE));
    CHECK_OK(ff_param_info(FF_OBJECT_FLOW_OPTIONS, FF_FLOW_SEED, &type, &min, &max, &def, &flags));
    CHECK(type == FF_PARAM_I64 && min == -0x1p63 && max == 0x1p63 && def == 0);
    CHECK_OK(ff_param_info(FF_OBJECT_TRAINER, FF_TRAINER_LEARNING_RATE, &type, NULL, &max, &def, &flags));
    CHECK(type == FF_PARAM_F32 && max == 1 && (float)def == 1e-3f && flags == FF_PARAM_MIN_EXCLUSIVE);
    CHECK_OK(ff_param_info(FF_OBJECT_TRAINER, FF_TRAINER_STEPS, &type, NULL, NULL, NULL, &flags));
    CHECK(type == FF_PARAM_I64 && flags == FF_PARAM_READ_ONLY);
    CHECK_OK(ff_param_info(FF_OBJECT_GLOBAL, FF_GLOBAL_MAX_IMAGE_PIXELS, &type, &min, &max, &def, NULL));
    CHECK(type == FF_PARAM_I64 && min == 1 && max == 0x1p40 && def == 1e8);
    CHECK(strcmp(ff_param_name(FF_OBJECT_SCORER, FF_SCORER_SMOOTH_SIGMA), "smooth_sigma") == 0);
    CHECK(strcmp(ff_param_name(FF_OBJECT_FLOW_OPTIONS, FF_FLOW_CONV3X3_ONLY), "conv3x3_only") == 0);
    int32_t key = 0;
    CHECK_OK(ff_param_key(FF_OBJECT_TRAINER, "batches_per_epoch", &key));
    CHECK(key == FF_TRAINER_BATCHES_PER_EPOCH);
    /* the setters' messages come from the same rows */
    ff_flow_options *o = NULL;
    CHECK_OK(ff_flow_options_create(&o));
    CHECK_STATUS(ff_flow_options_set_i32(o, FF_FLOW_INPUT_WIDTH, 16), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("FF_FLOW_INPUT_WIDTH must be divisible by 16 and in [32, 4096], got 16");
    CHECK_STATUS(ff_flow_options_set_f32(o, FF_FLOW_HIDDEN_RATIO, 0.0f), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("FF_FLOW_HIDDEN_RATIO must be in (0, 16], got 0");
    ff_flow_options_destroy(o);
}

/* The input side had two lower bounds (16 in the flow layout, 32 in the
 * setters, the backbone and the extractor); every check now uses the
 * table's 32. */
static void test_input_side(const ff_backbone *bb) {
    int32_t c, w, h;
    CHECK_OK(ff_backbone_level_shape(bb, 0, 32, 48, &c, &w, &h));
    CHECK(w == 8 && h == 12);
    CHECK_STATUS(ff_backbone_level_shape(bb, 0, 16, 32, &c, &w, &h), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("in_width must be divisible by 16 and in [32, 4096], got 16");
    CHECK_STATUS(ff_backbone_level_shape(bb, 0, 32, 4112, &c, &w, &h), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("in_height");
    ff_extractor *ex = NULL;
    CHECK_OK(ff_extractor_create(bb, &ex));
    float *in = calloc(3 * 16 * 32, sizeof(float));
    CHECK_STATUS(ff_extractor_run(ex, in, 1, 32, 16), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("in_height must be divisible by 16 and in [32, 4096], got 16");
    free(in);
    ff_extractor_destroy(ex);
    ff_flow_layout L;
    const int32_t chw[3][3] = {{64, 4, 4}, {128, 2, 2}, {256, 1, 1}};
    CHECK_STATUS(ff_flow_layout_init(&L, 3, chw, 16, 16, 2, 1, 1.0f, 2.0f, 1), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("input width");
    const int32_t chw2[3][3] = {{64, 8, 8}, {128, 4, 4}, {256, 2, 2}};
    CHECK_OK(ff_flow_layout_init(&L, 3, chw2, 32, 32, 2, 1, 1.0f, 2.0f, 1));
    CHECK_STATUS(ff_flow_layout_init(&L, 3, chw2, 32, 32, 65, 1, 1.0f, 2.0f, 1), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("FF_FLOW_STEPS");
}

/* The architecture list: every listed name is one ff_backbone_load knows
 * (a missing file is FF_E_IO, not FF_E_UNSUPPORTED), the unknown-name
 * message lists them all, and the test-only transformers are not listed. */
static void test_architectures(void) {
    int32_t n = ff_backbone_arch_count();
    CHECK(n == 8);
    CHECK(ff_backbone_arch_name(-1) == NULL && ff_backbone_arch_name(n) == NULL);
    CHECK(strcmp(ff_backbone_arch_name(0), "resnet18") == 0);
    CHECK(strcmp(ff_backbone_arch_name(n - 1), "cait_s24_224") == 0);
    ff_backbone *bb = NULL;
    CHECK_STATUS(ff_backbone_load("resnet99", "/nonexistent.safetensors", &bb), FF_E_UNSUPPORTED);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", ff_last_error_message());
    for (int32_t i = 0; i < n; i++) {
        const char *name = ff_backbone_arch_name(i);
        CHECK(name != NULL && strstr(msg, name) != NULL);
        CHECK(strstr(name, "test") == NULL);
        CHECK_STATUS(ff_backbone_load(name, "/nonexistent.safetensors", &bb), FF_E_IO);
    }
    CHECK(bb == NULL);
}

int main(void) {
    test_known_rows();
    test_architectures();
    ff_backbone *bb = ft_backbone(11);
    ff_flow *plain = bb ? ft_flow(bb, SIZE, 2, 1, 3) : NULL;
    ff_flow *flow = NULL;
    /* statistics, so that FF_SCORER_NORMALIZED = 1 (its max) is accepted */
    if (plain) CHECK_OK(ff_flow_with_statistics(plain, -0.5f, -0.5f, -1.0f, 0.0f, "test", &flow));
    objects o = {0};
    CHECK_OK(ff_flow_options_create(&o.opts));
    if (flow) {
        CHECK_OK(ff_scorer_create(flow, &o.scorer));
        CHECK_OK(ff_trainer_create(flow, &o.trainer));
        CHECK_OK(ff_extractor_create(bb, &o.extractor));
        test_input_side(bb);
    }
    if (o.opts && o.scorer && o.trainer && o.extractor) test_walk(&o);
    else CHECK(!"objects for the walk");
    ff_extractor_destroy(o.extractor);
    ff_trainer_destroy(o.trainer);
    ff_scorer_destroy(o.scorer);
    ff_flow_options_destroy(o.opts);
    ff_flow_destroy(flow);
    ff_flow_destroy(plain);
    ff_backbone_destroy(bb);
    return ff_test_finish();
}
