"""Training a flow (``ff_trainer``), driven from Python."""

import ctypes
import os
import sys
import time

from . import _lib
from ._handle import WorkingHandle, call, exclusive
from .flow import Flow
from .image import decode, pixel_args, RGB8
from .scorer import _is_encoded, _PRECISIONS

#: enum ff_trainer_param
BATCH_SIZE, LEARNING_RATE, WEIGHT_DECAY, SEED, NUM_THREADS, CACHE_MEMORY, EMA_DECAY = 1, 2, 3, 4, 5, 6, 7
PRECISION = 8
NUM_IMAGES, EPOCH, BATCH_IN_EPOCH, BATCHES_PER_EPOCH, STEPS, FEATURE_BYTES = 100, 101, 102, 103, 104, 105
FEATURE_BYTES_SPILLED = 106

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg")


class Trainer(WorkingHandle):
    """Trains a copy of a flow's parameters on normal images.

    Add images (their backbone features are computed now and cached: 688 KiB
    each for resnet18 at 256x256), then call :meth:`run_batch` or
    :meth:`run_epoch` as often as you like, or :meth:`fit` for N epochs with
    a progress display. :meth:`snapshot` returns the trained Flow.

    ``cache_memory`` (bytes, 0 = no limit; only before the first image):
    features beyond it go to a temporary file and are read back per batch;
    the trained model is the same.

    ``ema_decay`` (0 = off, the default; up to 0.999; only before the first
    batch): keep an exponential moving average of the parameters over
    epochs (after epoch 1 the parameters, then decay * average + (1 - decay)
    * parameters); :meth:`snapshot` then returns the average and
    :meth:`snapshot_raw` the parameters themselves.

    ``precision`` ("fp32", the default, or "bf16"; only before the first
    batch): "bf16" runs the flow's convolutions on bf16 inputs, weights and
    gradients (needs :func:`fastflow.cpu_supports_bf16`, else
    :class:`fastflow.Unsupported`); parameters, optimiser state and loss
    stay float32. "winograd" trains as "fp32". A checkpoint records a bf16
    run; restore it into a trainer of the same precision."""

    _destroy_name = "ff_trainer_destroy"
    _advice = "make the calls from one thread, or serialise them with a lock"

    def __init__(self, flow, batch_size=None, learning_rate=None, weight_decay=None, seed=None, num_threads=None,
                 cache_memory=None, ema_decay=None, precision=None):
        out = _lib.trainer_p()
        call("ff_trainer_create", flow._handle(), ctypes.byref(out))
        super().__init__(out, parents=(flow,))
        if batch_size is not None:
            self.batch_size = batch_size
        if learning_rate is not None:
            self.learning_rate = learning_rate
        if weight_decay is not None:
            self.weight_decay = weight_decay
        if seed is not None:
            self.seed = seed
        if num_threads is not None:
            self.num_threads = num_threads
        if cache_memory is not None:
            self.cache_memory = cache_memory
        if ema_decay is not None:
            self.ema_decay = ema_decay
        if precision is not None:
            self.precision = precision

    @exclusive
    def _i32(self, key):
        v = ctypes.c_int32()
        call("ff_trainer_get_i32", self._handle(), key, ctypes.byref(v))
        return v.value

    @exclusive
    def _i64(self, key):
        v = ctypes.c_int64()
        call("ff_trainer_get_i64", self._handle(), key, ctypes.byref(v))
        return v.value

    @exclusive
    def _f32(self, key):
        v = ctypes.c_float()
        call("ff_trainer_get_f32", self._handle(), key, ctypes.byref(v))
        return v.value

    @exclusive
    def _set(self, function, key, value):
        call(function, self._handle(), key, value)

    batch_size = property(lambda self: self._i32(BATCH_SIZE),
                          lambda self, v: self._set("ff_trainer_set_i32", BATCH_SIZE, int(v)))
    learning_rate = property(lambda self: self._f32(LEARNING_RATE),
                             lambda self, v: self._set("ff_trainer_set_f32", LEARNING_RATE, float(v)))
    weight_decay = property(lambda self: self._f32(WEIGHT_DECAY),
                            lambda self, v: self._set("ff_trainer_set_f32", WEIGHT_DECAY, float(v)))
    seed = property(lambda self: self._i64(SEED),
                    lambda self, v: self._set("ff_trainer_set_i64", SEED, int(v)))
    num_threads = property(lambda self: self._i32(NUM_THREADS),
                           lambda self, v: self._set("ff_trainer_set_i32", NUM_THREADS, int(v)),
                           doc="threads of this trainer's calls; 0 (the default) = the global count")
    num_images = property(lambda self: self._i64(NUM_IMAGES))
    epoch = property(lambda self: self._i64(EPOCH), doc="completed epochs")
    batch_in_epoch = property(lambda self: self._i64(BATCH_IN_EPOCH))
    batches_per_epoch = property(lambda self: self._i64(BATCHES_PER_EPOCH))
    steps = property(lambda self: self._i64(STEPS), doc="optimiser steps so far")
    feature_bytes = property(lambda self: self._i64(FEATURE_BYTES), doc="bytes of cached features")
    cache_memory = property(lambda self: self._i64(CACHE_MEMORY),
                            lambda self, v: call("ff_trainer_set_i64", self._handle(), CACHE_MEMORY, int(v)))
    ema_decay = property(lambda self: self._f32(EMA_DECAY),
                         lambda self, v: self._set("ff_trainer_set_f32", EMA_DECAY, float(v)),
                         doc="decay of the moving average of the parameters over epochs; 0 = off")

    @property
    def precision(self):
        """"fp32", "bf16" or "winograd" (trains as "fp32")."""
        v = self._i32(PRECISION)
        return next(k for k, x in _PRECISIONS.items() if x == v)

    @precision.setter
    def precision(self, value):
        if value not in _PRECISIONS:
            raise ValueError("precision must be 'fp32', 'bf16' or 'winograd', not %r" % (value,))
        self._set("ff_trainer_set_i32", PRECISION, _PRECISIONS[value])

    feature_bytes_spilled = property(lambda self: self._i64(FEATURE_BYTES_SPILLED),
                                     doc="of feature_bytes, those in the temporary file beyond cache_memory")

    @exclusive
    def add(self, image, pixel_format=None):
        """Adds one normal image: a path, encoded bytes, or pixels."""
        t = self._handle()
        if isinstance(image, (str, os.PathLike)):
            call("ff_trainer_add_image_file", t, os.fsencode(image))
            return
        if _is_encoded(image):
            image = decode(image, RGB8)
        ptr, w, h, stride, fmt, keep = pixel_args(image, pixel_format)
        call("ff_trainer_add_image", t, ptr, w, h, stride, fmt)
        del keep

    @exclusive
    def add_many(self, images):
        for im in images:
            self.add(im)

    @exclusive
    def add_folder(self, folder, extensions=IMAGE_EXTENSIONS):
        """Adds every image file of a folder (sorted by name); returns the count."""
        names = sorted(n for n in os.listdir(folder) if n.lower().endswith(tuple(extensions)))
        for n in names:
            self.add(os.path.join(folder, n))
        return len(names)

    @exclusive
    def run_batch(self):
        """One optimiser step on the next shuffled batch; returns its loss."""
        loss = ctypes.c_float()
        call("ff_trainer_run_batch", self._handle(), ctypes.byref(loss))
        return loss.value

    @exclusive
    def run_epoch(self):
        """The rest of the current epoch; returns its mean batch loss."""
        loss = ctypes.c_float()
        call("ff_trainer_run_epoch", self._handle(), ctypes.byref(loss))
        return loss.value

    @exclusive
    def fit(self, epochs, progress=None, file=None):
        """Trains `epochs` epochs batch by batch; returns each epoch's mean loss.

        progress: None/False (quiet), True (a bar on a terminal, one line per
        epoch otherwise), or a callable receiving a Progress after every
        batch; it may return False to stop early."""
        file = file if file is not None else sys.stderr
        show = _ProgressDisplay(file) if progress is True else None
        losses = []
        start = time.monotonic()
        for e in range(int(epochs)):
            total, n = 0.0, 0
            per_epoch = self.batches_per_epoch
            current = self.epoch
            while True:
                loss = self.run_batch()
                total += loss
                n += 1
                epoch_over = self.epoch != current  # the counter moves after the last batch
                batch = per_epoch if epoch_over else self.batch_in_epoch
                info = Progress(e + 1, int(epochs), batch, per_epoch, loss, total / n, time.monotonic() - start)
                if show:
                    show.update(info, epoch_over)
                elif callable(progress) and progress(info) is False:
                    losses.append(total / n)
                    return losses
                if epoch_over:
                    break
            losses.append(total / n)
        return losses

    @exclusive
    def snapshot(self):
        """A trained, immutable Flow with the current parameters (with
        ema_decay > 0: their moving average as of the last completed epoch)."""
        out = _lib.flow_p()
        call("ff_trainer_snapshot", self._handle(), ctypes.byref(out))
        return Flow(out)

    @exclusive
    def snapshot_raw(self):
        """As snapshot(), but always the current parameters, also with ema_decay > 0
        (experimental in the C API: ff_trainer_snapshot_raw)."""
        out = _lib.flow_p()
        call("ff_trainer_snapshot_raw", self._handle(), ctypes.byref(out))
        return Flow(out)

    @exclusive
    def train_auto(self, selection, criterion="mean-auroc", max_epochs=20, patience=3, seed=None, labels=None,
                   masks=None, on_epoch=None):
        """Trains epoch by epoch, choosing when to stop on held-out images as
        ``fastflow train --epochs auto`` does (a :class:`Selector`); returns
        (Flow, chosen epoch): the best epoch's flow with its training record.

        selection: held-out normal images (paths, encoded bytes or pixels;
        two synthetic anomalies are added per image, drawn from seed, by
        default the trainer's) that the trainer was not given, or with
        labels (0 good / 1 defect, one per image) a labelled set, with masks
        (optional; per image a mask or None) for the pixel criteria.
        :func:`fastflow.selector.held_out` tells which training images the
        CLI holds out. on_epoch (optional) is called after every epoch with
        (epoch, loss, value, improved)."""
        from .selector import Selector
        with self.snapshot() as flow:
            sel = Selector(flow, criterion, max_epochs, patience, self.seed if seed is None else seed)
        with sel:
            for i, image in enumerate(selection):
                if labels is None:
                    sel.add_normal(image)
                else:
                    sel.add_labelled(image, labels[i], masks[i] if masks is not None else None)
            while True:
                loss = self.run_epoch()
                value, improved, stop = sel.update(self)
                if on_epoch is not None:
                    on_epoch(sel.epoch, loss, value, improved)
                if stop:
                    break
            return sel.best()

    @exclusive
    def save_checkpoint(self, path):
        """Writes the whole training state (parameters, Adam, position, generator,
        settings, fingerprints of the start flow and of the images) atomically."""
        call("ff_trainer_save_checkpoint", self._handle(), os.fsencode(path))

    @exclusive
    def restore_checkpoint(self, path):
        """Loads a checkpoint written for the same flow and images (added in the
        same order); training on gives what the uninterrupted run gives."""
        call("ff_trainer_restore_checkpoint", self._handle(), os.fsencode(path))

    @exclusive
    def save(self, path, embed_backbone=True):
        """Saves snapshot() as a model file (atomically)."""
        with self.snapshot() as flow:
            flow.save(path, embed_backbone)


class Progress:
    """Where training is after a batch (passed to a fit() callback)."""

    __slots__ = ("epoch", "epochs", "batch", "batches", "loss", "epoch_loss", "elapsed")

    def __init__(self, epoch, epochs, batch, batches, loss, epoch_loss, elapsed):
        self.epoch, self.epochs, self.batch, self.batches = epoch, epochs, batch, batches
        self.loss, self.epoch_loss, self.elapsed = loss, epoch_loss, elapsed

    @property
    def fraction(self):
        per = max(self.batches, 1)
        return ((self.epoch - 1) * per + self.batch) / float(self.epochs * per)

    @property
    def remaining(self):
        """Estimated seconds left, from the mean time per batch so far."""
        f = self.fraction
        return self.elapsed * (1.0 - f) / f if f > 0 else float("nan")

    def __repr__(self):
        return ("Progress(epoch %d/%d, batch %d/%d, loss %.4g)"
                % (self.epoch, self.epochs, self.batch, self.batches, self.loss))


class _ProgressDisplay:
    """A one-line bar on a terminal; one line per epoch elsewhere (logs)."""

    def __init__(self, file):
        self.file = file
        isatty = getattr(file, "isatty", None)
        self.tty = bool(isatty and isatty())

    def update(self, p, epoch_over):
        if self.tty:
            width = 24
            filled = int(round(width * p.batch / max(p.batches, 1)))
            self.file.write("\repoch %d/%d [%s%s] batch %d/%d loss %.4g  %s left "
                            % (p.epoch, p.epochs, "#" * filled, "." * (width - filled), p.batch, p.batches,
                               p.loss, _duration(p.remaining)))
            if epoch_over:
                self.file.write("\n")
        elif epoch_over:
            self.file.write("epoch %d/%d: mean loss %.6g (%d batches, %s elapsed, %s left)\n"
                            % (p.epoch, p.epochs, p.epoch_loss, p.batch, _duration(p.elapsed),
                               _duration(p.remaining)))
        self.file.flush()


def _duration(seconds):
    if seconds != seconds:  # NaN
        return "?"
    s = int(round(seconds))
    return "%d:%02d" % (s // 60, s % 60) if s < 3600 else "%d:%02d:%02d" % (s // 3600, s // 60 % 60, s % 60)
