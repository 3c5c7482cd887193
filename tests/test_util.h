/* Minimal test harness: CHECK macros that count, and helpers to find the
 * shared data (../shared) and golden files. Each test program prints
 * "N passed, N failed" and exits 0, 1 (failure) or 77 (skipped). */
#ifndef FF_TEST_UTIL_H
#define FF_TEST_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "fastflow.h"

extern int ff_test_passed, ff_test_failed;

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (cond) {                                                                                \
            ff_test_passed++;                                                                      \
        } else {                                                                                   \
            ff_test_failed++;                                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
        }                                                                                          \
    } while (0)

/* Expects `call` to return `status`; on a mismatch prints the message. */
#define CHECK_STATUS(call, status)                                                                 \
    do {                                                                                           \
        ff_status st_ = (call);                                                                    \
        if (st_ == (status)) {                                                                     \
            ff_test_passed++;                                                                      \
        } else {                                                                                   \
            ff_test_failed++;                                                                      \
            fprintf(stderr, "%s:%d: %s returned %d (%s: %s), expected %d\n", __FILE__, __LINE__,   \
                    #call, (int)st_, ff_status_string(st_), ff_last_error_message(), (int)(status)); \
        }                                                                                          \
    } while (0)

#define CHECK_OK(call) CHECK_STATUS(call, FF_OK)

/* Checks that the last error message contains `needle`. */
#define CHECK_MSG(needle) CHECK_MSG_IMPL(needle, __FILE__, __LINE__)
#define CHECK_MSG_IMPL(needle, file, line) ff_test_check_msg((needle), (file), (line))
void ff_test_check_msg(const char *needle, const char *file, int line);

/* Path under the shared folder (FF_SHARED_DIR), or NULL when absent. When
 * the shared folder is missing the test should call ff_test_skip(), which
 * exits 77, or fails under CI=true. */
const char *ff_test_shared_path(const char *relative);
/* Path under tests/golden or tests/data. */
const char *ff_test_golden_path(const char *relative);
const char *ff_test_data_path(const char *relative);
/* A fresh temporary directory for this test process. */
const char *ff_test_tmpdir(void);
void ff_test_skip(const char *why);

/* Max |a-b| / max|ref| style comparison; prints a line with the figures and
 * returns whether within tolerance. */
bool ff_test_close_rel_max(const char *what, const float *got, const float *ref, size_t n,
                           double tol);
/* Elementwise |a-b| <= atol + rtol*|ref| */
bool ff_test_close(const char *what, const float *got, const float *ref, size_t n, double rtol,
                   double atol);

/* Prints the summary and returns the exit code. */
int ff_test_finish(void);

#endif
