/* Detection of concurrent use of a working object (ff_extractor,
 * ff_scorer, ff_trainer). Such an object is for one thread at a time; a
 * second thread calling it while a call is under way would corrupt its
 * buffers. Each object carries an atomic flag: a call sets it on entry and
 * clears it on exit, and a call that finds it set fails at once with
 * FF_E_STATE, touching nothing. This costs one uncontended atomic exchange
 * per call, and it detects overlapping calls only: calls from several
 * threads that never overlap are allowed (the object may move between
 * threads), as documented. */
#ifndef FF_CORE_BUSY_H
#define FF_CORE_BUSY_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/error.h"

typedef atomic_int ff_busy;

/* Marks `b` busy, or fails with FF_E_STATE naming the object kind and what
 * to do instead (`advice`, e.g. "create one scorer per thread"). `b` may
 * be a member of an object passed as const (getters take the flag too):
 * the objects are always allocated mutable, so casting const away is
 * defined. */
static inline ff_status ff_busy_enter(const ff_busy *b, const char *kind, const char *advice) {
    if (atomic_exchange_explicit((ff_busy *)(uintptr_t)b, 1, memory_order_acquire) == 0) return FF_OK;
    return ff_fail(FF_E_STATE,
                   "this %s is in use by another thread (a call on it is under way); it is for one "
                   "thread at a time: %s",
                   kind, advice);
}

static inline void ff_busy_leave(const ff_busy *b) {
    atomic_store_explicit((ff_busy *)(uintptr_t)b, 0, memory_order_release);
}

/* In a public function, after its argument checks: runs `call` (an
 * expression giving an ff_status) with `b` marked busy and returns its
 * status, or fails as ff_busy_enter does. */
#define FF_BUSY_RETURN(b, kind, advice, call)                                                      \
    do {                                                                                           \
        FF_TRY(ff_busy_enter((b), (kind), (advice)));                                              \
        ff_status ff_busy_status_ = (call);                                                        \
        ff_busy_leave(b);                                                                          \
        return ff_busy_status_;                                                                    \
    } while (0)

#endif
