/* The flow's vectorisable exp/tanh (lib/flow/flow_math.h) on hostile
 * inputs (issue 12 item 5): NaN, +-Inf, huge and tiny values must be
 * defined behaviour (UBSan flagged a NaN cast to int and a negative shift
 * when training diverged; the sanitizer run of the fast suite covers this
 * test), NaN must stay NaN so the caller reports the numeric error, and
 * finite inputs must give the same bits as before the guard (the previous
 * code is kept here as the reference, for inputs where it was defined).
 * Then a diverged training run through the C API (test_divergent_training). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "flow/flow_math.h"
#include "flow/flow_internal.h"
#include "flow_testlib.h"
#include "test_util.h"

/* ff_expf_v before the NaN guard (defined for non-NaN inputs). */
static float old_expf_v(float x) {
    x = x < -87.0f ? -87.0f : x;
    x = x > 88.0f ? 88.0f : x;
    float t = x * 1.44269504088896341f;
    float fx = (t + 12582912.0f) - 12582912.0f;
    float r = x - fx * 0.693359375f;
    r = r - fx * -2.12194440e-4f;
    float z = r * r;
    float y = 1.9875691500e-4f;
    y = y * r + 1.3981999507e-3f;
    y = y * r + 8.3334519073e-3f;
    y = y * r + 4.1665795894e-2f;
    y = y * r + 1.6666665459e-1f;
    y = y * r + 5.0000001201e-1f;
    y = y * z + r + 1.0f;
    int32_t bits = ((int32_t)fx + 127) * (1 << 23);
    float scale;
    memcpy(&scale, &bits, sizeof scale);
    return y * scale;
}

static int same_bits(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }

static void test_special_values(void) {
    CHECK(isnan(ff_expf_v(NAN)));
    CHECK(isnan(ff_expf_v(-NAN)));
    CHECK(isnan(ff_tanhf_v(NAN)));
    CHECK(same_bits(ff_expf_v(INFINITY), ff_expf_v(88.0f)) && isfinite(ff_expf_v(INFINITY)));
    CHECK(same_bits(ff_expf_v(-INFINITY), ff_expf_v(-87.0f)) && ff_expf_v(-INFINITY) > 0.0f);
    /* tanh saturates at tanh(9) = 1 - 6e-8 in float */
    CHECK(ff_tanhf_v(INFINITY) == ff_tanhf_v(9.0f) && ff_tanhf_v(-INFINITY) == -ff_tanhf_v(9.0f));
    CHECK(ff_tanhf_v(9.0f) > 0.9999999f && ff_tanhf_v(9.0f) <= 1.0f);
    const float huge[] = {1e30f, -1e30f, FLT_MAX, -FLT_MAX, 3e9f, -3e9f};
    for (size_t i = 0; i < sizeof huge / sizeof *huge; i++) {
        float e = ff_expf_v(huge[i]);
        CHECK(isfinite(e) && e > 0.0f);
        float t = ff_tanhf_v(huge[i]);
        CHECK(t == (huge[i] > 0 ? ff_tanhf_v(9.0f) : -ff_tanhf_v(9.0f)));
    }
    const float tiny[] = {1e-30f, -1e-30f, 1e-45f, -1e-45f, FLT_MIN, 0.0f, -0.0f};
    for (size_t i = 0; i < sizeof tiny / sizeof *tiny; i++) {
        CHECK(ff_expf_v(tiny[i]) == 1.0f);
        CHECK(fabsf(ff_tanhf_v(tiny[i]) - tiny[i]) <= 1e-30f);
    }
}

static void test_finite_bits_unchanged(void) {
    int differ = 0, inaccurate = 0;
    for (int i = -2000000; i <= 2000000; i += 7) {
        float x = (float)i * 5e-5f; /* -100 .. 100 */
        float got = ff_expf_v(x);
        differ += !same_bits(got, old_expf_v(x));
        if (x > -80.0f && x < 80.0f) inaccurate += fabs((double)got - exp((double)x)) > 4e-7 * exp((double)x);
    }
    CHECK(differ == 0);
    CHECK(inaccurate == 0);
}

/* A diverged run: parameters so large that the subnet's convolutions
 * overflow to +-Inf and their sums to NaN, which then flows through the
 * coupling's tanh and exp (what lr 1, hidden ratio 16, batch 1 reaches
 * after some steps, here at once). Through the C API: every step fails
 * with FF_E_NUMERIC and leaves the parameters as they were. */
static void test_divergent_training(void) {
    ff_backbone *bb = ft_backbone(9);
    ff_flow *flow = bb ? ft_flow(bb, 32, 2, 1, 4) : NULL;
    CHECK(flow != NULL);
    if (!flow) return;
    for (size_t i = 0; i < flow->layout.num_params; i++) flow->params[i] *= 1e30f;
    ff_trainer *t = NULL;
    CHECK_OK(ff_trainer_create(flow, &t));
    CHECK_OK(ff_trainer_set_i32(t, FF_TRAINER_BATCH_SIZE, 1));
    CHECK_OK(ff_trainer_set_f32(t, FF_TRAINER_LEARNING_RATE, 1.0f));
    for (int i = 0; i < 2; i++) {
        uint8_t *img = ft_image(60 + (uint64_t)i, 32, 32, i == 1);
        CHECK_OK(ff_trainer_add_image(t, img, 32, 32, 0, FF_PIXEL_RGB8));
        free(img);
    }
    for (int step = 0; step < 3; step++) {
        float loss = 7.0f;
        CHECK_STATUS(ff_trainer_run_batch(t, &loss), FF_E_NUMERIC);
        CHECK_MSG("unchanged");
        CHECK_MSG("epoch 1, batch 1"); /* counted from 1, as the CLI's progress lines (item 7) */
        CHECK(loss == 7.0f);
    }
    int64_t steps = -1;
    CHECK_OK(ff_trainer_get_i64(t, FF_TRAINER_STEPS, &steps));
    CHECK(steps == 0);
    ff_flow *snap = NULL;
    CHECK_OK(ff_trainer_snapshot(t, &snap));
    if (snap) CHECK(memcmp(snap->params, flow->params, flow->layout.num_params * sizeof(float)) == 0);
    ff_flow_destroy(snap);
    /* scoring with such a flow reports the same error, never crashes */
    ff_scorer *sc = NULL;
    CHECK_OK(ff_scorer_create(flow, &sc));
    float *in = calloc(3 * 32 * 32, sizeof *in), score = 7.0f;
    CHECK_STATUS(ff_scorer_score_tensor(sc, in, 1, NULL, 0, &score, 1), FF_E_NUMERIC);
    free(in);
    ff_scorer_destroy(sc);
    ff_trainer_destroy(t);
    ff_flow_destroy(flow);
    ff_backbone_destroy(bb);
}

int main(void) {
    test_special_values();
    test_finite_bits_unchanged();
    test_divergent_training();
    return ff_test_finish();
}
