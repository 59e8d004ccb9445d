"""What the display says when a number is called (pure, no I/O).

The caption on the board is the configured wording with the ticket number as
printed: "Mời công dân có số A015 đến quầy số 3". The spoken text is the same
wording with the number spelled out for a speech engine, read digit by digit
("A không một năm") or as a whole number ("A mười lăm").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

DEFAULT_TEMPLATE = "Mời công dân có số {number} đến quầy số {counter}"
READING_STYLES = ("digits", "natural")
MAX_TEMPLATE = 200

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")

# Vietnamese names of the letters a ticket prefix may use.
LETTERS = {
    "A": "A",
    "Ă": "Á",
    "Â": "Ớ",
    "B": "Bê",
    "C": "Xê",
    "D": "Dê",
    "Đ": "Đê",
    "E": "E",
    "Ê": "Ê",
    "F": "Ép",
    "G": "Giê",
    "H": "Hát",
    "I": "I",
    "J": "Gi",
    "K": "Ca",
    "L": "Lờ",
    "M": "Mờ",
    "N": "Nờ",
    "O": "O",
    "Ô": "Ô",
    "Ơ": "Ơ",
    "P": "Pê",
    "Q": "Quy",
    "R": "Rờ",
    "S": "Ét",
    "T": "Tê",
    "U": "U",
    "Ư": "Ư",
    "V": "Vê",
    "W": "Vê kép",
    "X": "Ích",
    "Y": "I dài",
    "Z": "Dét",
}

_TICKET = re.compile(r"^([^\W\d_]*)[\s-]*(\d+)$")
_FIELD = re.compile(r"\{([^{}]*)\}")


class VoiceSettingsError(ValueError):
    """A bad voice setting; `field` names it, the message is Vietnamese / English."""

    def __init__(self, field: str, vi: str, en: str):
        self.field, self.vi, self.en = field, vi, en
        super().__init__(f"{field}: {vi} / {en}")


# -- numbers -------------------------------------------------------------------
def _below_thousand(n: int, full: bool) -> list[str]:
    """Words for 0 < n < 1000; `full` when a higher group precedes (reads
    "không trăm" and "linh" as in "một nghìn không trăm linh năm")."""
    hundreds, rest = divmod(n, 100)
    tens, units = divmod(rest, 10)
    words: list[str] = []
    if hundreds or full:
        words += [DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units and words:
            words.append("linh")
    elif tens == 1:
        words.append("mười")
    else:
        words += [DIGITS[tens], "mươi"]
    if units:
        if units == 5 and tens >= 1:
            words.append("lăm")
        elif units == 1 and tens >= 2:
            words.append("mốt")
        elif units == 4 and tens >= 2:
            words.append("tư")
        else:
            words.append(DIGITS[units])
    return words


def read_natural(n: int) -> str:
    """15 -> "mười lăm", 21 -> "hai mươi mốt", 105 -> "một trăm linh năm"."""
    if n < 0 or n >= 10**12:
        raise ValueError("number out of range")
    if n == 0:
        return "không"
    groups = []
    while n:
        n, g = divmod(n, 1000)
        groups.append(g)
    scales = ("", "nghìn", "triệu", "tỷ")
    words: list[str] = []
    top = len(groups) - 1
    for i in range(top, -1, -1):
        g = groups[i]
        if g == 0:
            continue
        words += _below_thousand(g, full=i < top)
        if i:
            words.append(scales[i])
    return " ".join(words)


def read_digits(digits: str) -> str:
    """ "015" -> "không một năm"."""
    return " ".join(DIGITS[int(d)] for d in digits if d.isdigit())


def read_prefix(prefix: str) -> str:
    return " ".join(LETTERS.get(ch, ch) for ch in prefix.upper())


def read_ticket(number: str, style: str = "digits") -> str:
    """A ticket number as it should be spoken: "A015" -> "A không một năm"
    (digits) or "A mười lăm" (natural). Anything else is returned as is."""
    m = _TICKET.match(number.strip())
    if not m:
        return number
    prefix, digits = m.groups()
    body = read_natural(int(digits)) if style == "natural" else read_digits(digits)
    return f"{read_prefix(prefix)} {body}".strip()


# -- settings ------------------------------------------------------------------
@dataclass(frozen=True)
class VoiceSettings:
    muted: bool = False
    volume: int = 100  # 0..100
    reading: str = "digits"  # "digits" | "natural"
    template: str = DEFAULT_TEMPLATE

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def to_hash(self) -> dict[str, str]:
        """The `voice.*` fields of the settings hash."""
        return {
            "voice.muted": "1" if self.muted else "0",
            "voice.volume": str(self.volume),
            "voice.reading": self.reading,
            "voice.template": self.template,
        }


def validate_template(template: str) -> str:
    t = " ".join(template.split())
    if not t:
        raise VoiceSettingsError("template", "Câu mời không được để trống.", "The wording must not be empty.")
    if len(t) > MAX_TEMPLATE:
        raise VoiceSettingsError(
            "template",
            f"Câu mời dài quá {MAX_TEMPLATE} ký tự.",
            f"The wording is longer than {MAX_TEMPLATE} characters.",
        )
    fields = _FIELD.findall(t)
    if sorted(fields) != ["counter", "number"] or t.count("{") != 2 or t.count("}") != 2:
        raise VoiceSettingsError(
            "template",
            "Câu mời phải chứa đúng một {number} và một {counter}.",
            "The wording must contain {number} and {counter} exactly once.",
        )
    return t


def _as_bool(v: Any, field: str) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().lower() in ("1", "true", "yes", "on", "0", "false", "no", "off", ""):
        return v.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(v, int):
        return v != 0
    raise VoiceSettingsError(field, "Giá trị bật/tắt không hợp lệ.", "Expected true or false.")


def _as_volume(v: Any) -> int:
    if isinstance(v, bool):
        raise VoiceSettingsError(
            "volume", "Âm lượng phải là số từ 0 đến 100.", "Volume must be a number from 0 to 100."
        )
    try:
        n = float(v)
    except (TypeError, ValueError):
        raise VoiceSettingsError(
            "volume", "Âm lượng phải là số từ 0 đến 100.", "Volume must be a number from 0 to 100."
        ) from None
    if not 0 <= n <= 100:
        raise VoiceSettingsError(
            "volume", "Âm lượng phải là số từ 0 đến 100.", "Volume must be a number from 0 to 100."
        )
    return int(round(n))


def _as_reading(v: Any) -> str:
    if v not in READING_STYLES:
        raise VoiceSettingsError(
            "reading",
            "Cách đọc số phải là “digits” (từng chữ số) hoặc “natural” (đọc cả số).",
            "Reading style must be “digits” or “natural”.",
        )
    return str(v)


def update_settings(current: VoiceSettings, changes: Mapping[str, Any]) -> VoiceSettings:
    """Apply an admin's changes (strictly validated)."""
    out = asdict(current)
    for key, value in changes.items():
        if key == "muted":
            out["muted"] = _as_bool(value, "muted")
        elif key == "volume":
            out["volume"] = _as_volume(value)
        elif key == "reading":
            out["reading"] = _as_reading(value)
        elif key == "template":
            if not isinstance(value, str):
                raise VoiceSettingsError("template", "Câu mời phải là chuỗi.", "The wording must be a string.")
            out["template"] = validate_template(value)
        else:
            raise VoiceSettingsError(key, f"Không có thiết lập “{key}”.", f"Unknown setting “{key}”.")
    return VoiceSettings(**out)


def settings_from_hash(h: Mapping[str, str]) -> VoiceSettings:
    """Read `voice.*` fields leniently: a bad stored value falls back to the default."""
    d = VoiceSettings()
    vals: dict[str, Any] = {}
    for key in ("muted", "volume", "reading", "template"):
        raw = h.get(f"voice.{key}")
        if raw is None:
            continue
        try:
            vals = asdict(update_settings(VoiceSettings(**vals) if vals else d, {key: raw}))
        except VoiceSettingsError:
            continue
    return VoiceSettings(**vals) if vals else d


# -- phrases -------------------------------------------------------------------
def caption(number: str, counter: int | str, template: str = DEFAULT_TEMPLATE) -> str:
    """The wording as written: "Mời công dân có số A015 đến quầy số 3"."""
    return template.replace("{number}", str(number)).replace("{counter}", str(counter))


def speech(number: str, counter: int | str, template: str = DEFAULT_TEMPLATE, reading: str = "digits") -> str:
    """The same wording for the speech engine, the number spelled out."""
    c = str(counter)
    spoken_counter = read_natural(int(c)) if c.isdigit() else c
    return template.replace("{number}", read_ticket(str(number), reading)).replace("{counter}", spoken_counter)


ANNOUNCED = ("call", "recall")


def announcement(event: Mapping[str, Any], voice: VoiceSettings) -> dict[str, Any] | None:
    """What a display announces for an event, or None (only calls and recalls)."""
    if event.get("type") not in ANNOUNCED or not event.get("number") or not event.get("counter"):
        return None
    number, counter = str(event["number"]), str(event["counter"])
    return {
        "type": event["type"],
        "seq": event.get("seq"),
        "number": number,
        "counter": counter,
        "text": caption(number, counter, voice.template),
        "speech": speech(number, counter, voice.template, voice.reading),
    }
