"""The ticket font: Roboto as shipped by the `font-roboto` wheel (full
Vietnamese coverage, no download, no system font)."""

from __future__ import annotations

import os
from functools import lru_cache

from PIL import ImageFont


def font_path(bold: bool = False) -> str:
    import font_roboto

    name = "Roboto-Bold.ttf" if bold else "Roboto-Regular.ttf"
    path = os.path.join(font_roboto.font_directory, name)
    if not os.path.exists(path):
        raise FileNotFoundError(f"font-roboto does not ship {name}")
    return path


@lru_cache(maxsize=64)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(font_path(bold), size, layout_engine=ImageFont.Layout.BASIC)
