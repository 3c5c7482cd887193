"""fastflow: Python binding of libfastflow (FastFlow visual anomaly detection).

Quick tour::

    import fastflow
    bb = fastflow.Backbone.load("resnet18", "resnet18.safetensors")
    flow = fastflow.Flow.create(bb, input_size=256)
    with fastflow.Trainer(flow, batch_size=32) as tr:
        tr.add_folder("bottle/train/good")
        tr.fit(10, progress=True)
        model = tr.snapshot()
    model.save("bottle.safetensors")
    result = model.score("bottle/test/broken_large/000.png")
    print(result.score, result.map.shape)

The library is found through $FASTFLOW_LIBRARY, the source checkout's build
folders, then the system (see fastflow._lib). numpy is optional: with it,
maps are numpy arrays; without it (or with FASTFLOW_NO_NUMPY=1), memoryviews.
"""

import ctypes

from . import _buffers, _lib, image, metrics, params, safetensors
from ._handle import call
from .backbone import Backbone, Extractor
from .errors import (BadFormat, BufferTooSmall, FastFlowError, InternalError, InvalidArgument, IOFailure,
                     LimitExceeded, NumericError, OutOfMemory, StateError, Unsupported)
from .flow import Flow, FlowOptions
from .image import BGR8, GRAY8, RGB8, RGBA8, Image
from .metrics import auroc, f1_optimal, pro, score_statistics
from .scorer import Score, Scorer
from .selector import Selector
from .trainer import Progress, Trainer

__version__ = "0.1.0"

# enum ff_global_param
_MAX_IMAGE_PIXELS = 1
_NUM_THREADS = 2
_EXIF_ORIENTATION = 3


def __getattr__(name):
    # ARCHITECTURES: the library's list, read on first use (fastflow.params)
    if name == "ARCHITECTURES":
        return params.architectures()
    raise AttributeError("module %r has no attribute %r" % (__name__, name))


def version():
    """The loaded library's version string, e.g. "0.1.0"."""
    return _lib.lib().ff_version_string().decode()


def version_number():
    """MAJOR*10000 + MINOR*100 + PATCH of the loaded library."""
    return int(_lib.lib().ff_version_number())


def build_info():
    """The library's build details (oneDNN version and runtime, codecs)."""
    return _lib.lib().ff_build_info().decode()


def library_path():
    """The libfastflow file this package loaded."""
    return _lib.library_path()


def numpy_enabled():
    """True when results come back as numpy arrays."""
    return _buffers.np is not None


def _get(key):
    v = ctypes.c_int64()
    call("ff_global_get_i64", key, ctypes.byref(v))
    return v.value


def set_num_threads(n):
    """Threads each computation uses (global); 0 = all cores."""
    call("ff_global_set_i64", _NUM_THREADS, int(n))


def get_num_threads():
    return _get(_NUM_THREADS)


#: enum ff_cpu_feature
_CPU_BF16 = 1


def cpu_supports_bf16():
    """True when the CPU runs bf16 natively (AVX512-BF16 or AMX, as oneDNN
    sees it), so that Scorer(precision="bf16") is available."""
    v = ctypes.c_int32()
    call("ff_cpu_supports", _CPU_BF16, ctypes.byref(v))
    return v.value == 1


def set_max_image_pixels(n):
    """Images with more pixels are rejected before decoding (global)."""
    call("ff_global_set_i64", _MAX_IMAGE_PIXELS, int(n))


def get_max_image_pixels():
    return _get(_MAX_IMAGE_PIXELS)


def set_exif_orientation(apply):
    """Whether a JPEG's EXIF orientation is applied when decoding (global;
    default True, as PIL's ImageOps.exif_transpose); False: pixels as stored."""
    call("ff_global_set_i64", _EXIF_ORIENTATION, 1 if apply else 0)


def get_exif_orientation():
    return bool(_get(_EXIF_ORIENTATION))


__all__ = [
    "ARCHITECTURES", "Backbone", "Extractor", "Flow", "FlowOptions", "Trainer", "Progress", "Selector", "Scorer", "Score",
    "Image", "GRAY8", "RGB8", "RGBA8", "BGR8", "image", "metrics", "params", "safetensors", "auroc", "pro", "f1_optimal",
    "score_statistics",
    "FastFlowError", "InvalidArgument", "IOFailure", "BadFormat", "Unsupported", "OutOfMemory",
    "BufferTooSmall", "LimitExceeded", "StateError", "NumericError", "InternalError",
    "version", "version_number", "build_info", "library_path", "numpy_enabled", "set_num_threads",
    "get_num_threads", "set_max_image_pixels", "get_max_image_pixels", "cpu_supports_bf16",
    "set_exif_orientation", "get_exif_orientation",
]
