"""`fastflow eval --report` looked at as a person would: a tiny evaluation
(random resnet18 weights, the demo's synthetic set at 64x64, one epoch)
writes a report, headless Chromium opens it and a screenshot is taken.
Checked: nothing was fetched and nothing went to the console (a broken
page proves those checks see errors), every embedded image decoded, the
plots and the gallery are there, every number on the page equals the
JSON's (`--json`), the curves drawn integrate to the reported AUROC and
PRO, the histogram counts the test images, the gallery shows at most
--report-max-images images, worst errors first, and a data folder whose
name holds < & " ' shows as written. Also printed to PDF.

Skipped when Chromium is absent (Debian: chromium), except under CI=true.
$FF_REPORT_SCREENSHOT, when set, receives the screenshot."""

import json
import math
import os
import shutil
import subprocess
import tempfile
import unittest

import browser
import support

MAX_IMAGES = 5


def cli():
    return os.environ.get("FF_CLI")


def run(*args):
    out = subprocess.run([cli()] + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         universal_newlines=True)
    if out.returncode != 0:
        raise AssertionError("fastflow %s failed (%d): %s%s" % (args[0], out.returncode, out.stdout, out.stderr))
    return out.stdout


def trapezoid(x, y):
    return sum(0.5 * (y[i] + y[i - 1]) * (x[i] - x[i - 1]) for i in range(1, len(x)))


class ReportInBrowser(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        exe = browser.find()
        if not exe:
            msg = "chromium is not installed (Debian: chromium); the report is not checked in a browser"
            if os.environ.get("CI") == "true":
                raise AssertionError(msg)
            raise unittest.SkipTest(msg)
        if not cli():
            raise unittest.SkipTest("FF_CLI is not set")
        cls.dir = tempfile.mkdtemp(prefix="ff-report-", dir=support.tmp_root())
        # a folder name that is markup if not escaped
        cls.out = os.path.join(cls.dir, "line <7> & \"A\" 'B'")
        weights = support.write_random_backbone(os.path.join(cls.dir, "resnet18-random.safetensors"), seed=7)
        run("demo", "--generate-only", "--out", cls.out, "--size", "64", "--train", "6", "--test-good", "4",
            "--test-defect", "2", "--seed", "3")
        cls.data = os.path.join(cls.out, "data")
        cls.model = os.path.join(cls.dir, "m.safetensors")
        run("train", "--data", cls.data, "--backbone", "resnet18", "--weights", weights, "--epochs", "1",
            "--size", "64", "--flow-steps", "1", "--batch", "4", "--threads", "2", "--out", cls.model)
        cls.json_path = os.path.join(cls.dir, "eval.json")
        cls.report = os.path.join(cls.dir, "report.html")
        stdout = run("eval", "--model", cls.model, "--data", cls.data, "--json", cls.json_path, "--report",
                     cls.report, "--report-max-images", str(MAX_IMAGES), "--threads", "2")
        assert "report %s" % cls.report in stdout, stdout
        with open(cls.json_path) as f:
            cls.metrics = json.load(f)
        cls.browser = browser.Browser(exe)
        cls.browser.open("file://" + cls.report)
        cls.problems = cls.browser.problems()
        cls.screenshot = cls.browser.screenshot(os.path.join(cls.dir, "report.png"))
        if os.environ.get("FF_REPORT_SCREENSHOT"):
            shutil.copy(os.path.join(cls.dir, "report.png"), os.environ["FF_REPORT_SCREENSHOT"])

    @classmethod
    def tearDownClass(cls):
        if getattr(cls, "browser", None):
            cls.browser.close()
        if getattr(cls, "dir", None):
            shutil.rmtree(cls.dir, ignore_errors=True)

    def js(self, expression):
        return self.browser.evaluate(expression)

    def test_loaded_cleanly(self):
        self.assertEqual(self.problems, [])
        self.assertEqual(self.js("document.readyState"), "complete")
        # self-contained: no script, no stylesheet link, every image inline
        self.assertEqual(self.js("document.querySelectorAll('script, link, iframe, object, embed').length"), 0)
        sources = self.js("[...document.querySelectorAll('[src], [href]')].map(e => e.getAttribute('src') || "
                          "e.getAttribute('href'))")
        self.assertTrue(sources)
        self.assertEqual([s for s in sources if not s.startswith("data:image/png;base64,")], [])
        self.assertTrue(self.js("[...document.images].every(i => i.complete && i.naturalWidth > 0)"))
        with open(self.report, encoding="utf-8") as f:
            html = f.read()
        self.assertNotIn("http://", html)
        self.assertNotIn("https://", html)
        self.assertTrue(self.screenshot.startswith(b"\x89PNG\r\n\x1a\n") and len(self.screenshot) > 20000)
        self.assertTrue(self.browser.print_pdf().startswith(b"%PDF"))

    def test_problem_detection_works(self):
        """The same collection sees a missing image and a console error."""
        bad = os.path.join(self.dir, "broken.html")
        with open(bad, "w") as f:
            f.write('<!DOCTYPE html><img src="missing.png"><script>console.error("boom")</script>')
        other = browser.Browser(browser.find())
        try:
            other.open("file://" + bad)
            problems = " | ".join(other.problems())
        finally:
            other.close()
        self.assertIn("missing.png", problems)
        self.assertIn("boom", problems)

    def test_escaped_paths(self):
        self.assertEqual(self.js("document.querySelector('.sub').textContent"), self.metrics["data"])
        self.assertIn("<7> & \"A\" 'B'", self.metrics["data"])
        self.assertTrue(self.js("document.title").endswith(self.metrics["data"]))

    def test_numbers_equal_json(self):
        values = self.js("[...document.querySelectorAll('[data-key]')].map(e => [e.dataset.key, "
                         "e.dataset.value === undefined ? null : e.dataset.value, e.textContent])")
        seen = set()
        m = self.metrics
        for key, exact, text in values:
            seen.add(key)
            if key in ("n_good", "n_defect"):
                self.assertEqual(int(text), m[key], key)
                continue
            if key == "n_total":
                self.assertEqual(int(text), m["n_good"] + m["n_defect"])
                continue
            if key == "ms_per_image":
                n = m["n_good"] + m["n_defect"]  # the JSON rounds seconds to 1 ms
                self.assertAlmostEqual(float(exact), 1e3 * m["seconds"] / n, delta=0.5 / n + 1e-6)
                continue
            parts = key.split(".")
            if parts[0] == "per_type":
                ref = m["per_type"][".".join(parts[1:-1])][parts[-1]]
            elif parts[0] == "overall":
                ref = m[parts[1]]
            else:
                ref = m[key]
            if ref is None:
                self.assertEqual(exact, "null", key)
                continue
            self.assertEqual(float(exact), ref, key)  # both %.9g of the same double
            if key == "image_threshold":
                self.assertEqual(text, "%.4g" % ref)
            else:
                self.assertEqual(text, "%.4f" % ref, key)
        for key in ("image_auroc", "pixel_auroc", "pro", "image_f1", "image_threshold", "n_good", "n_defect"):
            self.assertIn(key, seen)
        for t in m["per_type"]:
            for k in ("image_auroc", "pixel_auroc", "pro"):
                self.assertIn("per_type.%s.%s" % (t, k), seen)

    def svg_data(self, element_id, attr):
        text = self.js("document.getElementById(%s).getAttribute(%s)" % (json.dumps(element_id), json.dumps(attr)))
        return [float(v) for v in text.split()]

    def test_plots(self):
        self.assertEqual(self.js("document.querySelectorAll('svg.plot').length"), 3)
        for pid in ("roc", "pro-curve", "histogram"):
            # drawn: a visible box with marks in it
            box = self.js("(() => { const r = document.getElementById(%s).getBoundingClientRect(); "
                          "return [r.width, r.height]; })()" % json.dumps(pid))
            self.assertGreater(box[0], 200)
            self.assertGreater(box[1], 120)
        x, y = self.svg_data("roc", "data-x"), self.svg_data("roc", "data-y")
        self.assertEqual((x[0], y[0], x[-1], y[-1]), (0, 0, 1, 1))
        self.assertAlmostEqual(trapezoid(x, y), self.metrics["image_auroc"], delta=1e-7)
        self.assertEqual(self.js("document.querySelectorAll('#roc polyline').length"), 1)
        x, y = self.svg_data("pro-curve", "data-x"), self.svg_data("pro-curve", "data-y")
        self.assertEqual(x[-1], self.metrics["pro_max_fpr"])
        # the curve is kept at a resolution of 1e-3, so its area is close, not exact
        self.assertAlmostEqual(trapezoid(x, y) / x[-1], self.metrics["pro"], delta=2e-3)
        good, defect = self.svg_data("histogram", "data-good"), self.svg_data("histogram", "data-defect")
        self.assertEqual(sum(good), self.metrics["n_good"])
        self.assertEqual(sum(defect), self.metrics["n_defect"])
        self.assertEqual(self.svg_data("histogram", "data-threshold")[0], self.metrics["image_threshold"])
        self.assertEqual(self.js("document.querySelectorAll('#histogram line.threshold').length"), 1)
        rows = self.js("[...document.querySelectorAll('#per-type tbody tr')].map(r => r.cells[0].textContent)")
        self.assertEqual(rows, sorted(self.metrics["per_type"]) + ["overall"])

    def test_gallery(self):
        total = self.metrics["n_good"] + self.metrics["n_defect"]
        count = self.js("[document.getElementById('gallery-count').dataset.shown, "
                        "document.getElementById('gallery-count').dataset.total, "
                        "document.getElementById('gallery-count').textContent]")
        self.assertEqual(int(count[0]), MAX_IMAGES)
        self.assertEqual(int(count[1]), total)
        self.assertIn("Showing %d of %d" % (MAX_IMAGES, total), count[2])
        cards = self.js("[...document.querySelectorAll('.gallery .card')].map(c => [c.dataset.kind, "
                        "parseFloat(c.dataset.score), c.dataset.label, c.querySelectorAll('img').length, "
                        "[...c.querySelectorAll('img')].map(i => [i.naturalWidth, i.naturalHeight])])")
        self.assertEqual(len(cards), MAX_IMAGES)
        t = self.metrics["image_threshold"]
        rank = {"missed": 0, "false-alarm": 1, "detected": 2, "passed": 2}
        for kind, score, label, n_img, sizes in cards:
            self.assertEqual(n_img, 2)  # the picture and its overlay
            self.assertEqual(sizes, [[64, 64], [64, 64]])
            expected = ("detected" if score >= t else "missed") if label == "1" else \
                ("false-alarm" if score >= t else "passed")
            self.assertEqual(kind, expected)
        ranks = [rank[c[0]] for c in cards]
        self.assertEqual(ranks, sorted(ranks))
        for a, b in zip(cards, cards[1:]):
            if rank[a[0]] == rank[b[0]]:
                if a[0] == "missed":
                    self.assertLessEqual(a[1], b[1])
                else:
                    self.assertGreaterEqual(a[1], b[1])


if __name__ == "__main__":
    unittest.main()
