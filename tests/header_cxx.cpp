// Compiled as C++11 with -Wall -Wextra -pedantic -Werror: the public header
// must be usable from C++ (extern "C", no C-only constructs).
#include "fastflow.h"

#include <cstdio>
#include <cstring>

// The tier macros compile in C++ declarations; an uncalled deprecated
// declaration does not warn.
FF_DEPRECATED("use ff_version_number") FF_API uint32_t ff_test_deprecated_example(void);
FF_EXPERIMENTAL
FF_API uint32_t ff_test_experimental_example(void);
#define FF_STR2(x) #x
#define FF_STR(x) FF_STR2(x)

int main() {
    int failed = 0;
    if (ff_version_number() != static_cast<uint32_t>(FF_VERSION_NUMBER)) failed++;
    if (std::strcmp(ff_version_string(), FF_VERSION_STRING) != 0) failed++;
    ff_backbone *bb = nullptr;
    // NULL arguments are reported, not crashed on.
    if (ff_backbone_load(nullptr, nullptr, &bb) != FF_E_INVALID_ARGUMENT) failed++;
    if (bb != nullptr) failed++;
    ff_backbone_destroy(nullptr);
#if defined(__GNUC__) || defined(__clang__)
    if (std::strcmp(FF_STR(FF_DEPRECATED("use x")), "__attribute__((deprecated(\"use x\")))") != 0) failed++;
#endif
    std::printf("%d passed, %d failed\n", 5 - failed, failed);
    return failed ? 1 : 0;
}
