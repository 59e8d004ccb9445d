"""Draw a `Layout` into a 1-bit Pillow image exactly as wide as the paper.

Text is drawn without anti-aliasing (mode "1"), so the ESC/POS raster is a
lossless copy of the image. Lines wrap at word boundaries; a block that must
not wrap (the big number) shrinks until it fits.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw

from printer.fonts import font
from printer.layout import QR, Gap, Layout, Rule, Text
from printer.qr import qr_matrix

WHITE, BLACK = 1, 0


@dataclass(frozen=True)
class Placed:
    """Where a block (or one line of it) landed: for tests and debugging."""

    kind: str
    text: str
    box: tuple[int, int, int, int]  # left, top, right, bottom


@lru_cache(maxsize=4096)
def _length(f, text: str) -> float:
    """f.getlength(text), kept: a ticket measures ~140 strings, and the site
    name, footer, category and labels are the same on every ticket. `f`
    comes from `printer.fonts.font`, one object per size and weight."""
    return f.getlength(text)


@lru_cache(maxsize=1024)
def _wrap(text: str, f, max_w: int) -> tuple[str, ...]:
    """`text` cut into lines no wider than `max_w` (kept like `_length`)."""
    lines: list[str] = []
    for para in text.split("\n"):
        words = para.split()
        line = ""
        for w in words:
            cand = f"{line} {w}" if line else w
            if _length(f, cand) <= max_w or not line:
                line = cand
            else:
                lines.append(line)
                line = w
            # a single word wider than the paper is cut into pieces
            while _length(f, line) > max_w and len(line) > 1:
                cut = len(line)
                while cut > 1 and _length(f, line[:cut]) > max_w:
                    cut -= 1
                lines.append(line[:cut])
                line = line[cut:]
        lines.append(line)
    return tuple(lines)


_TILE_MARGIN = 2  # blank pixels around a tile: ink a pixel off the measured box is still kept
# Pillow keeps a byte a pixel: a full-width line is ~20 KB. The big number
# (~40 KB, and new on every ticket) is drawn directly, not kept.
_TILE_MAX_PIXELS = 576 * 48


@lru_cache(maxsize=256)
def _line_tile(f, line: str) -> tuple[Image.Image, int, int] | None:
    """`line` drawn once in `f` on a 1-bit tile around its ink box (ink = 1),
    and where the tile starts from the drawing origin; None when there is
    nothing to cut out (no ink box, several lines, or too big to keep)."""
    # mode "1": the box draw.text's mask has with fontmode "1" (a pixel wider than mode "")
    left, top, right, bottom = f.getbbox(line, mode="1")
    if right <= left or bottom <= top or "\n" in line or "\r" in line:
        return None
    m = _TILE_MARGIN
    if (right - left + 2 * m) * (bottom - top + 2 * m) > _TILE_MAX_PIXELS:
        return None
    tile = Image.new("1", (right - left + 2 * m, bottom - top + 2 * m), 0)
    draw = ImageDraw.Draw(tile)
    draw.fontmode = "1"
    draw.text((m - left, m - top), line, font=f, fill=1)
    return tile, left - m, top - m


def draw_line(img: Image.Image, draw: ImageDraw.ImageDraw, pos: tuple[int, int], line: str, f) -> None:
    """`draw.text(pos, line, font=f, fill=BLACK)` on a 1-bit image, the same
    pixels, but a line drawn before is pasted from its tile instead of being
    rasterized again by FreeType (~0.5-1 ms a line; most lines of a ticket
    are on every ticket)."""
    tile = _line_tile(f, line)
    if tile is None:
        draw.text(pos, line, font=f, fill=BLACK)
        return
    im, dx, dy = tile
    img.paste(BLACK, (pos[0] + dx, pos[1] + dy), im)


# a module's "0"/"1" (1 = dark) -> one byte a pixel, white 1 / black 0
_PIXEL = bytes.maketrans(b"01", bytes((WHITE, BLACK)))


def qr_image(data: str, size: int) -> Image.Image:
    m = qr_matrix(data)
    n = m.size
    module = max(1, size // n)
    img = Image.frombytes("1", (n, n), m.bits.encode("ascii").translate(_PIXEL), "raw", "1;8")
    out = img.resize((n * module, n * module), Image.Resampling.NEAREST)
    out.info["module"] = module
    return out


def render(layout: Layout, *, placements: list[Placed] | None = None) -> Image.Image:
    """The ticket as a 1-bit image `layout.width` pixels wide."""
    width, margin = layout.width, layout.margin
    inner = width - 2 * margin
    ops: list = []  # (y, callable) drawn once the height is known
    y = margin

    for b in layout.blocks:
        if isinstance(b, Gap):
            y += b.height
        elif isinstance(b, Rule):
            ops.append(("rule", y, b))
            y += b.thickness
        elif isinstance(b, QR):
            img = qr_image(b.data, min(b.size, inner))
            quiet = min(4 * img.info.get("module", 4), 32)  # white quiet zone above and below
            y += quiet
            x = (width - img.width) // 2
            ops.append(("image", (x, y), img))
            if placements is not None:
                placements.append(Placed("qr", b.data, (x, y, x + img.width, y + img.height)))
            y += img.height + quiet // 2
        elif isinstance(b, Text):
            text = unicodedata.normalize("NFC", b.text)
            size = b.size
            f = font(size, b.bold)
            if b.wrap:
                lines = _wrap(text, f, inner)
            else:
                while size > 8 and _length(f, text) > inner:
                    size -= 2
                    f = font(size, b.bold)
                lines = (text,)
            ascent, descent = f.getmetrics()
            line_h = ascent + descent + max(2, size // 8)
            for line in lines:
                w = _length(f, line)
                if b.align == "left":
                    x = margin
                elif b.align == "right":
                    x = int(width - margin - w)
                else:
                    x = int((width - w) // 2)
                ops.append(("text", (x, y), line, f))
                if placements is not None:
                    left, top, right, bottom = f.getbbox(line)
                    placements.append(
                        Placed("text", line, (int(x + left), int(y + top), int(x + right), int(y + bottom)))
                    )
                y += line_h
    height = y + margin
    img = Image.new("1", (width, height), WHITE)
    draw = ImageDraw.Draw(img)
    draw.fontmode = "1"
    for op in ops:
        if op[0] == "rule":
            _, ry, rule = op
            draw.rectangle((margin, ry, width - margin - 1, ry + rule.thickness - 1), fill=BLACK)
        elif op[0] == "image":
            _, pos, im = op
            img.paste(im, pos)
        else:
            _, pos, line, f = op
            draw_line(img, draw, pos, line, f)
    return img
