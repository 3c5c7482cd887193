// Compiled as C++11 with -Wall -Wextra -pedantic -Werror: the public header
// must be usable from C++ (extern "C", no C-only constructs).
#include "fastflow.h"

#include <cstdio>
#include <cstring>

int main() {
    int failed = 0;
    if (ff_version_number() != static_cast<uint32_t>(FF_VERSION_NUMBER)) failed++;
    if (std::strcmp(ff_version_string(), FF_VERSION_STRING) != 0) failed++;
    ff_backbone *bb = nullptr;
    // NULL arguments are reported, not crashed on.
    if (ff_backbone_load(nullptr, nullptr, &bb) != FF_E_INVALID_ARGUMENT) failed++;
    if (bb != nullptr) failed++;
    ff_backbone_destroy(nullptr);
    std::printf("%d passed, %d failed\n", 4 - failed, failed);
    return failed ? 1 : 0;
}
