"""Frozen ImageNet backbones and their per-thread feature extractors."""

import ctypes
import os

from . import _buffers, _lib, params
from ._handle import Handle, call

#: enum ff_extractor_param
EXTRACTOR_NUM_THREADS = 1


def __getattr__(name):
    # ARCHITECTURES: the library's list (ff_backbone_arch_count/_name), read
    # when first asked for, so that importing the package loads nothing
    if name == "ARCHITECTURES":
        return params.architectures()
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


class Backbone(Handle):
    """A loaded backbone (``ff_backbone``): immutable, shareable between threads.

    Load one with :meth:`load` (a safetensors state dict as torchvision/timm
    publish it) or :meth:`from_bytes`."""

    _destroy_name = "ff_backbone_destroy"

    @classmethod
    def load(cls, arch, weights_path):
        out = _lib.backbone_p()
        call("ff_backbone_load", arch.encode(), os.fsencode(weights_path), ctypes.byref(out))
        return cls(out)

    @classmethod
    def from_bytes(cls, arch, data):
        """Loads from the safetensors file's content (any bytes-like object)."""
        ptr, size, keep = _buffers.raw_bytes(data, "weights")
        out = _lib.backbone_p()
        call("ff_backbone_load_from_memory", arch.encode(), ptr, size, ctypes.byref(out))
        del keep
        return cls(out)

    @property
    def arch(self):
        return _lib.lib().ff_backbone_arch(self._handle()).decode()

    @property
    def num_levels(self):
        n = ctypes.c_int32()
        call("ff_backbone_num_levels", self._handle(), ctypes.byref(n))
        return n.value

    def level_shape(self, level, width=256, height=256):
        """Shape (channels, height, width) of feature level `level` for an
        input of width x height (the array's shape, in numpy order)."""
        c, h, w = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_int32()
        call("ff_backbone_level_shape", self._handle(), int(level), int(width), int(height), ctypes.byref(c),
             ctypes.byref(w), ctypes.byref(h))
        return c.value, h.value, w.value

    def extractor(self):
        """A new :class:`Extractor` (one per thread)."""
        return Extractor(self)

    def __repr__(self):
        return "Backbone(%s)" % (self.arch if not self.closed else "closed")


class _BorrowedBackbone(Backbone):
    """The backbone a flow holds: valid while the flow lives, never freed here."""

    _destroy_name = None

    def _handle(self):
        # the pointer is the flow's: once the flow is closed it may be gone
        if self._parents and self._parents[0].closed:
            raise ValueError("the Flow this backbone belongs to is closed")
        return super()._handle()


class Extractor(Handle):
    """Runs a backbone (``ff_extractor``); one thread at a time."""

    _destroy_name = "ff_extractor_destroy"

    def __init__(self, backbone):
        out = _lib.extractor_p()
        call("ff_extractor_create", backbone._handle(), ctypes.byref(out))
        super().__init__(out, parents=(backbone,))
        self._backbone = backbone
        self._last = None  # (batch, height, width) of the last run

    @property
    def num_threads(self):
        """Threads of this extractor's runs; 0 (the default) = the global count."""
        v = ctypes.c_int32()
        call("ff_extractor_get_i32", self._handle(), EXTRACTOR_NUM_THREADS, ctypes.byref(v))
        return v.value

    @num_threads.setter
    def num_threads(self, value):
        call("ff_extractor_set_i32", self._handle(), EXTRACTOR_NUM_THREADS, int(value))

    def run(self, tensor, batch=None, width=None, height=None):
        """Runs on a pre-processed float32 batch [batch, 3, H, W] (numpy
        array, or any float buffer with batch/width/height given)."""
        if batch is None or height is None or width is None:
            shape = _buffers.shape_of(tensor)
            if len(shape) == 3:
                shape = (1,) + tuple(shape)
            if len(shape) != 4 or shape[1] != 3:
                raise ValueError("input must have shape [batch, 3, H, W], got %s (or pass batch, width, "
                                 "height)" % (tuple(shape),))
            batch, _, height, width = shape
        ptr, count, keep = _buffers.pointer(tensor, ctypes.c_float, "input")
        if count != batch * 3 * height * width:
            raise ValueError("input has %d floats; [%d, 3, %d, %d] needs %d"
                             % (count, batch, height, width, batch * 3 * height * width))
        call("ff_extractor_run", self._handle(), ptr, int(batch), int(width), int(height))
        del keep
        self._last = (int(batch), int(height), int(width))

    def read(self, level):
        """Feature level `level` of the last run, float32 [batch, C, H, W]."""
        if self._last is None:
            # let the library report the state error with its own message
            out = _buffers.Output(ctypes.c_float, (1,))
            call("ff_extractor_read", self._handle(), int(level), out.pointer, out.count)
        batch, h, w = self._last
        c, lh, lw = self._backbone.level_shape(level, w, h)
        out = _buffers.Output(ctypes.c_float, (batch, c, lh, lw))
        call("ff_extractor_read", self._handle(), int(level), out.pointer, out.count)
        return out.result()

    def features(self, tensor, batch=None, width=None, height=None):
        """Runs and returns every level, as a list."""
        self.run(tensor, batch, width, height)
        return [self.read(level) for level in range(self._backbone.num_levels)]
