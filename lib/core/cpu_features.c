#include "core/cpu_features.h"

#include <oneapi/dnnl/dnnl.h>

#include "core/error.h"

/* ISA values are nested bit masks: an ISA includes every ISA whose bits it
 * holds. */
static int isa_has(dnnl_cpu_isa_t isa, dnnl_cpu_isa_t want) { return ((unsigned)isa & (unsigned)want) == (unsigned)want; }

int32_t ff_cpu_has_bf16(void) { return isa_has(dnnl_get_effective_cpu_isa(), dnnl_cpu_isa_avx512_core_bf16); }

const char *ff_cpu_isa_name(void) {
    const dnnl_cpu_isa_t isa = dnnl_get_effective_cpu_isa();
    static const struct {
        dnnl_cpu_isa_t isa;
        const char *name;
    } names[] = {{dnnl_cpu_isa_avx512_core_amx, "avx512_core_amx"},
                 {dnnl_cpu_isa_avx512_core_bf16, "avx512_core_bf16"},
                 {dnnl_cpu_isa_avx512_core_vnni, "avx512_core_vnni"},
                 {dnnl_cpu_isa_avx512_core, "avx512_core"},
                 {dnnl_cpu_isa_avx2_vnni, "avx2_vnni"},
                 {dnnl_cpu_isa_avx2, "avx2"},
                 {dnnl_cpu_isa_avx, "avx"},
                 {dnnl_cpu_isa_sse41, "sse41"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (isa_has(isa, names[i].isa)) return names[i].name;
    return "no SIMD";
}

ff_status ff_cpu_supports(int32_t feature, int32_t *supported_out) {
    ff_clear_error();
    FF_CHECK_ARG(supported_out != NULL, "supported_out is NULL");
    FF_CHECK_ARG(feature == FF_CPU_BF16, "unknown CPU feature %d (FF_CPU_BF16 is 1)", (int)feature);
    *supported_out = ff_cpu_has_bf16();
    return FF_OK;
}

ff_status ff_check_precision(int32_t precision, const char *what) {
    FF_CHECK_ARG(precision == FF_PRECISION_FP32 || precision == FF_PRECISION_BF16 ||
                     precision == FF_PRECISION_FP32_WINOGRAD,
                 "%s must be FF_PRECISION_FP32 (0), FF_PRECISION_BF16 (1) or FF_PRECISION_FP32_WINOGRAD (2), got %d",
                 what, (int)precision);
    if (precision == FF_PRECISION_BF16 && !ff_cpu_has_bf16())
        return ff_fail(FF_E_UNSUPPORTED,
                       "%s: bf16 needs a CPU with AVX512-BF16 (or AMX), and oneDNN's instruction set here is %s "
                       "(see ff_cpu_supports(FF_CPU_BF16); ONEDNN_MAX_CPU_ISA may lower it); use FF_PRECISION_FP32",
                       what, ff_cpu_isa_name());
    return FF_OK;
}
