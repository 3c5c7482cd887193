/* A flow's training record: free text (by convention one JSON object) that
 * says how its parameters were trained, e.g. the epoch a stopping
 * criterion chose and the criterion's value after every epoch. Carried by
 * the flow, saved in the model file's "training" metadata, read back on
 * load. Like the statistics it is part of a flow from its construction,
 * so flows stay immutable. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "flow/flow_internal.h"

static ff_status check_text(const char *text) {
    size_t len = strlen(text);
    if (len == 0 || len > FF_TRAINING_RECORD_MAX)
        return ff_fail(FF_E_INVALID_ARGUMENT, "a training record has 1 to %d bytes, got %zu",
                       FF_TRAINING_RECORD_MAX, len);
    for (size_t i = 0; i < len; i++)
        if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] >= 0x7f)
            return ff_fail(FF_E_INVALID_ARGUMENT,
                           "a training record is printable ASCII; byte %zu is 0x%02x", i, (unsigned char)text[i]);
    return FF_OK;
}

/* Sets the record of a flow under construction (text NULL: none). */
ff_status ff_flow_set_training_record(ff_flow *flow, const char *text) {
    if (text == NULL) return FF_OK;
    FF_TRY(check_text(text));
    char *copy = strdup(text);
    if (copy == NULL) return ff_fail(FF_E_OUT_OF_MEMORY, "cannot copy the training record");
    free(flow->training_record);
    flow->training_record = copy;
    return FF_OK;
}

ff_status ff_flow_copy_training_record(const ff_flow *src, ff_flow *dst) {
    return ff_flow_set_training_record(dst, src->training_record);
}

ff_status ff_flow_with_training_record(const ff_flow *flow, const char *text, ff_flow **out) {
    ff_clear_error();
    FF_CHECK_ARG(flow != NULL, "flow is NULL");
    FF_CHECK_ARG(out != NULL, "out is NULL");
    if (text) FF_TRY(check_text(text));
    ff_flow *f = NULL;
    FF_TRY(ff_flow_alloc(flow->backbone, &flow->layout, flow->seed, &f));
    memcpy(f->params, flow->params, flow->layout.num_params * sizeof(float));
    memcpy(f->perms, flow->perms, flow->layout.num_perm * sizeof(int32_t));
    f->has_stats = flow->has_stats;
    memcpy(f->stats, flow->stats, sizeof f->stats);
    memcpy(f->stats_source, flow->stats_source, sizeof f->stats_source);
    ff_status st = ff_flow_set_training_record(f, text);
    if (st != FF_OK) {
        ff_flow_destroy(f);
        return st;
    }
    *out = f;
    return FF_OK;
}

ff_status ff_flow_get_training_record(const ff_flow *flow, char *buffer, size_t capacity, size_t *length_out) {
    ff_clear_error();
    FF_CHECK_ARG(flow != NULL, "flow is NULL");
    FF_CHECK_ARG(buffer != NULL || capacity == 0, "buffer is NULL with capacity %zu", capacity);
    if (flow->training_record == NULL) return ff_fail(FF_E_STATE, "the flow has no training record");
    size_t len = strlen(flow->training_record);
    if (length_out) *length_out = len;
    if (capacity < len + 1)
        return ff_fail(FF_E_BUFFER_TOO_SMALL, "the training record needs %zu bytes with its NUL, capacity %zu",
                       len + 1, capacity);
    memcpy(buffer, flow->training_record, len + 1);
    return FF_OK;
}
