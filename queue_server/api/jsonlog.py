"""Logs as one JSON object per line (`MOTCUA_LOG_JSON=true`).

Each line: ``{"time", "level", "logger", "message"}`` (plus ``method``,
``path``, ``status`` for an access-log line, ``exc`` for a traceback), the
time in the site's time zone with its offset. No personal data: the access
log's client address is left out, a ``token=`` in a path is written
``token=…`` (logsafe.redact_tokens), and anything that looks like a phone
number (Vietnamese mobile or landline, with or without +84) is masked. JSON
escaping keeps a forged newline inside its line."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo

from queue_server.api.logsafe import redact_tokens

DEFAULT_TZ = "Asia/Ho_Chi_Minh"
# 0912345678, 091 234 5678, +84 912.345.678, 84912345678: 9-11 digits with separators
_PHONE = re.compile(r"(?<![\w.])(?:\+?84|0)(?:[ .-]?\d){8,10}(?![\w])")


def mask_personal(text: str) -> str:
    return _PHONE.sub("[phone]", redact_tokens(text))


class JsonFormatter(logging.Formatter):
    def __init__(self, tz: tzinfo | None = None):
        super().__init__()
        self.tz: tzinfo = tz or ZoneInfo(DEFAULT_TZ)

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, self.tz).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
        }
        args = record.args
        if record.name == "uvicorn.access" and isinstance(args, tuple) and len(args) == 5:
            # (client address, method, path, HTTP version, status): no address
            _, method, path, _, status = args
            out["method"] = str(method)
            out["path"] = mask_personal(str(path))
            out["status"] = status
            out["message"] = f"{out['method']} {out['path']} {status}"
        else:
            try:
                message = record.getMessage()
            except Exception:  # a bad format string: keep the parts
                message = f"{record.msg!r} % {record.args!r}"
            out["message"] = mask_personal(message)
        if record.exc_text:  # logsafe.EscapeControls rendered it already
            out["exc"] = mask_personal(record.exc_text)
        elif record.exc_info:
            out["exc"] = mask_personal(self.formatException(record.exc_info))
        return json.dumps(out, ensure_ascii=False, default=str)


def install(tz: tzinfo | None, *logger_names: str) -> JsonFormatter:
    """Every handler of these loggers ("" is the root) writes JSON lines;
    the root gets a stderr handler if it has none."""
    fmt = JsonFormatter(tz)
    root = logging.getLogger()
    if not root.handlers:
        root.addHandler(logging.StreamHandler())
    for name in logger_names:
        for handler in logging.getLogger(name or None).handlers:
            handler.setFormatter(fmt)
    return fmt
