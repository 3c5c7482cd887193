/* Debug information for the public header's types, for the ABI check.
 *
 * The public API passes enums as int32_t, so no exported function's debug
 * information mentions enum ff_pixel_format, ff_status_code, ...: abidw
 * would not record them and a renumbered enumerator would go unnoticed.
 * lib/meson.build builds this file alone into libfastflow_abi_types.so
 * (not installed) with -g -fno-eliminate-unused-debug-types, which keeps
 * every type the header declares; scripts/abi-dump.sh records it next to
 * libfastflow.so's functions and scripts/check-abi.sh compares both with
 * the baseline in abi/. */
#include "fastflow.h"

/* abidw reads only a shared object that exports at least one symbol. */
void fastflow_abi_types_anchor(void);
void fastflow_abi_types_anchor(void) {}
