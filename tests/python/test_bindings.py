"""The Rust and Go examples (examples/rust, examples/go) are built from the
header by their own toolchains, offline, and give the same scores and map
sizes as `fastflow score --json` on the tiny random model (fast suite).

meson passes the toolchains (FF_CARGO, FF_RUSTC, FF_BINDGEN, FF_GO; empty
when absent: the test is then skipped, which fails under CI=true), the
examples' source folder (FF_EXAMPLES_SRC), a build folder
(FF_EXAMPLES_BUILD), the header's folder (FF_INCLUDE_DIR) and the CLI
(FF_CLI). The library is $FASTFLOW_LIBRARY; its folder is linked against."""

import json
import os
import shutil
import struct
import subprocess
import tempfile
import unittest

import fastflow
import support
import tinymodel


def f32(x):
    return struct.unpack("f", struct.pack("f", float(x)))[0]


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, universal_newlines=True, **kw)


def tools(*names):
    """{name: path} of the FF_<NAME> toolchain programs; missing ones listed."""
    found = {n: os.environ.get("FF_" + n.upper(), "") for n in names}
    return found, [n for n, p in found.items() if not p]


def lib_dir():
    return os.path.dirname(os.path.abspath(os.environ["FASTFLOW_LIBRARY"]))


def build_dir(name):
    d = os.path.join(os.environ["FF_EXAMPLES_BUILD"], name)
    os.makedirs(d, exist_ok=True)
    return d


def tearDownModule():
    tinymodel.release()


class ExampleCase:
    """The checks shared by both examples; subclasses build `self.exe`."""

    def run_example(self, model, images):
        """(exit code, {path: (score, (width, height), decision or None)}, stderr)."""
        r = run([self.exe, model] + list(images))
        out = {}
        for line in r.stdout.splitlines():
            fields = line.split(" ")  # path score WxH [anomalous|normal]
            w, h = fields[2].split("x")
            out[fields[0]] = (f32(fields[1]), (int(w), int(h)), fields[3] if len(fields) > 3 else None)
        return r.returncode, out, r.stderr

    def test_equals_cli(self):
        m = tinymodel.get()
        # the tiny trained model (64x64) and an untrained one 96 wide and 64
        # high, whose map size tells width from height
        wide = os.path.join(m.dir, "bind-wide.safetensors")
        if not os.path.exists(wide):
            with fastflow.Flow.create(m.backbone, input_width=96, input_height=64, steps=2, seed=4) as flow:
                flow.save(wide)
        for model, size in ((m.model_path, (64, 64)), (wide, (96, 64))):
            maps = tempfile.mkdtemp(prefix="ff-bind-maps-", dir=m.dir)
            cli = run([os.environ["FF_CLI"], "score", "--json", "--maps", maps, "--model", model] + m.test_paths)
            self.assertEqual(cli.returncode, 0, cli.stderr)
            want = {e["path"]: f32(e["score"]) for e in json.loads(cli.stdout)}
            rc, got, err = self.run_example(model, m.test_paths)
            self.assertEqual(rc, 0, err)
            self.assertEqual(sorted(got), sorted(m.test_paths))
            for p in m.test_paths:
                score, (w, h), decision = got[p]
                self.assertEqual(score, want[p], p)  # bit for bit (both print round-trip decimals)
                shape, _ = support.read_npy(os.path.join(maps, os.path.splitext(os.path.basename(p))[0] + ".npy"))
                self.assertEqual((h, w), shape)
                self.assertEqual((w, h), size)
                self.assertIsNone(decision)  # neither model has a threshold

    def test_decisions_with_a_threshold(self):
        m = tinymodel.get()
        path = os.path.join(m.dir, "bind-calibrated.safetensors")
        with m.flow.calibrate(m.test_paths[:2]) as cal:
            cal.save(path)
            rc, got, err = self.run_example(path, m.test_paths)
            self.assertEqual(rc, 0, err)
            for p in m.test_paths:
                want = cal.score(p)
                self.assertEqual(got[p][0], want.score)
                self.assertEqual(got[p][2], "anomalous" if want.anomalous else "normal")

    def test_errors_carry_status_and_message(self):
        m = tinymodel.get()
        missing = os.path.join(m.dir, "missing.png")
        rc, got, err = self.run_example(m.model_path, [m.test_paths[0], missing, m.test_paths[1]])
        self.assertEqual(rc, 1)
        self.assertEqual(sorted(got), sorted(m.test_paths[:2]))  # the others are still scored
        self.assertIn("missing.png", err)
        self.assertIn("status 2: ", err)  # FF_E_IO
        rc, got, err = self.run_example(m.test_paths[0], [m.test_paths[0]])  # a PNG is not a model
        self.assertEqual((rc, got), (1, {}))
        self.assertIn("status 3: ", err)  # FF_E_BAD_FORMAT
        r = run([self.exe])
        self.assertEqual(r.returncode, 2)
        self.assertIn("usage", r.stderr)


class TestRustExample(ExampleCase, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        found, missing = tools("cargo", "rustc", "bindgen")
        if missing:
            raise unittest.SkipTest("no %s (Debian: cargo rustc bindgen)" % ", ".join(missing))
        out = build_dir("rust")
        env = dict(os.environ, CARGO_HOME=os.path.join(out, "cargo-home"), RUSTC=found["rustc"],
                   BINDGEN=found["bindgen"], FASTFLOW_INCLUDE_DIR=os.environ["FF_INCLUDE_DIR"],
                   FASTFLOW_LIB_DIR=lib_dir())
        # --offline --locked: no index, no download, Cargo.lock left as committed
        r = run([found["cargo"], "build", "--offline", "--locked", "--manifest-path",
                 os.path.join(os.environ["FF_EXAMPLES_SRC"], "rust", "Cargo.toml"),
                 "--target-dir", os.path.join(out, "target")], env=env)
        if r.returncode != 0:
            raise AssertionError("cargo build failed:\n" + r.stderr)
        cls.exe = os.path.join(out, "target", "debug", "score_image")


class TestGoExample(ExampleCase, unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        found, missing = tools("go")
        if missing:
            raise unittest.SkipTest("no go (Debian: golang-go)")
        out = build_dir("go")
        home = tempfile.mkdtemp(prefix="ff-go-home-", dir=support.tmp_root())
        cls.addClassCleanup(shutil.rmtree, home, True)
        # No module proxy, no toolchain switch, go.mod left read-only; the
        # build cache lives in the build folder, HOME and GOPATH are private.
        env = dict(os.environ, HOME=home, GOPATH=os.path.join(home, "gopath"), GOCACHE=os.path.join(out, "cache"),
                   GOPROXY="off", GOFLAGS="-mod=readonly", GOTOOLCHAIN="local", GOWORK="off", GO111MODULE="on",
                   CGO_ENABLED="1", CGO_CFLAGS="-I" + os.environ["FF_INCLUDE_DIR"],
                   CGO_LDFLAGS="-L%s -Wl,-rpath,%s" % (lib_dir(), lib_dir()))
        cls.exe = os.path.join(out, "score_image")
        r = run([found["go"], "build", "-o", cls.exe, "."], env=env, cwd=os.path.join(os.environ["FF_EXAMPLES_SRC"], "go"))
        if r.returncode != 0:
            raise AssertionError("go build failed:\n" + r.stderr)


if __name__ == "__main__":
    unittest.main()
