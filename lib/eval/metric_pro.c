/* AUPRO, the per-region-overlap metric of the MVTec AD protocol, following
 * the official evaluation code (compute_pro + trapezoid with x_max):
 *
 *  - regions: 8-connected components of each ground-truth mask;
 *  - every normal pixel adds 1/num_normal to the FPR when the threshold
 *    passes its score, every pixel of region r adds 1/(|r| * num_regions)
 *    to the PRO; all pixels are sorted once by score, descending, and the
 *    running sums are read at the end of each run of equal scores;
 *  - the curve (0,0), points, (1,1) is integrated up to max_fpr with the
 *    trapezoid rule, y linearly interpolated at the cut-off, and the area
 *    divided by max_fpr.
 *
 * One difference, deliberate: the official code stores the FPR as float32;
 * here it stays double (a count divided by a count), which moves AUPRO by
 * about 1e-8 at most. Each pixel is sorted as one uint64: the score's key in
 * the upper half, its global region number (0 = normal) in the lower. */
#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/memory.h"
#include "eval/components.h"
#include "eval/curves.h"
#include "eval/radix_sort.h"

/* Per-region weights (1/size), grown as the images are labelled. */
typedef struct region_table {
    double *size; /* index 0 unused (normal pixels) */
    size_t count, capacity;
} region_table;

static ff_status regions_reserve(region_table *t, size_t needed) {
    if (needed <= t->capacity) return FF_OK;
    size_t cap = t->capacity ? t->capacity : 64;
    while (cap < needed) cap *= 2;
    double *p = realloc(t->size, cap * sizeof *p);
    if (!p) return ff_fail(FF_E_OUT_OF_MEMORY, "ff_metric_pro: cannot grow the region table");
    t->size = p;
    t->capacity = cap;
    return FF_OK;
}

static ff_status check_pro_args(const float *maps, const uint8_t *masks, int32_t num_images,
                                int32_t width, int32_t height, double max_fpr,
                                const double *aupro_out, size_t *total_out) {
    static const char fn[] = "ff_metric_pro";
    FF_CHECK_ARG(maps != NULL, "%s: maps is NULL", fn);
    FF_CHECK_ARG(masks != NULL, "%s: masks is NULL", fn);
    FF_CHECK_ARG(aupro_out != NULL, "%s: aupro_out is NULL", fn);
    FF_CHECK_ARG(num_images > 0 && height > 0 && width > 0,
                 "%s: num_images, height and width must be positive (got %d, %d, %d)", fn,
                 (int)num_images, (int)height, (int)width);
    FF_CHECK_ARG(max_fpr > 0.0 && max_fpr <= 1.0, "%s: max_fpr = %g must be in (0, 1]", fn,
                 max_fpr); /* also rejects NaN */
    uint64_t total = (uint64_t)num_images * (uint64_t)height * (uint64_t)width;
    FF_CHECK_ARG(total <= UINT32_MAX && total <= SIZE_MAX / (2 * sizeof(uint64_t)),
                 "%s: %d images of %dx%d exceed 2^32-1 pixels", fn, (int)num_images,
                 (int)height, (int)width);
    for (uint64_t i = 0; i < total; i++) {
        if (masks[i] > 1)
            return ff_fail(FF_E_INVALID_ARGUMENT,
                           "%s: masks[%llu] = %u (image %llu); mask pixels must be 0 or 1", fn,
                           (unsigned long long)i, (unsigned)masks[i],
                           (unsigned long long)(i / ((uint64_t)height * (uint64_t)width)));
        if (!isfinite(maps[i]))
            return ff_fail(FF_E_INVALID_ARGUMENT, "%s: maps[%llu] = %g (image %llu) is not finite",
                           fn, (unsigned long long)i, (double)maps[i],
                           (unsigned long long)(i / ((uint64_t)height * (uint64_t)width)));
    }
    *total_out = (size_t)total;
    return FF_OK;
}

/* Fills items with (score key, region) and the region sizes; counts normal
 * pixels. */
static ff_status build_items(const float *maps, const uint8_t *masks, int32_t num_images,
                             size_t plane, uint64_t *items, uint32_t *labels, uint32_t *stack,
                             int32_t width, int32_t height, region_table *regions,
                             uint64_t *normal_out) {
    uint64_t normal = 0;
    regions->count = 1;
    FF_TRY(regions_reserve(regions, 1));
    regions->size[0] = 0.0;
    for (int32_t img = 0; img < num_images; img++) {
        const uint8_t *mask = masks + (size_t)img * plane;
        const float *map = maps + (size_t)img * plane;
        uint64_t *out = items + (size_t)img * plane;
        uint32_t found = ff_label_components8(mask, width, height, labels, stack);
        size_t base = regions->count - 1;
        if ((uint64_t)base + found >= UINT32_MAX)
            return ff_fail(FF_E_INVALID_ARGUMENT, "ff_metric_pro: too many regions");
        FF_TRY(regions_reserve(regions, base + found + 1));
        for (size_t r = 1; r <= found; r++) regions->size[base + r] = 0.0;
        regions->count = base + found + 1;
        for (size_t p = 0; p < plane; p++) {
            uint64_t region = labels[p] ? base + labels[p] : 0;
            if (region) regions->size[region] += 1.0;
            else normal++;
            out[p] = ((uint64_t)ff_float_key(map[p]) << 32) | region;
        }
    }
    *normal_out = normal;
    return FF_OK;
}

/* Walks the thresholds from the highest score down and integrates the PRO
 * curve up to max_fpr. `weight` is 1/|region|, already including 1/R.
 * With `curve`, also records the points integrated over (curves.h); the
 * arithmetic is the same either way. */
static ff_status integrate_pro(const uint64_t *sorted, size_t n, const double *weight, uint64_t normal,
                               double max_fpr, ff_curve *curve, double *area_out) {
    double x0 = 0.0, y0 = 0.0, area = 0.0, pro = 0.0;
    uint64_t fp = 0;
    size_t i = n;
    ff_status st = curve ? ff_curve_add(curve, 0.0, 0.0, 1) : FF_OK;
    for (int closing = 0; st == FF_OK;) {
        double x, y;
        if (i > 0) {
            uint32_t key = (uint32_t)(sorted[i - 1] >> 32);
            while (i > 0 && (uint32_t)(sorted[i - 1] >> 32) == key) {
                uint32_t region = (uint32_t)sorted[i - 1];
                if (region) pro += weight[region];
                else fp++;
                i--;
            }
            x = (double)fp / (double)normal;
            y = pro < 1.0 ? pro : 1.0; /* the official clip against rounding */
        } else {
            x = 1.0; /* the curve's closing point */
            y = 1.0;
            closing = 1;
        }
        if (x <= max_fpr) {
            area += 0.5 * (y + y0) * (x - x0);
            x0 = x;
            y0 = y;
            if (curve) st = ff_curve_add(curve, x, y, closing);
            if (closing) break;
        } else {
            double yi = y0 + (y - y0) * (max_fpr - x0) / (x - x0);
            area += 0.5 * (yi + y0) * (max_fpr - x0);
            if (curve) st = ff_curve_add(curve, max_fpr, yi, 1);
            break;
        }
    }
    *area_out = area / max_fpr;
    return st;
}

/* ff_metric_pro and ff_pro_curve: the area, and the curve when asked. */
static ff_status pro_run(const float *maps, const uint8_t *masks, int32_t num_images, int32_t width,
                         int32_t height, double max_fpr, ff_curve *curve, double *aupro_out) {
    size_t total = 0;
    FF_TRY(check_pro_args(maps, masks, num_images, width, height, max_fpr, aupro_out, &total));
    size_t plane = (size_t)height * (size_t)width;

    uint64_t *items = ff_alloc(total * 2 * sizeof(uint64_t));
    uint32_t *labels = ff_alloc(plane * 2 * sizeof(uint32_t));
    region_table regions = {NULL, 0, 0};
    ff_status st = FF_OK;
    if (!items || !labels) {
        st = ff_fail(FF_E_OUT_OF_MEMORY, "ff_metric_pro: cannot allocate %zu bytes for %zu pixels",
                     total * 2 * sizeof(uint64_t), total);
        goto done;
    }
    uint64_t normal = 0;
    st = build_items(maps, masks, num_images, plane, items, labels, labels + plane, width, height,
                     &regions, &normal);
    if (st != FF_OK) goto done;
    size_t num_regions = regions.count - 1;
    if (num_regions == 0) {
        st = ff_fail(FF_E_INVALID_ARGUMENT,
                     "ff_metric_pro: the masks hold no anomalous region (every pixel is 0)");
        goto done;
    }
    if (normal == 0) {
        st = ff_fail(FF_E_INVALID_ARGUMENT,
                     "ff_metric_pro: the masks hold no normal pixel (every pixel is 1)");
        goto done;
    }
    /* weight = 1 / (|r| R): the official code divides the cumulative sum of
     * 1/|r| by R; folding R in first differs by rounding only. */
    for (size_t r = 1; r <= num_regions; r++)
        regions.size[r] = 1.0 / (regions.size[r] * (double)num_regions);
    const uint64_t *sorted = ff_radix_sort_u64_hi(items, items + total, total);
    double area = 0.0;
    st = integrate_pro(sorted, total, regions.size, normal, max_fpr, curve, &area);
    if (st == FF_OK) *aupro_out = area;
done:
    ff_free(items);
    ff_free(labels);
    free(regions.size);
    return st;
}

FF_API ff_status ff_metric_pro(const float *maps, const uint8_t *masks, int32_t num_images,
                               int32_t width, int32_t height, double max_fpr, double *aupro_out) {
    ff_clear_error();
    return pro_run(maps, masks, num_images, width, height, max_fpr, NULL, aupro_out);
}

ff_status ff_pro_curve(const float *maps, const uint8_t *masks, int32_t num_images, int32_t width,
                       int32_t height, double max_fpr, ff_curve *out, double *aupro_out) {
    ff_status st = pro_run(maps, masks, num_images, width, height, max_fpr, out, aupro_out);
    if (st != FF_OK && out) ff_curve_free(out);
    return st;
}
