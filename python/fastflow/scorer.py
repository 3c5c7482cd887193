"""Scoring images with a trained flow (``ff_scorer``)."""

import collections
import ctypes
import os

from . import _buffers, _lib
from ._handle import Handle, call
from .image import decode, pixel_args, RGB8

#: One image's result: ``score`` (float, the map's maximum; higher = more
#: anomalous) and ``map`` (float32 [H, W] at the model's input size, values in
#: [-1, 0]; a numpy array, or a 2-D memoryview without numpy; None when not
#: requested).
Score = collections.namedtuple("Score", ["score", "map"])


class Scorer(Handle):
    """A per-thread workspace over a shared :class:`~fastflow.Flow`.

    ``score(image)`` takes a file path (str or os.PathLike), the encoded
    content of a PNG/JPEG file (bytes, bytearray or a 1-D byte buffer), or
    pixels (an Image, a uint8 numpy array (H, W[, C]) or a 2-D/3-D byte
    buffer; see fastflow.image)."""

    _destroy_name = "ff_scorer_destroy"

    def __init__(self, flow):
        out = _lib.scorer_p()
        call("ff_scorer_create", flow._handle(), ctypes.byref(out))
        super().__init__(out, parents=(flow,))
        h, w = ctypes.c_int32(), ctypes.c_int32()
        call("ff_scorer_map_shape", out, ctypes.byref(h), ctypes.byref(w))
        self.map_shape = (h.value, w.value)

    def _map_out(self, want_map, out):
        h, w = self.map_shape
        if out is not None:
            ptr, count, keep = _buffers.pointer(out, ctypes.c_float, "out")
            if isinstance(keep, bytes):
                raise ValueError("out must be a writable float32 buffer")
            if count < h * w:
                raise ValueError("out holds %d floats; the map needs %d" % (count, h * w))
            return ptr, count, keep, out
        if not want_map:
            return _lib.P(ctypes.c_float)(), 0, None, None
        o = _buffers.Output(ctypes.c_float, (h, w))
        return o.pointer, o.count, o, None

    @staticmethod
    def _result(score, keep, out):
        if out is not None:
            return Score(score, out)
        if keep is None:
            return Score(score, None)
        return Score(score, keep.result())

    def score(self, image, map=True, out=None, pixel_format=None):
        """Scores one image; returns Score(score, map). map=False skips the
        map; out= a writable float32 buffer of H*W receives it instead."""
        sc = self._handle()
        mptr, mcap, keep, user_out = self._map_out(map, out)
        score = ctypes.c_float()
        if isinstance(image, (str, os.PathLike)):
            call("ff_scorer_score_file", sc, os.fsencode(image), mptr, mcap, ctypes.byref(score))
        else:
            if _is_encoded(image):
                if pixel_format is not None:
                    raise ValueError("pixel_format applies to pixel arrays, not to encoded files")
                image = decode(image, RGB8)  # as ff_scorer_score_file decodes files
            ptr, w, h, stride, fmt, ikeep = pixel_args(image, pixel_format)
            call("ff_scorer_score_image", sc, ptr, w, h, stride, fmt, mptr, mcap, ctypes.byref(score))
            del ikeep
        return self._result(score.value, keep, user_out)

    def score_many(self, images, map=True):
        """Scores each image in turn; a list of Score."""
        return [self.score(im, map=map) for im in images]

    def score_tensor(self, tensor, batch=None, map=True):
        """Scores a pre-processed float32 batch [batch, 3, H, W] (H, W the
        model's input size). Returns (scores, maps): a float32 array of
        batch scores and [batch, H, W] maps (None with map=False)."""
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
