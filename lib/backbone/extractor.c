/* ff_extractor: the per-thread object that runs a backbone. For one
 * (batch, height, width) it creates every oneDNN primitive once, keeps the
 * activations in the blocked formats oneDNN chose, and reorders only the
 * input and the three feature maps (to plain NCHW). */
#include <stdint.h>
#include <string.h>

#include "backbone/backbone_internal.h"
#include "backbone/resnet_plan.h"
#include "backbone/vit_backbone.h"
#include "backbone/vit_forward.h"
#include "core/cpu_features.h"
#include "core/dnnl_util.h"
#include "core/error.h"
#include "core/finite.h"
#include "core/memory.h"
#include "core/params.h"
#include "core/settings.h"

/* Activation buffers. The stem writes T1, the max pooling X0; a block
 * reads X (its input), keeps main-path intermediates in T1/T2 and writes
 * its output over the shortcut: in place over X for identity shortcuts,
 * into the other X buffer (the downsample's output) otherwise. */
enum { BUF_IN, BUF_T1, BUF_T2, BUF_X0, BUF_X1, BUF_COUNT };
/* Pseudo-buffers resolved when memories are created. */
enum { ARG_USER_INPUT = 100, ARG_OUT0 = 101, ARG_WEIGHTS = 200, ARG_BIAS = 300 };

#define MAX_OPS 64
#define MAX_ARGS 6

typedef struct op_arg {
    int arg;  /* DNNL_ARG_* */
    int buf;  /* BUF_*, ARG_USER_INPUT, ARG_OUT0 + level, ARG_WEIGHTS/BIAS + conv */
    const dnnl_memory_desc_t *md;
} op_arg;

typedef struct op {
    const_dnnl_primitive_desc_t pd; /* owned by pds, or by the extractor (reorders) */
    dnnl_primitive_t prim;
    int nargs;
    op_arg spec[MAX_ARGS];
    dnnl_exec_arg_t args[MAX_ARGS + 1]; /* + scratchpad */
} op;

struct ff_extractor {
    const ff_backbone *bb;
    ff_vit_runner *vit; /* runs transformer backbones (bb->vit); the rest is for ResNets */
    dnnl_stream_t stream;
    int32_t precision; /* enum ff_precision of the ResNet convolutions */
    /* built shape (0 = none) */
    int32_t n, h, w;
    int has_run;
    int32_t threads; /* FF_EXTRACTOR_NUM_THREADS: 0 = the global count */
    ff_resnet_pds pds;
    dnnl_primitive_desc_t reorder_pd[1 + FF_RESNET_LEVELS];
    int nops;
    op ops[MAX_OPS];
    dnnl_memory_t input_mem; /* the memory bound to the caller's input on each run */
    void *buf[BUF_COUNT];
    size_t buf_size[BUF_COUNT];
    void *scratch;
    size_t scratch_size;
    void *own_weights[FF_RESNET_MAX_CONVS]; /* reordered copies when the backbone's layout differs */
    float *out[FF_RESNET_LEVELS];
    size_t out_count[FF_RESNET_LEVELS];
    dnnl_memory_desc_t plain_in, plain_out[FF_RESNET_LEVELS];
};

/* ---- building ------------------------------------------------------------ */

static void release_plan(ff_extractor *ex) {
    for (int i = 0; i < ex->nops; i++) {
        op *o = &ex->ops[i];
        if (o->prim) dnnl_primitive_destroy(o->prim);
        for (int a = 0; a < o->nargs + 1; a++)
            if (o->args[a].memory) dnnl_memory_destroy(o->args[a].memory);
    }
    memset(ex->ops, 0, sizeof ex->ops);
    ex->nops = 0;
    ex->input_mem = NULL;
    for (int i = 0; i < 1 + FF_RESNET_LEVELS; i++)
        if (ex->reorder_pd[i]) dnnl_primitive_desc_destroy(ex->reorder_pd[i]);
    memset(ex->reorder_pd, 0, sizeof ex->reorder_pd);
    ff_resnet_pds_destroy(&ex->pds);
    for (int i = 0; i < BUF_COUNT; i++) {
        ff_free(ex->buf[i]);
        ex->buf[i] = NULL;
        ex->buf_size[i] = 0;
    }
    ff_free(ex->scratch);
    ex->scratch = NULL;
    ex->scratch_size = 0;
    for (int i = 0; i < FF_RESNET_MAX_CONVS; i++) {
        ff_free(ex->own_weights[i]);
        ex->own_weights[i] = NULL;
    }
    for (int l = 0; l < FF_RESNET_LEVELS; l++) {
        ff_free(ex->out[l]);
        ex->out[l] = NULL;
        ex->out_count[l] = 0;
    }
    ex->n = ex->h = ex->w = 0;
    ex->has_run = 0;
}

static op *add_op(ff_extractor *ex, const_dnnl_primitive_desc_t pd) {
    op *o = &ex->ops[ex->nops++];
    o->pd = pd;
    return o;
}

static void add_arg(op *o, int arg, int buf, const dnnl_memory_desc_t *md) {
    o->spec[o->nargs++] = (op_arg){arg, buf, md};
}

static ff_status reorder_pd(const dnnl_memory_desc_t *src, const dnnl_memory_desc_t *dst,
                            dnnl_primitive_desc_t *out) {
    dnnl_primitive_attr_t attr;
    FF_TRY(ff_attr_create(0, 0, &attr));
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(out, src, ff_dnnl_engine(), dst, ff_dnnl_engine(), attr);
    dnnl_primitive_attr_destroy(attr);
    if (s != dnnl_success) *out = NULL;
    return ff_dnnl_check(s, "creating a reorder");
}

static void add_conv_op(ff_extractor *ex, int32_t ci, int src, int dst) {
    const_dnnl_primitive_desc_t pd = ex->pds.conv[ci];
    op *o = add_op(ex, pd);
    add_arg(o, DNNL_ARG_SRC, src, ff_pd_src(pd));
    add_arg(o, DNNL_ARG_WEIGHTS, ARG_WEIGHTS + ci, ff_pd_weights(pd));
    add_arg(o, DNNL_ARG_BIAS, ARG_BIAS + ci, dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 1));
    add_arg(o, DNNL_ARG_DST, dst, ff_pd_dst(pd));
}

/* The op sequence and buffer roles (see the BUF_* comment). */
static ff_status plan_ops(ff_extractor *ex) {
    const ff_resnet_layout *L = &ex->bb->layout;
    const dnnl_dims_t in_dims = {ex->n, 3, ex->h, ex->w};
    if (dnnl_memory_desc_init_by_tag(&ex->plain_in, 4, in_dims, dnnl_f32, dnnl_nchw) != dnnl_success)
        return ff_fail(FF_E_INTERNAL, "cannot describe the input");
    const dnnl_memory_desc_t *conv1_src = ff_pd_src(ex->pds.conv[0]);
    int stem_src = ARG_USER_INPUT;
    if (!dnnl_memory_desc_equal(conv1_src, &ex->plain_in)) {
        FF_TRY(reorder_pd(&ex->plain_in, conv1_src, &ex->reorder_pd[0]));
        op *o = add_op(ex, ex->reorder_pd[0]);
        add_arg(o, DNNL_ARG_FROM, ARG_USER_INPUT, &ex->plain_in);
        add_arg(o, DNNL_ARG_TO, BUF_IN, conv1_src);
        stem_src = BUF_IN;
    }
    add_conv_op(ex, 0, stem_src, BUF_T1);
    op *pool = add_op(ex, ex->pds.pool);
    add_arg(pool, DNNL_ARG_SRC, BUF_T1, ff_pd_src(ex->pds.pool));
    add_arg(pool, DNNL_ARG_DST, BUF_X0, ff_pd_dst(ex->pds.pool));

    int cur = BUF_X0;
    for (int32_t b = 0; b < L->nblocks; b++) {
        const ff_block_spec *blk = &L->blocks[b];
        int out = cur;
        if (blk->down >= 0) {
            out = cur == BUF_X0 ? BUF_X1 : BUF_X0;
            add_conv_op(ex, blk->down, cur, out);
        }
        int src = cur;
        for (int32_t i = 0; i < blk->nmain; i++) {
            const int last = i == blk->nmain - 1;
            const int dst = last ? out : (i == 0 ? BUF_T1 : BUF_T2);
            add_conv_op(ex, blk->main[i], src, dst);
            src = dst;
        }
        cur = out;
        const int level_end = b + 1 == L->nblocks || L->blocks[b + 1].level != blk->level;
        if (level_end) {
            const int32_t l = blk->level;
            const dnnl_memory_desc_t *md = ff_pd_dst(ex->pds.conv[blk->main[blk->nmain - 1]]);
            if (dnnl_memory_desc_init_by_tag(&ex->plain_out[l], 4, md->dims, dnnl_f32, dnnl_nchw) != dnnl_success)
                return ff_fail(FF_E_INTERNAL, "cannot describe feature level %d", (int)l);
            FF_TRY(reorder_pd(md, &ex->plain_out[l], &ex->reorder_pd[1 + l]));
            op *o = add_op(ex, ex->reorder_pd[1 + l]);
            add_arg(o, DNNL_ARG_FROM, cur, md);
            add_arg(o, DNNL_ARG_TO, ARG_OUT0 + l, &ex->plain_out[l]);
        }
    }
    return FF_OK;
}

/* Sizes and allocates the activation buffers, the outputs and the shared
 * scratchpad. */
static ff_status allocate(ff_extractor *ex) {
    for (int i = 0; i < ex->nops; i++) {
        const op *o = &ex->ops[i];
        for (int a = 0; a < o->nargs; a++)
            if (o->spec[a].buf < BUF_COUNT) {
                const size_t sz = dnnl_memory_desc_get_size(o->spec[a].md);
                if (sz > ex->buf_size[o->spec[a].buf]) ex->buf_size[o->spec[a].buf] = sz;
            }
        const size_t sp = dnnl_memory_desc_get_size(ff_pd_scratchpad(o->pd));
        if (sp > ex->scratch_size) ex->scratch_size = sp;
    }
    for (int i = 0; i < BUF_COUNT; i++)
        if (ex->buf_size[i] && !(ex->buf[i] = ff_alloc(ex->buf_size[i])))
            return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory allocating %zu bytes of activations", ex->buf_size[i]);
    if (ex->scratch_size && !(ex->scratch = ff_alloc(ex->scratch_size)))
        return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory allocating a %zu-byte scratchpad", ex->scratch_size);
    for (int l = 0; l < FF_RESNET_LEVELS; l++) {
        const dnnl_memory_desc_t *md = &ex->plain_out[l];
        ex->out_count[l] = (size_t)(md->dims[0] * md->dims[1] * md->dims[2] * md->dims[3]);
        FF_TRY(ff_alloc_floats(ex->out_count[l], "feature maps", &ex->out[l]));
    }
    return FF_OK;
}

/* Reorders weights from the backbone's layout to `want`; through plain
 * OIHW when oneDNN cannot go directly (its Winograd formats are reached
 * from plain layouts only). */
static ff_status reorder_weights(const dnnl_memory_desc_t *have, const void *src, const dnnl_memory_desc_t *want,
                                 void *dst) {
    dnnl_memory_desc_t plain;
    if (dnnl_memory_desc_init_by_tag(&plain, 4, have->dims, dnnl_f32, dnnl_oihw) != dnnl_success)
        return ff_fail(FF_E_INTERNAL, "cannot describe plain weights");
    if (dnnl_memory_desc_equal(have, &plain) || want->format_kind != dnnl_format_kind_wino)
        return ff_reorder_once(have, src, want, dst);
    void *tmp = ff_alloc(dnnl_memory_desc_get_size(&plain));
    if (!tmp) return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory laying out weights");
    ff_status st = ff_reorder_once(have, src, &plain, tmp);
    if (st == FF_OK) st = ff_reorder_once(&plain, tmp, want, dst);
    ff_free(tmp);
    return st;
}

/* The weights of conv ci in the layout its primitive wants: the backbone's
 * copy when the layouts agree (the default shape), else a private reorder. */
static ff_status weights_for(ff_extractor *ex, int32_t ci, const dnnl_memory_desc_t *want, void **out) {
    const ff_conv_weights *cw = &ex->bb->w[ci];
    if (dnnl_memory_desc_equal(want, &cw->md)) {
        *out = cw->data;
        return FF_OK;
    }
    if (!ex->own_weights[ci]) {
        void *dst = ff_alloc(dnnl_memory_desc_get_size(want));
        if (!dst) return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory laying out weights");
        ff_status st = reorder_weights(&cw->md, cw->data, want, dst);
        if (st != FF_OK) {
            ff_free(dst);
            return st;
        }
        ex->own_weights[ci] = dst;
    }
    *out = ex->own_weights[ci];
    return FF_OK;
}

static ff_status create_memories(ff_extractor *ex) {
    dnnl_engine_t eng = ff_dnnl_engine();
    for (int i = 0; i < ex->nops; i++) {
        op *o = &ex->ops[i];
        for (int a = 0; a < o->nargs; a++) {
            const op_arg *sp = &o->spec[a];
            void *handle = NULL;
            if (sp->buf < BUF_COUNT) {
                handle = ex->buf[sp->buf];
            } else if (sp->buf == ARG_USER_INPUT) {
                handle = NULL; /* set on each run */
            } else if (sp->buf >= ARG_OUT0 && sp->buf < ARG_OUT0 + FF_RESNET_LEVELS) {
                handle = ex->out[sp->buf - ARG_OUT0];
            } else if (sp->buf >= ARG_WEIGHTS && sp->buf < ARG_WEIGHTS + FF_RESNET_MAX_CONVS) {
                FF_TRY(weights_for(ex, sp->buf - ARG_WEIGHTS, sp->md, &handle));
            } else if (sp->buf >= ARG_BIAS && sp->buf < ARG_BIAS + FF_RESNET_MAX_CONVS) {
                handle = ex->bb->w[sp->buf - ARG_BIAS].bias;
            } else {
                return ff_fail(FF_E_INTERNAL, "bad argument slot %d in the backbone plan", sp->buf);
            }
            /* Backbone weights are only read by the convolutions. */
            FF_DNNL_TRY(dnnl_memory_create(&o->args[a].memory, sp->md, eng, handle), "creating a memory");
            o->args[a].arg = sp->arg;
            if (sp->buf == ARG_USER_INPUT) ex->input_mem = o->args[a].memory;
        }
        FF_DNNL_TRY(dnnl_memory_create(&o->args[o->nargs].memory, ff_pd_scratchpad(o->pd), eng, ex->scratch),
                    "creating the scratchpad memory");
        o->args[o->nargs].arg = DNNL_ARG_SCRATCHPAD;
        FF_DNNL_TRY(dnnl_primitive_create(&o->prim, o->pd), "creating a primitive");
    }
    return FF_OK;
}

static ff_status build(ff_extractor *ex, int32_t n, int32_t h, int32_t w) {
    release_plan(ex);
    ff_status st = ff_resnet_pds_create(&ex->bb->layout, n, w, h, ex->precision, &ex->pds);
    if (st == FF_OK) {
        ex->n = n;
        ex->h = h;
        ex->w = w;
        st = plan_ops(ex);
    }
    if (st == FF_OK) st = allocate(ex);
    if (st == FF_OK) st = create_memories(ex);
    if (st != FF_OK) release_plan(ex);
    return st;
}

/* ---- public --------------------------------------------------------------- */

ff_status ff_extractor_set_precision(ff_extractor *ex, int32_t precision) {
    FF_CHECK_ARG(ex != NULL, "extractor is NULL");
    FF_TRY(ff_check_precision(precision, "the extractor's precision"));
    if (precision != ex->precision) {
        /* the next run rebuilds the plan (and the bf16 weight copies) */
        release_plan(ex);
        ex->precision = precision;
    }
    return FF_OK;
}

ff_status ff_extractor_create(const ff_backbone *backbone, ff_extractor **out) {
    ff_clear_error();
    FF_CHECK_ARG(backbone != NULL, "backbone is NULL");
    FF_CHECK_ARG(out != NULL, "out is NULL");
    dnnl_engine_t eng = ff_dnnl_engine();
    if (!eng) return FF_E_INTERNAL;
    ff_extractor *ex = ff_calloc(1, sizeof *ex);
    if (!ex) return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory creating an extractor");
    ff_status st = ff_dnnl_check(dnnl_stream_create(&ex->stream, eng, dnnl_stream_default_flags),
                                 "creating a oneDNN stream");
    if (st != FF_OK) {
        ff_free(ex);
        return st;
    }
    ex->bb = ff_backbone_retain(backbone);
    if (backbone->vit && (st = ff_vit_runner_create(backbone->vit, &ex->vit)) != FF_OK) {
        ff_extractor_destroy(ex);
        return st;
    }
    *out = ex;
    return FF_OK;
}

void ff_extractor_destroy(ff_extractor *ex) {
    if (!ex) return;
    release_plan(ex);
    ff_vit_runner_destroy(ex->vit);
    dnnl_stream_destroy(ex->stream);
    ff_backbone_destroy((ff_backbone *)(uintptr_t)ex->bb);
    ff_free(ex);
}

static ff_status run_resnet(ff_extractor *ex, const float *input, int32_t batch, int32_t in_width,
                            int32_t in_height) {
    if (ex->n != batch || ex->h != in_height || ex->w != in_width)
        FF_TRY(build(ex, batch, in_height, in_width));
    ex->has_run = 0;
    /* conv1 or the input reorder only reads the caller's tensor. */
    FF_DNNL_TRY(dnnl_memory_set_data_handle(ex->input_mem, (void *)(uintptr_t)input), "binding the input");
    for (int i = 0; i < ex->nops; i++) {
        op *o = &ex->ops[i];
        FF_DNNL_TRY(dnnl_primitive_execute(o->prim, ex->stream, o->nargs + 1, o->args), "running the backbone");
    }
    FF_DNNL_TRY(dnnl_stream_wait(ex->stream), "running the backbone");
    ex->has_run = 1;
    return FF_OK;
}

static ff_status run(ff_extractor *ex, const float *input, int32_t batch, int32_t in_width, int32_t in_height) {
    if (!ex->vit) return run_resnet(ex, input, batch, in_width, in_height);
    ex->has_run = 0;
    FF_TRY(ff_vit_runner_run(ex->vit, input, batch));
    ex->has_run = 1;
    return FF_OK;
}

ff_status ff_extractor_run(ff_extractor *ex, const float *input, int32_t batch, int32_t in_width,
                           int32_t in_height) {
    ff_clear_error();
    FF_CHECK_ARG(ex != NULL, "extractor is NULL");
    FF_CHECK_ARG(input != NULL, "input is NULL");
    FF_CHECK_ARG(batch >= 1 && batch <= FF_MAX_BATCH, "batch must be in [1, %d], got %d", FF_MAX_BATCH, (int)batch);
    FF_TRY(ff_param_check_input_side("in_width", FF_FLOW_INPUT_WIDTH, in_width));
    FF_TRY(ff_param_check_input_side("in_height", FF_FLOW_INPUT_HEIGHT, in_height));
    const size_t count = (size_t)batch * 3u * (size_t)in_height * (size_t)in_width;
    FF_CHECK_ARG(ff_all_finite(input, count), "input holds NaN or Inf values");
    if (ex->vit) FF_TRY(ff_vit_check_input(ex->bb->vit, in_width, in_height));
    return ff_extractor_run_unchecked(ex, input, batch, in_width, in_height);
}

ff_status ff_extractor_run_unchecked(ff_extractor *ex, const float *input, int32_t batch, int32_t in_width,
                                     int32_t in_height) {
    ff_threads_scope ts = ff_threads_enter(ex->threads);
    ff_status st = run(ex, input, batch, in_width, in_height);
    ff_threads_leave(ts);
    return st;
}

ff_status ff_extractor_set_i32(ff_extractor *ex, int32_t key, int32_t value) {
    ff_clear_error();
    FF_CHECK_ARG(ex != NULL, "extractor is NULL");
    FF_TRY(ff_param_set_check_int(FF_OBJECT_EXTRACTOR, key, FF_PARAM_I32, value));
    ex->threads = value; /* FF_EXTRACTOR_NUM_THREADS, the only key */
    return FF_OK;
}

ff_status ff_extractor_get_i32(const ff_extractor *ex, int32_t key, int32_t *value_out) {
    ff_clear_error();
    FF_CHECK_ARG(ex != NULL && value_out != NULL, "extractor or value_out is NULL");
    FF_TRY(ff_param_lookup(FF_OBJECT_EXTRACTOR, key, FF_PARAM_I32, 0, NULL));
    *value_out = ex->threads;
    return FF_OK;
}

ff_status ff_extractor_read(const ff_extractor *ex, int32_t level, float *out, size_t capacity) {
    ff_clear_error();
    FF_CHECK_ARG(ex != NULL, "extractor is NULL");
    FF_CHECK_ARG(out != NULL, "out is NULL");
    const int32_t levels = ex->vit ? 1 : FF_RESNET_LEVELS;
    FF_CHECK_ARG(level >= 0 && level < levels, "level must be in [0, %d], got %d", (int)levels - 1, (int)level);
    if (!ex->has_run) return ff_fail(FF_E_STATE, "the extractor has not run yet (call ff_extractor_run first)");
    return ff_extractor_read_unchecked(ex, level, out, capacity);
}

ff_status ff_extractor_read_unchecked(const ff_extractor *ex, int32_t level, float *out, size_t capacity) {
    if (ex->vit) {
        size_t count = 0;
        const float *f = ff_vit_runner_features(ex->vit, &count);
        if (capacity < count)
            return ff_fail(FF_E_BUFFER_TOO_SMALL, "the feature map needs %zu floats, the buffer holds %zu", count,
                           capacity);
        memcpy(out, f, count * sizeof(float));
        return FF_OK;
    }
    if (capacity < ex->out_count[level])
        return ff_fail(FF_E_BUFFER_TOO_SMALL, "feature level %d needs %zu floats, the buffer holds %zu", (int)level,
                       ex->out_count[level], capacity);
    memcpy(out, ex->out[level], ex->out_count[level] * sizeof(float));
    return FF_OK;
}
