"""Images: decoding PNG/JPEG, PNG writing, pre-processing, heatmaps.

Pixel data crosses into C as 8-bit interleaved rows. Anything with pixels
is accepted where an image is expected:

* an :class:`Image` (pixels + width, height, format, row stride);
* a numpy ``uint8`` array of shape (H, W) or (H, W, C), C in 1, 3, 4
  (numpy's strides are passed as the row stride, no copy when rows are
  contiguous);
* any buffer-protocol object of unsigned bytes with 2 or 3 dimensions
  (e.g. ``memoryview(buf).cast("B", (h, w, 3))``).

The channel count picks GRAY8, RGB8 or RGBA8; pass ``pixel_format=BGR8`` for
OpenCV-style arrays. A 1-D bytes-like object is never taken as pixels: it is
the content of an encoded PNG/JPEG file (see :func:`decode`).
"""

import ctypes
import os

from . import _buffers, _lib
from ._buffers import np
from ._handle import call

GRAY8 = 1
RGB8 = 2
RGBA8 = 3
BGR8 = 4
_FORMAT_NAMES = {GRAY8: "GRAY8", RGB8: "RGB8", RGBA8: "RGBA8", BGR8: "BGR8"}
_DEFAULT_FORMAT = {1: GRAY8, 3: RGB8, 4: RGBA8}


def channels(pixel_format):
    """Bytes per pixel of a format (1, 3, 4 or 3); ValueError if unknown."""
    n = _lib.lib().ff_pixel_format_channels(int(pixel_format))
    if n == 0:
        raise ValueError("unknown pixel format %r (use GRAY8, RGB8, RGBA8 or BGR8)" % (pixel_format,))
    return n


def _fspath(path):
    return os.fsencode(path)


class Image:
    """8-bit interleaved pixels with their geometry.

    ``data`` is any buffer of at least ``(height-1)*row_stride + width*channels``
    bytes (row_stride 0 = packed rows). ``pixels`` shows it as a numpy array
    (H, W) for GRAY8 or (H, W, C) otherwise, or as a memoryview of that shape
    without numpy."""

    __slots__ = ("data", "width", "height", "pixel_format", "row_stride")

    def __init__(self, data, width, height, pixel_format=RGB8, row_stride=0):
        c = channels(pixel_format)
        width, height, row_stride = int(width), int(height), int(row_stride)
        if width <= 0 or height <= 0:
            raise ValueError("image size must be positive, got %dx%d" % (width, height))
        stride = row_stride or width * c
        if stride < width * c:
            raise ValueError("row_stride %d is below width*channels = %d" % (stride, width * c))
        need = (height - 1) * stride + width * c
        have = _buffers.np.asarray(data).nbytes if _buffers.is_ndarray(data) else memoryview(data).nbytes
        if have < need:
            raise ValueError("image buffer has %d bytes; %dx%d %s with stride %d needs %d"
                             % (have, width, height, _FORMAT_NAMES[pixel_format], stride, need))
        self.data = data
        self.width, self.height = width, height
        self.pixel_format = int(pixel_format)
        self.row_stride = stride

    @property
    def channels(self):
        return channels(self.pixel_format)

    @property
    def pixels(self):
        c = self.channels
        shape = (self.height, self.width) if c == 1 else (self.height, self.width, c)
        if np is not None:
            flat = np.frombuffer(self.data, dtype=np.uint8) if not _buffers.is_ndarray(self.data) \
                else self.data.reshape(-1).view(np.uint8)
            rows = np.lib.stride_tricks.as_strided(
                flat, shape=(self.height, self.width * c), strides=(self.row_stride, 1))
            return rows.reshape(shape)
        mv = memoryview(self.data).cast("B")
        if self.row_stride != self.width * c:
            packed = bytearray()
            for y in range(self.height):
                packed += mv[y * self.row_stride:y * self.row_stride + self.width * c]
            mv = memoryview(packed)
        return mv[:self.height * self.width * c].cast("B", shape)

    def tobytes(self):
        """The pixels as packed rows."""
        c = self.channels
        mv = memoryview(self.data).cast("B") if not _buffers.is_ndarray(self.data) \
            else memoryview(self.data.reshape(-1).view(np.uint8))
        if self.row_stride == self.width * c:
            return mv[:self.height * self.width * c].tobytes()
        return b"".join(mv[y * self.row_stride:y * self.row_stride + self.width * c].tobytes()
                        for y in range(self.height))

    def __repr__(self):
        return "Image(%dx%d %s)" % (self.width, self.height, _FORMAT_NAMES.get(self.pixel_format, "?"))


def pixel_args(image, pixel_format=None):
    """(pointer, width, height, row_stride, format, keep-alive) for C."""
    if isinstance(image, Image):
        if pixel_format is not None and int(pixel_format) != image.pixel_format:
            raise ValueError("pixel_format given for an Image that already has one")
        ptr, _, keep = _buffers.pointer(image.data, ctypes.c_uint8, "image data")
        return ptr, image.width, image.height, image.row_stride, image.pixel_format, keep
    if isinstance(image, (str, bytes, os.PathLike)):
        raise TypeError("expected pixels, got %s" % type(image).__name__)
    if _buffers.is_ndarray(image):
        a = image
        if a.dtype != np.uint8:
            raise TypeError("pixel arrays must have dtype uint8, not %s" % a.dtype)
        shape, strides = a.shape, a.strides
    else:
        try:
            mv = memoryview(image)
        except TypeError:
            raise TypeError("expected an image (path, encoded bytes, Image, numpy array or buffer), not %s"
                            % type(image).__name__) from None
        if _buffers._strip_order(mv.format) not in ("B", "c"):
            raise TypeError("pixel buffers must hold unsigned bytes, not format %r" % mv.format)
        if not mv.c_contiguous:
            mv = memoryview(mv.tobytes()).cast("B", mv.shape)
        a, shape, strides = mv, mv.shape, mv.strides
    if len(shape) not in (2, 3) or (len(shape) == 3 and shape[2] not in (1, 3, 4)):
        raise ValueError("pixel arrays must have shape (H, W) or (H, W, C) with C in 1, 3, 4; got %s"
                         % (tuple(shape),))
    height, width = int(shape[0]), int(shape[1])
    c = 1 if len(shape) == 2 else int(shape[2])
    fmt = _DEFAULT_FORMAT[c] if pixel_format is None else int(pixel_format)
    if channels(fmt) != c:
        raise ValueError("pixel format %s has %d channels; the array has %d"
                         % (_FORMAT_NAMES[fmt], channels(fmt), c))
    if _buffers.is_ndarray(a):
        packed_row = (len(shape) == 2 or strides[2] == 1) and strides[1] == c and strides[0] >= width * c
        if not packed_row or height == 0 or width == 0:
            a = np.ascontiguousarray(a)
            strides = a.strides
        return a.ctypes.data_as(_lib.P(ctypes.c_uint8)), width, height, int(strides[0]), fmt, a
    ptr, _, keep = _buffers.pointer(a, ctypes.c_uint8, "pixels")
    return ptr, width, height, width * c, fmt, keep


def _encoded(source):
    """(is_path, argument, keep) for a path or encoded bytes."""
    if isinstance(source, (str, os.PathLike)):
        return True, _fspath(source), None
    data, size, keep = _buffers.raw_bytes(source, "encoded image")
    return False, (data, size), keep


def probe(source):
    """(width, height, channels in the file) of a PNG/JPEG path or bytes."""
    w, h, c = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_int32()
    is_path, arg, keep = _encoded(source)
    if is_path:
        call("ff_image_probe_file", arg, ctypes.byref(c), ctypes.byref(w), ctypes.byref(h))
    else:
        call("ff_image_probe_memory", arg[0], arg[1], ctypes.byref(c), ctypes.byref(w), ctypes.byref(h))
    del keep
    return w.value, h.value, c.value


def decode(source, pixel_format=RGB8):
    """Decodes a PNG/JPEG file (path) or its content (bytes-like) into an Image."""
    is_path, arg, keep = _encoded(source)
    w, h, c = ctypes.c_int32(), ctypes.c_int32(), ctypes.c_int32()
    if is_path:
        call("ff_image_probe_file", arg, ctypes.byref(c), ctypes.byref(w), ctypes.byref(h))
    else:
        call("ff_image_probe_memory", arg[0], arg[1], ctypes.byref(c), ctypes.byref(w), ctypes.byref(h))
    ch = channels(pixel_format)
    shape = (h.value, w.value) if ch == 1 else (h.value, w.value, ch)
    out = _buffers.Output(ctypes.c_uint8, shape)
    if is_path:
        call("ff_image_decode_file", arg, int(pixel_format), out.pointer, out.count, 0)
    else:
        call("ff_image_decode_memory", arg[0], arg[1], int(pixel_format), out.pointer, out.count, 0)
    del keep
    return Image(out.storage, w.value, h.value, pixel_format)


def write_png(path, image, pixel_format=None):
    """Writes an 8-bit PNG atomically (GRAY8 or RGB8; RGBA8/BGR8 converted)."""
    ptr, w, h, stride, fmt, keep = pixel_args(image, pixel_format)
    call("ff_image_write_png", _fspath(path), ptr, w, h, stride, fmt)
    del keep


def preprocess(image, width, height, pixel_format=None):
    """The model's input for an image: float32 [3, height, width], resized
    (antialiased bilinear in float) and ImageNet-normalised."""
    ptr, w, h, stride, fmt, keep = pixel_args(image, pixel_format)
    out = _buffers.Output(ctypes.c_float, (3, int(height), int(width)))
    call("ff_image_preprocess", ptr, w, h, stride, fmt, int(width), int(height), out.pointer, out.count)
    del keep
    return out.result()


def _map_args(map, shape):
    """(pointer, height, width, keep) of a 2-D float map."""
    if shape is None:
        shape = _buffers.shape_of(map)
    if len(shape) != 2:
        raise ValueError("a map must be 2-D (H, W); got shape %s (pass shape=(h, w) for a flat buffer)"
                         % (tuple(shape),))
    ptr, count, keep = _buffers.pointer(map, ctypes.c_float, "map")
    if count != shape[0] * shape[1]:
        raise ValueError("map has %d values; shape %s needs %d" % (count, tuple(shape), shape[0] * shape[1]))
    return ptr, int(shape[0]), int(shape[1]), keep


def render_heatmap(map, lo, hi, image=None, alpha=0.5, shape=None, pixel_format=None):
    """An RGB8 Image of the map's size: the Turbo colormap of (v-lo)/(hi-lo),
    blended as (1-alpha)*image + alpha*colour over `image` (resized to the
    map's size) when one is given, else the colormap alone."""
    mptr, h, w, keep = _map_args(map, shape)
    if image is not None:
        iptr, iw, ih, istride, ifmt, ikeep = pixel_args(image, pixel_format)
    else:
        iptr, iw, ih, istride, ifmt, ikeep = _lib.P(ctypes.c_uint8)(), 0, 0, 0, RGB8, None
    out = _buffers.Output(ctypes.c_uint8, (h, w, 3))
    call("ff_heatmap_render", mptr, w, h, float(lo), float(hi), iptr, iw, ih, istride, ifmt, float(alpha),
         out.pointer, out.count, 0)
    del keep, ikeep
    return Image(out.storage, w, h, RGB8)


def draw_contour(mask, picture, color=0xFFFFFF):
    """Draws a mask's contour (2 px, colour 0xRRGGBB) over an RGB8 Image in
    place; the mask (GRAY8, non-zero = defect) is resized nearest-neighbour
    to the picture's size. Returns the picture."""
    if not isinstance(picture, Image) or picture.pixel_format != RGB8:
        raise TypeError("draw_contour draws on an RGB8 Image (e.g. from render_heatmap)")
    mptr, mw, mh, mstride, mfmt, mkeep = pixel_args(mask, GRAY8)
    rptr, cap, rkeep = _buffers.pointer(picture.data, ctypes.c_uint8, "picture")
    if isinstance(rkeep, bytes):
        raise ValueError("the picture's buffer is read-only")
    call("ff_heatmap_draw_contour", mptr, mw, mh, mstride, int(color) & 0xFFFFFFFF, rptr, picture.width,
         picture.height, cap, picture.row_stride)
    del mkeep, rkeep
    return picture
