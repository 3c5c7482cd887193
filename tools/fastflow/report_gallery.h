/* The order of the report's gallery: the worst errors first, so that a
 * quality engineer sees what the model gets wrong before what it gets
 * right. At the threshold t an image is flagged when score >= t. */
#ifndef FF_CLI_REPORT_GALLERY_H
#define FF_CLI_REPORT_GALLERY_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    GALLERY_MISSED = 0,      /* defect image scored below t (false negative) */
    GALLERY_FALSE_ALARM = 1, /* good image flagged (false positive) */
    GALLERY_DETECTED = 2,    /* defect image flagged */
    GALLERY_PASSED = 3       /* good image not flagged */
} gallery_kind;

/* The kind of an image at threshold t. */
gallery_kind gallery_classify(float score, uint8_t label, float t);

/* Fills order[0..n) with image indices: missed defects (lowest score, the
 * worst miss, first), then false alarms (highest score first), then every
 * other image by descending score; equal scores keep index order, so the
 * order is reproducible. Returns 0, or -1 when out of memory. */
int gallery_order(const float *scores, const uint8_t *labels, size_t n, float t, size_t *order);

#endif
