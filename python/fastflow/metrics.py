"""Evaluation metrics of the MVTec AD protocol (exact, computed in C).

Scores are float32 (higher = more anomalous); labels and masks are 0/1
bytes. Inputs may be numpy arrays, buffers (array.array('f'), memoryview)
or plain sequences of numbers."""

import array
import ctypes

from . import _buffers
from ._handle import call


def _floats(values, what):
    if _buffers.is_ndarray(values):
        return _buffers.pointer(values, ctypes.c_float, what)
    try:
        mv = memoryview(values)
    except TypeError:
        mv = None
    if mv is not None and _buffers._strip_order(mv.format) == "f":
        return _buffers.pointer(values, ctypes.c_float, what)
    if mv is not None:
        values = mv.tolist()
    elif _buffers.np is not None:
        return _buffers.pointer(_buffers.np.asarray(values, dtype=_buffers.np.float32), ctypes.c_float, what)
    return _buffers.pointer(array.array("f", [float(v) for v in _flatten(values)]), ctypes.c_float, what)


def _labels(values, what):
    if _buffers.is_ndarray(values):
        # bool and integer masks as 0/1 bytes; other values reach C unchanged
        # (where anything but 0/1 is an invalid argument)
        return _buffers.pointer(values.astype(_buffers.np.uint8) if values.dtype == bool else values,
                                ctypes.c_uint8, what)
    try:
        mv = memoryview(values)
    except TypeError:
        mv = None
    if mv is not None and _buffers._strip_order(mv.format) in ("B", "?"):
        return _buffers.pointer(values, ctypes.c_uint8, what)
    if mv is None and _buffers.np is not None:
        a = _buffers.np.asarray(values)
        if a.dtype.kind in "biu" and ((a == 0) | (a == 1)).all():
            return _buffers.pointer(a.astype(_buffers.np.uint8), ctypes.c_uint8, what)
    flat = [int(v) for v in _flatten(mv.tolist() if mv is not None else values)]
    if any(v < 0 or v > 255 for v in flat):
        raise ValueError("%s must hold 0 (normal) or 1 (anomalous)" % what)
    return _buffers.pointer(array.array("B", flat), ctypes.c_uint8, what)


def _flatten(values):
    for v in values:
        if isinstance(v, (list, tuple)):
            yield from _flatten(v)
        elif hasattr(v, "tolist") and not isinstance(v, (int, float)):
            t = v.tolist()  # memoryview, array.array, numpy arrays and scalars
            if isinstance(t, list):
                yield from _flatten(t)
            else:
                yield t
        else:
            yield v


def auroc(scores, labels):
    """Area under the ROC curve (sklearn.metrics.roc_auc_score)."""
    sp, n, ks = _floats(scores, "scores")
    lp, m, kl = _labels(labels, "labels")
    if n != m:
        raise ValueError("%d scores but %d labels" % (n, m))
    out = ctypes.c_double()
    call("ff_metric_auroc", sp, lp, n, ctypes.byref(out))
    del ks, kl
    return out.value


def f1_optimal(scores, labels):
    """(best F1, the threshold reaching it), as anomalib's F1AdaptiveThreshold."""
    sp, n, ks = _floats(scores, "scores")
    lp, m, kl = _labels(labels, "labels")
    if n != m:
        raise ValueError("%d scores but %d labels" % (n, m))
    f1, thr = ctypes.c_double(), ctypes.c_float()
    call("ff_metric_f1_optimal", sp, lp, n, ctypes.byref(f1), ctypes.byref(thr))
    del ks, kl
    return f1.value, thr.value


def pro(maps, masks, max_fpr=0.3, shape=None):
    """AUPRO up to max_fpr (the official MVTec AD evaluation).

    maps, masks: [N, H, W] (or [H, W] for one image) arrays or buffers, or
    sequences of 2-D maps; for flat buffers pass shape=(N, H, W)."""
    num, h, w = _maps_shape(maps, shape)
    mp, n, km = _floats(maps, "maps")
    kp, m, kk = _labels(masks, "masks")
    if n != num * h * w or m != n:
        raise ValueError("maps (%d values) and masks (%d values) must both hold %d x %d x %d" % (n, m, num, h, w))
    out = ctypes.c_double()
    call("ff_metric_pro", mp, kp, num, w, h, float(max_fpr), ctypes.byref(out))
    del km, kk
    return out.value


def _maps_shape(maps, shape):
    """(N, H, W) of maps given as [N, H, W], one [H, W] map, or flat with an
    explicit shape."""
    if shape is None:
        shape = _shape3(maps)
    if len(shape) == 2:
        shape = (1,) + tuple(shape)
    if len(shape) != 3:
        raise ValueError("maps must be [N, H, W]; got shape %s" % (tuple(shape),))
    return tuple(int(v) for v in shape)


def _shape3(maps):
    if _buffers.is_ndarray(maps):
        return maps.shape
    try:
        return memoryview(maps).shape
    except TypeError:
        pass
    maps = list(maps)
    if not maps:
        return (0, 0, 0)
    inner = _buffers.shape_of(maps[0]) if not isinstance(maps[0], (list, tuple)) \
        else (len(maps[0]), len(maps[0][0]))
    return (len(maps),) + tuple(inner)


def score_statistics(maps, scores, labels=None, masks=None, shape=None):
    """Thresholds and normalisation range from a scored validation set
    (ff_score_statistics), as a dict: image_threshold, pixel_threshold, min,
    max, in raw map units. maps: [N, H, W] raw model-size maps (or flat with
    shape=(N, H, W)); scores: N; labels: N 0/1 or None (normal images only);
    masks: [N, H, W] 0/1 or None. Pass the result to Flow.with_statistics."""
    num, h, w = _maps_shape(maps, shape)
    mp, n, km = _floats(maps, "maps")
    sp, ns, ks = _floats(scores, "scores")
    if n != num * h * w or ns != num:
        raise ValueError("%d map values and %d scores for %d images of %d x %d" % (n, ns, num, h, w))
    lp, kl = None, None
    if labels is not None:
        lp, nl, kl = _labels(labels, "labels")
        if nl != num:
            raise ValueError("%d labels for %d images" % (nl, num))
    kp, kk = None, None
    if masks is not None:
        kp, nk, kk = _labels(masks, "masks")
        if nk != n:
            raise ValueError("masks hold %d values; the maps %d" % (nk, n))
    out = [ctypes.c_float() for _ in range(4)]
    call("ff_score_statistics", mp, sp, lp, kp, num, w, h, *[ctypes.byref(v) for v in out])
    del km, ks, kl, kk
    return dict(zip(("image_threshold", "pixel_threshold", "min", "max"), (v.value for v in out)))
