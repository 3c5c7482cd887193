"""fastflow.dask on a LocalCluster of two worker processes (fast suite: the
tiny random model and synthetic images; no ../shared needed).

Every score and map equals a single-process run of the binding in this
process bit for bit; corrupt and missing files are reported in their rows;
a worker killed in the middle of a job (on a cluster of its own) does not
fail it: every image is still scored exactly once. Skipped without dask/distributed/pandas (a failure
under CI=true, which installs python3-distributed)."""

import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

import support
import tinymodel

try:
    import dask.bag
    import dask.dataframe as dd
    import numpy as np
    import pandas as pd
    from distributed import Client, LocalCluster, futures_of, wait
    import fastflow.dask as ffd
    HAVE_DASK, WHY = True, ""
except ImportError as e:
    HAVE_DASK, WHY = False, str(e)

from fastflow import errors

WORKERS, THREADS = 2, 2
cluster = client = data = None


class Data:
    """The tiny model and an image set: 24 synthetic PNGs in two folders
    with the same file names (so map names must keep the folders apart), a
    truncated PNG and a missing path."""

    def __init__(self):
        self.model = tinymodel.get()
        self.dir = tempfile.mkdtemp(prefix="ff-dask-", dir=support.tmp_root())
        self.images = (support.write_image_folder(os.path.join(self.dir, "set", "a"), 12, 72, seed=4)
                       + support.write_image_folder(os.path.join(self.dir, "set", "b"), 12, 64, seed=5, defect=True))
        with open(self.images[0], "rb") as f:
            head = f.read(200)
        self.corrupt = os.path.join(self.dir, "set", "corrupt.png")
        with open(self.corrupt, "wb") as f:
            f.write(head)
        self.missing = os.path.join(self.dir, "set", "missing.png")
        # the single-process reference: this process, the binding, one scorer
        self.ref = {}
        with self.model.flow.scorer() as sc:
            for p in self.images:
                r = sc.score(p)
                self.ref[p] = (np.float32(r.score), np.asarray(r.map, dtype=np.float32))

    def close(self):
        shutil.rmtree(self.dir, ignore_errors=True)


def start_cluster(add_cleanup):
    """A LocalCluster of WORKERS processes and its client, both closed by
    add_cleanup; returns once every worker has arrived."""
    c = LocalCluster(n_workers=WORKERS, threads_per_worker=THREADS, processes=True,
                     dashboard_address=None, silence_logs=logging.CRITICAL)
    add_cleanup(c.close)
    cl = Client(c)
    add_cleanup(cl.close)
    cl.wait_for_workers(WORKERS, timeout=120)
    return c, cl


def tearDownModule():
    tinymodel.release()


@unittest.skipUnless(HAVE_DASK, "%s (Debian: python3-dask python3-distributed python3-pandas)" % WHY)
class TestDaskScoring(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        global cluster, client, data
        data = Data()
        cls.addClassCleanup(data.close)
        cluster, client = start_cluster(cls.addClassCleanup)

    def check_rows(self, df, maps_dir=None):
        """Every image's row equals the reference, bit for bit."""
        self.assertEqual(list(df.columns), list(ffd.COLUMNS))
        self.assertEqual(str(df["score"].dtype), "float32")
        for row in df.itertuples(index=False):
            if row.path in (data.corrupt, data.missing):
                continue
            self.assertEqual((row.status, row.error), (0, ""), row.path)
            want_score, want_map = data.ref[row.path]
            self.assertEqual(np.float32(row.score).tobytes(), want_score.tobytes(), row.path)
            self.assertIs(row.anomalous, pd.NA)  # the tiny model has no threshold
            if maps_dir:
                self.assertEqual(row.map_path, ffd.map_path(row.path, maps_dir, data.dir))
                got = np.load(row.map_path)
                self.assertEqual(got.dtype, np.float32)
                self.assertEqual(got.shape, want_map.shape)
                self.assertEqual(got.tobytes(), want_map.tobytes(), row.path)
            else:
                self.assertEqual(row.map_path, "")

    def test_scores_and_maps_equal_a_single_process_run(self):
        maps = tempfile.mkdtemp(prefix="maps-", dir=data.dir)
        inputs = [os.path.join(data.dir, "set", "*", "*.png"), data.corrupt, data.missing]
        ddf = ffd.score(inputs, data.model.model_path, maps_dir=maps, root=data.dir, partition_size=3,
                        library_threads=1)
        self.assertGreater(ddf.npartitions, WORKERS * THREADS)
        df = ddf.compute()
        self.assertEqual(list(df["path"]), data.images + [data.corrupt, data.missing])  # input order
        self.check_rows(df, maps)
        bad = df.set_index("path")
        self.assertEqual(bad.loc[data.corrupt, "status"], errors.BAD_FORMAT)
        self.assertIn("corrupt.png", bad.loc[data.corrupt, "error"])
        self.assertEqual(bad.loc[data.missing, "status"], errors.IO)
        for p in (data.corrupt, data.missing):
            self.assertTrue(np.isnan(bad.loc[p, "score"]))
            self.assertEqual(bad.loc[p, "map_path"], "")
        # one .npy per scored image, in folders mirroring the images' (a/000
        # and b/000 both exist), and nothing else (no temporary files)
        written = sorted(os.path.join(d, f) for d, _, fs in os.walk(maps) for f in fs)
        self.assertEqual(written, sorted(ffd.map_path(p, maps, data.dir) for p in data.images))
        # each worker process loaded the model at most once (whatever the
        # number of tasks it ran) and made at most one scorer per thread
        stats = client.run(ffd.worker_stats)
        self.assertEqual(len(stats), WORKERS)
        for s in stats.values():
            self.assertLessEqual(s["models_loaded"], 1, stats)
            self.assertLessEqual(s["scorers_created"], THREADS, stats)
        self.assertGreaterEqual(sum(s["models_loaded"] for s in stats.values()), 1)

    def test_bag_and_dataframe_inputs(self):
        paths = data.images[::3] + [data.corrupt]
        from_list = ffd.score(paths, data.model.model_path, partition_size=2).compute()
        bag = dask.bag.from_sequence(paths, npartitions=3)
        frame = dd.from_pandas(pd.DataFrame({"path": paths, "line": range(len(paths))}), npartitions=2)
        for name, images in (("bag", bag), ("dataframe", frame), ("series", frame["path"])):
            df = ffd.score(images, data.model.model_path).compute()
            self.assertEqual(list(df["path"]), paths, name)
            self.check_rows(df)
            self.assertEqual(df["score"].to_numpy().tobytes(), from_list["score"].to_numpy().tobytes(), name)
            self.assertEqual(list(df["status"]), list(from_list["status"]), name)
        # a missing value where a path should be is a row error too
        holes = dd.from_pandas(pd.DataFrame({"path": [None, paths[0]]}), npartitions=1)
        df = ffd.score(holes, data.model.model_path).compute()
        self.assertEqual(list(df["status"]), [errors.INVALID_ARGUMENT, 0])
        self.assertIn("not a path", df["error"].iloc[0])

    def test_a_killed_worker_is_replaced_and_each_image_scored_once(self):
        maps = tempfile.mkdtemp(prefix="maps-kill-", dir=data.dir)
        images = data.images * 3  # 72 one-image tasks; repeats write the same map
        ddf = ffd.score(images, data.model.model_path, maps_dir=maps, root=data.dir, partition_size=1,
                        library_threads=1)
        # a cluster of its own: the killed worker's replacement (or its
        # absence, when a loaded machine delays the nanny) must not reach
        # the other tests
        _, client = start_cluster(self.addCleanup)
        pids = client.run(os.getpid)
        job = client.persist(ddf)
        futures = futures_of(job)
        wait(futures, return_when="FIRST_COMPLETED")
        busy = [w for w, keys in client.processing().items() if keys]
        self.assertTrue(busy, "no worker is busy: the job ended before a worker could be killed")
        victim = pids[busy[0]]
        os.kill(victim, signal.SIGKILL)
        done_at_kill = sum(f.done() for f in futures)
        self.assertLess(done_at_kill, len(futures))
        df = job.compute()
        # the killed process is gone (the nanny may or may not have started
        # its replacement yet; the job finished either way)
        self.assertNotIn(victim, client.run(os.getpid).values())
        self.assertEqual(len(df), len(images))
        self.assertEqual(list(df["path"]), images)  # each exactly once, in order
        self.check_rows(df, maps)
        print("killed worker pid %d with %d of %d tasks done" % (victim, done_at_kill, len(futures)))


class TestOptionalImport(unittest.TestCase):
    def test_fastflow_imports_without_dask(self):
        code = ("import sys\n"
                "for m in ('dask', 'distributed', 'pandas'): sys.modules[m] = None\n"
                "import fastflow\n"
                "assert 'fastflow.dask' not in sys.modules\n"
                "try:\n"
                "    import fastflow.dask\n"
                "except ImportError as e:\n"
                "    print('ImportError:', e)\n")
        r = subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           universal_newlines=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("ImportError: fastflow.dask needs dask", r.stdout)
        self.assertIn("python3-distributed", r.stdout)


if __name__ == "__main__":
    unittest.main()
