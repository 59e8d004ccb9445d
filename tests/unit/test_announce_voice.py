"""Offline speech cache (display/voice.py) with the real espeak-ng."""

import asyncio
import io
import os
import shutil
import time
import wave

import pytest

from display.chime import chime_wav
from display.voice import VoiceCache, VoiceUnavailable, clean_text
from display.wordclips import PHRASES, manifest, plan
from queue_server.domain.announce import DIGITS, read_prefix, speech

needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")


def test_clean_text():
    assert clean_text("  Mời\tcông dân\n có số ") == "Mời công dân có số"
    assert clean_text("\x00\x07") == ""
    assert clean_text("Mo\u0300i") == "Mòi"  # NFC
    assert len(clean_text("a" * 1000)) == 300


@needs_espeak
def test_render_caches_per_phrase_and_prunes(tmp_path):
    cache = VoiceCache(tmp_path, max_files=2)

    async def go():
        a, hit_a, src = await cache.render("Mời công dân có số A không một năm đến quầy số ba")
        assert src == "espeak"
        a2, hit_a2, _ = await cache.render("Mời công dân có số A không một năm đến quầy số ba")
        # the same phrase asked twice at once is rendered once
        (b, _, _), (b2, _, _) = await asyncio.gather(cache.render("số hai"), cache.render("số hai"))
        time.sleep(0.02)
        await cache.render("số ba")
        return a, hit_a, a2, hit_a2, b, b2

    a, hit_a, a2, hit_a2, b, b2 = asyncio.run(go())
    assert a[:4] == b"RIFF" and a[8:12] == b"WAVE" and len(a) > 10_000
    assert (hit_a, hit_a2) == (False, True) and a2 == a and b == b2
    files = sorted(os.listdir(tmp_path / "voice"))
    assert len(files) == 2 and all(f.endswith(".wav") for f in files)
    assert not cache.path_for("Mời công dân có số A không một năm đến quầy số ba").exists()  # oldest pruned


def test_without_espeak_the_default_wording_is_joined_from_clips(tmp_path, monkeypatch):
    monkeypatch.setenv("MOTCUA_ESPEAK", "/nonexistent/espeak-ng")
    cache = VoiceCache(tmp_path)
    for reading in ("digits", "natural"):
        for number, counter in (("A015", 3), ("B121", 5), ("G1024", 2), ("C000", 1)):
            text = speech(number, counter, reading=reading)
            files = plan(text)
            assert files, text
            wav, cached, source = asyncio.run(cache.render(text))
            assert source == "clips" and not cached
            with wave.open(io.BytesIO(wav)) as w:
                assert w.getframerate() == 11025 and w.getsampwidth() == 1
                assert 1.5 < w.getnframes() / w.getframerate() < 12  # seconds of speech
    assert plan("Mời công dân có số A không") == [
        manifest()["mời công dân có số"],
        manifest()["a"],
        manifest()["không"],
    ]
    # a wording with words that have no clip: clearly unavailable (the page shows the caption)
    with pytest.raises(VoiceUnavailable):
        asyncio.run(cache.render("Xin mời số A không tới bàn ba"))
    assert not (tmp_path / "voice").exists()  # nothing cached from clips


def test_every_clip_in_the_manifest_is_shipped_and_covers_the_reading():
    table = manifest()
    assert set(table) == {p.lower() for p in PHRASES}
    for word in DIGITS + ("mười", "mươi", "lăm", "mốt", "tư", "trăm", "linh", "nghìn"):
        assert word in table, word
    for prefix in "ABCDEG":  # the shipped categories' prefixes
        assert read_prefix(prefix).lower() in table


def test_chime_is_a_short_wav():
    w = chime_wav()
    assert w[:4] == b"RIFF" and w[8:12] == b"WAVE"
    assert 20_000 < len(w) < 100_000
