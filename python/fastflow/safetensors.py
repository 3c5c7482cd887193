"""A small safetensors reader and writer (pure Python, no numpy needed).

Enough to inspect a model file's metadata and tensors, or to write weights
for :meth:`fastflow.Backbone.load` from Python. Format: an 8-byte
little-endian header length, a JSON header {name: {dtype, shape,
data_offsets}, "__metadata__": {str: str}}, then the raw little-endian data.
Writing is atomic (temporary file in the same folder, fsync, rename)."""

import array
import json
import os
import struct
import sys
import tempfile

_DTYPES = {"F32": ("f", 4), "F64": ("d", 8), "I64": ("q", 8), "I32": ("i", 4), "U8": ("B", 1),
           "I8": ("b", 1), "I16": ("h", 2), "F16": ("e", 2)}


class Tensor:
    """dtype (e.g. "F32"), shape (tuple) and the raw little-endian bytes."""

    __slots__ = ("dtype", "shape", "data")

    def __init__(self, dtype, shape, data):
        self.dtype, self.shape, self.data = dtype, tuple(int(s) for s in shape), data

    def values(self):
        """The elements as a flat array.array (struct-unpacked for F16)."""
        code, _ = _DTYPES[self.dtype]
        if code == "e":
            return array.array("f", struct.unpack("<%de" % (len(self.data) // 2), self.data))
        a = array.array(code)
        a.frombytes(self.data)
        if sys.byteorder != "little":
            a.byteswap()
        return a

    def __repr__(self):
        return "Tensor(%s, %s)" % (self.dtype, list(self.shape))


def tensor(values, shape, dtype="F32"):
    """A Tensor from a flat sequence or buffer of numbers (or numpy array)."""
    code, size = _DTYPES[dtype]
    if hasattr(values, "astype") and hasattr(values, "tobytes"):  # numpy
        data = values.astype("<" + {"f": "f4", "d": "f8", "q": "i8", "i": "i4", "B": "u1", "b": "i1",
                                    "h": "i2", "e": "f2"}[code]).tobytes()
    elif isinstance(values, array.array) and values.typecode == code:
        a = values
        if sys.byteorder != "little":
            a = array.array(code, a)
            a.byteswap()
        data = a.tobytes()
    elif code == "e":
        data = struct.pack("<%de" % len(values), *values)
    else:
        a = array.array(code, values)
        if sys.byteorder != "little":
            a.byteswap()
        data = a.tobytes()
    n = 1
    for s in shape:
        n *= int(s)
    if len(data) != n * size:
        raise ValueError("%d bytes of data for %s %s (needs %d)" % (len(data), dtype, list(shape), n * size))
    return Tensor(dtype, shape, data)


def dumps(tensors, metadata=None):
    """The file content for {name: Tensor} and an optional {str: str} map."""
    header = {}
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    offset = 0
    for name, t in tensors.items():
        header[name] = {"dtype": t.dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(t.data)]}
        offset += len(t.data)
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)  # align the data section to 8 bytes
    return b"".join([struct.pack("<Q", len(text)), text] + [bytes(t.data) for t in tensors.values()])


def save(path, tensors, metadata=None):
    """Writes {name: Tensor} atomically."""
    data = dumps(tensors, metadata)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".safetensors")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def loads(data):
    """({name: Tensor}, metadata dict) from a file's content."""
    if len(data) < 8:
        raise ValueError("safetensors data shorter than its 8-byte header length")
    (n,) = struct.unpack_from("<Q", data, 0)
    if n > len(data) - 8:
        raise ValueError("safetensors header length %d exceeds the file" % n)
    header = json.loads(bytes(data[8:8 + n]).decode("utf-8"))
    metadata = header.pop("__metadata__", {}) or {}
    base = 8 + n
    tensors = {}
    for name, info in header.items():
        lo, hi = info["data_offsets"]
        if not 0 <= lo <= hi <= len(data) - base:
            raise ValueError("tensor %r: data_offsets [%d, %d] outside the data section" % (name, lo, hi))
        tensors[name] = Tensor(info["dtype"], info["shape"], bytes(data[base + lo:base + hi]))
    return tensors, metadata


def load(path):
    """({name: Tensor}, metadata dict) of a file."""
    with open(path, "rb") as f:
        return loads(f.read())
