"""Reading fields of a parsed JSON body, with 400s that name the field."""

from __future__ import annotations

from typing import Any

from queue_server.errors import AppError


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
