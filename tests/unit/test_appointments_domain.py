"""domain/appointments.py: codes, the Vietnamese mobile rule, masking."""

from __future__ import annotations

import random

import pytest

from queue_server.domain.appointments import (
    CODE_ALPHABET,
    CODE_LENGTH,
    mask_phone,
    new_code,
    normalize_code,
    parse_vn_mobile,
)


def test_the_code_alphabet_has_no_look_alikes():
    assert not set(CODE_ALPHABET) & set("0O1IL")
    assert len(set(CODE_ALPHABET)) == len(CODE_ALPHABET) == 31
    rng = random.Random(1)
    codes = {new_code(rng) for _ in range(2000)}
    assert all(len(c) == CODE_LENGTH and set(c) <= set(CODE_ALPHABET) for c in codes)
    assert len(codes) == 2000


@pytest.mark.parametrize(
    "typed,code",
    [
        ("K7M2QX", "K7M2QX"),
        ("k7m2qx", "K7M2QX"),
        (" K7M-2QX\r\n", "K7M2QX"),  # a scanner's Enter, a printed dash
        ("K7M 2QX", "K7M2QX"),
        ("K7M2Q", None),
        ("K7M2QXX", None),
        ("K7M2Q0", None),  # 0 is not in the alphabet
        ("K7M2QO", None),
        ("", None),
    ],
)
def test_normalize_code(typed, code):
    assert normalize_code(typed) == code


@pytest.mark.parametrize(
    "typed,e164",
    [
        ("0912 345 678", "+84912345678"),
        ("0912.345.678", "+84912345678"),
        ("+84 912 345 678", "+84912345678"),
        ("84912345678", "+84912345678"),
        ("0987654321", "+84987654321"),  # Viettel
        ("0862345678", "+84862345678"),
        ("0701234567", "+84701234567"),  # MobiFone's 07x
        ("0243 826 1234", None),  # a Hà Nội landline
        ("0912 345 67", None),  # too short
        ("+1 202 555 0100", None),  # not Vietnam
        ("1900 1234", None),
        ("abc", None),
        ("0" * 30, None),
        ("", None),
    ],
)
def test_vietnamese_mobile_numbers(typed, e164):
    assert parse_vn_mobile(typed) == e164


def test_masking():
    assert mask_phone("+84912345678") == "09xx xxx 678"
    assert mask_phone("+84701234567") == "07xx xxx 567"


def test_the_check_in_reply_is_the_ticket_view_and_the_booking():
    import dataclasses

    from queue_server.domain.model import Ticket, TicketStatus
    from queue_server.services.appointments import CheckInReply
    from queue_server.services.views import ticket_view
    from tests.helpers import test_config

    t = Ticket(id="x", number="A001", category="HT", status=TicketStatus.WAITING, issued_at=1, queued_at=1)
    view = ticket_view(t, test_config())
    fields = {f.name for f in dataclasses.fields(CheckInReply)}
    assert fields == set(view) | {"late", "appointment", "print"}
