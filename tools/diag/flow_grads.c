/* flow_grads: the training loss and the gradient of every flow parameter
 * for one batch of cached backbone features, at a model file's parameters,
 * written as a model file (the gradient of each parameter under the
 * parameter's own name), so that tools/reference/grad_accuracy.py can set
 * it beside PyTorch's float32 and float64 gradients of the same batch.
 * Internal API (the flow engine the trainer uses), not installed.
 *
 *   flow_grads BACKBONE.safetensors MODEL.safetensors FEATURES.safetensors OUT.safetensors [THREADS]
 *
 * FEATURES holds F32 tensors "level0", "level1", ... of shape [n, C, H, W]
 * (the backbone's feature maps, before the flow's LayerNorm). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fastflow.h"
#include "flow/flow_engine.h"
#include "flow/flow_internal.h"
#include "tensor/safetensors.h"

static int fail(const char *what) {
    fprintf(stderr, "flow_grads: %s: %s\n", what, ff_last_error_message());
    return 1;
}

/* The features of level l, checked against the flow's layout. */
static const float *level_features(const ff_st_file *f, const ff_flow_level_layout *ll, int32_t l, int32_t *n) {
    char name[16];
    snprintf(name, sizeof name, "level%d", (int)l);
    const ff_st_tensor *t = ff_st_find(f, name);
    if (!t || t->dtype != FF_DT_F32 || t->ndim != 4 || t->shape[1] != ll->c || t->shape[2] != ll->h ||
        t->shape[3] != ll->w || t->shape[0] < 1 || (*n != 0 && t->shape[0] != *n)) {
        fprintf(stderr, "flow_grads: features: '%s' missing or not F32 [n, %d, %d, %d]\n", name, (int)ll->c,
                (int)ll->h, (int)ll->w);
        return NULL;
    }
    *n = (int32_t)t->shape[0];
    return (const float *)t->data;
}

int main(int argc, char **argv) {
    if (argc != 5 && argc != 6) {
        fprintf(stderr, "usage: flow_grads BACKBONE.safetensors MODEL.safetensors FEATURES.safetensors "
                        "OUT.safetensors [THREADS]\n");
        return 2;
    }
    if (argc == 6 && ff_global_set_i64(FF_GLOBAL_NUM_THREADS, atoll(argv[5])) != FF_OK) return fail("threads");
    ff_backbone *bb = NULL;
    ff_flow *flow = NULL, *grads = NULL;
    ff_st_file *feats_file = NULL;
    ff_flow_engine *engine = NULL;
    int rc = 1;
    if (ff_backbone_load("resnet18", argv[1], &bb) != FF_OK) {
        rc = fail(argv[1]);
        goto done;
    }
    if (ff_flow_load(argv[2], bb, &flow) != FF_OK) {
        rc = fail(argv[2]);
        goto done;
    }
    if (ff_st_open(argv[3], &feats_file) != FF_OK) {
        rc = fail(argv[3]);
        goto done;
    }
    const ff_flow_layout *L = &flow->layout;
    const float *feats[FF_MAX_LEVELS];
    int32_t n = 0;
    for (int32_t l = 0; l < L->num_levels; l++)
        if ((feats[l] = level_features(feats_file, &L->level[l], l, &n)) == NULL) goto done;
    float loss = 0.0f;
    if (ff_flow_engine_create(L, 1, &engine) != FF_OK ||
        ff_flow_engine_forward(engine, flow->params, flow->perms, feats, n, NULL, NULL, &loss) != FF_OK) {
        rc = fail("forward");
        goto done;
    }
    /* a flow object whose "parameters" are the gradients: saved under the parameters' names */
    if (ff_flow_alloc(bb, L, flow->seed, &grads) != FF_OK) {
        rc = fail("allocating");
        goto done;
    }
    memcpy(grads->perms, flow->perms, L->num_perm * sizeof(int32_t));
    if (ff_flow_engine_backward(engine, flow->params, flow->perms, grads->params) != FF_OK) {
        rc = fail("backward");
        goto done;
    }
    if (ff_flow_save(grads, argv[4], 0) != FF_OK) {
        rc = fail(argv[4]);
        goto done;
    }
    printf("loss %.9g over a batch of %d\n", (double)loss, (int)n);
    rc = 0;
done:
    ff_flow_engine_destroy(engine);
    ff_st_close(feats_file);
    ff_flow_destroy(grads);
    ff_flow_destroy(flow);
    ff_backbone_destroy(bb);
    return rc;
}
