/* Compiled as C11 with -Wall -Wextra -pedantic -Werror: the public header
 * must be clean for C users. Also checks that the header's version macros
 * match the library it runs against. */
#include "fastflow.h"

#include <stdio.h>
#include <string.h>

/* The tier macros compile in a declaration as the header uses them; an
 * uncalled deprecated declaration does not warn. */
FF_DEPRECATED("use ff_version_number") FF_API uint32_t ff_test_deprecated_example(void);
FF_EXPERIMENTAL
FF_API uint32_t ff_test_experimental_example(void);
#define FF_STR2(x) #x
#define FF_STR(x) FF_STR2(x)

int main(void) {
    int failed = 0;
    if (ff_version_number() != FF_VERSION_NUMBER) {
        fprintf(stderr, "header version %d, library %u\n", FF_VERSION_NUMBER, (unsigned)ff_version_number());
        failed++;
    }
    if (strcmp(ff_version_string(), FF_VERSION_STRING) != 0) {
        fprintf(stderr, "header version %s, library %s\n", FF_VERSION_STRING, ff_version_string());
        failed++;
    }
    if (strcmp(ff_status_string(FF_OK), "success") != 0) failed++;
    if (ff_last_error_message() == NULL) failed++;
#if defined(__GNUC__) || defined(__clang__)
    /* On GCC/Clang the macro is the attribute, with the message. */
    if (strcmp(FF_STR(FF_DEPRECATED("use x")), "__attribute__((deprecated(\"use x\")))") != 0) {
        fprintf(stderr, "FF_DEPRECATED expands to %s\n", FF_STR(FF_DEPRECATED("use x")));
        failed++;
    }
#endif
    if (strcmp(FF_STR(FF_EXPERIMENTAL x), "x") != 0) failed++; /* a documentation marker only */
    printf("%d passed, %d failed\n", 6 - failed, failed);
    return failed ? 1 : 0;
}
