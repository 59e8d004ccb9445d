"""Request bodies are parsed with bounds (issue #12, items 2 and 3), and
error replies always serialise."""

from __future__ import annotations

import json

import pytest

from queue_server.errors import AppError
from queue_server.services.input import MAX_JSON_DEPTH, json_depth, parse_json


def test_depth_counts_brackets_outside_strings():
    assert json_depth(b"{}") == 1
    assert json_depth(b'{"a": [1, {"b": "[[[[{{{{"}]}') == 3
    assert json_depth(rb'["\"[[[[", []]') == 2
    assert json_depth(b"[" * 1000 + b"]" * 1000) == 1000
    assert json_depth(b"123") == 0


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 1000 + b"]" * 1000,
        b"[" * 20000 + b"]" * 20000,
        b'{"a":' * 5000 + b"1" + b"}" * 5000,
        b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1),
        rb'{"username":"\udc80admin","password":"\ud800"}',
        rb'{"\udfff": 1}',
        rb'["\ud83d"]',
        b"\xff\xfe",
        b'{"a": "\xc3"}',
    ],
)
def test_refused_bodies(body):
    with pytest.raises(AppError) as e:
        parse_json(body)
    assert e.value.code == "invalid_json" and e.value.status == 400


def test_accepted_bodies():
    assert parse_json(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH) is not None
    assert parse_json(rb'{"a": "\ud83d\ude00 H\u1ed9 t\u1ecbch"}') == {"a": "😀 Hộ tịch"}
    deep_text = json.dumps({"a": "[" * 100}).encode()  # brackets in a string are text
    assert parse_json(deep_text) == {"a": "[" * 100}


def test_an_error_that_echoes_a_lone_surrogate_still_encodes():
    e = AppError("unknown_category", category="\ud800x")
    json.dumps(e.body(), ensure_ascii=False).encode("utf-8")
    assert e.body()["details"] == {"category": "\\ud800x"}
