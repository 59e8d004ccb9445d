"""Offline Vietnamese speech for displays whose browser has no vi-VN voice.

`espeak-ng -v vi --stdout TEXT` renders a WAV; each phrase is rendered once
and cached under ``<data dir>/voice/``. When espeak-ng is not installed, the
phrase is joined from pre-rendered word clips (display/clips/) if every word
has one; otherwise `VoiceUnavailable` is raised and the page falls back to the
chime and the on-screen caption (never a cloud TTS).
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import shutil
import unicodedata
from pathlib import Path

MAX_TEXT = 300
VOICE = "vi"
SPEED = 140  # words per minute; espeak's default (175) is hurried for a hall


class VoiceUnavailable(RuntimeError):
    pass


def clean_text(text: str) -> str:
    """NFC, printable, single spaces; '' when nothing speakable is left."""
    text = unicodedata.normalize("NFC", text)
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return " ".join(text.split())[:MAX_TEXT]


def espeak_path() -> str | None:
    return shutil.which(os.environ.get("MOTCUA_ESPEAK", "espeak-ng"))


class VoiceCache:
    def __init__(self, data_dir: Path, concurrency: int = 2, timeout: float = 15.0, max_files: int = 2000):
        self.dir = Path(data_dir) / "voice"
        self.max_files = max_files  # a few phrases a day per number: keep the newest
        self._sem = asyncio.Semaphore(concurrency)
        self._timeout = timeout
        self._pending: dict[str, asyncio.Future] = {}

    def path_for(self, text: str) -> Path:
        h = hashlib.sha256(f"{VOICE}|{SPEED}|{text}".encode()).hexdigest()[:32]
        return self.dir / f"{h}.wav"

    async def render(self, text: str) -> tuple[bytes, bool, str]:
        """(WAV bytes, served from cache, source: "espeak" or "clips")."""
        path = self.path_for(text)
        if path.exists():
            return path.read_bytes(), True, "espeak"
        exe = espeak_path()
        if exe is None:
            from display.wordclips import speak_from_clips

            data = speak_from_clips(text)  # pre-rendered word clips, when every word has one
            if data is None:
                raise VoiceUnavailable("espeak-ng is not installed and the phrase has words without a clip")
            return data, False, "clips"
        key = path.name
        fut = self._pending.get(key)
        if fut is not None:  # the same phrase is being rendered: share it
            return await asyncio.shield(fut), True, "espeak"
        fut = asyncio.get_running_loop().create_future()
        self._pending[key] = fut
        try:
            data = await self._run(exe, text)
            self.dir.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, path)
            self._prune()
            fut.set_result(data)
            return data, False, "espeak"
        except BaseException as e:
            if not fut.done():
                fut.set_exception(e)
                fut.exception()  # mark retrieved
            raise
        finally:
            self._pending.pop(key, None)

    def _prune(self) -> None:
        files = list(self.dir.glob("*.wav"))
        if len(files) <= self.max_files:
            return
        files.sort(key=lambda p: p.stat().st_mtime)
        for old in files[: len(files) - self.max_files]:
            old.unlink(missing_ok=True)

    async def _run(self, exe: str, text: str) -> bytes:
        async with self._sem:
            proc = await asyncio.create_subprocess_exec(
                exe,
                "-v",
                VOICE,
                "-s",
                str(SPEED),
                "--stdout",
                text,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            try:
                out, err = await asyncio.wait_for(proc.communicate(), self._timeout)
            except TimeoutError:
                proc.kill()
                await proc.wait()
                raise VoiceUnavailable("espeak-ng timed out") from None
        if proc.returncode != 0 or not out.startswith(b"RIFF"):
            raise VoiceUnavailable(f"espeak-ng failed: {err.decode(errors='replace')[:200]}")
        return out
