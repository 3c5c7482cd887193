/* The flow engine: runs every level's LayerNorm and coupling steps
 * forward (and backward for training) on plain NCHW state buffers, with
 * the subnet convolutions as oneDNN primitives (flow_convs.c) and the
 * rest as fused elementwise passes (layernorm.c, coupling*.c,
 * flow_maps.c). */
#include "flow/flow_engine.h"

#include <math.h>
#include <string.h>

#include "core/cpu_features.h"
#include "core/dnnl_util.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/settings.h"
#include "flow/flow_convs.h"
#include "flow/flow_kernels.h"

#define LN_EPS 1e-5f
/* Primitive sets kept per level: the trainer alternates between its batch
 * size and the smaller last batch of an epoch; keeping both avoids
 * recreating primitives twice per epoch. */
#define FF_CONV_SETS 2

typedef struct conv_set {
    int32_t n;               /* batch size, 0 = empty */
    uint64_t used;           /* last use, for replacement */
    ff_flow_convs *cv[2];    /* [0] 3x3 steps, [1] 1x1 steps (NULL if none) */
    /* constant-parameter mode: every step's weights in the forward
     * formats, valid for the params pointer `cached` */
    const float *cached;
    unsigned char *wcache;
    size_t woff[FF_MAX_STEPS][2];
} conv_set;

typedef struct level_rt {
    conv_set sets[FF_CONV_SETS];
    conv_set *cur;
    size_t state_stride;     /* floats per state buffer, padded to 16 */
    size_t a_stride;         /* floats per subnet output buffer */
    size_t h_stride;         /* bytes per hidden activation buffer */
    size_t h_cap;            /* bytes allocated for hs */
    size_t x1_stride;        /* bytes per kept conv1 input (training) */
    size_t x1_cap;
    unsigned char *x1s;      /* training: steps x1 in conv1's format */
    float *xs;               /* training: steps + 1 states; inference: 2 */
    float *as;               /* training: steps; inference: 1 */
    unsigned char *hs;       /* training: steps; inference: 1 */
    float *xhat;             /* training and has_norm */
    float *pmap;             /* [n, h, w] */
    ff_axis_tap *ty, *tx;
} level_rt;

struct ff_flow_engine {
    const ff_flow_layout *L;
    int32_t training;
    dnnl_stream_t stream;
    uint64_t clock;
    int32_t n_bufs;          /* batch the buffers hold */
    level_rt lv[FF_MAX_LEVELS];
    double *ln_scratch, *map_scratch, *s_sum, *sumsq, *ld, *part_g, *part_o;
    float *g, *dg, *dld;
    unsigned char *seen;     /* permutation check */
    float *dy, *dx, *da;     /* backward, sized for the largest level */
    int32_t fwd_n;           /* batch of the last successful forward, 0 = none */
    int32_t params_constant; /* ff_flow_engine_set_params_constant */
    int32_t precision;       /* ff_flow_engine_set_precision */
    unsigned char *ws;       /* convolution temporaries, shared by all sets */
    size_t ws_cap;
    int32_t max_c;
};

static size_t pad16(size_t v) { return (v + 15) & ~(size_t)15; }

static void free_set(conv_set *s) {
    ff_free(s->wcache);
    ff_flow_convs_destroy(s->cv[0]);
    ff_flow_convs_destroy(s->cv[1]);
    memset(s, 0, sizeof *s);
}

static void free_batch_buffers(ff_flow_engine *e) {
    for (int32_t l = 0; l < FF_MAX_LEVELS; l++) {
        level_rt *r = &e->lv[l];
        ff_free(r->xs);
        ff_free(r->as);
        ff_free(r->hs);
        ff_free(r->x1s);
        r->x1s = NULL;
        r->x1_cap = 0;
        ff_free(r->xhat);
        ff_free(r->pmap);
        r->xs = r->as = r->xhat = r->pmap = NULL;
        r->hs = NULL;
        r->h_cap = 0;
    }
    double **d[] = {&e->ln_scratch, &e->map_scratch, &e->s_sum, &e->sumsq, &e->ld, &e->part_g, &e->part_o};
    for (size_t i = 0; i < sizeof d / sizeof d[0]; i++) {
        ff_free(*d[i]);
        *d[i] = NULL;
    }
    float **f[] = {&e->dy, &e->dx, &e->da, &e->dld};
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
        ff_free(*f[i]);
        *f[i] = NULL;
    }
    e->n_bufs = 0;
}

void ff_flow_engine_destroy(ff_flow_engine *e) {
    if (e == NULL) return;
    free_batch_buffers(e);
    for (int32_t l = 0; l < FF_MAX_LEVELS; l++) {
        for (int32_t s = 0; s < FF_CONV_SETS; s++) free_set(&e->lv[l].sets[s]);
        ff_free(e->lv[l].ty);
        ff_free(e->lv[l].tx);
    }
    ff_free(e->g);
    ff_free(e->dg);
    ff_free(e->seen);
    ff_free(e->ws);
    if (e->stream) dnnl_stream_destroy(e->stream);
    ff_free(e);
}

ff_status ff_flow_engine_create(const ff_flow_layout *layout, int32_t training, ff_flow_engine **out) {
    FF_CHECK_ARG(layout != NULL && out != NULL, "layout or output is NULL");
    FF_CHECK_ARG(layout->num_levels >= 1 && layout->num_levels <= FF_MAX_LEVELS && layout->num_params > 0,
                 "flow layout is not initialised");
    dnnl_engine_t eng = ff_dnnl_engine();
    if (eng == NULL) return FF_E_INTERNAL;
    ff_flow_engine *e = ff_calloc(1, sizeof *e);
    if (e == NULL) return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory for a flow engine");
    e->L = layout;
    e->training = training ? 1 : 0;
    ff_status st = ff_dnnl_check(dnnl_stream_create(&e->stream, eng, dnnl_stream_default_flags),
                                 "creating a oneDNN stream");
    for (int32_t l = 0; l < layout->num_levels && st == FF_OK; l++) {
        const ff_flow_level_layout *ll = &layout->level[l];
        if (ll->c > e->max_c) e->max_c = ll->c;
        level_rt *r = &e->lv[l];
        r->ty = ff_calloc((size_t)layout->in_h, sizeof *r->ty);
        r->tx = ff_calloc((size_t)layout->in_w, sizeof *r->tx);
        if (r->ty == NULL || r->tx == NULL) {
            st = ff_fail(FF_E_OUT_OF_MEMORY, "out of memory for anomaly map taps");
            break;
        }
        ff_bilinear_taps(ll->h, layout->in_h, r->ty);
        ff_bilinear_taps(ll->w, layout->in_w, r->tx);
    }
    if (st == FF_OK) {
        e->g = ff_calloc((size_t)e->max_c, sizeof(float));
        e->dg = ff_calloc((size_t)e->max_c, sizeof(float));
        e->seen = ff_calloc((size_t)e->max_c, 1);
        if (!e->g || !e->dg || !e->seen) st = ff_fail(FF_E_OUT_OF_MEMORY, "out of memory for a flow engine");
    }
    if (st != FF_OK) {
        ff_flow_engine_destroy(e);
        return st;
    }
    *out = e;
    return FF_OK;
}

/* ---------------------------------------------------------------- set-up */

static ff_status build_set(ff_flow_engine *e, int32_t l, int32_t n, conv_set *s) {
    const ff_flow_layout *L = e->L;
    const ff_flow_level_layout *ll = &L->level[l];
    ff_flow_conv_shape sh = {n, ll->c, ll->h, ll->w, ll->c1, ll->c2, ll->hidden, 3, e->precision};
    for (int32_t k = 0; k < L->num_steps; k++) {
        int32_t kind = ll->step[k].kernel == 3 ? 0 : 1;
        if (s->cv[kind]) continue;
        sh.kernel = ll->step[k].kernel;
        FF_TRY(ff_flow_convs_create(&sh, e->training, &s->cv[kind]));
    }
    s->n = n;
    return FF_OK;
}

/* Selects (or builds) the primitives for batch n on every level. */
static ff_status select_sets(ff_flow_engine *e, int32_t n) {
    e->clock++;
    for (int32_t l = 0; l < e->L->num_levels; l++) {
        level_rt *r = &e->lv[l];
        conv_set *pick = NULL, *victim = &r->sets[0];
        for (int32_t i = 0; i < FF_CONV_SETS; i++) {
            if (r->sets[i].n == n) pick = &r->sets[i];
            if (r->sets[i].used < victim->used) victim = &r->sets[i];
        }
        if (pick == NULL) {
            free_set(victim);
            r->cur = NULL;
            ff_status st = build_set(e, l, n, victim);
            if (st != FF_OK) {
                free_set(victim);
                return st;
            }
            pick = victim;
        }
        pick->used = e->clock;
        r->cur = pick;
    }
    return FF_OK;
}

static ff_status alloc_f(size_t count, float **out) {
    *out = ff_alloc(count * sizeof(float) + 64);
    return *out ? FF_OK : ff_fail(FF_E_OUT_OF_MEMORY, "out of memory for flow buffers (%zu floats)", count);
}
static ff_status alloc_d(size_t count, double **out) {
    *out = ff_alloc(count * sizeof(double) + 64);
    return *out ? FF_OK : ff_fail(FF_E_OUT_OF_MEMORY, "out of memory for flow buffers");
}

static ff_status alloc_batch_buffers(ff_flow_engine *e, int32_t n) {
    const ff_flow_layout *L = e->L;
    int32_t steps = L->num_steps;
    size_t ln_s = 0, map_s = 0, c2n = 0, big_state = 0, big_a = 0;
    for (int32_t l = 0; l < L->num_levels; l++) {
        const ff_flow_level_layout *ll = &L->level[l];
        level_rt *r = &e->lv[l];
        size_t hw = (size_t)ll->h * (size_t)ll->w, m = (size_t)ll->c * hw, st_n;
        if (!ff_mul_size(m, (size_t)n, &st_n)) return ff_fail(FF_E_OUT_OF_MEMORY, "flow buffers too large");
        r->state_stride = pad16(st_n);
        r->a_stride = pad16((size_t)n * (size_t)(2 * ll->c2) * hw);
        size_t states = e->training ? (size_t)steps + 1 : 2, as = e->training ? (size_t)steps : 1;
        FF_TRY(alloc_f(r->state_stride * states, &r->xs));
        FF_TRY(alloc_f(r->a_stride * as, &r->as));
        FF_TRY(alloc_f((size_t)n * hw, &r->pmap));
        if (e->training && ll->has_norm) FF_TRY(alloc_f(st_n, &r->xhat));
        size_t ln = ff_layernorm_scratch(n, m), mp = ff_flow_prob_map_scratch(n, hw);
        if (ln > ln_s) ln_s = ln;
        if (mp > map_s) map_s = mp;
        if ((size_t)n * (size_t)ll->c > c2n) c2n = (size_t)n * (size_t)ll->c;
        if (r->state_stride > big_state) big_state = r->state_stride;
        if (r->a_stride > big_a) big_a = r->a_stride;
    }
    FF_TRY(alloc_d(ln_s, &e->ln_scratch));
    FF_TRY(alloc_d(map_s, &e->map_scratch));
    FF_TRY(alloc_d(c2n, &e->s_sum));
    FF_TRY(alloc_d((size_t)n, &e->sumsq));
    FF_TRY(alloc_d((size_t)n * (size_t)L->num_levels, &e->ld));
    if (e->training) {
        FF_TRY(alloc_d(c2n, &e->part_g));
        FF_TRY(alloc_d(c2n, &e->part_o));
        FF_TRY(alloc_f((size_t)n, &e->dld));
        FF_TRY(alloc_f(big_state, &e->dy));
        FF_TRY(alloc_f(big_state, &e->dx));
        FF_TRY(alloc_f(big_a, &e->da));
    }
    e->n_bufs = n;
    return FF_OK;
}

/* Grows *buf to count buffers of stride bytes. */
static ff_status ensure_bytes(unsigned char **buf, size_t *cap, size_t stride, size_t count) {
    size_t need;
    if (!ff_mul_size(stride, count, &need)) return ff_fail(FF_E_OUT_OF_MEMORY, "flow buffers too large");
    if (need <= *cap) return FF_OK;
    ff_free(*buf);
    *cap = 0;
    *buf = ff_alloc(need ? need : 64);
    if (*buf == NULL) return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory for flow activations");
    *cap = need;
    return FF_OK;
}

/* Hidden activations (and, for training, the kept conv1 inputs): sized
 * from the primitives (oneDNN's formats). */
static ff_status ensure_h(ff_flow_engine *e) {
    for (int32_t l = 0; l < e->L->num_levels; l++) {
        level_rt *r = &e->lv[l];
        size_t hb = 0, xb = 0;
        for (int32_t k = 0; k < 2; k++) {
            if (!r->cur->cv[k]) continue;
            if (ff_flow_convs_h_bytes(r->cur->cv[k]) > hb) hb = ff_flow_convs_h_bytes(r->cur->cv[k]);
            if (ff_flow_convs_x1_bytes(r->cur->cv[k]) > xb) xb = ff_flow_convs_x1_bytes(r->cur->cv[k]);
        }
        hb = (hb + 63) & ~(size_t)63;
        xb = (xb + 63) & ~(size_t)63;
        if (e->training) {
            r->x1_stride = xb;
            FF_TRY(ensure_bytes(&r->x1s, &r->x1_cap, xb, (size_t)e->L->num_steps));
        }
        r->h_stride = hb;
        FF_TRY(ensure_bytes(&r->hs, &r->h_cap, hb, e->training ? (size_t)e->L->num_steps : 1));
        for (int32_t k = 0; k < 2; k++)
            if (r->cur->cv[k]) FF_TRY(ensure_bytes(&e->ws, &e->ws_cap, ff_flow_convs_workspace_bytes(r->cur->cv[k]), 1));
    }
    return FF_OK;
}

static ff_status prepare(ff_flow_engine *e, int32_t n) {
    if (n > e->n_bufs) {
        free_batch_buffers(e);
        ff_status st = alloc_batch_buffers(e, n);
        if (st != FF_OK) {
            free_batch_buffers(e);
            return st;
        }
    }
    FF_TRY(select_sets(e, n));
    return ensure_h(e);
}

ff_status ff_flow_engine_set_params_constant(ff_flow_engine *e, int32_t constant) {
    FF_CHECK_ARG(e != NULL, "engine is NULL");
    if (e->training && constant)
        return ff_fail(FF_E_STATE, "a training engine's parameters change; constant parameters need inference");
    e->params_constant = constant ? 1 : 0;
    for (int32_t l = 0; l < FF_MAX_LEVELS; l++)
        for (int32_t i = 0; i < FF_CONV_SETS; i++) e->lv[l].sets[i].cached = NULL;
    return FF_OK;
}

ff_status ff_flow_engine_set_precision(ff_flow_engine *e, int32_t precision) {
    FF_CHECK_ARG(e != NULL, "engine is NULL");
    FF_TRY(ff_check_precision(precision, "the flow's precision"));
    if (e->training && precision == FF_PRECISION_FP32_WINOGRAD)
        return ff_fail(FF_E_UNSUPPORTED, "training runs the flow convolutions in float32 (direct) or bf16 only");
    if (precision == e->precision) return FF_OK;
    /* the primitives (and cached weights) of the old precision are dropped;
     * the next forward builds new ones */
    for (int32_t l = 0; l < FF_MAX_LEVELS; l++) {
        for (int32_t i = 0; i < FF_CONV_SETS; i++) free_set(&e->lv[l].sets[i]);
        e->lv[l].cur = NULL;
    }
    e->precision = precision;
    e->fwd_n = 0;
    return FF_OK;
}

/* Fills the set's weight cache for params (constant-parameter mode). */
static ff_status fill_weight_cache(ff_flow_engine *e, int32_t l, conv_set *cs, const float *params) {
    const ff_flow_level_layout *ll = &e->L->level[l];
    cs->cached = NULL;
    if (cs->wcache == NULL) {
        size_t total = 0;
        for (int32_t k = 0; k < e->L->num_steps; k++) {
            ff_flow_convs *cv = cs->cv[ll->step[k].kernel == 3 ? 0 : 1];
            for (int w = 0; w < 2; w++) {
                cs->woff[k][w] = total;
                total += (ff_flow_convs_weight_bytes(cv, w + 1) + 63) & ~(size_t)63;
            }
        }
        cs->wcache = ff_alloc(total ? total : 64);
        if (cs->wcache == NULL) return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory for cached flow weights");
    }
    for (int32_t k = 0; k < e->L->num_steps; k++) {
        const ff_flow_step_layout *s = &ll->step[k];
        FF_TRY(ff_flow_convs_prepare_weights(cs->cv[s->kernel == 3 ? 0 : 1], e->stream, e->ws, params + s->w1,
                                             params + s->w2, (float *)(void *)(cs->wcache + cs->woff[k][0]),
                                             (float *)(void *)(cs->wcache + cs->woff[k][1])));
    }
    cs->cached = params;
    return FF_OK;
}

static ff_status check_perms(ff_flow_engine *e, const int32_t *perms) {
    const ff_flow_layout *L = e->L;
    for (int32_t l = 0; l < L->num_levels; l++) {
        int32_t c = L->level[l].c;
        for (int32_t k = 0; k < L->num_steps; k++) {
            const int32_t *p = perms + L->level[l].step[k].perm;
            memset(e->seen, 0, (size_t)c);
            for (int32_t i = 0; i < c; i++) {
                if (p[i] < 0 || p[i] >= c || e->seen[p[i]])
                    return ff_fail(FF_E_INVALID_ARGUMENT, "permutation of level %d step %d is not a permutation",
                                   (int)l, (int)k);
                e->seen[p[i]] = 1;
            }
        }
    }
    return FF_OK;
}

/* --------------------------------------------------------------- forward */

static float *state(const level_rt *r, int32_t training, int32_t k) {
    return r->xs + r->state_stride * (size_t)(training ? k : k % 2);
}

static ff_status forward_level(ff_flow_engine *e, int32_t l, const float *params, const int32_t *perms,
                               const float *feat, int32_t n, double *ld) {
    const ff_flow_layout *L = e->L;
    const ff_flow_level_layout *ll = &L->level[l];
    level_rt *r = &e->lv[l];
    size_t hw = (size_t)ll->h * (size_t)ll->w, m = (size_t)ll->c * hw;
    float *x0 = state(r, e->training, 0);
    if (ll->has_norm)
        ff_layernorm_forward(feat, n, m, params + ll->norm_w, params + ll->norm_b, LN_EPS, x0, r->xhat,
                             e->ln_scratch);
    else
        memcpy(x0, feat, (size_t)n * m * sizeof(float));
    for (int32_t i = 0; i < n; i++) ld[i] = 0.0;
    ff_coupling_dims d = {n, ll->c, ll->c1, ll->c2, hw, L->clamp};
    conv_set *cs = r->cur;
    if (e->params_constant && cs->cached != params) FF_TRY(fill_weight_cache(e, l, cs, params));
    for (int32_t k = 0; k < L->num_steps; k++) {
        const ff_flow_step_layout *s = &ll->step[k];
        ff_flow_convs *cv = cs->cv[s->kernel == 3 ? 0 : 1];
        const float *w1c = NULL, *w2c = NULL;
        if (e->params_constant) {
            w1c = (const float *)(const void *)(cs->wcache + cs->woff[k][0]);
            w2c = (const float *)(const void *)(cs->wcache + cs->woff[k][1]);
        }
        float *x = state(r, e->training, k), *y = state(r, e->training, k + 1);
        float *a = r->as + (e->training ? r->a_stride * (size_t)k : 0);
        float *h = (float *)(void *)(r->hs + (e->training ? r->h_stride * (size_t)k : 0));
        float *x1 = e->training ? (float *)(void *)(r->x1s + r->x1_stride * (size_t)k) : NULL;
        FF_TRY(ff_flow_convs_forward(cv, e->stream, e->ws, params + s->w1, params + s->b1, params + s->w2,
                                     params + s->b2, x, h, a, x1, w1c, w2c));
        double sum_log = ff_coupling_scale(params + s->global_scale, ll->c, e->g, NULL);
        ff_coupling_forward(&d, x, a, e->g, params + s->global_offset, perms + s->perm, y, e->s_sum);
        for (int32_t i = 0; i < n; i++) {
            double acc = 0.0;
            for (int32_t j = 0; j < ll->c2; j++) acc += e->s_sum[(size_t)i * (size_t)ll->c2 + (size_t)j];
            ld[i] += acc + (double)hw * sum_log;
        }
    }
    return FF_OK;
}

static ff_status forward_all(ff_flow_engine *e, const float *params, const int32_t *perms,
                             const float *const *feats, int32_t n, float *const *z_out, float *logdet_out,
                             float *loss_out) {
    const ff_flow_layout *L = e->L;
    e->fwd_n = 0;
    FF_TRY(prepare(e, n));
    double loss = 0.0;
    for (int32_t l = 0; l < L->num_levels; l++) {
        const ff_flow_level_layout *ll = &L->level[l];
        level_rt *r = &e->lv[l];
        double *ld = e->ld + (size_t)n * (size_t)l; /* level-major here, sample-major on output */
        FF_TRY(forward_level(e, l, params, perms, feats[l], n, ld));
        const float *z = state(r, e->training, L->num_steps);
        size_t hw = (size_t)ll->h * (size_t)ll->w;
        ff_flow_prob_map(z, n, ll->c, hw, r->pmap, e->sumsq, e->map_scratch);
        double lvl = 0.0;
        for (int32_t i = 0; i < n; i++) lvl += 0.5 * e->sumsq[i] - ld[i];
        loss += lvl / (double)n;
    }
    if (!isfinite(loss))
        return ff_fail(FF_E_NUMERIC, "the flow loss is not finite (NaN or Inf in the features or parameters)");
    for (int32_t l = 0; l < L->num_levels; l++) {
        const ff_flow_level_layout *ll = &L->level[l];
        if (z_out && z_out[l])
            memcpy(z_out[l], state(&e->lv[l], e->training, L->num_steps),
                   (size_t)n * (size_t)ll->c * (size_t)ll->h * (size_t)ll->w * sizeof(float));
        if (logdet_out)
            for (int32_t i = 0; i < n; i++)
                logdet_out[(size_t)i * (size_t)L->num_levels + (size_t)l] =
                    (float)e->ld[(size_t)n * (size_t)l + (size_t)i];
    }
    if (loss_out) *loss_out = (float)loss;
    e->fwd_n = n;
    return FF_OK;
}

/* The engine's entry points run under the global thread count unless a
 * scorer or trainer around them has set its own (core/settings.h). */
ff_status ff_flow_engine_forward(ff_flow_engine *e, const float *params, const int32_t *perms,
                                 const float *const *feats, int32_t n, float *const *z_out, float *logdet_out,
                                 float *loss_out) {
    FF_CHECK_ARG(e != NULL && params != NULL && perms != NULL && feats != NULL,
                 "engine, parameters, permutations or features is NULL");
    FF_CHECK_ARG(n >= 1 && n <= 65536, "batch size %d not in [1, 65536]", (int)n);
    for (int32_t l = 0; l < e->L->num_levels; l++)
        FF_CHECK_ARG(feats[l] != NULL, "features of level %d are NULL", (int)l);
    FF_TRY(check_perms(e, perms));
    ff_threads_scope ts = ff_threads_enter(0);
    ff_status st = forward_all(e, params, perms, feats, n, z_out, logdet_out, loss_out);
    ff_threads_leave(ts);
    return st;
}

ff_status ff_flow_engine_anomaly_maps(ff_flow_engine *e, float *maps_out, size_t capacity) {
    FF_CHECK_ARG(e != NULL && maps_out != NULL, "engine or output is NULL");
    if (e->fwd_n == 0) return ff_fail(FF_E_STATE, "anomaly maps need a successful forward pass first");
    const ff_flow_layout *L = e->L;
    size_t need = (size_t)e->fwd_n * (size_t)L->in_h * (size_t)L->in_w;
    if (capacity < need)
        return ff_fail(FF_E_BUFFER_TOO_SMALL, "anomaly maps need %zu floats, buffer holds %zu", need, capacity);
    ff_threads_scope ts = ff_threads_enter(0);
    const float *maps[FF_MAX_LEVELS];
    const ff_axis_tap *ty[FF_MAX_LEVELS], *tx[FF_MAX_LEVELS];
    int32_t h[FF_MAX_LEVELS], w[FF_MAX_LEVELS];
    for (int32_t l = 0; l < L->num_levels; l++) {
        maps[l] = e->lv[l].pmap;
        ty[l] = e->lv[l].ty;
        tx[l] = e->lv[l].tx;
        h[l] = L->level[l].h;
        w[l] = L->level[l].w;
    }
    ff_flow_upsample_mean(maps, h, w, ty, tx, L->num_levels, e->fwd_n, L->in_h, L->in_w, maps_out);
    ff_threads_leave(ts);
    return FF_OK;
}

/* -------------------------------------------------------------- backward */

static ff_status backward_level(ff_flow_engine *e, int32_t l, const float *params, const int32_t *perms,
                                float *grads) {
    const ff_flow_layout *L = e->L;
    const ff_flow_level_layout *ll = &L->level[l];
    level_rt *r = &e->lv[l];
    const int32_t n = e->fwd_n, c = ll->c;
    size_t hw = (size_t)ll->h * (size_t)ll->w, nm = (size_t)n * (size_t)c * hw;
    /* loss = sum_levels mean_n (0.5 sum z^2 - logdet): dz = z / n, dlogdet = -1 / n */
    const float inv_n = 1.0f / (float)n;
    const float *z = state(r, 1, L->num_steps);
    float *dy = e->dy, *dx = e->dx;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < nm; i++) dy[i] = z[i] * inv_n;
    double dld_sum = 0.0;
    for (int32_t i = 0; i < n; i++) {
        e->dld[i] = -inv_n;
        dld_sum += (double)e->dld[i];
    }
    ff_coupling_dims d = {n, c, ll->c1, ll->c2, hw, L->clamp};
    for (int32_t k = L->num_steps - 1; k >= 0; k--) {
        const ff_flow_step_layout *s = &ll->step[k];
        ff_flow_convs *cv = r->cur->cv[s->kernel == 3 ? 0 : 1];
        const float *x = state(r, 1, k);
        const float *a = r->as + r->a_stride * (size_t)k;
        const float *h = (const float *)(const void *)(r->hs + r->h_stride * (size_t)k);
        ff_coupling_scale(params + s->global_scale, c, e->g, e->dg);
        ff_coupling_backward(&d, x, a, e->g, perms + s->perm, dy, e->dld, dx, e->da, e->part_g, e->part_o);
        for (int32_t j = 0; j < c; j++) {
            double pg = 0.0, po = 0.0;
            for (int32_t i = 0; i < n; i++) {
                pg += e->part_g[(size_t)i * (size_t)c + (size_t)j];
                po += e->part_o[(size_t)i * (size_t)c + (size_t)j];
            }
            /* log-det = ... + H*W * sum ln g */
            pg += dld_sum * (double)hw / (double)e->g[j];
            grads[s->global_scale + (size_t)j] = (float)(pg * (double)e->dg[j]);
            grads[s->global_offset + (size_t)j] = (float)po;
        }
        const float *x1 = (const float *)(const void *)(r->x1s + r->x1_stride * (size_t)k);
        FF_TRY(ff_flow_convs_backward(cv, e->stream, e->ws, params + s->w1, params + s->w2, x, x1, h, e->da, dx,
                                      grads + s->w1, grads + s->b1, grads + s->w2, grads + s->b2));
        float *t = dy;
        dy = dx;
        dx = t;
    }
    if (ll->has_norm)
        ff_layernorm_backward(dy, r->xhat, n, (size_t)c * hw, grads + ll->norm_w, grads + ll->norm_b);
    return FF_OK;
}

ff_status ff_flow_engine_backward(ff_flow_engine *e, const float *params, const int32_t *perms, float *grads) {
    FF_CHECK_ARG(e != NULL && params != NULL && perms != NULL && grads != NULL,
                 "engine, parameters, permutations or gradients is NULL");
    if (!e->training) return ff_fail(FF_E_STATE, "flow engine was created for inference; backward needs training");
    if (e->fwd_n == 0) return ff_fail(FF_E_STATE, "backward needs a successful forward pass first");
    ff_threads_scope ts = ff_threads_enter(0);
    ff_status st = FF_OK;
    for (int32_t l = 0; l < e->L->num_levels && st == FF_OK; l++) st = backward_level(e, l, params, perms, grads);
    ff_threads_leave(ts);
    return st;
}
