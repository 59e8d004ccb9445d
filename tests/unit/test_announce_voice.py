"""Offline speech cache (display/voice.py) with the real espeak-ng."""

import asyncio
import os
import shutil
import time

import pytest

from display.chime import chime_wav
from display.voice import VoiceCache, VoiceUnavailable, clean_text

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


def test_clean_text():
    assert clean_text("  Mời\tcông dân\n có số ") == "Mời công dân có số"
    assert clean_text("\x00\x07") == ""
    assert clean_text("Mo\u0300i") == "Mòi"          # NFC
    assert len(clean_text("a" * 1000)) == 300


@needs_espeak
def test_render_caches_per_phrase_and_prunes(tmp_path):
    cache = VoiceCache(tmp_path, max_files=2)

    async def go():
        a, hit_a = await cache.render("Mời công dân có số A không một năm đến quầy số ba")
        a2, hit_a2 = await cache.render("Mời công dân có số A không một năm đến quầy số ba")
        # the same phrase asked twice at once is rendered once
        (b, _), (b2, _) = await asyncio.gather(cache.render("số hai"), cache.render("số hai"))
        time.sleep(0.02)
        await cache.render("số ba")
        return a, hit_a, a2, hit_a2, b, b2

    a, hit_a, a2, hit_a2, b, b2 = asyncio.run(go())
    assert a[:4] == b"RIFF" and a[8:12] == b"WAVE" and len(a) > 10_000
    assert (hit_a, hit_a2) == (False, True) and a2 == a and b == b2
    files = sorted(os.listdir(tmp_path / "voice"))
    assert len(files) == 2 and all(f.endswith(".wav") for f in files)
    assert not cache.path_for("Mời công dân có số A không một năm đến quầy số ba").exists()   # oldest pruned


def test_missing_espeak_is_reported(tmp_path, monkeypatch):
    monkeypatch.setenv("MOTCUA_ESPEAK", "/nonexistent/espeak-ng")
    with pytest.raises(VoiceUnavailable):
        asyncio.run(VoiceCache(tmp_path).render("xin chào"))


def test_chime_is_a_short_wav():
    w = chime_wav()
    assert w[:4] == b"RIFF" and w[8:12] == b"WAVE"
    assert 20_000 < len(w) < 100_000
