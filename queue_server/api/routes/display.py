"""The waiting-room display: the page, its assets, the chime, offline
Vietnamese speech, and the admin's notice line and voice settings."""

from __future__ import annotations

import json
import time
from importlib import resources
from pathlib import Path
from typing import Any

from litestar import Request, Response, get, post, put
from litestar.params import FromPath
from litestar.connection import ASGIConnection

from display.chime import chime_wav
from display.voice import VoiceCache, VoiceUnavailable, clean_text, espeak_path
from queue_server.api.auth import authenticate, require_user
from queue_server.api.deps import Svc
from queue_server.api.http import lang_of, read_json
from queue_server.api.pages import SECURITY_HEADERS, message_page, page
from queue_server.api.services import Services
from queue_server.domain.announce import VoiceSettingsError, settings_from_hash, update_settings
from queue_server.errors import AppError
from queue_server.security.accounts import DeviceKind, Role
from queue_server.security.pairing import Pairings
from queue_server.store.scripts import source

MAX_NOTICE = 500
VOICE_UNAVAILABLE = (
    "Máy chủ chưa có giọng đọc tiếng Việt ngoại tuyến (espeak-ng) và câu này có từ chưa được ghi sẵn. "
    "Bảng gọi số chỉ phát chuông và hiện chữ.",
    "No offline Vietnamese voice (espeak-ng) on the server and this phrase has words without a recorded clip. "
    "The board plays the chime and shows the text only.",
)
ASSET_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8",
               ".svg": "image/svg+xml", ".wav": "audio/wav"}


async def _display_or_staff(conn: ASGIConnection, svc: Services) -> None:
    """A display device token (``?token=``/Bearer) or a logged-in user."""
    p = await authenticate(conn, svc)
    if p.device is not None and p.device.kind == DeviceKind.DISPLAY:
        return
    if p.user is not None:
        return
    raise AppError("unauthorized" if p.device is None else "forbidden")


# -- the page ------------------------------------------------------------------
@get("/display", summary="The waiting-room board (display token in ?token=)", include_in_schema=False)
async def display_page(request: Request, svc: Svc) -> Response:
    try:
        await _display_or_staff(request, svc)
    except AppError as e:
        if e.code == "unauthorized":     # not paired yet: show a pairing code (or use the token it keeps)
            return page("display", "pair.html", cache=False)
        return message_page("Mã thiết bị không dùng cho màn hình", "Hãy dùng mã của thiết bị loại “display”.",
                            status=403, title_en="Wrong device token", body_en="Use a token of a display device.")
    return page("display", "index.html", cache=False)


@get("/display/static/{name:str}", summary="Scripts, styles and sounds of the board", include_in_schema=False)
async def display_asset(name: FromPath[str]) -> Response:
    suffix = Path(name).suffix
    if "/" in name or "\\" in name or name.startswith(".") or suffix not in ASSET_TYPES:
        raise AppError("not_found")
    if name == "chime.wav":
        body: bytes | str = chime_wav()
        cache = "public, max-age=86400"
    else:
        try:
            body = resources.files("display").joinpath(name).read_text("utf-8")
        except (FileNotFoundError, IsADirectoryError, OSError, UnicodeDecodeError):
            raise AppError("not_found") from None
        cache = "no-cache"
    return Response(content=body, media_type=ASSET_TYPES[suffix], headers={**SECURITY_HEADERS, "Cache-Control": cache})


# -- offline speech ------------------------------------------------------------
def _voice_cache(request: Request, svc: Services) -> VoiceCache:
    state = request.app.state
    cache = getattr(state, "voice_cache", None)
    if cache is None:
        cache = state.voice_cache = VoiceCache(Path(svc.settings.data_dir))
    return cache


@get("/api/voice", summary="Vietnamese speech (WAV) rendered offline by espeak-ng (cached per phrase), "
                           "or joined from pre-rendered word clips when espeak-ng is missing")
async def voice(request: Request, svc: Svc) -> Response:
    await _display_or_staff(request, svc)
    text = clean_text(request.query_params.get("text", ""))
    if not text:
        raise AppError("invalid_body", detail="thiếu “text” / missing “text”")
    cache = _voice_cache(request, svc)
    try:
        wav, cached, source = await cache.render(text)
    except VoiceUnavailable:
        vi, en = VOICE_UNAVAILABLE
        body = {"error": "voice_unavailable", "message": en if lang_of(request) == "en" else vi}
        return Response(content=body, status_code=503,
                        media_type="application/json", headers={"X-Voice-Fallback": "chime-and-text"})
    return Response(content=wav, media_type="audio/wav",
                    headers={"Cache-Control": "private, max-age=86400", "X-Voice-Cache": "hit" if cached else "miss",
                             "X-Voice-Source": source})


# -- notice line and voice settings -------------------------------------------
async def _read_settings(svc: Services) -> dict[str, Any]:
    raw = await svc.redis.hgetall(svc.keys.settings)
    h = {k.decode(): v.decode() for k, v in raw.items()}
    cfg = await svc.config.get()
    return {"notice": h.get("notice", cfg.site.notice), "voice": settings_from_hash(h).to_dict(),
            "offline_voice": espeak_path() is not None}


@get("/api/display/settings", summary="The board's notice line and voice settings")
async def get_display_settings(request: Request, svc: Svc) -> dict:
    await _display_or_staff(request, svc)
    return await _read_settings(svc)


@put("/api/display/settings", summary="Set the notice line and voice settings (admin)")
async def put_display_settings(request: Request, svc: Svc) -> dict:
    """Body: ``{"notice": "...", "voice": {"muted": false, "volume": 80,
    "reading": "digits"|"natural", "template": "Mời công dân có số {number} đến quầy số {counter}"}}``
    (voice fields may also be given at the top level). Every board updates live."""
    user = await require_user(request, svc, Role.ADMIN)
    data = await read_json(request, max_bytes=8_000)
    voice_changes = dict(data.get("voice") or {}) if isinstance(data.get("voice", {}), dict) else None
    if voice_changes is None:
        raise AppError("invalid_body", detail="“voice” phải là đối tượng / must be an object")
    for k in ("muted", "volume", "reading", "template"):
        if k in data:
            voice_changes[k] = data[k]
    unknown = set(data) - {"notice", "voice", "muted", "volume", "reading", "template"}
    if unknown:
        raise AppError("invalid_body", detail=f"không có thiết lập / unknown setting: {', '.join(sorted(unknown))}")
    fields: dict[str, str] = {}
    if "notice" in data:
        notice = data["notice"]
        if not isinstance(notice, str):
            raise AppError("invalid_body", detail="“notice” phải là chuỗi / must be a string", field="notice")
        notice = " ".join(notice.split())
        if len(notice) > MAX_NOTICE:
            raise AppError("invalid_body", detail=f"dòng thông báo dài quá {MAX_NOTICE} ký tự / notice too long",
                           field="notice")
        fields["notice"] = notice
    if voice_changes:
        raw = await svc.redis.hgetall(svc.keys.settings)
        current = settings_from_hash({k.decode(): v.decode() for k, v in raw.items()})
        try:
            new = update_settings(current, voice_changes)
        except VoiceSettingsError as e:
            raise AppError("invalid_body", detail=f"{e.vi} / {e.en}", field=e.field) from None
        fields.update({k: v for k, v in new.to_hash().items() if k[6:] in voice_changes})
    if not fields:
        raise AppError("invalid_body", detail="không có gì để thay đổi / nothing to change")
    await _store(svc, fields, user.username)
    await svc.accounts.audit(user.username, "display_settings", "settings", fields=",".join(sorted(fields)))
    return await _read_settings(svc)


async def _store(svc: Services, fields: dict[str, str], actor: str) -> int:
    """HSET the settings and record a "notice" event in one MULTI, through the
    shared emit_event script (which publishes it to every board)."""
    k = svc.keys
    script = svc.redis.register_script(source("emit_event"))
    async with svc.redis.pipeline(transaction=True) as pipe:
        pipe.hset(k.settings, mapping=fields)
        await script(keys=[k.events, k.event_seq, k.settings], client=pipe, args=[json.dumps({
            "now": int(time.time() * 1000), "channel": k.channel,
            "event": {"type": "notice", "clerk": actor, "changed": ",".join(sorted(fields))},
        }, ensure_ascii=False)])
        _, reply = await pipe.execute()
    if isinstance(reply, bytes):
        reply = reply.decode()
    return int(json.loads(reply)["seq"])


# -- pairing a TV without typing its token ----------------------------------------
@post("/api/display/pairing", status_code=201, summary="Start pairing a display: a code to show, a poll id (public)")
async def start_pairing(request: Request, svc: Svc) -> dict:
    await svc.limit_address(request, "pair", 20)
    pairing = await Pairings(svc.redis, svc.keys).start()
    return {"code": pairing.code, "poll_id": pairing.poll_id, "expires_in": pairing.expires_in}


@get("/api/display/pairing/{poll_id:str}", summary="A pairing's state; the display token, once, when an admin paired it (public)")
async def poll_pairing(request: Request, svc: Svc, poll_id: FromPath[str]) -> dict:
    await svc.limit_address(request)
    state = await Pairings(svc.redis, svc.keys).poll(poll_id[:64])
    if state is None:
        raise AppError("pairing_expired")
    return state


ROUTES: list = [display_page, display_asset, voice, get_display_settings, put_display_settings,
                start_pairing, poll_pairing]
