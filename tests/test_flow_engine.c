/* Flow engine against the PyTorch reference (tests/golden/flow_*.safetensors,
 * from tools/reference/gen_flow_golden.py): z, log-det, loss and anomaly
 * maps to 1e-4, every parameter gradient to 1e-3 (relative to the tensor's
 * largest value); batch-size changes, determinism, NaN handling, bad
 * arguments, and the anomalib name table (flow_names).
 * FF_FLOW_EXTRA_GOLDEN=/abs/path.safetensors adds a golden made by
 * gen_flow_golden.py --big (resnet18 full size, too large to commit). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow_engine.h"
#include "flow/flow_names.h"
#include "tensor/safetensors.h"
#include "test_util.h"

typedef struct golden {
    ff_st_file *f;
    ff_flow_layout L;
    int32_t n;
    float *params;
    int32_t *perms;
    float *feats[FF_MAX_LEVELS];
} golden;

static size_t level_numel(const ff_flow_level_layout *ll) { return (size_t)ll->c * ll->h * ll->w; }

static float *read_all(const ff_st_file *f, const char *name) {
    const ff_st_tensor *t = ff_st_find(f, name);
    if (t == NULL) {
        fprintf(stderr, "golden tensor %s missing\n", name);
        return NULL;
    }
    float *buf = malloc((size_t)t->numel * sizeof(float));
    if (buf && ff_st_read_f32(f, name, t->ndim, t->shape, buf) != FF_OK) {
        free(buf);
        return NULL;
    }
    return buf;
}

static int load_golden(const char *file, golden *g) {
    memset(g, 0, sizeof *g);
    const char *path = file[0] == '/' ? file : ff_test_golden_path(file);
    if (ff_st_open(path, &g->f) != FF_OK) {
        fprintf(stderr, "cannot open %s: %s\n", file, ff_last_error_message());
        return -1;
    }
    int32_t chw[FF_MAX_LEVELS][3];
    int levels = 0;
    const char *p = ff_st_meta(g->f, "shapes");
    while (p && *p && levels < FF_MAX_LEVELS) {
        int used = 0;
        if (sscanf(p, "%d,%d,%d%n", &chw[levels][0], &chw[levels][1], &chw[levels][2], &used) != 3) break;
        levels++;
        p += used;
        if (*p == ';') p++;
    }
    int32_t in_h = atoi(ff_st_meta(g->f, "in_h")), in_w = atoi(ff_st_meta(g->f, "in_w"));
    int32_t steps = atoi(ff_st_meta(g->f, "steps")), c3 = atoi(ff_st_meta(g->f, "conv3x3_only"));
    float hr = strtof(ff_st_meta(g->f, "hidden_ratio"), NULL), clamp = strtof(ff_st_meta(g->f, "clamp"), NULL);
    g->n = atoi(ff_st_meta(g->f, "batch"));
    const char *un = ff_st_meta(g->f, "use_norm");
    int32_t use_norm = un ? atoi(un) : 1;
    if (ff_flow_layout_init(&g->L, levels, (const int32_t(*)[3])chw, in_w, in_h, steps, c3, hr, clamp, use_norm) !=
        FF_OK)
        return -1;
    g->params = calloc(g->L.num_params, sizeof(float));
    g->perms = calloc(g->L.num_perm, sizeof(int32_t));
    if (!g->params || !g->perms) return -1;
    size_t count = ff_flow_names_count(&g->L);
    for (size_t i = 0; i < count; i++) {
        ff_flow_tensor_name t;
        if (ff_flow_names_get(&g->L, i, &t) != FF_OK) return -1;
        if (t.kind == FF_FLOW_NAME_PARAM) {
            if (ff_st_read_f32(g->f, t.name, t.ndim, t.shape, g->params + t.offset) != FF_OK) {
                fprintf(stderr, "%s\n", ff_last_error_message());
                return -1;
            }
        } else {
            float *w = read_all(g->f, t.name);
            int32_t *perm = malloc((size_t)t.shape[0] * sizeof(int32_t));
            int bad = !w || !perm ||
                      ff_flow_perm_from_matrix(w, (int32_t)t.shape[0], t.kind == FF_FLOW_NAME_PERM_INV, perm) != FF_OK;
            if (!bad && t.kind == FF_FLOW_NAME_PERM)
                memcpy(g->perms + t.offset, perm, (size_t)t.shape[0] * sizeof(int32_t));
            if (!bad && t.kind == FF_FLOW_NAME_PERM_INV) /* w_perm_inv must be w_perm's transpose */
                bad = memcmp(g->perms + t.offset, perm, (size_t)t.shape[0] * sizeof(int32_t)) != 0;
            free(w);
            free(perm);
            if (bad) {
                fprintf(stderr, "bad permutation %s\n", t.name);
                return -1;
            }
        }
    }
    for (int32_t l = 0; l < g->L.num_levels; l++) {
        char name[32];
        snprintf(name, sizeof name, "input.%d", (int)l);
        if ((g->feats[l] = read_all(g->f, name)) == NULL) return -1;
    }
    return 0;
}

static void free_golden(golden *g) {
    for (int l = 0; l < FF_MAX_LEVELS; l++) free(g->feats[l]);
    free(g->params);
    free(g->perms);
    ff_st_close(g->f);
}

typedef struct result {
    float *z[FF_MAX_LEVELS];
    float *logdet, *maps, loss;
} result;

static void alloc_result(const golden *g, int32_t n, result *r) {
    memset(r, 0, sizeof *r);
    for (int32_t l = 0; l < g->L.num_levels; l++) r->z[l] = calloc((size_t)n * level_numel(&g->L.level[l]), 4);
    r->logdet = calloc((size_t)n * (size_t)g->L.num_levels, 4);
    r->maps = calloc((size_t)n * (size_t)g->L.in_h * (size_t)g->L.in_w, 4);
}

static void free_result(result *r) {
    for (int l = 0; l < FF_MAX_LEVELS; l++) free(r->z[l]);
    free(r->logdet);
    free(r->maps);
}

static ff_status run(ff_flow_engine *e, const golden *g, int32_t n, result *r) {
    ff_status st = ff_flow_engine_forward(e, g->params, g->perms, (const float *const *)g->feats, n, r->z,
                                          r->logdet, &r->loss);
    if (st != FF_OK) return st;
    return ff_flow_engine_anomaly_maps(e, r->maps, (size_t)n * (size_t)g->L.in_h * (size_t)g->L.in_w);
}

/* Compares the first n samples of a forward result with the golden. */
static void compare_forward(const golden *g, const result *r, int32_t n, const char *tag) {
    char what[96];
    for (int32_t l = 0; l < g->L.num_levels; l++) {
        char name[32];
        snprintf(name, sizeof name, "out.z.%d", (int)l);
        float *ref = read_all(g->f, name);
        snprintf(what, sizeof what, "%s z[%d]", tag, (int)l);
        CHECK(ref && ff_test_close_rel_max(what, r->z[l], ref, (size_t)n * level_numel(&g->L.level[l]), 1e-4));
        free(ref);
    }
    float *ld = read_all(g->f, "out.logdet");
    snprintf(what, sizeof what, "%s logdet", tag);
    CHECK(ld && ff_test_close_rel_max(what, r->logdet, ld, (size_t)n * (size_t)g->L.num_levels, 1e-4));
    free(ld);
    float *maps = read_all(g->f, "out.maps");
    snprintf(what, sizeof what, "%s maps", tag);
    CHECK(maps && ff_test_close(what, r->maps, maps, (size_t)n * (size_t)g->L.in_h * (size_t)g->L.in_w, 1e-4, 1e-6));
    free(maps);
    if (n == g->n) {
        float *loss = read_all(g->f, "out.loss");
        snprintf(what, sizeof what, "%s loss", tag);
        CHECK(loss && ff_test_close_rel_max(what, &r->loss, loss, 1, 1e-4));
        free(loss);
    }
}

static void compare_grads(const golden *g, const float *grads, const char *tag) {
    size_t count = ff_flow_names_count(&g->L), checked = 0, failed = 0;
    double worst = 0.0;
    const char *worst_name = "";
    static char worst_buf[128];
    for (size_t i = 0; i < count; i++) {
        ff_flow_tensor_name t;
        ff_flow_names_get(&g->L, i, &t);
        if (t.kind != FF_FLOW_NAME_PARAM) continue;
        char name[128];
        snprintf(name, sizeof name, "grad.%s", t.name);
        float *ref = read_all(g->f, name);
        if (!ref) {
            failed++;
            continue;
        }
        double maxref = 0.0, maxerr = 0.0;
        for (size_t k = 0; k < t.count; k++) {
            double a = grads[t.offset + k], b = ref[k];
            if (fabs(b) > maxref) maxref = fabs(b);
            double e = fabs(a - b);
            if (!(e <= maxerr)) maxerr = e;
        }
        double rel = maxref > 0 ? maxerr / maxref : maxerr;
        if (!(rel <= 1e-3)) {
            failed++;
            fprintf(stderr, "%s: gradient %s rel err %.3g (max|ref| %.3g)\n", tag, t.name, rel, maxref);
        }
        if (!(rel <= worst)) {
            worst = rel;
            snprintf(worst_buf, sizeof worst_buf, "%s", t.name);
            worst_name = worst_buf;
        }
        checked++;
        free(ref);
    }
    printf("%s gradients: %zu tensors, worst rel err %.3g (%s), %zu over 1e-3\n", tag, checked, worst, worst_name,
           failed);
    CHECK(checked > 0 && failed == 0);
}

static void test_names(const golden *g) {
    /* the names cover every float of the flat array exactly once */
    unsigned char *cover = calloc(g->L.num_params, 1);
    size_t count = ff_flow_names_count(&g->L), floats = 0, overlaps = 0, perms = 0;
    CHECK(count == (size_t)g->L.num_levels * ((g->L.level[0].has_norm ? 2 : 0) + 8 * (size_t)g->L.num_steps));
    for (size_t i = 0; i < count; i++) {
        ff_flow_tensor_name t;
        CHECK_OK(ff_flow_names_get(&g->L, i, &t));
        if (t.kind != FF_FLOW_NAME_PARAM) {
            perms++;
            continue;
        }
        for (size_t k = 0; k < t.count; k++) overlaps += cover[t.offset + k]++ != 0;
        floats += t.count;
        CHECK(ff_st_find(g->f, t.name) != NULL);
    }
    CHECK(floats == g->L.num_params && overlaps == 0);
    CHECK(perms == 2 * (size_t)g->L.num_levels * (size_t)g->L.num_steps);
    free(cover);
    ff_flow_tensor_name t;
    int32_t ll = g->L.num_levels - 1;
    char name[96];
    snprintf(name, sizeof name, "fast_flow_blocks.%d.module_list.2.subnet.4.weight", (int)ll);
    CHECK_OK(ff_flow_names_find(&g->L, name, &t));
    CHECK(t.level == ll && t.step == 2 && t.offset == g->L.level[ll].step[2].w2 && t.ndim == 4 &&
          t.shape[0] == 2 * g->L.level[ll].c2 && t.shape[1] == g->L.level[ll].hidden &&
          t.shape[2] == g->L.level[ll].step[2].kernel);
    snprintf(name, sizeof name, "norms.%d.bias", (int)ll);
    if (g->L.level[ll].has_norm) {
        CHECK_OK(ff_flow_names_find(&g->L, name, &t));
        CHECK(t.offset == g->L.level[ll].norm_b && t.ndim == 3 && t.shape[0] == g->L.level[ll].c);
    } else {
        CHECK_STATUS(ff_flow_names_find(&g->L, name, &t), FF_E_INVALID_ARGUMENT);
    }
    CHECK_STATUS(ff_flow_names_find(&g->L, "fast_flow_blocks.9.module_list.0.global_scale", &t),
                 FF_E_INVALID_ARGUMENT);
    CHECK_MSG("no flow tensor named");
    CHECK_STATUS(ff_flow_names_get(&g->L, count, &t), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("out of range");
    /* permutation matrices: round trip and rejection */
    int32_t perm[4] = {2, 0, 3, 1}, back[4];
    float w[16];
    ff_flow_perm_to_matrix(perm, 4, 1, w);
    CHECK_OK(ff_flow_perm_from_matrix(w, 4, 1, back));
    CHECK(memcmp(perm, back, sizeof perm) == 0);
    CHECK(w[2 * 4 + 0] == 1.0f); /* inverse: w_inv[perm[0]][0] */
    ff_flow_perm_to_matrix(perm, 4, 0, w);
    w[1] = 1.0f; /* row 0 gets two ones */
    CHECK_STATUS(ff_flow_perm_from_matrix(w, 4, 0, back), FF_E_BAD_FORMAT);
    CHECK_MSG("not one-hot");
    ff_flow_perm_to_matrix(perm, 4, 0, w);
    w[0 * 4 + 2] = 0.5f;
    CHECK_STATUS(ff_flow_perm_from_matrix(w, 4, 0, back), FF_E_BAD_FORMAT);
}

static void test_golden(const char *file) {
    golden g;
    if (load_golden(file, &g) != 0) {
        CHECK(!"golden file loads");
        free_golden(&g);
        return;
    }
    printf("== %s: %d levels, %d steps, conv3x3_only %d, %zu parameters\n", file, (int)g.L.num_levels,
           (int)g.L.num_steps, (int)g.L.conv3x3_only, g.L.num_params);
    test_names(&g);
    const int32_t n = g.n;
    float *grads = malloc(g.L.num_params * sizeof(float));

    /* training engine: forward, maps, backward */
    ff_flow_engine *tr = NULL;
    CHECK_OK(ff_flow_engine_create(&g.L, 1, &tr));
    result r;
    alloc_result(&g, n, &r);
    CHECK_OK(run(tr, &g, n, &r));
    compare_forward(&g, &r, n, "train");
    for (size_t i = 0; i < g.L.num_params; i++) grads[i] = NAN;
    CHECK_OK(ff_flow_engine_backward(tr, g.params, g.perms, grads));
    compare_grads(&g, grads, "train");

    /* batch 1 (new primitives), then batch 2 again (kept set): backward
     * still matches */
    result r1;
    alloc_result(&g, 1, &r1);
    CHECK_OK(run(tr, &g, 1, &r1));
    compare_forward(&g, &r1, 1, "train batch 1");
    CHECK_OK(run(tr, &g, n, &r));
    compare_forward(&g, &r, n, "train batch 2 again");
    for (size_t i = 0; i < g.L.num_params; i++) grads[i] = NAN;
    CHECK_OK(ff_flow_engine_backward(tr, g.params, g.perms, grads));
    compare_grads(&g, grads, "train after batch change");

    /* inference engine: batch 2, batch 1, and a second engine gives
     * bit-identical results */
    ff_flow_engine *inf = NULL, *inf2 = NULL;
    CHECK_OK(ff_flow_engine_create(&g.L, 0, &inf));
    CHECK_OK(ff_flow_engine_create(&g.L, 0, &inf2));
    result a, b;
    alloc_result(&g, n, &a);
    alloc_result(&g, n, &b);
    CHECK_OK(run(inf, &g, n, &a));
    compare_forward(&g, &a, n, "inference");
    CHECK_OK(run(inf, &g, 1, &r1));
    compare_forward(&g, &r1, 1, "inference batch 1");
    CHECK_OK(run(inf, &g, n, &a));
    CHECK_OK(run(inf2, &g, n, &b));
    int same = memcmp(a.maps, b.maps, (size_t)n * g.L.in_h * g.L.in_w * 4) == 0 &&
               memcmp(a.logdet, b.logdet, (size_t)n * g.L.num_levels * 4) == 0 && a.loss == b.loss;
    for (int32_t l = 0; l < g.L.num_levels; l++)
        same = same && memcmp(a.z[l], b.z[l], (size_t)n * level_numel(&g.L.level[l]) * 4) == 0;
    CHECK(same);
    /* training and inference engines agree too (oneDNN may pick other
     * kernels for training primitives, so to rounding only) */
    CHECK(ff_test_close_rel_max("train vs inference maps", a.maps, r.maps, (size_t)n * g.L.in_h * g.L.in_w, 1e-5));

    /* constant-parameter mode (cached weights): the same bits; another
     * params pointer refreshes the cache */
    CHECK_OK(ff_flow_engine_set_params_constant(inf2, 1));
    CHECK_OK(run(inf2, &g, n, &b));
    CHECK_OK(run(inf2, &g, 1, &r1));
    CHECK_OK(run(inf2, &g, n, &b));
    CHECK(memcmp(a.maps, b.maps, (size_t)n * g.L.in_h * g.L.in_w * 4) == 0 && a.loss == b.loss);
    {
        float *p2 = malloc(g.L.num_params * sizeof(float));
        memcpy(p2, g.params, g.L.num_params * sizeof(float));
        for (size_t i = g.L.level[0].step[0].w2; i < g.L.level[0].step[0].b2; i++) p2[i] *= 0.5f;
        float l_cached = 0.0f, l_plain = 0.0f;
        CHECK_OK(ff_flow_engine_forward(inf2, p2, g.perms, (const float *const *)g.feats, n, NULL, NULL, &l_cached));
        CHECK_OK(ff_flow_engine_forward(inf, p2, g.perms, (const float *const *)g.feats, n, NULL, NULL, &l_plain));
        CHECK(l_cached == l_plain && l_cached != a.loss);
        free(p2);
    }
    CHECK_STATUS(ff_flow_engine_set_params_constant(tr, 1), FF_E_STATE);
    CHECK_MSG("inference");
    CHECK_OK(ff_flow_engine_set_params_constant(inf2, 0));

    /* inference engines refuse backward */
    CHECK_STATUS(ff_flow_engine_backward(inf, g.params, g.perms, grads), FF_E_STATE);
    CHECK_MSG("inference");

    /* NaN in the features: FF_E_NUMERIC, outputs untouched, maps refused */
    const int32_t last = g.L.num_levels - 1;
    float keep = g.feats[last][5];
    g.feats[last][5] = NAN;
    float loss = 123.0f;
    CHECK_STATUS(ff_flow_engine_forward(inf, g.params, g.perms, (const float *const *)g.feats, n, NULL, NULL, &loss),
                 FF_E_NUMERIC);
    CHECK_MSG("not finite");
    CHECK(loss == 123.0f);
    CHECK_STATUS(ff_flow_engine_anomaly_maps(inf, a.maps, (size_t)n * g.L.in_h * g.L.in_w), FF_E_STATE);
    CHECK_STATUS(ff_flow_engine_forward(tr, g.params, g.perms, (const float *const *)g.feats, n, NULL, NULL, &loss),
                 FF_E_NUMERIC);
    CHECK_STATUS(ff_flow_engine_backward(tr, g.params, g.perms, grads), FF_E_STATE);
    CHECK_MSG("forward");
    g.feats[last][5] = keep;
    /* Inf in the bias of a translation channel (an Inf scale channel
     * would be absorbed by the tanh clamp, in PyTorch too) */
    size_t bi = g.L.level[0].step[1].b2 + (size_t)g.L.level[0].c2;
    float pk = g.params[bi];
    g.params[bi] = INFINITY;
    CHECK_STATUS(ff_flow_engine_forward(inf, g.params, g.perms, (const float *const *)g.feats, n, NULL, NULL, &loss),
                 FF_E_NUMERIC);
    CHECK_MSG("not finite");
    g.params[bi] = pk;

    /* bad arguments */
    CHECK_STATUS(ff_flow_engine_forward(inf, NULL, g.perms, (const float *const *)g.feats, n, NULL, NULL, NULL),
                 FF_E_INVALID_ARGUMENT);
    CHECK_MSG("NULL");
    CHECK_STATUS(ff_flow_engine_forward(inf, g.params, g.perms, (const float *const *)g.feats, 0, NULL, NULL, NULL),
                 FF_E_INVALID_ARGUMENT);
    CHECK_MSG("batch size");
    const float *nofeat[FF_MAX_LEVELS] = {g.feats[0], g.feats[1], g.feats[2], g.feats[3]};
    nofeat[last] = NULL;
    CHECK_STATUS(ff_flow_engine_forward(inf, g.params, g.perms, nofeat, n, NULL, NULL, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("features of level");
    size_t pp = g.L.level[last].step[g.L.num_steps - 1].perm;
    int32_t pkeep = g.perms[pp + 1];
    g.perms[pp + 1] = g.perms[pp];
    CHECK_STATUS(ff_flow_engine_forward(inf, g.params, g.perms, (const float *const *)g.feats, n, NULL, NULL, NULL),
                 FF_E_INVALID_ARGUMENT);
    CHECK_MSG("not a permutation");
    g.perms[pp + 1] = pkeep;
    CHECK_OK(run(inf, &g, n, &a));
    CHECK_STATUS(ff_flow_engine_anomaly_maps(inf, a.maps, (size_t)n * g.L.in_h * g.L.in_w - 1), FF_E_BUFFER_TOO_SMALL);
    CHECK_MSG("anomaly maps need");
    CHECK_STATUS(ff_flow_engine_create(NULL, 0, &inf2), FF_E_INVALID_ARGUMENT);
    ff_flow_engine_destroy(NULL);

    ff_flow_engine_destroy(tr);
    ff_flow_engine_destroy(inf);
    ff_flow_engine_destroy(inf2);
    free_result(&r);
    free_result(&r1);
    free_result(&a);
    free_result(&b);
    free(grads);
    free_golden(&g);
}

int main(void) {
    test_golden("flow_3x3.safetensors");
    test_golden("flow_alt.safetensors");
    test_golden("flow_vit.safetensors");
    /* optional full-size check (gen_flow_golden.py --big DIR), not in CI */
    const char *extra = getenv("FF_FLOW_EXTRA_GOLDEN");
    if (extra && extra[0] == '/') test_golden(extra);
    return ff_test_finish();
}
