"""The library's option tables (``ff_param_*``): every option of every keyed
object with its type, bounds and default, as the library enforces them.

The binding reads its option names and the architecture list from here, so
they never drift from the library::

    >>> fastflow.params.table(fastflow.params.FLOW_OPTIONS)["steps"]
    Param(kind=2, key=3, name='steps', type='i32', min=1.0, max=64.0, default=8.0, flags=8)
    >>> fastflow.params.architectures()[:2]
    ('resnet18', 'resnet34')

Queries load the library on first use and are cached."""

import collections
import ctypes
import functools

from . import _lib
from ._handle import call

#: enum ff_object_kind
GLOBAL, FLOW_OPTIONS, SCORER, TRAINER, EXTRACTOR = 1, 2, 3, 4, 5
#: enum ff_param_type
I32, I64, F32 = 1, 2, 3
#: enum ff_param_flag
READ_ONLY, MIN_EXCLUSIVE, MULTIPLE_OF_16, BACKBONE_DEFAULT = 1, 2, 4, 8

_TYPE_NAMES = {I32: "i32", I64: "i64", F32: "f32"}

#: One option: ``type`` is "i32", "i64" or "f32" (the setter/getter suffix);
#: valid values are ``min <= v <= max`` (``min < v`` with MIN_EXCLUSIVE in
#: ``flags``); ``default`` is what a fresh object holds.
Param = collections.namedtuple("Param", ["kind", "key", "name", "type", "min", "max", "default", "flags"])


def info(kind, key):
    """The :class:`Param` of one key."""
    t, lo, hi, d, fl = ctypes.c_int32(), ctypes.c_double(), ctypes.c_double(), ctypes.c_double(), ctypes.c_int32()
    call("ff_param_info", int(kind), int(key), ctypes.byref(t), ctypes.byref(lo), ctypes.byref(hi), ctypes.byref(d),
         ctypes.byref(fl))
    name = _lib.lib().ff_param_name(int(kind), int(key)).decode()
    return Param(int(kind), int(key), name, _TYPE_NAMES[t.value], lo.value, hi.value, d.value, fl.value)


@functools.lru_cache(maxsize=None)
def _table(kind):
    n = ctypes.c_int32()
    call("ff_param_count", int(kind), ctypes.byref(n))
    rows = []
    for i in range(n.value):
        k = ctypes.c_int32()
        call("ff_param_key_at", int(kind), i, ctypes.byref(k))
        rows.append(info(kind, k.value))
    return tuple(rows)


def table(kind):
    """{name: Param} of every key of an object kind, in key order."""
    return collections.OrderedDict((p.name, p) for p in _table(kind))


def key(kind, name):
    """The key of an option's short name (KeyError if unknown)."""
    for p in _table(kind):
        if p.name == name:
            return p.key
    raise KeyError("unknown option %r; known: %s" % (name, ", ".join(p.name for p in _table(kind))))


@functools.lru_cache(maxsize=None)
def architectures():
    """The backbone architectures the loaded library supports."""
    lib = _lib.lib()
    return tuple(lib.ff_backbone_arch_name(i).decode() for i in range(lib.ff_backbone_arch_count()))
