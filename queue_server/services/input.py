"""Reading fields of a parsed JSON body, with 400s that name the field."""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

from queue_server.errors import AppError

# No request body of ours nests deeper than a few levels (the site
# configuration: section > list > category > field); json.loads recurses
# per level and a thousand levels end in a RecursionError.
MAX_JSON_DEPTH = 32
_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")


def json_depth(body: bytes) -> int:
    """How deep the arrays and objects of a JSON text nest (brackets inside
    strings do not count; for a text that is not JSON, a rough upper bound)."""
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    if not brackets:
        return 0
    return max(accumulate(1 if c in _OPENING else -1 for c in brackets))


def parse_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """A request body parsed as JSON, or a 400: not JSON, nested deeper than
    `max_depth`, or holding a string with a lone surrogate (``"\\ud800"``,
    which no UTF-8 text can carry)."""
    if json_depth(body) > max_depth:
        raise AppError("invalid_json")
    try:
        data = json.loads(body)
        json.dumps(data, ensure_ascii=False).encode("utf-8")  # lone surrogates fail here
    except (ValueError, UnicodeError, RecursionError):
        raise AppError("invalid_json") from None
    return data


def as_int(v: Any) -> int | None:
    """An event's or message's number, or None when it has none."""
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def field(
    data: dict[str, Any], name: str, kind: type | tuple[type, ...], required: bool = True, default: Any = None
) -> Any:
    v = data.get(name, None)
    if v is None:
        if required:
            raise AppError("invalid_body", detail=f"thiếu trường “{name}” / missing “{name}”", field=name)
        return default
    if isinstance(v, bool) and kind in (int, float, (int, float)):
        raise AppError("invalid_body", detail=f"trường “{name}” sai kiểu / wrong type for “{name}”", field=name)
    if not isinstance(v, kind):
        raise AppError("invalid_body", detail=f"trường “{name}” sai kiểu / wrong type for “{name}”", field=name)
    return v
