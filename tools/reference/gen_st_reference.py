"""Golden file for the C safetensors reader: a file written by the Python
side (tools/reference/st_io.py, numpy), read back by tests/test_safetensors.c.

Run from the repository root:
    /usr/bin/python3 tools/reference/gen_st_reference.py

Writes tests/golden/st_reference.safetensors (a few hundred bytes). The
values are simple closed forms that the C test recomputes, and F16 holds the
edge cases of the half-precision conversion (signed zero, largest value,
smallest normal and subnormal, infinities, NaN, a rounded 1/3). Metadata
strings contain quotes, backslashes, control characters and non-ASCII text
(json.dumps escapes them as \\uXXXX, including a surrogate pair).
"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import st_io  # noqa: E402

OUT = os.path.join("tests", "golden", "st_reference.safetensors")


def main():
    f16 = np.array([0.0, -0.0, 1.0, -2.5, 65504.0, 2.0 ** -14, 2.0 ** -24, np.inf, -np.inf, np.nan,
                    1.0 / 3.0, 3 * 2.0 ** -24], dtype=np.float16)
    tensors = {
        # F32 [2, 3]: v[i] = i * 0.5 - 1
        "conv.weight": (np.arange(6, dtype=np.float32) * 0.5 - 1).reshape(2, 3),
        "half": f16,
        # F64 [3]: 1/(i+1)
        "f64": 1.0 / np.arange(1, 4, dtype=np.float64),
        "steps": np.array([0, -5, 2 ** 40], dtype=np.int64),
        "i32": np.array([[-7, 7]], dtype=np.int32),
        "u8": np.array([0, 255, 128], dtype=np.uint8),
        "i8": np.array([-128, 127], dtype=np.int8),
        "i16": np.array([-32768, 32767], dtype=np.int16),
        "empty": np.zeros((0, 4), dtype=np.float32),
        # at data offset 113: an unaligned F32 (st_io turns 0-d arrays into [1])
        "single": np.array([42.0], dtype=np.float32),
    }
    meta = {
        "format": "st_reference",
        "tricky": 'quote " backslash \\ tab \t newline \n caf\u00e9 \u2713 \U0001F600',
    }
    st_io.save(OUT, tensors, meta)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
