/* Compiled as C11 with -Wall -Wextra -pedantic -Werror: the public header
 * must be clean for C users. Also checks that the header's version macros
 * match the library it runs against. */
#include "fastflow.h"

#include <stdio.h>
#include <string.h>

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
    printf("%d passed, %d failed\n", 4 - failed, failed);
    return failed ? 1 : 0;
}
