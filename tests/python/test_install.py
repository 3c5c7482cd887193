"""`pip install ./python` works offline, and the installed package runs.

A venv made by this Python with --system-site-packages (so setuptools and
wheel come from Debian's python3-setuptools and python3-wheel), then
`pip install --no-build-isolation --no-index` of a copy of python/ (pip
builds in the source folder; the copy keeps the checkout clean). The
installed package is imported from outside the source tree and must find
the library through FASTFLOW_LIBRARY and score nothing less than a real
call (the version). Needs no network."""

import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import support

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(cmd, **kw):
    env = dict(os.environ, PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1", PIP_NO_CACHE_DIR="1")
    env.pop("PYTHONPATH", None)
    env.update(kw.pop("env", {}))
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          env=env, **kw)


def venv_available():
    try:
        import ensurepip  # noqa: F401  (Debian: python3-venv)
        import venv  # noqa: F401
    except ImportError:
        return False
    return True


@unittest.skipUnless(venv_available(), "python3-venv is not installed")
class TestInstall(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="ff-py-install-", dir=support.tmp_root())

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_offline_install(self):
        src = os.path.join(self.dir, "src")
        shutil.copytree(os.path.join(ROOT, "python"), src,
                        ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__", "dist"))
        venv = os.path.join(self.dir, "venv")
        r = run([sys.executable, "-m", "venv", "--system-site-packages", venv])
        self.assertEqual(r.returncode, 0, r.stdout)
        py = os.path.join(venv, "bin", "python")
        r = run([py, "-m", "pip", "install", "--no-build-isolation", "--no-index", src], cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stdout)
        self.assertIn("Successfully installed fastflow-0.1.0", r.stdout)
        code = ("import fastflow, sys; print(fastflow.__file__); print(fastflow.version()); "
                "print(fastflow.errors.status_string(3)); print(fastflow.numpy_enabled())")
        r = run([py, "-c", code], cwd=self.dir, env={"FASTFLOW_LIBRARY": os.environ.get("FASTFLOW_LIBRARY", "")})
        self.assertEqual(r.returncode, 0, r.stdout)
        lines = r.stdout.splitlines()
        installed = os.path.realpath(lines[0])
        self.assertTrue(installed.startswith(os.path.realpath(venv)), "imported from %s" % installed)
        self.assertEqual(lines[1], "0.1.0")
        self.assertTrue(lines[2])
        # the installed copy has no build tree to search: without
        # FASTFLOW_LIBRARY it falls back to the system and says what it tried
        r = run([py, "-c", "import fastflow._lib as l; print(l.build_tree_candidates())"], cwd=self.dir)
        self.assertEqual(r.stdout.strip(), "[]")
        r = run([py, "-m", "pip", "show", "fastflow"], cwd=self.dir)
        self.assertIn("Version: 0.1.0", r.stdout)


if __name__ == "__main__":
    unittest.main()
