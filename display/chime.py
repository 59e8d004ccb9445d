"""A two-tone "ding-dong" chime, synthesised (no audio file to download).

`chime_wav()` returns a small 16-bit mono WAV (about 1.3 s at 22.05 kHz).
"""

from __future__ import annotations

import io
import math
import struct
import wave
from functools import lru_cache

RATE = 22050


def wav_bytes(frames: bytes, rate: int, sample_width: int) -> bytes:
    """Mono PCM frames as a complete .wav file."""
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(sample_width)
        w.setframerate(rate)
        w.writeframes(frames)
    return buf.getvalue()


def _tone(freq: float, seconds: float, volume: float) -> list[float]:
    n = int(RATE * seconds)
    out = []
    for i in range(n):
        t = i / RATE
        env = math.exp(-3.2 * t) * min(1.0, i / (RATE * 0.008))  # short attack, bell-like decay
        s = math.sin(2 * math.pi * freq * t) + 0.35 * math.sin(2 * math.pi * 2 * freq * t) * math.exp(-6 * t)
        out.append(volume * env * s)
    return out


@lru_cache(maxsize=1)
def chime_wav() -> bytes:
    ding = _tone(880.0, 0.55, 0.45)  # A5
    dong = _tone(659.25, 0.8, 0.45)  # E5
    samples = ding + dong
    peak = max(abs(s) for s in samples) or 1.0
    frames = b"".join(struct.pack("<h", int(32767 * 0.9 * s / peak)) for s in samples)
    return wav_bytes(frames, RATE, 2)
