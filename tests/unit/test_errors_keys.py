import pytest

from queue_server.errors import CATALOG, AppError, pick_language
from queue_server.store.keys import Keys


def test_language_negotiation():
    assert pick_language(None) == "vi"
    assert pick_language("en-US,en;q=0.9") == "en"
    assert pick_language("fr, en;q=0.5, vi;q=0.8") == "vi"
    assert pick_language("de") == "vi"


def test_every_error_is_4xx_or_explicit_server_error_with_both_languages():
    for code, (status, vi, en) in CATALOG.items():
        assert 400 <= status < 600
        assert vi and en and vi != en or code == "conflict"
        if code not in ("internal", "unavailable"):
            assert status < 500, code


def test_message_formatting():
    e = AppError("counter_paused", counter=3)
    assert e.status == 409
    assert e.message() == "Quầy số 3 đang tạm dừng. Bấm “Tiếp tục” để gọi số."
    assert "Counter 3" in e.message("en")
    assert e.body()["error"] == "counter_paused"
    with pytest.raises(KeyError):
        AppError("nope")


def test_keys_are_hash_tagged_per_site():
    k = Keys("xa-ngoc-long")
    for key in (k.tickets, k.events, k.queue("q:HT"), k.counter(3), k.sequence("20261124", "HT"), k.config):
        assert key.startswith("mc:{xa-ngoc-long}:")
    with pytest.raises(ValueError):
        Keys("bad site}")
    with pytest.raises(ValueError):
        k.session("x y")
