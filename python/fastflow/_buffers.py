"""Buffer-protocol plumbing: C pointers into caller objects, result arrays.

numpy is optional. When it is importable (and ``FASTFLOW_NO_NUMPY`` is not
set to a non-empty value other than ``0``), results come back as numpy
arrays; otherwise as 2-D or 3-D ``memoryview`` objects over ``array.array``
storage (``.shape``, ``.tolist()``, ``m[i, j]`` and the buffer protocol all
work). Inputs are accepted in either form, and as any object exporting the
buffer protocol."""

import array
import ctypes
import os

from ._lib import P


def _load_numpy():
    if os.environ.get("FASTFLOW_NO_NUMPY", "") not in ("", "0"):
        return None
    try:
        import numpy
    except ImportError:
        return None
    return numpy


np = _load_numpy()

# struct format characters accepted for each C element type
_FORMATS = {
    ctypes.c_float: ("f",),
    ctypes.c_uint8: ("B", "b", "c", "?"),
}
_TYPECODES = {ctypes.c_float: "f", ctypes.c_uint8: "B"}


def is_ndarray(obj):
    return np is not None and isinstance(obj, np.ndarray)


def _strip_order(fmt):
    return fmt.lstrip("@=<>!") if fmt else fmt


def pointer(obj, ctype, what="buffer"):
    """(C pointer to obj's first element, element count, keep-alive object).

    obj: a numpy array (converted to a contiguous array of the ctype when
    needed), or any buffer-protocol object whose elements already have the
    ctype (bytes, bytearray, array.array, memoryview, ...): those are used in
    place when contiguous, else copied. Keep the third value alive while C
    uses the pointer."""
    if is_ndarray(obj):
        dtype = np.float32 if ctype is ctypes.c_float else np.uint8
        a = np.ascontiguousarray(obj, dtype=dtype)
        return a.ctypes.data_as(P(ctype)), a.size, a
    try:
        mv = memoryview(obj)
    except TypeError:
        raise TypeError("%s must be a buffer (numpy array, array.array, bytes, memoryview), not %s"
                        % (what, type(obj).__name__)) from None
    fmt = _strip_order(mv.format)
    if fmt not in _FORMATS[ctype]:
        raise TypeError("%s has element format %r; expected %s" % (what, mv.format, "/".join(_FORMATS[ctype])))
    count = mv.nbytes // ctypes.sizeof(ctype)
    if not mv.c_contiguous:
        mv = memoryview(mv.tobytes())
    if mv.readonly:
        data = obj if isinstance(obj, bytes) and mv.obj is obj else mv.tobytes()
        return ctypes.cast(ctypes.c_char_p(data), P(ctype)), count, data
    if count == 0:
        return P(ctype)(), 0, mv
    raw = mv.cast("B")
    cbuf = (ctypes.c_char * raw.nbytes).from_buffer(raw)
    return ctypes.cast(cbuf, P(ctype)), count, (cbuf, raw, obj)


def raw_bytes(obj, what="data"):
    """(c_void_p-compatible object, size in bytes, keep-alive) of any buffer."""
    if isinstance(obj, bytes):
        return obj, len(obj), obj
    if is_ndarray(obj):
        a = np.ascontiguousarray(obj)
        return a.ctypes.data_as(ctypes.c_void_p), a.nbytes, a
    try:
        mv = memoryview(obj)
    except TypeError:
        raise TypeError("%s must be bytes-like, not %s" % (what, type(obj).__name__)) from None
    if not mv.c_contiguous or mv.readonly or mv.nbytes == 0:
        data = mv.tobytes()
        return data, len(data), data
    raw = mv.cast("B")
    cbuf = (ctypes.c_char * raw.nbytes).from_buffer(raw)
    return ctypes.cast(cbuf, ctypes.c_void_p), raw.nbytes, (cbuf, raw, obj)


class Output:
    """A zero-filled result array of `shape` and ctype, with its C pointer.

    ``.pointer`` goes to C; ``.result()`` gives the numpy array (numpy mode)
    or a memoryview of that shape over an array.array."""

    def __init__(self, ctype, shape):
        self.shape = tuple(int(s) for s in shape)
        self.count = 1
        for s in self.shape:
            self.count *= s
        if np is not None:
            dtype = np.float32 if ctype is ctypes.c_float else np.uint8
            self.storage = np.zeros(self.shape, dtype=dtype)
            self.pointer = self.storage.ctypes.data_as(P(ctype))
        else:
            self.storage = array.array(_TYPECODES[ctype], bytes(self.count * ctypes.sizeof(ctype)))
            if self.count:
                addr, _ = self.storage.buffer_info()
                self.pointer = ctypes.cast(ctypes.c_void_p(addr), P(ctype))
            else:
                self.pointer = P(ctype)()

    def result(self):
        if np is not None:
            return self.storage
        return as_shaped(self.storage, self.shape)


def as_shaped(storage, shape):
    """A memoryview of array.array storage with the given shape."""
    mv = memoryview(storage)
    if len(shape) == 1:
        return mv
    if 0 in shape:
        return mv  # memoryview cannot take zero-sized multi-dimensional shapes
    return mv.cast("B").cast(mv.format, shape)


def shape_of(obj):
    """The shape of a numpy array or buffer (memoryview semantics)."""
    if is_ndarray(obj):
        return tuple(obj.shape)
    return tuple(memoryview(obj).shape)
