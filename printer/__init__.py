"""Ticket printing: a pure layout, a Pillow raster, ESC/POS bytes, printer
connections and the print agent that runs next to the printer."""

from __future__ import annotations

PAPER_WIDTHS_PX = {58: 384, 80: 576}


def width_px(width_mm: int) -> int:
    """Printable dots across the paper (203 dpi heads): 58 mm -> 384, 80 mm -> 576."""
    try:
        return PAPER_WIDTHS_PX[int(width_mm)]
    except (KeyError, ValueError, TypeError):
        raise ValueError(f"paper width must be 58 or 80 mm, not {width_mm!r}") from None
