"""Pre-rendered word clips: the offline voice when espeak-ng is missing.

`display/clips/` holds short WAV clips (11,025 Hz, 8-bit mono) of the words
and phrases a call is made of: the default wording ("Mời công dân có số",
"đến quầy số"), the digits, "mười", "mươi", "lăm", "mốt", "tư", "trăm",
"linh", "nghìn" and the prefix letters. They were rendered once with
espeak-ng's Vietnamese voice by ``python -m display.wordclips`` (run on a machine
that has espeak-ng; no download). `speak_from_clips(text)` joins the clips
of a phrase, longest match first, with short pauses; it returns None when a
word has no clip (e.g. a custom wording), and the board then shows the
caption after the chime.
"""

from __future__ import annotations

import io
import json
import struct
import wave
from functools import lru_cache
from importlib import resources

from display.chime import wav_bytes

RATE = 11025
PAUSE_MS = 70

# What the default wording and number reading use (see domain/announce.py).
PHRASES = [
    "Mời công dân có số",
    "đến quầy số",
    "không",
    "một",
    "hai",
    "ba",
    "bốn",
    "năm",
    "sáu",
    "bảy",
    "tám",
    "chín",
    "mười",
    "mươi",
    "lăm",
    "mốt",
    "tư",
    "trăm",
    "linh",
    "nghìn",
    "A",
    "Bê",
    "Xê",
    "Dê",
    "Đê",
    "E",
    "Giê",
    "Hát",
    "I",
    "Ca",
    "Lờ",
    "Mờ",
    "Nờ",
    "O",
    "Pê",
    "Quy",
    "Rờ",
    "Ét",
    "Tê",
    "U",
    "Vê",
    "Ích",
]


def _norm(word: str) -> str:
    return word.strip().lower()


@lru_cache(maxsize=1)
def manifest() -> dict[str, str]:
    """phrase (lower case) -> clip file name."""
    try:
        raw = resources.files("display").joinpath("clips", "clips.json").read_text("utf-8")
    except (FileNotFoundError, OSError):
        return {}
    return {_norm(k): v for k, v in json.loads(raw).items()}


@lru_cache(maxsize=128)
def _clip(name: str) -> bytes:
    data = resources.files("display").joinpath("clips", name).read_bytes()
    with wave.open(io.BytesIO(data)) as w:
        return w.readframes(w.getnframes())


def plan(text: str) -> list[str] | None:
    """The clip files for a phrase, longest phrase match first; None if a word has none."""
    table = manifest()
    if not table:
        return None
    words = text.split()
    longest = max(len(k.split()) for k in table)
    out: list[str] = []
    i = 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            key = _norm(" ".join(words[i : i + n]))
            if key in table:
                out.append(table[key])
                i += n
                break
        else:
            return None
    return out


def speak_from_clips(text: str) -> bytes | None:
    files = plan(text)
    if not files:
        return None
    pause = bytes([128]) * int(RATE * PAUSE_MS / 1000)
    frames = pause.join(_clip(f) for f in files)
    return wav_bytes(frames, RATE, 1)


# -- making the clips (a developer tool) --------------------------------------
def _espeak_pcm(exe: str, text: str) -> list[int]:
    import subprocess

    out = subprocess.run([exe, "-v", "vi", "-s", "140", "--stdout", text], capture_output=True, check=True).stdout
    i = out.index(b"data") + 8  # espeak streams: the data size in the header is not usable
    pcm = out[i:]
    n = len(pcm) // 2
    return list(struct.unpack(f"<{n}h", pcm[: 2 * n]))


def _to_clip(samples: list[int], threshold: int = 500) -> bytes:
    """22,050 Hz 16-bit -> 11,025 Hz 8-bit, silence trimmed (10 ms kept)."""
    start = next((i for i, s in enumerate(samples) if abs(s) > threshold), 0)
    end = len(samples) - next((i for i, s in enumerate(reversed(samples)) if abs(s) > threshold), 0)
    keep = 220
    samples = samples[max(0, start - keep) : min(len(samples), end + keep)]
    half = [(samples[i] + samples[i + 1]) // 2 for i in range(0, len(samples) - 1, 2)]
    return bytes(max(0, min(255, 128 + (s >> 8))) for s in half)


def make_clips(directory) -> dict[str, str]:
    import shutil
    from pathlib import Path

    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SystemExit("espeak-ng is needed to make the clips")
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    table = {}
    for i, phrase in enumerate(PHRASES):
        name = f"c{i:02d}.wav"
        with wave.open(str(d / name), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(1)
            w.setframerate(RATE)
            w.writeframes(_to_clip(_espeak_pcm(exe, phrase)))
        table[phrase] = name
    (d / "clips.json").write_text(json.dumps(table, ensure_ascii=False, indent=1) + "\n", "utf-8")
    return table


if __name__ == "__main__":
    from pathlib import Path

    out = Path(__file__).resolve().parent / "clips"
    t = make_clips(out)
    total = sum((out / f).stat().st_size for f in t.values())
    print(f"{len(t)} clips, {total / 1024:.0f} KiB in {out}")
