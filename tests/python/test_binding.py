"""The Python binding over a tiny random-weights model (fast suite).

Runs with and without numpy (run_tests.py --numpy / --no-numpy); results
must be the same, only their container type differs."""

import array
import gc
import io
import json
import math
import os
import struct
import subprocess
import sys
import threading
import unittest

import fastflow
from fastflow import image as ffimage
import support
import tinymodel

np = None
if fastflow.numpy_enabled():
    import numpy as np


def setUpModule():
    tinymodel.get()


def tearDownModule():
    tinymodel.release()


def f32(x):
    return struct.unpack("f", struct.pack("f", x))[0]


def as_bgr(img):
    px = bytearray(img.tobytes())
    px[0::3], px[2::3] = px[2::3], px[0::3]
    return fastflow.Image(bytes(px), img.width, img.height, fastflow.BGR8)



def tiny_trainer(m, **kw):
    """A trainer over the tiny model's untrained flow and training images
    (batch 2, seed 7), with the options kw."""
    tr = fastflow.Trainer(m.untrained, batch_size=2, seed=7, **kw)
    for im in m.train_images:
        tr.add(im)
    return tr


class TestLibrary(unittest.TestCase):
    def test_version(self):
        self.assertEqual(fastflow.version(), "%d.%d.%d" % (fastflow.version_number() // 10000,
                                                          fastflow.version_number() // 100 % 100,
                                                          fastflow.version_number() % 100))
        self.assertEqual(fastflow.version_number() // 10000, 0)
        self.assertIn("oneDNN", fastflow.build_info())
        self.assertTrue(os.path.exists(fastflow.library_path()))

    def test_library_from_env(self):
        # run_tests is started by meson with FASTFLOW_LIBRARY; the package used it
        env = os.environ.get("FASTFLOW_LIBRARY")
        if env:
            self.assertEqual(fastflow.library_path(), env)

    def _python(self, code, env_update, drop=()):
        env = dict(os.environ)
        for k in drop:
            env.pop(k, None)
        env.update(env_update)
        return subprocess.run([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              universal_newlines=True, env=env)

    def test_library_lookup(self):
        from fastflow import _lib
        # without FASTFLOW_LIBRARY: the checkout's build folders, else the system
        r = self._python("import fastflow; print(fastflow.library_path())", {}, drop=("FASTFLOW_LIBRARY",))
        candidates = _lib.build_tree_candidates()
        if candidates:
            self.assertEqual(r.returncode, 0, r.stderr)
            # the first one that loads (an ASan build, say, does not)
            self.assertIn(r.stdout.strip(), candidates)
            self.assertTrue(r.stdout.strip().endswith(os.path.join("lib", "libfastflow.so")))
        # a FASTFLOW_LIBRARY that does not load is an ImportError naming it
        r = self._python("import fastflow; fastflow.version()", {"FASTFLOW_LIBRARY": "/nonexistent/libfastflow.so"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("ImportError: FASTFLOW_LIBRARY=/nonexistent/libfastflow.so", r.stderr)

    def test_handles_left_at_exit(self):
        # handles still open when the interpreter exits are freed quietly
        m = tinymodel.get()
        code = ("import fastflow\n"
                "flow = fastflow.Flow.load(%r)\n"
                "sc = flow.scorer(); r = sc.score(%r)\n"
                "tr = fastflow.Trainer(flow); ex = flow.backbone.extractor()\n"
                "cycle = [flow, sc]; cycle.append(cycle)\n"
                "print('scored', r.score)\n" % (m.model_path, m.test_paths[0]))
        r = self._python(code, {})
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("scored", r.stdout)
        self.assertEqual(r.stderr, "")

    def test_global_settings(self):
        old = fastflow.get_max_image_pixels()
        self.assertEqual(old, 100000000)
        try:
            fastflow.set_max_image_pixels(1000)
            with self.assertRaises(fastflow.LimitExceeded) as cm:
                ffimage.decode(tinymodel.get().test_paths[0])
            self.assertEqual(cm.exception.status, 7)
            self.assertIn("1000", cm.exception.message)
        finally:
            fastflow.set_max_image_pixels(old)
        threads = fastflow.get_num_threads()
        fastflow.set_num_threads(1)
        self.assertEqual(fastflow.get_num_threads(), 1)
        fastflow.set_num_threads(threads)
        with self.assertRaises(fastflow.InvalidArgument) as cm:
            fastflow.set_num_threads(-1)
        self.assertIn("FF_GLOBAL_NUM_THREADS", cm.exception.message)

    def test_exif_orientation(self):
        # tests/data/exif: base.jpg with an EXIF block saying "rotate 90
        # clockwise" (6) decodes 4x7 upright by default, 7x4 when ignored
        root = os.environ.get("FF_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
        with open(os.path.join(root, "tests", "data", "exif", "base.jpg"), "rb") as f:
            base = f.read()
        tiff = b"II" + struct.pack("<HI", 42, 8) + struct.pack("<H", 1) + struct.pack("<HHIHH", 0x0112, 3, 1, 6, 0)
        payload = b"Exif\0\0" + tiff + struct.pack("<I", 0)
        jpg = base[:2] + b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload + base[2:]
        self.assertTrue(fastflow.get_exif_orientation())
        self.assertEqual(ffimage.probe(jpg)[:2], (4, 7))
        self.assertEqual((ffimage.decode(jpg).width, ffimage.decode(jpg).height), (4, 7))
        try:
            fastflow.set_exif_orientation(False)
            self.assertFalse(fastflow.get_exif_orientation())
            self.assertEqual(ffimage.probe(jpg)[:2], (7, 4))
            self.assertEqual(ffimage.decode(jpg).tobytes(), ffimage.decode(base).tobytes())
        finally:
            fastflow.set_exif_orientation(True)


class TestErrors(unittest.TestCase):
    def test_unknown_arch(self):
        with self.assertRaises(fastflow.Unsupported) as cm:
            fastflow.Backbone.load("resnet99", tinymodel.get().weights)
        e = cm.exception
        self.assertIsInstance(e, fastflow.FastFlowError)
        self.assertEqual(e.status, 4)
        self.assertEqual(e.function, "ff_backbone_load")
        self.assertIn("resnet99", e.message)
        self.assertIn("resnet18", e.message)
        self.assertIn("resnet99", str(e))

    def test_missing_file(self):
        path = os.path.join(tinymodel.get().dir, "no-such-file.safetensors")
        with self.assertRaises(fastflow.IOFailure) as cm:
            fastflow.Flow.load(path)
        self.assertEqual(cm.exception.status, 2)
        self.assertIn("no-such-file", cm.exception.message)

    def test_bad_format(self):
        with self.assertRaises(fastflow.BadFormat) as cm:
            ffimage.decode(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)
        self.assertEqual(cm.exception.status, 3)
        self.assertTrue(cm.exception.message)
        with self.assertRaises(fastflow.BadFormat) as cm:
            fastflow.Backbone.from_bytes("resnet18", b"\x08\x00\x00\x00\x00\x00\x00\x00{\"a\":1} ")
        self.assertEqual(cm.exception.status, 3)

    def test_wrong_architecture(self):
        with self.assertRaises(fastflow.BadFormat) as cm:
            fastflow.Backbone.load("resnet34", tinymodel.get().weights)
        self.assertIn("resnet18", cm.exception.message)
        self.assertIn("resnet34", cm.exception.message)

    def test_invalid_option(self):
        bb = tinymodel.get().backbone
        with self.assertRaises(fastflow.InvalidArgument) as cm:
            fastflow.Flow.create(bb, input_size=64, steps=0)
        self.assertEqual(cm.exception.status, 1)
        self.assertIsInstance(cm.exception, ValueError)
        self.assertIn("STEPS", cm.exception.message.upper())
        with self.assertRaises(KeyError):
            fastflow.FlowOptions(colour="red")

    def test_trainer_state(self):
        with fastflow.Trainer(tinymodel.get().untrained) as tr:
            with self.assertRaises(fastflow.StateError) as cm:
                tr.run_batch()
            self.assertEqual(cm.exception.status, 8)
            self.assertIn("image", cm.exception.message)
            with self.assertRaises(fastflow.InvalidArgument) as cm:
                tr.batch_size = 0
            self.assertIn("BATCH_SIZE", cm.exception.message)

    def test_error_classes(self):
        for status, cls in fastflow.errors.ERROR_CLASSES.items():
            e = fastflow.errors.error_for(status, "detail", "ff_x")
            self.assertIsInstance(e, cls)
            self.assertEqual((e.status, e.message, e.function), (status, "detail", "ff_x"))
            self.assertIn(fastflow.errors.status_string(status), str(e))
        self.assertIs(type(fastflow.errors.error_for(99)), fastflow.FastFlowError)


class TestParams(unittest.TestCase):
    """The binding's option names and architecture list are the library's
    (read here through raw ctypes calls, independently of fastflow.params)."""

    @staticmethod
    def _raw_names(kind):
        import ctypes
        lib = fastflow._lib.lib()
        n = ctypes.c_int32()
        assert lib.ff_param_count(kind, ctypes.byref(n)) == 0
        names = []
        for i in range(n.value):
            k = ctypes.c_int32()
            assert lib.ff_param_key_at(kind, i, ctypes.byref(k)) == 0
            names.append((lib.ff_param_name(kind, k.value).decode(), k.value))
        return names

    def test_architectures(self):
        lib = fastflow._lib.lib()
        raw = tuple(lib.ff_backbone_arch_name(i).decode() for i in range(lib.ff_backbone_arch_count()))
        self.assertEqual(fastflow.ARCHITECTURES, raw)
        self.assertEqual(fastflow.backbone.ARCHITECTURES, raw)
        for name in ("resnet18", "wide_resnet50_2", "deit_base_distilled_patch16_384", "cait_m48_448",
                     "deit_small_distilled_patch16_224", "cait_s24_224"):
            self.assertIn(name, fastflow.ARCHITECTURES)

    def test_option_tables(self):
        p = fastflow.params
        for kind, module in ((p.FLOW_OPTIONS, fastflow.flow), (p.SCORER, fastflow.scorer),
                             (p.TRAINER, fastflow.trainer)):
            raw = self._raw_names(kind)
            table = p.table(kind)
            self.assertEqual([(name, row.key) for name, row in table.items()], raw)
            for name, key in raw:
                # the module's constant for the key (FF_SCORER_MAP_SIZE -> scorer.MAP_SIZE)
                self.assertEqual(getattr(module, name.upper()), key, name)
                self.assertEqual(p.key(kind, name), key)
        self.assertEqual([n for n, _ in self._raw_names(p.GLOBAL)], ["max_image_pixels", "num_threads", "exif_orientation"])
        steps = p.info(p.FLOW_OPTIONS, fastflow.flow.STEPS)
        self.assertEqual((steps.type, steps.min, steps.max, steps.default), ("i32", 1, 64, 8))
        self.assertTrue(p.info(p.FLOW_OPTIONS, fastflow.flow.HIDDEN_RATIO).flags & p.MIN_EXCLUSIVE)
        with self.assertRaises(KeyError):
            p.key(p.SCORER, "colour")

    def test_flow_options_use_the_table(self):
        # every library name is a FlowOptions keyword, and reads back its default
        with fastflow.FlowOptions() as o:
            for name, row in fastflow.params.table(fastflow.params.FLOW_OPTIONS).items():
                self.assertEqual(float(o[name]), row.default, name)
        self.assertEqual(set(tinymodel.get().untrained.options()),
                         set(fastflow.params.table(fastflow.params.FLOW_OPTIONS)))

    def test_num_threads(self):
        m = tinymodel.get()
        with fastflow.Scorer(m.flow) as sc:
            self.assertEqual(sc.num_threads, 0)
            sc.num_threads = 1
            self.assertEqual(sc.num_threads, 1)
            with self.assertRaises(fastflow.InvalidArgument):
                sc.num_threads = 1025
        with fastflow.Trainer(m.untrained, num_threads=2) as tr:
            self.assertEqual(tr.num_threads, 2)
        ex = m.backbone.extractor()
        ex.num_threads = 1
        self.assertEqual(ex.num_threads, 1)
        ex.close()


class TestHandles(unittest.TestCase):
    def test_context_manager_and_double_close(self):
        bb = fastflow.Backbone.load("resnet18", tinymodel.get().weights)
        with bb:
            self.assertFalse(bb.closed)
            self.assertEqual(bb.arch, "resnet18")
        self.assertTrue(bb.closed)
        bb.close()  # a second close does nothing
        with self.assertRaises(ValueError):
            bb.arch
        with self.assertRaises(ValueError):
            with bb:
                pass

    def test_parents_closed_first(self):
        # the C objects count references: closing the backbone and the flow
        # before the scorer is fine
        m = tinymodel.get()
        bb = fastflow.Backbone.load("resnet18", m.weights)
        flow = fastflow.Flow.load(m.model_path, backbone=bb)
        sc = flow.scorer()
        bb.close()
        flow.close()
        r = sc.score(m.test_paths[0])
        self.assertEqual(r.score, m.flow.score(m.test_paths[0]).score)
        sc.close()

    def test_garbage_collection_frees(self):
        m = tinymodel.get()
        flow = fastflow.Flow.load(m.model_path)
        ptr_holder = flow.backbone  # borrowed: must keep the flow alive
        del flow
        gc.collect()
        self.assertEqual(ptr_holder.arch, "resnet18")
        self.assertEqual(ptr_holder.num_levels, 3)
        del ptr_holder
        gc.collect()
        # a borrowed backbone is unusable once its flow is closed explicitly
        flow = fastflow.Flow.load(m.model_path)
        borrowed = flow.backbone
        flow.close()
        with self.assertRaises(ValueError):
            borrowed.arch

    def test_closed_handles_free_their_memory(self):
        # each load holds the embedded backbone and the flow (megabytes);
        # were close() not freeing them, 15 rounds would add far more than
        # the allowance
        m = tinymodel.get()

        def rss():
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

        def round_trip():
            with fastflow.Flow.load(m.model_path) as flow, flow.scorer() as sc:
                sc.score(m.test_paths[0])

        for _ in range(3):
            round_trip()
        before = rss()
        for _ in range(15):
            round_trip()
        grown = rss() - before
        self.assertLess(grown, 16 << 20, "resident memory grew by %d bytes" % grown)
        self.assertGreater(os.path.getsize(m.model_path), 8 << 20)

    def test_wrong_handle_type(self):
        m = tinymodel.get()
        import ctypes
        with self.assertRaises(ctypes.ArgumentError):
            fastflow._lib.lib().ff_flow_save(m.backbone._handle(), b"/tmp/x", 1)


class TestImages(unittest.TestCase):
    def test_png_round_trip_and_probe(self):
        d = tinymodel.get().dir
        img = support.synthetic_image_obj(42, 37, 21)
        path = os.path.join(d, "rt.png")
        ffimage.write_png(path, img)
        self.assertEqual(ffimage.probe(path), (37, 21, 3))
        back = ffimage.decode(path)
        self.assertEqual((back.width, back.height, back.pixel_format), (37, 21, fastflow.RGB8))
        self.assertEqual(back.tobytes(), img.tobytes())
        with open(path, "rb") as f:
            data = f.read()
        self.assertEqual(ffimage.probe(data), (37, 21, 3))
        self.assertEqual(ffimage.decode(bytearray(data)).tobytes(), img.tobytes())
        grey = ffimage.decode(data, fastflow.GRAY8)
        shape = tuple(grey.pixels.shape)
        self.assertEqual(shape, (21, 37))
        rgba = ffimage.decode(memoryview(data), fastflow.RGBA8)
        self.assertEqual(tuple(rgba.pixels.shape), (21, 37, 4))
        self.assertEqual(bytes(rgba.tobytes()[3::4]), b"\xff" * (37 * 21))

    def test_pixels_view(self):
        img = support.synthetic_image_obj(1, 5, 4)
        px = img.pixels
        self.assertEqual(tuple(px.shape), (4, 5, 3))
        raw = img.tobytes()
        self.assertEqual(int(px[2, 3, 1]), raw[(2 * 5 + 3) * 3 + 1])
        if np is not None:
            self.assertIsInstance(px, np.ndarray)
        else:
            self.assertIsInstance(px, memoryview)

    def test_strided_image(self):
        # rows padded to 20 bytes: the padding must not leak into pixels
        rows = b"".join(bytes(range(y * 15, y * 15 + 15)) + b"\xee" * 5 for y in range(3))
        img = fastflow.Image(rows, 5, 3, fastflow.RGB8, row_stride=20)
        self.assertEqual(img.tobytes(), bytes(range(45)))
        self.assertEqual(bytes(memoryview(img.pixels).tobytes()) if np is None else img.pixels.tobytes(),
                         bytes(range(45)))
        packed = ffimage.preprocess(fastflow.Image(bytes(range(45)), 5, 3), 32, 32)
        strided = ffimage.preprocess(img, 32, 32)
        self.assertEqual(support.flat(packed), support.flat(strided))

    def test_image_validation(self):
        with self.assertRaises(ValueError):
            fastflow.Image(b"\x00" * 10, 2, 2, fastflow.RGB8)
        with self.assertRaises(ValueError):
            ffimage.channels(9)
        with self.assertRaises(TypeError):
            ffimage.pixel_args(array.array("f", [0.0] * 12))
        with self.assertRaises(ValueError):
            ffimage.pixel_args(memoryview(bytes(24)).cast("B", (2, 3, 4)), fastflow.RGB8)

    def test_preprocess(self):
        img = support.synthetic_image_obj(3, 40, 30)
        t = ffimage.preprocess(img, 32, 48)
        self.assertEqual(tuple(t.shape), (3, 48, 32))
        vals = support.flat(t)
        # ImageNet-normalised [0,1] values stay within [-2.2, 2.7]
        self.assertTrue(all(-2.2 < v < 2.7 for v in vals))
        self.assertNotEqual(min(vals), max(vals))

    def test_heatmap(self):
        h, w = 6, 8
        values = array.array("f", [(x + y * w) / (h * w - 1.0) for y in range(h) for x in range(w)])
        m = memoryview(values).cast("B").cast("f", (h, w))
        hm = ffimage.render_heatmap(m, 0.0, 1.0)
        self.assertEqual((hm.width, hm.height, hm.pixel_format), (w, h, fastflow.RGB8))
        raw = hm.tobytes()
        quarter = ffimage.render_heatmap(array.array("f", [0.25]), 0.0, 1.0, shape=(1, 1)).tobytes()
        hi_px = raw[-3:]
        self.assertGreater(quarter[2], quarter[0] + 100)  # Turbo is cyan at 1/4
        self.assertGreater(hi_px[0], hi_px[2] + 100)  # and dark red at hi
        self.assertNotEqual(raw[0:3], hi_px)
        # the same map as a flat buffer with a shape
        self.assertEqual(ffimage.render_heatmap(values, 0.0, 1.0, shape=(h, w)).tobytes(), raw)
        # over a picture, alpha 0 gives the picture itself
        pic = support.synthetic_image_obj(9, w, h)
        self.assertEqual(ffimage.render_heatmap(m, 0.0, 1.0, image=pic, alpha=0.0).tobytes(), pic.tobytes())
        # a mask contour is drawn in place
        mask = bytearray(w * h)
        for y in range(2, 4):
            for x in range(3, 5):
                mask[y * w + x] = 255
        ffimage.draw_contour(memoryview(mask).cast("B", (h, w)), hm, 0xFFFFFF)
        after = hm.tobytes()
        self.assertEqual(after[(2 * w + 3) * 3:(2 * w + 3) * 3 + 3], b"\xff\xff\xff")
        self.assertEqual(after[0:3], raw[0:3])  # far from the region: unchanged
        with self.assertRaises(fastflow.InvalidArgument) as cm:
            ffimage.render_heatmap(m, 1.0, 0.0)
        self.assertIn("lo", cm.exception.message)
        path = os.path.join(tinymodel.get().dir, "heatmap.png")
        ffimage.write_png(path, hm)
        self.assertEqual(ffimage.decode(path).tobytes(), after)


class TestBackbone(unittest.TestCase):
    def test_shapes_and_features(self):
        m = tinymodel.get()
        bb = m.backbone
        self.assertEqual(bb.arch, "resnet18")
        self.assertEqual(bb.num_levels, 3)
        self.assertEqual([bb.level_shape(i, 96, 64) for i in range(3)], [(64, 16, 24), (128, 8, 12), (256, 4, 6)])
        t = ffimage.preprocess(m.train_images[0], 64, 64)
        with bb.extractor() as ex:
            feats = ex.features(t, 1, 64, 64) if np is None else ex.features(t)
        self.assertEqual([tuple(f.shape) for f in feats], [(1, 64, 16, 16), (1, 128, 8, 8), (1, 256, 4, 4)])
        with open(m.weights, "rb") as f:
            data = f.read()
        with fastflow.Backbone.from_bytes("resnet18", data) as bb2, bb2.extractor() as ex2:
            feats2 = ex2.features(t, 1, 64, 64)
        self.assertEqual(support.flat(feats[2]), support.flat(feats2[2]))

    def test_extractor_read_before_run(self):
        with tinymodel.get().backbone.extractor() as ex:
            with self.assertRaises(fastflow.StateError):
                ex.read(0)


class TestFlowAndTrainer(unittest.TestCase):
    def test_flow_options(self):
        m = tinymodel.get()
        f = m.flow
        self.assertEqual(f.input_size, (64, 64))
        self.assertEqual(f.steps, 2)
        self.assertTrue(f.conv3x3_only)
        self.assertEqual(f.options(), {"input_height": 64, "input_width": 64, "steps": 2, "conv3x3_only": 1,
                                       "hidden_ratio": 1.0, "clamp": 2.0, "seed": 3})
        self.assertEqual(f.backbone.arch, "resnet18")
        with fastflow.Flow.create(m.backbone) as default:
            self.assertEqual(default.options(), {"input_height": 256, "input_width": 256, "steps": 8,
                                                 "conv3x3_only": 1, "hidden_ratio": 1.0, "clamp": 2.0, "seed": 0})
        opts = fastflow.FlowOptions(steps=4, hidden_ratio=0.5, conv3x3_only=False)
        self.assertEqual((opts["steps"], opts["hidden_ratio"], opts["conv3x3_only"]), (4, 0.5, 0))
        opts.close()

    def test_transformer_defaults(self):
        # the library fills in a ViT's settings for options not given
        src = os.environ.get("FF_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
        path = os.path.join(src, "tests", "golden", "vit_deit_tiny.safetensors")
        with fastflow.Backbone.load("deit_tiny_test", path) as bb:
            with fastflow.Flow.create(bb) as f:
                self.assertEqual((f.input_size, f.steps, f.conv3x3_only), ((64, 64), 20, False))
                self.assertAlmostEqual(f.hidden_ratio, 0.16, places=6)
            with fastflow.Flow.create(bb, steps=3, seed=5) as f:
                self.assertEqual((f.input_size, f.steps, f.conv3x3_only, f.seed), ((64, 64), 3, False, 5))
                self.assertAlmostEqual(f.hidden_ratio, 0.16, places=6)
            with self.assertRaisesRegex(fastflow.InvalidArgument, "64x64 inputs only"):
                fastflow.Flow.create(bb, input_size=128)

    def test_trainer_counters_and_progress(self):
        m = tinymodel.get()
        self.assertEqual(len(m.losses), 1)
        self.assertTrue(math.isfinite(m.losses[0]))
        d = os.path.join(m.dir, "train-folder")
        paths = support.write_image_folder(d, 3, 72, seed=11)
        with open(paths[0], "rb") as f:
            encoded = f.read()
        with fastflow.Trainer(m.untrained, batch_size=2, learning_rate=5e-4, seed=1) as tr:
            self.assertEqual(tr.batch_size, 2)
            self.assertAlmostEqual(tr.learning_rate, 5e-4, places=9)
            self.assertEqual(tr.add_folder(d), 3)          # paths
            tr.add(encoded)                                 # encoded bytes
            tr.add(m.train_images[0])                       # an Image
            tr.add(memoryview(m.train_images[1].tobytes()).cast("B", (72, 80, 3)))  # a 3-D buffer
            self.assertEqual(tr.num_images, 6)
            per_image = 4 * (64 * 16 * 16 + 128 * 8 * 8 + 256 * 4 * 4)
            self.assertEqual(tr.feature_bytes, 6 * per_image)
            self.assertEqual((tr.cache_memory, tr.feature_bytes_spilled), (0, 0))
            with self.assertRaises(fastflow.StateError):
                tr.cache_memory = per_image
            self.assertEqual(tr.batches_per_epoch, 3)
            seen = []
            losses = tr.fit(2, progress=seen.append)
            self.assertEqual(len(losses), 2)
            self.assertEqual([(p.epoch, p.batch, p.batches) for p in seen],
                             [(1, 1, 3), (1, 2, 3), (1, 3, 3), (2, 1, 3), (2, 2, 3), (2, 3, 3)])
            self.assertAlmostEqual(seen[-1].fraction, 1.0)
            self.assertAlmostEqual(losses[1], sum(p.loss for p in seen[3:]) / 3, places=3)
            self.assertEqual((tr.epoch, tr.steps), (2, 6))
            # a callback returning False stops early
            stopped = tr.fit(5, progress=lambda p: False)
            self.assertEqual(len(stopped), 1)
            self.assertEqual(tr.steps, 7)
            # the text display: one line per epoch when not a terminal
            out = io.StringIO()
            tr.fit(1, progress=True, file=out)
            self.assertRegex(out.getvalue(), r"^epoch 1/1: mean loss [-0-9.e+]+ \(3 batches")
            self.assertTrue(math.isfinite(tr.run_epoch()))
            self.assertTrue(math.isfinite(tr.run_batch()))
            with tr.snapshot() as snap:
                self.assertEqual(snap.input_size, (64, 64))
                self.assertTrue(math.isfinite(snap.score(paths[0]).score))
                saved = os.path.join(m.dir, "trainer-save.safetensors")
                tr.save(saved)
                with fastflow.Flow.load(saved) as back:
                    self.assertEqual(support.flat(back.score(paths[1]).map), support.flat(snap.score(paths[1]).map))

    def test_cache_memory(self):
        m = tinymodel.get()
        per_image = 4 * (64 * 16 * 16 + 128 * 8 * 8 + 256 * 4 * 4)
        with fastflow.Trainer(m.untrained, batch_size=2, cache_memory=per_image) as tr:
            self.assertEqual(tr.cache_memory, per_image)
            for img in m.train_images[:3]:
                tr.add(img)
            self.assertEqual((tr.feature_bytes, tr.feature_bytes_spilled), (3 * per_image, 2 * per_image))
            self.assertTrue(math.isfinite(tr.run_epoch()))

    def test_training_is_deterministic(self):
        m = tinymodel.get()
        with fastflow.Trainer(m.untrained, batch_size=4, seed=5) as tr:
            for im in m.train_images:
                tr.add(im)
            self.assertEqual(tr.fit(1), m.losses)
            with tr.snapshot() as again:
                self.assertEqual(support.flat(again.score(m.test_paths[2]).map),
                                 support.flat(m.flow.score(m.test_paths[2]).map))

    def test_checkpoint_resume_and_training_record(self):
        m = tinymodel.get()
        ck = os.path.join(m.dir, "trainer.ckpt")

        def trainer():
            tr = fastflow.Trainer(m.untrained, batch_size=2, seed=7)
            for im in m.train_images:
                tr.add(im)
            return tr
        with trainer() as whole:
            whole.fit(2)
            with whole.snapshot() as ref:
                ref_map = support.flat(ref.score(m.test_paths[1]).map)
        with trainer() as first:
            first.run_batch()
            first.save_checkpoint(ck)
        with trainer() as resumed:
            resumed.restore_checkpoint(ck)
            self.assertEqual(resumed.steps, 1)
            while resumed.epoch < 2:
                resumed.run_batch()
            with resumed.snapshot() as got:
                self.assertEqual(support.flat(got.score(m.test_paths[1]).map), ref_map)
        with fastflow.Trainer(m.untrained, batch_size=2, seed=7) as other:
            other.add(m.train_images[0])
            with self.assertRaisesRegex(fastflow.StateError, "trained on other images"):
                other.restore_checkpoint(ck)
        # a training record travels with the flow and through the model file
        self.assertIsNone(m.flow.training_record)
        with m.flow.with_training_record('{"method":"test"}') as rec:
            self.assertEqual(rec.training_record, '{"method":"test"}')
            path = os.path.join(m.dir, "record.safetensors")
            rec.save(path)
            with fastflow.Flow.load(path) as back:
                self.assertEqual(back.training_record, '{"method":"test"}')
        with self.assertRaises(fastflow.InvalidArgument):
            m.flow.with_training_record("line\nbreak")

    def test_ema_decay(self):
        # the moving average of the parameters over epochs: snapshot() is
        # decay * (epoch 1's parameters) + (1 - decay) * (epoch 2's) in float32,
        # snapshot_raw() the parameters of a run without it
        m = tinymodel.get()

        def trainer(**kw):
            return tiny_trainer(m, **kw)

        def tensors(flow, name):
            path = os.path.join(m.dir, name)
            flow.save(path, embed_backbone=False)
            return {k: list(t.values()) for k, t in fastflow.safetensors.load(path)[0].items() if t.dtype == "F32"}

        def f32(x):
            return struct.unpack("<f", struct.pack("<f", x))[0]

        self.assertEqual(fastflow.params.table(fastflow.params.TRAINER)["ema_decay"].default, 0.0)
        with trainer(ema_decay=0.6) as avg, trainer() as plain:
            self.assertEqual(avg.ema_decay, f32(0.6))
            self.assertEqual(plain.ema_decay, 0.0)
            with self.assertRaises(fastflow.InvalidArgument):
                plain.ema_decay = 1.0
            plain.fit(1)
            with plain.snapshot() as s:
                p1 = tensors(s, "ema-p1.safetensors")
            plain.fit(1)
            avg.fit(2)
            with self.assertRaisesRegex(fastflow.StateError, "before training starts"):
                avg.ema_decay = 0.5
            with plain.snapshot() as s:
                p2 = tensors(s, "ema-p2.safetensors")
            with avg.snapshot_raw() as s:
                self.assertEqual(tensors(s, "ema-raw.safetensors"), p2)
            with avg.snapshot() as s:
                got = tensors(s, "ema-avg.safetensors")
        d = f32(0.6)
        for name, a in p1.items():
            b = p2[name]
            if a == b:  # a permutation: not a parameter
                self.assertEqual(got[name], a)
                continue
            want = [f32(f32(d * x) + f32(f32(1.0 - d) * y)) for x, y in zip(a, b)]
            self.assertEqual(got[name], want, name)


    def test_precision(self):
        # FF_TRAINER_PRECISION: "fp32" by default; "bf16" trains another
        # (close) model where the CPU has bf16 and is refused elsewhere; only
        # before the first batch
        m = tinymodel.get()

        def trainer(**kw):
            return tiny_trainer(m, **kw)

        self.assertEqual(fastflow.params.table(fastflow.params.TRAINER)["precision"].default, 0)
        with trainer() as plain:
            self.assertEqual(plain.precision, "fp32")
            with self.assertRaises(ValueError):
                plain.precision = "fp16"
            if not fastflow.cpu_supports_bf16():
                with self.assertRaises(fastflow.Unsupported) as cm:
                    plain.precision = "bf16"
                self.assertIn("AVX512-BF16", cm.exception.message)
                return
            plain.fit(1)
            with self.assertRaisesRegex(fastflow.StateError, "before training starts"):
                plain.precision = "bf16"
            with trainer(precision="bf16") as half:
                self.assertEqual(half.precision, "bf16")
                half.fit(1)
                loss16, loss32 = half.run_epoch(), plain.run_epoch()
            self.assertTrue(math.isfinite(loss16))
            self.assertAlmostEqual(loss16, loss32, delta=5e-2 * abs(loss32))


class TestSelector(unittest.TestCase):
    """fastflow.Selector and Trainer.train_auto (ff_selector, experimental)."""

    def _trainer(self, **kw):
        m = tinymodel.get()
        tr = fastflow.Trainer(m.untrained, batch_size=3, seed=5, **kw)
        for im in m.train_images[:4]:
            tr.add(im)
        return tr

    def _held(self):
        # held-out normal images as a path, encoded bytes and pixels
        m = tinymodel.get()
        p = os.path.join(m.dir, "held-0.png")
        fastflow.image.write_png(p, support.synthetic_image_obj(50, 80, 72))
        with open(p, "rb") as f:
            encoded = f.read()
        return [p, encoded, m.train_images[4], m.train_images[5]]

    def test_names_and_held_out(self):
        from fastflow import selector
        self.assertEqual(selector.CRITERIA, ("normal-spread", "normal-mean", "image-auroc", "pixel-auroc",
                                             "mean-auroc"))
        for i, name in enumerate(selector.CRITERIA):
            self.assertEqual(selector.criterion_value(name), i)
            self.assertEqual(selector.criterion_name(i), name)
        self.assertIsNone(selector.criterion_name(5))
        with self.assertRaisesRegex(fastflow.InvalidArgument, "unknown selection criterion 'best'"):
            selector.criterion_value("best")
        # the CLI's rule: round(n / 10) clamped to [2, 16], drawn by the seed, increasing
        self.assertEqual(selector.held_out(54, 0), [6, 8, 13, 15, 49])
        self.assertEqual(len(selector.held_out(3, 1)), 2)
        self.assertEqual(len(selector.held_out(10000, 1)), 16)
        self.assertNotEqual(selector.held_out(54, 1), selector.held_out(54, 0))
        with self.assertRaises(fastflow.InvalidArgument):
            selector.held_out(2, 0)

    def test_train_auto_equals_the_selector_loop(self):
        m = tinymodel.get()
        held = self._held()
        seen = []
        with self._trainer(ema_decay=0.5) as tr:
            flow, epoch = tr.train_auto(held, criterion="normal-mean", max_epochs=4, patience=1,
                                        on_epoch=lambda *a: seen.append(a))
        with flow:
            auto_record = flow.training_record
            rec = json.loads(auto_record)
            auto_map = support.flat(flow.score(m.test_paths[3]).map)
        self.assertEqual([s[0] for s in seen], list(range(1, len(seen) + 1)))
        curve = [s[2] for s in seen]
        best = min(range(len(curve)), key=lambda i: (curve[i], i)) + 1
        self.assertEqual(epoch, best)
        self.assertEqual([s[3] for s in seen], [curve[i] < min(curve[:i], default=float("inf"))
                                                for i in range(len(curve))])
        self.assertTrue(len(curve) == 4 or len(curve) == best + 1)
        self.assertEqual((rec["method"], rec["criterion"], rec["higher_is_better"], rec["chosen_epoch"],
                          rec["epochs_run"], rec["max_epochs"], rec["patience"], rec["ema_decay"]),
                         ("epochs-auto", "normal-mean", False, epoch, len(curve), 4, 1, 0.5))
        self.assertEqual(rec["selection_set"], "4 held-out normal training images + 8 synthetic anomalies")
        self.assertEqual(rec["curve"], [float("%.9g" % v) for v in curve])
        # the same loop by hand: same values, and the kept flow is the chosen epoch's snapshot
        with self._trainer(ema_decay=0.5) as tr:
            with tr.snapshot() as f0:
                sel = fastflow.Selector(f0, "normal-mean", max_epochs=4, patience=1, seed=tr.seed)
            snaps = []
            with sel:
                for im in held:
                    sel.add_normal(im)
                stop = False
                while not stop:
                    tr.run_epoch()
                    snaps.append(tr.snapshot())
                    value, improved, stop = sel.update(tr)
                self.assertEqual(sel.curve, curve)
                kept, e = sel.best()
            with kept:
                self.assertEqual(e, epoch)
                self.assertEqual(kept.training_record, auto_record)
                self.assertEqual(support.flat(kept.score(m.test_paths[3]).map), auto_map)
                self.assertEqual(support.flat(snaps[epoch - 1].score(m.test_paths[3]).map), auto_map)
            for f in snaps:
                f.close()

    def test_labelled_and_errors(self):
        m = tinymodel.get()
        w, h = 96, 80
        s = max(4, w // 6)
        mask = bytearray(w * h)
        for y in range(h // 2, min(h, h // 2 + s)):
            for x in range(w // 3, min(w, w // 3 + s)):
                mask[y * w + x] = 255
        mask_img = fastflow.Image(bytes(mask), w, h, fastflow.GRAY8)
        mask_path = os.path.join(m.dir, "mask.png")
        fastflow.image.write_png(mask_path, mask_img)
        with self._trainer() as tr:
            flow, epoch = tr.train_auto(m.test_paths, criterion="pixel-auroc", max_epochs=2, patience=1,
                                        labels=[0, 0, 1, 1], masks=[None, None, mask_img, mask_path])
            with flow:
                rec = json.loads(flow.training_record)
            self.assertEqual(rec["selection_set"], "4 labelled images (2 good, 2 defect)")
            self.assertNotIn("ema_decay", rec)
            self.assertEqual(rec["chosen_epoch"], epoch)
            with tr.snapshot() as f:
                with fastflow.Selector(f, "image-auroc", max_epochs=3, patience=1) as sel:
                    with self.assertRaisesRegex(fastflow.StateError, "no epoch was scored"):
                        sel.best()
                    with self.assertRaisesRegex(fastflow.StateError, "no images"):
                        sel.update(tr)
                    sel.add_labelled(m.test_paths[0], False)
                    with self.assertRaisesRegex(fastflow.StateError, "not both"):
                        sel.add_normal(m.test_paths[1])
                    with self.assertRaisesRegex(fastflow.StateError, "image-auroc cannot be computed"):
                        sel.update(tr)
                    self.assertEqual((sel.curve, sel.epoch), ([], 0))
                    with self.assertRaises(ValueError):
                        sel.add_labelled(m.test_paths[2], True, mask=m.train_images[0])  # RGB: not a mask
                with self.assertRaises(fastflow.InvalidArgument):
                    fastflow.Selector(f, "best")
                with self.assertRaises(fastflow.InvalidArgument):
                    fastflow.Selector(f, "mean-auroc", max_epochs=0)
                with self.assertRaises(fastflow.InvalidArgument):
                    fastflow.Selector(f, "mean-auroc", patience=0)


class TestScoring(unittest.TestCase):
    def test_inputs_agree(self):
        m = tinymodel.get()
        path = m.test_paths[2]
        with open(path, "rb") as f:
            encoded = f.read()
        img = ffimage.decode(path)
        with m.flow.scorer() as sc:
            self.assertEqual(sc.map_shape, (64, 64))
            ref = sc.score(path)
            self.assertEqual(tuple(ref.map.shape), (64, 64))
            flat = support.flat(ref.map)
            self.assertEqual(ref.score, max(flat))
            self.assertTrue(all(-1.0 <= v <= 0.0 for v in flat))
            if np is not None:
                self.assertIsInstance(ref.map, np.ndarray)
                self.assertEqual(ref.map.dtype, np.float32)
            else:
                self.assertIsInstance(ref.map, memoryview)
                self.assertEqual(ref.map.format, "f")
            inputs = {
                "pathlike": __import__("pathlib").Path(path),
                "bytes": encoded,
                "bytearray": bytearray(encoded),
                "memoryview-1d": memoryview(encoded),
                "Image": img,
                "3-D buffer": memoryview(img.tobytes()).cast("B", (img.height, img.width, 3)),
                "BGR8": as_bgr(img),
            }
            if np is not None:
                arr = np.frombuffer(img.tobytes(), np.uint8).reshape(img.height, img.width, 3)
                inputs["numpy"] = arr
                inputs["numpy BGR view"] = (arr[:, :, ::-1], fastflow.BGR8)
                padded = np.zeros((img.height, img.width + 7, 3), np.uint8)
                padded[:, :img.width] = arr
                inputs["numpy row-strided"] = padded[:, :img.width]
            for name, x in inputs.items():
                fmt = None
                if isinstance(x, tuple):
                    x, fmt = x
                r = sc.score(x, pixel_format=fmt)
                self.assertEqual(r.score, ref.score, name)
                self.assertEqual(support.flat(r.map), flat, name)
            self.assertIsNone(sc.score(path, map=False).map)
            self.assertEqual(sc.score(path, map=False).score, ref.score)
            out = array.array("f", [0.0]) * (64 * 64)
            r = sc.score(encoded, out=out)
            self.assertIs(r.map, out)
            self.assertEqual(list(out), flat)
            with self.assertRaises(ValueError):
                sc.score(path, out=array.array("f", [0.0]) * 10)

    def test_score_memory_equals_score_file(self):
        m = tinymodel.get()
        with m.flow.scorer() as sc:
            for mode in ("model", "image"):
                sc.map_size = mode
                for path in m.test_paths:
                    with open(path, "rb") as f:
                        encoded = f.read()
                    ref = sc.score(path)
                    for r in (sc.score_memory(encoded), sc.score_bytes(bytearray(encoded))):
                        self.assertEqual(r.score, ref.score)
                        self.assertEqual(support.flat(r.map), support.flat(ref.map))
                        self.assertEqual(tuple(r.map.shape), tuple(ref.map.shape))
            with self.assertRaises(fastflow.errors.BadFormat):
                sc.score_memory(b"not an image at all")

    def test_score_files(self):
        m = tinymodel.get()
        bad = os.path.join(m.dir, "corrupt.png")
        with open(bad, "wb") as f:
            f.write(b"\x89PNG\r\n\x1a\nbroken")
        paths = list(m.test_paths) + [bad, os.path.join(m.dir, "missing.png")] + list(m.test_paths)
        with m.flow.scorer() as sc:
            refs = [sc.score(p) for p in m.test_paths] * 2
            self.assertEqual(sc.progress(), fastflow.scorer.FilesProgress(0, 0, 0, 0.0))
            for batch, threads in ((1, 0), (3, 1), (8, 2)):
                sc.batch, sc.decode_threads = batch, threads
                self.assertEqual((sc.batch, sc.decode_threads), (batch, threads))
                seen = []
                stop = threading.Event()

                def poll():
                    while not stop.wait(0.002):
                        seen.append(sc.progress())

                sc.score_files([])  # the poller then sees only the call below
                th = threading.Thread(target=poll)
                th.start()
                try:
                    res = sc.score_files(paths)
                finally:
                    stop.set()
                    th.join()
                ok = [i for i in range(len(paths)) if i not in (4, 5)]
                self.assertEqual(res.statuses[4], fastflow.errors.BAD_FORMAT)
                self.assertEqual(res.statuses[5], fastflow.errors.IO)
                self.assertTrue(math.isnan(res.scores[4]) and math.isnan(res.scores[5]))
                all_maps = support.flat(res.maps)
                hw = 64 * 64
                for i, ref in zip(ok, refs):
                    self.assertEqual(res.statuses[i], 0)
                    self.assertEqual(res.scores[i], ref.score)
                    self.assertEqual(all_maps[i * hw:(i + 1) * hw], support.flat(ref.map))
                # within one running call (elapsed growing) done only grows;
                # a poll straddling two calls may mix their counters
                prev = None
                for p in seen:
                    if prev is not None and p.elapsed > prev.elapsed:
                        self.assertGreaterEqual(p.done, prev.done)
                        self.assertLessEqual(p.failed, p.done)
                    prev = p
                last = sc.progress()
                self.assertEqual((last.done, last.total, last.failed), (len(paths), len(paths), 2))
                self.assertGreater(last.elapsed, 0.0)
            scores_only = sc.score_files(m.test_paths, map=False)
            self.assertIsNone(scores_only.maps)
            self.assertEqual(list(scores_only.scores), [r.score for r in refs[:len(m.test_paths)]])
            self.assertEqual(len(sc.score_files([]).statuses), 0)
            with self.assertRaises(fastflow.errors.InvalidArgument):
                sc.batch = 9

    def test_threads_share_a_flow(self):
        m = tinymodel.get()
        want = [support.flat(m.flow.score(p).map) for p in m.test_paths]
        got = {}

        def work(k):
            # Flow.score keeps one scorer per thread
            got[k] = [support.flat(m.flow.score(p).map) for p in m.test_paths]

        threads = [threading.Thread(target=work, args=(k,)) for k in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(sorted(got), [0, 1, 2])
        for k in got:
            self.assertEqual(got[k], want)

    def test_one_scorer_shared_by_threads_is_refused_not_corrupted(self):
        # issue 12: 4 threads sharing one Scorer, each scoring 20 images 5
        # times, crashed or returned wrong scores. Every call must now give
        # the one-thread result or raise StateError saying what to do.
        m = tinymodel.get()
        paths = (m.test_paths * 20)[:20]
        want = {p: m.flow.score(p) for p in m.test_paths}
        before = fastflow.get_num_threads()
        fastflow.set_num_threads(1)
        outcome = {"ok": 0, "refused": 0, "wrong": [], "other": []}
        lock = threading.Lock()
        try:
            with m.flow.scorer() as shared:
                def work():
                    for _ in range(5):
                        for p in paths:
                            try:
                                r = shared.score(p)
                            except fastflow.StateError as e:
                                with lock:
                                    outcome["refused"] += 1
                                    if "one Scorer per thread" not in str(e):
                                        outcome["other"].append(str(e))
                                continue
                            except Exception as e:  # noqa: BLE001 - any other failure is the bug
                                with lock:
                                    outcome["other"].append(repr(e))
                                continue
                            with lock:
                                outcome["ok"] += 1
                                if (r.score != want[p].score or support.flat(r.map) != support.flat(want[p].map)
                                        or r.anomalous != want[p].anomalous):
                                    outcome["wrong"].append(p)

                threads = [threading.Thread(target=work) for _ in range(4)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                # intact afterwards
                self.assertEqual(shared.score(paths[0]).score, want[paths[0]].score)
        finally:
            fastflow.set_num_threads(before)
        self.assertEqual(outcome["wrong"], [])
        self.assertEqual(outcome["other"], [])
        self.assertEqual(outcome["ok"] + outcome["refused"], 4 * 5 * 20)
        self.assertGreater(outcome["ok"], 0)

    def test_close_while_in_use_is_refused(self):
        m = tinymodel.get()
        sc = m.flow.scorer()
        entered, release = threading.Event(), threading.Event()

        def hold():
            with sc._busy:  # stands for a long score call on another thread
                entered.set()
                release.wait(30)

        t = threading.Thread(target=hold)
        t.start()
        entered.wait(30)
        try:
            with self.assertRaises(fastflow.StateError) as cm:
                sc.close()
            self.assertIn("in use by another thread", str(cm.exception))
            with self.assertRaises(fastflow.StateError):
                sc.score(m.test_paths[0])
            self.assertFalse(sc.closed)
        finally:
            release.set()
            t.join()
        self.assertEqual(sc.score(m.test_paths[0]).score, m.flow.score(m.test_paths[0]).score)
        sc.close()
        self.assertTrue(sc.closed)

    def test_grey_images(self):
        m = tinymodel.get()
        img = ffimage.decode(m.test_paths[0], fastflow.GRAY8)
        with m.flow.scorer() as sc:
            a = sc.score(img)
            b = sc.score(memoryview(img.tobytes()).cast("B", (img.height, img.width)))
            rgb = bytes(v for v in img.tobytes() for _ in range(3))
            c = sc.score(fastflow.Image(rgb, img.width, img.height, fastflow.RGB8))
        self.assertEqual(a.score, b.score)
        self.assertEqual(support.flat(a.map), support.flat(c.map))

    def test_tensor_batch_equals_images(self):
        m = tinymodel.get()
        imgs = [ffimage.decode(p) for p in m.test_paths[:3]]
        tensors = [ffimage.preprocess(im, 64, 64) for im in imgs]
        batch = array.array("f")
        for t in tensors:
            batch.extend(support.flat(t))
        with m.flow.scorer() as sc:
            scores, maps = sc.score_tensor(batch, batch=3)
            singles = [sc.score(im) for im in imgs]
        self.assertEqual(tuple(maps.shape), (3, 64, 64))
        self.assertEqual(list(support.flat(scores)), [s.score for s in singles])
        self.assertEqual(support.flat(maps), sum((support.flat(s.map) for s in singles), []))

    def test_save_load_round_trip(self):
        m = tinymodel.get()
        with fastflow.Flow.load(m.model_path) as loaded:
            self.assertEqual(loaded.options(), m.flow.options())
            for p in m.test_paths:
                self.assertEqual(support.flat(loaded.score(p).map), support.flat(m.flow.score(p).map))
        # without the backbone embedded, loading needs one
        slim = os.path.join(m.dir, "slim.safetensors")
        m.flow.save(slim, embed_backbone=False)
        self.assertLess(os.path.getsize(slim), os.path.getsize(m.model_path))
        tensors, meta = fastflow.safetensors.load(slim)
        self.assertEqual(meta["format"], "libfastflow")
        self.assertEqual(meta["backbone"], "resnet18")
        self.assertFalse(any(n.startswith("feature_extractor.") for n in tensors))
        with fastflow.Flow.load(slim, backbone=m.backbone) as f2:
            self.assertEqual(f2.score(m.test_paths[1]).score, m.flow.score(m.test_paths[1]).score)

    def test_errors(self):
        m = tinymodel.get()
        with m.flow.scorer() as sc:
            with self.assertRaises(fastflow.BadFormat):
                sc.score(b"not an image at all")
            with self.assertRaises(fastflow.IOFailure) as cm:
                sc.score(os.path.join(m.dir, "missing.png"))
            self.assertIn("missing.png", cm.exception.message)
            with self.assertRaises(TypeError):
                sc.score(12345)
            with self.assertRaises(ValueError):
                sc.score_tensor(array.array("f", [0.0] * 10), batch=1)


class TestScorerOptionsAndStatistics(unittest.TestCase):
    def test_precision(self):
        m = tinymodel.get()
        path = m.test_paths[0]
        with m.flow.scorer() as sc:
            self.assertEqual(sc.precision, "fp32")
            ref = sc.score(path).score
            with self.assertRaises(ValueError):
                sc.precision = "fp16"
            sc.precision = "winograd"
            self.assertEqual(sc.precision, "winograd")
            self.assertAlmostEqual(sc.score(path).score, ref, delta=1e-4 * max(abs(ref), 1e-3))
            if fastflow.cpu_supports_bf16():
                sc.precision = "bf16"
                self.assertEqual(sc.precision, "bf16")
                self.assertAlmostEqual(sc.score(path).score, ref, delta=2e-2 * max(abs(ref), 1e-3))
            else:
                with self.assertRaises(fastflow.Unsupported) as cm:
                    sc.precision = "bf16"
                self.assertIn("AVX512-BF16", cm.exception.message)
            sc.precision = "fp32"
            self.assertEqual(sc.score(path).score, ref)

    def test_no_statistics(self):
        m = tinymodel.get()
        self.assertIsNone(m.flow.statistics)
        with m.flow.scorer() as sc:
            self.assertIsNone(sc.score(m.test_paths[0]).anomalous)
            with self.assertRaises(fastflow.StateError) as cm:
                sc.normalized = True
            self.assertIn("statistics", cm.exception.message)
            with self.assertRaises(fastflow.StateError):
                sc.last_decisions()
            self.assertFalse(sc.normalized)

    def test_calibrate_normalise_decide(self):
        m = tinymodel.get()
        normal = m.test_paths[:2]
        raw = [m.flow.score(p) for p in m.test_paths]
        with m.flow.calibrate(normal, source="test") as cal:
            st = cal.statistics
            # normal images only: both thresholds are the largest score
            self.assertEqual(st["image_threshold"], max(r.score for r in raw[:2]))
            self.assertEqual(st["pixel_threshold"], st["image_threshold"])
            values = sum((support.flat(r.map) for r in raw[:2]), [])
            self.assertEqual(st["min"], min(values))
            self.assertEqual(st["max"], max(values))
            with cal.scorer() as plain, cal.scorer(normalized=True) as norm:
                self.assertTrue(norm.normalized)
                for p, r in zip(m.test_paths, raw):
                    a, b = plain.score(p), norm.score(p)
                    self.assertEqual(a.score, r.score)
                    self.assertEqual(a.anomalous, r.score >= st["image_threshold"])
                    self.assertEqual(b.anomalous, a.anomalous)
                    want = min(1.0, max(0.0, f32(f32(r.score - st["image_threshold"]) / f32(st["max"] - st["min"]))
                                        + 0.5))
                    self.assertAlmostEqual(b.score, want, delta=1e-6)
                    self.assertEqual(b.anomalous, b.score >= 0.5)
                    self.assertTrue(all(0.0 <= v <= 1.0 for v in support.flat(b.map)))
            # statistics survive a save and load
            path = os.path.join(m.dir, "calibrated.safetensors")
            cal.save(path)
            _, meta = fastflow.safetensors.load(path)
            self.assertEqual(meta.get("score.source"), "test")
            with fastflow.Flow.load(path) as back:
                self.assertEqual(back.statistics, st)

    def test_with_statistics_and_batch_decisions(self):
        m = tinymodel.get()
        raw = [m.flow.score(p).score for p in m.test_paths]
        thr = sorted(raw)[1]
        with m.flow.with_statistics(thr, thr, -1.0, 0.0) as f:
            self.assertEqual(f.statistics, {"image_threshold": f32(thr), "pixel_threshold": f32(thr),
                                            "min": -1.0, "max": 0.0})
            tensors = array.array("f")
            for p in m.test_paths:
                tensors.extend(support.flat(ffimage.preprocess(ffimage.decode(p), 64, 64)))
            with f.scorer() as sc:
                scores, _ = sc.score_tensor(tensors, batch=len(m.test_paths), map=False)
                self.assertEqual(sc.last_decisions(), [s >= f32(thr) for s in support.flat(scores)])
                self.assertEqual(sum(sc.last_decisions()), 3)
        with self.assertRaises(fastflow.InvalidArgument):
            m.flow.with_statistics(0.0, 0.0, 1.0, 1.0)

    def test_score_statistics_with_labels(self):
        h, w = 4, 4
        maps = array.array("f", [0.0] * (3 * h * w))
        for i, peak in enumerate([0.2, 0.9, 0.4]):
            maps[i * h * w + 5] = peak
        scores = [0.2, 0.9, 0.4]
        st = fastflow.score_statistics(maps, scores, labels=[0, 1, 0], shape=(3, h, w))
        self.assertEqual(st["image_threshold"], f32(0.9))  # F1-optimal: only the anomalous image above
        self.assertEqual(st["pixel_threshold"], st["image_threshold"])  # no masks: the image threshold
        self.assertEqual((st["min"], st["max"]), (0.0, f32(0.9)))
        masks = bytearray(3 * h * w)
        masks[h * w + 5] = 1
        st2 = fastflow.score_statistics(maps, scores, labels=[0, 1, 0], masks=masks, shape=(3, h, w))
        self.assertEqual(st2["pixel_threshold"], f32(0.9))
        with self.assertRaises(fastflow.InvalidArgument):
            fastflow.score_statistics(array.array("f", [0.0] * 16), [0.0], shape=(1, 4, 4))  # max == min

    def test_image_size_maps_and_smoothing(self):
        m = tinymodel.get()
        path = m.test_paths[3]  # 96 x 80
        with open(path, "rb") as f:
            encoded = f.read()
        with m.flow.scorer(map_size="image") as sc:
            self.assertEqual(sc.map_size, "image")
            self.assertEqual(sc.map_shape_for(96, 80), (80, 96))
            ref = m.flow.score(path)
            for x in (path, encoded, ffimage.decode(path)):
                r = sc.score(x)
                self.assertEqual(tuple(r.map.shape), (80, 96))
                self.assertEqual(r.score, ref.score)  # the score does not depend on the map size
            out = array.array("f", [0.0]) * (80 * 96)
            self.assertIs(sc.score(path, out=out).map, out)
            with self.assertRaises(ValueError):
                sc.score(path, out=array.array("f", [0.0]) * (64 * 64))
            sc.map_size = "model"
            self.assertEqual(tuple(sc.score(path).map.shape), (64, 64))
            with self.assertRaises(ValueError):
                sc.map_size = "huge"
        with m.flow.scorer(smooth_sigma=2.0) as sm:
            self.assertEqual(sm.smooth_sigma, 2.0)
            r = sm.score(path)
            flat = support.flat(r.map)
            self.assertEqual(r.score, max(flat))
            self.assertNotEqual(flat, support.flat(m.flow.score(path).map))
            with self.assertRaises(fastflow.InvalidArgument) as cm:
                sm.smooth_sigma = -1.0
            self.assertIn("SIGMA", cm.exception.message.upper())
            self.assertEqual(sm.smooth_sigma, 2.0)


class TestMetrics(unittest.TestCase):
    def test_auroc(self):
        # sklearn's documented example: roc_auc_score([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
        self.assertEqual(fastflow.auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]), 0.75)
        self.assertEqual(fastflow.auroc(array.array("f", [0.1, 0.4, 0.35, 0.8]), bytes([0, 0, 1, 1])), 0.75)
        self.assertEqual(fastflow.auroc([1, 1, 1, 1], [0, 1, 0, 1]), 0.5)  # one tie
        if np is not None:
            self.assertEqual(fastflow.auroc(np.array([0.1, 0.4, 0.35, 0.8]), np.array([False, False, True, True])),
                             0.75)
        with self.assertRaises(fastflow.InvalidArgument) as cm:
            fastflow.auroc([0.1, 0.2], [1, 1])
        self.assertIn("class", cm.exception.message)
        with self.assertRaises(fastflow.InvalidArgument) as cm:
            fastflow.auroc([0.1, 0.2], [0, 2])
        with self.assertRaises(fastflow.InvalidArgument):
            fastflow.auroc([0.1, float("nan")], [0, 1])
        with self.assertRaises(ValueError):
            fastflow.auroc([0.1, 0.2, 0.3], [0, 1])

    def test_f1_optimal(self):
        f1, thr = fastflow.f1_optimal([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1])
        # threshold 0.35: 3 predicted positives, 2 true: P 2/3, R 1, F1 0.8
        self.assertAlmostEqual(f1, 0.8, places=12)
        self.assertEqual(thr, f32(0.35))

    def test_pro(self):
        h, w = 6, 6
        mask = [[1 if (1 <= y <= 2 and 1 <= x <= 2) else 0 for x in range(w)] for y in range(h)]
        perfect = [[0.9 if mask[y][x] else 0.1 * ((x + y) % 3) for x in range(w)] for y in range(h)]
        self.assertEqual(fastflow.pro([perfect], [mask]), 1.0)
        inverted = [[-v for v in row] for row in perfect]
        self.assertEqual(fastflow.pro([inverted], [mask]), 0.0)
        flat_map = array.array("f", [v for row in perfect for v in row] * 2)
        flat_mask = bytes([v for row in mask for v in row]) * 2
        self.assertEqual(fastflow.pro(flat_map, flat_mask, shape=(2, h, w)), 1.0)
        with self.assertRaises(fastflow.InvalidArgument):
            fastflow.pro([perfect], [mask], max_fpr=0.0)
        with self.assertRaises(fastflow.InvalidArgument) as cm:
            fastflow.pro([perfect], [[[0] * w for _ in range(h)][0]] * h)
        self.assertIn("region", cm.exception.message)


if __name__ == "__main__":
    unittest.main()
