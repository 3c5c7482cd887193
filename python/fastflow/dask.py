"""Scoring large image collections on a Dask cluster.

    import fastflow.dask
    from distributed import Client
    client = Client("tcp://scheduler:8786")
    df = fastflow.dask.score("/archive/line3/**/*.png", "/models/bottle.safetensors",
                             maps_dir="/archive/maps", root="/archive")
    df.compute()            # pandas: path, score, anomalous, status, error, map_path

Each worker process loads the model once (a per-process cache keyed by the
file's path, size and modification time) and keeps one scorer per worker
thread (scorers are single-thread objects). An image that cannot be scored
(missing, corrupt, too large) is reported in its row (status, error) and
never fails the job. Scores and maps are bit-identical to a single-process
run: each image is scored by the same library code, whatever worker runs it.

Paths must name the same files on every worker (a shared file system), as
must the model path. This module needs Debian's python3-dask,
python3-distributed and python3-pandas (pip: "dask[distributed]" pandas);
``import fastflow`` does not import it.
"""

import glob
import os
import threading

try:
    import dask.bag
    import dask.dataframe as dd
    import numpy as np
    import pandas as pd
except ImportError as e:  # pragma: no cover - depends on the machine
    raise ImportError("fastflow.dask needs dask, pandas and numpy (Debian: python3-dask python3-distributed "
                      "python3-pandas): %s" % e) from e

import fastflow
from .errors import FastFlowError, INVALID_ARGUMENT, IO

#: The columns of the result, in order, and their dtypes. score is float32
#: (the library's value, unchanged; NaN when the image failed), anomalous
#: a nullable boolean (NA without a model threshold or on failure), status
#: the ff_status code (0 = scored), error the message ("" when scored),
#: map_path the .npy written ("" without maps_dir or on failure).
COLUMNS = {"path": object, "score": "float32", "anomalous": "boolean", "status": "int32", "error": object,
           "map_path": object}

_MODELS = {}  # per worker process: model key -> fastflow.Flow
_MODELS_LOCK = threading.Lock()
_THREAD = threading.local()  # per worker thread: model key -> Scorer
_LIBRARY_THREADS = [None]  # the FF_GLOBAL_NUM_THREADS this process last set
_STATS = {"models_loaded": 0, "scorers_created": 0}  # this process's, for worker_stats()


def _meta():
    return pd.DataFrame({k: pd.Series(dtype=v) for k, v in COLUMNS.items()})


def _model_key(model):
    st = os.stat(model)
    return (os.path.abspath(model), st.st_size, st.st_mtime_ns)


def _flow(key):
    """The process's Flow for a model key, loaded on first use."""
    with _MODELS_LOCK:
        flow = _MODELS.get(key)
        if flow is None:
            flow = _MODELS[key] = fastflow.Flow.load(key[0])
            _STATS["models_loaded"] += 1
        return flow


def _scorer(key, options):
    """This thread's Scorer for a model key and scorer options."""
    scorers = getattr(_THREAD, "scorers", None)
    if scorers is None:
        scorers = _THREAD.scorers = {}
    k = (key, tuple(sorted(options.items())))
    sc = scorers.get(k)
    if sc is None:
        sc = scorers[k] = _flow(key).scorer(**options)
        with _MODELS_LOCK:
            _STATS["scorers_created"] += 1
    return sc


def worker_stats():
    """This process's model loads and scorers created so far, e.g. from a
    client: client.run(fastflow.dask.worker_stats) -> {worker: {...}}. A
    worker loads each model file once and makes one scorer per thread."""
    with _MODELS_LOCK:
        return dict(_STATS)


def map_path(path, maps_dir, root="/"):
    """The .npy file of an image's map: the image's path relative to root,
    with ".npy" appended, under maps_dir (deterministic, and distinct for
    distinct images: bottle/test/good/000.png -> MAPS/bottle/test/good/000.png.npy).
    ValueError for a path outside root."""
    rel = os.path.relpath(os.path.abspath(path), os.path.abspath(root))
    if rel == os.curdir or rel == os.pardir or rel.startswith(os.pardir + os.sep):
        raise ValueError("%s is not inside the maps root %s" % (path, root))
    return os.path.join(maps_dir, rel + ".npy")


def _save_npy(path, values):
    """Writes a float32 array atomically: a temporary file in the same
    folder (unique per process and thread), then a rename, so that a reader
    or a re-run task never sees half a file."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = "%s.tmp-%d-%d" % (path, os.getpid(), threading.get_ident())
    try:
        with open(tmp, "wb") as f:
            np.save(f, np.asarray(values, dtype=np.float32))
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _score_partition(part, model_key, options, maps_dir, root, library_threads):
    """Scores a pandas partition with a 'path' column; one row out per row in."""
    if library_threads is not None and _LIBRARY_THREADS[0] != library_threads:
        fastflow.set_num_threads(library_threads)  # global: set once per process
        _LIBRARY_THREADS[0] = library_threads
    sc = _scorer(model_key, options)
    rows = {k: [] for k in COLUMNS}
    for path in part["path"]:
        score, anomalous, status, error, out = np.float32("nan"), pd.NA, 0, "", ""
        try:
            if not isinstance(path, (str, os.PathLike)):  # e.g. a missing value in a user's dataframe
                raise ValueError("not a path: %r" % (path,))
            path = os.fspath(path)
            r = sc.score(path, map=bool(maps_dir))
            if maps_dir:
                out = map_path(path, maps_dir, root)
                _save_npy(out, r.map)
            score = np.float32(r.score)
            anomalous = pd.NA if r.anomalous is None else bool(r.anomalous)
        except FastFlowError as e:
            status, error = e.status, str(e)
        except ValueError as e:  # not a path, or outside the maps root
            status, error = INVALID_ARGUMENT, str(e)
        except OSError as e:  # the map could not be written
            status, error = IO, str(e)
        if status:
            out = ""
        for k, v in zip(COLUMNS, (path, score, anomalous, status, error, out)):
            rows[k].append(v)
    return pd.DataFrame({k: pd.Series(v, dtype=COLUMNS[k], index=part.index) for k, v in rows.items()})


def _expand(pattern_or_path):
    if glob.has_magic(pattern_or_path):
        return sorted(glob.glob(pattern_or_path, recursive=True))
    return [pattern_or_path]


def paths_frame(images, partition_size=16):
    """A Dask dataframe with one 'path' column from: a path or glob pattern
    (str or os.PathLike; '**' recurses), a list of them (expanded here, on
    the client, in order), a Dask bag of paths, a Dask series of paths, or
    a Dask dataframe with a 'path' column. Lists are split into partitions
    of partition_size paths: a partition is one task, scored by one thread."""
    if isinstance(images, dd.DataFrame):
        if "path" not in images.columns:
            raise ValueError("the dataframe needs a 'path' column")
        return images[["path"]]
    if isinstance(images, dd.Series):
        return images.rename("path").to_frame()
    if isinstance(images, dask.bag.Bag):
        return images.map(lambda p: {"path": os.fspath(p)}).to_dataframe(
            meta=pd.DataFrame({"path": pd.Series(dtype=object)}))
    if isinstance(images, (str, os.PathLike)):
        images = [images]
    paths = [p for item in images for p in _expand(os.fspath(item))]
    if not paths:
        raise ValueError("no images: %r matched nothing" % (images,))
    if partition_size < 1:
        raise ValueError("partition_size must be >= 1")
    frame = pd.DataFrame({"path": pd.Series(paths, dtype=object)})
    return dd.from_pandas(frame, npartitions=max(1, -(-len(paths) // partition_size)), sort=False)


def score(images, model, maps_dir=None, root="/", partition_size=16, library_threads=None, **scorer_options):
    """Scores a collection of images on the current Dask scheduler (a
    distributed Client when one is active); returns a lazy Dask dataframe
    with the columns of COLUMNS, one row per input path, in input order.

    images: see paths_frame. model: a model file readable by every worker.
    maps_dir: when given, each map is written to map_path(path, maps_dir,
    root) as float32 .npy (atomically) and its path put in 'map_path'.
    library_threads: FF_GLOBAL_NUM_THREADS for each worker process (None
    leaves the library's default, all cores; with several worker processes
    or threads on one machine, threads x library_threads ~ cores is best).
    scorer_options: map_size, smooth_sigma, normalized (see Scorer)."""
    paths = paths_frame(images, partition_size)
    key = _model_key(os.fspath(model))
    if maps_dir is not None:
        maps_dir = os.path.abspath(os.fspath(maps_dir))
    return paths.map_partitions(_score_partition, key, dict(scorer_options), maps_dir, os.fspath(root),
                                library_threads, meta=_meta(), enforce_metadata=False)


__all__ = ["COLUMNS", "score", "paths_frame", "map_path", "worker_stats"]
