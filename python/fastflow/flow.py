"""FastFlow models (``ff_flow``): create, load, save, inspect."""

import ctypes
import os
import threading

from . import _lib, params
from ._handle import Handle, call
from .backbone import Backbone, _BorrowedBackbone

#: enum ff_flow_param; the option names and types come from the library
#: (fastflow.params.table(fastflow.params.FLOW_OPTIONS))
INPUT_HEIGHT, INPUT_WIDTH, STEPS, CONV3X3_ONLY, HIDDEN_RATIO, CLAMP, SEED = 1, 2, 3, 4, 5, 6, 7
# enum ff_stat
_STATS = {"image_threshold": 1, "pixel_threshold": 2, "min": 3, "max": 4}
_CTYPES = {"i32": ctypes.c_int32, "i64": ctypes.c_int64, "f32": ctypes.c_float}


class FlowOptions(Handle):
    """``ff_flow_options``; most callers pass keywords to :meth:`Flow.create`."""

    _destroy_name = "ff_flow_options_destroy"

    def __init__(self, **options):
        out = _lib.flow_options_p()
        call("ff_flow_options_create", ctypes.byref(out))
        super().__init__(out)
        for name, value in options.items():
            self[name] = value

    def __setitem__(self, name, value):
        key, kind = _key(name)
        if kind == "i32" and isinstance(value, bool):
            value = int(value)
        call("ff_flow_options_set_" + kind, self._handle(), key, value)

    def __getitem__(self, name):
        key, kind = _key(name)
        v = _CTYPES[kind]()
        call("ff_flow_options_get_" + kind, self._handle(), key, ctypes.byref(v))
        return v.value


def _key(name):
    """(key, "i32" / "i64" / "f32") of a flow option's name."""
    table = params.table(params.FLOW_OPTIONS)
    if name not in table:
        raise KeyError("unknown flow option %r; known: %s" % (name, ", ".join(table))) from None
    return table[name].key, table[name].type


class Flow(Handle):
    """A FastFlow model over a backbone: immutable, shareable between threads.

    ``Flow.create(backbone, ...)`` makes an untrained one (train it with a
    :class:`~fastflow.Trainer`), ``Flow.load(path)`` reads a model file.
    ``score()`` is a convenience over a per-thread :class:`~fastflow.Scorer`."""

    _destroy_name = "ff_flow_destroy"

    def __init__(self, ptr, parents=()):
        super().__init__(ptr, parents)
        self._local = threading.local()

    @classmethod
    def create(cls, backbone, input_size=None, **options):
        """An untrained flow. input_size: int or (height, width); options:
        steps, conv3x3_only, hidden_ratio, clamp, seed. Options not given
        take the backbone's defaults, filled in by the library (ResNets:
        256x256, 8 steps, ratio 1.0, 3x3 only for resnet18 and alternating
        kernels for the other ResNets; transformers: their native
        side, 20 steps, alternating kernels, ratio 0.16; clamp 2.0, seed 0
        for all)."""
        if input_size is not None:
            h, w = (input_size, input_size) if isinstance(input_size, int) else input_size
            options.setdefault("input_height", h)
            options.setdefault("input_width", w)
        out = _lib.flow_p()
        if not options:
            # NULL options: the library's defaults for this backbone
            call("ff_flow_create", backbone._handle(), None, ctypes.byref(out))
            return cls(out)
        with FlowOptions(**options) as opts:
            call("ff_flow_create", backbone._handle(), opts._handle(), ctypes.byref(out))
        return cls(out)

    @classmethod
    def load(cls, path, backbone=None):
        """Loads a model file; with a backbone, uses it instead of the one
        embedded in the file (its architecture must match)."""
        out = _lib.flow_p()
        bb = backbone._handle() if backbone is not None else None
        call("ff_flow_load", os.fsencode(path), bb, ctypes.byref(out))
        return cls(out, parents=(backbone,) if backbone is not None else ())

    def save(self, path, embed_backbone=True):
        """Saves atomically; embed_backbone=True makes the file deploy alone."""
        call("ff_flow_save", self._handle(), os.fsencode(path), 1 if embed_backbone else 0)

    def _get(self, name):
        key, kind = _key(name)
        v = _CTYPES[kind]()
        call("ff_flow_get_" + kind, self._handle(), key, ctypes.byref(v))
        return v.value

    @property
    def backbone(self):
        """The flow's backbone (borrowed: keeps this flow alive)."""
        ptr = _lib.lib().ff_flow_backbone(self._handle())
        return _BorrowedBackbone(ptr, parents=(self,))

    input_height = property(lambda self: self._get("input_height"))
    input_width = property(lambda self: self._get("input_width"))
    steps = property(lambda self: self._get("steps"))
    conv3x3_only = property(lambda self: bool(self._get("conv3x3_only")))
    hidden_ratio = property(lambda self: self._get("hidden_ratio"))
    clamp = property(lambda self: self._get("clamp"))
    seed = property(lambda self: self._get("seed"))

    @property
    def input_size(self):
        return self.input_height, self.input_width

    def options(self):
        """Every creation option, as a dict."""
        return {name: self._get(name) for name in params.table(params.FLOW_OPTIONS)}

    @property
    def statistics(self):
        """The score statistics the flow carries, as a dict (image_threshold,
        pixel_threshold, min, max; raw map units), or None (a fresh or freshly
        trained flow, or a file without them)."""
        from .errors import StateError
        out = {}
        for name, key in _STATS.items():
            v = ctypes.c_float()
            try:
                call("ff_flow_get_statistic", self._handle(), key, ctypes.byref(v))
            except StateError:
                return None
            out[name] = v.value
        return out

    def with_statistics(self, image_threshold, pixel_threshold, min, max, source=None):
        """A new Flow equal to this one carrying these statistics (saved in
        the model file; they enable normalised scores and decisions)."""
        out = _lib.flow_p()
        call("ff_flow_with_statistics", self._handle(), float(image_threshold), float(pixel_threshold),
             float(min), float(max), source.encode() if source is not None else None, ctypes.byref(out))
        return Flow(out)

    @property
    def training_record(self):
        """How the flow was trained (the model file's "training" metadata, e.g.
        the epoch `fastflow train --epochs auto` chose), or None."""
        n = ctypes.c_size_t()
        st = _lib.lib().ff_flow_get_training_record(self._handle(), None, 0, ctypes.byref(n))
        if st == 8:  # FF_E_STATE: no record
            return None
        buf = ctypes.create_string_buffer(n.value + 1)
        call("ff_flow_get_training_record", self._handle(), buf, n.value + 1, ctypes.byref(n))
        return buf.value.decode("ascii")

    def with_training_record(self, text):
        """A new Flow equal to this one carrying `text` as its training record."""
        out = _lib.flow_p()
        call("ff_flow_with_training_record", self._handle(), None if text is None else text.encode("ascii"),
             ctypes.byref(out))
        return Flow(out)

    def calibrate(self, images, labels=None, masks=None, smooth_sigma=0.0, source="python"):
        """Scores validation images (paths, bytes or pixels; see Scorer.score)
        and returns a new Flow carrying the statistics ff_score_statistics
        computes from them: with only normal images (labels None), both
        thresholds are the largest score; with 0/1 labels (and optionally
        0/1 masks at the model's input size, [N, H, W]), the F1-optimal
        thresholds. Use the same smooth_sigma as the scorers that will
        use the statistics."""
        from .metrics import score_statistics
        from .scorer import Scorer
        import array
        maps, scores = array.array("f"), array.array("f")
        with Scorer(self, smooth_sigma=smooth_sigma) as sc:
            for im in images:
                r = sc.score(im)
                scores.append(r.score)
                maps.frombytes(memoryview(r.map).cast("B").tobytes())
        h, w = self.input_size
        stats = score_statistics(maps, scores, labels=labels, masks=masks, shape=(len(scores), h, w))
        return self.with_statistics(source=source, **stats)

    def scorer(self, **options):
        """A new :class:`~fastflow.Scorer` (one per thread); options as Scorer's."""
        from .scorer import Scorer
        return Scorer(self, **options)

    def score(self, image, **kwargs):
        """Scores one image with this thread's cached scorer; see Scorer.score."""
        sc = getattr(self._local, "scorer", None)
        if sc is None or sc.closed:
            sc = self._local.scorer = self.scorer()
        return sc.score(image, **kwargs)

    def close(self):
        local = getattr(self, "_local", None)
        sc = getattr(local, "scorer", None) if local is not None else None
        if sc is not None:
            sc.close()
        super().close()

    def __repr__(self):
        if self.closed:
            return "Flow(closed)"
        return "Flow(%s, %dx%d, steps=%d)" % (self.backbone.arch, self.input_height, self.input_width, self.steps)


__all__ = ["Flow", "FlowOptions", "Backbone"]
