/* Image- and pixel-level ranking metrics over (score, label) pairs: AUROC
 * and the F1-optimal threshold.
 *
 * Both only need, for every distinct score, how many anomalous and how many
 * normal samples carry it. So the scores are split by class into one buffer
 * (anomalous keys first, normal keys after), each part is radix-sorted, and
 * a merge walk over the two sorted runs visits the distinct scores in
 * order. Counts are integers, so the statistics are exact until the final
 * division. The ROC curve for plots (curves.h) takes the same walk. */
#include <math.h>
#include <stdint.h>

#include "core/error.h"
#include "core/memory.h"
#include "eval/curves.h"
#include "eval/radix_sort.h"

/* Scores of each class as sorted float keys. */
typedef struct class_keys {
    uint32_t *mem;       /* 2n keys: data and radix scratch */
    const uint32_t *pos; /* ascending keys of label 1 */
    const uint32_t *neg; /* ascending keys of label 0 */
    uint64_t npos, nneg;
} class_keys;

/* Shared argument checks: sizes, labels 0/1, finite scores. */
static ff_status check_inputs(const char *fn, const float *scores, const uint8_t *labels,
                              uint64_t n, uint64_t *npos_out) {
    FF_CHECK_ARG(scores != NULL, "%s: scores is NULL", fn);
    FF_CHECK_ARG(labels != NULL, "%s: labels is NULL", fn);
    FF_CHECK_ARG(n > 0, "%s: n is 0 (no samples)", fn);
    FF_CHECK_ARG(n <= UINT32_MAX, "%s: n = %llu exceeds 2^32-1 samples", fn,
                 (unsigned long long)n);
    uint64_t npos = 0;
    for (uint64_t i = 0; i < n; i++) {
        if (labels[i] > 1)
            return ff_fail(FF_E_INVALID_ARGUMENT, "%s: labels[%llu] = %u; labels must be 0 or 1",
                           fn, (unsigned long long)i, (unsigned)labels[i]);
        if (!isfinite(scores[i]))
            return ff_fail(FF_E_INVALID_ARGUMENT, "%s: scores[%llu] = %g is not finite", fn,
                           (unsigned long long)i, (double)scores[i]);
        npos += labels[i];
    }
    *npos_out = npos;
    return FF_OK;
}

static ff_status sort_by_class(const char *fn, const float *scores, const uint8_t *labels,
                               uint64_t n, uint64_t npos, class_keys *out) {
    size_t count = (size_t)n, bytes;
    if (!ff_mul_size(count, 2 * sizeof(uint32_t), &bytes))
        return ff_fail(FF_E_OUT_OF_MEMORY, "%s: size overflow for %zu samples", fn, count);
    uint32_t *mem = ff_alloc(bytes);
    if (!mem) return ff_fail(FF_E_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes", fn, bytes);
    uint32_t *keys = mem, *tmp = mem + count;
    size_t ip = 0, in = (size_t)npos;
    for (size_t i = 0; i < count; i++) {
        uint32_t k = ff_float_key(scores[i]);
        if (labels[i]) keys[ip++] = k;
        else keys[in++] = k;
    }
    out->mem = mem;
    out->npos = npos;
    out->nneg = n - npos;
    out->pos = ff_radix_sort_u32(keys, tmp, (size_t)npos);
    out->neg = ff_radix_sort_u32(keys + npos, tmp + npos, (size_t)(n - npos));
    return FF_OK;
}

/* One step of the walk over the distinct scores from the highest down:
 * moves *i and *j (counts of keys not yet passed) below the next distinct
 * key, adding the samples passed to *tp and *fp; returns that key. */
static uint32_t step_down(const class_keys *ck, uint64_t *i, uint64_t *j, uint64_t *tp, uint64_t *fp) {
    uint32_t k;
    if (*i == 0) k = ck->neg[*j - 1];
    else if (*j == 0) k = ck->pos[*i - 1];
    else k = ck->pos[*i - 1] > ck->neg[*j - 1] ? ck->pos[*i - 1] : ck->neg[*j - 1];
    while (*i > 0 && ck->pos[*i - 1] == k) (*i)--, (*tp)++;
    while (*j > 0 && ck->neg[*j - 1] == k) (*j)--, (*fp)++;
    return k;
}

FF_API ff_status ff_metric_auroc(const float *scores, const uint8_t *labels, uint64_t n,
                                 double *auroc_out) {
    static const char fn[] = "ff_metric_auroc";
    ff_clear_error();
    FF_CHECK_ARG(auroc_out != NULL, "%s: auroc_out is NULL", fn);
    uint64_t npos;
    FF_TRY(check_inputs(fn, scores, labels, n, &npos));
    if (npos == 0 || npos == n)
        return ff_fail(FF_E_INVALID_ARGUMENT,
                       "%s: only one class present (%llu anomalous, %llu normal samples); "
                       "AUROC needs both",
                       fn, (unsigned long long)npos, (unsigned long long)(n - npos));
    class_keys ck;
    FF_TRY(sort_by_class(fn, scores, labels, n, npos, &ck));

    /* Twice the Mann-Whitney U: each anomalous sample counts 2 per normal
     * sample scored strictly below it and 1 per normal sample tied with it.
     * At most 2 * npos * nneg <= n^2 / 2 < 2^63, so uint64 is exact. */
    uint64_t u2 = 0, below = 0, j = 0;
    for (uint64_t i = 0; i < ck.npos;) {
        uint32_t k = ck.pos[i];
        uint64_t group = 0;
        while (i < ck.npos && ck.pos[i] == k) i++, group++;
        while (j < ck.nneg && ck.neg[j] < k) j++, below++;
        uint64_t tied = 0;
        while (j < ck.nneg && ck.neg[j] == k) j++, tied++;
        u2 += group * (2 * below + tied);
        below += tied;
    }
    ff_free(ck.mem);
    *auroc_out = (double)u2 / (2.0 * (double)ck.npos * (double)ck.nneg);
    return FF_OK;
}

FF_API ff_status ff_metric_f1_optimal(const float *scores, const uint8_t *labels, uint64_t n,
                                      double *f1_out, float *threshold_out) {
    static const char fn[] = "ff_metric_f1_optimal";
    ff_clear_error();
    uint64_t npos;
    FF_TRY(check_inputs(fn, scores, labels, n, &npos));
    if (npos == 0)
        return ff_fail(FF_E_INVALID_ARGUMENT,
                       "%s: no anomalous sample (all %llu labels are 0); F1 needs at least one",
                       fn, (unsigned long long)n);
    class_keys ck;
    FF_TRY(sort_by_class(fn, scores, labels, n, npos, &ck));

    /* Thresholds from the highest score down; at each distinct score t the
     * samples >= t are predicted anomalous. F1 = 2TP / (TP + FP + P) is one
     * correctly rounded division of exact integers, so thresholds with
     * mathematically equal F1 tie exactly, and ">=" keeps the lowest one,
     * as argmax over sklearn's increasing thresholds does. */
    uint64_t i = ck.npos, j = ck.nneg, tp = 0, fp = 0;
    double best = -1.0;
    uint32_t best_key = 0;
    while (i > 0 || j > 0) {
        uint32_t k = step_down(&ck, &i, &j, &tp, &fp);
        double f1 = (2.0 * (double)tp) / ((double)tp + (double)fp + (double)npos);
        if (f1 >= best) {
            best = f1;
            best_key = k;
        }
    }
    ff_free(ck.mem);
    if (f1_out) *f1_out = best;
    if (threshold_out) *threshold_out = ff_key_float(best_key);
    return FF_OK;
}

ff_status ff_roc_curve(const float *scores, const uint8_t *labels, uint64_t n, ff_curve *out) {
    static const char fn[] = "ff_roc_curve";
    FF_CHECK_ARG(out != NULL, "%s: out is NULL", fn);
    uint64_t npos;
    FF_TRY(check_inputs(fn, scores, labels, n, &npos));
    if (npos == 0 || npos == n)
        return ff_fail(FF_E_INVALID_ARGUMENT, "%s: only one class present; a ROC curve needs both", fn);
    class_keys ck;
    FF_TRY(sort_by_class(fn, scores, labels, n, npos, &ck));
    uint64_t i = ck.npos, j = ck.nneg, tp = 0, fp = 0;
    ff_status st = ff_curve_add(out, 0.0, 0.0, 1);
    while (st == FF_OK && (i > 0 || j > 0)) {
        step_down(&ck, &i, &j, &tp, &fp);
        st = ff_curve_add(out, (double)fp / (double)ck.nneg, (double)tp / (double)ck.npos, i == 0 && j == 0);
    }
    ff_free(ck.mem);
    if (st != FF_OK) ff_curve_free(out);
    return st;
}
