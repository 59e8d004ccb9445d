import pytest

from queue_server.domain.announce import (
    DEFAULT_TEMPLATE,
    VoiceSettings,
    VoiceSettingsError,
    announcement,
    caption,
    read_digits,
    read_natural,
    read_ticket,
    settings_from_hash,
    speech,
    update_settings,
    validate_template,
)


@pytest.mark.parametrize(
    "n, words",
    [
        (0, "không"),
        (1, "một"),
        (4, "bốn"),
        (5, "năm"),
        (10, "mười"),
        (11, "mười một"),
        (14, "mười bốn"),
        (15, "mười lăm"),
        (20, "hai mươi"),
        (21, "hai mươi mốt"),
        (24, "hai mươi tư"),
        (25, "hai mươi lăm"),
        (55, "năm mươi lăm"),
        (100, "một trăm"),
        (101, "một trăm linh một"),
        (105, "một trăm linh năm"),
        (110, "một trăm mười"),
        (111, "một trăm mười một"),
        (115, "một trăm mười lăm"),
        (121, "một trăm hai mươi mốt"),
        (999, "chín trăm chín mươi chín"),
        (1000, "một nghìn"),
        (1005, "một nghìn không trăm linh năm"),
        (1015, "một nghìn không trăm mười lăm"),
        (2024, "hai nghìn không trăm hai mươi tư"),
        (10000, "mười nghìn"),
        (1_000_000, "một triệu"),
    ],
)
def test_natural_reading(n, words):
    assert read_natural(n) == words


def test_out_of_range():
    with pytest.raises(ValueError):
        read_natural(-1)


def test_digits_reading():
    assert read_digits("015") == "không một năm"
    assert read_digits("000") == "không không không"


def test_ticket_reading_styles():
    assert read_ticket("A015", "digits") == "A không một năm"
    assert read_ticket("A015", "natural") == "A mười lăm"
    assert read_ticket("A001", "natural") == "A một"
    assert read_ticket("B121", "natural") == "Bê một trăm hai mươi mốt"
    assert read_ticket("G007") == "Giê không không bảy"
    assert read_ticket("c-021", "natural") == "Xê hai mươi mốt"
    assert read_ticket("Đ5", "natural") == "Đê năm"
    assert read_ticket("015", "natural") == "mười lăm"
    assert read_ticket("VIP") == "VIP"  # not a ticket number: left as is


def test_caption_is_exactly_the_configured_wording():
    assert caption("A015", 3) == "Mời công dân có số A015 đến quầy số 3"
    assert caption("B002", "5", "Xin mời số {number} tới quầy {counter}") == "Xin mời số B002 tới quầy 5"


def test_speech_spells_the_number():
    assert speech("A015", 3) == "Mời công dân có số A không một năm đến quầy số ba"
    assert speech("A015", 3, reading="natural") == "Mời công dân có số A mười lăm đến quầy số ba"
    assert speech("A015", 12, reading="natural") == "Mời công dân có số A mười lăm đến quầy số mười hai"


def test_announcement_only_for_calls_and_recalls():
    v = VoiceSettings(reading="natural")
    a = announcement({"type": "call", "number": "A015", "counter": "3", "seq": 7}, v)
    assert a == {
        "type": "call",
        "seq": 7,
        "number": "A015",
        "counter": "3",
        "text": "Mời công dân có số A015 đến quầy số 3",
        "speech": "Mời công dân có số A mười lăm đến quầy số ba",
    }
    assert announcement({"type": "recall", "number": "A015", "counter": 3, "seq": 8}, v)["type"] == "recall"
    assert announcement({"type": "issue", "number": "A016", "counter": "", "seq": 9}, v) is None
    assert announcement({"type": "call", "number": "A016", "counter": "", "seq": 9}, v) is None


def test_template_validation():
    assert validate_template("  Mời số {number}   đến quầy {counter} ") == "Mời số {number} đến quầy {counter}"
    for bad in (
        "",
        "Mời số {number}",
        "Mời {number} {counter} {x}",
        "Mời {number}{number} {counter}",
        "x" * 300 + "{number}{counter}",
    ):
        with pytest.raises(VoiceSettingsError) as e:
            validate_template(bad)
        assert e.value.field == "template" and e.value.vi and e.value.en


def test_update_settings_validates_each_field():
    s = update_settings(VoiceSettings(), {"muted": True, "volume": 40, "reading": "natural"})
    assert s == VoiceSettings(muted=True, volume=40, reading="natural", template=DEFAULT_TEMPLATE)
    assert update_settings(s, {"muted": "0"}).muted is False
    for bad in (
        {"volume": 101},
        {"volume": -1},
        {"volume": "loud"},
        {"volume": True},
        {"reading": "fast"},
        {"muted": "maybe"},
        {"template": 5},
        {"pitch": 1},
    ):
        with pytest.raises(VoiceSettingsError):
            update_settings(s, bad)


def test_settings_hash_round_trip_and_lenient_reading():
    s = VoiceSettings(muted=True, volume=35, reading="natural", template="Số {number} mời đến quầy {counter}")
    assert settings_from_hash(s.to_hash()) == s
    assert settings_from_hash({}) == VoiceSettings()
    # a bad stored value never breaks the board: it falls back to the default
    got = settings_from_hash({"voice.volume": "abc", "voice.reading": "natural", "voice.template": "no fields"})
    assert got == VoiceSettings(reading="natural")
