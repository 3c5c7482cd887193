/* Internal error reporting: a thread-local detail message beside the
 * static status string (libgit2 / ONNX Runtime style). */
#ifndef FF_CORE_ERROR_H
#define FF_CORE_ERROR_H

#include "fastflow.h"

#if defined(__GNUC__)
#define FF_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define FF_PRINTF(a, b)
#endif

/* Records `status` with a printf-style detail for ff_last_error_message()
 * and returns `status`, so that `return ff_fail(FF_E_IO, "...", ...);` reads
 * naturally. */
ff_status ff_fail(ff_status status, const char *fmt, ...) FF_PRINTF(2, 3);

/* Prefixes the current thread's message with more context ("while loading
 * X: <old message>") and returns `status` unchanged. */
ff_status ff_fail_context(ff_status status, const char *fmt, ...) FF_PRINTF(2, 3);

/* Clears the thread's message; every public entry point calls it first so
 * that a stale message is never mistaken for the current call's. */
void ff_clear_error(void);

#define FF_TRY(expr)                                                                               \
    do {                                                                                           \
        ff_status ff_try_status_ = (expr);                                                         \
        if (ff_try_status_ != FF_OK) return ff_try_status_;                                        \
    } while (0)

/* Validates an argument of a public function. */
#define FF_CHECK_ARG(cond, ...)                                                                    \
    do {                                                                                           \
        if (!(cond)) return ff_fail(FF_E_INVALID_ARGUMENT, __VA_ARGS__);                           \
    } while (0)

#endif
