/* Safetensors dtype names and sizes, and the half-precision conversions
 * (bit manipulation, so results do not depend on the FPU or compiler flags
 * such as -ffast-math). */
#include <string.h>

#include "core/bits.h"
#include "tensor/safetensors.h"

/* Tensor bytes are stored little-endian; the library copies them verbatim. */
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "libfastflow's safetensors code assumes a little-endian host"
#endif

static const struct {
    const char *name;
    size_t size;
} dtype_info[FF_DT_COUNT] = {
    [FF_DT_F32] = {"F32", 4}, [FF_DT_F16] = {"F16", 2}, [FF_DT_BF16] = {"BF16", 2},
    [FF_DT_F64] = {"F64", 8}, [FF_DT_I64] = {"I64", 8}, [FF_DT_I32] = {"I32", 4},
    [FF_DT_I16] = {"I16", 2}, [FF_DT_I8] = {"I8", 1},   [FF_DT_U8] = {"U8", 1},
    [FF_DT_BOOL] = {"BOOL", 1}, [FF_DT_U16] = {"U16", 2}, [FF_DT_U32] = {"U32", 4},
    [FF_DT_U64] = {"U64", 8},
};

const char *ff_dtype_name(ff_dtype dt) {
    if ((int)dt < 0 || (int)dt >= FF_DT_COUNT) return "?";
    return dtype_info[dt].name;
}

size_t ff_dtype_size(ff_dtype dt) {
    if ((int)dt < 0 || (int)dt >= FF_DT_COUNT) return 0;
    return dtype_info[dt].size;
}

bool ff_dtype_from_name(const char *name, ff_dtype *out) {
    if (!name) return false;
    for (int i = 0; i < FF_DT_COUNT; i++) {
        if (strcmp(name, dtype_info[i].name) == 0) {
            *out = (ff_dtype)i;
            return true;
        }
    }
    return false;
}

bool ff_dtype_is_float(ff_dtype dt) {
    return dt == FF_DT_F32 || dt == FF_DT_F16 || dt == FF_DT_BF16 || dt == FF_DT_F64;
}

float ff_f16_to_f32(uint16_t h) {
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0x1f) /* inf / NaN: keep the payload in the top mantissa bits */
        return ff_bits_f32(sign | 0x7f800000u | (mant << 13));
    if (exp == 0) {
        if (mant == 0) return ff_bits_f32(sign);
        /* Subnormal: mant * 2^-24. Normalise so the leading 1 becomes implicit. */
        int e = -1;
        do {
            mant <<= 1;
            e++;
        } while (!(mant & 0x400u));
        mant &= 0x3ffu;
        return ff_bits_f32(sign | ((uint32_t)(127 - 15 - e) << 23) | (mant << 13));
    }
    return ff_bits_f32(sign | ((exp + 127 - 15) << 23) | (mant << 13));
}

float ff_bf16_to_f32(uint16_t b) { return ff_bits_f32((uint32_t)b << 16); }

uint16_t ff_f32_to_f16(float f) {
    uint32_t u = ff_f32_bits(f);
    uint16_t sign = (uint16_t)((u >> 16) & 0x8000u);
    uint32_t exp = (u >> 23) & 0xffu;
    uint32_t mant = u & 0x7fffffu;
    if (exp == 0xff) {
        if (mant == 0) return (uint16_t)(sign | 0x7c00u);
        /* NaN: keep the top payload bits and force quiet so it stays a NaN */
        return (uint16_t)(sign | 0x7e00u | (mant >> 13));
    }
    int32_t e = (int32_t)exp - 127 + 15;
    if (e >= 0x1f) return (uint16_t)(sign | 0x7c00u); /* overflow -> inf */
    if (e <= 0) {
        /* Result is subnormal or zero: shift the full significand (with its
         * implicit 1) right and round to nearest even. */
        if (e < -10) return sign; /* below half the smallest subnormal */
        uint32_t m = mant | 0x800000u;
        uint32_t shift = (uint32_t)(14 - e);
        uint32_t half = 1u << (shift - 1);
        uint32_t rest = m & ((1u << shift) - 1);
        uint32_t r = m >> shift;
        if (rest > half || (rest == half && (r & 1u))) r++;
        return (uint16_t)(sign | r); /* r may carry into the smallest normal: correct */
    }
    uint32_t r = ((uint32_t)e << 10) | (mant >> 13);
    uint32_t rest = mant & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (r & 1u))) r++; /* carry may reach inf: correct */
    return (uint16_t)(sign | r);
}

uint16_t ff_f32_to_bf16(float f) {
    uint32_t u = ff_f32_bits(f);
    if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x7fffffu))
        return (uint16_t)((u >> 16) | 0x40u); /* NaN: quiet, never rounded into inf */
    uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)((u + rounding) >> 16);
}
