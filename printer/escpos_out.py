"""ESC/POS bytes for a rendered ticket.

The ticket is one raster image (``GS v 0``, in bands of at most
`FRAGMENT_HEIGHT` lines), then a feed and a full cut. Text is never sent as
characters: printer code pages cannot print Vietnamese reliably.

`encode` packs the raster itself for the agent's 1-bit tickets (Pillow's
mode "1" bytes are already 8 dots a byte, MSB first; only the sense of the
bit differs), which is byte for byte what `encode_escpos` (python-escpos's
``image()``) produces, at a fraction of its CPU; tests/unit/test_escpos_raster.py
compares the two. Any other image goes through python-escpos.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from escpos.printer import Dummy
from PIL import Image

INIT = b"\x1b@"
FRAGMENT_HEIGHT = 512


def _dummy(width: int) -> Dummy:
    p = Dummy()
    data = copy.deepcopy(p.profile.profile_data)
    data.setdefault("media", {})["width"] = {"pixels": width, "mm": 48 if width <= 384 else 72}
    data.setdefault("features", {})["paperFullCut"] = True
    p.profile.profile_data = data
    return p


GS_V0 = b"\x1dv0\x00"  # GS v 0, m = 0 (normal density), then xL xH yL yH
FEED_CUT = b"\x1bd\x06" + b"\x1dV\x00"  # ESC d 6 (print, feed 6 lines), GS V 0 (full cut)
# Pillow "1" raw: bit 1 = white; ESC/POS: bit 1 = print a dot
_INVERT = bytes(255 - i for i in range(256))


def encode(img: Image.Image, cut: bool = True) -> bytes:
    """INIT, the image as GS v 0 raster bands, then feed + cut: the bytes
    `encode_escpos` gives, packed here for a 1-bit image whose width is a
    whole number of bytes (the tickets' 384 and 576 dots)."""
    if img.mode != "1" or img.width % 8 or img.width == 0:
        return encode_escpos(img, cut)
    wb = img.width // 8
    raw = img.tobytes().translate(_INVERT)
    out = [INIT]
    for top in range(0, img.height, FRAGMENT_HEIGHT):
        h = min(FRAGMENT_HEIGHT, img.height - top)
        out.append(GS_V0 + wb.to_bytes(2, "little") + h.to_bytes(2, "little"))
        out.append(raw[top * wb : (top + h) * wb])
    if cut:
        out.append(FEED_CUT)
    return b"".join(out)


def encode_escpos(img: Image.Image, cut: bool = True) -> bytes:
    """INIT, the image as GS v 0 raster bands, then feed + cut, through
    python-escpos's ``image()`` (any image mode)."""
    p = _dummy(img.width)
    p._raw(INIT)
    # Cut the bands here: python-escpos would convert the whole image once
    # more before splitting it.
    for top in range(0, img.height, FRAGMENT_HEIGHT):
        band = img.crop((0, top, img.width, min(img.height, top + FRAGMENT_HEIGHT)))
        p.image(band, impl="bitImageRaster", fragment_height=FRAGMENT_HEIGHT, center=False)
    if cut:
        p.cut()
    return p.output


@dataclass
class RasterBand:
    offset: int
    width_bytes: int
    height: int
    data: bytes


def raster_bands(data: bytes) -> list[RasterBand]:
    """Every ``GS v 0 m xL xH yL yH d...`` command in a byte string."""
    bands: list[RasterBand] = []
    i = 0
    while True:
        i = data.find(b"\x1dv0", i)
        if i < 0:
            return bands
        xl, xh, yl, yh = data[i + 4], data[i + 5], data[i + 6], data[i + 7]
        wb, h = xl + 256 * xh, yl + 256 * yh
        start = i + 8
        bands.append(RasterBand(i, wb, h, data[start : start + wb * h]))
        i = start + wb * h


def decode_raster(data: bytes) -> Image.Image:
    """The picture the printer would print: all raster bands stacked, as a
    1-bit image where black (a burnt dot) is 0 like in Pillow."""
    bands = raster_bands(data)
    if not bands:
        raise ValueError("no GS v 0 raster image in the data")
    wb = bands[0].width_bytes
    if any(b.width_bytes != wb for b in bands):
        raise ValueError("raster bands of different widths")
    height = sum(b.height for b in bands)
    bits = b"".join(b.data for b in bands)
    # ESC/POS: bit 1 = print a dot. Pillow "1" raw: bit 1 = white. Invert.
    inverted = bytes(255 - x for x in bits)
    return Image.frombytes("1", (wb * 8, height), inverted)
