"""The notices as plain data: phone forms, the gateway body template, the
ZNS body, the [notify] configuration, and texts that carry no name."""

from __future__ import annotations

import json
from datetime import datetime
from urllib.parse import parse_qs
from zoneinfo import ZoneInfo

import pytest

from queue_server.domain.config import ConfigError, parse_config
from queue_server.domain.notify import (
    ZNS_URL,
    Message,
    closure_text,
    confirmation_text,
    fill_template,
    otp_text,
    phone_84,
    phone_local,
    reminder_text,
    sms_values,
    zns_body,
)
from tests.helpers import test_config_dict

AT = datetime(2026, 12, 2, 8, 15, tzinfo=ZoneInfo("Asia/Ho_Chi_Minh"))


@pytest.mark.parametrize("given", ["+84912345678", "0912345678", "84912345678", "+84 912 345 678"])
def test_phone_forms(given):
    assert phone_84(given) == "84912345678"
    assert phone_local(given) == "0912345678"


def test_json_template_escapes_the_text():
    m = Message("+84912345678", 'Mã "AB" \\ xong\nhết', "otp")
    body = fill_template(
        '{"to": "{phone}", "msg": "{text}", "local": "{phone_local}"}', "application/json", sms_values(m)
    )
    assert json.loads(body) == {"to": "84912345678", "msg": m.text, "local": "0912345678"}


def test_form_template_encodes_the_text():
    m = Message("+84912345678", "Lịch hẹn A&B=1", "otp")
    body = fill_template("to={phone_e164}&text={text}", "application/x-www-form-urlencoded", sms_values(m))
    assert parse_qs(body) == {"to": ["+84912345678"], "text": ["Lịch hẹn A&B=1"]}


def test_zns_body_shape():
    m = Message("+84912345678", "t", "confirmation", data={"code": "K7M2QX", "time": "08:15 02/12/2026"}, ref="abc")
    assert zns_body(m, "231445") == {
        "phone": "84912345678",
        "template_id": "231445",
        "template_data": {"code": "K7M2QX", "time": "08:15 02/12/2026"},
        "tracking_id": "abc-confirmation",
    }


def test_texts_in_vietnamese_and_english_with_code_time_and_place():
    vi = confirmation_text("K7M2QX", AT, "UBND xã", "http://x/m", "vi")
    en = confirmation_text("K7M2QX", AT, "UBND xã", "http://x/m", "en")
    for t in (vi, en):
        assert "K7M2QX" in t and "08:15" in t and "02/12/2026" in t and "UBND xã" in t and "http://x/m" in t
    assert "Lịch hẹn" in vi and "Booking" in en
    assert "123456" in otp_text("123456", 5, "vi") and "5 phút" in otp_text("123456", 5, "vi")
    assert "minutes" in otp_text("123456", 5, "en")
    assert "Nhắc" in reminder_text("K7M2QX", AT, "UBND", "vi") and "Reminder" in reminder_text(
        "K7M2QX", AT, "UBND", "en"
    )
    assert "hủy" in closure_text("K7M2QX", AT, "UBND", "vi") and "cancelled" in closure_text("K7M2QX", AT, "UBND", "en")


def test_notify_config_defaults_and_round_trip():
    cfg = parse_config(test_config_dict())
    assert cfg.notify.channel == "outbox" and cfg.notify.zns_url == ZNS_URL
    d = test_config_dict()
    d["notify"] = {
        "channel": "zalo_zns",
        "zns_access_token": "tok",
        "zns_templates": {"otp": "1", "confirmation": 2},
        "retry_intervals": [0, 5],
    }
    cfg = parse_config(d)
    assert cfg.notify.zns_templates == {"otp": "1", "confirmation": "2"}
    assert cfg.notify.retry_intervals == (0, 5)
    assert parse_config(cfg.to_dict()).notify == cfg.notify


@pytest.mark.parametrize(
    ("notify", "fld"),
    [
        ({"channel": "fax"}, "notify.channel"),
        ({"channel": "sms_http"}, "notify.sms_url"),
        ({"channel": "sms_http", "sms_url": "ftp://x"}, "notify.sms_url"),
        ({"channel": "zalo_zns"}, "notify.zns_access_token"),
        ({"sms_auth_header": "no colon"}, "notify.sms_auth_header"),
        ({"retry_intervals": [-1]}, "notify.retry_intervals"),
        ({"zns_templates": ["x"]}, "notify.zns_templates"),
    ],
)
def test_notify_config_names_the_bad_field(notify, fld):
    d = test_config_dict()
    d["notify"] = notify
    with pytest.raises(ConfigError) as e:
        parse_config(d)
    assert fld in [p.field for p in e.value.problems]
