#!/usr/bin/env python3
"""Runs Python binding test modules with unittest, as meson registers them.

Usage: run_tests.py [--numpy | --no-numpy] MODULE...

--no-numpy makes the run behave as on a machine without numpy, whatever is
installed: FASTFLOW_NO_NUMPY=1 for the package, and a None entry in
sys.modules so that any `import numpy` (in the package or a test) raises
ImportError. --numpy requires numpy: without it the run is skipped (exit
77), except under CI=true, where it fails (CI installs python3-numpy).

The package is imported from python/ beside these tests (PYTHONPATH is set
here), and the library from $FASTFLOW_LIBRARY when meson sets it. Exit
codes: 0 pass, 1 fail, 77 skip (every test skipped, e.g. no ../shared)."""

import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


def main(argv):
    modules = [a for a in argv if not a.startswith("--")]
    if "--no-numpy" in argv:
        os.environ["FASTFLOW_NO_NUMPY"] = "1"
        sys.modules["numpy"] = None  # `import numpy` now raises ImportError
    elif "--numpy" in argv:
        try:
            import numpy  # noqa: F401
        except ImportError:
            print("numpy is not installed for %s (Debian: python3-numpy)" % sys.executable)
            return 1 if os.environ.get("CI") == "true" else 77
    sys.path[:0] = [os.path.join(ROOT, "python"), HERE]
    os.environ["PYTHONPATH"] = os.pathsep.join(
        [os.path.join(ROOT, "python"), HERE] + ([os.environ["PYTHONPATH"]] if os.environ.get("PYTHONPATH") else []))
    import fastflow
    print("python %s, fastflow from %s, numpy %s" % (sys.version.split()[0], os.path.dirname(fastflow.__file__),
                                                       "enabled" if fastflow.numpy_enabled() else "disabled"))
    print("library: %s (%s)" % (fastflow.library_path(), fastflow.version()))
    suite = unittest.defaultTestLoader.loadTestsFromNames(modules)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    if not result.wasSuccessful():
        return 1
    # every test skipped; a class skipped in setUpClass counts one skip and no run
    if result.skipped and len(result.skipped) >= result.testsRun:
        return 1 if os.environ.get("CI") == "true" else 77
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
