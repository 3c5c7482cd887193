/* Loading ResNet weights from a safetensors state dict: prefix detection,
 * architecture check, BatchNorm folding, and the backbone's lifetime. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backbone/backbone_internal.h"
#include "backbone/resnet_plan.h"
#include "backbone/vit_backbone.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/params.h"
#include "core/settings.h"

#define FF_BN_EPS 1e-5

/* prefix + a + b into buf, or NULL when it does not fit (no tensor has
 * such a long name). */
static const char *join(char *buf, size_t cap, const char *prefix, const char *a, const char *b) {
    const size_t lp = strlen(prefix), la = strlen(a), lb = strlen(b);
    if (lp + la + lb >= cap) return NULL;
    memcpy(buf, prefix, lp);
    memcpy(buf + lp, a, la);
    memcpy(buf + lp + la, b, lb + 1);
    return buf;
}

static const ff_st_tensor *find(const ff_st_file *f, const char *prefix, const char *a, const char *b) {
    char name[FF_ST_NAME_CAP];
    const char *full = join(name, sizeof name, prefix, a, b);
    return full ? ff_st_find(f, full) : NULL;
}

/* ---- prefix and architecture detection ---------------------------------- */

/* Names the torchvision architecture the tensors belong to, from the block
 * type, the bottleneck width and the depth of layer3; NULL if unclear. */
static const char *guess_arch(const ff_st_file *f, const char *P, int32_t *l3_blocks) {
    int32_t n3 = 0;
    char buf[64];
    while (n3 < 64) {
        snprintf(buf, sizeof buf, "layer3.%d.conv1.weight", (int)n3);
        if (!find(f, P, buf, "")) break;
        n3++;
    }
    *l3_blocks = n3;
    if (find(f, P, "layer1.0.conv3.weight", "")) {
        const ff_st_tensor *t = find(f, P, "layer1.0.conv1.weight", "");
        const int wide = t && t->ndim == 4 && t->shape[0] == 128;
        if (n3 == 6) return wide ? "wide_resnet50_2" : "resnet50";
        if (n3 == 23) return wide ? "wide_resnet101_2" : "resnet101";
        if (n3 == 36 && !wide) return "resnet152";
        return NULL;
    }
    if (n3 == 2) return "resnet18";
    if (n3 == 6) return "resnet34";
    return NULL;
}

/* ---- tensors ------------------------------------------------------------ */

typedef struct loader {
    const ff_st_file *f;
    const char *prefix;
    ff_backbone *bb;
    size_t raw_cap;
} loader;

/* Checks presence and shape, and keeps the raw tensor for export. */
static ff_status take(loader *ld, const char *base, const char *suffix, int32_t ndim, const int64_t *shape,
                      const ff_st_tensor **out) {
    char full[FF_ST_NAME_CAP];
    if (!join(full, sizeof full, ld->prefix, base, suffix))
        return ff_fail(FF_E_INVALID_ARGUMENT, "tensor name prefix too long (%zu bytes)", strlen(ld->prefix));
    const ff_st_tensor *t = NULL;
    FF_TRY(ff_st_find_float(ld->f, full, ndim, shape, ld->bb->layout.arch->name, 0, &t));

    ff_backbone *bb = ld->bb;
    if (bb->nraw == ld->raw_cap) {
        size_t cap = ld->raw_cap ? 2 * ld->raw_cap : 64;
        ff_raw_tensor *r = realloc(bb->raw, cap * sizeof *r);
        if (!r) return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory keeping tensor '%s'", full);
        bb->raw = r;
        ld->raw_cap = cap;
    }
    ff_raw_tensor *r = &bb->raw[bb->nraw];
    memset(r, 0, sizeof *r);
    char plain[FF_ST_NAME_CAP];
    r->name = ff_strdup(join(plain, sizeof plain, "", base, suffix));
    r->data = t->nbytes ? ff_alloc(t->nbytes) : NULL;
    if (!r->name || (t->nbytes && !r->data)) {
        free(r->name);
        ff_free(r->data);
        return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory keeping tensor '%s'", full);
    }
    if (t->nbytes) memcpy(r->data, t->data, t->nbytes);
    r->nbytes = t->nbytes;
    r->dtype = t->dtype;
    r->ndim = t->ndim;
    memcpy(r->shape, t->shape, sizeof r->shape);
    bb->nraw++;
    *out = t;
    return FF_OK;
}

/* Reads a checked tensor as float32 into dst. */
static ff_status read_f32(loader *ld, const ff_st_tensor *t, float *dst) {
    return ff_st_read_f32(ld->f, t->name, t->ndim, t->shape, dst);
}

/* Loads conv + BatchNorm and folds them (in double):
 * w' = w * g / sqrt(v + eps), b' = beta - mean * g / sqrt(v + eps). */
static ff_status load_conv(loader *ld, int32_t index) {
    const ff_conv_spec *c = &ld->bb->layout.convs[index];
    ff_conv_weights *cw = &ld->bb->w[index];
    const int64_t wshape[4] = {c->oc, c->ic, c->k, c->k};
    const int64_t vshape[1] = {c->oc};
    static const char *bn_parts[4] = {".weight", ".bias", ".running_mean", ".running_var"};
    const ff_st_tensor *tw, *tb[4];
    FF_TRY(take(ld, c->conv, ".weight", 4, wshape, &tw));
    for (int i = 0; i < 4; i++) FF_TRY(take(ld, c->bn, bn_parts[i], 1, vshape, &tb[i]));

    const size_t per_oc = (size_t)c->ic * (size_t)c->k * (size_t)c->k;
    const size_t nw = per_oc * (size_t)c->oc;
    float *w = NULL, *bn = NULL;
    ff_status st = ff_alloc_floats(nw, c->conv, &w);
    if (st == FF_OK) st = ff_alloc_floats(4 * (size_t)c->oc, c->bn, &bn);
    if (st == FF_OK) st = read_f32(ld, tw, w);
    for (int i = 0; i < 4 && st == FF_OK; i++) st = read_f32(ld, tb[i], bn + (size_t)i * (size_t)c->oc);
    if (st == FF_OK) st = ff_alloc_floats((size_t)c->oc, c->bn, &cw->bias);
    for (int32_t o = 0; o < c->oc && st == FF_OK; o++) {
        const double g = bn[o], beta = bn[c->oc + o], mean = bn[2 * c->oc + o], var = bn[3 * c->oc + o];
        if (!(var + FF_BN_EPS > 0.0) || !isfinite(var)) {
            st = ff_fail(FF_E_BAD_FORMAT, "tensor '%s%s.running_var' has an invalid variance %g at index %d",
                         ld->prefix, c->bn, var, (int)o);
            break;
        }
        const double scale = g / sqrt(var + FF_BN_EPS);
        const double bias = beta - mean * scale;
        float *wo = w + (size_t)o * per_oc;
        int finite = isfinite(scale) && isfinite(bias);
        for (size_t i = 0; i < per_oc; i++) {
            wo[i] = (float)((double)wo[i] * scale);
            finite &= isfinite(wo[i]);
        }
        cw->bias[o] = (float)bias;
        if (!finite)
            st = ff_fail(FF_E_BAD_FORMAT, "tensors '%s%s.weight' / '%s%s.*' give non-finite values for channel %d",
                         ld->prefix, c->conv, ld->prefix, c->bn, (int)o);
    }
    ff_free(bn);
    if (st != FF_OK) {
        ff_free(w);
        return st;
    }
    const dnnl_dims_t dims = {c->oc, c->ic, c->k, c->k};
    if (dnnl_memory_desc_init_by_tag(&cw->md, 4, dims, dnnl_f32, dnnl_oihw) != dnnl_success) {
        ff_free(w);
        return ff_fail(FF_E_INTERNAL, "cannot describe the weights of %s", c->conv);
    }
    cw->data = w;
    return FF_OK;
}

/* Lays the weights out once in the formats the primitives choose for the
 * default input (batch 1, 256x256), so that extractors at that shape share
 * them instead of each holding a reordered copy. */
static ff_status share_default_formats(ff_backbone *bb) {
    ff_resnet_pds pds;
    FF_TRY(ff_resnet_pds_create(&bb->layout, 1, FF_BACKBONE_DEFAULT_SIDE, FF_BACKBONE_DEFAULT_SIDE, FF_PRECISION_FP32, &pds));
    ff_status st = FF_OK;
    for (int32_t i = 0; i < bb->layout.nconv && st == FF_OK; i++) {
        ff_conv_weights *cw = &bb->w[i];
        const dnnl_memory_desc_t *want = ff_pd_weights(pds.conv[i]);
        if (dnnl_memory_desc_equal(want, &cw->md)) continue;
        void *dst = ff_alloc(dnnl_memory_desc_get_size(want));
        if (!dst) {
            st = ff_fail(FF_E_OUT_OF_MEMORY, "out of memory laying out the weights of %s", bb->layout.convs[i].conv);
            break;
        }
        st = ff_reorder_once(&cw->md, cw->data, want, dst);
        if (st != FF_OK) {
            ff_free(dst);
            break;
        }
        ff_free(cw->data);
        cw->data = dst;
        cw->md = *want;
    }
    ff_resnet_pds_destroy(&pds);
    return st;
}

static void backbone_free(ff_backbone *bb) {
    if (!bb) return;
    ff_vit_model_free(bb->vit);
    for (int32_t i = 0; i < FF_RESNET_MAX_CONVS; i++) {
        ff_free(bb->w[i].data);
        ff_free(bb->w[i].bias);
    }
    for (size_t i = 0; i < bb->nraw; i++) {
        free(bb->raw[i].name);
        ff_free(bb->raw[i].data);
    }
    free(bb->raw);
    free(bb);
}

static ff_status load_all(loader *ld, const char *arch_name) {
    ff_backbone *bb = ld->bb;
    int32_t n3 = 0;
    const char *guess = guess_arch(ld->f, ld->prefix, &n3);
    if (guess && strcmp(guess, arch_name) != 0)
        return ff_fail(FF_E_BAD_FORMAT,
                       "the weights are for %s, not %s (found %s blocks, %d blocks in layer3)", guess,
                       arch_name, find(ld->f, ld->prefix, "layer1.0.conv3.weight", "") ? "Bottleneck" : "BasicBlock",
                       (int)n3);
    for (int32_t i = 0; i < bb->layout.nconv; i++) FF_TRY(load_conv(ld, i));
    return share_default_formats(bb);
}

static ff_status unknown_arch(const char *arch) {
    char names[512];
    return ff_fail(FF_E_UNSUPPORTED, "unknown backbone architecture '%s'; supported: %s", arch,
                   ff_backbone_arch_list(names, sizeof names));
}

ff_status ff_backbone_load_st(const char *arch, const ff_st_file *f, const char *prefix, ff_backbone **out) {
    FF_CHECK_ARG(arch != NULL, "arch is NULL");
    FF_CHECK_ARG(f != NULL, "safetensors file is NULL");
    FF_CHECK_ARG(out != NULL, "out is NULL");
    const ff_vit_arch *va = ff_vit_arch_find(arch);
    if (va) return ff_vit_backbone_load(va, f, prefix, out);
    const ff_resnet_arch *a = ff_resnet_arch_find(arch);
    if (!a)
        return unknown_arch(arch);
    char detected[FF_ST_NAME_CAP];
    if (!prefix) {
        /* "conv1.weight" also ends block convs' names: the stem is the one beside layer1 */
        FF_TRY(ff_st_detect_prefix(f, "conv1.weight", "layer1.0.conv1.weight", "ResNet", detected, sizeof detected));
        prefix = detected;
    }
    ff_backbone *bb = calloc(1, sizeof *bb);
    if (!bb) return ff_fail(FF_E_OUT_OF_MEMORY, "out of memory creating a backbone");
    atomic_init(&bb->refs, 1);
    ff_resnet_layout_init(a, &bb->layout);
    loader ld = {f, prefix, bb, 0};
    ff_threads_scope ts = ff_threads_enter(0); /* BatchNorm folding and weight reorders */
    ff_status st = load_all(&ld, a->name);
    ff_threads_leave(ts);
    if (st != FF_OK) {
        backbone_free(bb);
        return st;
    }
    *out = bb;
    return FF_OK;
}

/* ---- public ------------------------------------------------------------- */

ff_status ff_backbone_load(const char *arch, const char *weights_path, ff_backbone **out) {
    ff_clear_error();
    FF_CHECK_ARG(arch != NULL, "arch is NULL");
    FF_CHECK_ARG(weights_path != NULL, "weights_path is NULL");
    FF_CHECK_ARG(out != NULL, "out is NULL");
    if (!ff_backbone_arch_known(arch))
        return unknown_arch(arch);
    ff_st_file *f = NULL;
    FF_TRY(ff_st_open(weights_path, &f));
    ff_status st = ff_backbone_load_st(arch, f, NULL, out);
    ff_st_close(f);
    if (st != FF_OK) return ff_fail_context(st, "loading %s weights from '%s'", arch, weights_path);
    return FF_OK;
}

ff_status ff_backbone_load_from_memory(const char *arch, const void *data, size_t size, ff_backbone **out) {
    ff_clear_error();
    FF_CHECK_ARG(arch != NULL, "arch is NULL");
    FF_CHECK_ARG(data != NULL, "data is NULL");
    FF_CHECK_ARG(out != NULL, "out is NULL");
    if (!ff_backbone_arch_known(arch))
        return unknown_arch(arch);
    ff_st_file *f = NULL;
    FF_TRY(ff_st_open_memory(data, size, "backbone weights in memory", &f));
    ff_status st = ff_backbone_load_st(arch, f, NULL, out);
    ff_st_close(f);
    if (st != FF_OK) return ff_fail_context(st, "loading %s weights from memory", arch);
    return FF_OK;
}

const ff_backbone *ff_backbone_retain(const ff_backbone *bb) {
    if (bb) atomic_fetch_add(&((ff_backbone *)(uintptr_t)bb)->refs, 1);
    return bb;
}

void ff_backbone_destroy(ff_backbone *bb) {
    if (bb && atomic_fetch_sub(&bb->refs, 1) == 1) backbone_free(bb);
}

const char *ff_backbone_arch(const ff_backbone *bb) {
    if (!bb) return NULL;
    return bb->vit ? bb->vit->arch->name : bb->layout.arch->name;
}

int32_t ff_backbone_uses_layernorm(const ff_backbone *bb) {
    /* every ResNet feature map goes through the flow's LayerNorm; a
     * transformer's features are already layer-normalised (its final norm) */
    return bb && bb->vit ? 0 : 1;
}

ff_status ff_backbone_num_levels(const ff_backbone *bb, int32_t *levels_out) {
    ff_clear_error();
    FF_CHECK_ARG(bb != NULL, "backbone is NULL");
    FF_CHECK_ARG(levels_out != NULL, "levels_out is NULL");
    *levels_out = bb->vit ? 1 : FF_RESNET_LEVELS;
    return FF_OK;
}

ff_status ff_backbone_level_shape(const ff_backbone *bb, int32_t level, int32_t in_width, int32_t in_height,
                                  int32_t *channels_out, int32_t *width_out, int32_t *height_out) {
    ff_clear_error();
    FF_CHECK_ARG(bb != NULL, "backbone is NULL");
    FF_CHECK_ARG(channels_out && height_out && width_out, "an output pointer is NULL");
    if (bb->vit) return ff_vit_level_shape(bb->vit, level, in_width, in_height, channels_out, width_out, height_out);
    FF_CHECK_ARG(level >= 0 && level < FF_RESNET_LEVELS, "level must be in [0, %d], got %d", FF_RESNET_LEVELS - 1,
                 (int)level);
    FF_TRY(ff_param_check_input_side("in_width", FF_FLOW_INPUT_WIDTH, in_width));
    FF_TRY(ff_param_check_input_side("in_height", FF_FLOW_INPUT_HEIGHT, in_height));
    const int32_t stride = 4 << level;
    *channels_out = bb->layout.level_channels[level];
    *height_out = in_height / stride;
    *width_out = in_width / stride;
    return FF_OK;
}

ff_status ff_backbone_export_tensors(const ff_backbone *bb, ff_st_writer *w, const char *prefix) {
    FF_CHECK_ARG(bb != NULL, "backbone is NULL");
    FF_CHECK_ARG(w != NULL, "writer is NULL");
    if (!prefix) prefix = "";
    if (bb->vit) return ff_vit_model_export(bb->vit, w, prefix);
    for (size_t i = 0; i < bb->nraw; i++) {
        const ff_raw_tensor *r = &bb->raw[i];
        char name[FF_ST_NAME_CAP];
        if ((size_t)snprintf(name, sizeof name, "%s%s", prefix, r->name) >= sizeof name)
            return ff_fail(FF_E_INVALID_ARGUMENT, "tensor name prefix too long (%zu bytes)", strlen(prefix));
        FF_TRY(ff_st_writer_add(w, name, r->dtype, r->ndim, r->shape, r->data));
    }
    return FF_OK;
}
