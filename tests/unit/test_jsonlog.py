"""JSON log lines: one object per line, the site's time zone, no personal data."""

from __future__ import annotations

import json
import logging
from zoneinfo import ZoneInfo

import pytest

from queue_server.api.jsonlog import JsonFormatter, mask_personal


@pytest.mark.parametrize(
    "text", ["gọi 0912345678", "+84 912 345 678", "84912345678", "0912.345.678", "so 024-3825-1234"]
)
def test_phone_numbers_are_masked(text):
    assert "[phone]" in mask_personal(text)
    assert not any(ch.isdigit() for ch in mask_personal(text).replace("[phone]", ""))


@pytest.mark.parametrize("text", ["A015 tới quầy 3", "seq 1234567", "/api/tickets/abc123?lang=en", "port 8000"])
def test_numbers_that_are_not_phones_stay(text):
    assert mask_personal(text) == text


def test_token_in_a_path_is_redacted():
    assert mask_personal("/kiosk?token=SECRET&x=1") == "/kiosk?token=…&x=1"


def _record(name: str, msg: str, args) -> logging.LogRecord:
    r = logging.LogRecord(name, logging.INFO, __file__, 1, msg, args, None)
    r.created = 1_764_000_000.5  # 2025-11-24 16:00:00.5 UTC
    return r


def test_access_line_has_no_client_address_and_local_time():
    fmt = JsonFormatter(ZoneInfo("Asia/Ho_Chi_Minh"))
    line = fmt.format(
        _record("uvicorn.access", '%s - "%s %s HTTP/%s" %d', ("10.0.0.7:5123", "GET", "/t/x?token=abc", "1.1", 200))
    )
    assert "\n" not in line
    out = json.loads(line)
    assert out["time"] == "2025-11-24T23:00:00.500+07:00"
    assert out["method"] == "GET" and out["path"] == "/t/x?token=…" and out["status"] == 200
    assert "10.0.0.7" not in line


def test_a_forged_newline_stays_in_its_line():
    line = JsonFormatter().format(_record("motcua", "bad %s", ("a\nFAKE b",)))
    assert "\n" not in line and json.loads(line)["message"] == "bad a\nFAKE b"
