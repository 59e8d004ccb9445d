"""Every character a ticket can show is in the shipped font's character map
(no missing-glyph boxes), checked with fontTools on the font-roboto files."""

from __future__ import annotations

import unicodedata

import pytest
from fontTools.ttLib import TTFont

from printer.fonts import font_path
from printer.texts import EXTRA_CHARS, TICKET_TEXTS
from queue_server.domain.config import load_toml

VIETNAMESE = "aàảãáạăằẳẵắặâầẩẫấậbcdđeèẻẽéẹêềểễếệghiìỉĩíịklmnoòỏõóọôồổỗốộơờởỡớợpqrstuùủũúụưừửữứựvxyỳỷỹýỵ"
VIETNAMESE += VIETNAMESE.upper()


def _cmap(bold: bool) -> set[int]:
    return set(TTFont(font_path(bold)).getBestCmap())


def _used_chars() -> set[str]:
    cfg = load_toml(None)
    strings = [cfg.site.name, cfg.site.name_en, cfg.site.ticket_footer, cfg.queue.priority_label]
    for c in cfg.categories:
        strings += [c.name, c.name_en, c.prefix]
    for lang in TICKET_TEXTS.values():
        strings += list(lang.values())
    strings += [EXTRA_CHARS, VIETNAMESE]
    chars = set()
    for s in strings:
        chars |= set(unicodedata.normalize("NFC", s))
    chars -= {"{", "}"}  # format placeholders
    return chars


@pytest.mark.parametrize("bold", [False, True])
def test_every_ticket_character_is_in_the_font(bold):
    cmap = _cmap(bold)
    chars = _used_chars()
    missing = sorted(c for c in chars if ord(c) not in cmap and not c.isspace())
    assert missing == [], f"missing glyphs: {missing}"
    # the check is real: the full Vietnamese alphabet is among the characters checked
    assert set("ộịữẶỸđĐ") <= chars


def test_the_check_would_catch_a_missing_glyph():
    cmap = _cmap(False)
    assert ord("\u0e01") not in cmap  # Thai: Roboto does not have it


def test_default_category_names_are_vietnamese():
    names = [c.name for c in load_toml(None).categories]
    assert "Hộ tịch" in names and "Đất đai – Xây dựng – Môi trường" in names
