"""The waiting-room display: the page, its assets, the chime, offline
Vietnamese speech, and the admin's notice line and voice settings."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from litestar import Request, Response, Router, get, post, put
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery

from display.chime import chime_wav
from display.voice import VoiceCache, VoiceUnavailable, clean_text, espeak_path
from queue_server.api import replies
from queue_server.api.auth import PUBLIC, access, authorize, caller
from queue_server.api.deps import CurrentUser, Svc
from queue_server.api.http import lang_of, limit, read_json
from queue_server.api.openapi import ErrorReply, boolean, documented, integer, obj, string
from queue_server.api.pages import SECURITY_HEADERS, asset_name_ok, message_page, page
from queue_server.bootstrap import Services
from queue_server.domain.accounts import DeviceKind, Role
from queue_server.errors import AppError

# a display device token (``?token=``/Bearer) or a logged-in user
DISPLAY_OR_STAFF = access(users=True, devices=(DeviceKind.DISPLAY,))
VOICE_UNAVAILABLE = (
    "Máy chủ chưa có giọng đọc tiếng Việt ngoại tuyến (espeak-ng) và câu này có từ chưa được ghi sẵn. "
    "Bảng gọi số chỉ phát chuông và hiện chữ.",
    "No offline Vietnamese voice (espeak-ng) on the server and this phrase has words without a recorded clip. "
    "The board plays the chime and shows the text only.",
)
ASSET_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".wav": "audio/wav",
}


# -- the page ------------------------------------------------------------------
@get("/display", summary="The waiting-room board (display token in ?token=)", include_in_schema=False, opt=PUBLIC)
async def display_page(request: Request) -> Response[str]:
    try:
        p = await caller(request)
    except AppError:
        p = None
    if p is None or (p.user is None and p.device is None):  # not paired yet: show a pairing code
        return page("display", "pair.html", cache=False)
    if p.user is None and (p.device is None or p.device.kind != DeviceKind.DISPLAY):
        return message_page(
            "Mã thiết bị không dùng cho màn hình",
            "Hãy dùng mã của thiết bị loại “display”.",
            status=403,
            title_en="Wrong device token",
            body_en="Use a token of a display device.",
        )
    return page("display", "index.html", cache=False)


@get(
    "/display/static/{name:str}", summary="Scripts, styles and sounds of the board", include_in_schema=False, opt=PUBLIC
)
async def display_asset(name: FromPath[str]) -> Response[Any]:
    suffix = Path(name).suffix
    if not asset_name_ok(name) or suffix not in ASSET_TYPES:
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


@get(
    "/api/voice",
    summary="Vietnamese speech (WAV) rendered offline by espeak-ng (cached per phrase), "
    "or joined from pre-rendered word clips when espeak-ng is missing",
    opt=documented(DISPLAY_OR_STAFF, errors=("invalid_body",), media="audio/wav"),
    responses={
        503: ResponseSpec(
            data_container=ErrorReply,
            description="Error codes: `voice_unavailable` (no offline voice for this phrase; "
            "the board plays the chime and shows the text), `unavailable`",
            generate_examples=False,
        )
    },
)
async def voice(request: Request, svc: Svc, text: FromQuery[str] = "") -> Response[Any]:
    """``?text=``: the phrase, e.g. "Mời công dân có số A015 đến quầy số 3"."""
    text = clean_text(text)
    if not text:
        raise AppError("invalid_body", detail="thiếu “text” / missing “text”")
    cache = _voice_cache(request, svc)
    try:
        wav, cached, source = await cache.render(text)
    except VoiceUnavailable:
        vi, en = VOICE_UNAVAILABLE
        body = {"error": "voice_unavailable", "message": en if lang_of(request) == "en" else vi}
        return Response(
            content=body, status_code=503, media_type="application/json", headers={"X-Voice-Fallback": "chime-and-text"}
        )
    return Response(
        content=wav,
        media_type="audio/wav",
        headers={
            "Cache-Control": "private, max-age=86400",
            "X-Voice-Cache": "hit" if cached else "miss",
            "X-Voice-Source": source,
        },
    )


# -- notice line and voice settings -------------------------------------------
_VOICE: dict[str, Any] = {
    "muted": boolean("No speech, chime only"),
    "volume": integer("Volume in percent", minimum=0, maximum=100),
    "reading": string("How numbers are read", enum=("digits", "natural")),
    "template": string("What the board says, with {number} and {counter}"),
}
DISPLAY_SETTINGS = obj(
    description="Only the settings to change; the voice settings may also be given at the top level",
    notice=string("The board's notice line (blank: none)", max_length=500),
    voice=obj(**_VOICE),
    **_VOICE,
)


async def _settings(svc: Services) -> dict[str, Any]:
    return {**await svc.display.read(), "offline_voice": espeak_path() is not None}


@get(
    "/api/display/settings",
    summary="The board's notice line and voice settings",
    opt=documented(DISPLAY_OR_STAFF, reply=replies.DisplaySettings),
)
async def get_display_settings(svc: Svc) -> dict[str, Any]:
    return await _settings(svc)


@put(
    "/api/display/settings",
    request_max_body_size=8_000,
    summary="Set the notice line and voice settings (admin)",
    opt=documented(
        access(roles=(Role.ADMIN,)), body=DISPLAY_SETTINGS, errors=("invalid_body",), reply=replies.DisplaySettings
    ),
)
async def put_display_settings(request: Request, svc: Svc, user: CurrentUser) -> dict[str, Any]:
    """Body: ``{"notice": "...", "voice": {"muted": false, "volume": 80,
    "reading": "digits"|"natural", "template": "Mời công dân có số {number} đến quầy số {counter}"}}``
    (voice fields may also be given at the top level). Every board updates live."""
    data = await read_json(request)
    await svc.display.update(data, user.username)
    return await _settings(svc)


# -- pairing a TV without typing its token ----------------------------------------
@post(
    "/api/display/pairing",
    status_code=201,
    summary="Start pairing a display: a code to show, a poll id (public)",
    opt=documented(PUBLIC, errors=("rate_limited",), reply=replies.Pairing),
)
async def start_pairing(request: Request, svc: Svc) -> dict[str, Any]:
    await limit(request, "pair", 20)
    pairing = await svc.display.start_pairing()
    return {"code": pairing.code, "poll_id": pairing.poll_id, "expires_in": pairing.expires_in}


@get(
    "/api/display/pairing/{poll_id:str}",
    opt=documented(PUBLIC, errors=("pairing_expired", "rate_limited"), reply=replies.PairingState),
    summary="A pairing's state; the display token, once, when an admin paired it (public)",
)
async def poll_pairing(request: Request, svc: Svc, poll_id: FromPath[str]) -> dict[str, str]:
    await limit(request)
    return await svc.display.poll_pairing(poll_id)


router = Router(
    path="/",
    route_handlers=[
        display_page,
        display_asset,
        voice,
        get_display_settings,
        put_display_settings,
        start_pairing,
        poll_pairing,
    ],
    guards=[authorize],
)
