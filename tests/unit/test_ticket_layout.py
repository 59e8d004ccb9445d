"""The ticket layout is a pure function of the ticket data, and the rendered
image fits 58 mm (384 px) and 80 mm (576 px) paper."""

from __future__ import annotations

import pytest
from PIL import Image

from printer import width_px
from printer.layout import QR, Rule, Text, TicketData, ticket_layout
from printer.render import Placed, qr_image, render

LONG = TicketData(
    site_name="Trung tâm Phục vụ hành chính công xã Ngọc Long",
    number="D123",
    category_name="Bảo trợ xã hội – Người có công – Lao động",
    issued_at_ms=1_764_000_000_000,  # 2025-11-24 23:00 in Hà Nội
    track_url="http://localhost:8000/t/Abc-123_xyzXYZ0",
    ahead=4,
    eta_minutes=12,
    footer="Cảm ơn quý công dân. Theo dõi lượt gọi bằng mã QR.",
    priority=True,
)


def texts(layout) -> list[str]:
    return [b.text for b in layout.blocks if isinstance(b, Text)]


def test_layout_holds_every_required_line():
    lay = ticket_layout(LONG, 80)
    t = texts(lay)
    assert t[0] == LONG.site_name
    assert "D123" in t
    assert LONG.category_name in t
    assert "Số người đang chờ trước bạn: 4" in t
    assert "Thời gian chờ dự kiến: khoảng 12 phút" in t
    assert "Giờ lấy số: 23:00 – Ngày 24/11/2025" in t
    assert LONG.footer in t
    assert "ƯU TIÊN" in t
    qrs = [b for b in lay.blocks if isinstance(b, QR)]
    assert [q.data for q in qrs] == [LONG.track_url]


def test_layout_is_pure_and_deterministic():
    assert ticket_layout(LONG, 58) == ticket_layout(LONG, 58)
    a, b = render(ticket_layout(LONG, 58)), render(ticket_layout(LONG, 58))
    assert a.tobytes() == b.tobytes()


def test_no_priority_no_footer_and_next_in_line():
    t = TicketData("Xã A", "A001", "Hộ tịch", 1_764_000_000_000, "http://x/t/1", ahead=0, eta_minutes=0)
    lay = ticket_layout(t, 58)
    assert "ƯU TIÊN" not in texts(lay)
    assert "Thời gian chờ dự kiến: sắp đến lượt" in texts(lay)
    assert not any(isinstance(b, Rule) and b.thickness == 1 for b in lay.blocks)


def test_english_ticket():
    t = TicketData("Ngoc Long", "A001", "Civil status", 1_764_000_000_000, "http://x/t/1", 3, 9, lang="en")
    assert "People waiting before you: 3" in texts(ticket_layout(t, 80))


def test_an_unsure_estimate_prints_as_a_range():
    job = {"number": "A004", "category_name": "Hộ tịch", "ahead": 3, "eta_minutes": 7, "eta_range": [5, 9]}
    t = TicketData.from_job(job)
    assert t.eta_range == (5, 9)
    assert "Thời gian chờ dự kiến: khoảng 5–9 phút" in texts(ticket_layout(t, 58))
    en = TicketData.from_job({**job, "lang": "en"})
    assert "Estimated wait: about 5–9 min" in texts(ticket_layout(en, 80))
    sure = TicketData.from_job({**job, "eta_range": None})
    assert "Thời gian chờ dự kiến: khoảng 7 phút" in texts(ticket_layout(sure, 58))


@pytest.mark.parametrize("mm", [58, 80])
def test_rendered_ticket_fits_the_paper(mm):
    placed: list[Placed] = []
    img = render(ticket_layout(LONG, mm), placements=placed)
    assert img.mode == "1"
    assert img.width == width_px(mm)
    lay = ticket_layout(LONG, mm)
    for p in placed:
        left, top, right, bottom = p.box
        assert 0 <= left and right <= img.width, f"{p.text!r} overflows {mm} mm: {p.box}"
        assert left >= lay.margin - 2 and right <= img.width - lay.margin + 2, p
        assert 0 <= top < bottom <= img.height
    # every required text landed somewhere (long ones wrapped onto several lines)
    joined = " ".join(p.text for p in placed if p.kind == "text")
    for needed in ("D123", "Số người đang chờ trước bạn: 4", "Ngọc Long", "Lao động"):
        assert needed in joined
    # something is drawn near both edges of the printable area but nothing in the margins
    px = img.load()
    margin_cols = [x for x in range(0, lay.margin - 2)] + [x for x in range(img.width - lay.margin + 2, img.width)]
    assert all(px[x, y] == 1 for x in margin_cols for y in range(img.height))


def test_big_number_shrinks_instead_of_overflowing():
    t = TicketData("Xã A", "WWWW9999", "Hộ tịch", 0, "http://x/t/1")
    placed: list[Placed] = []
    img = render(ticket_layout(t, 58), placements=placed)
    box = next(p.box for p in placed if p.text == "WWWW9999")
    assert box[0] >= 0 and box[2] <= img.width


def test_qr_code_decodes_back_to_the_tracking_url():
    """The QR modules drawn on the ticket are the QR matrix of the URL."""
    import qrcode

    q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    q.add_data(LONG.track_url)
    q.make(fit=True)
    matrix = q.get_matrix()
    img = qr_image(LONG.track_url, 300)
    n = len(matrix)
    module = img.width // n
    assert img.width == n * module and module >= 2
    for r in range(n):
        for c in range(n):
            v = img.getpixel((c * module + module // 2, r * module + module // 2))
            assert (v == 0) == bool(matrix[r][c])


def test_ticket_png_roundtrip(tmp_path):
    img = render(ticket_layout(LONG, 80))
    img.save(tmp_path / "t.png")
    assert Image.open(tmp_path / "t.png").convert("1").tobytes() == img.tobytes()


@pytest.mark.parametrize("size,bold", [(22, False), (24, False), (28, False), (30, True), (40, True), (150, True)])
def test_a_line_pasted_from_its_tile_is_the_line_draw_text_draws(size, bold):
    """render keeps each line's glyphs as a tile; pasted (first time or from
    the cache) it gives exactly draw.text's pixels, also cut at the edges."""
    from PIL import ImageDraw

    from printer.fonts import font
    from printer.render import BLACK, draw_line

    f = font(size, bold)
    lines = [
        "Trung tâm Phục vụ hành chính công",
        "ƯU TIÊN Ỗ ỹ Ậ gjpqy",
        "A042",
        "Giờ lấy số: 23:00 – Ngày 24/11/2025",
        "j",
        ".",
    ]
    for line in lines:
        for pos in [(16, 10), (0, 0), (-7, -5), (300, 40), (550, 90)]:
            a = Image.new("1", (576, 200), 1)
            da = ImageDraw.Draw(a)
            da.fontmode = "1"
            da.text(pos, line, font=f, fill=BLACK)
            for _ in range(2):  # drawn, then from the cache
                b = Image.new("1", (576, 200), 1)
                db = ImageDraw.Draw(b)
                db.fontmode = "1"
                draw_line(b, db, pos, line, f)
                assert b.tobytes() == a.tobytes(), (line, pos)
