"""Serving the HTML pages (kiosk, display, counter, admin, tracking).

Pages are static files with no build step; they fetch JSON and open
websockets. A page that cannot be served answers with a short Vietnamese
HTML message, never a stack trace.
"""

from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from importlib import resources

from litestar import MediaType, Response

# A file name a page may ask for: no path, no NUL, no dot file.
_ASSET_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


def asset_name_ok(name: str) -> bool:
    return _ASSET_NAME.fullmatch(name) is not None


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


@lru_cache(maxsize=64)
def _read(package: str, name: str) -> str:
    return resources.files(package).joinpath(name).read_text("utf-8")


def page(package: str, name: str, cache: bool = True) -> Response:
    """An HTML file from a package (`display`, `counter_app`, `printer`...)."""
    text = _read(package, name) if cache else resources.files(package).joinpath(name).read_text("utf-8")
    return Response(content=text, media_type=MediaType.HTML, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


def message_page(
    title_vi: str, body_vi: str, status: int = 400, title_en: str = "", body_en: str = "", heading_id: str = ""
) -> Response:
    """A plain Vietnamese (and English) message page for bad page requests
    (`heading_id`: an id for its heading, where a page's own element had it)."""
    hid = f' id="{html.escape(heading_id)}"' if heading_id else ""
    en = f"<p lang='en' class='en'>{html.escape(title_en)}. {html.escape(body_en)}</p>" if title_en else ""
    doc = f"""<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{html.escape(title_vi)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40em;margin:3em auto;padding:0 1em;font-size:1.2em}}
.en{{color:#555;font-size:.9em}}</style></head><body><h1{hid}>{html.escape(title_vi)}</h1><p>{html.escape(body_vi)}</p>{en}
</body></html>"""
    return Response(content=doc, status_code=status, media_type=MediaType.HTML, headers=SECURITY_HEADERS)


def page_with(package: str, name: str, boot: object) -> Response:
    """An HTML file whose `/*BOOT*/null` becomes `boot` as JSON (safe inside a <script>)."""
    data = json.dumps(boot, ensure_ascii=False).replace("<", "\\u003c").replace("\u2028", "\\u2028")
    text = _read(package, name).replace("/*BOOT*/null", data.replace("\u2029", "\\u2029"), 1)
    return Response(content=text, media_type=MediaType.HTML, headers={**SECURITY_HEADERS, "Cache-Control": "no-store"})


def text_page(title: str, text: str, lang: str = "vi", back: str = "") -> Response:
    """A page of plain text (paragraphs split on blank lines), e.g. the note on personal data."""
    paras = "".join(f"<p>{html.escape(p.strip())}</p>" for p in text.split("\n\n") if p.strip())
    link = f'<p><a href="{html.escape(back)}">{"← Back" if lang == "en" else "← Quay lại"}</a></p>' if back else ""
    doc = f"""<!doctype html><html lang="{html.escape(lang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>{html.escape(title)}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:40em;margin:1em auto;padding:0 1em;font-size:1.05em;line-height:1.5;
color:#102040}}h1{{font-size:1.3em}}p{{white-space:pre-line}}a{{color:#0b4f9c}}</style></head>
<body><h1>{html.escape(title)}</h1>{paras}{link}</body></html>"""
    return Response(content=doc, media_type=MediaType.HTML, headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})
