"""The ticket layout: a pure function from ticket data to an ordered list of
blocks (text, QR code, rule, gap) sized for a paper width.

No I/O and no font measuring here: `printer.render` wraps long lines and
places the blocks; this module decides what is on the ticket and how big.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from printer import width_px
from printer.texts import TICKET_TEXTS


def _range(v: Any) -> tuple[int, int] | None:
    """A job's eta_range, [low, high] minutes, if it is one."""
    if isinstance(v, (list, tuple)) and len(v) == 2 and all(isinstance(x, int) for x in v):
        return (int(v[0]), int(v[1]))
    return None


@dataclass(frozen=True)
class TicketData:
    site_name: str
    number: str
    category_name: str
    issued_at_ms: int
    track_url: str
    ahead: int = 0
    eta_minutes: int = 0
    eta_range: tuple[int, int] | None = None  # shown instead of eta_minutes while the estimate is unsure
    footer: str = ""
    priority: bool = False
    timezone: str = "Asia/Ho_Chi_Minh"
    lang: str = "vi"
    reprint: bool = False
    come_back: str = ""  # the room was full: "Vui lòng quay lại lúc khoảng 10:40"

    @classmethod
    def from_job(cls, d: dict[str, Any]) -> TicketData:
        """From the JSON the server sends in a print job."""
        return cls(
            site_name=str(d.get("site_name", "")),
            number=str(d["number"]),
            category_name=str(d.get("category_name", "")),
            issued_at_ms=int(d.get("issued_at") or 0),
            track_url=str(d.get("track_url", "")),
            ahead=int(d.get("ahead") or 0),
            eta_minutes=int(d.get("eta_minutes") or 0),
            eta_range=_range(d.get("eta_range")),
            footer=str(d.get("footer") or ""),
            priority=bool(d.get("priority")),
            timezone=str(d.get("timezone") or "Asia/Ho_Chi_Minh"),
            lang="en" if d.get("lang") == "en" else "vi",
            reprint=bool(d.get("reprint")),
            come_back=str(d.get("come_back") or ""),
        )


@dataclass(frozen=True)
class Text:
    text: str
    size: int  # pixel size of the font
    bold: bool = False
    align: str = "center"
    wrap: bool = True


@dataclass(frozen=True)
class QR:
    data: str
    size: int  # side of the square in pixels


@dataclass(frozen=True)
class Rule:
    thickness: int = 2


@dataclass(frozen=True)
class Gap:
    height: int


Block = Text | QR | Rule | Gap


@dataclass(frozen=True)
class Layout:
    width: int
    margin: int
    blocks: list[Block] = field(default_factory=list)


def local_time(ms: int, tz: str) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(ZoneInfo(tz))


def ticket_layout(t: TicketData, width_mm: int = 80) -> Layout:
    """What the ticket shows, top to bottom, for 58 mm or 80 mm paper."""
    width = width_px(width_mm)
    s = width / 576  # sizes are designed for 80 mm
    px = lambda n: max(1, round(n * s))  # noqa: E731
    words = TICKET_TEXTS[t.lang]
    when = local_time(t.issued_at_ms, t.timezone)
    if t.eta_range is not None:
        eta = words["eta_range"].format(low=t.eta_range[0], high=t.eta_range[1])
    elif t.eta_minutes > 0:
        eta = words["eta"].format(minutes=t.eta_minutes)
    else:
        eta = words["eta_now"]
    blocks: list[Block] = [
        Text(t.site_name, px(30), bold=True),
        Gap(px(8)),
        Rule(px(3)),
        Gap(px(10)),
        Text(words["number_label"], px(28)),
        Text(t.number, px(150), bold=True, wrap=False),
    ]
    if t.priority:
        blocks.append(Text(words["priority"], px(34), bold=True))
    blocks.append(Text(t.category_name, px(38), bold=True))
    if t.come_back:
        # the room is full: the time to be back, large, framed by rules
        blocks += [Gap(px(10)), Rule(px(3)), Text(t.come_back, px(40), bold=True), Text(words["come_back"], px(24))]
        blocks.append(Rule(px(3)))
    blocks += [
        Gap(px(12)),
        Text(words["ahead"].format(ahead=t.ahead), px(28)),
        Text(eta, px(28)),
        Text(words["issued"].format(time=f"{when:%H:%M}", date=f"{when:%d/%m/%Y}"), px(24)),
        Gap(px(10)),
        QR(t.track_url, px(300)),
        Text(words["scan"], px(24)),
    ]
    if t.footer:
        blocks += [Gap(px(6)), Rule(px(2)), Gap(px(6)), Text(t.footer, px(24))]
    if t.reprint:
        blocks.append(Text(words["reprint"], px(22)))
    return Layout(width=width, margin=px(16), blocks=blocks)
