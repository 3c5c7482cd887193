/* Status strings and the thread-local last-error message. */
#include "core/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define FF_ERROR_CAPACITY 1024

static _Thread_local char tls_message[FF_ERROR_CAPACITY];

const char *ff_status_string(ff_status status) {
    switch (status) {
    case FF_OK: return "success";
    case FF_E_INVALID_ARGUMENT: return "invalid argument";
    case FF_E_IO: return "input/output error";
    case FF_E_BAD_FORMAT: return "bad format";
    case FF_E_UNSUPPORTED: return "unsupported";
    case FF_E_OUT_OF_MEMORY: return "out of memory";
    case FF_E_BUFFER_TOO_SMALL: return "buffer too small";
    case FF_E_LIMIT_EXCEEDED: return "limit exceeded";
    case FF_E_STATE: return "invalid state";
    case FF_E_NUMERIC: return "numerical error";
    case FF_E_INTERNAL: return "internal error";
    default: return "unknown status";
    }
}

const char *ff_last_error_message(void) { return tls_message; }

void ff_clear_error(void) { tls_message[0] = '\0'; }

ff_status ff_fail(ff_status status, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tls_message, sizeof tls_message, fmt, ap);
    va_end(ap);
    return status;
}

ff_status ff_fail_context(ff_status status, const char *fmt, ...) {
    char old[FF_ERROR_CAPACITY];
    memcpy(old, tls_message, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tls_message, sizeof tls_message, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof tls_message && old[0] != '\0')
        snprintf(tls_message + n, sizeof tls_message - (size_t)n, ": %s", old);
    return status;
}
