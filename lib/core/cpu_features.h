/* What the CPU can run fast, as oneDNN sees it (its effective ISA, which
 * honours ONEDNN_MAX_CPU_ISA and dnnl_set_max_cpu_isa). */
#ifndef FF_CORE_CPU_FEATURES_H
#define FF_CORE_CPU_FEATURES_H

#include <stdint.h>

#include "fastflow.h"

/* 1 when oneDNN will use native bf16 instructions (AVX512-BF16 or AMX).
 * oneDNN can emulate bf16 on plain AVX-512, but slower than fp32, so that
 * does not count. */
int32_t ff_cpu_has_bf16(void);

/* The name of oneDNN's effective ISA, for messages ("avx2", ...). */
const char *ff_cpu_isa_name(void);

/* FF_OK when `precision` (enum ff_precision) is valid and runs on this
 * CPU: FF_E_INVALID_ARGUMENT for an unknown value (naming `what`, the
 * option), FF_E_UNSUPPORTED with the reason for bf16 without support. */
ff_status ff_check_precision(int32_t precision, const char *what);

#endif
