"""The OpenMP wait policy default (issue 12 item 9; docs/performance.md,
"Under contention"): the fastflow command and the Python binding give
libgomp GOMP_SPINCOUNT=10000 when the environment sets neither
GOMP_SPINCOUNT nor OMP_WAIT_POLICY, and leave a user's setting alone.

libgomp prints the settings it started with under OMP_DISPLAY_ENV=verbose,
one block per process start; the command re-executes itself once to apply
its default, so it prints two blocks then, and one when it keeps the
environment's setting."""

import os
import re
import subprocess
import sys
import unittest

import fastflow._lib as ffl

ROOT = os.environ.get("FF_SOURCE_DIR") or os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    env["OMP_DISPLAY_ENV"] = "verbose"
    env.update(extra)
    return env


def spincounts(stderr):
    """The GOMP_SPINCOUNT of each libgomp start, in order."""
    return re.findall(r"GOMP_SPINCOUNT = '(\d+)'", stderr)


class TestCommand(unittest.TestCase):
    def run_cli(self, env):
        cli = os.environ.get("FF_CLI")
        if not cli:
            self.skipTest("FF_CLI is not set (meson sets it to the built fastflow)")
        out = subprocess.run([cli, "train", "--help"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             universal_newlines=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("usage", out.stdout + out.stderr)
        return spincounts(out.stderr)

    def test_default_applies_once(self):
        # libgomp's own default in the first start, ours after the re-execution
        self.assertEqual(self.run_cli(clean_env()), ["300000", ffl.GOMP_SPINCOUNT_DEFAULT])

    def test_user_spincount_wins(self):
        self.assertEqual(self.run_cli(clean_env(GOMP_SPINCOUNT="123")), ["123"])

    def test_user_wait_policy_wins(self):
        # OMP_WAIT_POLICY=active makes libgomp spin (almost) forever
        self.assertEqual(self.run_cli(clean_env(OMP_WAIT_POLICY="active")), ["30000000000"])


class TestBinding(unittest.TestCase):
    CODE = ("import os, fastflow._lib as l; l.lib(); "
            "print('after', os.environ.get('GOMP_SPINCOUNT'), os.environ.get('OMP_WAIT_POLICY'))")

    def run_py(self, env):
        env = dict(env)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        out = subprocess.run([sys.executable, "-c", self.CODE], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, universal_newlines=True)
        self.assertEqual(out.returncode, 0, out.stderr)
        return spincounts(out.stderr), out.stdout.strip()

    def test_default_while_loading_only(self):
        counts, after = self.run_py(clean_env())
        self.assertEqual(counts, [ffl.GOMP_SPINCOUNT_DEFAULT])
        self.assertEqual(after, "after None None")  # the environment is left as it was

    def test_user_setting_wins(self):
        counts, after = self.run_py(clean_env(GOMP_SPINCOUNT="77"))
        self.assertEqual(counts, ["77"])
        self.assertEqual(after, "after 77 None")


class TestOneValue(unittest.TestCase):
    def test_binding_matches_command(self):
        with open(os.path.join(ROOT, "tools", "fastflow", "omp_wait.h")) as f:
            m = re.search(r'#define FF_CLI_GOMP_SPINCOUNT "(\d+)"', f.read())
        self.assertIsNotNone(m)
        self.assertEqual(m.group(1), ffl.GOMP_SPINCOUNT_DEFAULT)


if __name__ == "__main__":
    unittest.main()
