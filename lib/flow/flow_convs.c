#include "flow/flow_convs.h"

#include <string.h>

#include "core/bits.h"
#include "core/dnnl_util.h"
#include "core/error.h"
#include "core/memory.h"
#include "flow/flow_math.h"

/* Memory roles: one dnnl_memory_t per role, created once with its
 * descriptor; each execution only swaps data handles. */
enum {
    M_XV,   /* x[:, :c1] as a strided view of the plain state */
    M_X1C,  /* conv1 src in its format */
    M_W1U,  /* PyTorch oihw weights */
    M_W1C,  /* conv1 forward weights */
    M_B1,
    M_H,    /* conv1 dst = conv2 src */
    M_W2U,
    M_W2C,
    M_B2,
    M_AC,   /* conv2 dst in its format */
    M_AP,   /* conv2 dst plain */
    M_W1B,  /* conv1 backward-data weights */
    M_W2B,
    M_DAP,  /* da plain */
    M_DAC,  /* da in conv2's diff_dst format */
    M_DH,
    M_DW1C,
    M_DW1U,
    M_DB1,
    M_DW2C,
    M_DW2U,
    M_DB2,
    M_DX1C, /* conv1 diff_src */
    M_DXV,  /* dx[:, :c1] view */
    M_SCRATCH,
    M_COUNT
};

/* Temporaries in the workspace. */
enum { B_X1C, B_W1C, B_W2C, B_AC, B_W1B, B_W2B, B_DAC, B_DH, B_DW1C, B_DW2C, B_DX1C, B_SCRATCH, B_COUNT };

struct ff_flow_convs {
    ff_flow_conv_shape s;
    int32_t training;
    dnnl_memory_desc_t md[M_COUNT];
    dnnl_memory_t mem[M_COUNT];
    dnnl_primitive_t c1f, c2f, rx1, rw1, rw2, ra;
    dnnl_primitive_t c2bd, c2bw, c1bd, c1bw, rda, rw1b, rw2b, rdw1, rdw2, rdx1;
    /* temporaries, bound to the caller's workspace at each call */
    float *x1c, *w1c, *w2c, *ac, *w1b, *w2b, *dac, *dh, *dw1c, *dw2c, *dx1c;
    void *scratch;
    size_t scratch_bytes;
    size_t off[B_COUNT]; /* workspace offsets, SIZE_MAX = not used */
    size_t ws_bytes;
};

typedef struct exec_arg {
    int arg;
    int role;
    const void *ptr;
} exec_arg;

static ff_status exec(ff_flow_convs *cv, dnnl_stream_t st, dnnl_primitive_t p, int n, const exec_arg *a,
                      const char *what) {
    dnnl_exec_arg_t args[8];
    for (int i = 0; i < n; i++) {
        /* oneDNN takes void *; read-only arguments are never written */
        FF_DNNL_TRY(dnnl_memory_set_data_handle(cv->mem[a[i].role], (void *)(uintptr_t)a[i].ptr), what);
        args[i].arg = a[i].arg;
        args[i].memory = cv->mem[a[i].role];
    }
    args[n].arg = DNNL_ARG_SCRATCHPAD;
    args[n].memory = cv->mem[M_SCRATCH];
    FF_DNNL_TRY(dnnl_primitive_execute(p, st, n + 1, args), what);
    return FF_OK;
}

static ff_status reorder_exec(ff_flow_convs *cv, dnnl_stream_t st, dnnl_primitive_t p, int from, const void *src,
                              int to, void *dst, const char *what) {
    exec_arg a[2] = {{DNNL_ARG_FROM, from, src}, {DNNL_ARG_TO, to, dst}};
    return exec(cv, st, p, 2, a, what);
}

static dnnl_primitive_attr_t make_attr(int relu, int sum) {
    dnnl_primitive_attr_t attr = NULL;
    if (dnnl_primitive_attr_create(&attr) != dnnl_success) return NULL;
    dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user);
    if (relu || sum) {
        dnnl_post_ops_t po = NULL;
        if (dnnl_post_ops_create(&po) != dnnl_success) {
            dnnl_primitive_attr_destroy(attr);
            return NULL;
        }
        if (relu) dnnl_post_ops_append_eltwise(po, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f);
        if (sum) dnnl_post_ops_append_sum(po, 1.0f);
        dnnl_status_t s = dnnl_primitive_attr_set_post_ops(attr, po);
        dnnl_post_ops_destroy(po);
        if (s != dnnl_success) {
            dnnl_primitive_attr_destroy(attr);
            return NULL;
        }
    }
    return attr;
}

/* Creates the primitive of pd and records its scratchpad need; the
 * caller keeps (and destroys) pd. */
static ff_status make_prim(ff_flow_convs *cv, const_dnnl_primitive_desc_t pd, dnnl_primitive_t *out,
                           const char *what) {
    const dnnl_memory_desc_t *sp = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t bytes = sp ? dnnl_memory_desc_get_size(sp) : 0;
    if (bytes > cv->scratch_bytes) cv->scratch_bytes = bytes;
    return ff_dnnl_check(dnnl_primitive_create(out, pd), what);
}

static void query(ff_flow_convs *cv, const_dnnl_primitive_desc_t pd, dnnl_query_t what, int role) {
    cv->md[role] = *dnnl_primitive_desc_query_md(pd, what, 0);
}

static ff_status make_reorder(ff_flow_convs *cv, int from, int to, int sum, dnnl_primitive_t *out,
                              const char *what) {
    *out = NULL;
    if (!sum && dnnl_memory_desc_equal(&cv->md[from], &cv->md[to])) return FF_OK;
    dnnl_primitive_attr_t attr = make_attr(0, sum);
    if (attr == NULL) return ff_fail(FF_E_OUT_OF_MEMORY, "creating oneDNN attributes for %s", what);
    dnnl_primitive_desc_t pd = NULL;
    dnnl_engine_t eng = ff_dnnl_engine();
    dnnl_status_t s = dnnl_reorder_primitive_desc_create(&pd, &cv->md[from], eng, &cv->md[to], eng, attr);
    dnnl_primitive_attr_destroy(attr);
    FF_DNNL_TRY(s, what);
    ff_status st = make_prim(cv, pd, out, what);
    dnnl_primitive_desc_destroy(pd);
    return st;
}

static ff_status conv_pd(dnnl_convolution_desc_t *d, int relu, int winograd, const_dnnl_primitive_desc_t hint,
                         dnnl_primitive_desc_t *pd, const char *what) {
    dnnl_primitive_attr_t attr = make_attr(relu, 0);
    if (attr == NULL) return ff_fail(FF_E_OUT_OF_MEMORY, "creating oneDNN attributes for %s", what);
    dnnl_status_t s = ff_conv_pd_create(d, attr, winograd, hint, pd);
    dnnl_primitive_attr_destroy(attr);
    return ff_dnnl_check(s, what);
}

static ff_status init_md_dt(dnnl_memory_desc_t *md, int nd, const dnnl_dims_t dims, dnnl_data_type_t dt,
                            dnnl_format_tag_t tag) {
    FF_DNNL_TRY(dnnl_memory_desc_init_by_tag(md, nd, dims, dt, tag), "describing a flow tensor");
    return FF_OK;
}
static ff_status init_md(dnnl_memory_desc_t *md, int nd, const dnnl_dims_t dims, dnnl_format_tag_t tag) {
    return init_md_dt(md, nd, dims, dnnl_f32, tag);
}

/* Reserves a workspace slot of the size of role's descriptor. */
static void reserve_bytes(ff_flow_convs *cv, int buf, size_t bytes) {
    if (cv->off[buf] != SIZE_MAX) return;
    cv->off[buf] = cv->ws_bytes;
    cv->ws_bytes += (bytes + 63) & ~(size_t)63;
}
static void reserve(ff_flow_convs *cv, int role, int buf) {
    reserve_bytes(cv, buf, dnnl_memory_desc_get_size(&cv->md[role]));
}

static void bind(ff_flow_convs *cv, void *ws) {
    float **f[] = {&cv->x1c, &cv->w1c, &cv->w2c, &cv->ac, &cv->w1b, &cv->w2b,
                   &cv->dac, &cv->dh, &cv->dw1c, &cv->dw2c, &cv->dx1c};
    unsigned char *base = ws;
    for (int b = 0; b < B_SCRATCH; b++)
        *f[b] = cv->off[b] == SIZE_MAX ? NULL : (float *)(void *)(base + cv->off[b]);
    cv->scratch = base + cv->off[B_SCRATCH];
}

static const dnnl_dims_t k_strides = {1, 1};

static ff_status build_forward(ff_flow_convs *cv, dnnl_primitive_desc_t *c1pd, dnnl_primitive_desc_t *c2pd) {
    const ff_flow_conv_shape *s = &cv->s;
    int64_t k = s->kernel, p = s->kernel / 2;
    dnnl_dims_t pad = {p, p};
    dnnl_dims_t dx1 = {s->n, s->c1, s->h, s->w};
    dnnl_dims_t view_strides = {(int64_t)s->c * s->h * s->w, (int64_t)s->h * s->w, s->w, 1};
    dnnl_dims_t dw1 = {s->hidden, s->c1, k, k}, db1 = {s->hidden};
    dnnl_dims_t dh = {s->n, s->hidden, s->h, s->w};
    dnnl_dims_t dw2 = {2 * s->c2, s->hidden, k, k}, db2 = {2 * s->c2};
    dnnl_dims_t da = {s->n, 2 * s->c2, s->h, s->w};
    FF_DNNL_TRY(dnnl_memory_desc_init_by_strides(&cv->md[M_XV], 4, dx1, dnnl_f32, view_strides), "describing x1");
    cv->md[M_DXV] = cv->md[M_XV];
    FF_TRY(init_md(&cv->md[M_W1U], 4, dw1, dnnl_oihw));
    FF_TRY(init_md(&cv->md[M_B1], 1, db1, dnnl_x));
    FF_TRY(init_md(&cv->md[M_W2U], 4, dw2, dnnl_oihw));
    FF_TRY(init_md(&cv->md[M_B2], 1, db2, dnnl_x));
    FF_TRY(init_md(&cv->md[M_AP], 4, da, dnnl_nchw));
    cv->md[M_DAP] = cv->md[M_AP];
    cv->md[M_DW1U] = cv->md[M_W1U];
    cv->md[M_DW2U] = cv->md[M_W2U];
    cv->md[M_DB1] = cv->md[M_B1];
    cv->md[M_DB2] = cv->md[M_B2];
    /* conv2's output a stays float32 whatever the precision: the coupling
     * pass reads it plain */
    const dnnl_data_type_t dt = s->precision == FF_PRECISION_BF16 ? dnnl_bf16 : dnnl_f32;
    const int winograd = s->precision == FF_PRECISION_FP32_WINOGRAD && k == 3;
    dnnl_memory_desc_t any_x1, any_w1, any_h, any_w2, any_a;
    FF_TRY(init_md_dt(&any_x1, 4, dx1, dt, dnnl_format_tag_any));
    FF_TRY(init_md_dt(&any_w1, 4, dw1, dt, dnnl_format_tag_any));
    FF_TRY(init_md_dt(&any_h, 4, dh, dt, dnnl_format_tag_any));
    FF_TRY(init_md_dt(&any_w2, 4, dw2, dt, dnnl_format_tag_any));
    FF_TRY(init_md(&any_a, 4, da, dnnl_format_tag_any));
    dnnl_prop_kind_t prop = cv->training ? dnnl_forward_training : dnnl_forward_inference;

    dnnl_convolution_desc_t d;
    FF_DNNL_TRY(dnnl_convolution_forward_desc_init(&d, prop, dnnl_convolution_direct, &any_x1, &any_w1,
                                                   &cv->md[M_B1], &any_h, k_strides, pad, pad),
                "describing the flow's first subnet convolution");
    FF_TRY(conv_pd(&d, 1, winograd, NULL, c1pd, "creating the flow's first subnet convolution"));
    query(cv, *c1pd, dnnl_query_src_md, M_X1C);
    query(cv, *c1pd, dnnl_query_weights_md, M_W1C);
    query(cv, *c1pd, dnnl_query_dst_md, M_H);
    cv->md[M_DH] = cv->md[M_H];
    FF_TRY(make_prim(cv, *c1pd, &cv->c1f, "creating the flow's first subnet convolution"));

    FF_DNNL_TRY(dnnl_convolution_forward_desc_init(&d, prop, dnnl_convolution_direct, &cv->md[M_H], &any_w2,
                                                   &cv->md[M_B2], &any_a, k_strides, pad, pad),
                "describing the flow's second subnet convolution");
    FF_TRY(conv_pd(&d, 0, winograd, NULL, c2pd, "creating the flow's second subnet convolution"));
    query(cv, *c2pd, dnnl_query_weights_md, M_W2C);
    query(cv, *c2pd, dnnl_query_dst_md, M_AC);
    FF_TRY(make_prim(cv, *c2pd, &cv->c2f, "creating the flow's second subnet convolution"));

    FF_TRY(make_reorder(cv, M_XV, M_X1C, 0, &cv->rx1, "reordering the flow's x1"));
    FF_TRY(make_reorder(cv, M_W1U, M_W1C, 0, &cv->rw1, "reordering subnet weights"));
    FF_TRY(make_reorder(cv, M_W2U, M_W2C, 0, &cv->rw2, "reordering subnet weights"));
    FF_TRY(make_reorder(cv, M_AC, M_AP, 0, &cv->ra, "reordering the subnet output"));
    if (cv->rx1) reserve(cv, M_X1C, B_X1C);
    if (cv->rw1) reserve(cv, M_W1C, B_W1C);
    if (cv->rw2) reserve(cv, M_W2C, B_W2C);
    if (cv->ra) reserve(cv, M_AC, B_AC);
    return FF_OK;
}

static ff_status build_backward(ff_flow_convs *cv, const_dnnl_primitive_desc_t c1pd,
                                const_dnnl_primitive_desc_t c2pd) {
    const ff_flow_conv_shape *s = &cv->s;
    int64_t k = s->kernel, p = s->kernel / 2;
    dnnl_dims_t pad = {p, p};
    dnnl_dims_t dx1 = {s->n, s->c1, s->h, s->w};
    dnnl_dims_t dw1 = {s->hidden, s->c1, k, k};
    dnnl_dims_t dw2 = {2 * s->c2, s->hidden, k, k};
    dnnl_dims_t da = {s->n, 2 * s->c2, s->h, s->w};
    /* bf16: the data-flow operands (weights, da, dh) are bf16 like the
     * forward's, while what leaves the convolutions stays float32: the
     * input gradient (added into the float32 dx) and the weight and bias
     * gradients (the trainer's Adam state and master weights are float32;
     * oneDNN accumulates into float32 either way). dh keeps h's descriptor,
     * so it is bf16 too. */
    const dnnl_data_type_t dt = s->precision == FF_PRECISION_BF16 ? dnnl_bf16 : dnnl_f32;
    dnnl_memory_desc_t any_dx1, any_w1, any_w2, any_a, any_dw1, any_dw2;
    FF_TRY(init_md(&any_dx1, 4, dx1, dnnl_format_tag_any));
    FF_TRY(init_md_dt(&any_w1, 4, dw1, dt, dnnl_format_tag_any));
    FF_TRY(init_md_dt(&any_w2, 4, dw2, dt, dnnl_format_tag_any));
    FF_TRY(init_md_dt(&any_a, 4, da, dt, dnnl_format_tag_any));
    FF_TRY(init_md(&any_dw1, 4, dw1, dnnl_format_tag_any));
    FF_TRY(init_md(&any_dw2, 4, dw2, dnnl_format_tag_any));
    dnnl_convolution_desc_t d;
    dnnl_primitive_desc_t pd = NULL;
    ff_status st;

    /* conv2 backward-data: dh (h's format, so the ReLU mask lines up) */
    FF_DNNL_TRY(dnnl_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, &cv->md[M_DH], &any_w2,
                                                         &any_a, k_strides, pad, pad),
                "describing the subnet's backward-data convolution");
    FF_TRY(conv_pd(&d, 0, 0, c2pd, &pd, "creating the subnet's backward-data convolution"));
    query(cv, pd, dnnl_query_weights_md, M_W2B);
    query(cv, pd, dnnl_query_diff_dst_md, M_DAC);
    st = make_prim(cv, pd, &cv->c2bd, "creating the subnet's backward-data convolution");
    dnnl_primitive_desc_destroy(pd);
    FF_TRY(st);

    /* conv2 backward-weights on the same da format */
    FF_DNNL_TRY(dnnl_convolution_backward_weights_desc_init(&d, dnnl_convolution_direct, &cv->md[M_H], &any_dw2,
                                                            &cv->md[M_DB2], &cv->md[M_DAC], k_strides, pad,
                                                            pad),
                "describing the subnet's backward-weights convolution");
    FF_TRY(conv_pd(&d, 0, 0, c2pd, &pd, "creating the subnet's backward-weights convolution"));
    query(cv, pd, dnnl_query_diff_weights_md, M_DW2C);
    st = make_prim(cv, pd, &cv->c2bw, "creating the subnet's backward-weights convolution");
    dnnl_primitive_desc_destroy(pd);
    FF_TRY(st);

    /* conv1 backward-data into its own format, then added into dx */
    FF_DNNL_TRY(dnnl_convolution_backward_data_desc_init(&d, dnnl_convolution_direct, &any_dx1, &any_w1,
                                                         &cv->md[M_DH], k_strides, pad, pad),
                "describing the subnet's backward-data convolution");
    FF_TRY(conv_pd(&d, 0, 0, c1pd, &pd, "creating the subnet's backward-data convolution"));
    query(cv, pd, dnnl_query_weights_md, M_W1B);
    query(cv, pd, dnnl_query_diff_src_md, M_DX1C);
    st = make_prim(cv, pd, &cv->c1bd, "creating the subnet's backward-data convolution");
    dnnl_primitive_desc_destroy(pd);
    FF_TRY(st);

    FF_DNNL_TRY(dnnl_convolution_backward_weights_desc_init(&d, dnnl_convolution_direct, &cv->md[M_X1C],
                                                            &any_dw1, &cv->md[M_DB1], &cv->md[M_DH], k_strides,
                                                            pad, pad),
                "describing the subnet's backward-weights convolution");
    FF_TRY(conv_pd(&d, 0, 0, c1pd, &pd, "creating the subnet's backward-weights convolution"));
    query(cv, pd, dnnl_query_diff_weights_md, M_DW1C);
    st = make_prim(cv, pd, &cv->c1bw, "creating the subnet's backward-weights convolution");
    dnnl_primitive_desc_destroy(pd);
    FF_TRY(st);

    FF_TRY(make_reorder(cv, M_DAP, M_DAC, 0, &cv->rda, "reordering the subnet gradient"));
    FF_TRY(make_reorder(cv, M_W1U, M_W1B, 0, &cv->rw1b, "reordering subnet weights"));
    FF_TRY(make_reorder(cv, M_W2U, M_W2B, 0, &cv->rw2b, "reordering subnet weights"));
    FF_TRY(make_reorder(cv, M_DW1C, M_DW1U, 0, &cv->rdw1, "reordering subnet weight gradients"));
    FF_TRY(make_reorder(cv, M_DW2C, M_DW2U, 0, &cv->rdw2, "reordering subnet weight gradients"));
    /* always a reorder: it adds (sum post-op) into the strided dx view */
    FF_TRY(make_reorder(cv, M_DX1C, M_DXV, 1, &cv->rdx1, "adding the subnet input gradient"));
    if (cv->rda) reserve(cv, M_DAC, B_DAC);
    if (cv->rw1b) reserve(cv, M_W1B, B_W1B);
    if (cv->rw2b) reserve(cv, M_W2B, B_W2B);
    if (cv->rdw1) reserve(cv, M_DW1C, B_DW1C);
    if (cv->rdw2) reserve(cv, M_DW2C, B_DW2C);
    reserve(cv, M_DH, B_DH);
    reserve(cv, M_DX1C, B_DX1C);
    if (cv->rx1) reserve(cv, M_X1C, B_X1C);
    return FF_OK;
}

static ff_status build(ff_flow_convs *cv) {
    dnnl_primitive_desc_t c1pd = NULL, c2pd = NULL;
    ff_status st = build_forward(cv, &c1pd, &c2pd);
    if (st == FF_OK && cv->training) st = build_backward(cv, c1pd, c2pd);
    if (c1pd) dnnl_primitive_desc_destroy(c1pd);
    if (c2pd) dnnl_primitive_desc_destroy(c2pd);
    FF_TRY(st);
    dnnl_memory_desc_t smd;
    dnnl_dims_t sd = {(int64_t)(cv->scratch_bytes ? cv->scratch_bytes : 64)};
    FF_DNNL_TRY(dnnl_memory_desc_init_by_tag(&smd, 1, sd, dnnl_u8, dnnl_x), "describing the scratchpad");
    cv->md[M_SCRATCH] = smd;
    reserve_bytes(cv, B_SCRATCH, (size_t)sd[0]);
    dnnl_engine_t eng = ff_dnnl_engine();
    for (int r = 0; r < M_COUNT; r++) {
        if (cv->md[r].ndims == 0) continue; /* unused in this mode */
        FF_DNNL_TRY(dnnl_memory_create(&cv->mem[r], &cv->md[r], eng, DNNL_MEMORY_NONE),
                    "creating a oneDNN memory object");
    }
    return FF_OK;
}

ff_status ff_flow_convs_create(const ff_flow_conv_shape *shape, int32_t training, ff_flow_convs **out) {
    FF_CHECK_ARG(shape != NULL && out != NULL, "shape or output is NULL");
    FF_CHECK_ARG(shape->n >= 1 && shape->c1 >= 1 && shape->c2 >= 1 && shape->hidden >= 1 &&
                     (shape->kernel == 1 || shape->kernel == 3),
                 "invalid flow convolution shape");
    FF_CHECK_ARG(shape->precision == FF_PRECISION_FP32 || shape->precision == FF_PRECISION_BF16 ||
                     shape->precision == FF_PRECISION_FP32_WINOGRAD,
                 "invalid flow convolution precision %d", (int)shape->precision);
    if (training && shape->precision == FF_PRECISION_FP32_WINOGRAD)
        return ff_fail(FF_E_UNSUPPORTED, "training runs the flow convolutions in float32 (direct) or bf16 only");
    if (ff_dnnl_engine() == NULL) return FF_E_INTERNAL;
    ff_flow_convs *cv = ff_calloc(1, sizeof *cv);
    if (cv == NULL) return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory for flow convolutions");
    cv->s = *shape;
    cv->training = training ? 1 : 0;
    for (int b = 0; b < B_COUNT; b++) cv->off[b] = SIZE_MAX;
    ff_status st = build(cv);
    if (st != FF_OK) {
        ff_flow_convs_destroy(cv);
        return st;
    }
    *out = cv;
    return FF_OK;
}

void ff_flow_convs_destroy(ff_flow_convs *cv) {
    if (cv == NULL) return;
    dnnl_primitive_t *prims[] = {&cv->c1f, &cv->c2f, &cv->rx1, &cv->rw1, &cv->rw2, &cv->ra, &cv->c2bd, &cv->c2bw,
                                 &cv->c1bd, &cv->c1bw, &cv->rda, &cv->rw1b, &cv->rw2b, &cv->rdw1, &cv->rdw2,
                                 &cv->rdx1};
    for (size_t i = 0; i < sizeof prims / sizeof prims[0]; i++)
        if (*prims[i]) dnnl_primitive_destroy(*prims[i]);
    for (int r = 0; r < M_COUNT; r++)
        if (cv->mem[r]) dnnl_memory_destroy(cv->mem[r]);
    ff_free(cv);
}

size_t ff_flow_convs_workspace_bytes(const ff_flow_convs *cv) { return cv->ws_bytes; }

size_t ff_flow_convs_h_bytes(const ff_flow_convs *cv) { return dnnl_memory_desc_get_size(&cv->md[M_H]); }

size_t ff_flow_convs_weight_bytes(const ff_flow_convs *cv, int which) {
    if (which == 1) return cv->rw1 ? dnnl_memory_desc_get_size(&cv->md[M_W1C]) : 0;
    return cv->rw2 ? dnnl_memory_desc_get_size(&cv->md[M_W2C]) : 0;
}

ff_status ff_flow_convs_prepare_weights(ff_flow_convs *cv, dnnl_stream_t st, void *ws, const float *w1,
                                        const float *w2, float *w1c, float *w2c) {
    bind(cv, ws);
    FF_DNNL_TRY(dnnl_memory_set_data_handle(cv->mem[M_SCRATCH], cv->scratch), "setting the scratchpad");
    if (cv->rw1) FF_TRY(reorder_exec(cv, st, cv->rw1, M_W1U, w1, M_W1C, w1c, "reordering subnet weights"));
    if (cv->rw2) FF_TRY(reorder_exec(cv, st, cv->rw2, M_W2U, w2, M_W2C, w2c, "reordering subnet weights"));
    FF_DNNL_TRY(dnnl_stream_wait(st), "waiting for a weight reorder");
    return FF_OK;
}

size_t ff_flow_convs_x1_bytes(const ff_flow_convs *cv) { return dnnl_memory_desc_get_size(&cv->md[M_X1C]); }

ff_status ff_flow_convs_forward(ff_flow_convs *cv, dnnl_stream_t st, void *ws, const float *w1, const float *b1,
                                const float *w2, const float *b2, const float *x, float *h_out, float *a_out,
                                float *x1_keep, const float *w1_ready, const float *w2_ready) {
    bind(cv, ws);
    FF_DNNL_TRY(dnnl_memory_set_data_handle(cv->mem[M_SCRATCH], cv->scratch), "setting the scratchpad");
    const void *x1 = x, *w1c = w1, *w2c = w2;
    if (cv->rx1) {
        float *dst = x1_keep ? x1_keep : cv->x1c;
        FF_TRY(reorder_exec(cv, st, cv->rx1, M_XV, x, M_X1C, dst, "reordering the flow's x1"));
        x1 = dst;
    }
    if (cv->rw1 && w1_ready) {
        w1c = w1_ready;
    } else if (cv->rw1) {
        FF_TRY(reorder_exec(cv, st, cv->rw1, M_W1U, w1, M_W1C, cv->w1c, "reordering subnet weights"));
        w1c = cv->w1c;
    }
    if (cv->rw2 && w2_ready) {
        w2c = w2_ready;
    } else if (cv->rw2) {
        FF_TRY(reorder_exec(cv, st, cv->rw2, M_W2U, w2, M_W2C, cv->w2c, "reordering subnet weights"));
        w2c = cv->w2c;
    }
    exec_arg a1[] = {{DNNL_ARG_SRC, cv->rx1 ? M_X1C : M_XV, x1},
                     {DNNL_ARG_WEIGHTS, M_W1C, w1c},
                     {DNNL_ARG_BIAS, M_B1, b1},
                     {DNNL_ARG_DST, M_H, h_out}};
    FF_TRY(exec(cv, st, cv->c1f, 4, a1, "running the flow's first subnet convolution"));
    exec_arg a2[] = {{DNNL_ARG_SRC, M_H, h_out},
                     {DNNL_ARG_WEIGHTS, M_W2C, w2c},
                     {DNNL_ARG_BIAS, M_B2, b2},
                     {DNNL_ARG_DST, cv->ra ? M_AC : M_AP, cv->ra ? (void *)cv->ac : (void *)a_out}};
    FF_TRY(exec(cv, st, cv->c2f, 4, a2, "running the flow's second subnet convolution"));
    if (cv->ra) FF_TRY(reorder_exec(cv, st, cv->ra, M_AC, cv->ac, M_AP, a_out, "reordering the subnet output"));
    FF_DNNL_TRY(dnnl_stream_wait(st), "waiting for the flow convolutions");
    return FF_OK;
}

/* ReLU backward on conv1's output format: padding lanes of h are zero and
 * get a zero gradient too. Branch-free and compiled for AVX-512 (the
 * library's baseline build made this loop ~7% of a training step). */
FF_SIMD_CLONES
static void relu_mask(float *restrict dh, const float *restrict h, size_t n) {
    for (size_t i = 0; i < n; i++) dh[i] = h[i] > 0.0f ? dh[i] : 0.0f;
}

/* The same on bf16 h and dh (bf16 training): a bf16 is the upper half of
 * a float32, so h > 0 is tested on the widened value and dh is kept or
 * zeroed as raw bits. */
FF_SIMD_CLONES
static void relu_mask_bf16(uint16_t *restrict dh, const uint16_t *restrict h, size_t n) {
    for (size_t i = 0; i < n; i++) dh[i] = ff_bits_f32((uint32_t)h[i] << 16) > 0.0f ? dh[i] : 0;
}

#define RELU_CHUNK ((size_t)16384)

/* dh and h: `bytes` of conv1's output format, float32 or bf16. */
static void relu_backward(void *dh, const void *h, size_t bytes, int bf16) {
    size_t n = bytes / (bf16 ? sizeof(uint16_t) : sizeof(float));
    size_t chunks = (n + RELU_CHUNK - 1) / RELU_CHUNK;
#pragma omp parallel for schedule(static)
    for (size_t c = 0; c < chunks; c++) {
        size_t lo = c * RELU_CHUNK, len = n - lo < RELU_CHUNK ? n - lo : RELU_CHUNK;
        if (bf16)
            relu_mask_bf16((uint16_t *)dh + lo, (const uint16_t *)h + lo, len);
        else
            relu_mask((float *)dh + lo, (const float *)h + lo, len);
    }
}

ff_status ff_flow_convs_backward(ff_flow_convs *cv, dnnl_stream_t st, void *ws, const float *w1, const float *w2,
                                 const float *x, const float *x1_kept, const float *h, const float *da, float *dx,
                                 float *dw1, float *db1, float *dw2, float *db2) {
    if (!cv->training) return ff_fail(FF_E_STATE, "flow convolutions were built for inference only");
    bind(cv, ws);
    FF_DNNL_TRY(dnnl_memory_set_data_handle(cv->mem[M_SCRATCH], cv->scratch), "setting the scratchpad");
    const void *dac = da, *w1b = w1, *w2b = w2, *x1 = x;
    if (cv->rda) {
        FF_TRY(reorder_exec(cv, st, cv->rda, M_DAP, da, M_DAC, cv->dac, "reordering the subnet gradient"));
        dac = cv->dac;
    }
    if (cv->rw2b) {
        FF_TRY(reorder_exec(cv, st, cv->rw2b, M_W2U, w2, M_W2B, cv->w2b, "reordering subnet weights"));
        w2b = cv->w2b;
    }
    exec_arg bd2[] = {{DNNL_ARG_DIFF_DST, M_DAC, dac}, {DNNL_ARG_WEIGHTS, M_W2B, w2b}, {DNNL_ARG_DIFF_SRC, M_DH, cv->dh}};
    FF_TRY(exec(cv, st, cv->c2bd, 3, bd2, "running the subnet's backward-data convolution"));
    exec_arg bw2[] = {{DNNL_ARG_SRC, M_H, h},
                      {DNNL_ARG_DIFF_DST, M_DAC, dac},
                      {DNNL_ARG_DIFF_WEIGHTS, cv->rdw2 ? M_DW2C : M_DW2U, cv->rdw2 ? (void *)cv->dw2c : (void *)dw2},
                      {DNNL_ARG_DIFF_BIAS, M_DB2, db2}};
    FF_TRY(exec(cv, st, cv->c2bw, 4, bw2, "running the subnet's backward-weights convolution"));
    if (cv->rdw2)
        FF_TRY(reorder_exec(cv, st, cv->rdw2, M_DW2C, cv->dw2c, M_DW2U, dw2, "reordering weight gradients"));
    FF_DNNL_TRY(dnnl_stream_wait(st), "waiting for the flow convolutions");
    relu_backward(cv->dh, h, dnnl_memory_desc_get_size(&cv->md[M_H]), cv->s.precision == FF_PRECISION_BF16);

    if (cv->rx1 && x1_kept) {
        x1 = x1_kept;
    } else if (cv->rx1) {
        FF_TRY(reorder_exec(cv, st, cv->rx1, M_XV, x, M_X1C, cv->x1c, "reordering the flow's x1"));
        x1 = cv->x1c;
    }
    exec_arg bw1[] = {{DNNL_ARG_SRC, cv->rx1 ? M_X1C : M_XV, x1},
                      {DNNL_ARG_DIFF_DST, M_DH, cv->dh},
                      {DNNL_ARG_DIFF_WEIGHTS, cv->rdw1 ? M_DW1C : M_DW1U, cv->rdw1 ? (void *)cv->dw1c : (void *)dw1},
                      {DNNL_ARG_DIFF_BIAS, M_DB1, db1}};
    FF_TRY(exec(cv, st, cv->c1bw, 4, bw1, "running the subnet's backward-weights convolution"));
    if (cv->rdw1)
        FF_TRY(reorder_exec(cv, st, cv->rdw1, M_DW1C, cv->dw1c, M_DW1U, dw1, "reordering weight gradients"));
    if (cv->rw1b) {
        FF_TRY(reorder_exec(cv, st, cv->rw1b, M_W1U, w1, M_W1B, cv->w1b, "reordering subnet weights"));
        w1b = cv->w1b;
    }
    exec_arg bd1[] = {{DNNL_ARG_DIFF_DST, M_DH, cv->dh}, {DNNL_ARG_WEIGHTS, M_W1B, w1b}, {DNNL_ARG_DIFF_SRC, M_DX1C, cv->dx1c}};
    FF_TRY(exec(cv, st, cv->c1bd, 3, bd1, "running the subnet's backward-data convolution"));
    FF_TRY(reorder_exec(cv, st, cv->rdx1, M_DX1C, cv->dx1c, M_DXV, dx, "adding the subnet input gradient"));
    FF_DNNL_TRY(dnnl_stream_wait(st), "waiting for the flow convolutions");
    return FF_OK;
}
