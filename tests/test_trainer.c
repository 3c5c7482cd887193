/* ff_trainer: Adam against torch.optim.Adam (the flow golden files store
 * the parameters after one step), settings and counters, determinism for a
 * seed, the loss going down on a tiny set, the moving average of the
 * parameters (FF_TRAINER_EMA_DECAY), NaN handling. Synthetic: a
 * random resnet18 at 64x64, 2 flow steps. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow_engine.h"
#include "flow/flow_internal.h"
#include "flow/flow_names.h"
#include "flow_testlib.h"
#include "tensor/safetensors.h"
#include "test_util.h"
#include "train/adam.h"

#define SIZE 64
#define STEPS 2
#define NIMG 6

/* tests/golden/adam_steps.safetensors (tools/reference/gen_adam_golden.py):
 * three torch.optim.Adam steps on 4096 parameters, two configurations, with
 * gradients of every magnitude: the optimiser alone, beyond the first step
 * (the flow golden files, used by test_step_golden, hold one step). */
static void test_adam_golden(void) {
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path("adam_steps.safetensors"), &f));
    if (!f) return;
    const char *configs[2] = {"a", "b"};
    for (int c = 0; c < 2; c++) {
        enum { N = 4096 };
        static float p[N], g[N], want[N], m[N], v[N];
        const int64_t shape[1] = {N};
        char name[64];
        snprintf(name, sizeof name, "%s.p0", configs[c]);
        CHECK_OK(ff_st_read_f32(f, name, 1, shape, p));
        snprintf(name, sizeof name, "%s.lr", configs[c]);
        double lr = strtod(ff_st_meta(f, name), NULL);
        snprintf(name, sizeof name, "%s.weight_decay", configs[c]);
        double wd = strtod(ff_st_meta(f, name), NULL);
        /* the trainer's path: the setting arrives as a float */
        CHECK(ff_adam_float_to_double((float)lr) == lr && ff_adam_float_to_double((float)wd) == wd);
        ff_adam_config cfg = {lr, 0.9, 0.999, 1e-8, wd};
        memset(m, 0, sizeof m);
        memset(v, 0, sizeof v);
        for (int t = 1; t <= 3; t++) {
            snprintf(name, sizeof name, "%s.g%d", configs[c], t);
            CHECK_OK(ff_st_read_f32(f, name, 1, shape, g));
            snprintf(name, sizeof name, "%s.p%d", configs[c], t);
            CHECK_OK(ff_st_read_f32(f, name, 1, shape, want));
            ff_adam_step(&cfg, t, p, g, m, v, N);
            size_t exact = 0;
            for (size_t i = 0; i < N; i++) exact += p[i] == want[i];
            printf("Adam config %s step %d: %zu of %d parameters bit-identical to torch\n", configs[c], t, exact,
                   (int)N);
            CHECK(ff_test_close(name, p, want, N, 1e-6, 1e-12));
        }
    }
    ff_st_close(f);
}

/* The trainer's step (engine forward + backward, then ff_adam_step) on the
 * flow golden files: the parameters after one step must match
 * torch.optim.Adam after loss.backward() in the PyTorch reference. */
static void test_step_golden(const char *file) {
    ff_st_file *f = NULL;
    CHECK_OK(ff_st_open(ff_test_golden_path(file), &f));
    if (!f) return;
    int32_t chw[3][3];
    const char *shapes = ff_st_meta(f, "shapes");
    CHECK(shapes && sscanf(shapes, "%d,%d,%d;%d,%d,%d;%d,%d,%d", &chw[0][0], &chw[0][1], &chw[0][2], &chw[1][0],
                           &chw[1][1], &chw[1][2], &chw[2][0], &chw[2][1], &chw[2][2]) == 9);
    ff_flow_layout L;
    CHECK_OK(ff_flow_layout_init(&L, 3, (const int32_t(*)[3])chw, atoi(ff_st_meta(f, "in_w")),
                                 atoi(ff_st_meta(f, "in_h")), atoi(ff_st_meta(f, "steps")),
                                 atoi(ff_st_meta(f, "conv3x3_only")), strtof(ff_st_meta(f, "hidden_ratio"), NULL),
                                 strtof(ff_st_meta(f, "clamp"), NULL), 1));
    int32_t n = atoi(ff_st_meta(f, "batch"));
    size_t np = L.num_params;
    float *p = calloc(np, sizeof *p), *g = calloc(np, sizeof *g), *want = calloc(np, sizeof *want);
    float *m = calloc(np, sizeof *m), *v = calloc(np, sizeof *v), *gref = calloc(np, sizeof *gref);
    int32_t *perms = calloc(L.num_perm, sizeof *perms);
    float *feats[3] = {0};
    for (size_t i = 0; i < ff_flow_names_count(&L); i++) {
        ff_flow_tensor_name t;
        CHECK_OK(ff_flow_names_get(&L, i, &t));
        char name[160];
        if (t.kind == FF_FLOW_NAME_PERM) {
            float *w = malloc(t.count * sizeof *w);
            CHECK_OK(ff_st_read_f32(f, t.name, t.ndim, t.shape, w));
            CHECK_OK(ff_flow_perm_from_matrix(w, (int32_t)t.shape[0], 0, perms + t.offset));
            free(w);
        }
        if (t.kind != FF_FLOW_NAME_PARAM) continue;
        CHECK_OK(ff_st_read_f32(f, t.name, t.ndim, t.shape, p + t.offset));
        snprintf(name, sizeof name, "adam.%s", t.name);
        CHECK_OK(ff_st_read_f32(f, name, t.ndim, t.shape, want + t.offset));
        snprintf(name, sizeof name, "grad.%s", t.name);
        CHECK_OK(ff_st_read_f32(f, name, t.ndim, t.shape, gref + t.offset));
    }
    for (int l = 0; l < 3; l++) {
        char name[32];
        snprintf(name, sizeof name, "input.%d", l);
        const int64_t shape[4] = {n, chw[l][0], chw[l][1], chw[l][2]};
        feats[l] = malloc(sizeof(float) * (size_t)n * chw[l][0] * chw[l][1] * chw[l][2]);
        CHECK_OK(ff_st_read_f32(f, name, 4, shape, feats[l]));
    }
    ff_flow_engine *e = NULL;
    float loss = 0;
    CHECK_OK(ff_flow_engine_create(&L, 1, &e));
    if (e) {
        CHECK_OK(ff_flow_engine_forward(e, p, perms, (const float *const *)feats, n, NULL, NULL, &loss));
        CHECK_OK(ff_flow_engine_backward(e, p, perms, g));
        ff_adam_config cfg = {1e-3, 0.9, 0.999, 1e-8, 1e-5};
        ff_adam_step(&cfg, 1, p, g, m, v, np);
        /* Adam's first step moves each parameter by about lr * sign(grad), so
         * a gradient within float noise of zero may step either way: such
         * elements (|grad| < 1e-5 x the tensor's largest, per the reference) are
         * compared with the tolerance of one full step, the rest to 0.1% of
         * a step. */
        size_t ambiguous = 0, flipped = 0, bad = 0;
        double worst = 0;
        for (size_t k = 0; k < ff_flow_names_count(&L); k++) {
            ff_flow_tensor_name t;
            CHECK_OK(ff_flow_names_get(&L, k, &t));
            if (t.kind != FF_FLOW_NAME_PARAM) continue;
            double gmax = 0;
            for (size_t i = t.offset; i < t.offset + t.count; i++) gmax = fmax(gmax, fabs((double)gref[i]));
            for (size_t i = t.offset; i < t.offset + t.count; i++) {
                double d = fabs((double)p[i] - want[i]);
                if (fabs((double)gref[i]) < 1e-5 * gmax) {
                    ambiguous++;
                    if (d > 2.1e-3) bad++;
                    if (d > 1e-6 + 1e-6 * fabs((double)want[i])) flipped++;
                } else {
                    worst = fmax(worst, d / (1e-6 + 1e-6 * fabs((double)want[i])));
                    if (d > 1e-6 + 1e-6 * fabs((double)want[i])) bad++;
                }
            }
        }
        printf("%s: trainer step vs torch: %zu parameters, %zu with a near-zero gradient (%zu of them stepped the "
               "other way), the others within %.2f of the tolerance\n",
               file, np, ambiguous, flipped, worst);
        CHECK(bad == 0);
        CHECK(flipped <= np / 1000);
    }
    ff_flow_engine_destroy(e);
    for (int l = 0; l < 3; l++) free(feats[l]);
    free(p);
    free(g);
    free(want);
    free(m);
    free(v);
    free(gref);
    free(perms);
    ff_st_close(f);
}

static void test_float_to_double(void) {
    CHECK(ff_adam_float_to_double(1e-3f) == 1e-3);
    CHECK(ff_adam_float_to_double(1e-5f) == 1e-5);
    CHECK(ff_adam_float_to_double(0.5f) == 0.5);
    CHECK((float)ff_adam_float_to_double(3.14159274f) == 3.14159274f);
}

/* budget: FF_TRAINER_CACHE_MEMORY (0 = none) */
static ff_trainer *trainer_with_budget(const ff_flow *flow, int32_t batch, int64_t seed, int64_t budget) {
    ff_trainer *t = NULL;
    if (ff_trainer_create(flow, &t) != FF_OK) return NULL;
    if (budget) CHECK_OK(ff_trainer_set_i64(t, FF_TRAINER_CACHE_MEMORY, budget));
    ff_trainer_set_i32(t, FF_TRAINER_BATCH_SIZE, batch);
    ff_trainer_set_i64(t, FF_TRAINER_SEED, seed);
    if (ft_add_images(t, NIMG, 100) != FF_OK) {
        ff_trainer_destroy(t);
        return NULL;
    }
    return t;
}

static ff_trainer *trainer_with_images(const ff_flow *flow, int32_t batch, int64_t seed) {
    return trainer_with_budget(flow, batch, seed, 0);
}

static int64_t get(const ff_trainer *t, int32_t key) {
    int64_t v = -1;
    ff_trainer_get_i64(t, key, &v);
    return v;
}

static void test_settings(const ff_flow *flow) {
    ff_trainer *t = NULL;
    CHECK_STATUS(ff_trainer_create(NULL, &t), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_trainer_create(flow, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_OK(ff_trainer_create(flow, &t));
    if (!t) return;
    float f = 0;
    CHECK(get(t, FF_TRAINER_BATCH_SIZE) == 32);
    int32_t b = 0;
    CHECK_OK(ff_trainer_get_i32(t, FF_TRAINER_BATCH_SIZE, &b));
    CHECK(b == 32);
    CHECK_STATUS(ff_trainer_get_i32(t, FF_TRAINER_SEED, &b), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("is i64, not i32");
    CHECK(b == 32);
    CHECK_STATUS(ff_trainer_get_i32(t, FF_TRAINER_BATCH_SIZE, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_OK(ff_trainer_get_f32(t, FF_TRAINER_LEARNING_RATE, &f));
    CHECK(f == 1e-3f);
    CHECK_OK(ff_trainer_get_f32(t, FF_TRAINER_WEIGHT_DECAY, &f));
    CHECK(f == 1e-5f);
    CHECK(get(t, FF_TRAINER_NUM_IMAGES) == 0 && get(t, FF_TRAINER_STEPS) == 0 && get(t, FF_TRAINER_EPOCH) == 0);
    CHECK_STATUS(ff_trainer_set_i32(t, FF_TRAINER_BATCH_SIZE, 0), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("FF_TRAINER_BATCH_SIZE");
    CHECK_STATUS(ff_trainer_set_i32(t, FF_TRAINER_BATCH_SIZE, 4097), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_trainer_set_f32(t, FF_TRAINER_LEARNING_RATE, NAN), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("FF_TRAINER_LEARNING_RATE");
    CHECK_STATUS(ff_trainer_set_f32(t, FF_TRAINER_LEARNING_RATE, 0.0f), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_trainer_set_f32(t, FF_TRAINER_LEARNING_RATE, 1.5f), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_trainer_set_f32(t, FF_TRAINER_WEIGHT_DECAY, -1e-6f), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("FF_TRAINER_WEIGHT_DECAY");
    CHECK_STATUS(ff_trainer_set_f32(t, FF_TRAINER_BATCH_SIZE, 2.0f), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_trainer_set_i32(t, FF_TRAINER_STEPS, 2), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_trainer_set_i64(t, FF_TRAINER_EPOCH, 2), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_trainer_get_i64(t, 999, NULL), FF_E_INVALID_ARGUMENT);
    int64_t v = 77;
    CHECK_STATUS(ff_trainer_get_i64(t, 999, &v), FF_E_INVALID_ARGUMENT);
    CHECK(v == 77);
    CHECK(get(t, FF_TRAINER_BATCH_SIZE) == 32); /* failures changed nothing */
    CHECK_OK(ff_trainer_set_f32(t, FF_TRAINER_WEIGHT_DECAY, 0.0f));
    CHECK_STATUS(ff_trainer_run_batch(t, NULL), FF_E_STATE);
    CHECK_MSG("no training images");
    CHECK_STATUS(ff_trainer_run_epoch(t, NULL), FF_E_STATE);
    CHECK_STATUS(ff_trainer_add_image(t, NULL, 10, 10, 0, FF_PIXEL_RGB8), FF_E_INVALID_ARGUMENT);
    uint8_t px[12] = {0};
    CHECK_STATUS(ff_trainer_add_image(t, px, 2, 2, 0, 77), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_trainer_add_image_file(t, ft_path("missing.png")), FF_E_IO);
    CHECK_MSG("missing.png");
    CHECK(get(t, FF_TRAINER_NUM_IMAGES) == 0);
    ff_flow *snap = NULL;
    CHECK_STATUS(ff_trainer_snapshot(t, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_OK(ff_trainer_snapshot(t, &snap));
    if (snap) CHECK(memcmp(snap->params, flow->params, flow->layout.num_params * sizeof(float)) == 0);
    ff_flow_destroy(snap);
    ff_trainer_destroy(t);
    ff_trainer_destroy(NULL);
}

static void test_counters(const ff_flow *flow) {
    ff_trainer *t = trainer_with_images(flow, 4, 1);
    CHECK(t != NULL);
    if (!t) return;
    CHECK(get(t, FF_TRAINER_NUM_IMAGES) == NIMG);
    CHECK(get(t, FF_TRAINER_FEATURE_BYTES) == (int64_t)NIMG * 4 * (64 * 16 * 16 + 128 * 8 * 8 + 256 * 4 * 4));
    CHECK(get(t, FF_TRAINER_BATCHES_PER_EPOCH) == 2);
    float loss = NAN;
    CHECK_OK(ff_trainer_run_batch(t, &loss));
    CHECK(isfinite(loss));
    CHECK(get(t, FF_TRAINER_STEPS) == 1 && get(t, FF_TRAINER_BATCH_IN_EPOCH) == 1 && get(t, FF_TRAINER_EPOCH) == 0);
    /* mid-epoch: no new images, no batch size change */
    uint8_t *img = ft_image(7, 64, 64, 0);
    CHECK_STATUS(ff_trainer_add_image(t, img, 64, 64, 0, FF_PIXEL_RGB8), FF_E_STATE);
    CHECK_MSG("between epochs");
    CHECK_STATUS(ff_trainer_set_i32(t, FF_TRAINER_BATCH_SIZE, 3), FF_E_STATE);
    CHECK_STATUS(ff_trainer_set_i64(t, FF_TRAINER_SEED, 3), FF_E_STATE);
    CHECK_OK(ff_trainer_run_epoch(t, &loss)); /* the remaining batch */
    CHECK(isfinite(loss));
    CHECK(get(t, FF_TRAINER_STEPS) == 2 && get(t, FF_TRAINER_BATCH_IN_EPOCH) == 0 && get(t, FF_TRAINER_EPOCH) == 1);
    /* between epochs both are fine again */
    CHECK_OK(ff_trainer_add_image(t, img, 64, 64, 0, FF_PIXEL_RGB8));
    CHECK_OK(ff_trainer_set_i32(t, FF_TRAINER_BATCH_SIZE, 3));
    CHECK(get(t, FF_TRAINER_NUM_IMAGES) == NIMG + 1);
    CHECK(get(t, FF_TRAINER_BATCHES_PER_EPOCH) == 3);
    CHECK_OK(ff_trainer_run_epoch(t, &loss));
    CHECK(get(t, FF_TRAINER_STEPS) == 5 && get(t, FF_TRAINER_EPOCH) == 2);
    free(img);
    ff_trainer_destroy(t);
}

static void test_determinism_and_learning(const ff_flow *flow) {
    ff_trainer *a = trainer_with_images(flow, 4, 9), *b = trainer_with_images(flow, 4, 9),
               *c = trainer_with_images(flow, 4, 10);
    CHECK(a && b && c);
    if (!a || !b || !c) goto done;
    float first = 0, last = 0, lb = 0;
    for (int e = 0; e < 2; e++) {
        CHECK_OK(ff_trainer_run_epoch(a, e == 0 ? &first : &last));
        CHECK_OK(ff_trainer_run_epoch(b, &lb));
        CHECK_OK(ff_trainer_run_epoch(c, NULL));
    }
    CHECK(last == lb);
    ff_flow *sa = NULL, *sb = NULL, *sc = NULL;
    CHECK_OK(ff_trainer_snapshot(a, &sa));
    CHECK_OK(ff_trainer_snapshot(b, &sb));
    CHECK_OK(ff_trainer_snapshot(c, &sc));
    if (sa && sb && sc) {
        size_t n = flow->layout.num_params * sizeof(float);
        CHECK(memcmp(sa->params, sb->params, n) == 0);      /* same seed: identical */
        CHECK(memcmp(sa->params, sc->params, n) != 0);      /* other shuffling: different */
        CHECK(memcmp(sa->params, flow->params, n) != 0);    /* trained */
        CHECK(memcmp(sa->perms, flow->perms, flow->layout.num_perm * sizeof(int32_t)) == 0);
        CHECK(ff_flow_backbone(sa) == ff_flow_backbone(flow));
    }
    /* keep training a: the loss goes down on these few images */
    float loss = 0;
    for (int e = 0; e < 6; e++) CHECK_OK(ff_trainer_run_epoch(a, &loss));
    printf("mean batch loss: epoch 1 %.4f, epoch 2 %.4f, epoch 8 %.4f\n", (double)first, (double)last, (double)loss);
    CHECK(loss < first);
    CHECK(last < first);
    /* the snapshot taken earlier did not move */
    if (sa && sb) CHECK(memcmp(sa->params, sb->params, flow->layout.num_params * sizeof(float)) == 0);
    ff_flow_destroy(sa);
    ff_flow_destroy(sb);
    ff_flow_destroy(sc);
done:
    ff_trainer_destroy(a);
    ff_trainer_destroy(b);
    ff_trainer_destroy(c);
}

/* A cache budget moves features to the spill file, never changes them:
 * the trained parameters are bit-identical to the unbounded cache's. */
static void test_cache_budget(const ff_flow *flow) {
    const int64_t per = 4 * (64 * 16 * 16 + 128 * 8 * 8 + 256 * 4 * 4);
    ff_trainer *t[3] = {trainer_with_images(flow, 4, 5), trainer_with_budget(flow, 4, 5, 2 * per + per / 2),
                        trainer_with_budget(flow, 4, 5, 1)};
    CHECK(t[0] && t[1] && t[2]);
    if (!t[0] || !t[1] || !t[2]) goto done;
    CHECK(get(t[0], FF_TRAINER_CACHE_MEMORY) == 0 && get(t[1], FF_TRAINER_CACHE_MEMORY) == 2 * per + per / 2);
    CHECK(get(t[0], FF_TRAINER_FEATURE_BYTES_SPILLED) == 0);
    CHECK(get(t[1], FF_TRAINER_FEATURE_BYTES_SPILLED) == (NIMG - 2) * per); /* 2 images fit */
    CHECK(get(t[2], FF_TRAINER_FEATURE_BYTES_SPILLED) == NIMG * per);       /* none fits */
    for (int i = 0; i < 3; i++) CHECK(get(t[i], FF_TRAINER_FEATURE_BYTES) == NIMG * per);
    /* the budget is fixed once images are cached; it is a size */
    CHECK_STATUS(ff_trainer_set_i64(t[1], FF_TRAINER_CACHE_MEMORY, 0), FF_E_STATE);
    CHECK_MSG("before images are added");
    ff_trainer *fresh = NULL;
    CHECK_OK(ff_trainer_create(flow, &fresh));
    if (fresh) CHECK_STATUS(ff_trainer_set_i64(fresh, FF_TRAINER_CACHE_MEMORY, -1), FF_E_INVALID_ARGUMENT);
    ff_trainer_destroy(fresh);
    for (int i = 0; i < 3; i++) CHECK_OK(ff_trainer_run_epoch(t[i], NULL));
    ff_flow *s[3] = {0};
    for (int i = 0; i < 3; i++) CHECK_OK(ff_trainer_snapshot(t[i], &s[i]));
    if (s[0] && s[1] && s[2]) {
        size_t n = flow->layout.num_params * sizeof(float);
        CHECK(memcmp(s[0]->params, flow->params, n) != 0);
        CHECK(memcmp(s[0]->params, s[1]->params, n) == 0);
        CHECK(memcmp(s[0]->params, s[2]->params, n) == 0);
    }
    for (int i = 0; i < 3; i++) ff_flow_destroy(s[i]);
done:
    for (int i = 0; i < 3; i++) ff_trainer_destroy(t[i]);
}

static int same(const ff_flow *a, const float *params) {
    return a && memcmp(a->params, params, a->layout.num_params * sizeof(float)) == 0;
}

/* FF_TRAINER_EMA_DECAY: after every epoch the snapshot is the moving average
 * that the stopping study (tools/study/select_study.c) computes from the
 * raw parameters of a run without it, bit for bit, whether the epoch ended
 * in ff_trainer_run_batch or ff_trainer_run_epoch; the raw snapshot is that
 * run's parameters (the average does not change training); a decay set
 * back to 0 trains exactly as the default. */
static void test_ema(const ff_flow *flow) {
    const float decay = 0.6f;
    ff_trainer *a = trainer_with_images(flow, 4, 9), *raw = trainer_with_images(flow, 4, 9),
               *off = trainer_with_images(flow, 4, 9);
    const size_t np = flow->layout.num_params;
    float *want = malloc(np * sizeof *want);
    CHECK(a && raw && off && want);
    if (!a || !raw || !off || !want) goto done;
    float f = -1.0f;
    CHECK_OK(ff_trainer_get_f32(a, FF_TRAINER_EMA_DECAY, &f));
    CHECK(f == 0.0f);
    CHECK_STATUS(ff_trainer_set_f32(a, FF_TRAINER_EMA_DECAY, 0.9995f), FF_E_INVALID_ARGUMENT);
    CHECK_MSG("FF_TRAINER_EMA_DECAY");
    CHECK_STATUS(ff_trainer_set_f32(a, FF_TRAINER_EMA_DECAY, -0.1f), FF_E_INVALID_ARGUMENT);
    CHECK_OK(ff_trainer_set_f32(a, FF_TRAINER_EMA_DECAY, decay));
    CHECK_OK(ff_trainer_get_f32(a, FF_TRAINER_EMA_DECAY, &f));
    CHECK(f == decay);
    CHECK_OK(ff_trainer_set_f32(off, FF_TRAINER_EMA_DECAY, 0.9f));
    CHECK_OK(ff_trainer_set_f32(off, FF_TRAINER_EMA_DECAY, 0.0f));
    ff_flow *s = NULL;
    CHECK_STATUS(ff_trainer_snapshot_raw(a, NULL), FF_E_INVALID_ARGUMENT);
    CHECK_STATUS(ff_trainer_snapshot_raw(NULL, &s), FF_E_INVALID_ARGUMENT);
    /* before the first epoch completes: the parameters */
    CHECK_OK(ff_trainer_snapshot(a, &s));
    CHECK(same(s, flow->params));
    ff_flow_destroy(s);
    CHECK_OK(ff_trainer_run_batch(a, NULL));
    CHECK_OK(ff_trainer_run_batch(raw, NULL));
    CHECK_OK(ff_trainer_run_batch(off, NULL));
    CHECK_STATUS(ff_trainer_set_f32(a, FF_TRAINER_EMA_DECAY, 0.5f), FF_E_STATE);
    CHECK_MSG("before training starts");
    CHECK_OK(ff_trainer_get_f32(a, FF_TRAINER_EMA_DECAY, &f));
    CHECK(f == decay);
    ff_flow *r = NULL;
    CHECK_OK(ff_trainer_snapshot(raw, &r));
    CHECK_OK(ff_trainer_snapshot(a, &s));
    CHECK(r && same(s, r->params));
    ff_flow_destroy(s);
    ff_flow_destroy(r);
    for (int e = 1; e <= 3; e++) {
        if (e == 2) { /* this epoch ends in run_batch */
            while (get(a, FF_TRAINER_EPOCH) < e) CHECK_OK(ff_trainer_run_batch(a, NULL));
        } else {
            CHECK_OK(ff_trainer_run_epoch(a, NULL));
        }
        CHECK_OK(ff_trainer_run_epoch(raw, NULL));
        CHECK_OK(ff_trainer_run_epoch(off, NULL));
        CHECK(get(a, FF_TRAINER_EPOCH) == e);
        r = NULL;
        CHECK_OK(ff_trainer_snapshot(raw, &r));
        if (!r) break;
        /* the study's expression (select_study.c), decay 0.6 */
        for (size_t k = 0; k < np; k++)
            want[k] = e == 1 ? r->params[k] : decay * want[k] + (1.0f - decay) * r->params[k];
        ff_flow *avg = NULL, *cur = NULL, *o = NULL;
        CHECK_OK(ff_trainer_snapshot(a, &avg));
        CHECK_OK(ff_trainer_snapshot_raw(a, &cur));
        CHECK_OK(ff_trainer_snapshot(off, &o));
        CHECK(same(avg, want));
        CHECK(same(cur, r->params));
        CHECK(same(o, r->params));
        if (e >= 2) CHECK(!same(avg, r->params));
        if (avg && cur) CHECK(memcmp(avg->perms, cur->perms, flow->layout.num_perm * sizeof(int32_t)) == 0);
        printf("EMA 0.6 after epoch %d: %s the study's average of a twin run's parameters\n", e,
               same(avg, want) ? "bit-identical to" : "DIFFERENT from");
        ff_flow_destroy(avg);
        ff_flow_destroy(cur);
        ff_flow_destroy(o);
        ff_flow_destroy(r);
    }
done:
    free(want);
    ff_trainer_destroy(a);
    ff_trainer_destroy(raw);
    ff_trainer_destroy(off);
}

static void test_nan(const ff_backbone *bb) {
    ff_flow *f = ft_flow(bb, SIZE, STEPS, 1, 3);
    if (!f) return;
    f->params[f->layout.level[1].step[0].global_offset] = NAN; /* test-only: poison before training */
    ff_trainer *t = trainer_with_images(f, 4, 0);
    CHECK(t != NULL);
    if (t) {
        float loss = 123.0f;
        CHECK_STATUS(ff_trainer_run_batch(t, &loss), FF_E_NUMERIC);
        CHECK_MSG("parameters unchanged");
        CHECK(loss == 123.0f);
        CHECK(get(t, FF_TRAINER_STEPS) == 0 && get(t, FF_TRAINER_BATCH_IN_EPOCH) == 0);
        ff_flow *s = NULL;
        CHECK_OK(ff_trainer_snapshot(t, &s));
        if (s) CHECK(memcmp(s->params, f->params, f->layout.num_params * sizeof(float)) == 0);
        ff_flow_destroy(s);
        /* the failed first batch left no epoch under way: settings and images can still change */
        CHECK_OK(ff_trainer_set_i32(t, FF_TRAINER_BATCH_SIZE, 2));
        CHECK(get(t, FF_TRAINER_BATCHES_PER_EPOCH) == (NIMG + 1) / 2);
        uint8_t *img = ft_image(99, SIZE, SIZE, 0);
        if (img) CHECK_OK(ff_trainer_add_image(t, img, SIZE, SIZE, 0, FF_PIXEL_RGB8));
        free(img);
        CHECK(get(t, FF_TRAINER_NUM_IMAGES) == NIMG + 1 && get(t, FF_TRAINER_EPOCH) == 0);
    }
    ff_trainer_destroy(t);
    ff_flow_destroy(f);
}

int main(void) {
    test_float_to_double();
    test_adam_golden();
    test_step_golden("flow_3x3.safetensors");
    test_step_golden("flow_alt.safetensors");
    ff_backbone *bb = ft_backbone(43);
    ff_flow *flow = bb ? ft_flow(bb, SIZE, STEPS, 1, 1) : NULL;
    CHECK(flow != NULL);
    if (flow) {
        test_settings(flow);
        test_counters(flow);
        test_determinism_and_learning(flow);
        test_cache_budget(flow);
        test_ema(flow);
        test_nan(bb);
    }
    ff_flow_destroy(flow);
    ff_backbone_destroy(bb);
    return ff_test_finish();
}
