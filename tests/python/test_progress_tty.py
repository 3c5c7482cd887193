"""Progress display of the fastflow command (tools/fastflow/progress.c):
with stderr on a pseudo-terminal, `train` (feature caching, epochs),
`eval` and `score` redraw one progress line in place (\\r, done/total,
img/s, ETA) and erase it at the end; with stderr on a pipe they write
nothing there, and stdout is the same line-per-epoch log either way."""

import os
import pty
import re
import select
import shutil
import subprocess
import tempfile
import unittest

import support

ERASE = "\r\x1b[K"


def cli():
    return os.environ.get("FF_CLI")


def run(args, tty):
    """(exit code, stdout, stderr) of fastflow with stderr on a new
    pseudo-terminal (tty) or a pipe."""
    if not tty:
        p = subprocess.run([cli()] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return p.returncode, p.stdout.decode(), p.stderr.decode()
    master, slave = pty.openpty()
    p = subprocess.Popen([cli()] + args, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    chunks = []
    while True:  # drain the terminal while the command runs, or it blocks
        ready, _, _ = select.select([master], [], [], 120)
        if not ready:
            p.kill()
            raise AssertionError("no progress for 120 s")
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: every writer closed the terminal
            data = b""
        if not data:
            break
        chunks.append(data)
    os.close(master)
    out = p.stdout.read().decode()
    p.wait()
    return p.returncode, out, b"".join(chunks).decode()


def shape(text):
    """The log with its numbers blanked (timings differ between runs)."""
    return re.sub(r"[0-9][0-9.e+-]*", "#", text)


class ProgressOnTerminal(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not cli():
            raise unittest.SkipTest("FF_CLI is not set")
        cls.dir = tempfile.mkdtemp(prefix="ff-progress-", dir=support.tmp_root())
        cls.weights = support.write_random_backbone(os.path.join(cls.dir, "w.safetensors"), seed=7)
        cls.images = support.write_image_folder(os.path.join(cls.dir, "good"), 6, 64, seed=2)
        cls.model = os.path.join(cls.dir, "m.safetensors")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def check_progress(self, err, labels):
        self.assertIn("\r", err)
        self.assertNotIn("\n", err)  # one line, redrawn: never a new line
        self.assertTrue(err.endswith(ERASE), repr(err[-80:]))  # erased at the end
        for label in labels:
            self.assertRegex(err, r"\r%s \d+/\d+  [0-9.]+ img/s  ETA \d+[smh]" % re.escape(label))

    def train_args(self):
        return ["train", "--data", os.path.join(self.dir, "good"), "--backbone", "resnet18", "--weights",
                self.weights, "--epochs", "2", "--size", "64", "--flow-steps", "1", "--batch", "2",
                "--threads", "2", "--out", self.model]

    def test_1_train(self):
        code, out, err = run(self.train_args(), tty=True)
        self.assertEqual(code, 0, out + err)
        self.check_progress(err, ["caching features", "epoch 1/2", "epoch 2/2"])
        self.assertIn("caching features 6/6", err)
        self.assertRegex(err, r"epoch 2/2 12/12 .* batch 3/3  loss ")
        code2, out2, err2 = run(self.train_args(), tty=False)
        self.assertEqual(code2, 0, out2 + err2)
        self.assertEqual(err2, "")
        self.assertEqual(shape(out), shape(out2))
        self.assertRegex(out2, r"(?m)^epoch 1/2 loss \S+ time \S+ s$")
        self.assertRegex(out2, r"(?m)^epoch 2/2 loss \S+ time \S+ s$")

    def test_2_score_and_eval(self):
        if not os.path.exists(self.model):
            self.test_1_train()
        code, out, err = run(["score", "--model", self.model] + self.images, tty=True)
        self.assertEqual(code, 0, out + err)
        self.check_progress(err, ["scoring"])
        self.assertIn("scoring 6/6", err)
        code2, out2, err2 = run(["score", "--model", self.model] + self.images, tty=False)
        self.assertEqual((code2, err2), (0, ""))
        self.assertEqual(out, out2)  # the same results, line for line
        data = os.path.join(self.dir, "set")
        code, _, err = run(["demo", "--generate-only", "--out", data, "--size", "64", "--train", "2",
                            "--test-good", "2", "--test-defect", "1"], tty=False)
        self.assertEqual(code, 0, err)
        args = ["eval", "--model", self.model, "--data", os.path.join(data, "data"),
                "--report", os.path.join(self.dir, "r.html")]
        code, out, err = run(args, tty=True)
        self.assertEqual(code, 0, out + err)
        self.check_progress(err, ["scoring", "writing the report"])
        self.assertIn("scoring 5/5", err)
        code2, out2, err2 = run(args, tty=False)
        self.assertEqual((code2, err2), (0, ""))
        self.assertEqual(shape(out), shape(out2))


if __name__ == "__main__":
    unittest.main()
