"""Seed corpus for tests/fuzz/fuzz_image.c: small PNGs and JPEGs in every
variant the decoders handle. Usage (Debian's python3-pil):
    /usr/bin/python3 tests/fuzz/image_seeds.py OUT_DIR
"""
import io
import os
import sys

from PIL import Image


def picture(mode, w=17, h=11):
    im = Image.new("RGB", (w, h))
    im.putdata([((x * 23) % 256, (y * 40) % 256, (x * y * 7) % 256) for y in range(h) for x in range(w)])
    if mode == "I;16":  # 16-bit grey: PIL cannot convert to it from RGB
        g = Image.new("I;16", (w, h))
        g.putdata([(v * 257) for v in im.convert("L").getdata()])
        return g
    return im.convert(mode)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seeds = {}
    for mode in ["1", "L", "LA", "RGB", "RGBA", "P", "I;16"]:
        buf = io.BytesIO()
        picture(mode).save(buf, "PNG")
        seeds[f"png_{mode.replace(';', '_')}.png"] = buf.getvalue()
    buf = io.BytesIO()
    p = picture("P")
    p.info["transparency"] = 3
    p.save(buf, "PNG", transparency=3)
    seeds["png_P_trns.png"] = buf.getvalue()
    buf = io.BytesIO()
    picture("RGB", 9, 9).save(buf, "PNG", optimize=False, compress_level=0)
    seeds["png_rgb_stored.png"] = buf.getvalue()
    for mode in ["L", "RGB", "CMYK"]:
        for progressive in (False, True):
            buf = io.BytesIO()
            picture(mode).save(buf, "JPEG", quality=90, progressive=progressive)
            seeds[f"jpeg_{mode}{'_prog' if progressive else ''}.jpg"] = buf.getvalue()
    buf = io.BytesIO()
    picture("RGB", 33, 19).save(buf, "JPEG", quality=75, subsampling=2)
    seeds["jpeg_420.jpg"] = buf.getvalue()
    for orientation in (3, 6, 8):  # EXIF blocks (FF_GLOBAL_EXIF_ORIENTATION)
        exif = Image.Exif()
        exif[0x0112] = orientation
        exif[0x010F] = "fuzz"  # a second IFD0 entry (Make)
        buf = io.BytesIO()
        picture("RGB", 13, 7).save(buf, "JPEG", quality=85, exif=exif.tobytes())
        seeds[f"jpeg_exif_{orientation}.jpg"] = buf.getvalue()
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"{len(seeds)} seeds in {out}")


if __name__ == "__main__":
    main()
