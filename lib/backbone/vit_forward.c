/* Runs a DeiT / CaiT trunk on oneDNN (see vit_forward.h).
 *
 * Token activations are row-major [n * T, D] matrices: X is the residual
 * stream, H the LayerNorm output (later the attention output heads side
 * by side), BIG the qkv rows [T, 3D] or the MLP hidden rows [T, 4D].
 * The linear layers run over the whole batch; attention runs image by
 * image (the same primitives, with handles moved by one image), so the
 * [H, T, T] logits exist for one image at a time (39 MB for CaiT-M48).
 * Residual adds are the linear layers' sum post-op into X, LayerScale a
 * binary multiply before it, GELU an eltwise post-op of fc1.
 *
 * Talking heads (CaiT) mix the logits across heads with a Linear(H, H)
 * before and after the softmax: Y[g] = sum_h W[g, h] S[h] + b[g]. With
 * the maps stored as an [H + 1, T*T] matrix whose last row is all ones,
 * that is one matmul by [W | b] ([H, H + 1], built at load). */
#include "backbone/vit_forward.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backbone/resnet_plan.h"
#include "backbone/vit_blocks.h"
#include "core/dnnl_util.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/settings.h"

enum {
    P_PATCH,
    P_PATCH_ROWS, /* only when the conv's output is not NHWC already */
    P_LN,
    P_QKV,
    P_QKV_NOBIAS,
    P_PROJ,
    P_FC1,
    P_FC2,
    P_SCORES,
    P_TALK,
    P_SOFTMAX,
    P_CONTEXT,
    P_TO_MAP,
    P_COUNT
};

#define OP_MAX_ARGS 8

typedef struct vit_op {
    int prim;
    int per_image; /* run once per image, handles advanced by `step` bytes */
    int nargs;
    dnnl_exec_arg_t args[OP_MAX_ARGS];
    char *base[OP_MAX_ARGS];
    size_t step[OP_MAX_ARGS];
} vit_op;

struct ff_vit_runner {
    const ff_vit_model *m;
    dnnl_stream_t stream;
    int32_t n; /* built batch, 0 = none */
    int has_run;
    dnnl_primitive_desc_t pd[P_COUNT];
    dnnl_primitive_t prim[P_COUNT];
    int nops, cap_ops;
    int nhead; /* ops before the token assembly (patch conv, reorder) */
    vit_op *ops;
    float *x, *h, *big, *s, *s2, *mean, *var, *out;
    size_t out_count;
    void *patch_w; /* patch weights in the conv's format */
    void *scratch;
};

static void release(ff_vit_runner *r) {
    for (int i = 0; i < r->nops; i++)
        for (int a = 0; a < r->ops[i].nargs; a++) dnnl_memory_destroy(r->ops[i].args[a].memory);
    free(r->ops);
    r->ops = NULL;
    r->nops = r->cap_ops = 0;
    for (int i = 0; i < P_COUNT; i++) {
        if (r->prim[i]) dnnl_primitive_destroy(r->prim[i]);
        if (r->pd[i]) dnnl_primitive_desc_destroy(r->pd[i]);
        r->prim[i] = NULL;
        r->pd[i] = NULL;
    }
    float **bufs[] = {&r->x, &r->h, &r->big, &r->s, &r->s2, &r->mean, &r->var, &r->out};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) {
        ff_free(*bufs[i]);
        *bufs[i] = NULL;
    }
    ff_free(r->patch_w);
    ff_free(r->scratch);
    r->patch_w = r->scratch = NULL;
    r->n = 0;
    r->has_run = 0;
    r->out_count = 0;
}

/* ---- building ------------------------------------------------------------ */

static ff_status create_pds(ff_vit_runner *r, int32_t n) {
    const ff_vit_arch *a = r->m->arch;
    const int64_t D = a->embed, T = ff_vit_tokens(a), H = a->heads, hd = D / H, rows = (int64_t)n * T;
    const int cait = a->family == FF_VIT_CAIT;
    const float scale = (float)(1.0 / sqrt((double)hd));
    FF_TRY(ff_vit_patch_pd(n, a->img, D, a->patch, 1, &r->pd[P_PATCH]));
    const dnnl_memory_desc_t *patches = ff_pd_dst(r->pd[P_PATCH]);
    dnnl_memory_desc_t rows_md;
    FF_DNNL_TRY(dnnl_memory_desc_init_by_tag(&rows_md, 4, patches->dims, dnnl_f32, dnnl_nhwc), "describing patches");
    if (!dnnl_memory_desc_equal(patches, &rows_md)) FF_TRY(ff_vit_patch_rows_pd(patches, &r->pd[P_PATCH_ROWS]));
    FF_TRY(ff_vit_layernorm_pd(rows, D, &r->pd[P_LN]));
    FF_TRY(ff_vit_linear_pd(rows, D, 3 * D, 1, 0, 0, 0, &r->pd[P_QKV]));
    FF_TRY(ff_vit_linear_pd(rows, D, 3 * D, 0, 0, 0, 0, &r->pd[P_QKV_NOBIAS]));
    FF_TRY(ff_vit_linear_pd(rows, D, D, 1, 0, cait, 1, &r->pd[P_PROJ]));
    FF_TRY(ff_vit_linear_pd(rows, D, a->mlp_hidden, 1, 1, 0, 0, &r->pd[P_FC1]));
    FF_TRY(ff_vit_linear_pd(rows, a->mlp_hidden, D, 1, 0, cait, 1, &r->pd[P_FC2]));
    FF_TRY(ff_vit_scores_pd(H, T, hd, scale, &r->pd[P_SCORES]));
    if (cait) FF_TRY(ff_vit_talk_pd(H, T, &r->pd[P_TALK]));
    FF_TRY(ff_vit_softmax_pd(H * T, T, &r->pd[P_SOFTMAX]));
    FF_TRY(ff_vit_context_pd(H, T, hd, &r->pd[P_CONTEXT]));
    FF_TRY(ff_vit_to_map_pd(n, T, ff_vit_prefix(a), D, ff_vit_grid(a), &r->pd[P_TO_MAP]));
    for (int i = 0; i < P_COUNT; i++)
        if (r->pd[i]) FF_DNNL_TRY(dnnl_primitive_create(&r->prim[i], r->pd[i]), "creating a primitive");
    return FF_OK;
}

static ff_status allocate(ff_vit_runner *r, int32_t n) {
    const ff_vit_arch *a = r->m->arch;
    const size_t D = (size_t)a->embed, T = (size_t)ff_vit_tokens(a), H = (size_t)a->heads;
    const size_t rows = (size_t)n * T, wide = (size_t)a->mlp_hidden > 3 * D ? (size_t)a->mlp_hidden : 3 * D;
    const size_t maps = (H + 1) * T * T, G = (size_t)ff_vit_grid(a);
    FF_TRY(ff_alloc_floats(rows * D, "the residual stream", &r->x));
    FF_TRY(ff_alloc_floats(rows * D, "normalised tokens", &r->h));
    FF_TRY(ff_alloc_floats(rows * wide, "qkv / MLP activations", &r->big));
    FF_TRY(ff_alloc_floats(maps, "attention maps", &r->s));
    FF_TRY(ff_alloc_floats(rows, "layer-norm statistics", &r->mean));
    FF_TRY(ff_alloc_floats(rows, "layer-norm statistics", &r->var));
    r->out_count = (size_t)n * D * G * G;
    FF_TRY(ff_alloc_floats(r->out_count, "feature maps", &r->out));
    if (a->family == FF_VIT_CAIT) {
        FF_TRY(ff_alloc_floats(maps, "attention maps", &r->s2));
        /* the rows of ones that carry the talking-heads biases */
        for (size_t i = H * T * T; i < maps; i++) r->s[i] = r->s2[i] = 1.0f;
    }
    size_t scratch = 0;
    for (int i = 0; i < P_COUNT; i++)
        if (r->pd[i]) {
            const size_t sz = dnnl_memory_desc_get_size(ff_pd_scratchpad(r->pd[i]));
            if (sz > scratch) scratch = sz;
        }
    if (scratch && !(r->scratch = ff_alloc(scratch)))
        return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory allocating a %zu-byte scratchpad", scratch);
    /* patch weights: OIHW in the model, the conv's chosen format here */
    const dnnl_memory_desc_t *want = ff_pd_weights(r->pd[P_PATCH]);
    dnnl_memory_desc_t have;
    const dnnl_dims_t wd = {a->embed, 3, a->patch, a->patch};
    FF_DNNL_TRY(dnnl_memory_desc_init_by_tag(&have, 4, wd, dnnl_f32, dnnl_oihw), "describing the patch weights");
    if (!(r->patch_w = ff_alloc(dnnl_memory_desc_get_size(want))))
        return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory laying out the patch weights");
    return ff_reorder_once(&have, r->m->patch_w, want, r->patch_w);
}

static ff_status op_begin(ff_vit_runner *r, int prim, int per_image, vit_op **out) {
    if (r->nops == r->cap_ops) {
        const int cap = r->cap_ops ? 2 * r->cap_ops : 64;
        vit_op *ops = realloc(r->ops, (size_t)cap * sizeof *ops);
        if (!ops) return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory planning the transformer");
        r->ops = ops;
        r->cap_ops = cap;
    }
    vit_op *o = &r->ops[r->nops++];
    memset(o, 0, sizeof *o);
    o->prim = prim;
    o->per_image = per_image;
    *out = o;
    return FF_OK;
}

/* Binds argument `arg` of op o to `handle` (advanced by `step` bytes per
 * image for per-image ops). Arguments the primitive does not take (zero
 * descriptor, e.g. the statistics of an inference layer norm) are skipped. */
static ff_status bind(ff_vit_runner *r, vit_op *o, int arg, const void *handle, size_t step) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(r->pd[o->prim], dnnl_query_exec_arg_md, arg);
    if (!md || md->ndims == 0) return FF_OK;
    if (o->nargs == OP_MAX_ARGS) return ff_fail(FF_E_INTERNAL, "too many arguments for a transformer op");
    dnnl_exec_arg_t *ea = &o->args[o->nargs];
    /* weights are only read by the primitives */
    FF_DNNL_TRY(dnnl_memory_create(&ea->memory, md, ff_dnnl_engine(), (void *)(uintptr_t)handle),
                "creating a memory");
    ea->arg = arg;
    o->base[o->nargs] = (char *)(uintptr_t)handle;
    o->step[o->nargs] = step;
    o->nargs++;
    return FF_OK;
}

static ff_status bind_scratch(ff_vit_runner *r, vit_op *o) { return bind(r, o, DNNL_ARG_SCRATCHPAD, r->scratch, 0); }

static ff_status add_layernorm(ff_vit_runner *r, float *src, float *dst, const float *w, const float *b) {
    vit_op *o = NULL;
    FF_TRY(op_begin(r, P_LN, 0, &o));
    FF_TRY(bind(r, o, DNNL_ARG_SRC, src, 0));
    FF_TRY(bind(r, o, DNNL_ARG_DST, dst, 0));
    FF_TRY(bind(r, o, DNNL_ARG_SCALE, w, 0));
    FF_TRY(bind(r, o, DNNL_ARG_SHIFT, b, 0));
    FF_TRY(bind(r, o, DNNL_ARG_MEAN, r->mean, 0));
    FF_TRY(bind(r, o, DNNL_ARG_VARIANCE, r->var, 0));
    return bind_scratch(r, o);
}

static ff_status add_linear(ff_vit_runner *r, int prim, const float *src, const float *w, const float *b,
                            const float *gamma, float *dst) {
    vit_op *o = NULL;
    FF_TRY(op_begin(r, prim, 0, &o));
    FF_TRY(bind(r, o, DNNL_ARG_SRC, src, 0));
    FF_TRY(bind(r, o, DNNL_ARG_WEIGHTS, w, 0));
    if (b) FF_TRY(bind(r, o, DNNL_ARG_BIAS, b, 0));
    if (gamma) FF_TRY(bind(r, o, DNNL_ARG_ATTR_MULTIPLE_POST_OP(0) | DNNL_ARG_SRC_1, gamma, 0));
    FF_TRY(bind(r, o, DNNL_ARG_DST, dst, 0));
    return bind_scratch(r, o);
}

/* matmul src x weights -> dst, per image */
static ff_status add_matmul(ff_vit_runner *r, int prim, const void *src, size_t src_step, const void *wei,
                            size_t wei_step, void *dst, size_t dst_step) {
    vit_op *o = NULL;
    FF_TRY(op_begin(r, prim, 1, &o));
    FF_TRY(bind(r, o, DNNL_ARG_SRC, src, src_step));
    FF_TRY(bind(r, o, DNNL_ARG_WEIGHTS, wei, wei_step));
    FF_TRY(bind(r, o, DNNL_ARG_DST, dst, dst_step));
    return bind_scratch(r, o);
}

static ff_status add_softmax(ff_vit_runner *r, float *maps) {
    vit_op *o = NULL;
    FF_TRY(op_begin(r, P_SOFTMAX, 1, &o));
    FF_TRY(bind(r, o, DNNL_ARG_SRC, maps, 0));
    FF_TRY(bind(r, o, DNNL_ARG_DST, maps, 0));
    return bind_scratch(r, o);
}

static ff_status add_block(ff_vit_runner *r, const ff_vit_block_weights *bw) {
    const ff_vit_arch *a = r->m->arch;
    const size_t D = (size_t)a->embed, T = (size_t)ff_vit_tokens(a), f = sizeof(float);
    const size_t qkv_step = T * 3 * D * f, tok_step = T * D * f;
    FF_TRY(add_layernorm(r, r->x, r->h, bw->norm1_w, bw->norm1_b));
    FF_TRY(add_linear(r, bw->qkv_b ? P_QKV : P_QKV_NOBIAS, r->h, bw->qkv_w, bw->qkv_b, NULL, r->big));
    FF_TRY(add_matmul(r, P_SCORES, r->big, qkv_step, r->big + D, qkv_step, r->s, 0));
    if (a->family == FF_VIT_CAIT) {
        FF_TRY(add_matmul(r, P_TALK, bw->talk_l, 0, r->s, 0, r->s2, 0));
        FF_TRY(add_softmax(r, r->s2));
        FF_TRY(add_matmul(r, P_TALK, bw->talk_w, 0, r->s2, 0, r->s, 0));
    } else {
        FF_TRY(add_softmax(r, r->s));
    }
    FF_TRY(add_matmul(r, P_CONTEXT, r->s, 0, r->big + 2 * D, qkv_step, r->h, tok_step));
    FF_TRY(add_linear(r, P_PROJ, r->h, bw->proj_w, bw->proj_b, bw->gamma_1, r->x));
    FF_TRY(add_layernorm(r, r->x, r->h, bw->norm2_w, bw->norm2_b));
    FF_TRY(add_linear(r, P_FC1, r->h, bw->fc1_w, bw->fc1_b, NULL, r->big));
    return add_linear(r, P_FC2, r->big, bw->fc2_w, bw->fc2_b, bw->gamma_2, r->x);
}

/* Op 0 is the patch embedding (its SRC handle is the caller's input, set
 * at each run), maybe followed by a reorder to token rows; the token
 * assembly runs after them in C; then the blocks, the final norm and the
 * reorder to NCHW. */
static ff_status plan(ff_vit_runner *r) {
    const ff_vit_model *m = r->m;
    const ff_vit_arch *a = m->arch;
    vit_op *o = NULL;
    FF_TRY(op_begin(r, P_PATCH, 0, &o));
    FF_TRY(bind(r, o, DNNL_ARG_SRC, NULL, 0));
    FF_TRY(bind(r, o, DNNL_ARG_WEIGHTS, r->patch_w, 0));
    FF_TRY(bind(r, o, DNNL_ARG_BIAS, m->patch_b, 0));
    /* BIG is free until the first qkv */
    FF_TRY(bind(r, o, DNNL_ARG_DST, r->pd[P_PATCH_ROWS] ? r->big : r->h, 0));
    FF_TRY(bind_scratch(r, o));
    if (r->pd[P_PATCH_ROWS]) {
        FF_TRY(op_begin(r, P_PATCH_ROWS, 0, &o));
        FF_TRY(bind(r, o, DNNL_ARG_FROM, r->big, 0));
        FF_TRY(bind(r, o, DNNL_ARG_TO, r->h, 0));
        FF_TRY(bind_scratch(r, o));
    }
    r->nhead = r->nops;
    for (int32_t b = 0; b < a->used_blocks; b++) FF_TRY(add_block(r, &m->blocks[b]));
    FF_TRY(add_layernorm(r, r->x, r->h, m->norm_w, m->norm_b));
    FF_TRY(op_begin(r, P_TO_MAP, 0, &o));
    FF_TRY(bind(r, o, DNNL_ARG_FROM, r->h + (size_t)ff_vit_prefix(a) * (size_t)a->embed, 0));
    FF_TRY(bind(r, o, DNNL_ARG_TO, r->out, 0));
    return bind_scratch(r, o);
}

static ff_status build(ff_vit_runner *r, int32_t n) {
    release(r);
    ff_status st = create_pds(r, n);
    if (st == FF_OK) st = allocate(r, n);
    if (st == FF_OK) st = plan(r);
    if (st != FF_OK) {
        release(r);
        return ff_fail_context(st, "building %s for a batch of %d", r->m->arch->name, (int)n);
    }
    r->n = n;
    return FF_OK;
}

/* ---- running ------------------------------------------------------------- */

/* X[b, t] = token_t + pos[t] for the prefix tokens, patch_{t-P} + pos[t]
 * for the rest (the patches are the conv's NHWC rows in H). */
static void assemble_tokens(ff_vit_runner *r) {
    const ff_vit_model *m = r->m;
    const ff_vit_arch *a = m->arch;
    const size_t D = (size_t)a->embed, T = (size_t)ff_vit_tokens(a), P = (size_t)ff_vit_prefix(a);
    const size_t N = T - P;
    for (size_t b = 0; b < (size_t)r->n; b++) {
        float *x = r->x + b * T * D;
        const float *patches = r->h + b * N * D;
        for (size_t t = 0; t < T; t++) {
            const float *src = t >= P ? patches + (t - P) * D : (t == 0 ? m->cls_token : m->dist_token);
            const float *pos = m->pos_embed + t * D;
            float *dst = x + t * D;
            for (size_t d = 0; d < D; d++) dst[d] = src[d] + pos[d];
        }
    }
}

static ff_status exec(ff_vit_runner *r, vit_op *o, size_t image) {
    for (int a = 0; a < o->nargs; a++)
        if (o->step[a])
            FF_DNNL_TRY(dnnl_memory_set_data_handle(o->args[a].memory, o->base[a] + image * o->step[a]),
                        "moving to the next image");
    return ff_dnnl_check(dnnl_primitive_execute(r->prim[o->prim], r->stream, o->nargs, o->args),
                         "running the transformer");
}

static ff_status run_all(ff_vit_runner *r, const float *input, int32_t n) {
    if (r->n != n) FF_TRY(build(r, n));
    r->has_run = 0;
    vit_op *patch = &r->ops[0];
    FF_DNNL_TRY(dnnl_memory_set_data_handle(patch->args[0].memory, (void *)(uintptr_t)input), "binding the input");
    for (int i = 0; i < r->nhead; i++) FF_TRY(exec(r, &r->ops[i], 0));
    FF_DNNL_TRY(dnnl_stream_wait(r->stream), "running the patch embedding");
    assemble_tokens(r);
    for (int i = r->nhead; i < r->nops;) {
        if (!r->ops[i].per_image) {
            FF_TRY(exec(r, &r->ops[i], 0));
            i++;
            continue;
        }
        int j = i;
        while (j < r->nops && r->ops[j].per_image) j++;
        for (size_t b = 0; b < (size_t)n; b++)
            for (int k = i; k < j; k++) FF_TRY(exec(r, &r->ops[k], b));
        i = j;
    }
    FF_DNNL_TRY(dnnl_stream_wait(r->stream), "running the transformer");
    r->has_run = 1;
    return FF_OK;
}

ff_status ff_vit_runner_run(ff_vit_runner *r, const float *input, int32_t n) {
    ff_threads_scope ts = ff_threads_enter(0); /* the extractor's count when it is the caller */
    ff_status st = run_all(r, input, n);
    ff_threads_leave(ts);
    return st;
}

const float *ff_vit_runner_features(const ff_vit_runner *r, size_t *count) {
    if (!r->has_run) {
        *count = 0;
        return NULL;
    }
    *count = r->out_count;
    return r->out;
}

ff_status ff_vit_runner_create(const ff_vit_model *model, ff_vit_runner **out) {
    dnnl_engine_t eng = ff_dnnl_engine();
    if (!eng) return FF_E_INTERNAL;
    ff_vit_runner *r = calloc(1, sizeof *r);
    if (!r) return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory creating a transformer runner");
    r->m = model;
    ff_status st = ff_dnnl_check(dnnl_stream_create(&r->stream, eng, dnnl_stream_default_flags),
                                 "creating a oneDNN stream");
    if (st != FF_OK) {
        free(r);
        return st;
    }
    *out = r;
    return FF_OK;
}

void ff_vit_runner_destroy(ff_vit_runner *r) {
    if (!r) return;
    release(r);
    dnnl_stream_destroy(r->stream);
    free(r);
}
