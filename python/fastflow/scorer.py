"""Scoring images with a trained flow (``ff_scorer``)."""

import collections
import ctypes
import os

from . import _buffers, _lib
from ._handle import Handle, call
from .errors import StateError
from .image import decode, pixel_args, probe, RGB8

#: Scorer option keys and values, statistic keys (include/fastflow.h:
#: enum ff_scorer_param, ff_scorer_map_size, ff_stat).
MAP_SIZE, SMOOTH_SIGMA, NORMALIZED, NUM_THREADS, PRECISION = 1, 2, 3, 4, 5
MAP_MODEL_SIZE, MAP_IMAGE_SIZE = 0, 1
PRECISION_FP32, PRECISION_BF16, PRECISION_FP32_WINOGRAD = 0, 1, 2
_PRECISIONS = {"fp32": PRECISION_FP32, "bf16": PRECISION_BF16, "winograd": PRECISION_FP32_WINOGRAD}
STAT_IMAGE_THRESHOLD, STAT_PIXEL_THRESHOLD, STAT_MIN, STAT_MAX = 1, 2, 3, 4
_MAP_SIZES = {"model": MAP_MODEL_SIZE, "image": MAP_IMAGE_SIZE}

#: One image's result:
#:  - ``score``: float, the (smoothed) map's maximum, higher = more anomalous;
#:    in [0, 1] with 0.5 at the threshold when the scorer is normalised;
#:  - ``map``: float32 [H, W] (the model's input size, or the image's with
#:    map_size="image"); raw values in [-1, 0], or [0, 1] normalised; a numpy
#:    array, or a 2-D memoryview without numpy; None when not requested;
#:  - ``anomalous``: the yes/no decision (score >= the flow's image
#:    threshold), or None when the flow carries no score statistics.
Score = collections.namedtuple("Score", ["score", "map", "anomalous"])


class Scorer(Handle):
    """A per-thread workspace over a shared :class:`~fastflow.Flow`.

    ``score(image)`` takes a file path (str or os.PathLike), the encoded
    content of a PNG/JPEG file (bytes, bytearray or a 1-D byte buffer), or
    pixels (an Image, a uint8 numpy array (H, W[, C]) or a 2-D/3-D byte
    buffer; see fastflow.image).

    Options (keywords here, or the properties of the same name):
    ``map_size`` "model" (default) or "image" (the map at the scored image's
    own size, bilinear); ``smooth_sigma`` (Gaussian smoothing of the map
    before the score is taken, 0 = off); ``normalized`` (scores and maps in
    [0, 1] with 0.5 at the threshold; needs a flow with statistics);
    ``num_threads`` (threads of this scorer's calls; 0, the default, = the
    global fastflow.set_num_threads count); ``precision`` "fp32" (default),
    "bf16" (bf16 convolutions; needs fastflow.cpu_supports_bf16(), else
    Unsupported) or "winograd" (fp32 with Winograd 3x3 convolutions)."""

    _destroy_name = "ff_scorer_destroy"

    def __init__(self, flow, map_size=None, smooth_sigma=None, normalized=None, num_threads=None,
                 precision=None):
        out = _lib.scorer_p()
        call("ff_scorer_create", flow._handle(), ctypes.byref(out))
        super().__init__(out, parents=(flow,))
        h, w = ctypes.c_int32(), ctypes.c_int32()
        call("ff_scorer_map_shape", out, ctypes.byref(w), ctypes.byref(h))
        #: the model's input size (height, width): the map's shape by default
        self.map_shape = (h.value, w.value)
        self._has_statistics = flow.statistics is not None
        self._last_count = 0  # images in the last successful score call
        if map_size is not None:
            self.map_size = map_size
        if smooth_sigma is not None:
            self.smooth_sigma = smooth_sigma
        if normalized is not None:
            self.normalized = normalized
        if num_threads is not None:
            self.num_threads = num_threads
        if precision is not None:
            self.precision = precision

    # -- options -----------------------------------------------------------
    def _get_i32(self, key):
        v = ctypes.c_int32()
        call("ff_scorer_get_i32", self._handle(), key, ctypes.byref(v))
        return v.value

    @property
    def map_size(self):
        """"model" or "image"."""
        return "image" if self._get_i32(MAP_SIZE) == MAP_IMAGE_SIZE else "model"

    @map_size.setter
    def map_size(self, value):
        v = _MAP_SIZES.get(value, value)
        if isinstance(v, str):
            raise ValueError("map_size must be 'model' or 'image', not %r" % value)
        call("ff_scorer_set_i32", self._handle(), MAP_SIZE, int(v))

    @property
    def smooth_sigma(self):
        v = ctypes.c_float()
        call("ff_scorer_get_f32", self._handle(), SMOOTH_SIGMA, ctypes.byref(v))
        return v.value

    @smooth_sigma.setter
    def smooth_sigma(self, value):
        call("ff_scorer_set_f32", self._handle(), SMOOTH_SIGMA, float(value))

    @property
    def normalized(self):
        return bool(self._get_i32(NORMALIZED))

    @normalized.setter
    def normalized(self, value):
        call("ff_scorer_set_i32", self._handle(), NORMALIZED, 1 if value else 0)

    @property
    def num_threads(self):
        return self._get_i32(NUM_THREADS)

    @num_threads.setter
    def num_threads(self, value):
        call("ff_scorer_set_i32", self._handle(), NUM_THREADS, int(value))

    @property
    def precision(self):
        """"fp32", "bf16" or "winograd"."""
        v = self._get_i32(PRECISION)
        return next(k for k, x in _PRECISIONS.items() if x == v)

    @precision.setter
    def precision(self, value):
        if value not in _PRECISIONS:
            raise ValueError("precision must be 'fp32', 'bf16' or 'winograd', not %r" % (value,))
        call("ff_scorer_set_i32", self._handle(), PRECISION, _PRECISIONS[value])

    def map_shape_for(self, width, height):
        """(height, width) of the map score() returns for an image of that size."""
        h, w = ctypes.c_int32(), ctypes.c_int32()
        call("ff_scorer_map_shape_for", self._handle(), int(width), int(height), ctypes.byref(w), ctypes.byref(h))
        return h.value, w.value

    def last_decisions(self):
        """The yes/no decisions (list of bool) of the last score call: one
        per image (the batch for score_tensor). StateError when the flow has
        no statistics or nothing was scored yet."""
        n = max(self._last_count, 1)
        buf = (ctypes.c_int32 * n)()
        call("ff_scorer_last_decisions", self._handle(), buf, n)
        return [bool(v) for v in buf[:self._last_count]]

    def _decision(self):
        if not self._has_statistics:
            return None
        d = ctypes.c_int32(-1)
        try:
            call("ff_scorer_last_decisions", self._handle(), ctypes.byref(d), 1)
        except StateError:
            return None
        return bool(d.value)

    # -- scoring -----------------------------------------------------------
    def _map_out(self, want_map, out, shape):
        h, w = shape
        if out is not None:
            ptr, count, keep = _buffers.pointer(out, ctypes.c_float, "out")
            if isinstance(keep, bytes):
                raise ValueError("out must be a writable float32 buffer")
            if count < h * w:
                raise ValueError("out holds %d floats; the map needs %d (%d x %d)" % (count, h * w, h, w))
            return ptr, count, keep, out
        if not want_map:
            return _lib.P(ctypes.c_float)(), 0, None, None
        o = _buffers.Output(ctypes.c_float, (h, w))
        return o.pointer, o.count, o, None

    def _result(self, score, keep, out):
        self._last_count = 1
        decision = self._decision()
        if out is not None:
            return Score(score, out, decision)
        if keep is None:
            return Score(score, None, decision)
        return Score(score, keep.result(), decision)

    def score(self, image, map=True, out=None, pixel_format=None):
        """Scores one image; returns Score(score, map, anomalous). map=False
        skips the map; out= a writable float32 buffer receives it instead."""
        sc = self._handle()
        score = ctypes.c_float()
        image_size = self.map_size == "image" and (map or out is not None)
        if isinstance(image, (str, os.PathLike)):
            path = os.fsencode(image)
            shape = self.map_shape
            if image_size:
                w, h, _ = probe(image)
                shape = self.map_shape_for(w, h)
            mptr, mcap, keep, user_out = self._map_out(map, out, shape)
            call("ff_scorer_score_file", sc, path, mptr, mcap, ctypes.byref(score))
        else:
            if _is_encoded(image):
                if pixel_format is not None:
                    raise ValueError("pixel_format applies to pixel arrays, not to encoded files")
                image = decode(image, RGB8)  # as ff_scorer_score_file decodes files
            ptr, w, h, stride, fmt, ikeep = pixel_args(image, pixel_format)
            shape = self.map_shape_for(w, h) if image_size else self.map_shape
            mptr, mcap, keep, user_out = self._map_out(map, out, shape)
            call("ff_scorer_score_image", sc, ptr, w, h, stride, fmt, mptr, mcap, ctypes.byref(score))
            del ikeep
        return self._result(score.value, keep, user_out)

    def score_many(self, images, map=True):
        """Scores each image in turn; a list of Score."""
        return [self.score(im, map=map) for im in images]

    def score_tensor(self, tensor, batch=None, map=True):
        """Scores a pre-processed float32 batch [batch, 3, H, W] (H, W the
        model's input size). Returns (scores, maps): a float32 array of
        batch scores and [batch, H, W] maps at the model's size (None with
        map=False). last_decisions() gives the batch's decisions."""
        h, w = self.map_shape
        if batch is None:
            shape = _buffers.shape_of(tensor)
            if len(shape) == 3:
                shape = (1,) + tuple(shape)
            if len(shape) != 4:
                raise ValueError("input must have shape [batch, 3, H, W], got %s" % (tuple(shape),))
            batch = shape[0]
        ptr, count, keep = _buffers.pointer(tensor, ctypes.c_float, "input")
        if count != batch * 3 * h * w:
            raise ValueError("input has %d floats; [%d, 3, %d, %d] needs %d" % (count, batch, h, w,
                                                                                 batch * 3 * h * w))
        scores = _buffers.Output(ctypes.c_float, (batch,))
        maps = _buffers.Output(ctypes.c_float, (batch, h, w)) if map else None
        call("ff_scorer_score_tensor", self._handle(), ptr, int(batch),
             maps.pointer if maps else _lib.P(ctypes.c_float)(), maps.count if maps else 0,
             scores.pointer, scores.count)
        del keep
        self._last_count = int(batch)
        return scores.result(), (maps.result() if maps else None)


def _is_encoded(obj):
    """A 1-D bytes-like object holds an encoded file; pixels have 2-3 dims."""
    if isinstance(obj, (bytes, bytearray)):
        return True
    if _buffers.is_ndarray(obj):
        return obj.ndim == 1 and obj.dtype == _buffers.np.uint8
    try:
        mv = memoryview(obj)
    except TypeError:
        return False
    return mv.ndim == 1
