#include "report_gallery.h"

#include <stdbool.h>
#include <stdlib.h>

gallery_kind gallery_classify(float score, uint8_t label, float t) {
    bool flagged = score >= t;
    if (label) return flagged ? GALLERY_DETECTED : GALLERY_MISSED;
    return flagged ? GALLERY_FALSE_ALARM : GALLERY_PASSED;
}

typedef struct {
    int group;   /* 0 missed, 1 false alarm, 2 the rest */
    float key;   /* ascending within the group */
    size_t index;
} entry;

static int compare(const void *a, const void *b) {
    const entry *x = a, *y = b;
    if (x->group != y->group) return x->group < y->group ? -1 : 1;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    return x->index < y->index ? -1 : x->index > y->index;
}

int gallery_order(const float *scores, const uint8_t *labels, size_t n, float t, size_t *order) {
    entry *e = malloc((n ? n : 1) * sizeof *e);
    if (!e) return -1;
    for (size_t i = 0; i < n; i++) {
        gallery_kind k = gallery_classify(scores[i], labels[i], t);
        e[i].group = k == GALLERY_MISSED ? 0 : k == GALLERY_FALSE_ALARM ? 1 : 2;
        /* a missed defect is worse the lower it scored; everything else
         * goes by descending score */
        e[i].key = k == GALLERY_MISSED ? scores[i] : -scores[i];
        e[i].index = i;
    }
    qsort(e, n, sizeof *e, compare);
    for (size_t i = 0; i < n; i++) order[i] = e[i].index;
    free(e);
    return 0;
}
