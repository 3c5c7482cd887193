/* Finding the tensor-name prefix of a model inside a safetensors file
 * (e.g. "feature_extractor." in anomalib checkpoints, "model." in others):
 * the backbone loaders look for the model's stem tensor at the end of
 * every name. */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "tensor/safetensors.h"

/* Does prefix (plen bytes of name) + companion name a tensor? */
static int has_companion(const ff_st_file *f, const char *name, size_t plen, const char *companion) {
    char full[FF_ST_NAME_CAP];
    if ((size_t)snprintf(full, sizeof full, "%.*s%s", (int)plen, name, companion) >= sizeof full) return 0;
    return ff_st_find(f, full) != NULL;
}

ff_status ff_st_detect_prefix(const ff_st_file *f, const char *stem, const char *companion, const char *what,
                              char *out, size_t cap) {
    const size_t stem_len = strlen(stem);
    int found = 0;
    for (size_t i = 0; i < ff_st_count(f); i++) {
        const char *name = ff_st_at(f, i)->name;
        const size_t len = strlen(name);
        if (len < stem_len || strcmp(name + len - stem_len, stem) != 0) continue;
        const size_t plen = len - stem_len;
        if (plen >= cap) continue;
        if (companion && !has_companion(f, name, plen, companion)) continue;
        if (found && (strlen(out) != plen || memcmp(out, name, plen) != 0))
            return ff_fail(FF_E_BAD_FORMAT,
                           "the file holds several %s models (tensor name prefixes '%s' and '%.*s'); keep one model "
                           "per file",
                           what, out, (int)plen, name);
        memcpy(out, name, plen);
        out[plen] = '\0';
        found = 1;
    }
    if (!found) {
        if (companion)
            return ff_fail(FF_E_BAD_FORMAT,
                           "no %s weights found: no tensor named '%s' beside '%s' (with or without a prefix)", what,
                           stem, companion);
        return ff_fail(FF_E_BAD_FORMAT, "no %s weights found: no tensor named '%s' (with or without a prefix)", what,
                       stem);
    }
    return FF_OK;
}
