"""Choosing the training epoch on held-out data (``ff_selector``,
experimental in the C API), as ``fastflow train --epochs auto`` does."""

import ctypes
import os

from . import _lib
from ._handle import WorkingHandle, call, exclusive
from .flow import Flow
from .image import GRAY8, RGB8, decode, pixel_args
from .scorer import _is_encoded

#: enum ff_select_criterion
NORMAL_SPREAD, NORMAL_MEAN, IMAGE_AUROC, PIXEL_AUROC, MEAN_AUROC = 0, 1, 2, 3, 4
#: the criteria's names, in value order ("mean-auroc" is the CLI's default)
CRITERIA = ("normal-spread", "normal-mean", "image-auroc", "pixel-auroc", "mean-auroc")


def criterion_value(criterion):
    """The FF_SELECT_* value of a criterion given by name or value."""
    if isinstance(criterion, str):
        v = ctypes.c_int32()
        call("ff_select_criterion_from_name", criterion.encode(), ctypes.byref(v))
        return v.value
    return int(criterion)


def criterion_name(criterion):
    """The name of a criterion value ("mean-auroc"), or None when unknown."""
    name = _lib.lib().ff_select_criterion_name(int(criterion))
    return name.decode() if name is not None else None


def held_out(num_images, seed):
    """The indices (increasing) of the training images that ``fastflow train
    --epochs auto --seed SEED`` holds out of num_images for choosing the
    epoch: round(num_images / 10) clamped to [2, 16]; at least 3 images."""
    idx = (ctypes.c_uint64 * 16)()
    count = ctypes.c_uint64()
    call("ff_select_held_out", int(num_images), int(seed), idx, 16, ctypes.byref(count))
    return [int(idx[i]) for i in range(count.value)]


def _pixels(image, pixel_format):
    """An Image or pixel buffer for C: decodes paths and encoded bytes."""
    if isinstance(image, (str, os.PathLike)) or _is_encoded(image):
        return decode(image, pixel_format if pixel_format is not None else RGB8), None
    return image, pixel_format


class Selector(WorkingHandle):
    """Chooses when to stop training: after every epoch, :meth:`update`
    scores the trainer's flow (its moving average with ``ema_decay``) on the
    selection set, keeps it when the criterion improved and says when
    ``patience`` epochs brought no improvement (or ``max_epochs`` were
    scored); :meth:`best` returns the kept flow with a training record.

    The selection set is either held-out normal images (:meth:`add_normal`;
    two synthetic anomalies per image are drawn from ``seed``) or labelled
    images (:meth:`add_labelled`), not both, added before the first update.
    ``criterion``: a name of :data:`CRITERIA` or its value.
    :meth:`Trainer.train_auto` runs the whole loop."""

    _destroy_name = "ff_selector_destroy"
    _advice = "use one selector per thread"

    def __init__(self, flow, criterion="mean-auroc", max_epochs=20, patience=3, seed=0):
        out = _lib.selector_p()
        call("ff_selector_create", flow._handle(), criterion_value(criterion), int(max_epochs), int(patience),
             int(seed), ctypes.byref(out))
        super().__init__(out)
        self.criterion = criterion_name(criterion_value(criterion))
        self.curve = []  # the criterion after every update
        self.epoch = 0   # updates so far

    @exclusive
    def add_normal(self, image, pixel_format=None):
        """Adds a held-out normal image: a path, encoded bytes, or pixels."""
        image, pixel_format = _pixels(image, pixel_format)
        ptr, w, h, stride, fmt, keep = pixel_args(image, pixel_format)
        call("ff_selector_add_normal_image", self._handle(), ptr, w, h, stride, fmt)
        del keep

    @exclusive
    def add_labelled(self, image, anomalous, mask=None, pixel_format=None):
        """Adds a good (anomalous=False) or defect image; mask (optional): the
        ground truth as a path, encoded bytes or GRAY8 pixels, non-zero on
        the defect (the pixel criteria need masks)."""
        image, pixel_format = _pixels(image, pixel_format)
        ptr, w, h, stride, fmt, keep = pixel_args(image, pixel_format)
        mptr, mw, mh, mstride, mkeep = None, 0, 0, 0, None
        if mask is not None:
            mask, mfmt = _pixels(mask, GRAY8)
            mptr, mw, mh, mstride, mfmt, mkeep = pixel_args(mask, mfmt)
            if mfmt != GRAY8:
                raise ValueError("a mask has one channel (GRAY8)")
        call("ff_selector_add_labelled_image", self._handle(), ptr, w, h, stride, fmt, 1 if anomalous else 0,
             mptr, mw, mh, mstride)
        del keep, mkeep

    @exclusive
    def update(self, trainer):
        """Scores the trainer's flow after its latest epoch: returns
        (value, improved, stop)."""
        v, improved, stop = ctypes.c_double(), ctypes.c_int32(), ctypes.c_int32()
        call("ff_selector_update", self._handle(), trainer._handle(), ctypes.byref(v), ctypes.byref(improved),
             ctypes.byref(stop))
        self.curve.append(v.value)
        self.epoch += 1
        return v.value, bool(improved.value), bool(stop.value)

    @exclusive
    def best(self):
        """(Flow, epoch): the best epoch's flow, with the training record."""
        out, epoch = _lib.flow_p(), ctypes.c_int32()
        call("ff_selector_best", self._handle(), ctypes.byref(out), ctypes.byref(epoch))
        return Flow(out), epoch.value
