"""Loading libfastflow and declaring the C prototypes for ctypes.

The library is looked up, in order:

1. ``$FASTFLOW_LIBRARY``: a path to ``libfastflow.so`` (or any file name
   the dynamic loader accepts). When set, nothing else is tried.
2. The build tree of a source checkout this package sits in
   (``python/fastflow/`` inside the repository): ``<repo>/build/lib/``
   first, then every other ``<repo>/build*/lib/``, the most recently built
   library first. An installed package (site-packages) has no such tree.
3. The system: the soname ``libfastflow.so.0`` through the dynamic loader
   (``LD_LIBRARY_PATH``, the ld.so cache), then
   ``ctypes.util.find_library("fastflow")``.

Every function of include/fastflow.h is declared in ``PROTOTYPES`` with its
exact C types; tests/test_header_pycparser.py checks the table against the
header, so an added or changed declaration cannot be missed here.
"""

import ctypes
import ctypes.util
import glob
import os
import threading

from ctypes import (POINTER, c_char_p, c_double, c_float, c_int32, c_int64, c_size_t, c_uint8,
                    c_uint32, c_uint64, c_void_p)

#: The ABI major version (the soname) this binding is written for.
ABI_MAJOR = 0
SONAME = "libfastflow.so.%d" % ABI_MAJOR


# Opaque handle types: distinct pointer types, so that passing a scorer where
# a flow is expected is a ctypes.ArgumentError instead of a crash.
class ff_backbone(ctypes.Structure):
    pass


class ff_extractor(ctypes.Structure):
    pass


class ff_flow(ctypes.Structure):
    pass


class ff_flow_options(ctypes.Structure):
    pass


class ff_trainer(ctypes.Structure):
    pass


class ff_scorer(ctypes.Structure):
    pass


class ff_selector(ctypes.Structure):
    pass


ff_status = c_int32
P = POINTER
backbone_p = P(ff_backbone)
extractor_p = P(ff_extractor)
flow_p = P(ff_flow)
flow_options_p = P(ff_flow_options)
trainer_p = P(ff_trainer)
scorer_p = P(ff_scorer)
selector_p = P(ff_selector)

# name: (restype, [argtypes]) -- in header order.
PROTOTYPES = {
    # status, errors, version, global settings
    "ff_status_string": (c_char_p, [ff_status]),
    "ff_last_error_message": (c_char_p, []),
    "ff_version_number": (c_uint32, []),
    "ff_version_string": (c_char_p, []),
    "ff_build_info": (c_char_p, []),
    "ff_global_set_i64": (ff_status, [c_int32, c_int64]),
    "ff_global_get_i64": (ff_status, [c_int32, P(c_int64)]),
    "ff_cpu_supports": (ff_status, [c_int32, P(c_int32)]),
    "ff_param_info": (ff_status, [c_int32, c_int32, P(c_int32), P(c_double), P(c_double), P(c_double), P(c_int32)]),
    "ff_param_name": (c_char_p, [c_int32, c_int32]),
    "ff_param_key": (ff_status, [c_int32, c_char_p, P(c_int32)]),
    "ff_param_count": (ff_status, [c_int32, P(c_int32)]),
    "ff_param_key_at": (ff_status, [c_int32, c_int32, P(c_int32)]),
    # images
    "ff_pixel_format_channels": (c_int32, [c_int32]),
    "ff_image_probe_file": (ff_status, [c_char_p, P(c_int32), P(c_int32), P(c_int32)]),
    "ff_image_probe_memory": (ff_status, [c_void_p, c_size_t, P(c_int32), P(c_int32), P(c_int32)]),
    "ff_image_decode_file": (ff_status, [c_char_p, c_int32, P(c_uint8), c_size_t, c_size_t]),
    "ff_image_decode_memory": (ff_status, [c_void_p, c_size_t, c_int32, P(c_uint8), c_size_t, c_size_t]),
    "ff_image_write_png": (ff_status, [c_char_p, P(c_uint8), c_int32, c_int32, c_size_t, c_int32]),
    "ff_image_preprocess": (ff_status, [P(c_uint8), c_int32, c_int32, c_size_t, c_int32, c_int32, c_int32,
                                        P(c_float), c_size_t]),
    # backbones
    "ff_backbone_load": (ff_status, [c_char_p, c_char_p, P(backbone_p)]),
    "ff_backbone_load_from_memory": (ff_status, [c_char_p, c_void_p, c_size_t, P(backbone_p)]),
    "ff_backbone_destroy": (None, [backbone_p]),
    "ff_backbone_arch_count": (c_int32, []),
    "ff_backbone_arch_name": (c_char_p, [c_int32]),
    "ff_backbone_arch": (c_char_p, [backbone_p]),
    "ff_backbone_num_levels": (ff_status, [backbone_p, P(c_int32)]),
    "ff_backbone_level_shape": (ff_status, [backbone_p, c_int32, c_int32, c_int32, P(c_int32), P(c_int32),
                                            P(c_int32)]),
    "ff_extractor_create": (ff_status, [backbone_p, P(extractor_p)]),
    "ff_extractor_destroy": (None, [extractor_p]),
    "ff_extractor_run": (ff_status, [extractor_p, P(c_float), c_int32, c_int32, c_int32]),
    "ff_extractor_set_i32": (ff_status, [extractor_p, c_int32, c_int32]),
    "ff_extractor_get_i32": (ff_status, [extractor_p, c_int32, P(c_int32)]),
    "ff_extractor_read": (ff_status, [extractor_p, c_int32, P(c_float), c_size_t]),
    # flows
    "ff_flow_options_create": (ff_status, [P(flow_options_p)]),
    "ff_flow_options_destroy": (None, [flow_options_p]),
    "ff_flow_options_set_i32": (ff_status, [flow_options_p, c_int32, c_int32]),
    "ff_flow_options_set_i64": (ff_status, [flow_options_p, c_int32, c_int64]),
    "ff_flow_options_set_f32": (ff_status, [flow_options_p, c_int32, c_float]),
    "ff_flow_options_get_i32": (ff_status, [flow_options_p, c_int32, P(c_int32)]),
    "ff_flow_options_get_i64": (ff_status, [flow_options_p, c_int32, P(c_int64)]),
    "ff_flow_options_get_f32": (ff_status, [flow_options_p, c_int32, P(c_float)]),
    "ff_flow_create": (ff_status, [backbone_p, flow_options_p, P(flow_p)]),
    "ff_flow_load": (ff_status, [c_char_p, backbone_p, P(flow_p)]),
    "ff_flow_save": (ff_status, [flow_p, c_char_p, c_int32]),
    "ff_flow_destroy": (None, [flow_p]),
    "ff_flow_backbone": (backbone_p, [flow_p]),
    "ff_flow_get_i32": (ff_status, [flow_p, c_int32, P(c_int32)]),
    "ff_flow_get_i64": (ff_status, [flow_p, c_int32, P(c_int64)]),
    "ff_flow_get_f32": (ff_status, [flow_p, c_int32, P(c_float)]),
    # training
    "ff_trainer_create": (ff_status, [flow_p, P(trainer_p)]),
    "ff_trainer_destroy": (None, [trainer_p]),
    "ff_trainer_set_i32": (ff_status, [trainer_p, c_int32, c_int32]),
    "ff_trainer_set_i64": (ff_status, [trainer_p, c_int32, c_int64]),
    "ff_trainer_set_f32": (ff_status, [trainer_p, c_int32, c_float]),
    "ff_trainer_get_i32": (ff_status, [trainer_p, c_int32, P(c_int32)]),
    "ff_trainer_get_i64": (ff_status, [trainer_p, c_int32, P(c_int64)]),
    "ff_trainer_get_f32": (ff_status, [trainer_p, c_int32, P(c_float)]),
    "ff_trainer_add_image": (ff_status, [trainer_p, P(c_uint8), c_int32, c_int32, c_size_t, c_int32]),
    "ff_trainer_add_image_file": (ff_status, [trainer_p, c_char_p]),
    "ff_trainer_run_batch": (ff_status, [trainer_p, P(c_float)]),
    "ff_trainer_run_epoch": (ff_status, [trainer_p, P(c_float)]),
    "ff_trainer_snapshot": (ff_status, [trainer_p, P(flow_p)]),
    "ff_trainer_snapshot_raw": (ff_status, [trainer_p, P(flow_p)]),
    "ff_trainer_save_checkpoint": (ff_status, [trainer_p, c_char_p]),
    "ff_trainer_restore_checkpoint": (ff_status, [trainer_p, c_char_p]),
    # scoring
    "ff_scorer_create": (ff_status, [flow_p, P(scorer_p)]),
    "ff_scorer_destroy": (None, [scorer_p]),
    "ff_scorer_map_shape": (ff_status, [scorer_p, P(c_int32), P(c_int32)]),
    "ff_scorer_score_image": (ff_status, [scorer_p, P(c_uint8), c_int32, c_int32, c_size_t, c_int32, P(c_float),
                                          c_size_t, P(c_float)]),
    "ff_scorer_score_file": (ff_status, [scorer_p, c_char_p, P(c_float), c_size_t, P(c_float)]),
    "ff_scorer_score_memory": (ff_status, [scorer_p, c_void_p, c_size_t, P(c_float), c_size_t, P(c_float)]),
    "ff_scorer_score_files": (ff_status, [scorer_p, c_char_p, c_size_t, c_size_t, P(c_float), c_size_t,
                                          P(c_float), P(c_int32)]),
    "ff_scorer_progress": (ff_status, [scorer_p, P(c_int64), P(c_int64), P(c_int64), P(c_double)]),
    "ff_scorer_score_tensor": (ff_status, [scorer_p, P(c_float), c_int32, P(c_float), c_size_t, P(c_float),
                                           c_size_t]),
    "ff_scorer_set_i32": (ff_status, [scorer_p, c_int32, c_int32]),
    "ff_scorer_set_f32": (ff_status, [scorer_p, c_int32, c_float]),
    "ff_scorer_get_i32": (ff_status, [scorer_p, c_int32, P(c_int32)]),
    "ff_scorer_get_f32": (ff_status, [scorer_p, c_int32, P(c_float)]),
    "ff_scorer_map_shape_for": (ff_status, [scorer_p, c_int32, c_int32, P(c_int32), P(c_int32)]),
    "ff_scorer_last_decisions": (ff_status, [scorer_p, P(c_int32), c_size_t]),
    "ff_score_statistics": (ff_status, [P(c_float), P(c_float), P(c_uint8), P(c_uint8), c_int32, c_int32, c_int32,
                                        P(c_float), P(c_float), P(c_float), P(c_float)]),
    "ff_flow_with_statistics": (ff_status, [flow_p, c_float, c_float, c_float, c_float, c_char_p, P(flow_p)]),
    "ff_flow_get_statistic": (ff_status, [flow_p, c_int32, P(c_float)]),
    "ff_flow_with_training_record": (ff_status, [flow_p, c_char_p, P(flow_p)]),
    "ff_flow_get_training_record": (ff_status, [flow_p, c_char_p, c_size_t, P(c_size_t)]),
    # choosing the epoch (experimental)
    "ff_select_criterion_name": (c_char_p, [c_int32]),
    "ff_select_criterion_from_name": (ff_status, [c_char_p, P(c_int32)]),
    "ff_select_held_out": (ff_status, [c_uint64, c_int64, P(c_uint64), c_uint64, P(c_uint64)]),
    "ff_selector_create": (ff_status, [flow_p, c_int32, c_int32, c_int32, c_int64, P(selector_p)]),
    "ff_selector_destroy": (None, [selector_p]),
    "ff_selector_add_normal_image": (ff_status, [selector_p, P(c_uint8), c_int32, c_int32, c_size_t, c_int32]),
    "ff_selector_add_labelled_image": (ff_status, [selector_p, P(c_uint8), c_int32, c_int32, c_size_t, c_int32,
                                                  c_int32, P(c_uint8), c_int32, c_int32, c_size_t]),
    "ff_selector_update": (ff_status, [selector_p, trainer_p, P(c_double), P(c_int32), P(c_int32)]),
    "ff_selector_best": (ff_status, [selector_p, P(flow_p), P(c_int32)]),
    # metrics
    "ff_metric_auroc": (ff_status, [P(c_float), P(c_uint8), c_uint64, P(c_double)]),
    "ff_metric_pro": (ff_status, [P(c_float), P(c_uint8), c_int32, c_int32, c_int32, c_double, P(c_double)]),
    "ff_metric_f1_optimal": (ff_status, [P(c_float), P(c_uint8), c_uint64, P(c_double), P(c_float)]),
    # heatmaps
    "ff_heatmap_render": (ff_status, [P(c_float), c_int32, c_int32, c_float, c_float, P(c_uint8), c_int32,
                                      c_int32, c_size_t, c_int32, c_float, P(c_uint8), c_size_t, c_size_t]),
    "ff_heatmap_draw_contour": (ff_status, [P(c_uint8), c_int32, c_int32, c_size_t, c_uint32, P(c_uint8),
                                            c_int32, c_int32, c_size_t, c_size_t]),
}


def _repo_root():
    # python/fastflow/_lib.py -> the repository root, two folders up
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build_tree_candidates():
    """Libraries in the build folders of the checkout around this package,
    in the order they are tried (documented in the module docstring)."""
    root = _repo_root()
    if not os.path.isfile(os.path.join(root, "include", "fastflow.h")):
        return []  # not a source checkout (e.g. installed in site-packages)
    found = []
    preferred = os.path.join(root, "build", "lib", "libfastflow.so")
    if os.path.exists(preferred):
        found.append(preferred)
    others = []
    for p in glob.glob(os.path.join(root, "build*", "lib", "libfastflow.so")):
        if os.path.abspath(p) == os.path.abspath(preferred):
            continue
        try:
            others.append((os.path.getmtime(p), p))  # follows the symlink: a dangling one is skipped
        except OSError:
            pass
    others.sort(reverse=True)
    return found + [p for _, p in others]


def _declare(lib):
    missing = []
    for name, (restype, argtypes) in PROTOTYPES.items():
        try:
            fn = getattr(lib, name)
        except AttributeError:
            missing.append(name)
            continue
        fn.restype = restype
        fn.argtypes = argtypes
    return missing


# The OpenMP spin count libgomp gets when the environment sets neither
# GOMP_SPINCOUNT nor OMP_WAIT_POLICY: the fastflow command's default
# (FF_CLI_GOMP_SPINCOUNT in tools/fastflow/omp_wait.h, which says why; a test
# keeps the two equal). libgomp reads it once, when it is loaded, so it
# applies only when loading libfastflow is what loads libgomp.
GOMP_SPINCOUNT_DEFAULT = "10000"


def _cdll(path):
    """ctypes.CDLL(path) with GOMP_SPINCOUNT_DEFAULT in the environment while
    the library (and with it libgomp) loads; the environment is left as it
    was afterwards."""
    if "GOMP_SPINCOUNT" in os.environ or "OMP_WAIT_POLICY" in os.environ:
        return ctypes.CDLL(path)
    os.environ["GOMP_SPINCOUNT"] = GOMP_SPINCOUNT_DEFAULT
    try:
        return ctypes.CDLL(path)
    finally:
        del os.environ["GOMP_SPINCOUNT"]


def _open():
    tried = []
    env = os.environ.get("FASTFLOW_LIBRARY")
    if env:
        try:
            return _cdll(env), env
        except OSError as e:
            raise ImportError("FASTFLOW_LIBRARY=%s cannot be loaded: %s" % (env, e)) from None
    for path in build_tree_candidates() + [SONAME]:
        try:
            return _cdll(path), path
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
    name = ctypes.util.find_library("fastflow")
    if name:
        try:
            return _cdll(name), name
        except OSError as e:
            tried.append("%s (%s)" % (name, e))
    raise ImportError("libfastflow not found: set FASTFLOW_LIBRARY to the path of libfastflow.so, build it "
                      "in the source tree (meson setup build && ninja -C build), or install it. Tried: "
                      + "; ".join(tried or ["nothing"]))


_lock = threading.Lock()
_lib = None
_path = None


def lib():
    """The loaded library with every prototype declared (loaded once)."""
    global _lib, _path
    if _lib is None:
        with _lock:
            if _lib is None:
                handle, path = _open()
                missing = _declare(handle)
                version = handle.ff_version_number() if "ff_version_number" not in missing else 0
                if version // 10000 != ABI_MAJOR:
                    raise ImportError("%s has ABI version %d.x; this binding needs %d.x"
                                      % (path, version // 10000, ABI_MAJOR))
                # `missing` is only non-empty for an older 0.x library:
                # what it has works, the rest raises AttributeError.
                _path = path
                _lib = handle
    return _lib


def library_path():
    """The file the library was loaded from."""
    lib()
    return _path
