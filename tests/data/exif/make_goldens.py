"""Goldens for EXIF orientation (tests/test_image_exif.c), with Debian's
python3-pil:  /usr/bin/python3 tests/data/exif/make_goldens.py

base.jpg: a 7x4 picture with a different colour in each corner, no EXIF.
upright_N.png (N = 1..8): what PIL's ImageOps.exif_transpose makes of
base.jpg carrying an EXIF block with Orientation N (the block is spliced in
after SOI exactly as the C test does it), converted to RGB."""
import io
import os
import struct

from PIL import Image, ImageOps

HERE = os.path.dirname(os.path.abspath(__file__))


def exif_app1(orientation, big_endian=False):
    """APP1 'Exif' segment whose IFD0 holds one Orientation (SHORT) entry."""
    e = ">" if big_endian else "<"
    tiff = (b"MM" if big_endian else b"II") + struct.pack(e + "HI", 42, 8)
    tiff += struct.pack(e + "H", 1) + struct.pack(e + "HHIHH", 0x0112, 3, 1, orientation, 0) + struct.pack(e + "I", 0)
    payload = b"Exif\0\0" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def main():
    im = Image.new("RGB", (7, 4), (128, 128, 128))
    px = im.load()
    for (x, y), c in {(0, 0): (255, 0, 0), (6, 0): (0, 255, 0), (0, 3): (0, 0, 255), (6, 3): (255, 255, 0),
                      (3, 1): (255, 255, 255)}.items():
        px[x, y] = c
    buf = io.BytesIO()
    im.save(buf, "JPEG", quality=100, subsampling=0)
    base = buf.getvalue()
    with open(os.path.join(HERE, "base.jpg"), "wb") as f:
        f.write(base)
    for n in range(1, 9):
        data = base[:2] + exif_app1(n) + base[2:]
        upright = ImageOps.exif_transpose(Image.open(io.BytesIO(data))).convert("RGB")
        upright.save(os.path.join(HERE, "upright_%d.png" % n))


if __name__ == "__main__":
    main()
