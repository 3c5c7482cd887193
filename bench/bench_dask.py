#!/usr/bin/python3
"""Throughput of fastflow.dask: images/s of one process without Dask, of a
LocalCluster with 1 worker, and with 2 workers (docs/scale-out.md).

    PYTHONPATH=python FASTFLOW_LIBRARY=build/lib/libfastflow.so \\
        nice /usr/bin/python3 bench/bench_dask.py [--images GLOB] [--repeat N] [--workers 1,2]

Each worker is one process with one thread, and the library uses
--library-threads threads in it (default 1), so N workers use N cores.
The model is a resnet18 flow at 256x256 with 8 steps (the default
configuration), untrained: scoring costs the same as with trained weights.
The images default to ../shared/datasets/bottle/test (83 PNGs, 256x256);
--repeat scores the list several times per run. Each configuration first
runs a warm-up job (model load, oneDNN primitives), then --runs timed jobs
(the best and the median are printed). Maps are not written (--maps DIR
writes them, to time the .npy writes too). Run it on a quiet machine."""

import argparse
import glob
import logging
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))

import fastflow  # noqa: E402
import fastflow.dask as ffd  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

SHARED = os.path.join(HERE, "..", "..", "shared")


def make_model(weights, folder):
    path = os.path.join(folder, "bench-resnet18-256.safetensors")
    with fastflow.Backbone.load("resnet18", weights) as bb, fastflow.Flow.create(bb, input_size=256) as flow:
        flow.save(path)
    return path


def timed(fn, runs):
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times), statistics.median(times)


def single_process(model, paths, threads, runs):
    fastflow.set_num_threads(threads)
    with fastflow.Flow.load(model) as flow, flow.scorer() as sc:
        def job():
            for p in paths:
                sc.score(p, map=False)
        job()  # warm-up
        return timed(job, runs)


def on_cluster(model, paths, workers, threads, runs, maps, partition_size):
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None,
                      silence_logs=logging.ERROR) as cluster, Client(cluster):
        def job():
            df = ffd.score(paths, model, maps_dir=maps, root="/", partition_size=partition_size,
                           library_threads=threads).compute()
            failed = df[df["status"] != 0]
            if len(failed):
                raise SystemExit("%d images failed, e.g. %s" % (len(failed), failed["error"].iloc[0]))
        job()  # warm-up: every worker loads the model and builds its primitives
        return timed(job, runs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--images", default=os.path.join(SHARED, "datasets", "bottle", "test", "*", "*.png"))
    ap.add_argument("--weights", default=os.path.join(SHARED, "weights", "resnet18-in1k-to-layer3.safetensors"))
    ap.add_argument("--repeat", type=int, default=1, help="score the image list this many times per job")
    ap.add_argument("--runs", type=int, default=3, help="timed jobs per configuration")
    ap.add_argument("--workers", default="1,2", help="worker counts to measure, e.g. 1,2")
    ap.add_argument("--library-threads", type=int, default=1)
    ap.add_argument("--partition-size", type=int, default=2, help="images per task")
    ap.add_argument("--maps", help="write maps to this folder (emptied after each configuration)")
    ap.add_argument("--limit", type=int, default=0, help="use only the first N images (a short check)")
    a = ap.parse_args()

    paths = sorted(glob.glob(a.images))
    if a.limit:
        paths = paths[:a.limit]
    if not paths or not os.path.exists(a.weights):
        raise SystemExit("need images (%s) and resnet18 weights (%s)" % (a.images, a.weights))
    paths = [os.path.abspath(p) for p in paths] * a.repeat
    tmp = tempfile.mkdtemp(prefix="ff-bench-dask-")
    try:
        model = make_model(a.weights, tmp)
        print("%d images per job, %d cores, library threads per worker %d, %s" % (
            len(paths), os.cpu_count(), a.library_threads, time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())))
        best, med = single_process(model, paths, a.library_threads, a.runs)
        print("single process, no Dask: %.2f images/s (best), %.2f (median)" % (len(paths) / best, len(paths) / med))
        base = None
        for n in [int(x) for x in a.workers.split(",")]:
            best, med = on_cluster(model, paths, n, a.library_threads, a.runs, a.maps,
                                   a.partition_size)
            rate = len(paths) / best
            base = base or rate
            print("dask, %d worker%s: %.2f images/s (best), %.2f (median); x%.2f of the first" % (
                n, "" if n == 1 else "s", rate, len(paths) / med, rate / base))
            if a.maps:
                shutil.rmtree(a.maps, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
