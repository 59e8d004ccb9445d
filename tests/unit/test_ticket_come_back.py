"""A come-back ticket on paper: the server's print job carries the line, the
layout puts it under the category, and the real ESC/POS bytes carry its
pixels (decoded from the GS v 0 raster python-escpos produced)."""

from __future__ import annotations

import pytest
from PIL import ImageChops

from printer.escpos_out import decode_raster, encode
from printer.layout import Text, TicketData, ticket_layout
from printer.render import Placed, render
from queue_server.domain.model import Source, Ticket, TicketStatus
from queue_server.services.printing import job_data
from tests.helpers import test_config

ISSUED = 1_764_900_000_000  # 2025-12-05 09:00 in Hà Nội
BACK = ISSUED + 100 * 60_000  # 10:40


def ticket(**extra) -> Ticket:
    return Ticket(
        id="q1w2e3r4t5y6",
        number="A042",
        category="HT",
        status=TicketStatus.WAITING,
        issued_at=ISSUED,
        queued_at=ISSUED,
        source=Source.WALK_IN,
        extra=extra,
    )


@pytest.mark.parametrize(
    "lang,line", [("vi", "Vui lòng quay lại lúc khoảng 10:40"), ("en", "Please come back at about 10:40")]
)
def test_the_print_job_carries_the_come_back_line(lang, line):
    cfg = test_config()
    job = job_data(ticket(come_back_at=BACK), cfg, 12, 110, lang)
    assert job["come_back"] == line
    assert job_data(ticket(), cfg, 3, 20, lang)["come_back"] == ""
    texts = [b.text for b in ticket_layout(TicketData.from_job(job), 80).blocks if isinstance(b, Text)]
    assert line in texts
    assert texts.index(line) == texts.index(job["category_name"]) + 1  # right under the matter


@pytest.mark.parametrize("mm", [58, 80])
def test_the_come_back_line_is_in_the_escpos_raster(mm):
    cfg = test_config()
    job = job_data(ticket(come_back_at=BACK), cfg, 12, 110)
    placed: list[Placed] = []
    img = render(ticket_layout(TicketData.from_job(job), mm), placements=placed)
    data = encode(img)
    decoded = decode_raster(data)
    # the bytes hold the rendered image, pixel for pixel
    assert decoded.size == img.size
    assert ImageChops.difference(decoded.convert("L"), img.convert("L")).getbbox() is None
    # the line landed inside the paper, and its box in the raster has ink
    lines = [p for p in placed if p.kind == "text" and "10:40" in p.text]
    assert lines, [p.text for p in placed]
    for p in lines:
        left, top, right, bottom = p.box
        assert 0 <= left < right <= img.width and 0 <= top < bottom <= img.height
        crop = decoded.crop(p.box).convert("L")
        assert crop.getextrema()[0] == 0, "no black dot where the come-back line should be"
    # and the ticket without it is shorter by about that line: nothing else changed
    plain = render(ticket_layout(TicketData.from_job(job_data(ticket(), cfg, 12, 110)), mm))
    assert plain.height < img.height
    # everything down to the matter (the category) is the same on both
    above = max(p.box[3] for p in placed if p.text == job["category_name"])
    same = ImageChops.difference(plain.crop((0, 0, img.width, above)), img.crop((0, 0, img.width, above)))
    assert same.getbbox() is None
